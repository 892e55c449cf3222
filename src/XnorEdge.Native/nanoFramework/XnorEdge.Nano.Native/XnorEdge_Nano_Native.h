//
// XnorEdge native kernels in nanoCLR: the declarations of the interop assembly "XnorEdge.Nano.Native"
// (src/XnorEdge.Nano.Native/NativeKernels.cs), in the layout of nanoFramework's interop stubs: one struct
// per managed class, one static handler per extern method, named Class::Method___STATIC__<return>__<params>.
//
#ifndef XNOREDGE_NANO_NATIVE_H
#define XNOREDGE_NANO_NATIVE_H

#include <nanoCLR_Interop.h>
#include <nanoCLR_Runtime.h>

struct Library_XnorEdge_Nano_Native_XnorEdge_Native_NativeKernels
{
    // int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats, sbyte[] bytes,
    //         int input0Offset, int input1Offset, int outputOffset)
    NANOCLR_NATIVE_DECLARE(Run___STATIC__I4__SZARRAY_I4__SZARRAY_U1__I4__SZARRAY_U4__SZARRAY_R4__SZARRAY_I1__I4__I4__I4);

    // int Version()
    NANOCLR_NATIVE_DECLARE(Version___STATIC__I4);
};

extern const CLR_RT_NativeAssemblyData g_CLR_AssemblyNative_XnorEdge_Nano_Native;

#endif
