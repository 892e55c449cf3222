//
// XnorEdge native kernels in nanoCLR: the native method table of "XnorEdge.Nano.Native" and its entry for
// the interop assemblies table (g_CLR_InteropAssembliesNativeData).
//
// The table is indexed by the assembly's method definitions in metadata-processor's order (per type: virtual,
// then instance, then static methods, each in declaration order). The assembly has one type, the static class
// XnorEdge.Native.NativeKernels, with two static extern methods: Run (0) and Version (1).
//
// The checksum is metadata-processor's native checksum of those two declarations: nanoCLR binds this table
// only to an assembly whose .pe header carries the same value. native-checksum.py (next to this folder)
// computes it from the declarations and reads it from a compiled .pe.
//
#include "XnorEdge_Nano_Native.h"

static const CLR_RT_MethodHandler method_lookup[] = {
    Library_XnorEdge_Nano_Native_XnorEdge_Native_NativeKernels::
        Run___STATIC__I4__SZARRAY_I4__SZARRAY_U1__I4__SZARRAY_U4__SZARRAY_R4__SZARRAY_I1__I4__I4__I4,
    Library_XnorEdge_Nano_Native_XnorEdge_Native_NativeKernels::Version___STATIC__I4,
};

const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_XnorEdge_Nano_Native =
    {"XnorEdge.Nano.Native", 0x995EF364, method_lookup, {1, 0, 0, 0}};
