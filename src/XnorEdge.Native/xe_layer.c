/* Descriptor checks shared by every operator: tensor storage, window geometry, parameter arrays. */
#include "xe_internal.h"

int64_t xe_storage(int32_t type, int32_t h, int32_t w, int32_t c)
{
    int64_t pixels = (int64_t)h * w;
    if (type == XE_T_BITS) return pixels * ((c + 31) >> 5);
    return pixels * c;
}

int32_t xe_check_window(const xe_layer *L)
{
    int64_t spanH, spanW;
    if (L->kh < 1 || L->kh > XE_MAX_KERNEL || L->kw < 1 || L->kw > XE_MAX_KERNEL) return XE_ERR_DESCRIPTOR;
    if (L->sh < 1 || L->sh > XE_MAX_STRIDE || L->sw < 1 || L->sw > XE_MAX_STRIDE) return XE_ERR_DESCRIPTOR;
    if (L->pt < 0 || L->pt >= L->kh || L->pb < 0 || L->pb >= L->kh) return XE_ERR_DESCRIPTOR;
    if (L->pl < 0 || L->pl >= L->kw || L->pr < 0 || L->pr >= L->kw) return XE_ERR_DESCRIPTOR;
    spanH = (int64_t)L->inH + L->pt + L->pb - L->kh;
    spanW = (int64_t)L->inW + L->pl + L->pr - L->kw;
    if (spanH < 0 || spanW < 0) return XE_ERR_SHAPE;
    if (spanH / L->sh + 1 != L->outH || spanW / L->sw + 1 != L->outW) return XE_ERR_SHAPE;
    return XE_OK;
}

int32_t xe_check_array(const xe_layer *L, int32_t off, int64_t bytes)
{
    if (off < 0 || (off & 3) != 0 || bytes < 0) return XE_ERR_DESCRIPTOR;
    if ((int64_t)off + bytes > L->paramsSize) return XE_ERR_PARAMS;
    return XE_OK;
}
