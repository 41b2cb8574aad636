/* runtime/quant/q8_0.c -- Q8_0: 32 elements, fp16 scale, int8 codes q * d.
**
** Two quantizers: tl_q8_0_quantize is llama.cpp's reference (what
** llama-quantize writes into a Q8_0 file: id = 1/d, roundf = half away from
** zero); tl_q8_0_quantize_act is what its AVX2 CPU backend does to activation
** rows before a Q4_0/Q5_0/Q8_0 dot (id = 127/amax, round half to even).  The
** two differ on ties and, rarely, by one ulp in id. */
#include "runtime/quant/quant_impl.h"

void tl_q8_0_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK32; i++, dst += QK32) {
        float d = f16f(b[i].d);
        for (int j = 0; j < 32; j++)
            dst[j] = (float)b[i].qs[j] * d;
    }
}

void tl_q8_0_quantize(const float *x, void *dst, int64_t n) {
    blk_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float d = amax32(x) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = tl_f32_to_f16(d);
        for (int j = 0; j < QK32; j++)
            b[i].qs[j] = round_away(x[j] * id);
    }
}

void tl_q8_0_quantize_act(const float *x, void *dst, int64_t n) {
    blk_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK32; i++, x += QK32) {
        float amax = amax32(x);
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        b[i].d = tl_f32_to_f16(amax / 127.0f);
        for (int j = 0; j < QK32; j++)
            b[i].qs[j] = round_even(x[j] * id);
    }
}

void tl_q8_0_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q8_0 *x = vx, *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK32; i++) {
        int32_t s[8] = {0};
        lanes32(s, x[i].qs, y[i].qs);
        acc8_fma(&acc, f16f(x[i].d) * f16f(y[i].d), s);
    }
    *out = acc8_sum(&acc);
}
