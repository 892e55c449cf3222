/*
 * Internal declarations shared by the kernel files: the decoded descriptor, the checked buffers,
 * little-endian loads from the parameter bytes and the output stage.
 */
#ifndef XE_INTERNAL_H
#define XE_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "xnoredge_native.h"
#include "xe_popcount.h"

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
#error "XnorEdge native kernels read the model's words in place: little-endian targets only"
#endif

/*
 * No contraction of a * b + c into a fused multiply-add, whatever the build flags: the C# reference rounds
 * the product and the sum separately. (-ffp-contract=off does the same from the command line.)
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__FAST_MATH__)
#error "XnorEdge native kernels must not be built with -ffast-math: results would differ from the C# reference"
#endif

/* The limits of the model format (ModelFormat.cs, Window.cs). */
#define XE_MAX_DIMENSION 65535
#define XE_MAX_ELEMENTS (1L << 26)
#define XE_MAX_KERNEL 255
#define XE_MAX_STRIDE 255

/* The descriptor, decoded (field names follow the XE_D_* slots). */
typedef struct
{
    int32_t op, index;
    int32_t in0Type, inH, inW, inC, in1Type;
    int32_t outType, outH, outW, outC;
    int32_t kh, kw, sh, sw, pt, pl, pb, pr;
    int32_t padMode, outMode, floatAcc, paramsSize;
    int32_t weights, stageA, stageB, weightType, wscale, bias;
} xe_layer;

/* The buffers of one call, already checked against the layer's tensors and parameter block. */
typedef struct
{
    const uint8_t *block; /* the parameter block (params + pBase), 4-byte aligned */
    uint32_t *words;
    float *floats;
    int8_t *bytes;
    int32_t in0, in1, out;
} xe_io;

/* Little-endian loads from the parameter bytes (4-byte aligned: plain loads). */
static inline uint32_t xe_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline int32_t xe_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline float xe_f32(const uint8_t *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}

/* Words of the parameter block at byte offset off (checked to be 4-byte aligned). */
static inline const uint32_t *xe_block_words(const xe_io *io, int32_t off)
{
    return (const uint32_t *)(const void *)(io->block + off);
}

/* Wrapping int32 arithmetic (C# unchecked semantics, no undefined behaviour in C). */
/* The taps [lo, hi) of a kernel of k taps starting at input position start (negative in the padding) that
   fall inside an input of n positions; hi <= lo when none does. The valid taps of a window form the
   rectangle of the row range by the column range. */
static inline void xe_valid_taps(int32_t start, int32_t n, int32_t k, int32_t *lo, int32_t *hi)
{
    *lo = start < 0 ? -start : 0;
    *hi = n - start < k ? n - start : k;
}

static inline int32_t xe_wrap(uint32_t v)
{
    return (int32_t)v;
}

/* ---- checks (xe_layer.c) ---- */

/* Storage length of a tensor in elements of its pool (Bits: H*W*ceil(C/32) words). */
int64_t xe_storage(int32_t type, int32_t h, int32_t w, int32_t c);

/* XE_OK when the window fields are in range and give outH x outW from inH x inW. */
int32_t xe_check_window(const xe_layer *L);

/* XE_OK when an array of bytes at block offset off (4-aligned) lies inside the block. */
int32_t xe_check_array(const xe_layer *L, int32_t off, int64_t bytes);

/* ---- the output stage (xe_output_stage.c) ---- */

typedef struct
{
    int32_t mode;
    int32_t channels;
    int32_t wordsPerPixel;   /* Bits output: ceil(channels / 32) */
    const uint8_t *a;        /* scale (real) or thresholds (bits) */
    const uint8_t *b;        /* bias (real) or flip mask (bits) */
    uint32_t *words;
    float *floats;
    int32_t out;
} xe_stage;

/*
 * Checks the stage's arrays (mode from the descriptor, channels = output channels) and the output
 * tensor's type for that mode, and prepares s. allowInt: the accumulator is an integer.
 */
int32_t xe_stage_init(xe_stage *s, const xe_layer *L, const xe_io *io, int32_t allowInt);

/* Emits channel c of output pixel px. Channels of a pixel must arrive in order 0..C-1 (Bits). */
static inline void xe_stage_bit(const xe_stage *s, int32_t px, int32_t c, int plus)
{
    uint32_t *at = s->words + s->out + px * s->wordsPerPixel + (c >> 5);
    if ((c & 31) == 0) *at = 0;
    if (!plus) *at |= 1u << (c & 31);
}

static inline int xe_stage_flipped(const xe_stage *s, int32_t c)
{
    return (xe_u32(s->b + 4 * (c >> 5)) & (1u << (c & 31))) != 0;
}

static inline void xe_emit_int(const xe_stage *s, int32_t px, int32_t c, int32_t acc)
{
    if (s->mode == XE_MODE_INT)
    {
        s->words[s->out + px * s->channels + c] = (uint32_t)acc;
    }
    else if (s->mode == XE_MODE_REAL)
    {
        float v = (float)acc * xe_f32(s->a + 4 * c);
        s->floats[s->out + px * s->channels + c] = v + xe_f32(s->b + 4 * c);
    }
    else
    {
        int32_t t = xe_i32(s->a + 4 * c);
        int plus = xe_stage_flipped(s, c) ? acc <= t : acc >= t;
        xe_stage_bit(s, px, c, plus);
    }
}

static inline void xe_emit_float(const xe_stage *s, int32_t px, int32_t c, float acc)
{
    if (s->mode == XE_MODE_REAL)
    {
        float v = acc * xe_f32(s->a + 4 * c);
        s->floats[s->out + px * s->channels + c] = v + xe_f32(s->b + 4 * c);
    }
    else
    {
        float t = xe_f32(s->a + 4 * c);
        int plus = xe_stage_flipped(s, c) ? acc <= t : acc >= t;
        xe_stage_bit(s, px, c, plus);
    }
}

/* ---- one function per operator (one file each) ---- */

int32_t xe_xnor_conv2d(const xe_layer *L, const xe_io *io);
int32_t xe_bwn_conv2d(const xe_layer *L, const xe_io *io);
int32_t xe_conv2d(const xe_layer *L, const xe_io *io);
int32_t xe_xnor_dense(const xe_layer *L, const xe_io *io);
int32_t xe_bwn_dense(const xe_layer *L, const xe_io *io);
int32_t xe_dense(const xe_layer *L, const xe_io *io);
int32_t xe_maxpool2d(const xe_layer *L, const xe_io *io);
int32_t xe_per_channel(const xe_layer *L, const xe_io *io);

#endif
