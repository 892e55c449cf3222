/* The output stage of binary layers (OutputStage.cs): checks of its arrays and of the output type. */
#include "xe_internal.h"

int32_t xe_stage_init(xe_stage *s, const xe_layer *L, const xe_io *io, int32_t allowInt)
{
    int32_t c = L->outC;
    int32_t r;
    s->mode = L->outMode;
    s->channels = c;
    s->wordsPerPixel = (c + 31) >> 5;
    s->words = io->words;
    s->floats = io->floats;
    s->out = io->out;
    s->a = io->block;
    s->b = io->block;
    if (L->outMode == XE_MODE_INT)
    {
        if (!allowInt || L->outType != XE_T_INT32) return XE_ERR_SHAPE;
        return XE_OK;
    }
    if (L->outMode == XE_MODE_REAL)
    {
        if (L->outType != XE_T_FLOAT32) return XE_ERR_SHAPE;
        if ((r = xe_check_array(L, L->stageA, 4LL * c)) != XE_OK) return r;
        if ((r = xe_check_array(L, L->stageB, 4LL * c)) != XE_OK) return r;
    }
    else if (L->outMode == XE_MODE_BITS)
    {
        if (L->outType != XE_T_BITS) return XE_ERR_SHAPE;
        if ((r = xe_check_array(L, L->stageA, 4LL * c)) != XE_OK) return r;
        if ((r = xe_check_array(L, L->stageB, 4LL * ((c + 31) >> 5))) != XE_OK) return r;
    }
    else
    {
        return XE_ERR_DESCRIPTOR;
    }
    s->a = io->block + L->stageA;
    s->b = io->block + L->stageB;
    return XE_OK;
}
