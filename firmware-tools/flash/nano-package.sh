#!/usr/bin/env bash
# Packs the nanoFramework build of the portable core as a nanoFramework-style NuGet package
# (XnorEdge.Core.NanoFramework): lib/ holds each assembly as nanoFramework packages do, the .dll (for the
# compiler), the .pe (what the board loads) and the .pdbx (for the debugger), for
#   XnorEdge.Core          the portable core with the board side of the native kernels (src/XnorEdge.Nano/Native)
#   XnorEdge.Nano.Native   the interop declarations (src/XnorEdge.Nano.Native); firmware without the kernels
#                          makes the core fall back to C#, see src/XnorEdge.Native/README.md
# and depends on nanoFramework.CoreLibrary 1.17.11. Built where the nanoFramework toolchain exists: it takes
# what firmware-tools/flash/nanoclr-host.sh --interop --tag TAG built and checked on the nanoCLR host.
#
#   nano-package.sh --from <nanoclr-host --out folder> --tag TAG [-o <folder>] [--dry-run]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/common.sh"

usage() {
    cat <<'TXT'
usage: nano-package.sh --from <folder> --tag TAG [-o <folder>] [--dry-run]
  --from     the --out folder of nanoclr-host.sh
  --tag      the --tag of an nanoclr-host.sh --interop run (its pe-TAG and app-TAG folders are packed)
  -o         where the .nupkg goes (default: build/packages)
  --dry-run  print the commands only
TXT
}

FROM="" TAG="" OUT="$repo/build/packages"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --from) FROM="${2:-}"; shift 2 ;;
        --tag) TAG="${2:-}"; shift 2 ;;
        -o) OUT="${2:-}"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$FROM" && -n "$TAG" ]] || die_usage "--from and --tag are required"
pe="$FROM/pe-$TAG"
dll="$FROM/app-$TAG/out"
for name in XnorEdge.Core XnorEdge.Nano.Native; do
    for f in "$dll/$name.dll" "$pe/$name.pe" "$pe/$name.pdbx"; do
        [[ -f "$f" ]] || die "$f is missing: run nanoclr-host.sh --interop --tag $TAG first (the package holds what it checked)"
    done
done
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/Packaging/Package.props" | head -n 1)
[[ -n "$version" ]] || die "no <Version> in src/Packaging/Package.props"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
for name in XnorEdge.Core XnorEdge.Nano.Native; do
    cp "$dll/$name.dll" "$pe/$name.pe" "$pe/$name.pdbx" "$work/lib/"
done
cp "$repo/src/XnorEdge.Nano/README.md" "$work/README.md"
cat > "$work/XnorEdge.Core.NanoFramework.nuspec" <<XML
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>XnorEdge.Core.NanoFramework</id>
    <version>$version</version>
    <authors>XnorEdge developers</authors>
    <description>The XnorEdge portable core for .NET nanoFramework 1.17: bit-packed .xnor binary neural networks (XNOR-Net, binary-weight networks) on microcontrollers, allocation-free, with the firmware's native XNOR kernels when present (XnorEdge.Nano.Native) and the C# operators otherwise.</description>
    <readme>README.md</readme>
    <tags>nanoFramework binary-neural-network xnor-net bnn microcontroller esp32 stm32</tags>
    <dependencies>
      <dependency id="nanoFramework.CoreLibrary" version="[1.17.11]" />
    </dependencies>
  </metadata>
  <files>
    <file src="lib/*" target="lib" />
    <file src="README.md" target="" />
  </files>
</package>
XML
cat > "$work/pack.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <NuspecFile>XnorEdge.Core.NanoFramework.nuspec</NuspecFile>
    <NoBuild>true</NoBuild>
    <IncludeBuildOutput>false</IncludeBuildOutput>
    <NoWarn>\$(NoWarn);NU5100;NU5101;NU5128</NoWarn>
  </PropertyGroup>
</Project>
XML
mkdir -p "$OUT"
run dotnet pack "$work/pack.csproj" -o "$OUT" -nologo -v q
[[ "$DRY_RUN" -eq 1 ]] || ls -l "$OUT/XnorEdge.Core.NanoFramework.$version.nupkg"
