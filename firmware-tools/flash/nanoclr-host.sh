#!/usr/bin/env bash
# Builds nanoFramework's interpreter (nanoCLR) for this machine from local checkouts and runs the board code path
# (FrameClassifier, as the sample app calls it) on test images in it: per-inference times, per-layer times, and
# the logits compared bit for bit with the same program on .NET.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
source "$HERE/common.sh"

usage() {
    cat <<'USAGE'
usage: nanoclr-host.sh --nf-interpreter DIR --corelib DIR --mdp DIR [--interop] [--native-src DIR] [--out DIR]
                       [--model M.xnor] [--images N] [--layer-images K] [--streamed] [--core-src DIR] [--tag NAME]
                       [--build-only] [--dry-run]

Builds, in --out (default /tmp/xnoredge-nanoclr; never inside the checkouts, which are only read):
  1. the nanoCLR POSIX host from a copy of the nf-interpreter checkout (targets/posix, cmake + ninja + gcc);
     with --interop, the XnorEdge native kernels and their interop glue are added to the copy by
     src/XnorEdge.Native/nanoFramework/add-to-nf-interpreter.sh --posix (sources into the host library, the
     native assembly XnorEdge.Nano.Native into targets/posix/nanoCLR/posix_stubs.cpp's table);
  2. mscorlib.dll from the CoreLibrary checkout (tag v1.17.11), the files its CoreLibrary.nfproj lists;
  3. the metadata processor from the metadata-processor checkout (branch main: it writes the .pe format this
     nanoCLR accepts), without its skeleton and dump generators;
  4. .pe files of mscorlib, XnorEdge.Core (compiled against that mscorlib; with --interop also the board's
     native layer factory, src/XnorEdge.Nano/Native, as the XnorEdge.Nano library has it), the interop assembly
     XnorEdge.Nano.Native (--interop), data assemblies with the model and the first N test images, and the bench
     app (firmware-tools/flash/nanoclr-bench);
then runs the app on the nanoCLR and, compiled from the same source, on .NET, and compares the logits bit for bit.
  --nf-interpreter  a checkout of nanoframework/nf-interpreter
  --corelib         a checkout of nanoframework/CoreLibrary at v1.17.11
  --mdp             a checkout of nanoframework/metadata-processor, branch main
  --interop         build the host with the native kernels and run the layers they implement natively
                    (the app says which layers run natively; the logits are still compared with .NET's scalar core)
  --native-src DIR  where the native kernels come from (default: this checkout's src; it must hold
                    XnorEdge.Native/, XnorEdge.Nano.Native/ and XnorEdge.Nano/Native/)
  --out DIR         the build folder (default /tmp/xnoredge-nanoclr); a second run reuses what is built
  --model M.xnor    the model (default models/fashion-mnist/model.xnor)
  --images N        test images to classify (default 100; Fashion-MNIST t10k in models/fashion-mnist/data)
  --layer-images K  images over which per-layer times are taken (default 5; 0 for none)
  --streamed        load the model as a streamed source (ByteArrayModelSource) instead of whole
  --core-src DIR    the XnorEdge.Core sources run on the nanoCLR (default src/XnorEdge.Core; e.g. an older
                    commit's, to time two versions side by side); the .NET reference always uses this checkout's
  --tag NAME        name of this configuration's build and run folders (default: plain, or interop)
  --build-only      build everything, run nothing
  --dry-run         print the commands instead of running them
Output: OUT/run-TAG/nanoclr.txt and dotnet.txt (IMG, LAYER, FRAME and SUMMARY lines), the nanoCLR process's CPU time
per inference (wall-clock times inflate on a loaded machine; CPU time less so), and the comparison on stdout.
Exit status 1 when a build step fails or the logits differ.
USAGE
}

NF=""
CORELIB=""
MDP=""
INTEROP=""
NATIVE_SRC="$REPO/src"
OUT="${TMPDIR:-/tmp}/xnoredge-nanoclr"
MODEL="$REPO/models/fashion-mnist/model.xnor"
IMAGES=100
LAYER_IMAGES=5
STREAMED=0
BUILD_ONLY=0
CORE_SRC_DIR="$REPO/src/XnorEdge.Core"
TAG=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --nf-interpreter) [[ $# -ge 2 ]] || die_usage "--nf-interpreter needs a value"; NF="$2"; shift 2 ;;
        --corelib) [[ $# -ge 2 ]] || die_usage "--corelib needs a value"; CORELIB="$2"; shift 2 ;;
        --mdp) [[ $# -ge 2 ]] || die_usage "--mdp needs a value"; MDP="$2"; shift 2 ;;
        --interop) INTEROP=1; shift ;;
        --native-src) [[ $# -ge 2 ]] || die_usage "--native-src needs a value"; NATIVE_SRC="$2"; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die_usage "--out needs a value"; OUT="$2"; shift 2 ;;
        --model) [[ $# -ge 2 ]] || die_usage "--model needs a value"; MODEL="$2"; shift 2 ;;
        --images) [[ $# -ge 2 ]] || die_usage "--images needs a value"; IMAGES="$2"; shift 2 ;;
        --layer-images) [[ $# -ge 2 ]] || die_usage "--layer-images needs a value"; LAYER_IMAGES="$2"; shift 2 ;;
        --streamed) STREAMED=1; shift ;;
        --core-src) [[ $# -ge 2 ]] || die_usage "--core-src needs a value"; CORE_SRC_DIR="$2"; shift 2 ;;
        --tag) [[ $# -ge 2 ]] || die_usage "--tag needs a value"; TAG="$2"; shift 2 ;;
        --build-only) BUILD_ONLY=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done
[[ -n "$NF" ]] || die_usage "--nf-interpreter is required"
[[ -n "$CORELIB" ]] || die_usage "--corelib is required"
[[ -n "$MDP" ]] || die_usage "--mdp is required"
[[ "$IMAGES" =~ ^[0-9]+$ && "$IMAGES" -ge 1 && "$IMAGES" -le 10000 ]] || die_usage "--images must be 1..10000"
[[ "$LAYER_IMAGES" =~ ^[0-9]+$ ]] || die_usage "--layer-images must be a number"
[[ -z "$TAG" || "$TAG" =~ ^[A-Za-z0-9_.-]+$ ]] || die_usage "--tag must be letters, digits, _ . -"
if [[ "$DRY_RUN" -eq 0 ]]; then
    [[ -f "$NF/targets/posix/CMakeLists.txt" ]] || die "$NF is not an nf-interpreter checkout (no targets/posix/CMakeLists.txt)"
    [[ -f "$CORELIB/nanoFramework.CoreLibrary/CoreLibrary.nfproj" ]] || die "$CORELIB is not a CoreLibrary checkout (no nanoFramework.CoreLibrary/CoreLibrary.nfproj)"
    [[ -f "$MDP/MetadataProcessor.Console/Program.cs" ]] || die "$MDP is not a metadata-processor checkout (no MetadataProcessor.Console/Program.cs)"
    if [[ -n "$INTEROP" ]]; then
        [[ -x "$NATIVE_SRC/XnorEdge.Native/nanoFramework/add-to-nf-interpreter.sh" ]] \
            || die "$NATIVE_SRC/XnorEdge.Native/nanoFramework/add-to-nf-interpreter.sh not found (the native kernels' interop glue)"
        [[ -f "$NATIVE_SRC/XnorEdge.Nano.Native/XnorEdge.Nano.Native.nfproj" ]] || die "$NATIVE_SRC/XnorEdge.Nano.Native (the interop assembly) not found"
        [[ -d "$NATIVE_SRC/XnorEdge.Nano/Native" ]] || die "$NATIVE_SRC/XnorEdge.Nano/Native (the board's native layer factory) not found"
    fi
    [[ -f "$MODEL" ]] || die "model $MODEL not found"
    [[ -f "$CORE_SRC_DIR/Interpreter.cs" ]] || die "--core-src $CORE_SRC_DIR has no Interpreter.cs"
    need cmake "apt-get install cmake"
    need ninja "apt-get install ninja-build"
    need dotnet "the .NET SDK"
    need python3 "python3"
fi
NF="$(cd "$NF" 2>/dev/null && pwd || echo "$NF")"
CORELIB="$(cd "$CORELIB" 2>/dev/null && pwd || echo "$CORELIB")"
MDP="$(cd "$MDP" 2>/dev/null && pwd || echo "$MDP")"
NATIVE_SRC="$(cd "$NATIVE_SRC" 2>/dev/null && pwd || echo "$NATIVE_SRC")"
CORE_SRC_DIR="$(cd "$CORE_SRC_DIR" 2>/dev/null && pwd || echo "$CORE_SRC_DIR")"
case "$OUT" in
    "$REPO"|"$REPO"/*) die "--out must be outside the repository ($REPO): nothing built from fetched sources is kept there" ;;
esac
run mkdir -p "$OUT"
OUT="$(cd "$OUT" 2>/dev/null && pwd || echo "$OUT")"

# Writes stdin to a file (printed, not written, in a dry run).
write_file() {
    echo "+ write $1"
    if [[ "$DRY_RUN" -eq 0 ]]; then cat > "$1"; else cat > /dev/null; fi
}

# ---------------------------------------------------------------------------------------------------------------
# 1. The nanoCLR host, from a copy of the checkout (patched for --interop).
HOSTKIND=plain
NATIVE_NAME="XnorEdge.Nano.Native"
[[ -z "$INTEROP" ]] || HOSTKIND=interop
SRC="$OUT/nf-src-$HOSTKIND"
HOST="$OUT/host-$HOSTKIND"
CLR="$HOST/bin/nanoFramework.nanoCLR.test"
# The interop host is rebuilt when the native sources change (a hash of them is kept next to the build).
STAMP=""
if [[ -n "$INTEROP" && "$DRY_RUN" -eq 0 ]]; then
    STAMP="$(cd "$NATIVE_SRC/XnorEdge.Native" && find . -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.cmake' -o -name '*.sh' \) \
        -not -path './bin/*' -not -path './obj/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
fi
if [[ "$DRY_RUN" -eq 1 || ! -x "$CLR" || ( -n "$INTEROP" && "$(cat "$HOST/xnoredge-native.stamp" 2>/dev/null)" != "$STAMP" ) ]]; then
    run rm -rf "$SRC"
    run mkdir -p "$SRC"
    # A copy without the git metadata: the user's checkout is never written.
    run tar -C "$NF" --exclude=.git -cf "$OUT/nf-src.tar" .
    run tar -C "$SRC" -xf "$OUT/nf-src.tar"
    run rm -f "$OUT/nf-src.tar"
    # The native engineer's script adds the glue and the kernels to the copy and registers them in the posix host.
    [[ -z "$INTEROP" ]] || run bash "$NATIVE_SRC/XnorEdge.Native/nanoFramework/add-to-nf-interpreter.sh" "$SRC" --posix
    run cmake -S "$SRC/targets/posix" -B "$HOST" -G Ninja -DCMAKE_BUILD_TYPE=Release
    run nice -n 10 cmake --build "$HOST" -j2
    if [[ -n "$INTEROP" && "$DRY_RUN" -eq 0 ]]; then echo "$STAMP" > "$HOST/xnoredge-native.stamp"; fi
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. mscorlib.dll (CoreLibrary v1.17.11) as an SDK project: NoStdLib, LangVersion latest (its #nullable lines).
CORE_SRC="$CORELIB/nanoFramework.CoreLibrary"
MSC="$OUT/mscorlib"
MSCORLIB_DLL="$MSC/out/mscorlib.dll"
if [[ "$DRY_RUN" -eq 1 || ! -f "$MSCORLIB_DLL" ]]; then
    run mkdir -p "$MSC"
    {
        cat <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
    <AssemblyName>mscorlib</AssemblyName>
    <NoStdLib>true</NoStdLib>
    <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>
    <NoCompilerStandardLib>true</NoCompilerStandardLib>
    <LangVersion>latest</LangVersion>
    <Nullable>disable</Nullable>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
    <GenerateTargetFrameworkAttribute>false</GenerateTargetFrameworkAttribute>
    <DefineConstants>NANOCLR_REFLECTION</DefineConstants>
    <NoWarn>\$(NoWarn);CS0618;CS0659;CS0661;CS1591;CS8632;CS0169;CS0649;CS3021;CS0436</NoWarn>
    <Features>runtimemetadataversion=v4.0.30319</Features>
    <SignAssembly>true</SignAssembly>
    <AssemblyOriginatorKeyFile>$CORE_SRC/key.snk</AssemblyOriginatorKeyFile>
    <Deterministic>true</Deterministic>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="Version.cs" />
EOF
        if [[ "$DRY_RUN" -eq 0 ]]; then
            grep -o 'Compile Include="[^"]*"' "$CORE_SRC/CoreLibrary.nfproj" | sed 's/Compile Include="\(.*\)"/\1/; s#\\#/#g' \
                | while read -r f; do echo "    <Compile Include=\"$CORE_SRC/$f\" />"; done
        fi
        echo '  </ItemGroup>'
        echo '</Project>'
    } | write_file "$MSC/mscorlib.csproj"
    echo '[assembly: System.Reflection.AssemblyVersion("1.17.11.0")]' | write_file "$MSC/Version.cs"
    run nice -n 10 dotnet build "$MSC/mscorlib.csproj" -c Release -o "$MSC/out" -nologo -v q
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. The metadata processor (Core library + console), for net10.0, without the skeleton and dump generators
#    (their template library is not on the package mirror) and without bitmap resources (System.Drawing).
MD="$OUT/mdp"
MDP_DLL="$MD/out/MetadataProcessor.dll"
if [[ "$DRY_RUN" -eq 1 || ! -f "$MDP_DLL" ]]; then
    run mkdir -p "$MD/core" "$MD/console"
    S='$(MdpSrc)/MetadataProcessor.Shared'
    write_file "$MD/core/mdpcore.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <AssemblyName>nanoFramework.Tools.MetadataProcessor.Core</AssemblyName>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <Nullable>disable</Nullable>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <NoWarn>\$(NoWarn);CS0168;CS0219;CS0414;CS0169;CS0649;CA1416;SYSLIB0011;CS0436</NoWarn>
    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
    <MdpSrc>$MDP</MdpSrc>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="$S/**/*.cs" Exclude="$S/SkeletonGenerator/AssemblyClassStubs.cs;$S/SkeletonGenerator/AssemblyClassTable.cs;$S/SkeletonGenerator/AssemblyLookupTable.cs;$S/SkeletonGenerator/SkeletonTemplates.cs;$S/Utility/nanoBitmapProcessor.cs;$S/DumpGenerator/**;$S/nanoSkeletonGenerator.cs;$S/nanoDumperGenerator.cs" />
    <Compile Include="Stubs.cs" />
    <PackageReference Include="Mono.Cecil" Version="0.11.6" />
  </ItemGroup>
</Project>
EOF
    write_file "$MD/core/Stubs.cs" <<'EOF'
// Written by nanoclr-host.sh: stand-ins for what this build of the metadata processor leaves out.
namespace nanoFramework.Tools.MetadataProcessor.Core
{
    public sealed class nanoSkeletonGenerator
    {
        public nanoSkeletonGenerator(nanoTablesContext c, string path, string name, string project, bool withoutInterop, bool isCoreLib) { }
        public void GenerateSkeleton() { throw new System.NotSupportedException("skeleton generation is not part of this build"); }
    }
    public sealed class nanoDumperGenerator
    {
        public nanoDumperGenerator(nanoTablesContext c, string path) { }
        public void DumpAll() { throw new System.NotSupportedException("metadata dumps are not part of this build"); }
    }
}
namespace nanoFramework.Tools.MetadataProcessor
{
    internal sealed class nanoBitmapProcessor
    {
        public nanoBitmapProcessor(System.Drawing.Bitmap bitmap) { }
        public void Process(nanoBinaryWriter writer) { throw new System.NotSupportedException("bitmap resources are not supported by this build"); }
    }
}
namespace System.Drawing
{
    internal class Image
    {
        public object RawFormat = null;
        public static Image FromStream(System.IO.Stream s) { throw new System.NotSupportedException("image resources are not supported by this build"); }
    }
    internal sealed class Bitmap : Image
    {
        public Bitmap(System.IO.Stream s) { throw new System.NotSupportedException("bitmap resources are not supported by this build"); }
    }
}
namespace System.Drawing.Imaging
{
    internal static class ImageFormat
    {
        public static readonly object Bmp = new object(), Jpeg = new object(), Gif = new object(), Icon = new object(), Emf = new object(),
            Exif = new object(), MemoryBmp = new object(), Png = new object(), Tiff = new object(), Wmf = new object();
    }
}
EOF
    write_file "$MD/console/mdp.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <AssemblyName>MetadataProcessor</AssemblyName>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <Nullable>disable</Nullable>
    <NoWarn>\$(NoWarn);CS0168</NoWarn>
    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="$MDP/MetadataProcessor.Console/Program.cs" />
    <ProjectReference Include="../core/mdpcore.csproj" />
    <PackageReference Include="Mono.Cecil" Version="0.11.6" />
  </ItemGroup>
</Project>
EOF
    run nice -n 10 dotnet build "$MD/console/mdp.csproj" -c Release -o "$MD/out" -nologo -v q
fi

# Converts an assembly to .pe: mdp DLL PE IS_CORELIB [DEPENDENCY.dll ...]
to_pe() {
    local dll="$1" pe="$2" corelib="$3"
    shift 3
    local hints=(-loadHints mscorlib "$MSCORLIB_DLL")
    local dep
    for dep in "$@"; do hints+=(-loadHints "$(basename "$dep" .dll)" "$dep"); done
    run dotnet "$MDP_DLL" "${hints[@]}" -parse "$dll" -compile "$pe" "$corelib"
    if [[ "$DRY_RUN" -eq 0 ]]; then [[ -s "$pe" ]] || die "the metadata processor wrote no $pe"; fi
}

[[ -n "$TAG" ]] || TAG="$HOSTKIND"
PE="$OUT/pe-$TAG"
run mkdir -p "$PE"
to_pe "$MSCORLIB_DLL" "$PE/mscorlib.pe" true

# ---------------------------------------------------------------------------------------------------------------
# 4. XnorEdge.Core, the interop assembly and the bench app against that mscorlib, with the data built in.
APP="$OUT/app-$TAG"
run mkdir -p "$APP/core" "$APP/bench" "$APP/dotnet"
nano_props() {
    cat <<EOF
    <TargetFramework>netstandard2.0</TargetFramework>
    <NoStdLib>true</NoStdLib>
    <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>
    <NoCompilerStandardLib>true</NoCompilerStandardLib>
    <LangVersion>9.0</LangVersion>
    <Nullable>disable</Nullable>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
    <GenerateTargetFrameworkAttribute>false</GenerateTargetFrameworkAttribute>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
    <Deterministic>true</Deterministic>
EOF
}
INTEROP_DLL=""
if [[ -n "$INTEROP" ]]; then
    # The interop assembly: its declarations only (their checksum must match the glue's table).
    run mkdir -p "$APP/interop"
    {
        echo '<Project Sdk="Microsoft.NET.Sdk">'
        echo '  <PropertyGroup>'
        echo "    <AssemblyName>$NATIVE_NAME</AssemblyName>"
        nano_props
        echo '  </PropertyGroup>'
        echo '  <ItemGroup>'
        echo "    <Compile Include=\"$NATIVE_SRC/XnorEdge.Nano.Native/**/*.cs\" Exclude=\"$NATIVE_SRC/XnorEdge.Nano.Native/bin/**;$NATIVE_SRC/XnorEdge.Nano.Native/obj/**\" />"
        echo "    <Reference Include=\"mscorlib\"><HintPath>$MSCORLIB_DLL</HintPath></Reference>"
        echo '  </ItemGroup>'
        echo '</Project>'
    } | write_file "$APP/interop/$NATIVE_NAME.csproj"
    run nice -n 10 dotnet build "$APP/interop/$NATIVE_NAME.csproj" -c Release -o "$APP/out" -nologo -v q
    INTEROP_DLL="$APP/out/$NATIVE_NAME.dll"
    to_pe "$INTEROP_DLL" "$PE/$NATIVE_NAME.pe" false
fi
{
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup>'
    echo '    <AssemblyName>XnorEdge.Core</AssemblyName>'
    nano_props
    echo '  </PropertyGroup>'
    echo '  <ItemGroup>'
    echo "    <Compile Include=\"$CORE_SRC_DIR/**/*.cs\" Exclude=\"$CORE_SRC_DIR/bin/**;$CORE_SRC_DIR/obj/**\" />"
    if [[ -n "$INTEROP" ]]; then
        # As in the XnorEdge.Nano library: the board's native layer factory next to the core.
        echo "    <Compile Include=\"$NATIVE_SRC/XnorEdge.Nano/Native/*.cs\" />"
        echo "    <Reference Include=\"$NATIVE_NAME\"><HintPath>$APP/out/$NATIVE_NAME.dll</HintPath></Reference>"
    fi
    echo "    <Reference Include=\"mscorlib\"><HintPath>$MSCORLIB_DLL</HintPath></Reference>"
    echo '  </ItemGroup>'
    echo '</Project>'
} | write_file "$APP/core/XnorEdge.Core.csproj"
run nice -n 10 dotnet build "$APP/core/XnorEdge.Core.csproj" -c Release -o "$APP/out" -nologo -v q
CORE_DEPS=()
[[ -z "$INTEROP_DLL" ]] || CORE_DEPS+=("$INTEROP_DLL")
to_pe "$APP/out/XnorEdge.Core.dll" "$PE/XnorEdge.Core.pe" false "${CORE_DEPS[@]}"

# The model, the images and the labels as one byte stream split over data assemblies of one array each: an
# array initializer is stored in the assembly's signature table, which has 16-bit offsets, so one assembly holds
# at most ~56 KB of them. BenchData (generated) joins the parts at start-up.
run rm -rf "$APP/data"
run mkdir -p "$APP/data"
run python3 - "$MODEL" "$REPO/models/fashion-mnist/data" "$IMAGES" "$LAYER_IMAGES" "$STREAMED" "$APP" <<'PY'
import gzip, struct, sys
model_path, data_dir, count, layer_images, streamed, app = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6]
model = open(model_path, "rb").read()
with gzip.open(data_dir + "/t10k-images-idx3-ubyte.gz") as f:
    magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
    if magic != 2051 or count > n:
        sys.exit("bad image file or too few images (%d)" % n)
    images = f.read(count * rows * cols)
with gzip.open(data_dir + "/t10k-labels-idx1-ubyte.gz") as f:
    magic, n = struct.unpack(">II", f.read(8))
    labels = f.read(count)
blob = model + images + labels
PART = 49152
parts = [blob[i:i + PART] for i in range(0, len(blob), PART)]
for k, p in enumerate(parts):
    with open("%s/data/Part%d.cs" % (app, k), "w") as f:
        f.write("namespace XnorEdge.NanoClrBench\n{\n    public static class Part%d\n    {\n" % k)
        f.write("        public static byte[] Bytes()\n        {\n            return new byte[] { %s };\n        }\n    }\n}\n" % ",".join(str(b) for b in p))
with open(app + "/BenchData.cs", "w") as f:
    f.write("// Generated by nanoclr-host.sh from %s and the first %d Fashion-MNIST test images.\n" % (model_path.split("/")[-1], count))
    f.write("namespace XnorEdge.NanoClrBench\n{\n    public static class BenchData\n    {\n")
    f.write("        public const bool Streamed = %s;\n" % ("true" if streamed else "false"))
    f.write("        public const int LayerImages = %d;\n" % layer_images)
    f.write("        private static byte[] _all;\n")
    f.write("        private static byte[] All()\n        {\n            if (_all != null) return _all;\n")
    f.write("            byte[] all = new byte[%d];\n            byte[] part;\n" % len(blob))
    at = 0
    for k, p in enumerate(parts):
        f.write("            part = Part%d.Bytes();\n            System.Array.Copy(part, 0, all, %d, %d);\n" % (k, at, len(p)))
        at += len(p)
    f.write("            _all = all;\n            return all;\n        }\n")
    for name, start, length in (("Model", 0, len(model)), ("Images", len(model), len(images)), ("Labels", len(model) + len(images), len(labels))):
        f.write("        public static byte[] %s()\n        {\n            byte[] r = new byte[%d];\n            System.Array.Copy(All(), %d, r, 0, %d);\n            return r;\n        }\n" % (name, length, start, length))
    f.write("    }\n}\n")
with open(app + "/data/parts.txt", "w") as f:
    f.write("\n".join(str(k) for k in range(len(parts))) + "\n")
PY
DATA_PARTS=()
if [[ "$DRY_RUN" -eq 0 ]]; then
    while IFS= read -r k; do DATA_PARTS+=("$k"); done < "$APP/data/parts.txt"
else
    DATA_PARTS=(0)
fi
DATA_REFS=""
for k in "${DATA_PARTS[@]}"; do
    {
        echo '<Project Sdk="Microsoft.NET.Sdk">'
        echo '  <PropertyGroup>'
        echo "    <AssemblyName>XnorEdge.BenchData$k</AssemblyName>"
        nano_props
        echo '  </PropertyGroup>'
        echo '  <ItemGroup>'
        echo "    <Compile Include=\"$APP/data/Part$k.cs\" />"
        echo "    <Reference Include=\"mscorlib\"><HintPath>$MSCORLIB_DLL</HintPath></Reference>"
        echo '  </ItemGroup>'
        echo '</Project>'
    } | write_file "$APP/data/XnorEdge.BenchData$k.csproj"
    run nice -n 10 dotnet build "$APP/data/XnorEdge.BenchData$k.csproj" -c Release -o "$APP/out" -nologo -v q
    to_pe "$APP/out/XnorEdge.BenchData$k.dll" "$PE/XnorEdge.BenchData$k.pe" false
    DATA_REFS+="    <Reference Include=\"XnorEdge.BenchData$k\"><HintPath>$APP/out/XnorEdge.BenchData$k.dll</HintPath></Reference>"$'\n'
done
{
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup>'
    echo '    <OutputType>Exe</OutputType>'
    echo '    <AssemblyName>XnorEdge.NanoClrBench</AssemblyName>'
    nano_props
    [[ -z "$INTEROP" ]] || echo '    <DefineConstants>$(DefineConstants);XNOREDGE_NATIVE</DefineConstants>'
    echo '  </PropertyGroup>'
    echo '  <ItemGroup>'
    echo "    <Compile Include=\"$HERE/nanoclr-bench/*.cs\" />"
    echo "    <Compile Include=\"$APP/BenchData.cs\" />"
    echo "    <Reference Include=\"mscorlib\"><HintPath>$MSCORLIB_DLL</HintPath></Reference>"
    echo "    <Reference Include=\"XnorEdge.Core\"><HintPath>$APP/out/XnorEdge.Core.dll</HintPath></Reference>"
    [[ -z "$INTEROP_DLL" ]] || echo "    <Reference Include=\"$NATIVE_NAME\"><HintPath>$INTEROP_DLL</HintPath></Reference>"
    printf '%s' "$DATA_REFS"
    echo '  </ItemGroup>'
    echo '</Project>'
} | write_file "$APP/bench/XnorEdge.NanoClrBench.csproj"
run nice -n 10 dotnet build "$APP/bench/XnorEdge.NanoClrBench.csproj" -c Release -o "$APP/out" -nologo -v q
BENCH_DEPS=("$APP/out/XnorEdge.Core.dll")
for k in "${DATA_PARTS[@]}"; do BENCH_DEPS+=("$APP/out/XnorEdge.BenchData$k.dll"); done
[[ -z "$INTEROP_DLL" ]] || BENCH_DEPS+=("$INTEROP_DLL")
to_pe "$APP/out/XnorEdge.NanoClrBench.dll" "$PE/XnorEdge.NanoClrBench.pe" false "${BENCH_DEPS[@]}"

# The same program on .NET (the scalar core as the repository builds it): the reference.
write_file "$APP/dotnet/XnorEdge.NanoClrBench.Net.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>disable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="$HERE/nanoclr-bench/*.cs" />
    <Compile Include="$APP/BenchData.cs" />
    <Compile Include="$APP/data/Part*.cs" />
    <ProjectReference Include="$REPO/src/XnorEdge.Core/XnorEdge.Core.csproj" />
  </ItemGroup>
</Project>
EOF
run nice -n 10 dotnet build "$APP/dotnet/XnorEdge.NanoClrBench.Net.csproj" -c Release -o "$APP/dotnet/out" -nologo -v q

[[ "$BUILD_ONLY" -eq 0 ]] || { echo "built: $CLR and $PE"; exit 0; }

# ---------------------------------------------------------------------------------------------------------------
# 5. Run both and compare.
RUN="$OUT/run-$TAG"
run mkdir -p "$RUN"
PES=("$PE/mscorlib.pe")
[[ -z "$INTEROP" ]] || PES+=("$PE/$NATIVE_NAME.pe")
PES+=("$PE/XnorEdge.Core.pe")
for k in "${DATA_PARTS[@]}"; do PES+=("$PE/XnorEdge.BenchData$k.pe"); done
PES+=("$PE/XnorEdge.NanoClrBench.pe")
echo "+ $CLR ${PES[*]} > $RUN/nanoclr.txt"
if [[ "$DRY_RUN" -eq 0 ]]; then
    # The process's CPU time (user + system) divided by the inferences it ran: each per-layer run is two
    # classifications and one pass over the layers (see nanoclr-bench/Program.cs).
    python3 - "$RUN/nanoclr.txt" "$RUN/nanoclr.err" "$IMAGES" "$LAYER_IMAGES" "$STREAMED" "$CLR" "${PES[@]}" <<'PY' || true
import resource, subprocess, sys
out, err, n, k, streamed, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6:]
with open(out, "w") as o, open(err, "w") as e:
    rc = subprocess.call(cmd, stdout=o, stderr=e)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
runs = n + (0 if streamed else 3 * min(k, n))
with open(out, "a") as o:
    o.write("CPU seconds %.3f inferences %d cpu_ms_per_inference %.1f exit %d\n" % (cpu, runs, 1000.0 * cpu / runs, rc))
PY
fi
echo "+ dotnet $APP/dotnet/out/XnorEdge.NanoClrBench.Net.dll > $RUN/dotnet.txt"
if [[ "$DRY_RUN" -eq 0 ]]; then
    dotnet "$APP/dotnet/out/XnorEdge.NanoClrBench.Net.dll" > "$RUN/dotnet.txt"
    grep -E '^(BENCH|LAYER|FRAME|SUMMARY|CPU)' "$RUN/nanoclr.txt" || true
    python3 - "$RUN/nanoclr.txt" "$RUN/dotnet.txt" "$IMAGES" <<'PY'
import sys
def imgs(path):
    out = {}
    for line in open(path, errors="replace"):
        f = line.split()
        if len(f) >= 5 and f[0] == "IMG":
            out[int(f[1])] = (f[3], f[5:])
    return out
nano, net, n = imgs(sys.argv[1]), imgs(sys.argv[2]), int(sys.argv[3])
if len(nano) != n:
    sys.exit("nanoCLR classified %d of %d images (see %s and its .err file)" % (len(nano), n, sys.argv[1]))
diff = [i for i in sorted(net) if nano.get(i) != net[i]]
if diff:
    sys.exit("logits differ from .NET on %d of %d images (first: image %d)" % (len(diff), n, diff[0]))
print("bit-identical: the logits of all %d images equal .NET's bit for bit" % n)
frames = lambda path: [line.split() for line in open(path, errors="replace") if line.startswith("FRAME ")]
fn, fd = frames(sys.argv[1]), frames(sys.argv[2])
if not fd or fn != fd:
    sys.exit("object framing differs from .NET (or did not run):\n  nanoCLR %s\n  .NET    %s" % (fn, fd))
print("bit-identical: object framing of %d synthetic scenes (found, polarity, box, spread, every output value)" % len(fd))
PY
fi
