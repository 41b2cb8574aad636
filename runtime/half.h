/* runtime/half.h -- IEEE binary16 (f16) and bfloat16 conversions, scalar.
**
** Round-to-nearest-even in both f32 -> f16 and f32 -> bf16, as the F16C
** instructions and ggml do; these are the reference every SIMD path is
** tested against (tests/unit/test_half.c checks all 65536 halves). */
#ifndef TL_RUNTIME_HALF_H
#define TL_RUNTIME_HALF_H

#include <stdint.h>
#include <string.h>

typedef uint16_t tl_f16;
typedef uint16_t tl_bf16;

static inline float tl_bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t tl_f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float tl_f16_to_f32(tl_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in f32 */
        float f = (float)mant * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    if (exp == 31) return tl_bits_to_f32(sign | 0x7f800000u | (mant << 13));
    return tl_bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline tl_f16 tl_f32_to_f16(float f) {
    uint32_t x = tl_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf, or NaN (kept quiet) */
        return (tl_f16)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (ax >= 0x477ff000u) return (tl_f16)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {                                 /* below 2^-14: subnormal */
        if (ax < 0x33000000u) return (tl_f16)sign;          /* below 2^-25: zero */
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e; /* in units of 2^-24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (tl_f16)(sign | r);
    }
    uint32_t h = (ax >> 13) - (112u << 10);
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (tl_f16)(sign | h);
}

static inline float tl_bf16_to_f32(tl_bf16 h) {
    return tl_bits_to_f32((uint32_t)h << 16);
}

static inline tl_bf16 tl_f32_to_bf16(float f) {
    uint32_t u = tl_f32_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (tl_bf16)((u >> 16) | 64u); /* quiet NaN */
    return (tl_bf16)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

#endif
