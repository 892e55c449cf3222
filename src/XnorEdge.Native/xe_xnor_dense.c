/*
 * Binary dense layer (XnorDense.cs): binary input of N = H*W*C values whose words hold them in order
 * (1x1xN, or C a multiple of 32), weights u32[Cout][ceil(N/32)], acc = N - 2 * popcount(x XOR row).
 */
#include "xe_internal.h"

int32_t xe_xnor_dense(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, o, rowWords;
    uint32_t n;
    const uint32_t *W, *X;

    if (L->in0Type != XE_T_BITS) return XE_ERR_UNSUPPORTED;
    if (L->in1Type != 0) return XE_ERR_SHAPE;
    if (L->outH != 1 || L->outW != 1) return XE_ERR_SHAPE;
    if ((int64_t)L->inH * L->inW != 1 && (L->inC & 31) != 0) return XE_ERR_SHAPE;
    n = (uint32_t)L->inH * (uint32_t)L->inW * (uint32_t)L->inC;
    rowWords = (int32_t)((n + 31) >> 5);
    if ((r = xe_check_array(L, L->weights, 4LL * L->outC * rowWords)) != XE_OK) return r;
    if ((r = xe_stage_init(&st, L, io, 1)) != XE_OK) return r;

    W = xe_block_words(io, L->weights);
    X = io->words + io->in0;
    for (o = 0; o < L->outC; o++)
    {
        uint32_t pop = xe_popxor(X, W + (int64_t)o * rowWords, rowWords);
        xe_emit_int(&st, 0, o, xe_wrap(n - 2u * pop));
    }
    return XE_OK;
}
