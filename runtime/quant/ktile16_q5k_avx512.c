/* runtime/quant/ktile16_q5k_avx512.c -- the 16-rows-in-lanes GEMM tile of
** Q5_K in ggml's one-row order (see ktile.h, ktile_avx512.h).
**
** ggml's lane k of a row holds, per super-block, the exact integer
**   s_k = sum over the sub-blocks j of sc_j * sum over the 4 elements
**         e = 32 j + 4 k .. 32 j + 4 k + 3 of q_e y_e
** (q_e the unsigned 5-bit code), acc_k = fma(d_x d_y, (float)s_k, acc_k); the
** mins' integer sum msum = sum over j of min_j (bsum_2j + bsum_2j+1) goes into
** a separate float, summs += (-d_y dmin_x) * (float)msum, added after the fold.
** As for Q6_K (ktile16_q6k_avx512.c) the weights are kept as int16 sc * q (at
** most 63 * 31), two per dword lane, for vpdpwssd against int16 activation
** pairs; they are unpacked from the raw bytes transposed as dwords (three
** 16 x 16 transposes per super-block give each row's d, dmin, scales, qh and
** qs in lanes), the 5-bit codes assembled in place and multiplied by the scale
** with vpmaddubsw: (q_e0 sc, q_e2 sc), (q_e1 sc, q_e3 sc) per 4-element group,
** the activations paired to match. */
#include "runtime/quant/ktile.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile_avx512.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* One super-block of a 16-row group.  w[2 (e / 4)], lane r: (sc q_e0,
** sc q_e2) of the 4-element group e0..e3 = e..e+3 of row r, w[2 (e / 4) + 1]:
** (sc q_e1, sc q_e3); mn[p], lane r: (min_2p, min_2p+1) as int16; dx, dmx the
** rows' d and dmin. */
typedef struct zq5k {
    __m512i w[128];
    __m512i mn[4];
    __m512 dx, dmx;
} zq5k;

/* One Q8_K super-block of one token paired as the weights: yp[2i] =
** (y_4i, y_4i+2), yp[2i + 1] = (y_4i+1, y_4i+3) as int16; mp[p] the bsum sums
** of sub-blocks 2p and 2p + 1 as an int16 pair; d. */
typedef struct kact5 {
    int32_t yp[128];
    int32_t mp[4];
    float d;
    int32_t pad[11];
} kact5;
_Static_assert(sizeof(kact5) % 64 == 0, "kact5 keeps 64-byte alignment");
#define KACT5_INTS ((int)(sizeof(kact5) / sizeof(int32_t)))

static kact5 *pack_acts_q5k(const void *act, size_t act_stride, int64_t nsb, int64_t n_tok) {
    kact5 *pack = tile_alloc64((size_t)(nsb * n_tok) * sizeof(kact5));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++) {
        const char *row = (const char *)act + (size_t)k * act_stride;
        for (int64_t b = 0; b < nsb; b++) {
            const blk_q8_K *y = (const blk_q8_K *)(row + (size_t)b * sizeof(blk_q8_K));
            kact5 *p = &pack[b * n_tok + k];
            for (int i = 0; i < 64; i++) {
                const int8_t *q = y->qs + 4 * i;
                p->yp[2 * i] = (int32_t)((uint32_t)(uint16_t)(int16_t)q[0] |
                                         ((uint32_t)(uint16_t)(int16_t)q[2] << 16));
                p->yp[2 * i + 1] = (int32_t)((uint32_t)(uint16_t)(int16_t)q[1] |
                                             ((uint32_t)(uint16_t)(int16_t)q[3] << 16));
            }
            int16_t bs[16];
            memcpy(bs, y->bsums, sizeof bs);
            for (int q = 0; q < 4; q++) {
                int32_t a = bs[4 * q] + bs[4 * q + 1];
                int32_t c = bs[4 * q + 2] + bs[4 * q + 3];
                p->mp[q] = (int32_t)(((uint32_t)a & 0xffffu) | ((uint32_t)c << 16));
            }
            memcpy(&p->d, &y->d, sizeof p->d);
        }
    }
    return pack;
}

