/*
 * "What this CPU can do" probe for one binary conv layer shape (benchmark-only, not product code).
 *
 *   gcc -O3 -march=native -o xnor_probe xnor_probe.c
 *   taskset -c 1 ./xnor_probe H W Cin Cout K [reps]     e.g. ./xnor_probe 28 28 64 96 3
 *
 * Stride 1, zero padding K/2 (padded taps are zero words), int32 popcounts, then a threshold + bit
 * packing step with AVX-512 compares on the popcount (so the figures include what the runtime's output
 * stage does). The runtime folds the border correction into per-border-class thresholds; the probe uses
 * one threshold table, which costs the same. Input bits HWC, Cin a multiple of 64
 * here (the shipped model's layers are 64, 96 -> padded to 128 bits per tap, 128 and 256).
 *
 * Weights are laid out [k word][output channel] (one 64-bit word of a filter row per output channel),
 * and every variant is vectorised ACROSS OUTPUT CHANNELS: an activation word is broadcast, XORed with 8
 * filters' words in one 512-bit vector, popcounted per 64-bit lane and accumulated per lane.
 *   0 "plain":   plain C loops, __builtin_popcountll, left to gcc's auto-vectoriser
 *   1 "vpopcnt": explicit AVX-512 VPOPCNTDQ, 2 pixels x 32 channels per step
 *   2 "lut":     explicit AVX-512BW without VPOPCNTDQ: nibble lookup with two vpshufb, byte accumulators,
 *                vpsadbw per 64-bit lane, a running carry-save adder along K
 *   3 "hs":      what the C# kernel does (.NET 10 can emit it: AVX-512BW + VBMI, no VPOPCNTDQ): Harley-Seal
 *                along K (ones/twos/fours/eights planes, a sixteens count per 16 words, blocks of 8 and 4,
 *                0-3 words counted directly), byte popcount by vpermb on the low 6 bits + vpermb on the
 *                lane rotated by 6, one 8-channel accumulator set at a time
 * Each variant's output is checked against variant 0. Prints one JSON line per variant: the median
 * time of `reps` runs (each of enough repetitions to last >= 2 ms) and G binary MAC/s = H*W*Cout*K*K*Cin / t.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

static int H, W, C, CO, KS, PAD, WPT, KW, COP, PIX;
static uint64_t *in, *wt, *patch;
static int32_t *acc, *thr;
static uint32_t *outbits;

static void *al(size_t n) { void *p; if (posix_memalign(&p, 64, (n + 63) / 64 * 64)) exit(1); memset(p, 0, (n + 63) / 64 * 64); return p; }
static uint64_t rnd(void) { static uint64_t s = 0x9E3779B97F4A7C15ull; s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* im2col: KW words per pixel, padded taps are zero words (the base holds their correction). */
static void im2col(void) {
    for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++) {
            uint64_t *d = patch + (size_t)(oy * W + ox) * KW;
            for (int ky = 0; ky < KS; ky++)
                for (int kx = 0; kx < KS; kx++, d += WPT) {
                    int iy = oy - PAD + ky, ix = ox - PAD + kx;
                    const uint64_t *s = in + (size_t)(iy * W + ix) * WPT;
                    int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                    for (int i = 0; i < WPT; i++) d[i] = inside ? s[i] : 0;
                }
        }
}

/* threshold + pack, with the threshold moved onto the popcount (as the C# kernel does): bit 1 where
 * pop > T[c], T = floor((base - thr) / 2) precomputed (here one table: the border does not change the timing) */
static void stage(void) {
    for (int p = 0; p < PIX; p++) {
        int32_t *a = acc + (size_t)p * COP;
        uint32_t *o = outbits + (size_t)p * ((CO + 31) / 32);
        for (int c0 = 0; c0 < CO; c0 += 32) {
            uint32_t word = (uint32_t)_mm512_cmpgt_epi32_mask(_mm512_loadu_si512(a + c0), _mm512_loadu_si512(thr + c0))
                          | (uint32_t)_mm512_cmpgt_epi32_mask(_mm512_loadu_si512(a + c0 + 16), _mm512_loadu_si512(thr + c0 + 16)) << 16;
            if (CO - c0 < 32) word &= (1u << (CO - c0)) - 1u;
            o[c0 / 32] = word;
        }
    }
}

