/*
 * XnorEdge native kernels: the public interface.
 *
 * Portable C99, no heap, no state: every entry point works on the buffers it is given, the very
 * buffers the C# operators of src/XnorEdge.Core use (the arena's three pools and the model's
 * parameter bytes), so each layer can run either way with bit-identical results.
 *
 * A layer is described by an int32 descriptor (XE_D_* slots below) that the C# side builds once at
 * load time from the validated layer (src/XnorEdge.Nano/Native/NativeDescriptor.cs). The entry point
 * checks the descriptor and every buffer length against the sizes it declares before touching
 * memory, and returns a negative XE_ERR_* code instead of reading or writing out of bounds.
 *
 * Build with -ffp-contract=off and without -ffast-math: the real-valued layers must round exactly
 * like the C# reference (one rounding per multiply and per add, in the same order).
 */
#ifndef XNOREDGE_NATIVE_H
#define XNOREDGE_NATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define XE_API __declspec(dllexport)
#elif defined(__GNUC__)
#define XE_API __attribute__((visibility("default")))
#else
#define XE_API
#endif

/* Version of the descriptor layout and of the entry points; the C# side checks it.
   1: the first kernels; 2: the same descriptor, and Conv2D also with a Bits output (format 1.3). The C# side accepts 1
   and keeps such a Conv2D managed on a version-1 firmware. */
#define XE_ABI_VERSION 2
/* First slot of every descriptor: 'XEN1'. */
#define XE_DESCRIPTOR_MAGIC 0x58454E31

/* Descriptor slots (int32 each). Offsets of arrays are relative to the start of the layer's
   parameter block; the block starts at pBase in the parameter array passed to xe_run. */
enum
{
    XE_D_MAGIC = 0,
    XE_D_OP = 1,          /* operator code of the model format (OpCode in ModelFormat.cs) */
    XE_D_INDEX = 2,       /* layer index, for messages */
    XE_D_IN0_TYPE = 3,    /* DataType: 1 bits, 2 int32, 3 float32, 4 int8 */
    XE_D_IN_H = 4,
    XE_D_IN_W = 5,
    XE_D_IN_C = 6,
    XE_D_IN1_TYPE = 7,    /* 0 = no second input; 3 = a K map (float32 outH x outW x 1) */
    XE_D_OUT_TYPE = 8,
    XE_D_OUT_H = 9,
    XE_D_OUT_W = 10,
    XE_D_OUT_C = 11,
    XE_D_KH = 12,         /* window: kernel, stride, pads (top, left, bottom, right) */
    XE_D_KW = 13,
    XE_D_SH = 14,
    XE_D_SW = 15,
    XE_D_PT = 16,
    XE_D_PL = 17,
    XE_D_PB = 18,
    XE_D_PR = 19,
    XE_D_PAD_MODE = 20,   /* XnorConv2D: 0 zero (corrected), 1 one */
    XE_D_OUT_MODE = 21,   /* output stage: 0 int, 1 real, 2 bits */
    XE_D_FLOAT_ACC = 22,  /* 1 when the stage's accumulator is float (float thresholds) */
    XE_D_PARAMS_SIZE = 23,/* bytes of the parameter block */
    XE_D_WEIGHTS = 24,    /* offset of the weights in the block */
    XE_D_STAGE_A = 25,    /* scale (real) or thresholds (bits) */
    XE_D_STAGE_B = 26,    /* bias (real) or flip mask (bits) */
    XE_D_WEIGHT_TYPE = 27,/* Conv2D/Dense: 3 float32, 4 int8 */
    XE_D_WSCALE = 28,     /* Conv2D/Dense int8: per-output weight scale */
    XE_D_BIAS = 29,       /* Conv2D/Dense: bias */
    XE_D_COUNT = 30
};

/* Operator codes handled natively (the model format's numbering). */
enum
{
    XE_OP_XNOR_CONV2D = 1,
    XE_OP_BWN_CONV2D = 2,
    XE_OP_XNOR_DENSE = 3,
    XE_OP_BWN_DENSE = 4,
    XE_OP_CONV2D = 5,
    XE_OP_DENSE = 6,
    XE_OP_MAXPOOL2D = 7,
    XE_OP_THRESHOLD = 9,
    XE_OP_SCALE_BIAS = 10
};

/* Data types and modes (the model format's numbering). */
enum
{
    XE_T_BITS = 1,
    XE_T_INT32 = 2,
    XE_T_FLOAT32 = 3,
    XE_T_INT8 = 4
};
enum
{
    XE_MODE_INT = 0,
    XE_MODE_REAL = 1,
    XE_MODE_BITS = 2
};

/* Results of xe_run. */
enum
{
    XE_OK = 0,
    XE_ERR_DESCRIPTOR = -1,   /* too short, wrong magic, or a value out of its range */
    XE_ERR_UNSUPPORTED = -2,  /* operator or tensor type this library does not run */
    XE_ERR_SHAPE = -3,        /* tensor shapes and window disagree */
    XE_ERR_PARAMS = -4,       /* the parameter array is shorter than the block, or an array lies outside the block */
    XE_ERR_WORDS = -5,        /* the arena's word pool is too short for a tensor at its offset */
    XE_ERR_FLOATS = -6,       /* the arena's float pool is too short */
    XE_ERR_BYTES = -7         /* the arena's int8 pool is too short */
};

/*
 * Runs one layer. desc/descLen: the descriptor. params/paramsLen: the bytes holding the layer's
 * parameter block at pBase (the whole model file, or a chunk buffer with pBase 0). words, floats,
 * bytes: the arena's pools with their lengths in elements. in0Off, in1Off, outOff: the tensors'
 * offsets in their pools (in1Off is ignored without a second input). Returns XE_OK or an XE_ERR_*.
 */
XE_API int32_t xe_run(const int32_t *desc, int32_t descLen,
                      const uint8_t *params, int32_t paramsLen, int32_t pBase,
                      uint32_t *words, int32_t wordsLen,
                      float *floats, int32_t floatsLen,
                      int8_t *bytes, int32_t bytesLen,
                      int32_t in0Off, int32_t in1Off, int32_t outOff);

/* XE_ABI_VERSION of the compiled library. */
XE_API int32_t xe_version(void);

/* Popcount of n words of a XOR b (exposed for tests and benchmarks). */
XE_API int32_t xe_popcount_xor(const uint32_t *a, const uint32_t *b, int32_t n);

#ifdef __cplusplus
}
#endif

#endif
