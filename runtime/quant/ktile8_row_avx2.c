/* runtime/quant/ktile8_row_avx2.c -- the Q5_K and Q6_K GEMM tiles for AVX2
** CPUs (see ktile8_row.h), and the entry point of all the row-order tiles.
**
** A group of 8 rows is unpacked per super-block into 64 vectors of unsigned
** codes (vector v, lane r: codes 4v..4v+3 of row r; Q5_K 0..31, Q6_K 0..63),
** the sub-block scales as (s, s) 16-bit pairs, and for Q5_K the mins as (m, m)
** pairs, for Q6_K the scale pairs (sc[2k], sc[2k+1]) of its -32 offset.  Lane
** k of the row kernel gets, per super-block, sum over the 32-element groups g
** of sc * (codes 4k..4k+3 of g) . y: one vpmaddubsw against the broadcast
** activation dword (pairs at most 2 * 63 * 128 = 16128: no saturation), one
** vpmaddwd by the scale pair, one add -- for 8 rows at once.  Q6_K then takes
** off 32 * (sc[2k] bsum[2k] + sc[2k+1] bsum[2k+1]) as ggml does (q6_k.c), Q5_K
** sums m * (bsum pair) into a separate float, both as in the row kernels. */
#include "runtime/quant/ktile8_row.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile8_row_avx2.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

typedef struct ykq {
    __m256i q[64];  /* the codes, rows in lanes */
    __m256i sc[16]; /* Q5_K: sub-block g's (s, s) in [g] (g < 8); Q6_K: all 16 */
    __m256i aux[8]; /* Q5_K: (m, m) of sub-block g; Q6_K: (sc[2k], sc[2k+1]) */
    __m256 dx, dmx; /* f16 d and (Q5_K) dmin per row */
} ykq;

/* The 256 unsigned codes of one super-block, in element order. */
static void codes_q5k(const blk_q5_K *x, uint8_t q[QK_K]) {
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    __m256i hb = _mm256_loadu_si256((const __m256i *)x->qh);
    for (int c = 0; c < 4; c++) {
        __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4);
        __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4);
        _mm256_storeu_si256((__m256i *)(q + 64 * c),
                            _mm256_or_si256(_mm256_and_si256(bits, m4), h0));
        _mm256_storeu_si256((__m256i *)(q + 64 * c + 32),
                            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4), h1));
    }
}

static void codes_q6k(const blk_q6_K *x, uint8_t q[QK_K]) {
    const __m256i m4 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
        __m256i hb = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
        __m256i lo[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
                         _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                         _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
        for (int c = 0; c < 4; c++) {
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), m3);
            _mm256_storeu_si256((__m256i *)(q + 128 * h + 32 * c),
                                _mm256_or_si256(lo[c], _mm256_slli_epi16(hi, 4)));
        }
    }
}

