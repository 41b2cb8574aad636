/* runtime/quant/q5_0.c -- Q5_0: 32 elements, fp16 scale, 5-bit codes (q - 16) * d. */
#include "runtime/quant/quant_impl.h"

void tl_q5_0_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        int8_t q[32];
        q5_codes(b[i].qs, b[i].qh, 16, q);
        float d = f16f(b[i].d);
        for (int j = 0; j < 32; j++)
            dst[j] = (float)q[j] * d;
    }
}

void tl_q5_0_quantize(const float *x, void *dst, int64_t n) {
    blk_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK32; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        float d = max / -16.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tl_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = imin(31, trunc_small(x[j] * id + 16.5f));
            int q1 = imin(31, trunc_small(x[j + 16] * id + 16.5f));
            b[i].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        memcpy(b[i].qh, &qh, 4);
    }
}

void tl_q5_0_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_0 *x = vx;
    const blk_q8_0 *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK32; i++) {
        int8_t q[32];
        q5_codes(x[i].qs, x[i].qh, 16, q);
        int32_t s[8] = {0};
        lanes32(s, q, y[i].qs);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc);
}
