/* runtime/quant/q3_k.c -- Q3_K: 256-element super-blocks of 16 sub-blocks of
** 16, signed 6-bit scales under an fp16 d, 3-bit codes (2 bits in qs, the
** third in hmask, stored inverted): (d*sc)*q with q in -4..3. */
#include "runtime/quant/quant_impl.h"

static void scales16(const uint8_t s[12], int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | (hi << 4)) - 32;
    }
}

static void codes(const blk_q3_K *b, int8_t q[QK_K]) {
    for (int e = 0; e < QK_K; e++) {
        int h = e / 128, r = e % 128, l = e % 32;
        int v = (b->qs[32 * h + l] >> (2 * (r / 32))) & 3;
        q[e] = (int8_t)(v - ((b->hmask[l] >> (e / 32)) & 1 ? 0 : 4));
    }
}

void tl_q3_K_to_f32(const void *src, float *dst, int64_t n) {
    const blk_q3_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        int sc[16];
        int8_t q[QK_K];
        scales16(b[i].scales, sc);
        codes(&b[i], q);
        float d = f16f(b[i].d);
        for (int e = 0; e < QK_K; e++)
            dst[e] = (d * (float)sc[e / 16]) * (float)q[e];
    }
}

void tl_q3_K_quantize(const float *x, void *dst, int64_t n) {
    blk_q3_K *b = dst;
    int8_t L[QK_K];
    float scales[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = tl_make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            float a = fabsf(scales[j]);
            if (a > amax) {
                amax = a;
                max_scale = scales[j];
            }
        }
        memset(b[i].scales, 0, 12);
        if (max_scale != 0.0f) {
            float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = (int8_t)nearest_int(iscale * scales[j]);
                l = imax(-32, imin(31, l)) + 32;
                if (j < 8)
                    b[i].scales[j] = (uint8_t)(l & 15);
                else
                    b[i].scales[j - 8] |= (uint8_t)((l & 15) << 4);
                b[i].scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = tl_f32_to_f16(1.0f / iscale);
        } else {
            b[i].d = 0;
        }
        int sc[16];
        scales16(b[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            float d = f16f(b[i].d) * (float)sc[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++) {
                int q = nearest_int(x[16 * j + l] / d);
                L[16 * j + l] = (int8_t)(imax(-4, imin(3, q)) + 4);
            }
        }
        memset(b[i].hmask, 0, 32);
        for (int e = 0; e < QK_K; e++) {
            if (L[e] > 3) {
                b[i].hmask[e % 32] |= (uint8_t)(1u << (e / 32));
                L[e] -= 4;
            }
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const int8_t *Lh = L + 128 * h;
                b[i].qs[32 * h + l] =
                    (uint8_t)(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
            }
    }
}

void tl_q3_K_dot(int64_t n, float *out, const void *vx, const void *vy) {
    const blk_q3_K *x = vx;
    const blk_q8_K *y = vy;
    acc8 acc = {{0}};
    for (int64_t i = 0; i < n / QK_K; i++) {
        int sc[16];
        int8_t q[QK_K];
        scales16(x[i].scales, sc);
        codes(&x[i], q);
        int32_t s[8] = {0};
        for (int e = 0; e < QK_K; e++)
            s[(e & 31) >> 2] += sc[e / 16] * q[e] * y[i].qs[e];
        acc8_fma(&acc, y[i].d * f16f(x[i].d), s);
    }
    *out = acc8_sum(&acc);
}
