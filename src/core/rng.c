#include "core.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 u128;

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void recnn__rng_seed(recnn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

void recnn__rng_stream(recnn_rng *r, uint64_t seed, uint64_t k)
{
    recnn__rng_seed(r, seed);
    /* k jumps of 2^128 each: streams cannot overlap for 2^128 draws. */
    for (uint64_t i = 0; i < k; i++)
        recnn__rng_jump(r);
}

uint64_t recnn__rng_u64(recnn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void recnn__rng_jump(recnn_rng *r)
{
    static const uint64_t J[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                 0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if (J[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            recnn__rng_u64(r);
        }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

uint64_t recnn__rng_below(recnn_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection: exact uniformity. */
    uint64_t x = recnn__rng_u64(r);
    u128 m = (u128)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = recnn__rng_u64(r);
            m = (u128)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double recnn__rng_uniform(recnn_rng *r)
{
    return (double)(recnn__rng_u64(r) >> 11) * 0x1.0p-53;
}

float recnn__rng_uniformf(recnn_rng *r)
{
    return (float)(recnn__rng_u64(r) >> 40) * 0x1.0p-24f;
}

double recnn__rng_normal(recnn_rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * recnn__rng_uniform(r) - 1.0;
        v = 2.0 * recnn__rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

void recnn__rng_shuffle(recnn_rng *r, void *base, size_t n, size_t size)
{
    unsigned char tmp[256];
    unsigned char *a = base;
    if (n < 2 || size > sizeof tmp)
        return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)recnn__rng_below(r, i + 1);
        if (j != i) {
            memcpy(tmp, a + i * size, size);
            memcpy(a + i * size, a + j * size, size);
            memcpy(a + j * size, tmp, size);
        }
    }
}

void recnn__rng_shuffle_i32(recnn_rng *r, int32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)recnn__rng_below(r, i);
        int32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
