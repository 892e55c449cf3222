/*
 * Real-valued convolution (Conv2D.cs, RealWeights.cs): float32 input, float32 or int8 weights
 * [Cout][kh][kw][Cin], zero padding; v = sum(x * w) (* wscale[c] for int8) + bias[c], summed in
 * the C# order with one rounding per multiply and per add. The output is v (float32), or, with a
 * Bits output stage (format 1.3: float thresholds and flips after the bias), v binarised by the
 * stage as the binary layers do it (xe_emit_float: "not plus" is bit 1, so a NaN gives -1).
 */
#include "xe_internal.h"

int32_t xe_conv2d(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, oy, ox, co, ky, kx, c, pixel = 0;
    int32_t int8w = L->weightType == XE_T_INT8;
    /* Bits output only with a Bits stage; a float32 output ignores the stage slots (none is written). */
    int32_t bitsOut = L->outType == XE_T_BITS && L->outMode == XE_MODE_BITS;
    int64_t count;
    const uint8_t *wb, *scale, *bias;

    if (L->in0Type != XE_T_FLOAT32 || (L->outType != XE_T_FLOAT32 && !bitsOut)) return XE_ERR_UNSUPPORTED;
    if (L->in1Type != 0) return XE_ERR_SHAPE;
    if (L->weightType != XE_T_FLOAT32 && L->weightType != XE_T_INT8) return XE_ERR_DESCRIPTOR;
    if ((r = xe_check_window(L)) != XE_OK) return r;
    count = (int64_t)L->outC * L->kh * L->kw * L->inC;
    if ((r = xe_check_array(L, L->weights, int8w ? count : 4 * count)) != XE_OK) return r;
    if (int8w && (r = xe_check_array(L, L->wscale, 4LL * L->outC)) != XE_OK) return r;
    if ((r = xe_check_array(L, L->bias, 4LL * L->outC)) != XE_OK) return r;
    /* Checks the thresholds and the flip words inside the block (a float accumulator: no Int mode). */
    if (bitsOut && (r = xe_stage_init(&st, L, io, 0)) != XE_OK) return r;
    wb = io->block + L->weights;
    scale = io->block + L->wscale;
    bias = io->block + L->bias;

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
                float acc = 0.0f;
                for (ky = ky0; ky < ky1; ky++)
                {
                    for (kx = kx0; kx < kx1; kx++)
                    {
                        const float *x = io->floats + io->in0 + ((int64_t)(y0 + ky) * L->inW + (x0 + kx)) * L->inC;
                        int64_t wAt = ((int64_t)co * L->kh * L->kw + ky * L->kw + kx) * L->inC;
                        for (c = 0; c < L->inC; c++)
                        {
                            float w = int8w ? (float)(int8_t)wb[wAt + c] : xe_f32(wb + 4 * (wAt + c));
                            float m = x[c] * w;
                            acc = acc + m;
                        }
                    }
                }
                if (int8w) acc = acc * xe_f32(scale + 4 * co);
                acc = acc + xe_f32(bias + 4 * co);
                /* Channels arrive in order 0..C-1: each output word is cleared at its first channel, so every
                   word of the pixel is written whole and its padding bits stay 0. */
                if (bitsOut) xe_emit_float(&st, pixel, co, acc);
                else io->floats[io->out + (int64_t)pixel * L->outC + co] = acc;
            }
        }
    }
    return XE_OK;
}
