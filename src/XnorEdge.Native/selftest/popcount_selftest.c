/*
 * Self-test of xe_popcount_xor for cross builds (the NEON path of AArch64 and 32-bit ARM under qemu-user,
 * which the host tests cannot load): every length around the block sizes, at four alignments, against a
 * bit-by-bit count. Exit status 0 when all agree. Built and run by tests/XnorEdge.Native.Tests when an
 * aarch64 cross compiler and qemu-aarch64 are installed.
 */
#include <stdio.h>
#include "xnoredge_native.h"

#define WORDS 20000

static uint32_t a[WORDS], b[WORDS];

static uint32_t reference(const uint32_t *x, const uint32_t *y, int32_t n)
{
    uint32_t total = 0;
    int32_t i;
    for (i = 0; i < n; i++)
    {
        uint32_t v = x[i] ^ y[i];
        while (v != 0)
        {
            total += v & 1u;
            v >>= 1;
        }
    }
    return total;
}

int main(void)
{
    static const int32_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 30, 31, 32, 33, 62, 63, 64, 65, 127, 128, 129, 1000,
                                      16379, 16380, 16381, 16384, 19996, 19997};
    uint32_t s = 12345u;
    int32_t i, cases = 0, bad = 0;
    unsigned k;
    for (i = 0; i < WORDS; i++)
    {
        s = s * 1103515245u + 12345u;
        a[i] = s;
        s = s * 1103515245u + 12345u;
        b[i] = (i % 7 == 0) ? ~a[i] : (i % 11 == 0) ? a[i] : s;
    }
    for (k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
    {
        int32_t off;
        for (off = 0; off < 4; off++)
        {
            int32_t n = lengths[k];
            cases++;
            if ((uint32_t)xe_popcount_xor(a + off, b, n) != reference(a + off, b, n))
            {
                printf("mismatch: %d words at offset %d\n", (int)n, (int)off);
                bad++;
            }
        }
    }
    printf("popcount self-test: %d cases, %d mismatches\n", (int)cases, (int)bad);
    return bad != 0;
}
