#!/usr/bin/env bash
# The XnorEdge native kernels on the real nanoCLR: builds nf-interpreter's posix host with the XnorEdge.Nano.Native
# interop assembly, converts the board code (portable core, src/XnorEdge.Nano/Native, a check program) to .pe files
# with metadata-processor, runs the first N Fashion-MNIST test images through the native layers and compares every
# logit with .NET's scalar core bit for bit, then times the managed core on a few images.
#
#   posix-check.sh <nf-interpreter checkout> <metadata-processor checkout (branch main)> [images=100]
#
# Needs: cmake, ninja, gcc/g++, the .NET SDK, and the NuGet feed (Mono.Cecil 0.11.6, System.Drawing.Common,
# nanoFramework.CoreLibrary 1.17.11, whose mscorlib.pe carries the native checksum this nanoCLR expects).
# Writes into the nf-interpreter checkout (InteropAssemblies/, CMake/Modules/, targets/posix, build/posix-xnoredge)
# and into a work folder (XNOREDGE_POSIX_WORK, default /tmp/xnoredge-posix-check); nothing into this repository.
# XNOREDGE_POSIX_BUILD: the host build folder (default <nf>/build/posix-xnoredge; an existing one is rebuilt incrementally).
set -euo pipefail

if [ $# -lt 2 ] || [ ! -d "$1/targets/posix" ] || [ ! -d "$2/MetadataProcessor.Shared" ]; then
  echo "usage: $0 <nf-interpreter> <metadata-processor (main)> [images]" >&2
  exit 2
fi
nf=$(cd "$1" && pwd)
mdp=$(cd "$2" && pwd)
count=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
work=${XNOREDGE_POSIX_WORK:-/tmp/xnoredge-posix-check}
build=${XNOREDGE_POSIX_BUILD:-$nf/build/posix-xnoredge}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "== nanoCLR posix host with XnorEdge.Nano.Native"
"$here/../add-to-nf-interpreter.sh" "$nf" --posix
cmake -S "$nf/targets/posix" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$work/cmake.log"
cmake --build "$build" -j"$(nproc)" >> "$work/cmake.log" || { tail -30 "$work/cmake.log"; exit 1; }
host="$build/bin/nanoFramework.nanoCLR.test"

echo "== metadata-processor front end"
dotnet build "$here/MdpDriver/MdpDriver.csproj" -c Release -p:MetadataProcessorDir="$mdp" -o "$work/mdp" > "$work/mdp.log" \
  || { tail -30 "$work/mdp.log"; exit 1; }
mdpexe=("dotnet" "$work/mdp/MdpDriver.dll")

echo "== nanoFramework mscorlib 1.17.11"
mkdir -p "$work/corelib"
cat > "$work/corelib/corelib.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageReference Include="nanoFramework.CoreLibrary" Version="1.17.11" ExcludeAssets="all" GeneratePathProperty="true" /></ItemGroup>
  <Target Name="ShowPath"><Message Importance="high" Text="COREPATH=$(PkgnanoFramework_CoreLibrary)" /></Target>
</Project>
XML
corepath=$(dotnet msbuild "$work/corelib/corelib.csproj" -restore -t:ShowPath -nologo | sed -n 's/.*COREPATH=//p' | tr -d '[:space:]')
mscorlib_dll="$corepath/lib/mscorlib.dll"
[ -f "$mscorlib_dll" ] && [ -f "$corepath/lib/mscorlib.pe" ] || { echo "nanoFramework.CoreLibrary 1.17.11 not found ($corepath)" >&2; exit 1; }
cp "$corepath/lib/mscorlib.pe" "$work/mscorlib.pe"

echo "== test data ($count images) and .NET's logits"
rm -rf "$work/gen"
parts=$(dotnet run --project "$here/Gen/Gen.csproj" -c Release -- "$repo/models/fashion-mnist/model.xnor" \
  "$repo/models/fashion-mnist/data/t10k-images-idx3-ubyte.gz" "$count" "$work/gen" | tail -1)

# A nanoFramework library or app compiled by the .NET SDK against nanoFramework's mscorlib (C# 9: newer language
# versions emit attributes nanoFramework's mscorlib lacks).
nano_project() { # dir name outputType compileItems references
  cat > "$1/$2.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <OutputType>$3</OutputType>
    <AssemblyName>$2</AssemblyName>
    <NoStdLib>true</NoStdLib>
    <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>
    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
    <GenerateTargetFrameworkAttribute>false</GenerateTargetFrameworkAttribute>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <LangVersion>9.0</LangVersion>
    <Nullable>disable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
    <UseAppHost>false</UseAppHost>
    <ProduceReferenceAssembly>false</ProduceReferenceAssembly>
    <NoWarn>\$(NoWarn);CS8021</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    $4
    <Reference Include="mscorlib"><HintPath>$mscorlib_dll</HintPath></Reference>
    $5
  </ItemGroup>
</Project>
XML
  dotnet build "$1/$2.csproj" -c Release -o "$1/out" > "$1/build.log" || { tail -30 "$1/build.log"; exit 1; }
}

echo "== nanoFramework assemblies"
pes=("$work/mscorlib.pe")
mkdir -p "$work/XnorEdge.Nano.Native"
nano_project "$work/XnorEdge.Nano.Native" XnorEdge.Nano.Native Library \
  "<Compile Include=\"$repo/src/XnorEdge.Nano.Native/**/*.cs\" />" ""
"${mdpexe[@]}" "$mscorlib_dll" "$work/XnorEdge.Nano.Native/out/XnorEdge.Nano.Native.dll" "$work/XnorEdge.Nano.Native.pe"
pes+=("$work/XnorEdge.Nano.Native.pe")
refs="<Reference Include=\"XnorEdge.Nano.Native\"><HintPath>$work/XnorEdge.Nano.Native/out/XnorEdge.Nano.Native.dll</HintPath></Reference>"
for ((p = 0; p < parts; p++)); do
  nano_project "$work/gen/NanoData$p" "NanoData$p" Library "<Compile Include=\"Data.cs\" />" ""
  "${mdpexe[@]}" "$mscorlib_dll" "$work/gen/NanoData$p/out/NanoData$p.dll" "$work/NanoData$p.pe" > /dev/null
  pes+=("$work/NanoData$p.pe")
  refs+="<Reference Include=\"NanoData$p\"><HintPath>$work/gen/NanoData$p/out/NanoData$p.dll</HintPath></Reference>"
done
nano_project "$work/gen/NanoCheck" NanoCheck Exe \
  "<Compile Include=\"$repo/src/XnorEdge.Core/**/*.cs\" Exclude=\"$repo/src/XnorEdge.Core/bin/**;$repo/src/XnorEdge.Core/obj/**\" /><Compile Include=\"$repo/src/XnorEdge.Nano/Native/*.cs\" /><Compile Include=\"$here/NanoCheck/Program.cs\" /><Compile Include=\"Data.cs\" />" \
  "$refs"
"${mdpexe[@]}" "$mscorlib_dll" "$work/gen/NanoCheck/out/NanoCheck.dll" "$work/NanoCheck.pe" > /dev/null
pes+=("$work/NanoCheck.pe")

echo "== running on nanoCLR: ${pes[*]##*/}"
"$host" "${pes[@]}" | tee "$work/run.log" | grep -E "^(kernels|path|native|managed|RESULT)|Invalid native checksum|Error"
grep -q "RESULT: PASS" "$work/run.log"
