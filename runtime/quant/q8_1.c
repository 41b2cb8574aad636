/* runtime/quant/q8_1.c -- Q8_1: Q8_0 plus s = d * sum(q), the activation type of
** Q4_1 / Q5_1.  Reference and AVX2-backend quantizers as for Q8_0 (q8_0.c). */
#include "runtime/quant/quant_impl.h"

void tl_q8_1_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        float d = f16f(b[i].d);
        for (int j = 0; j < 32; j++)
            dst[j] = (float)b[i].qs[j] * d;
    }
}

void tl_q8_1_quantize(const float *x, void *dst, int64_t n) {
    blk_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float d = amax32(x) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        b[i].d = tl_f32_to_f16(d);
        for (int j = 0; j < QK32; j++) {
            b[i].qs[j] = round_away(x[j] * id);
            sum += b[i].qs[j];
        }
        b[i].s = tl_f32_to_f16((float)sum * d);
    }
}

void tl_q8_1_quantize_act(const float *x, void *dst, int64_t n) {
    blk_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float amax = amax32(x);
        float d = amax / 127.0f;
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        b[i].d = tl_f32_to_f16(d);
        for (int j = 0; j < QK32; j++) {
            b[i].qs[j] = round_even(x[j] * id);
            sum += b[i].qs[j];
        }
        b[i].s = tl_f32_to_f16(d * (float)sum);
    }
}

void tl_q8_1_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q8_1 *x = vx, *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK32; i++) {
        int32_t s[8] = {0};
        lanes32(s, x[i].qs, y[i].qs);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc);
}
