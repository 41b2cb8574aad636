/* runtime/quant/q4_k.c -- Q4_K: 256-element super-blocks of 8 sub-blocks of 32,
** 6-bit (scale, min) pairs under fp16 d/dmin, 4-bit codes: (d*sc)*q - dmin*m. */
#include "runtime/quant/quant_impl.h"

void tl_q4_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q4_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = f16f(b[i].d), dmin = f16f(b[i].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tl_get_scale_min_k4(j, b[i].scales, &sc, &m);
            float d1 = d * (float)sc, m1 = dmin * (float)m;
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            int shift = (j & 1) * 4;
            for (int l = 0; l < 32; l++)
                dst[32 * j + l] = d1 * (float)((q[l] >> shift) & 15) - m1;
        }
    }
}

void tl_q4_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q4_K *b = dst;
    uint8_t L[QK_K], Laux[32];
    float w[32];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        tl_kquant_scales_mins(x, 15, -1.0f, 20, L, Laux, w, b[i].scales, &b[i].d, &b[i].dmin);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

/* The 8 (scale, min) pairs of a Q4_K/Q5_K super-block, unpacked. */
static void scales_mins(const uint8_t s[12], int sc[8], int m[8]) {
    for (int j = 0; j < 8; j++) {
        uint8_t a, b;
        tl_get_scale_min_k4(j, s, &a, &b);
        sc[j] = a;
        m[j] = b;
    }
}

/* ggml's AVX2 order: codes * scales in 8 lanes (fma with d = d_y * d_x per
** super-block); the mins' part m_j * (bsums of sub-block j) in 4 lanes (pairs
** of sub-blocks, fma with -d_y * dmin_x), folded and added at the end. */
void tl_q4_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    acc8 acc = {{0}};
    float accm[4] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        int sc[8], m[8];
        scales_mins(x[i].scales, sc, m);
        int32_t s[8] = {0};
        for (int j = 0; j < 8; j++) {
            int8_t q[32];
            const uint8_t *qs = x[i].qs + 32 * (j / 2);
            int shift = (j & 1) * 4;
            for (int l = 0; l < 32; l++)
                q[l] = (int8_t)((qs[l] >> shift) & 15);
            int32_t t[8] = {0};
            lanes32(t, q, y[i].qs + 32 * j);
            for (int k = 0; k < 8; k++)
                s[k] += sc[j] * t[k];
        }
        float d = y[i].d * f16f(x[i].d);
        float dmin = -y[i].d * f16f(x[i].dmin);
        for (int k = 0; k < 4; k++) {
            int32_t p = 0;
            for (int h = 0; h < 2; h++) {
                int j = 2 * k + h;
                p += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
            }
            accm[k] = fmaf(dmin, (float)p, accm[k]);
        }
        acc8_fma(&acc, d, s);
    }
    *out = acc8_sum(&acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

/* Integer parts of one super-block: s[j] = sc_j * sum(q * y) and
** m[j] = min_j * (bsums of sub-block j), j = 0..7. */
static void q4_K_block_sums(const blk_q4_K *x, const blk_q8_K *y, int32_t s[8], int32_t m[8]) {
    int sc[8], mn[8];
    scales_mins(x->scales, sc, mn);
    for (int j = 0; j < 8; j++) {
        const uint8_t *qs = x->qs + 32 * (j / 2);
        int shift = (j & 1) * 4, t = 0;
        for (int l = 0; l < 32; l++)
            t += ((qs[l] >> shift) & 15) * y->qs[32 * j + l];
        s[j] = sc[j] * t;
        m[j] = mn[j] * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
}

/* llama.cpp's repacked Q4_K GEMV order (default for Q4_K weights with a row
** count divisible by 8, for single tokens and the n % 4 last tokens of a
** batch): per super-block acc = fma((float)sum s, d_x*d_y, acc) and
** accm = fma((float)sum m, dmin_x*d_y, accm); the result is acc - accm. */
void tl_q4_K_dot_rp(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[8], m[8], ss = 0, ms = 0;
        q4_K_block_sums(&x[i], &y[i], s, m);
        for (int j = 0; j < 8; j++)
            ss += s[j], ms += m[j];
        acc = fmaf((float)ss, f16f(x[i].d) * y[i].d, acc);
        accm = fmaf((float)ms, f16f(x[i].dmin) * y[i].d, accm);
    }
    *out = acc - accm;
}

/* Its repacked GEMM order (groups of 4 tokens): the same per pair of
** sub-blocks (64 elements), 4 fmas per super-block for each accumulator. */
void tl_q4_K_dot_rpg(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q4_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[8], m[8];
        q4_K_block_sums(&x[i], &y[i], s, m);
        float d = f16f(x[i].d) * y[i].d, dm = f16f(x[i].dmin) * y[i].d;
        for (int j = 0; j < 8; j += 2)
            acc = fmaf((float)(s[j] + s[j + 1]), d, acc);
        for (int j = 0; j < 8; j += 2)
            accm = fmaf((float)(m[j] + m[j + 1]), dm, accm);
    }
    *out = acc - accm;
}
