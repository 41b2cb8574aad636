/* runtime/quant/q4_1.c -- Q4_1: 32 elements, fp16 scale and minimum, q * d + m. */
#include "runtime/quant/quant_impl.h"

#include <float.h>

void tl_q4_1_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        float d = f16f(b[i].d), m = f16f(b[i].m);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[i].qs[j] & 15) * d + m;
            dst[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void tl_q4_1_quantize(const float *x, void *dst, int64_t n) {
    blk_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        float d = (max - min) / 15.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tl_f32_to_f16(d);
        b[i].m = tl_f32_to_f16(min);
        for (int j = 0; j < 16; j++) {
            int q0 = imin(15, trunc_small((x[j] - min) * id + 0.5f));
            int q1 = imin(15, trunc_small((x[j + 16] - min) * id + 0.5f));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* x . y with y in Q8_1: the codes' dot in 8 lanes as ggml's AVX2 kernel, plus
** m * s (s = d_y * sum(q_y)) summed block by block in a separate float. */
void tl_q4_1_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_1 *x = vx;
    const blk_q8_1 *y = vy;
    acc8 acc = {{0}};
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        int8_t q[32];
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)(x[i].qs[j] & 15);
            q[j + 16] = (int8_t)(x[i].qs[j] >> 4);
        }
        int32_t s[8] = {0};
        lanes32(s, q, y[i].qs);
        summs += f16f(x[i].m) * f16f(y[i].s);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc) + summs;
}