static void v_plain(void) {
    im2col();
    for (int p = 0; p < PIX; p++) {
        const uint64_t *x = patch + (size_t)p * KW;
        int32_t *a = acc + (size_t)p * COP;
        for (int c = 0; c < COP; c++) a[c] = 0;
        for (int k = 0; k < KW; k++) {
            uint64_t xk = x[k];
            const uint64_t *w = wt + (size_t)k * COP;
            for (int c = 0; c < COP; c++) a[c] += __builtin_popcountll(xk ^ w[c]);
        }
    }
    stage();
}

static void v_vpopcnt(void) {
    im2col();
    for (int c0 = 0; c0 < COP; c0 += 32)
        for (int p = 0; p < PIX; p += 2) {
            const uint64_t *x0 = patch + (size_t)p * KW, *x1 = x0 + (p + 1 < PIX ? KW : 0);
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int k = 0; k < KW; k++) {
                const uint64_t *w = wt + (size_t)k * COP + c0;
                __m512i u = _mm512_set1_epi64(x0[k]), v = _mm512_set1_epi64(x1[k]);
                __m512i w0 = _mm512_load_si512(w), w1 = _mm512_load_si512(w + 8), w2 = _mm512_load_si512(w + 16), w3 = _mm512_load_si512(w + 24);
                a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_xor_si512(u, w0)));
                a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_xor_si512(u, w1)));
                a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_xor_si512(u, w2)));
                a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_xor_si512(u, w3)));
                b0 = _mm512_add_epi64(b0, _mm512_popcnt_epi64(_mm512_xor_si512(v, w0)));
                b1 = _mm512_add_epi64(b1, _mm512_popcnt_epi64(_mm512_xor_si512(v, w1)));
                b2 = _mm512_add_epi64(b2, _mm512_popcnt_epi64(_mm512_xor_si512(v, w2)));
                b3 = _mm512_add_epi64(b3, _mm512_popcnt_epi64(_mm512_xor_si512(v, w3)));
            }
            int32_t *o = acc + (size_t)p * COP + c0;
            _mm256_storeu_si256((__m256i *)o, _mm512_cvtepi64_epi32(a0));
            _mm256_storeu_si256((__m256i *)(o + 8), _mm512_cvtepi64_epi32(a1));
            _mm256_storeu_si256((__m256i *)(o + 16), _mm512_cvtepi64_epi32(a2));
            _mm256_storeu_si256((__m256i *)(o + 24), _mm512_cvtepi64_epi32(a3));
            if (p + 1 < PIX) {
                o += COP;
                _mm256_storeu_si256((__m256i *)o, _mm512_cvtepi64_epi32(b0));
                _mm256_storeu_si256((__m256i *)(o + 8), _mm512_cvtepi64_epi32(b1));
                _mm256_storeu_si256((__m256i *)(o + 16), _mm512_cvtepi64_epi32(b2));
                _mm256_storeu_si256((__m256i *)(o + 24), _mm512_cvtepi64_epi32(b3));
            }
        }
    stage();
}

static inline __m512i bpop(__m512i v, __m512i lut, __m512i m) {
    return _mm512_add_epi8(_mm512_shuffle_epi8(lut, _mm512_and_si512(v, m)),
                           _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), m)));
}

/* running carry-save adder: ones ^= a ^ b, carry = maj(ones, a, b) counted twice (doubled table) */
#define CSA(ones, accv, a, b) do { __m512i cr_ = _mm512_ternarylogic_epi64(ones, a, b, 0xE8); \
    ones = _mm512_ternarylogic_epi64(ones, a, b, 0x96); accv = _mm512_add_epi8(accv, bpop(cr_, lut2, m)); } while (0)

