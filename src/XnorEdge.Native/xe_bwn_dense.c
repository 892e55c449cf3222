/*
 * Binary-weight dense layer (BwnDense.cs): real input (float32, or int8 with an integer accumulator)
 * of N = H*W*C values, weights u32[Cout][ceil(N/32)] (bit 1 = -1): acc = sum(+x or -x) in order.
 */
#include "xe_internal.h"

int32_t xe_bwn_dense(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, o, i, n, rowWords;
    int32_t floatIn = L->in0Type == XE_T_FLOAT32;
    const uint32_t *W;

    if (L->in0Type != XE_T_FLOAT32 && L->in0Type != XE_T_INT8) return XE_ERR_UNSUPPORTED;
    if (L->in1Type != 0) return XE_ERR_SHAPE;
    if (L->outH != 1 || L->outW != 1) return XE_ERR_SHAPE;
    n = L->inH * L->inW * L->inC;
    rowWords = (n + 31) >> 5;
    if ((r = xe_check_array(L, L->weights, 4LL * L->outC * rowWords)) != XE_OK) return r;
    if ((r = xe_stage_init(&st, L, io, !floatIn)) != XE_OK) return r;

    W = xe_block_words(io, L->weights);
    for (o = 0; o < L->outC; o++)
    {
        const uint32_t *w = W + (int64_t)o * rowWords;
        if (floatIn)
        {
            const float *x = io->floats + io->in0;
            float facc = 0.0f;
            for (i = 0; i < n; i++)
            {
                if ((w[i >> 5] >> (i & 31)) & 1u) facc -= x[i];
                else facc += x[i];
            }
            xe_emit_float(&st, 0, o, facc);
        }
        else
        {
            const int8_t *x = io->bytes + io->in0;
            uint32_t iacc = 0;
            for (i = 0; i < n; i++)
            {
                if ((w[i >> 5] >> (i & 31)) & 1u) iacc -= (uint32_t)(int32_t)x[i];
                else iacc += (uint32_t)(int32_t)x[i];
            }
            xe_emit_int(&st, 0, o, xe_wrap(iacc));
        }
    }
    return XE_OK;
}
