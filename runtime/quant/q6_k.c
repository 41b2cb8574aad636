/* runtime/quant/q6_k.c -- Q6_K: 256-element super-blocks of 16 sub-blocks of
** 16, int8 scales under an fp16 d, 6-bit codes: (d*sc)*(q - 32). */
#include "runtime/quant/quant_impl.h"

/* The 256 signed codes (q - 32) of a block, in element order. */
static void codes(const blk_q6_K *b, int8_t q[QK_K]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        int8_t *o = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            o[l] = (int8_t)(((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32);
            o[l + 32] = (int8_t)(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
            o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}

void tl_q6_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q6_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        int8_t q[QK_K];
        codes(&b[i], q);
        float d = f16f(b[i].d);
        for (int e = 0; e < QK_K; e++)
            dst[e] = d * (float)b[i].scales[e / 16] * (float)q[e];
    }
}

void tl_q6_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q6_K *b = dst;
    int8_t L[QK_K];
    float scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0.0f, max_abs_scale = 0.0f;
        for (int s = 0; s < 16; s++) {
            scales[s] = tl_make_qx_quants(16, 32, x + 16 * s, L + 16 * s);
            float a = fabsf(scales[s]);
            if (a > max_abs_scale) {
                max_abs_scale = a;
                max_scale = scales[s];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float iscale = -128.0f / max_scale;
        b[i].d = tl_f32_to_f16(1.0f / iscale);
        for (int s = 0; s < 16; s++)
            b[i].scales[s] = (int8_t)imin(127, nearest_int(iscale * scales[s]));
        for (int s = 0; s < 16; s++) {
            float d = f16f(b[i].d) * (float)b[i].scales[s];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++) {
                int q = nearest_int(x[16 * s + l] / d);
                L[16 * s + l] = (int8_t)(imax(-32, imin(31, q)) + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            const int8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                b[i].ql[64 * h + l] = (uint8_t)((Lh[l] & 15) | ((Lh[l + 64] & 15) << 4));
                b[i].ql[64 * h + 32 + l] = (uint8_t)((Lh[l + 32] & 15) | ((Lh[l + 96] & 15) << 4));
                b[i].qh[32 * h + l] =
                    (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                              ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

/* ggml's AVX2 lanes: lane k sums sc * (q + 32) * y over the elements with
** (e % 32) / 4 == k, then subtracts the offset 32 * (sc * bsum) of
** sub-blocks 2k and 2k+1.  The total is the same integer, but the split over
** lanes is not, and it decides the float rounding (checked against ggml). */
void tl_q6_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q6_K *x = vx;
    const blk_q8_K *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        codes(&x[i], q);
        int32_t s[8] = {0};
        for (int e = 0; e < QK_K; e++)
            s[(e & 31) >> 2] += (int32_t)x[i].scales[e / 16] * (q[e] + 32) * y[i].qs[e];
        for (int k = 0; k < 8; k++)
            s[k] -= 32 * (x[i].scales[2 * k] * y[i].bsums[2 * k] +
                          x[i].scales[2 * k + 1] * y[i].bsums[2 * k + 1]);
        acc8_fma(&acc, y[i].d * f16f(x[i].d), s);
    }
    *out = acc8_sum(&acc);
}
