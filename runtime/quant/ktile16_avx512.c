/* runtime/quant/ktile16_avx512.c -- the 16-rows-in-lanes K-quant GEMM tiles
** for CPUs with AVX-512 VNNI (see ktile.h).
**
** Q4_K in llama.cpp's repacked orders (runtime/quant.h): per super-block and
** row, s_j = sc_j * sum(q * y) over sub-block j (32 elements) and
** m_j = min_j * (the two bsums of sub-block j); the GEMM order (tokens in
** groups of 4) does acc = fma((float)(s_2p + s_2p+1), d_x * d_y, acc) and the
** same for the mins with dmin_x * d_y for each pair p of sub-blocks, the GEMV
** order (the n_tok % 4 last tokens) one fma per super-block with the sums of
** all 8; the result is acc - accm.  The codes are unsigned nibbles and the
** activations signed bytes, which is what vpdpbusd multiplies: each
** instruction does 4 elements of 16 rows.  The sub-block sums (at most
** 32 * 15 * 127) are scaled with one 32-bit multiply, the mins' pairs with
** one vpdpwssd of 16-bit (min, min) against the bsum pair sums. */
#include "runtime/quant/ktile.h"

#include "runtime/cpu.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile_avx512.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

bool tl_ktile16_available(void) {
    return tl_cpu_use_avx512vnni();
}

bool tl_ktile16_supports(tl_dtype dt, tl_dot_order order) {
    if (dt == TL_DTYPE_Q4_K) return order != TL_DOT_ORDER_ROW;
    /* not repacked by llama.cpp: every order falls back to ROW */
    return dt == TL_DTYPE_Q5_K || dt == TL_DTYPE_Q6_K || dt == TL_DTYPE_Q8_0;
}

/* ---- Q4_K ------------------------------------------------------------------ */

/* One super-block of a 16-row group: lo[p][k], lane r: the low nibbles of
** bytes 4k..4k+3 of chunk p (32 bytes) of row r, i.e. elements 4k.. of
** sub-block 2p; hi[p][k] the high nibbles (sub-block 2p + 1); sc[j] the 16
** rows' scales of sub-block j as int32; mn[p] their mins of sub-blocks 2p and
** 2p + 1 as an int16 pair; dx, dmx the rows' d and dmin. */
typedef struct zq4k {
    __m512i lo[4][8], hi[4][8];
    __m512i sc[8];
    __m512i mn[4];
    __m512 dx, dmx;
} zq4k;

/* One Q8_K super-block of one token: the codes as dwords, the bsum pair sums
** of sub-blocks (2p, 2p + 1) as int16 pairs, d. */
typedef struct kact {
    int32_t qs[64];
    int32_t mp[4];
    float d;
    int32_t pad[11];
} kact;
_Static_assert(sizeof(kact) % 64 == 0, "kact keeps 64-byte alignment");

static kact *pack_acts_q8k(const void *act, size_t act_stride, int64_t nsb, int64_t n_tok) {
    kact *pack = tile_alloc64((size_t)(nsb * n_tok) * sizeof(kact));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++) {
        const char *row = (const char *)act + (size_t)k * act_stride;
        for (int64_t b = 0; b < nsb; b++) {
            blk_q8_K y;
            memcpy(&y, row + (size_t)b * sizeof(blk_q8_K), sizeof y);
            kact *p = &pack[b * n_tok + k];
            memcpy(p->qs, y.qs, sizeof p->qs);
            for (int q = 0; q < 4; q++) {
                int32_t a = y.bsums[4 * q] + y.bsums[4 * q + 1];
                int32_t c = y.bsums[4 * q + 2] + y.bsums[4 * q + 3];
                p->mp[q] = (int32_t)(((uint32_t)a & 0xffffu) | ((uint32_t)c << 16));
            }
            p->d = y.d;
        }
    }
    return pack;
}

