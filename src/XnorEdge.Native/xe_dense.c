/*
 * Real-valued dense layer (Dense.cs, RealWeights.cs): float32 input, or bits read as +1/-1 (words
 * holding the values in order), float32 or int8 weights [Cout][N]; out = sum (* wscale) + bias,
 * summed in the C# order with one rounding per multiply and per add.
 */
#include "xe_internal.h"

int32_t xe_dense(const xe_layer *L, const xe_io *io)
{
    int32_t r, o, i, n;
    int32_t int8w = L->weightType == XE_T_INT8;
    int32_t bitsIn = L->in0Type == XE_T_BITS;
    int64_t count;
    const uint8_t *wb, *scale, *bias;

    if (L->in0Type != XE_T_FLOAT32 && L->in0Type != XE_T_BITS) return XE_ERR_UNSUPPORTED;
    if (L->outType != XE_T_FLOAT32 || L->in1Type != 0) return XE_ERR_SHAPE;
    if (L->outH != 1 || L->outW != 1) return XE_ERR_SHAPE;
    if (bitsIn && (int64_t)L->inH * L->inW != 1 && (L->inC & 31) != 0) return XE_ERR_SHAPE;
    if (L->weightType != XE_T_FLOAT32 && L->weightType != XE_T_INT8) return XE_ERR_DESCRIPTOR;
    n = L->inH * L->inW * L->inC;
    count = (int64_t)n * L->outC;
    if ((r = xe_check_array(L, L->weights, int8w ? count : 4 * count)) != XE_OK) return r;
    if (int8w && (r = xe_check_array(L, L->wscale, 4LL * L->outC)) != XE_OK) return r;
    if ((r = xe_check_array(L, L->bias, 4LL * L->outC)) != XE_OK) return r;
    wb = io->block + L->weights;
    scale = io->block + L->wscale;
    bias = io->block + L->bias;

    for (o = 0; o < L->outC; o++)
    {
        float acc = 0.0f;
        int64_t row = (int64_t)o * n;
        if (bitsIn)
        {
            const uint32_t *x = io->words + io->in0;
            for (i = 0; i < n; i++)
            {
                float w = int8w ? (float)(int8_t)wb[row + i] : xe_f32(wb + 4 * (row + i));
                if ((x[i >> 5] >> (i & 31)) & 1u) acc -= w;
                else acc += w;
            }
        }
        else
        {
            const float *x = io->floats + io->in0;
            for (i = 0; i < n; i++)
            {
                float w = int8w ? (float)(int8_t)wb[row + i] : xe_f32(wb + 4 * (row + i));
                float m = x[i] * w;
                acc = acc + m;
            }
        }
        if (int8w) acc = acc * xe_f32(scale + 4 * o);
        io->floats[io->out + o] = acc + xe_f32(bias + 4 * o);
    }
    return XE_OK;
}
