/*
 * The entry point: decodes the descriptor, checks the parameter bytes and every tensor against the
 * arena's pools, then runs the operator (which checks its own arrays before reading them).
 */
#include <stddef.h>
#include "xe_internal.h"

static int32_t valid_type(int32_t t)
{
    return t == XE_T_BITS || t == XE_T_INT32 || t == XE_T_FLOAT32 || t == XE_T_INT8;
}

static int32_t valid_dims(int32_t h, int32_t w, int32_t c)
{
    if (h < 1 || h > XE_MAX_DIMENSION || w < 1 || w > XE_MAX_DIMENSION || c < 1 || c > XE_MAX_DIMENSION) return 0;
    return (int64_t)h * w * c <= XE_MAX_ELEMENTS;
}

/* XE_OK when the tensor's storage at off fits its pool. */
static int32_t check_tensor(int32_t type, int32_t h, int32_t w, int32_t c, int32_t off,
                            int32_t wordsLen, int32_t floatsLen, int32_t bytesLen,
                            const void *words, const void *floats, const void *bytes)
{
    int64_t need = (int64_t)off + xe_storage(type, h, w, c);
    if (off < 0) return XE_ERR_DESCRIPTOR;
    if (type == XE_T_FLOAT32) return floats != NULL && need <= floatsLen ? XE_OK : XE_ERR_FLOATS;
    if (type == XE_T_INT8) return bytes != NULL && need <= bytesLen ? XE_OK : XE_ERR_BYTES;
    return words != NULL && need <= wordsLen ? XE_OK : XE_ERR_WORDS;
}

static void decode(const int32_t *d, xe_layer *L)
{
    L->op = d[XE_D_OP];
    L->index = d[XE_D_INDEX];
    L->in0Type = d[XE_D_IN0_TYPE];
    L->inH = d[XE_D_IN_H];
    L->inW = d[XE_D_IN_W];
    L->inC = d[XE_D_IN_C];
    L->in1Type = d[XE_D_IN1_TYPE];
    L->outType = d[XE_D_OUT_TYPE];
    L->outH = d[XE_D_OUT_H];
    L->outW = d[XE_D_OUT_W];
    L->outC = d[XE_D_OUT_C];
    L->kh = d[XE_D_KH];
    L->kw = d[XE_D_KW];
    L->sh = d[XE_D_SH];
    L->sw = d[XE_D_SW];
    L->pt = d[XE_D_PT];
    L->pl = d[XE_D_PL];
    L->pb = d[XE_D_PB];
    L->pr = d[XE_D_PR];
    L->padMode = d[XE_D_PAD_MODE];
    L->outMode = d[XE_D_OUT_MODE];
    L->floatAcc = d[XE_D_FLOAT_ACC];
    L->paramsSize = d[XE_D_PARAMS_SIZE];
    L->weights = d[XE_D_WEIGHTS];
    L->stageA = d[XE_D_STAGE_A];
    L->stageB = d[XE_D_STAGE_B];
    L->weightType = d[XE_D_WEIGHT_TYPE];
    L->wscale = d[XE_D_WSCALE];
    L->bias = d[XE_D_BIAS];
}

XE_API int32_t xe_version(void)
{
    return XE_ABI_VERSION;
}

XE_API int32_t xe_popcount_xor(const uint32_t *a, const uint32_t *b, int32_t n)
{
    if (n < 0 || (n > 0 && (a == NULL || b == NULL))) return -1;
    return (int32_t)xe_popxor(a, b, n);
}

XE_API int32_t xe_run(const int32_t *desc, int32_t descLen,
                      const uint8_t *params, int32_t paramsLen, int32_t pBase,
                      uint32_t *words, int32_t wordsLen,
                      float *floats, int32_t floatsLen,
                      int8_t *bytes, int32_t bytesLen,
                      int32_t in0Off, int32_t in1Off, int32_t outOff)
{
    xe_layer L;
    xe_io io;
    int32_t r;

    if (desc == NULL || descLen < XE_D_COUNT || desc[XE_D_MAGIC] != XE_DESCRIPTOR_MAGIC) return XE_ERR_DESCRIPTOR;
    decode(desc, &L);
    if (!valid_type(L.in0Type) || !valid_type(L.outType)) return XE_ERR_DESCRIPTOR;
    if (L.in1Type != 0 && L.in1Type != XE_T_FLOAT32) return XE_ERR_DESCRIPTOR;
    if (!valid_dims(L.inH, L.inW, L.inC) || !valid_dims(L.outH, L.outW, L.outC)) return XE_ERR_DESCRIPTOR;
    if (wordsLen < 0 || floatsLen < 0 || bytesLen < 0 || paramsLen < 0) return XE_ERR_DESCRIPTOR;

    /* The parameter block must lie inside the parameter bytes, 4-byte aligned like the file's. */
    if (L.paramsSize < 0 || pBase < 0 || (pBase & 3) != 0) return XE_ERR_DESCRIPTOR;
    if ((int64_t)pBase + L.paramsSize > paramsLen) return XE_ERR_PARAMS;
    if (L.paramsSize > 0 && (params == NULL || ((uintptr_t)(params + pBase) & 3) != 0)) return XE_ERR_PARAMS;

    /* Every tensor the layer touches must fit its pool at its offset. */
    r = check_tensor(L.in0Type, L.inH, L.inW, L.inC, in0Off, wordsLen, floatsLen, bytesLen, words, floats, bytes);
    if (r != XE_OK) return r;
    r = check_tensor(L.outType, L.outH, L.outW, L.outC, outOff, wordsLen, floatsLen, bytesLen, words, floats, bytes);
    if (r != XE_OK) return r;
    if (L.in1Type != 0)
    {
        /* The only second input a native layer takes: a K map, one float per output pixel. */
        r = check_tensor(XE_T_FLOAT32, L.outH, L.outW, 1, in1Off, wordsLen, floatsLen, bytesLen, words, floats, bytes);
        if (r != XE_OK) return r;
    }

    io.block = L.paramsSize > 0 ? params + pBase : params;
    io.words = words;
    io.floats = floats;
    io.bytes = bytes;
    io.in0 = in0Off;
    io.in1 = in1Off;
    io.out = outOff;

    switch (L.op)
    {
    case XE_OP_XNOR_CONV2D: return xe_xnor_conv2d(&L, &io);
    case XE_OP_BWN_CONV2D: return xe_bwn_conv2d(&L, &io);
    case XE_OP_CONV2D: return xe_conv2d(&L, &io);
    case XE_OP_XNOR_DENSE: return xe_xnor_dense(&L, &io);
    case XE_OP_BWN_DENSE: return xe_bwn_dense(&L, &io);
    case XE_OP_DENSE: return xe_dense(&L, &io);
    case XE_OP_MAXPOOL2D: return xe_maxpool2d(&L, &io);
    case XE_OP_THRESHOLD:
    case XE_OP_SCALE_BIAS: return xe_per_channel(&L, &io);
    default: return XE_ERR_UNSUPPORTED;
    }
}