/* 16 lanes from two 8-lane halves */
static inline __m512i join(__m256i a, __m256i b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

/* The 16 rows' d, dmin, 6-bit scales and mins of one super-block, decoded in
** lanes (tl_get_scale_min_k4's rule on the dwords of scales[0..11]). */
static void pack_scales_q4k(const char *blk, size_t rs, zq4k *z) {
    /* the first 16 bytes of the 16 rows, transposed as dwords: y[a], 128-bit
    ** lane i holds row 4i + a, so after the 4 x 4 dword transposes lane r of
    ** t[q] is dword q of row r */
    __m512i y[4];
#pragma GCC unroll 4
    for (int a = 0; a < 4; a++) {
        __m512i v =
            _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(blk + (size_t)a * rs)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(blk + (size_t)(4 + a) * rs)),
                               1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(blk + (size_t)(8 + a) * rs)),
                               2);
        y[a] = _mm512_inserti32x4(
            v, _mm_loadu_si128((const __m128i *)(blk + (size_t)(12 + a) * rs)), 3);
    }
    __m512i u0 = _mm512_unpacklo_epi32(y[0], y[1]), u1 = _mm512_unpackhi_epi32(y[0], y[1]);
    __m512i u2 = _mm512_unpacklo_epi32(y[2], y[3]), u3 = _mm512_unpackhi_epi32(y[2], y[3]);
    __m512i d = _mm512_unpacklo_epi64(u0, u2), q0 = _mm512_unpackhi_epi64(u0, u2);
    __m512i q1 = _mm512_unpacklo_epi64(u1, u3), q2 = _mm512_unpackhi_epi64(u1, u3);
    z->dx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_and_si512(d, _mm512_set1_epi32(0xffff))));
    z->dmx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(d, 16)));
    const __m512i m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15);
    const __m512i m3 = _mm512_set1_epi32(3);
    __m512i m[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512i a = _mm512_srli_epi32(q0, 8 * i), b = _mm512_srli_epi32(q1, 8 * i);
        __m512i c = _mm512_srli_epi32(q2, 8 * i);
        z->sc[i] = _mm512_and_si512(a, m63);
        m[i] = _mm512_and_si512(b, m63);
        z->sc[i + 4] =
            _mm512_or_si512(_mm512_and_si512(c, m15),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 6), m3), 4));
        m[i + 4] =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), m15),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 6), m3), 4));
    }
    for (int p = 0; p < 4; p++)
        z->mn[p] = _mm512_or_si512(m[2 * p], _mm512_slli_epi32(m[2 * p + 1], 16));
}

static void pack_group_q4k(int64_t nsb, const char *g, size_t rs, zq4k *pw) {
    const __m512i m4 = _mm512_set1_epi8(15);
    for (int64_t b = 0; b < nsb; b++) {
        const char *blk = g + (size_t)b * sizeof(blk_q4_K);
#pragma GCC unroll 4
        for (int p = 0; p < 4; p++) {
            /* tile_transpose8 reads 16 bytes at p + 2 (a Q4_0 block's nibbles) */
            const char *q = blk + 16 + 32 * p - 2;
            __m256i a0[4], a1[4], b0[4], b1[4];
            tile_transpose8(q, rs, a0);          /* rows 0-7, bytes 0-15 */
            tile_transpose8(q + 16, rs, a1);     /* rows 0-7, bytes 16-31 */
            tile_transpose8(q + 8 * rs, rs, b0); /* rows 8-15 */
            tile_transpose8(q + 16 + 8 * rs, rs, b1);
            for (int k = 0; k < 4; k++) {
                __m512i t = join(a0[k], b0[k]), u = join(a1[k], b1[k]);
                pw[b].lo[p][k] = _mm512_and_si512(t, m4);
                pw[b].hi[p][k] = _mm512_and_si512(_mm512_srli_epi16(t, 4), m4);
                pw[b].lo[p][k + 4] = _mm512_and_si512(u, m4);
                pw[b].hi[p][k + 4] = _mm512_and_si512(_mm512_srli_epi16(u, 4), m4);
            }
        }
        pack_scales_q4k(blk, rs, &pw[b]);
    }
}

