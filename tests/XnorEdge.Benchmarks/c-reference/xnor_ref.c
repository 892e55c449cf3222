/*
 * C reference XNOR convolution, benchmark-only (not a product dependency): what plain C with
 * gcc -O3 -march=native does on this CPU, to compare the C# kernels against the machine's limit.
 *
 * The convolution is the one of tests/XnorEdge.Benchmarks (FastXnorConv2D, integer output):
 * input bits HWC (bit 1 = -1), weights [cout][k][k][c] bits, stride 1, zero padding k/2 with the exact
 * border correction, output int32 HWC: acc = n - 2 * (popcount(patch XOR filter) - correction), n the
 * valid taps times c. The correction is folded into a per-pixel base at setup (as the C# kernel folds
 * it into a per-border-class base): acc = base[pixel][f] - 2 * popcount(patch XOR filter).
 *
 * Per run: im2col of 64-bit words (padded taps read zero words), then for each pixel and filter
 * XOR + popcount over the row, then acc. Variants:
 *   0 "builtin":      plain loop, __builtin_popcountll; gcc may auto-vectorise it (vpopcntq)
 *   1 "vpopcntq":     AVX-512 VPOPCNTDQ intrinsics, 1 pixel x 1 filter, 512-bit row chunks
 *   2 "vpopcntq-2x4": the same with 2 pixels x 4 filters per step (8 accumulators, register blocking)
 * Channels must be a multiple of 64. Rows are padded with zero words to a multiple of 8 words.
 *
 * Build (the driver script does this):
 *   gcc -O3 -march=native -fPIC -shared -o libxnorref.so xnor_ref.c
 *   gcc -O3 -march=native -DXREF_MAIN -o xnor_ref xnor_ref.c      (stand-alone driver that times itself)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

typedef struct {
    int h, w, c, cout, k, pad;
    int wpp;        /* 64-bit words per input pixel */
    int row;        /* 64-bit words per patch / filter row (padded to a multiple of 8) */
    int pixels;
    uint64_t *in;   /* h * w * wpp */
    uint64_t *wts;  /* cout * row (taps * wpp, then zero words) */
    uint64_t *patch;/* pixels * row */
    int32_t *base;  /* pixels * cout */
    int32_t *out;   /* pixels * cout */
} xref;

static void *aligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (bytes + 63) / 64 * 64) != 0) return NULL;
    memset(p, 0, (bytes + 63) / 64 * 64);
    return p;
}

/* input: h*w*(c/32) little-endian u32 words; weights: cout*k*k*(c/32) u32 words (the .xnor layout). */
xref *xref_create(int h, int w, int c, int cout, int k, const uint32_t *input, const uint32_t *weights) {
    if (c % 64 != 0) return NULL;
    xref *x = calloc(1, sizeof(xref));
    x->h = h; x->w = w; x->c = c; x->cout = cout; x->k = k; x->pad = k / 2;
    x->wpp = c / 64;
    int taps = k * k;
    x->row = (taps * x->wpp + 7) / 8 * 8;
    x->pixels = h * w;
    x->in = aligned(sizeof(uint64_t) * h * w * x->wpp);
    x->wts = aligned(sizeof(uint64_t) * cout * x->row);
    x->patch = aligned(sizeof(uint64_t) * x->pixels * x->row);
    x->base = aligned(sizeof(int32_t) * x->pixels * cout);
    x->out = aligned(sizeof(int32_t) * x->pixels * cout);
    memcpy(x->in, input, sizeof(uint64_t) * h * w * x->wpp);
    for (int f = 0; f < cout; f++)
        memcpy(x->wts + (size_t)f * x->row, weights + (size_t)f * taps * (c / 32), sizeof(uint64_t) * taps * x->wpp);
    /* base[p][f] = validTaps * c + 2 * popcount(filter f over the padded taps of pixel p) */
    for (int oy = 0; oy < h; oy++)
        for (int ox = 0; ox < w; ox++) {
            int p = oy * w + ox;
            for (int f = 0; f < cout; f++) {
                int valid = 0, corr = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = oy - x->pad + ky, ix = ox - x->pad + kx;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) { valid++; continue; }
                        const uint64_t *t = x->wts + (size_t)f * x->row + (ky * k + kx) * x->wpp;
                        for (int i = 0; i < x->wpp; i++) corr += __builtin_popcountll(t[i]);
                    }
                x->base[(size_t)p * cout + f] = valid * c + 2 * corr;
            }
        }
    return x;
}

