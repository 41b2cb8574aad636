/* runtime/quant/q5_1.c -- Q5_1: 32 elements, fp16 scale and minimum, 5-bit codes q * d + m. */
#include "runtime/quant/quant_impl.h"

#include <float.h>

void tl_q5_1_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        int8_t q[32];
        q5_codes(b[i].qs, b[i].qh, 0, q);
        float d = f16f(b[i].d), m = f16f(b[i].m);
        for (int j = 0; j < 32; j++)
            dst[j] = (float)q[j] * d + m;
    }
}

void tl_q5_1_quantize(const float *x, void *dst, int64_t n) {
    blk_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        float d = (max - min) / 31.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tl_f32_to_f16(d);
        b[i].m = tl_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = (uint8_t)trunc_small((x[j] - min) * id + 0.5f);
            int q1 = (uint8_t)trunc_small((x[j + 16] - min) * id + 0.5f);
            b[i].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void tl_q5_1_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_1 *x = vx;
    const blk_q8_1 *y = vy;
    acc8 acc = {{0}};
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        int8_t q[32];
        q5_codes(x[i].qs, x[i].qh, 0, q);
        int32_t s[8] = {0};
        lanes32(s, q, y[i].qs);
        summs += f16f(x[i].m) * f16f(y[i].s);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc) + summs;
}
