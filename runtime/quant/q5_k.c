/* runtime/quant/q5_k.c -- Q5_K: Q4_K's scales with 5-bit codes (4 low bits in
** qs, the 5th in qh): (d*sc)*q - dmin*m. */
#include "runtime/quant/quant_impl.h"

static void codes(const blk_q5_K *b, int j, int8_t q[32]) {
    const uint8_t *qs = b->qs + 32 * (j / 2);
    int shift = (j & 1) * 4;
    for (int l = 0; l < 32; l++)
        q[l] = (int8_t)(((qs[l] >> shift) & 15) | (((b->qh[l] >> j) & 1) << 4));
}

void tl_q5_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q5_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = f16f(b[i].d), dmin = f16f(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tl_get_scale_min_k4(j, b[i].scales, &sc, &m);
            float d1 = d * (float)sc, m1 = dmin * (float)m;
            int8_t q[32];
            codes(&b[i], j, q);
            for (int l = 0; l < 32; l++)
                dst[32 * j + l] = d1 * (float)q[l] - m1;
        }
    }
}

void tl_q5_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q5_K *b = dst;
    uint8_t L[QK_K], Laux[32];
    float w[32];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        tl_kquant_scales_mins(x, 31, -0.5f, 15, L, Laux, w, b[i].scales, &b[i].d, &b[i].dmin);
        memset(b[i].qh, 0, 32);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                if (l1 > 15) {
                    l1 -= 16;
                    b[i].qh[l] |= (uint8_t)(1u << (2 * c));
                }
                if (l2 > 15) {
                    l2 -= 16;
                    b[i].qh[l] |= (uint8_t)(1u << (2 * c + 1));
                }
                b[i].qs[32 * c + l] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

/* Codes * scales in 8 lanes as Q4_K; the mins' integer sum per super-block is
** added to a scalar float as ggml's AVX2 kernel does: its summs += dmin * sum is one
** fused multiply-add in llama.cpp's build (its compiler contracts it; the rows of 8
** super-blocks in tests/data/quant/long show it). */
void tl_q5_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q5_K *x = vx;
    const blk_q8_K *y = vy;
    acc8 acc = {{0}};
    float summs = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[8] = {0}, msum = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tl_get_scale_min_k4(j, x[i].scales, &sc, &m);
            int8_t q[32];
            codes(&x[i], j, q);
            int32_t t[8] = {0};
            lanes32(t, q, y[i].qs + 32 * j);
            for (int k = 0; k < 8; k++)
                s[k] += sc * t[k];
            msum += m * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        float d = y[i].d * f16f(x[i].d);
        float dmin = -y[i].d * f16f(x[i].dmin);
        summs = fmaf(dmin, (float)msum, summs);
        acc8_fma(&acc, d, s);
    }
    *out = acc8_sum(&acc) + summs;
}