void xref_destroy(xref *x) {
    if (!x) return;
    free(x->in); free(x->wts); free(x->patch); free(x->base); free(x->out); free(x);
}

const int32_t *xref_output(const xref *x) { return x->out; }

static void im2col(xref *x) {
    int k = x->k, wpp = x->wpp;
    for (int oy = 0; oy < x->h; oy++)
        for (int ox = 0; ox < x->w; ox++) {
            uint64_t *d = x->patch + (size_t)(oy * x->w + ox) * x->row;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++, d += wpp) {
                    int iy = oy - x->pad + ky, ix = ox - x->pad + kx;
                    if (iy >= 0 && iy < x->h && ix >= 0 && ix < x->w)
                        memcpy(d, x->in + (size_t)(iy * x->w + ix) * wpp, 8 * wpp);
                    else
                        memset(d, 0, 8 * wpp);
                }
            /* the row's padding words stay zero (set at allocation, never written) */
        }
}

static void run_builtin(xref *x) {
    int row = x->row, cout = x->cout;
    for (int p = 0; p < x->pixels; p++) {
        const uint64_t *a = x->patch + (size_t)p * row;
        for (int f = 0; f < cout; f++) {
            const uint64_t *b = x->wts + (size_t)f * row;
            int s = 0;
            for (int i = 0; i < row; i++) s += __builtin_popcountll(a[i] ^ b[i]);
            x->out[(size_t)p * cout + f] = x->base[(size_t)p * cout + f] - 2 * s;
        }
    }
}

#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512F__)
static void run_vpopcnt(xref *x) {
    int chunks = x->row / 8, cout = x->cout;
    for (int p = 0; p < x->pixels; p++) {
        const __m512i *a = (const __m512i *)(x->patch + (size_t)p * x->row);
        for (int f = 0; f < cout; f++) {
            const __m512i *b = (const __m512i *)(x->wts + (size_t)f * x->row);
            __m512i acc = _mm512_setzero_si512();
            for (int i = 0; i < chunks; i++)
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(a + i), _mm512_load_si512(b + i))));
            x->out[(size_t)p * cout + f] = x->base[(size_t)p * cout + f] - 2 * (int)_mm512_reduce_add_epi64(acc);
        }
    }
}

#define XP(acc, a, b) acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(a, b)))
static void run_vpopcnt_2x4(xref *x) {
    int chunks = x->row / 8, cout = x->cout, row = x->row;
    int p = 0;
    for (; p + 2 <= x->pixels; p += 2) {
        const __m512i *a0 = (const __m512i *)(x->patch + (size_t)p * row);
        const __m512i *a1 = (const __m512i *)(x->patch + (size_t)(p + 1) * row);
        int f = 0;
        for (; f + 4 <= cout; f += 4) {
            const __m512i *b0 = (const __m512i *)(x->wts + (size_t)f * row);
            const __m512i *b1 = (const __m512i *)(x->wts + (size_t)(f + 1) * row);
            const __m512i *b2 = (const __m512i *)(x->wts + (size_t)(f + 2) * row);
            const __m512i *b3 = (const __m512i *)(x->wts + (size_t)(f + 3) * row);
            __m512i s00 = _mm512_setzero_si512(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int i = 0; i < chunks; i++) {
                __m512i x0 = _mm512_load_si512(a0 + i), x1 = _mm512_load_si512(a1 + i);
                __m512i w0 = _mm512_load_si512(b0 + i), w1 = _mm512_load_si512(b1 + i);
                __m512i w2 = _mm512_load_si512(b2 + i), w3 = _mm512_load_si512(b3 + i);
                XP(s00, x0, w0); XP(s01, x0, w1); XP(s02, x0, w2); XP(s03, x0, w3);
                XP(s10, x1, w0); XP(s11, x1, w1); XP(s12, x1, w2); XP(s13, x1, w3);
            }
            int32_t *o0 = x->out + (size_t)p * cout + f, *o1 = o0 + cout;
            const int32_t *c0 = x->base + (size_t)p * cout + f, *c1 = c0 + cout;
            o0[0] = c0[0] - 2 * (int)_mm512_reduce_add_epi64(s00); o0[1] = c0[1] - 2 * (int)_mm512_reduce_add_epi64(s01);
            o0[2] = c0[2] - 2 * (int)_mm512_reduce_add_epi64(s02); o0[3] = c0[3] - 2 * (int)_mm512_reduce_add_epi64(s03);
            o1[0] = c1[0] - 2 * (int)_mm512_reduce_add_epi64(s10); o1[1] = c1[1] - 2 * (int)_mm512_reduce_add_epi64(s11);
            o1[2] = c1[2] - 2 * (int)_mm512_reduce_add_epi64(s12); o1[3] = c1[3] - 2 * (int)_mm512_reduce_add_epi64(s13);
        }
        for (; f < cout; f++)
            for (int q = 0; q < 2; q++) {
                const __m512i *a = q ? a1 : a0, *b = (const __m512i *)(x->wts + (size_t)f * row);
                __m512i acc = _mm512_setzero_si512();
                for (int i = 0; i < chunks; i++) XP(acc, _mm512_load_si512(a + i), _mm512_load_si512(b + i));
                x->out[(size_t)(p + q) * cout + f] = x->base[(size_t)(p + q) * cout + f] - 2 * (int)_mm512_reduce_add_epi64(acc);
            }
    }
    for (; p < x->pixels; p++) {
        const __m512i *a = (const __m512i *)(x->patch + (size_t)p * row);
        for (int f = 0; f < cout; f++) {
            const __m512i *b = (const __m512i *)(x->wts + (size_t)f * row);
            __m512i acc = _mm512_setzero_si512();
            for (int i = 0; i < chunks; i++) XP(acc, _mm512_load_si512(a + i), _mm512_load_si512(b + i));
            x->out[(size_t)p * cout + f] = x->base[(size_t)p * cout + f] - 2 * (int)_mm512_reduce_add_epi64(acc);
        }
    }
}
#endif