/* The 16 rows' 6-bit scales and mins from the dwords of scales[0..11] (q0, q1,
** q2: lane r, row r's), tl_get_scale_min_k4's rule in lanes. */
static inline void scales_q5k(__m512i q0, __m512i q1, __m512i q2, __m512i sc[8], __m512i mn[8]) {
    const __m512i m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15);
    const __m512i m3 = _mm512_set1_epi32(3);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512i a = _mm512_srli_epi32(q0, 8 * i), b = _mm512_srli_epi32(q1, 8 * i);
        __m512i c = _mm512_srli_epi32(q2, 8 * i);
        sc[i] = _mm512_and_si512(a, m63);
        mn[i] = _mm512_and_si512(b, m63);
        sc[i + 4] =
            _mm512_or_si512(_mm512_and_si512(c, m15),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 6), m3), 4));
        mn[i + 4] =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), m15),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 6), m3), 4));
    }
}

static void pack_group_q5k(int64_t nsb, const char *g, size_t rs, zq5k *pw) {
    const __m512i m4 = _mm512_set1_epi8(15), b4 = _mm512_set1_epi8(0x10);
    for (int64_t b = 0; b < nsb; b++) {
        const char *blk = g + (size_t)b * sizeof(blk_q5_K);
        zq5k *z = pw + b;
        if (b + 1 < nsb) /* the next super-block of the 16 rows, into L1 */
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 192; l += 64)
                    _mm_prefetch(blk + sizeof(blk_q5_K) + (size_t)r * rs + l, _MM_HINT_T0);
        /* h[0]: d | dmin; h[1..3]: scales; h[4..11]: qh; qs dword m: qs[m] */
        __m512i h[16], qs[32];
        load_transposed16(blk, rs, h);
        load_transposed16(blk + 48, rs, qs);
        load_transposed16(blk + 112, rs, qs + 16);
        z->dx = _mm512_cvtph_ps(
            _mm512_cvtepi32_epi16(_mm512_and_si512(h[0], _mm512_set1_epi32(0xffff))));
        z->dmx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h[0], 16)));
        __m512i sc[8], mn[8];
        scales_q5k(h[1], h[2], h[3], sc, mn);
#pragma GCC unroll 4
        for (int p = 0; p < 4; p++)
            z->mn[p] = _mm512_or_si512(mn[2 * p], _mm512_slli_epi32(mn[2 * p + 1], 16));
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            /* bytes (sc, 0, sc, 0) and (0, sc, 0, sc) of every lane */
            __m512i se = _mm512_or_si512(sc[j], _mm512_slli_epi32(sc[j], 16));
            __m512i so = _mm512_slli_epi32(se, 8);
            int c = j / 2, hi = j % 2;
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i q = qs[8 * c + k];
                if (hi) q = _mm512_srli_epi32(q, 4);
                __m512i t = h[4 + k]; /* bit j of each qh byte to bit 4 */
                t = j <= 4 ? _mm512_slli_epi32(t, 4 - j) : _mm512_srli_epi32(t, j - 4);
                /* (q & 15) | (t & 16) */
                __m512i code = _mm512_ternarylogic_epi32(q, _mm512_and_si512(t, b4), m4, 0xec);
                z->w[16 * j + 2 * k] = _mm512_maddubs_epi16(code, se);
                z->w[16 * j + 2 * k + 1] = _mm512_maddubs_epi16(code, so);
            }
        }
    }
}