static void v_lut(void) {
    im2col();
    const __m512i m = _mm512_set1_epi8(0x0F);
    const __m512i lut = _mm512_set_epi8(4,3,3,2,3,2,2,1,3,2,2,1,2,1,1,0, 4,3,3,2,3,2,2,1,3,2,2,1,2,1,1,0,
                                        4,3,3,2,3,2,2,1,3,2,2,1,2,1,1,0, 4,3,3,2,3,2,2,1,3,2,2,1,2,1,1,0);
    const __m512i lut2 = _mm512_add_epi8(lut, lut);
    const __m512i z = _mm512_setzero_si512();
    for (int c0 = 0; c0 < COP; c0 += 32)
        for (int p = 0; p < PIX; p += 2) {
            const uint64_t *x0 = patch + (size_t)p * KW, *x1 = x0 + (p + 1 < PIX ? KW : 0);
            __m512i s[8];
            for (int j = 0; j < 8; j++) s[j] = z;
            for (int k0 = 0; k0 < KW; k0 += 30) {
                int end = k0 + 30 < KW ? k0 + 30 : KW;
                __m512i n[8], a[8];
                for (int j = 0; j < 8; j++) { n[j] = z; a[j] = z; }
                int k = k0;
                for (; k + 2 <= end; k += 2) {
                    const uint64_t *w = wt + (size_t)k * COP + c0, *w2 = w + COP;
                    __m512i u = _mm512_set1_epi64(x0[k]), u2 = _mm512_set1_epi64(x0[k + 1]);
                    __m512i v = _mm512_set1_epi64(x1[k]), v2 = _mm512_set1_epi64(x1[k + 1]);
                    for (int j = 0; j < 4; j++) {
                        __m512i f = _mm512_load_si512(w + 8 * j), g = _mm512_load_si512(w2 + 8 * j);
                        __m512i ua = _mm512_xor_si512(u, f), ub = _mm512_xor_si512(u2, g);
                        __m512i va = _mm512_xor_si512(v, f), vb = _mm512_xor_si512(v2, g);
                        CSA(n[j], a[j], ua, ub);
                        CSA(n[4 + j], a[4 + j], va, vb);
                    }
                }
                for (; k < end; k++) {
                    const uint64_t *w = wt + (size_t)k * COP + c0;
                    __m512i u = _mm512_set1_epi64(x0[k]), v = _mm512_set1_epi64(x1[k]);
                    for (int j = 0; j < 4; j++) {
                        __m512i f = _mm512_load_si512(w + 8 * j);
                        CSA(n[j], a[j], _mm512_xor_si512(u, f), z);
                        CSA(n[4 + j], a[4 + j], _mm512_xor_si512(v, f), z);
                    }
                }
                for (int j = 0; j < 8; j++) {
                    a[j] = _mm512_add_epi8(a[j], bpop(n[j], lut, m));
                    s[j] = _mm512_add_epi64(s[j], _mm512_sad_epu8(a[j], z));
                }
            }
            int32_t *o = acc + (size_t)p * COP + c0;
            for (int j = 0; j < 4; j++) _mm256_storeu_si256((__m256i *)(o + 8 * j), _mm512_cvtepi64_epi32(s[j]));
            if (p + 1 < PIX)
                for (int j = 0; j < 4; j++) _mm256_storeu_si256((__m256i *)(o + COP + 8 * j), _mm512_cvtepi64_epi32(s[4 + j]));
        }
    stage();
}

/* Harley-Seal + vpermb popcount (the C# ChannelKernel512<PermutePop512>.Chunk, in C) */
static __m512i T1lo, T1hi, T2lo, T2hi, T4lo, T4hi, T8lo, T8hi;
static inline __m512i vpop(__m512i v, __m512i lo, __m512i hi) {
    return _mm512_add_epi8(_mm512_permutexvar_epi8(v, lo), _mm512_permutexvar_epi8(_mm512_ror_epi64(v, 6), hi));
}
#define HCSA(acc, a, b, carry) do { __m512i a_ = (a), b_ = (b); carry = _mm512_ternarylogic_epi64(acc, a_, b_, 0xE8); \
    acc = _mm512_ternarylogic_epi64(acc, a_, b_, 0x96); } while (0)
