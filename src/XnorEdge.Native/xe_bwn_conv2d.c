/*
 * Binary-weight convolution (BwnConv2D.cs): real input (float32, or int8 with an integer
 * accumulator), binary weights u32[Cout][kh][kw][ceil(Cin/32)] (bit 1 = -1), zero padding.
 * The float accumulator adds or subtracts each input in the C# order (taps row by row, channels in
 * order), one rounding per step, so the sums are bit-identical.
 */
#include "xe_internal.h"

int32_t xe_bwn_conv2d(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, oy, ox, co, ky, kx, c;
    int32_t wpp, taps, filterWords, pixel = 0;
    int32_t floatIn = L->in0Type == XE_T_FLOAT32;
    const uint32_t *W;

    if (L->in0Type != XE_T_FLOAT32 && L->in0Type != XE_T_INT8) return XE_ERR_UNSUPPORTED;
    if (L->in1Type != 0) return XE_ERR_SHAPE;
    if ((r = xe_check_window(L)) != XE_OK) return r;
    wpp = (L->inC + 31) >> 5;
    taps = L->kh * L->kw;
    filterWords = taps * wpp;
    if ((r = xe_check_array(L, L->weights, 4LL * L->outC * filterWords)) != XE_OK) return r;
    if ((r = xe_stage_init(&st, L, io, !floatIn)) != XE_OK) return r;

    W = xe_block_words(io, L->weights);
    for (oy = 0; oy < L->outH; oy++)
    {
        int32_t y0 = oy * L->sh - L->pt, ky0, ky1;
        xe_valid_taps(y0, L->inH, L->kh, &ky0, &ky1);
        for (ox = 0; ox < L->outW; ox++, pixel++)
        {
            int32_t x0 = ox * L->sw - L->pl, kx0, kx1;
            xe_valid_taps(x0, L->inW, L->kw, &kx0, &kx1);
            for (co = 0; co < L->outC; co++)
            {
                const uint32_t *f = W + (int64_t)co * filterWords;
                float facc = 0.0f;
                uint32_t iacc = 0;
                for (ky = ky0; ky < ky1; ky++)
                {
                    for (kx = kx0; kx < kx1; kx++)
                    {
                        int64_t xAt = ((int64_t)(y0 + ky) * L->inW + (x0 + kx)) * L->inC;
                        const uint32_t *w = f + (ky * L->kw + kx) * wpp;
                        if (floatIn)
                        {
                            const float *x = io->floats + io->in0 + xAt;
                            for (c = 0; c < L->inC; c++)
                            {
                                if ((w[c >> 5] >> (c & 31)) & 1u) facc -= x[c];
                                else facc += x[c];
                            }
                        }
                        else
                        {
                            const int8_t *x = io->bytes + io->in0 + xAt;
                            for (c = 0; c < L->inC; c++)
                            {
                                if ((w[c >> 5] >> (c & 31)) & 1u) iacc -= (uint32_t)(int32_t)x[c];
                                else iacc += (uint32_t)(int32_t)x[c];
                            }
                        }
                    }
                }
                if (floatIn) xe_emit_float(&st, pixel, co, facc);
                else xe_emit_int(&st, pixel, co, xe_wrap(iacc));
            }
        }
    }
    return XE_OK;
}