/* 16 rows x 8 tokens of Q5_K: each weight vector loaded once for 8 tokens;
** one lane at a time, one integer chain per token; the float lanes in memory. */
static void q5k_16x8(int64_t nsb, const zq5k *pw, const kact5 *pa, int64_t n_tok, int64_t k,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[8][8], summs[8]; /* [lane][token], [token] */
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero)); /* stores of a register, not a memset */
    for (int t = 0; t < 8; t++) {
        summs[t] = zero;
        for (int l = 0; l < 8; l++)
            acc[l][t] = zero;
    }
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 176; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 176 + l, _MM_HINT_T0);
        const zq5k *W = pw + b;
        const kact5 *A = pa + b * n_tok + k;
        __m512 d[8];
        for (int t = 0; t < 8; t++)
            d[t] = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[t].d));
        for (int l = 0; l < 8; l++) {
            const __m512i *wl = W->w + 2 * l;
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
            __m512i s4 = s0, s5 = s0, s6 = s0, s7 = s0;
#pragma GCC unroll 8
            for (int g = 0; g < 128; g += 16) {
                __m512i w0 = wl[g], w1 = wl[g + 1];
                const int32_t *y = A[0].yp + 2 * l + g;
#define Q5_T8(w, j)                                                                                \
    DOTW_BCAST(s0, w, y[j]);                                                                       \
    DOTW_BCAST(s1, w, y[j + 1 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s2, w, y[j + 2 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s3, w, y[j + 3 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s4, w, y[j + 4 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s5, w, y[j + 5 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s6, w, y[j + 6 * KACT5_INTS]);                                                      \
    DOTW_BCAST(s7, w, y[j + 7 * KACT5_INTS])
                Q5_T8(w0, 0);
                Q5_T8(w1, 1);
#undef Q5_T8
            }
            acc[l][0] = _mm512_fmadd_ps(d[0], _mm512_cvtepi32_ps(s0), acc[l][0]);
            acc[l][1] = _mm512_fmadd_ps(d[1], _mm512_cvtepi32_ps(s1), acc[l][1]);
            acc[l][2] = _mm512_fmadd_ps(d[2], _mm512_cvtepi32_ps(s2), acc[l][2]);
            acc[l][3] = _mm512_fmadd_ps(d[3], _mm512_cvtepi32_ps(s3), acc[l][3]);
            acc[l][4] = _mm512_fmadd_ps(d[4], _mm512_cvtepi32_ps(s4), acc[l][4]);
            acc[l][5] = _mm512_fmadd_ps(d[5], _mm512_cvtepi32_ps(s5), acc[l][5]);
            acc[l][6] = _mm512_fmadd_ps(d[6], _mm512_cvtepi32_ps(s6), acc[l][6]);
            acc[l][7] = _mm512_fmadd_ps(d[7], _mm512_cvtepi32_ps(s7), acc[l][7]);
        }
        for (int t = 0; t < 8; t++) {
            __m512i m = _mm512_setzero_si512();
            for (int p = 0; p < 4; p++)
                DOTW_BCAST(m, W->mn[p], A[t].mp[p]);
            __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(-A[t].d), W->dmx);
            summs[t] = _mm512_add_ps(summs[t], _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)));
        }
    }
    for (int t = 0; t < 8; t++) {
        __m512 a[8];
        for (int l = 0; l < 8; l++)
            a[l] = acc[l][t];
        _mm512_storeu_ps(out + (size_t)t * out_stride, _mm512_add_ps(fold8(a), summs[t]));
    }
}