static inline __m512i hin(const uint64_t *x, const uint64_t *f, int i) {
    return _mm512_xor_si512(_mm512_set1_epi64((long long)x[i]), _mm512_load_si512(f + (size_t)i * 8));
}
static inline __m512i eight(__m512i *ones, __m512i *twos, __m512i *fours, const uint64_t *x, const uint64_t *f) {
    __m512i ta, tb, fa, fb, e;
    HCSA(*ones, hin(x, f, 0), hin(x, f, 1), ta); HCSA(*ones, hin(x, f, 2), hin(x, f, 3), tb); HCSA(*twos, ta, tb, fa);
    HCSA(*ones, hin(x, f, 4), hin(x, f, 5), ta); HCSA(*ones, hin(x, f, 6), hin(x, f, 7), tb); HCSA(*twos, ta, tb, fb);
    HCSA(*fours, fa, fb, e);
    return e;
}
/* x: the patch row, f: the 8 channels' words, 8 per k (a contiguous [k][8] block); returns 8 lane counts */
static inline __m512i hs_row(const uint64_t *x, const uint64_t *f, int n) {
    __m512i z = _mm512_setzero_si512(), ones = z, twos = z, fours = z, eights = z, acc16 = z, s;
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i ea = eight(&ones, &twos, &fours, x + k, f + (size_t)k * 8), eb = eight(&ones, &twos, &fours, x + k + 8, f + (size_t)(k + 8) * 8);
        HCSA(eights, ea, eb, s);
        acc16 = _mm512_add_epi8(acc16, vpop(s, T1lo, T1hi));
    }
    int deep = k != 0;
    if (k + 8 <= n) {
        __m512i e = eight(&ones, &twos, &fours, x + k, f + (size_t)k * 8);
        if (deep) acc16 = _mm512_add_epi8(acc16, vpop(_mm512_and_si512(eights, e), T1lo, T1hi));
        eights = _mm512_xor_si512(eights, e);
        k += 8;
    }
    if (k + 4 <= n) {
        __m512i ta, tb, c, e;
        HCSA(ones, hin(x + k, f + (size_t)k * 8, 0), hin(x + k, f + (size_t)k * 8, 1), ta);
        HCSA(ones, hin(x + k, f + (size_t)k * 8, 2), hin(x + k, f + (size_t)k * 8, 3), tb);
        HCSA(twos, ta, tb, c);
        e = _mm512_and_si512(fours, c); fours = _mm512_xor_si512(fours, c);
        if (deep) acc16 = _mm512_add_epi8(acc16, vpop(_mm512_and_si512(eights, e), T1lo, T1hi));
        eights = _mm512_xor_si512(eights, e);
        k += 4;
    }
    __m512i bytes = _mm512_add_epi8(_mm512_add_epi8(vpop(ones, T1lo, T1hi), vpop(twos, T2lo, T2hi)),
                                    _mm512_add_epi8(vpop(fours, T4lo, T4hi), vpop(eights, T8lo, T8hi)));
    for (; k < n; k++) bytes = _mm512_add_epi8(bytes, vpop(hin(x + k, f + (size_t)k * 8, 0), T1lo, T1hi));
    __m512i sum = _mm512_sad_epu8(bytes, z);
    if (deep) sum = _mm512_add_epi64(sum, _mm512_slli_epi64(_mm512_sad_epu8(acc16, z), 4));
    return sum;
}

static uint64_t *wgrp; /* weights per group of 8 channels: [group][k][8] */

static void v_hs(void) {
    im2col();
    for (int c0 = 0; c0 < COP; c0 += 16)
        for (int p = 0; p < PIX; p += 2) {
            const uint64_t *x0 = patch + (size_t)p * KW, *x1 = x0 + (p + 1 < PIX ? KW : 0);
            const uint64_t *f0 = wgrp + (size_t)(c0 / 8) * KW * 8, *f1 = f0 + (size_t)KW * 8;
            int32_t *o = acc + (size_t)p * COP + c0;
            __m256i lo = _mm512_cvtepi64_epi32(hs_row(x0, f0, KW)), hi = _mm512_cvtepi64_epi32(hs_row(x0, f1, KW));
            _mm256_storeu_si256((__m256i *)o, lo); _mm256_storeu_si256((__m256i *)(o + 8), hi);
            if (p + 1 < PIX) {
                lo = _mm512_cvtepi64_epi32(hs_row(x1, f0, KW)); hi = _mm512_cvtepi64_epi32(hs_row(x1, f1, KW));
                _mm256_storeu_si256((__m256i *)(o + COP), lo); _mm256_storeu_si256((__m256i *)(o + COP + 8), hi);
            }
        }
    stage();
}