/* Super-block b of the 8 rows at g (rows rs bytes apart; rows past `last`
** repeat it). */
static void pack_block(bool q6, const char *g, size_t rs, int last, int64_t b, ykq *pw) {
    _Alignas(32) uint8_t q[8][QK_K];
    __m256i s0[8], s1[8], s2[8]; /* per row: scale pairs 0-7, 8-15 (Q6_K) / mins, aux */
    float dx[8], dmx[8];
    for (int r = 0; r < 8; r++) {
        const char *row = g + (size_t)(r < last ? r : last) * rs;
        if (q6) {
            const blk_q6_K *x = (const blk_q6_K *)(row + (size_t)b * sizeof(blk_q6_K));
            codes_q6k(x, q[r]);
            __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
            __m256i lo = _mm256_unpacklo_epi16(v, v), hi = _mm256_unpackhi_epi16(v, v);
            s0[r] = _mm256_permute2x128_si256(lo, hi, 0x20); /* (s, s) of sub-blocks 0-7 */
            s1[r] = _mm256_permute2x128_si256(lo, hi, 0x31); /* 8-15 */
            s2[r] = v;                                       /* (sc[2k], sc[2k+1]) */
            uint16_t h;
            memcpy(&h, &x->d, sizeof h);
            dx[r] = f16_to_f32_hw(h);
            dmx[r] = 0.0f;
        } else {
            const blk_q5_K *x = (const blk_q5_K *)(row + (size_t)b * sizeof(blk_q5_K));
            codes_q5k(x, q[r]);
            uint8_t sm[12];
            memcpy(sm, x->scales, sizeof sm);
            __m256i v = _mm256_cvtepu8_epi16(tl_unpack_scales_mins(sm)); /* 8 scales, 8 mins */
            __m256i lo = _mm256_unpacklo_epi16(v, v), hi = _mm256_unpackhi_epi16(v, v);
            s0[r] = _mm256_permute2x128_si256(lo, hi, 0x20); /* (s, s) */
            s2[r] = _mm256_permute2x128_si256(lo, hi, 0x31); /* (m, m) */
            uint16_t h[2];
            memcpy(h, x, sizeof h);
            dx[r] = f16_to_f32_hw(h[0]);
            dmx[r] = f16_to_f32_hw(h[1]);
        }
    }
    for (int v0 = 0; v0 < 64; v0 += 8) {
        __m256i R[8];
        for (int r = 0; r < 8; r++)
            R[r] = _mm256_load_si256((const __m256i *)(q[r] + 4 * v0));
        tl_transpose8x32(R, pw->q + v0);
    }
    tl_transpose8x32(s0, pw->sc);
    if (q6)
        tl_transpose8x32(s1, pw->sc + 8);
    else
        memset(pw->sc + 8, 0, 8 * sizeof(__m256i));
    tl_transpose8x32(s2, pw->aux);
    pw->dx = _mm256_loadu_ps(dx);
    pw->dmx = _mm256_loadu_ps(dmx);
}

static inline __m256i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

#define TMAX 4

/* 8 rows x T tokens (T <= TMAX, a constant after inlining). */
static inline __attribute__((always_inline)) void tile(bool q6, int T, int64_t nsb, const ykq *pw,
                                                       const char *act, size_t act_stride,
                                                       float *out, size_t out_stride,
                                                       __m256i mask) {
    __m256 acc[TMAX][8], summ[TMAX];
    for (int t = 0; t < T; t++) {
        summ[t] = _mm256_setzero_ps();
        for (int k = 0; k < 8; k++)
            acc[t][k] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < nsb; b++) {
        const ykq *W = pw + b;
        const char *y[TMAX];
        __m256 d[TMAX];
        for (int t = 0; t < T; t++) {
            y[t] = act + (size_t)t * act_stride + (size_t)b * sizeof(blk_q8_K);
            float yd;
            memcpy(&yd, y[t] + offsetof(blk_q8_K, d), sizeof yd);
            d[t] = _mm256_mul_ps(_mm256_set1_ps(yd), W->dx);
            if (!q6) { /* the mins: summs += (-yd * dmin) * msum */
                const char *bs = y[t] + offsetof(blk_q8_K, bsums);
                __m256i m = _mm256_madd_epi16(W->aux[0], bcast32(bs));
                for (int j = 1; j < 8; j++)
                    m = _mm256_add_epi32(m, _mm256_madd_epi16(W->aux[j], bcast32(bs + 4 * j)));
                __m256 dm = _mm256_mul_ps(_mm256_set1_ps(-yd), W->dmx);
                summ[t] = _mm256_fmadd_ps(dm, _mm256_cvtepi32_ps(m), summ[t]);
            }
        }
        for (int k = 0; k < 8; k++) {
            __m256i s[TMAX];
#pragma GCC unroll 8
            for (int t = 0; t < T; t++)
                s[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) {
                __m256i w = W->q[8 * g + k];
                __m256i sc = q6 ? W->sc[2 * g + (k >> 2)] : W->sc[g];
#pragma GCC unroll 8
                for (int t = 0; t < T; t++) {
                    __m256i a = bcast32(y[t] + offsetof(blk_q8_K, qs) + 32 * g + 4 * k);
                    s[t] =
                        _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), sc));
                }
            }