/* 16 rows x 2 tokens (nt = 2) or 1 token (nt = 1) of Q5_K */
static void q5k_16xn(int64_t nsb, const zq5k *pw, const kact5 *pa, int64_t n_tok, int64_t k, int nt,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[2][8], summs[2];
    for (int t = 0; t < 2; t++) {
        summs[t] = _mm512_setzero_ps();
        for (int l = 0; l < 8; l++)
            acc[t][l] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 176; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 176 + l, _MM_HINT_T0);
        const zq5k *W = pw + b;
        const kact5 *A0 = pa + b * n_tok + k, *A1 = nt > 1 ? A0 + 1 : A0;
        __m512 d0 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A0->d));
        __m512 d1 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A1->d));
        for (int l = 0; l < 8; l += 2) {
            /* lanes l and l + 1, two chains each (even and odd sub-blocks) */
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
            __m512i c0 = a0, c1 = a0, e0 = a0, e1 = a0;
#pragma GCC unroll 4
            for (int g = 0; g < 8; g += 2) {
                int s = 16 * g + 2 * l, s2 = s + 16;
                __m512i w0 = W->w[s], w1 = W->w[s + 1], w2 = W->w[s + 2], w3 = W->w[s + 3];
                DOTW_BCAST(a0, w0, A0->yp[s]);
                DOTW_BCAST(a1, w0, A1->yp[s]);
                DOTW_BCAST(a0, w1, A0->yp[s + 1]);
                DOTW_BCAST(a1, w1, A1->yp[s + 1]);
                DOTW_BCAST(c0, w2, A0->yp[s + 2]);
                DOTW_BCAST(c1, w2, A1->yp[s + 2]);
                DOTW_BCAST(c0, w3, A0->yp[s + 3]);
                DOTW_BCAST(c1, w3, A1->yp[s + 3]);
                __m512i v0 = W->w[s2], v1 = W->w[s2 + 1], v2 = W->w[s2 + 2], v3 = W->w[s2 + 3];
                DOTW_BCAST(b0, v0, A0->yp[s2]);
                DOTW_BCAST(b1, v0, A1->yp[s2]);
                DOTW_BCAST(b0, v1, A0->yp[s2 + 1]);
                DOTW_BCAST(b1, v1, A1->yp[s2 + 1]);
                DOTW_BCAST(e0, v2, A0->yp[s2 + 2]);
                DOTW_BCAST(e1, v2, A1->yp[s2 + 2]);
                DOTW_BCAST(e0, v3, A0->yp[s2 + 3]);
                DOTW_BCAST(e1, v3, A1->yp[s2 + 3]);
            }
            acc[0][l] =
                _mm512_fmadd_ps(d0, _mm512_cvtepi32_ps(_mm512_add_epi32(a0, b0)), acc[0][l]);
            acc[1][l] =
                _mm512_fmadd_ps(d1, _mm512_cvtepi32_ps(_mm512_add_epi32(a1, b1)), acc[1][l]);
            acc[0][l + 1] =
                _mm512_fmadd_ps(d0, _mm512_cvtepi32_ps(_mm512_add_epi32(c0, e0)), acc[0][l + 1]);
            acc[1][l + 1] =
                _mm512_fmadd_ps(d1, _mm512_cvtepi32_ps(_mm512_add_epi32(c1, e1)), acc[1][l + 1]);
        }
        for (int t = 0; t < 2; t++) {
            const kact5 *A = t ? A1 : A0;
            __m512i m = _mm512_setzero_si512();
            for (int p = 0; p < 4; p++)
                DOTW_BCAST(m, W->mn[p], A->mp[p]);
            __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(-A->d), W->dmx);
            summs[t] = _mm512_add_ps(summs[t], _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)));
        }
    }
    _mm512_storeu_ps(out, _mm512_add_ps(fold8(acc[0]), summs[0]));
    if (nt > 1) _mm512_storeu_ps(out + out_stride, _mm512_add_ps(fold8(acc[1]), summs[1]));
}

tl_status tl_ktile_gemm_q5k(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                            const void *act, size_t act_stride, int64_t n_tok, float *out,
                            size_t out_stride) {
    int64_t nsb = n / QK_K;
    kact5 *pack = pack_acts_q5k(act, act_stride, nsb, n_tok);
    zq5k *pw = tile_alloc64((size_t)nsb * sizeof(*pw));
    if (!pack || !pw) {
        free(pack);
        free(pw);
        return tl_fail(TL_ERR_NOMEM, "ktile16: out of memory");
    }
    for (int64_t g = r0; g < r16; g += 16) {
        const char *base = (const char *)w + (size_t)g * w_stride;
        pack_group_q5k(nsb, base, w_stride, pw);
        const char *next = g + 16 < r16 ? base + 16 * w_stride : NULL;
        int64_t k = 0;
        for (; k + 8 <= n_tok; k += 8, next = NULL)
            q5k_16x8(nsb, pw, pack, n_tok, k, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
        for (; k < n_tok; k += 2, next = NULL)
            q5k_16xn(nsb, pw, pack, n_tok, k, n_tok - k > 1 ? 2 : 1, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
    }
    free(pack);
    free(pw);
    return TL_OK;
}
