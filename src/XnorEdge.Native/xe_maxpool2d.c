/*
 * Max pooling (MaxPool2D.cs), padded positions ignored. Bits: the AND of the packed words (bit 1 =
 * -1, so the result is -1 only where every value is -1), 32 channels per operation; INT32 and
 * FLOAT32 pool numerically (a float window with no valid position gives -infinity, as in C#).
 */
#include <math.h>
#include "xe_internal.h"

int32_t xe_maxpool2d(const xe_layer *L, const xe_io *io)
{
    int32_t r, oy, ox, k, iy, ix, pixel = 0;
    int32_t type = L->in0Type;
    int32_t c;

    if (type != XE_T_BITS && type != XE_T_INT32 && type != XE_T_FLOAT32) return XE_ERR_UNSUPPORTED;
    if (L->outType != type || L->outC != L->inC || L->in1Type != 0) return XE_ERR_SHAPE;
    if ((r = xe_check_window(L)) != XE_OK) return r;
    c = type == XE_T_BITS ? (L->inC + 31) >> 5 : L->inC;

    for (oy = 0; oy < L->outH; oy++)
    {
        int32_t y0 = oy * L->sh - L->pt, y1 = y0 + L->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > L->inH) y1 = L->inH;
        for (ox = 0; ox < L->outW; ox++, pixel++)
        {
            int32_t x0 = ox * L->sw - L->pl, x1 = x0 + L->kw;
            int64_t dst = io->out + (int64_t)pixel * c;
            if (x0 < 0) x0 = 0;
            if (x1 > L->inW) x1 = L->inW;
            if (type == XE_T_FLOAT32)
            {
                for (k = 0; k < c; k++)
                {
                    float m = -INFINITY;
                    for (iy = y0; iy < y1; iy++)
                        for (ix = x0; ix < x1; ix++)
                        {
                            float v = io->floats[io->in0 + ((int64_t)iy * L->inW + ix) * c + k];
                            if (v > m) m = v;
                        }
                    io->floats[dst + k] = m;
                }
            }
            else if (type == XE_T_INT32)
            {
                for (k = 0; k < c; k++)
                {
                    int32_t m = INT32_MIN;
                    for (iy = y0; iy < y1; iy++)
                        for (ix = x0; ix < x1; ix++)
                        {
                            int32_t v = (int32_t)io->words[io->in0 + ((int64_t)iy * L->inW + ix) * c + k];
                            if (v > m) m = v;
                        }
                    io->words[dst + k] = (uint32_t)m;
                }
            }
            else
            {
                for (k = 0; k < c; k++) io->words[dst + k] = 0xFFFFFFFFu;
                for (iy = y0; iy < y1; iy++)
                    for (ix = x0; ix < x1; ix++)
                    {
                        const uint32_t *src = io->words + io->in0 + ((int64_t)iy * L->inW + ix) * c;
                        for (k = 0; k < c; k++) io->words[dst + k] &= src[k];
                    }
            }
        }
    }
    return XE_OK;
}
