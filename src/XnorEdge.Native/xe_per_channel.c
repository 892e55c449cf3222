/*
 * Standalone output stages (PerChannelStage.cs): Threshold (batch-norm and sign folded into a
 * compare, packed bits out) and ScaleBias (x * scale[c] + bias[c], float out), on every element of an
 * INT32 or FLOAT32 tensor of the output's shape.
 */
#include "xe_internal.h"

int32_t xe_per_channel(const xe_layer *L, const xe_io *io)
{
    xe_stage st;
    int32_t r, px, k, pixels, c = L->inC;
    int32_t floatIn = L->in0Type == XE_T_FLOAT32;

    if (L->in0Type != XE_T_INT32 && L->in0Type != XE_T_FLOAT32) return XE_ERR_UNSUPPORTED;
    if (L->in1Type != 0) return XE_ERR_SHAPE;
    if (L->outH != L->inH || L->outW != L->inW || L->outC != c) return XE_ERR_SHAPE;
    if (L->op == XE_OP_THRESHOLD && L->outMode != XE_MODE_BITS) return XE_ERR_DESCRIPTOR;
    if (L->op == XE_OP_SCALE_BIAS && L->outMode != XE_MODE_REAL) return XE_ERR_DESCRIPTOR;
    if ((r = xe_stage_init(&st, L, io, 0)) != XE_OK) return r;

    pixels = L->inH * L->inW;
    for (px = 0; px < pixels; px++)
    {
        int64_t at = io->in0 + (int64_t)px * c;
        if (floatIn)
            for (k = 0; k < c; k++) xe_emit_float(&st, px, k, io->floats[at + k]);
        else
            for (k = 0; k < c; k++) xe_emit_int(&st, px, k, (int32_t)io->words[at + k]);
    }
    return XE_OK;
}
