/*
 * XNOR convolution (XnorConv2D.cs): binary input (HWC, ceil(Cin/32) words a pixel), binary weights
 * u32[Cout][kh][kw][ceil(Cin/32)], acc = n - 2 * popcount(patch XOR filter).
 *
 * padMode Zero: padded taps contribute nothing, n = validTaps * Cin. The C# operator gathers padded
 * taps as zero words (which XOR into popcount(filter tap)) and subtracts the same popcounts again
 * (the border correction); here padded taps are simply skipped, which gives the same integer.
 * padMode One: padded taps read +1 (bit 0), n = taps * Cin: they add popcount(filter tap).
 * With a K map (second input) the accumulator times K goes through the real stage.
 * No gather: each kernel row of the window is one contiguous run of words in the input and in the
 * filter, XOR-popcounted in place.
 */
#include "xe_internal.h"

int32_t xe_xnor_conv2d(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, oy, ox, co, ky, kx;
    int32_t wpp, taps, filterWords, pixel = 0;
    int32_t zeroPad = L->padMode == 0;
    int32_t hasK = L->in1Type != 0;
    const uint32_t *W, *X;

    if (L->in0Type != XE_T_BITS) return XE_ERR_UNSUPPORTED;
    if (L->padMode != 0 && L->padMode != 1) return XE_ERR_DESCRIPTOR;
    if ((r = xe_check_window(L)) != XE_OK) return r;
    if (hasK && L->outMode != XE_MODE_REAL) return XE_ERR_SHAPE;
    wpp = (L->inC + 31) >> 5;
    taps = L->kh * L->kw;
    filterWords = taps * wpp;
    if ((r = xe_check_array(L, L->weights, 4LL * L->outC * filterWords)) != XE_OK) return r;
    if ((r = xe_stage_init(&st, L, io, 1)) != XE_OK) return r;

    W = xe_block_words(io, L->weights);
    X = io->words + io->in0;
    for (oy = 0; oy < L->outH; oy++)
    {
        int32_t y0 = oy * L->sh - L->pt, ky0, ky1;
        xe_valid_taps(y0, L->inH, L->kh, &ky0, &ky1);
        for (ox = 0; ox < L->outW; ox++, pixel++)
        {
            int32_t x0 = ox * L->sw - L->pl, kx0, kx1;
            xe_valid_taps(x0, L->inW, L->kw, &kx0, &kx1);
            int32_t runWords = (kx1 - kx0) * wpp;
            int32_t validTaps = (ky1 > ky0 && kx1 > kx0) ? (ky1 - ky0) * (kx1 - kx0) : 0;
            int32_t border = validTaps != taps;
            uint32_t n = (uint32_t)(zeroPad ? validTaps : taps) * (uint32_t)L->inC;
            float k = hasK ? io->floats[io->in1 + pixel] : 0.0f;
            for (co = 0; co < L->outC; co++)
            {
                const uint32_t *f = W + (int64_t)co * filterWords;
                uint32_t pop = 0;
                int32_t acc;
                if (validTaps > 0)
                {
                    for (ky = ky0; ky < ky1; ky++)
                    {
                        const uint32_t *row = X + ((int64_t)(y0 + ky) * L->inW + (x0 + kx0)) * wpp;
                        pop += xe_popxor(row, f + (ky * L->kw + kx0) * wpp, runWords);
                    }
                }
                if (border && !zeroPad)
                {
                    /* Padded taps read all-zero words: popcount(0 XOR w) = popcount(w). */
                    for (ky = 0; ky < L->kh; ky++)
                        for (kx = 0; kx < L->kw; kx++)
                        {
                            if (ky >= ky0 && ky < ky1 && kx >= kx0 && kx < kx1) continue;
                            pop += xe_popcount_words(f + (ky * L->kw + kx) * wpp, wpp);
                        }
                }
                acc = xe_wrap(n - 2u * pop);
                if (hasK) xe_emit_float(&st, pixel, co, (float)acc * k);
                else xe_emit_int(&st, pixel, co, acc);
            }
        }
    }
    return XE_OK;
}