static void hs_tables(void) {
    uint8_t t[8][64];
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 64; i++) { t[2 * j][i] = (uint8_t)(__builtin_popcount(i) << j); t[2 * j + 1][i] = (uint8_t)(__builtin_popcount(i & 3) << j); }
    T1lo = _mm512_loadu_si512(t[0]); T1hi = _mm512_loadu_si512(t[1]); T2lo = _mm512_loadu_si512(t[2]); T2hi = _mm512_loadu_si512(t[3]);
    T4lo = _mm512_loadu_si512(t[4]); T4hi = _mm512_loadu_si512(t[5]); T8lo = _mm512_loadu_si512(t[6]); T8hi = _mm512_loadu_si512(t[7]);
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: xnor_probe H W Cin Cout K [reps]\n"); return 2; }
    H = atoi(argv[1]); W = atoi(argv[2]); C = atoi(argv[3]); CO = atoi(argv[4]); KS = atoi(argv[5]);
    int reps = argc > 6 ? atoi(argv[6]) : 51;
    PAD = KS / 2; WPT = (C + 63) / 64; KW = KS * KS * WPT; COP = (CO + 31) / 32 * 32; PIX = H * W;
    in = al(8ull * PIX * WPT); wt = al(8ull * KW * COP); patch = al(8ull * (PIX + 1) * KW);
    acc = al(4ull * PIX * COP); thr = al(4ull * COP); outbits = al(4ull * PIX * ((CO + 31) / 32));
    uint64_t cmask = C % 64 ? (1ull << (C % 64)) - 1 : ~0ull;
    for (int i = 0; i < PIX * WPT; i++) in[i] = rnd() & (i % WPT == WPT - 1 ? cmask : ~0ull);
    for (int k = 0; k < KW; k++) for (int c = 0; c < CO; c++) wt[(size_t)k * COP + c] = rnd() & (k % WPT == WPT - 1 ? cmask : ~0ull);
    for (int c = 0; c < CO; c++) thr[c] = (KS * KS * C) / 2 + (int)(rnd() % 21) - 10;
    double macs = (double)PIX * CO * KS * KS * C;
    wgrp = al(8ull * KW * COP);
    for (int k = 0; k < KW; k++) for (int c = 0; c < COP; c++) wgrp[((size_t)(c / 8) * KW + k) * 8 + c % 8] = wt[(size_t)k * COP + c];
    hs_tables();
    void (*fn[4])(void) = { v_plain, v_vpopcnt, v_lut, v_hs };
    const char *name[4] = { "plain", "vpopcnt", "lut", "hs" };
    uint32_t *ref = malloc(4ull * PIX * ((CO + 31) / 32));
    for (int v = 0; v < 4; v++) {
        memset(outbits, 0, 4ull * PIX * ((CO + 31) / 32));
        fn[v]();
        if (v == 0) memcpy(ref, outbits, 4ull * PIX * ((CO + 31) / 32));
        int same = memcmp(ref, outbits, 4ull * PIX * ((CO + 31) / 32)) == 0;
        double t0 = now(); int inner = 0;
        do { fn[v](); inner++; } while (now() - t0 < 0.002);
        double *ts = malloc(sizeof(double) * reps);
        for (int r = 0; r < reps; r++) { double a = now(); for (int i = 0; i < inner; i++) fn[v](); ts[r] = (now() - a) / inner; }
        for (int i = 0; i < reps; i++) for (int j = i + 1; j < reps; j++) if (ts[j] < ts[i]) { double t = ts[i]; ts[i] = ts[j]; ts[j] = t; }
        double med = ts[reps / 2];
        printf("{\"shape\": \"%dx%dx%d->%d k%d\", \"variant\": \"%s\", \"median_us\": %.2f, \"best_us\": %.2f, \"gbmacs\": %.1f, \"bitexact\": %s}\n",
               H, W, C, CO, KS, name[v], med * 1e6, ts[0] * 1e6, macs / med * 1e-9, same ? "true" : "false");
        free(ts);
    }
    return 0;
}