/* Number of variants this build has. */
int xref_variants(void) {
#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512F__)
    return 3;
#else
    return 1;
#endif
}

const char *xref_variant_name(int v) {
    switch (v) {
    case 0: return "builtin";
    case 1: return "vpopcntq";
    case 2: return "vpopcntq-2x4";
    default: return "?";
    }
}

/* One whole convolution: im2col, XNOR-popcount, output. Returns 0, or -1 for a variant not built. */
int xref_run(xref *x, int variant) {
    im2col(x);
    switch (variant) {
    case 0: run_builtin(x); return 0;
#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512F__)
    case 1: run_vpopcnt(x); return 0;
    case 2: run_vpopcnt_2x4(x); return 0;
#endif
    default: return -1;
    }
}

#ifdef XREF_MAIN
/* Stand-alone driver: random data, checks the variants against each other, times each (median of reps). */
static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int c = argc > 1 ? atoi(argv[1]) : 256, k = argc > 2 ? atoi(argv[2]) : 3, hw = argc > 3 ? atoi(argv[3]) : 14;
    int reps = argc > 4 ? atoi(argv[4]) : 201;
    int words = hw * hw * c / 32, wwords = c * k * k * c / 32;
    uint32_t *in = malloc(4 * (size_t)words), *wt = malloc(4 * (size_t)wwords);
    uint64_t s = 88172645463325252ULL;
    for (int i = 0; i < words; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; in[i] = (uint32_t)s; }
    for (int i = 0; i < wwords; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; wt[i] = (uint32_t)s; }
    xref *x = xref_create(hw, hw, c, c, k, in, wt);
    if (!x) { fprintf(stderr, "channels must be a multiple of 64\n"); return 2; }
    int n = hw * hw * c;
    int32_t *first = malloc(4 * (size_t)n);
    double macs = (double)hw * hw * c * k * k * c;
    double *t = malloc(sizeof(double) * reps);
    printf("[\n");
    for (int v = 0; v < xref_variants(); v++) {
        xref_run(x, v);
        if (v == 0) memcpy(first, x->out, 4 * (size_t)n);
        else if (memcmp(first, x->out, 4 * (size_t)n) != 0) { fprintf(stderr, "variant %s differs\n", xref_variant_name(v)); return 1; }
        for (int i = 0; i < 5; i++) xref_run(x, v);
        for (int i = 0; i < reps; i++) { double t0 = now_ns(); xref_run(x, v); t[i] = now_ns() - t0; }
        qsort(t, reps, sizeof(double), cmp_double);
        printf("  {\"variant\": \"%s\", \"channels\": %d, \"kernel\": %d, \"size\": %d, \"medianMs\": %.6f, \"bestMs\": %.6f, \"gBinMacs\": %.1f}%s\n",
               xref_variant_name(v), c, k, hw, t[reps / 2] / 1e6, t[0] / 1e6, macs / t[reps / 2], v + 1 < xref_variants() ? "," : "");
    }
    printf("]\n");
    xref_destroy(x);
    return 0;
}
#endif
