/* runtime/ops/ggml_math.c -- see ggml_math.h: the portable versions (one lane
** at a time, every fused multiply-add an fmaf) and the choice of the AVX2 ones. */
#include "runtime/ops/ggml_math.h"

#include "runtime/cpu.h"
#include "runtime/quant.h"

#include <math.h>
#include <string.h>

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float ops_ggml_expf(float x) {
    const float r = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, r);
    float n = z - r;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    uint32_t e = fbits(z) << 23;
    float k = bitsf(e + fbits(1.0f));
    float u = b * b;
    float j = fmaf(
        fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
        u, 0x1.ffffecp-1f * b);
    if (!(fabsf(n) > 126.0f)) return fmaf(j, k, k); /* NaN too, as the vector compare */
    uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    float s1 = bitsf(g + 0x7f000000u), s2 = bitsf(e - g);
    if (fabsf(n) > 192.0f) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

static float ggml_silu1(float x) {
    return x / (1.0f + ops_ggml_expf(0.0f - x));
}

void ops_ggml_silu_row(const float *x, float *y, int64_t n) {
    int64_t n8 = n / 8 * 8;
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2()) {
        tl_ggml_silu8_avx2(x, y, n8);
    } else
#endif
    {
        for (int64_t i = 0; i < n8; i++)
            y[i] = ggml_silu1(x[i]);
    }
    for (int64_t i = n8; i < n; i++) /* the tail: the C library's expf */
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

void ops_ggml_swiglu_row(const float *x, const float *g, float *y, int64_t n) {
    int64_t n8 = n / 8 * 8;
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2()) {
        tl_ggml_swiglu8_avx2(x, g, y, n8);
    } else
#endif
    {
        for (int64_t i = 0; i < n8; i++)
            y[i] = ggml_silu1(x[i]) * g[i];
    }
    for (int64_t i = n8; i < n; i++)
        y[i] = (x[i] / (1.0f + expf(-x[i]))) * g[i];
}

double ops_ggml_softmax_exp_strided(float *p, int64_t n, int64_t stride, float mx) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i += 8) {
        float v[8] = {0};
        for (int l = 0; l < 8 && i + l < n; l++)
            v[l] = p[(i + l) * stride] = ops_ggml_expf(p[(i + l) * stride] - mx);
        float a0 = v[4] + v[0], a1 = v[5] + v[1], a2 = v[6] + v[2], a3 = v[7] + v[3];
        sum += (double)((a0 + a2) + (a1 + a3));
    }
    return sum;
}

double ops_ggml_softmax_exp(float *p, int64_t n, float mx) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2()) return tl_ggml_softmax_exp_avx2(p, n, mx);
#endif
    return ops_ggml_softmax_exp_strided(p, n, 1, mx);
}

void ops_ggml_rope_row(const float *in, float *x, const float *cs, int64_t D, int neox) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2()) {
        tl_ggml_rope_row_avx2(in, x, cs, D, neox);
        return;
    }
#endif
    int64_t half = D / 2;
    for (int64_t i = 0; i < half; i++) {
        int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const float c = cs[2 * i], s = cs[2 * i + 1], x0 = in[a], x1 = in[b];
        x[a] = fmaf(x0, c, -(x1 * s));
        x[b] = fmaf(x0, s, x1 * c);
    }
}

float ops_ggml_dot_f32(const float *x, const float *y, int64_t n) {
    float out; /* the quant module's F32 one-row dot is this order (runtime/quant/f32.c) */
    tl_quant_vec_dot_order(TL_DTYPE_F32, TL_DOT_ORDER_ROW)(n, &out, x, y);
    return out;
}

void ops_ggml_scores(const float *q, const float *k, int64_t kstride, int64_t n, int64_t D,
                     float scale, float *out) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2() && D % 32 == 0 && D > 0) { /* 8 keys per reduction */
        tl_ggml_scores8_avx2(q, k, kstride, n, D, scale, out);
        return;
    }
#endif
    for (int64_t t = 0; t < n; t++)
        out[t] = ops_ggml_dot_f32(q, k + t * kstride, D) * scale;
}

void ops_ggml_pv(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D, float *o) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2() && D % 8 == 0) {
        tl_ggml_pv_avx2(p, v, vstride, n, D, o);
        return;
    }
#endif
    for (int64_t d = 0; d < D; d++) {
        float a[8] = {0};
        for (int64_t t = 0; t < n; t++)
            a[t % 8] = fmaf(v[t * vstride + d], p[t], a[t % 8]);
        o[d] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    }
}

void ops_ggml_pv_rows_t(const float *p, int64_t ps, int64_t R, const float *vt, int64_t vs,
                        int64_t n, int64_t D, float *o, int64_t os) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2()) {
        tl_ggml_pv_rows_t_avx2(p, ps, R, vt, vs, n, D, o, os);
        return;
    }
#endif
    for (int64_t r = 0; r < R; r++)
        for (int64_t d = 0; d < D; d++) {
            float a[8] = {0};
            for (int64_t t = 0; t < n; t++)
                a[t % 8] = fmaf(vt[d * vs + t], p[r * ps + t], a[t % 8]);
            o[r * os + d] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
        }
}

int64_t ops_ggml_pv_dot_heads_work(int64_t G, int64_t n, int64_t D) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2() && D % 8 == 0) { /* either kernel's, for any n' <= n */
        int64_t m = (n + 31) / 32, s = 32 * (m * D + 16), l = G * 32 * D + m * 32 * D;
        return s > l ? s : l;
    }
#endif
    (void)G, (void)n, (void)D;
    return 0;
}

void ops_ggml_pv_dot_heads(const float *p, int64_t pstride, int64_t G, const float *v,
                           int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                           float *work) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2() && D % 8 == 0) {
        tl_ggml_pv_dot_heads_avx2(p, pstride, G, v, vstride, n, D, o, ostride, work);
        return;
    }
#endif
    (void)work;
    for (int64_t g = 0; g < G; g++)
        ops_ggml_pv_dot(p + g * pstride, v, vstride, n, D, o + g * ostride);
}

void ops_ggml_pv_dot(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                     float *o) {
#ifdef TL_X86_KERNELS
    if (tl_cpu_use_avx2() && D % 8 == 0) {
        tl_ggml_pv_dot_avx2(p, v, vstride, n, D, o);
        return;
    }
#endif
    for (int64_t d = 0; d < D; d++) {
        float a[4][8] = {{0}};
        for (int64_t t = 0; t < n; t++)
            a[(t % 32) / 8][t % 8] = fmaf(v[t * vstride + d], p[t], a[(t % 32) / 8][t % 8]);
        float l[8];
        for (int k = 0; k < 8; k++)
            l[k] = (a[0][k] + a[2][k]) + (a[1][k] + a[3][k]);
        o[d] = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
}
