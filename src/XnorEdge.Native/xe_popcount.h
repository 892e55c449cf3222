/*
 * Population count of XOR-ed words, the inner loop of every XNOR layer.
 *
 * XE_HW_POPCOUNT is 1 where the target has a population-count instruction that
 * __builtin_popcount maps to: x86 with POPCNT (-mpopcnt, -march=native), ARMv8 (NEON CNT,
 * AArch64 or 32-bit with NEON; there the XOR-popcount runs four words at a time in NEON registers). Elsewhere (Cortex-M0/M3/M4/M7, Xtensa LX6/LX7, RISC-V without Zbb)
 * gcc would call libgcc's __popcountsi2 (a table walk), so the SWAR form is used instead, with the final
 * byte sum hoisted out of the loop (and on scalar cores three words sharing a step, XE_SWAR_TRIPLES).
 * Define XE_FORCE_SWAR to test the SWAR form on a machine that has the instruction.
 */
#ifndef XE_POPCOUNT_H
#define XE_POPCOUNT_H

#include <stdint.h>

#if !defined(XE_FORCE_SWAR) && defined(__ARM_NEON)
#include <arm_neon.h>
#define XE_NEON 1
#else
#define XE_NEON 0
#endif

#if !defined(XE_FORCE_SWAR) && defined(__GNUC__) && \
    (defined(__POPCNT__) || defined(__aarch64__) || defined(__ARM_NEON) || defined(__riscv_zbb))
#define XE_HW_POPCOUNT 1
#define XE_POPCOUNT32(x) ((uint32_t)__builtin_popcount(x))
#else
#define XE_HW_POPCOUNT 0
#endif

/*
 * XE_SWAR_TRIPLES: the SWAR loop shares work between three words (fewer instructions a word on scalar cores:
 * 13.3 instead of 15 on Cortex-M4, 13.7 instead of 17 on Xtensa). Where the compiler can vectorize a plain
 * word-at-a-time loop instead (SSE2, and any SIMD target reaching the SWAR path), that is much faster, so
 * the triples are for targets without SIMD only. Define it to 0 or 1 to choose.
 */
#if !defined(XE_SWAR_TRIPLES)
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__riscv_vector) || defined(__ALTIVEC__) || defined(__wasm_simd128__)
#define XE_SWAR_TRIPLES 0
#else
#define XE_SWAR_TRIPLES 1
#endif
#endif

/* Bit counts per byte of x (each byte 0..8). */
static inline uint32_t xe_swar_bytes(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    return (v + (v >> 4)) & 0x0F0F0F0Fu;
}

/* Sum of the four bytes of x when that sum is below 256. */
static inline uint32_t xe_fold_bytes(uint32_t x)
{
    return (x * 0x01010101u) >> 24;
}

static inline uint32_t xe_popcount32(uint32_t v)
{
#if XE_HW_POPCOUNT
    return XE_POPCOUNT32(v);
#else
    return xe_fold_bytes(xe_swar_bytes(v));
#endif
}

#if XE_NEON
/*
 * NEON: four words a step, CNT on the 16 bytes and a pairwise add-accumulate into 16-bit lanes (each step
 * adds at most 16 to a lane, so 4,095 steps fit), folded once per block. A scalar CNT per word would cost
 * two moves between register files and an across-vector add for every word.
 */
static inline uint32_t xe_neon_fold(uint16x8_t acc)
{
    uint64x2_t s = vpaddlq_u32(vpaddlq_u16(acc));
    return (uint32_t)(vgetq_lane_u64(s, 0) + vgetq_lane_u64(s, 1));
}

static inline uint32_t xe_popxor_neon(const uint32_t *a, const uint32_t *b, int32_t n, int32_t *done)
{
    uint32_t total = 0;
    int32_t i = 0;
    while (n - i >= 4)
    {
        int32_t steps = (n - i) >> 2;
        uint16x8_t acc = vdupq_n_u16(0);
        int32_t k;
        if (steps > 4095) steps = 4095;
        for (k = 0; k < steps; k++, i += 4)
        {
            uint32x4_t x = veorq_u32(vld1q_u32(a + i), vld1q_u32(b + i));
            acc = vpadalq_u8(acc, vcntq_u8(vreinterpretq_u8_u32(x)));
        }
        total += xe_neon_fold(acc);
    }
    *done = i;
    return total;
}
#endif

/* popcount(a[i] ^ b[i]) summed over n words; a and b are 4-byte aligned. */
static inline uint32_t xe_popxor(const uint32_t *a, const uint32_t *b, int32_t n)
{
    uint32_t total = 0;
#if XE_NEON
    int32_t done;
    total = xe_popxor_neon(a, b, n, &done);
    a += done;
    b += done;
    n -= done;
#endif
#if XE_HW_POPCOUNT
    int32_t i;
    for (i = 0; i < n; i++) total += XE_POPCOUNT32(a[i] ^ b[i]);
#elif XE_SWAR_TRIPLES
    /*
     * Three words at a time: after the first two SWAR steps every nibble counts at most 4 bits, so three words'
     * nibble counts add without carry (at most 12), and the third step (nibbles to bytes) runs once for the
     * three. A byte then holds at most 24: ten triples (30 words) are added before the bytes are folded.
     */
    while (n >= 3)
    {
        int32_t m = n < 30 ? n - n % 3 : 30;
        int32_t i;
        uint32_t bytes = 0;
        for (i = 0; i < m; i += 3)
        {
            uint32_t v0 = a[i] ^ b[i];
            uint32_t v1 = a[i + 1] ^ b[i + 1];
            uint32_t v2 = a[i + 2] ^ b[i + 2];
            uint32_t s3;
            v0 = v0 - ((v0 >> 1) & 0x55555555u);
            v1 = v1 - ((v1 >> 1) & 0x55555555u);
            v2 = v2 - ((v2 >> 1) & 0x55555555u);
            v0 = (v0 & 0x33333333u) + ((v0 >> 2) & 0x33333333u);
            v1 = (v1 & 0x33333333u) + ((v1 >> 2) & 0x33333333u);
            v2 = (v2 & 0x33333333u) + ((v2 >> 2) & 0x33333333u);
            s3 = v0 + v1 + v2;
            bytes += (s3 & 0x0F0F0F0Fu) + ((s3 >> 4) & 0x0F0F0F0Fu);
        }
        /* Each byte holds up to 10 * 24 = 240: fold pairs into 16-bit halves, then the halves. */
        bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
        total += (bytes + (bytes >> 16)) & 0xFFFFu;
        a += m;
        b += m;
        n -= m;
    }
    while (n > 0)
    {
        total += xe_fold_bytes(xe_swar_bytes(*a++ ^ *b++));
        n--;
    }
#else
    /* A word at a time, the byte fold every 31 words (a byte holds at most 31 * 8 = 248): vectorizable. */
    while (n > 0)
    {
        int32_t m = n < 31 ? n : 31;
        int32_t i;
        uint32_t bytes = 0;
        for (i = 0; i < m; i++) bytes += xe_swar_bytes(a[i] ^ b[i]);
        bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
        total += (bytes + (bytes >> 16)) & 0xFFFFu;
        a += m;
        b += m;
        n -= m;
    }
#endif
    return total;
}

/* popcount of n words of w (the padded taps of a filter). */
static inline uint32_t xe_popcount_words(const uint32_t *w, int32_t n)
{
    uint32_t total = 0;
    int32_t i;
    for (i = 0; i < n; i++) total += xe_popcount32(w[i]);
    return total;
}

#endif
