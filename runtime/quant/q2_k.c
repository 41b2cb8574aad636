/* runtime/quant/q2_k.c -- Q2_K: 256-element super-blocks of 16 sub-blocks of
** 16, 4-bit (scale, min) pairs under fp16 d/dmin, 2-bit codes:
** (d*sc)*q - dmin*m. */
#include "runtime/quant/quant_impl.h"

static void codes(const blk_q2_K *b, uint8_t q[QK_K]) {
    for (int e = 0; e < QK_K; e++) {
        int h = e / 128, r = e % 128, l = e % 32;
        q[e] = (uint8_t)((b->qs[32 * h + l] >> (2 * (r / 32))) & 3);
    }
}

void tl_q2_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q2_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        uint8_t q[QK_K];
        codes(&b[i], q);
        float d = f16f(b[i].d), dmin = f16f(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            uint8_t sc = b[i].scales[e / 16];
            dst[e] = (d * (float)(sc & 15)) * (float)q[e] - dmin * (float)(sc >> 4);
        }
    }
}

void tl_q2_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q2_K *b = dst;
    uint8_t L[QK_K], Laux[16];
    float w[16], mins[16], scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++)
                w[l] = fabsf(x[16 * j + l]);
            scales[j] = tl_make_qkx2_quants(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f,
                                            0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0.0f) {
            float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++)
                b[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            b[i].d = tl_f32_to_f16(max_scale / 15.0f);
        } else {
            memset(b[i].scales, 0, 16);
            b[i].d = 0;
        }
        if (max_min > 0.0f) {
            float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++)
                b[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            b[i].dmin = tl_f32_to_f16(max_min / 15.0f);
        } else {
            b[i].dmin = 0;
        }
        for (int j = 0; j < 16; j++) {
            float d = f16f(b[i].d) * (float)(b[i].scales[j] & 15);
            if (d == 0.0f) continue;
            float dm = f16f(b[i].dmin) * (float)(b[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++) {
                int q = nearest_int((x[16 * j + l] + dm) / d);
                L[16 * j + l] = (uint8_t)imax(0, imin(3, q));
            }
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *Lh = L + 128 * h;
                b[i].qs[32 * h + l] =
                    (uint8_t)(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
            }
    }
}

/* ggml's AVX2 order: per super-block first the mins (lane k gets sub-blocks
** 2k and 2k+1: m * bsum, fma with -d_y * dmin_x), then the codes (fma with
** d_y * d_x), all in the same 8 lanes. */
void tl_q2_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        codes(&x[i], q);
        int32_t s[8] = {0}, ms[8];
        for (int e = 0; e < QK_K; e++)
            s[(e & 31) >> 2] += (x[i].scales[e / 16] & 15) * q[e] * y[i].qs[e];
        for (int k = 0; k < 8; k++)
            ms[k] = (x[i].scales[2 * k] >> 4) * y[i].bsums[2 * k] +
                    (x[i].scales[2 * k + 1] >> 4) * y[i].bsums[2 * k + 1];
        acc8_fma(&acc, -y[i].d * f16f(x[i].dmin), ms);
        acc8_fma(&acc, y[i].d * f16f(x[i].d), s);
    }
    *out = acc8_sum(&acc);
}

/* Integer parts of one super-block per 128-element half h: s[h] = sum of
** (sc & 15) * q * y and m[h] = sum of (sc >> 4) * bsum over its 8 sub-blocks. */
static void q2_K_half_sums(const blk_q2_K *x, const blk_q8_K *y, int32_t s[2], int32_t m[2]) {
    uint8_t q[QK_K];
    codes(x, q);
    s[0] = s[1] = m[0] = m[1] = 0;
    for (int e = 0; e < QK_K; e++)
        s[e / 128] += (x->scales[e / 16] & 15) * q[e] * y->qs[e];
    for (int j = 0; j < 16; j++)
        m[j / 8] += (x->scales[j] >> 4) * y->bsums[j];
}

/* llama.cpp's repacked Q2_K GEMV order (default for Q2_K weights with a row
** count divisible by 8; single tokens and the n % 4 last tokens of a batch):
** per super-block acc = fma((float)codes, d_x*d_y, acc), accm likewise with
** the mins and dmin_x*d_y; result acc - accm. */
void tl_q2_K_dot_rp(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[2], m[2];
        q2_K_half_sums(&x[i], &y[i], s, m);
        acc = fmaf((float)(s[0] + s[1]), f16f(x[i].d) * y[i].d, acc);
        accm = fmaf((float)(m[0] + m[1]), f16f(x[i].dmin) * y[i].d, accm);
    }
    *out = acc - accm;
}

/* Its repacked GEMM order (groups of 4 tokens): the same per 128-element half. */
void tl_q2_K_dot_rpg(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q2_K *x = vx;
    const blk_q8_K *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t s[2], m[2];
        q2_K_half_sums(&x[i], &y[i], s, m);
        float d = f16f(x[i].d) * y[i].d, dm = f16f(x[i].dmin) * y[i].d;
        acc = fmaf((float)s[0], d, acc);
        acc = fmaf((float)s[1], d, acc);
        accm = fmaf((float)m[0], dm, accm);
        accm = fmaf((float)m[1], dm, accm);
    }
    *out = acc - accm;
}
