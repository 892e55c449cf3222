#!/usr/bin/env bash
# Adds the XnorEdge native kernels to a local nf-interpreter checkout as the interop assembly
# "XnorEdge.Nano.Native" (nothing of nf-interpreter is copied into XnorEdge; this writes into the checkout).
#
#   add-to-nf-interpreter.sh <nf-interpreter> [--posix]
#
# Always: <nf>/InteropAssemblies/XnorEdge.Nano.Native/ (the glue and, under kernels/, src/XnorEdge.Native/*.c|h)
#         and <nf>/CMake/Modules/FindINTEROP-XnorEdge.Nano.Native.cmake. A board build then takes
#         -DNF_INTEROP_ASSEMBLIES="XnorEdge.Nano.Native" (or "NF_INTEROP_ASSEMBLIES" in CMakePresets/CMakeUserPresets).
# --posix: also registers it in the posix host (targets/posix, which lists its sources and its interop table
#         by hand): the sources are appended to targets/posix/nanoCLR/CMakeLists.txt and the table entry to
#         targets/posix/nanoCLR/posix_stubs.cpp. Running it again changes nothing.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -d "$1/src/CLR" ]; then
  echo "usage: $0 <nf-interpreter checkout> [--posix]" >&2
  exit 2
fi
nf=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(cd "$here/.." && pwd)
dest="$nf/InteropAssemblies/XnorEdge.Nano.Native"

mkdir -p "$dest/kernels" "$nf/CMake/Modules"
cp "$here/XnorEdge.Nano.Native/"*.h "$here/XnorEdge.Nano.Native/"*.cpp "$dest/"
cp "$kernels/"*.c "$kernels/"*.h "$dest/kernels/"
cp "$here/XnorEdge.Nano.Native/FindINTEROP-XnorEdge.Nano.Native.cmake" "$nf/CMake/Modules/"
echo "added $dest and CMake/Modules/FindINTEROP-XnorEdge.Nano.Native.cmake"

if [ "${2:-}" = "--posix" ]; then
  cmakelists="$nf/targets/posix/nanoCLR/CMakeLists.txt"
  stubs="$nf/targets/posix/nanoCLR/posix_stubs.cpp"
  if ! grep -q "XnorEdge.Nano.Native" "$cmakelists"; then
    # Before the library is defined: the glue, the kernels and their include folders.
    python3 - "$cmakelists" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
block = '''# --- XnorEdge.Nano.Native (added by XnorEdge's add-to-nf-interpreter.sh) ---
file(GLOB XNOREDGE_NATIVE_SRCS
    ${REPO_ROOT}/InteropAssemblies/XnorEdge.Nano.Native/*.cpp
    ${REPO_ROOT}/InteropAssemblies/XnorEdge.Nano.Native/kernels/*.c)
set_source_files_properties(${XNOREDGE_NATIVE_SRCS} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-fno-fast-math")
list(APPEND NANOCLR_POSIX_SOURCES ${XNOREDGE_NATIVE_SRCS})
include_directories(${REPO_ROOT}/InteropAssemblies/XnorEdge.Nano.Native ${REPO_ROOT}/InteropAssemblies/XnorEdge.Nano.Native/kernels)
# --- end XnorEdge.Nano.Native ---

'''
anchor = 'add_library(nanoFramework.nanoCLR SHARED'
if anchor not in s:
    sys.exit(p + ": no '" + anchor + "' line to insert before; add the sources by hand (see src/XnorEdge.Native/README.md)")
s = s.replace(anchor, block + anchor, 1)
open(p, 'w').write(s)
PY
    echo "registered the sources in $cmakelists"
  fi
  if ! grep -q "g_CLR_AssemblyNative_XnorEdge_Nano_Native" "$stubs"; then
    python3 - "$stubs" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
table = 'const CLR_RT_NativeAssemblyData *g_CLR_InteropAssembliesNativeData[] = {'
if table not in s or 'nullptr,\n};' not in s:
    sys.exit(p + ": interop table not found; add &g_CLR_AssemblyNative_XnorEdge_Nano_Native by hand")
s = s.replace(table, 'extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_XnorEdge_Nano_Native;\n\n' + table, 1)
at = s.index(table)
end = s.index('nullptr,\n};', at)
s = s[:end] + '&g_CLR_AssemblyNative_XnorEdge_Nano_Native,\n    ' + s[end:]
open(p, 'w').write(s)
PY
    echo "registered g_CLR_AssemblyNative_XnorEdge_Nano_Native in $stubs"
  fi
fi
