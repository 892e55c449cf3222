//
// XnorEdge native kernels in nanoCLR: the marshalling stubs of XnorEdge.Native.NativeKernels.
// Each stub fetches its arguments from the managed stack frame (static methods: argument 0 is the first
// parameter), hands the arrays' own storage and element counts to the C entry point, and returns its status.
// The C entry point (xe_run, src/XnorEdge.Native) checks every length against the layer's declared sizes before
// touching memory; the managed side turns a negative status into the core's ModelFormatException.
//
#include "XnorEdge_Nano_Native.h"

extern "C"
{
#include "xnoredge_native.h"
}

#if defined(NANOCLR_EMULATED_FLOATINGPOINT)
#error "XnorEdge native kernels need hardware (IEEE single) floats: build the firmware without NANOCLR_EMULATED_FLOATINGPOINT"
#endif

typedef Library_XnorEdge_Nano_Native_XnorEdge_Native_NativeKernels NativeKernels;

HRESULT NativeKernels::Run___STATIC__I4__SZARRAY_I4__SZARRAY_U1__I4__SZARRAY_U4__SZARRAY_R4__SZARRAY_I1__I4__I4__I4(
    CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        CLR_RT_TypedArray_INT32 descriptor;
        CLR_RT_TypedArray_UINT8 parameters;
        CLR_RT_TypedArray_UINT32 words;
        CLR_RT_TypedArray_float floats;
        CLR_RT_TypedArray_INT8 bytes;
        signed int parametersBase = 0;
        signed int input0Offset = 0;
        signed int input1Offset = 0;
        signed int outputOffset = 0;
        int32_t status;

        // A null array throws NullReferenceException in the caller (Interop_Marshal_*_ARRAY faults on null).
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT32_ARRAY(stack, 0, descriptor));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_UINT8_ARRAY(stack, 1, parameters));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT32(stack, 2, parametersBase));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_UINT32_ARRAY(stack, 3, words));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_float_ARRAY(stack, 4, floats));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT8_ARRAY(stack, 5, bytes));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT32(stack, 6, input0Offset));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT32(stack, 7, input1Offset));
        NANOCLR_CHECK_HRESULT(Interop_Marshal_INT32(stack, 8, outputOffset));

        // Managed arrays hold at most 2^31 - 1 elements; the C side takes int32 lengths.
        status = xe_run(
            (const int32_t *)descriptor.GetBuffer(),
            (int32_t)descriptor.GetSize(),
            (const uint8_t *)parameters.GetBuffer(),
            (int32_t)parameters.GetSize(),
            (int32_t)parametersBase,
            (uint32_t *)words.GetBuffer(),
            (int32_t)words.GetSize(),
            (float *)floats.GetBuffer(),
            (int32_t)floats.GetSize(),
            (int8_t *)bytes.GetBuffer(),
            (int32_t)bytes.GetSize(),
            (int32_t)input0Offset,
            (int32_t)input1Offset,
            (int32_t)outputOffset);

        SetResult_INT32(stack, (signed int)status);
    }
    NANOCLR_NOCLEANUP();
}

HRESULT NativeKernels::Version___STATIC__I4(CLR_RT_StackFrame &stack)
{
    NANOCLR_HEADER();
    {
        SetResult_INT32(stack, (signed int)xe_version());
    }
    NANOCLR_NOCLEANUP_NOLABEL();
}