#pragma GCC unroll 8
            for (int t = 0; t < T; t++) {
                if (q6) {
                    __m256i bs = bcast32(y[t] + offsetof(blk_q8_K, bsums) + 4 * k);
                    s[t] = _mm256_sub_epi32(s[t],
                                            _mm256_slli_epi32(_mm256_madd_epi16(W->aux[k], bs), 5));
                }
                acc[t][k] = _mm256_fmadd_ps(d[t], _mm256_cvtepi32_ps(s[t]), acc[t][k]);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        __m256 *a = acc[t];
        __m256 v =
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6])),
                          _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7])));
        if (!q6) v = _mm256_add_ps(v, summ[t]);
        _mm256_maskstore_ps(out + (size_t)t * out_stride, mask, v);
    }
}

#define TILE_CASE(Q6, N)                                                                           \
    case N:                                                                                        \
        tile(Q6, N, nsb, pw, act, act_stride, out, out_stride, mask);                              \
        break;

/* T tokens (1..TMAX) against a packed group */
static void tiles(bool q6, int T, int64_t nsb, const ykq *pw, const char *act, size_t act_stride,
                  float *out, size_t out_stride, __m256i mask) {
    if (q6) {
        switch (T) {
            TILE_CASE(true, 1)
            TILE_CASE(true, 2)
            TILE_CASE(true, 3)
            TILE_CASE(true, 4)
        }
    } else {
        switch (T) {
            TILE_CASE(false, 1)
            TILE_CASE(false, 2)
            TILE_CASE(false, 3)
            TILE_CASE(false, 4)
        }
    }
}

__m256i tl_ktile8_row_mask(int64_t rows) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rows < 8 ? rows : 8)), lane);
}

static tl_status gemm_kq(bool q6, int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                         const void *act, size_t act_stride, int64_t n_tok, float *out,
                         size_t out_stride) {
    int64_t nsb = n / QK_K;
    ykq *pw = tile_alloc64((size_t)nsb * sizeof(*pw));
    if (!pw) return tl_fail(TL_ERR_NOMEM, "ktile8_row: out of memory");
    for (int64_t g = r0; g < r1; g += 8) {
        const char *wg = (const char *)w + (size_t)g * w_stride;
        int last = (int)(r1 - g < 8 ? r1 - g : 8) - 1;
        for (int64_t b = 0; b < nsb; b++)
            pack_block(q6, wg, w_stride, last, b, pw + b);
        __m256i mask = tl_ktile8_row_mask(r1 - g);
        for (int64_t k = 0; k < n_tok; k += TMAX) {
            int T = (int)(n_tok - k < TMAX ? n_tok - k : TMAX);
            const char *a = (const char *)act + (size_t)k * act_stride;
            float *o = out + (size_t)k * out_stride + (size_t)g;
            tiles(q6, T, nsb, pw, a, act_stride, o, out_stride, mask);
        }
    }
    free(pw);
    return TL_OK;
}

bool tl_ktile8_row_supports(tl_dtype dt, tl_dot_order order) {
    if (dt != TL_DTYPE_Q5_K && dt != TL_DTYPE_Q6_K && dt != TL_DTYPE_Q8_0) return false;
    /* only while the type's kernel in that order is its row-order one */
    return tl_quant_vec_dot_order_of(dt, order, false) ==
           tl_quant_vec_dot_order_of(dt, TL_DOT_ORDER_ROW, false);
}

tl_status tl_ktile8_row_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                             size_t w_stride, int64_t r0, int64_t r1, const void *act,
                             size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    if (!tl_ktile8_row_supports(dt, order))
        return tl_fail(TL_ERR_UNSUPPORTED, "ktile8_row: no tile for %s in this order",
                       tl_dtype_name(dt));
    int64_t blck = dt == TL_DTYPE_Q8_0 ? QK32 : QK_K;
    if (n % blck != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG,
                       "ktile8_row: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    if (r1 == r0 || n_tok == 0) return TL_OK;
    if (dt == TL_DTYPE_Q8_0)
        return tl_ktile8_q8_0_gemm(n, w, w_stride, r0, r1, act, act_stride, n_tok, out, out_stride);
    return gemm_kq(dt == TL_DTYPE_Q6_K, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                   out_stride);
}