/* 16 rows x 4 tokens in the GEMM order; prefetches the next group (16 rows x
** 144 bytes per super-block) when next is not NULL. */
static void q4k_16x4(int64_t nsb, const zq4k *pw, const kact *pa, int64_t n_tok, int64_t k,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[4], accm[4];
    for (int t = 0; t < 4; t++)
        acc[t] = accm[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++) {
                _mm_prefetch(next + (size_t)r * rs + (size_t)b * 144, _MM_HINT_T0);
                _mm_prefetch(next + (size_t)r * rs + (size_t)b * 144 + 64, _MM_HINT_T0);
                _mm_prefetch(next + (size_t)r * rs + (size_t)b * 144 + 128, _MM_HINT_T0);
            }
        const zq4k *W = pw + b;
        const kact *A = pa + b * n_tok + k;
        __m512 d0 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[0].d));
        __m512 d1 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[1].d));
        __m512 d2 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[2].d));
        __m512 d3 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[3].d));
        for (int p = 0; p < 4; p++) {
            __m512i l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0;
            __m512i h0 = l0, h1 = l0, h2 = l0, h3 = l0;
            for (int j = 0; j < 8; j++) {
                __m512i q = W->lo[p][j], h = W->hi[p][j];
                DOT_BCAST(l0, q, A[0].qs[16 * p + j]);
                DOT_BCAST(l1, q, A[1].qs[16 * p + j]);
                DOT_BCAST(l2, q, A[2].qs[16 * p + j]);
                DOT_BCAST(l3, q, A[3].qs[16 * p + j]);
                DOT_BCAST(h0, h, A[0].qs[16 * p + 8 + j]);
                DOT_BCAST(h1, h, A[1].qs[16 * p + 8 + j]);
                DOT_BCAST(h2, h, A[2].qs[16 * p + 8 + j]);
                DOT_BCAST(h3, h, A[3].qs[16 * p + 8 + j]);
            }
            __m512i sa = W->sc[2 * p], sb = W->sc[2 * p + 1];
#define PAIR(l, h)                                                                                 \
    _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_mullo_epi32(l, sa), _mm512_mullo_epi32(h, sb)))
            acc[0] = _mm512_fmadd_ps(PAIR(l0, h0), d0, acc[0]);
            acc[1] = _mm512_fmadd_ps(PAIR(l1, h1), d1, acc[1]);
            acc[2] = _mm512_fmadd_ps(PAIR(l2, h2), d2, acc[2]);
            acc[3] = _mm512_fmadd_ps(PAIR(l3, h3), d3, acc[3]);
#undef PAIR
        }
        for (int t = 0; t < 4; t++) {
            __m512 dm = _mm512_mul_ps(W->dmx, _mm512_set1_ps(A[t].d));
            for (int p = 0; p < 4; p++) {
                __m512i m = _mm512_setzero_si512();
                DOTW_BCAST(m, W->mn[p], A[t].mp[p]);
                accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(m), dm, accm[t]);
            }
        }
    }
    for (int t = 0; t < 4; t++)
        _mm512_storeu_ps(out + (size_t)t * out_stride, _mm512_sub_ps(acc[t], accm[t]));
}

