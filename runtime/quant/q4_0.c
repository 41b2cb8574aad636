/* runtime/quant/q4_0.c -- Q4_0: 32 elements, fp16 scale, 4-bit codes (q - 8) * d. */
#include "runtime/quant/quant_impl.h"

void tl_q4_0_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        float d = f16f(b[i].d);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((b[i].qs[j] & 15) - 8) * d;
            dst[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

/* The "-8 max trick": d = max / -8 puts the extreme value exactly on code 0. */
void tl_q4_0_quantize(const float *x, void *dst, int64_t n) {
    blk_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK32; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        float d = max / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tl_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int q0 = imin(15, trunc_small(x[j] * id + 8.5f));
            int q1 = imin(15, trunc_small(x[j + 16] * id + 8.5f));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tl_q4_0_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_0 *x = vx;
    const blk_q8_0 *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK32; i++) {
        int8_t q[32];
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)((x[i].qs[j] & 15) - 8);
            q[j + 16] = (int8_t)((x[i].qs[j] >> 4) - 8);
        }
        int32_t s[8] = {0};
        lanes32(s, q, y[i].qs);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc);
}

/* The order of llama.cpp's repacked Q4_0 GEMV/GEMM (its default on AVX2 for
** weights whose row count is a multiple of 8): the whole block's integer sum,
** then acc = fma(d_x * d_y, (float)sum, acc) block after block, no lanes. */
void tl_q4_0_dot_rp(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_0 *x = vx;
    const blk_q8_0 *y = vy;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        int32_t s = 0;
        for (int j = 0; j < 16; j++)
            s += ((x[i].qs[j] & 15) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
        acc = fmaf(f16f(x[i].d) * f16f(y[i].d), (float)s, acc);
    }
    *out = acc;
}