/* 16 rows x 1 token in the GEMV order (gemm = false) or the GEMM order. */
static void q4k_16x1(int64_t nsb, const zq4k *pw, const kact *pa, int64_t n_tok, int64_t k,
                     bool gemm, float *out) {
    __m512 acc = _mm512_setzero_ps(), accm = acc;
    for (int64_t b = 0; b < nsb; b++) {
        const zq4k *W = pw + b;
        const kact *A = pa + b * n_tok + k;
        __m512 d = _mm512_mul_ps(W->dx, _mm512_set1_ps(A->d));
        __m512 dm = _mm512_mul_ps(W->dmx, _mm512_set1_ps(A->d));
        __m512i s = _mm512_setzero_si512(), m = s;
        for (int p = 0; p < 4; p++) {
            __m512i l = _mm512_setzero_si512(), h = l;
            for (int j = 0; j < 8; j++) {
                DOT_BCAST(l, W->lo[p][j], A->qs[16 * p + j]);
                DOT_BCAST(h, W->hi[p][j], A->qs[16 * p + 8 + j]);
            }
            __m512i sp = _mm512_add_epi32(_mm512_mullo_epi32(l, W->sc[2 * p]),
                                          _mm512_mullo_epi32(h, W->sc[2 * p + 1]));
            if (gemm) {
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sp), d, acc);
            } else {
                s = _mm512_add_epi32(s, sp);
            }
        }
        for (int p = 0; p < 4; p++) {
            if (gemm) {
                __m512i mp = _mm512_setzero_si512();
                DOTW_BCAST(mp, W->mn[p], A->mp[p]);
                accm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mp), dm, accm);
            } else {
                DOTW_BCAST(m, W->mn[p], A->mp[p]);
            }
        }
        if (!gemm) {
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc);
            accm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(m), dm, accm);
        }
    }
    _mm512_storeu_ps(out, _mm512_sub_ps(acc, accm));
}

static tl_status gemm_q4k(tl_dot_order order, int64_t n, const void *w, size_t w_stride, int64_t r0,
                          int64_t r16, const void *act, size_t act_stride, int64_t n_tok,
                          float *out, size_t out_stride) {
    int64_t nsb = n / QK_K;
    kact *pack = pack_acts_q8k(act, act_stride, nsb, n_tok);
    zq4k *pw = tile_alloc64((size_t)nsb * sizeof(*pw));
    if (!pack || !pw) {
        free(pack);
        free(pw);
        return tl_fail(TL_ERR_NOMEM, "ktile16: out of memory");
    }
    /* REPACK: groups of 4 tokens in the GEMM order, the rest in the GEMV order;
    ** REPACK_GEMM: every token in the GEMM order */
    bool all_gemm = order == TL_DOT_ORDER_REPACK_GEMM;
    int64_t k4 = n_tok / 4 * 4;
    for (int64_t g = r0; g < r16; g += 16) {
        const char *base = (const char *)w + (size_t)g * w_stride;
        pack_group_q4k(nsb, base, w_stride, pw);
        const char *next = g + 16 < r16 ? base + 16 * w_stride : NULL;
        for (int64_t k = 0; k < k4; k += 4, next = NULL)
            q4k_16x4(nsb, pw, pack, n_tok, k, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
        for (int64_t k = k4; k < n_tok; k++)
            q4k_16x1(nsb, pw, pack, n_tok, k, all_gemm, out + (size_t)k * out_stride + (size_t)g);
    }
    free(pack);
    free(pw);
    return TL_OK;
}

tl_status tl_ktile16_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                          size_t w_stride, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    if (!t || !tl_ktile16_supports(dt, order))
        return tl_fail(TL_ERR_UNSUPPORTED, "ktile16: no tile for %s in this order",
                       tl_dtype_name(dt));
    if (n % t->blck != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG,
                       "ktile16: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    int64_t r16 = r0 + (r1 - r0) / 16 * 16;
    if (r16 > r0 && n_tok > 0) {
        tl_status st;
        switch (dt) {
        case TL_DTYPE_Q4_K:
            st = gemm_q4k(order, n, w, w_stride, r0, r16, act, act_stride, n_tok, out, out_stride);
            break;
        case TL_DTYPE_Q5_K:
            st =
                tl_ktile_gemm_q5k(n, w, w_stride, r0, r16, act, act_stride, n_tok, out, out_stride);
            break;
        case TL_DTYPE_Q6_K:
            st =
                tl_ktile_gemm_q6k(n, w, w_stride, r0, r16, act, act_stride, n_tok, out, out_stride);
            break;
        default:
            st = tl_ktile_gemm_q8_0(n, w, w_stride, r0, r16, act, act_stride, n_tok, out,
                                    out_stride);
        }
        if (st != TL_OK) return st;
    }
    if (r16 < r1)
        return tl_quant_gemm_rows_order(dt, order, n, w, w_stride, r16, r1, act, act_stride, n_tok,
                                        out, out_stride);
    return TL_OK;
}
