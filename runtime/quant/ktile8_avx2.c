/* runtime/quant/ktile8_avx2.c -- the Q4_K GEMM tile for AVX2 CPUs (see
** ktile.h): the arithmetic of the 16-row AVX-512 tile (ktile16_avx512.c) with
** 8 rows in the lanes of a 256-bit vector.  A sub-block's 32 products per row
** are summed as 16-bit pairs by 8 vpmaddubsw (at most 8 * 2 * 15 * 127 =
** 30480, no saturation: Q8_K codes are within +-127), widened with vpmaddwd,
** scaled with vpmulld; the mins with one vpmaddwd of (min, min) pairs against
** the bsum pair sums.  Same integers, same float steps: the same bits. */
#include "runtime/quant/ktile.h"

#include "runtime/cpu.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

bool tl_ktile8_available(void) {
    return tl_cpu_use_avx2();
}

typedef struct yq4k {
    __m256i lo[4][8], hi[4][8]; /* lane r: 4 nibbles of row r (see zq4k) */
    __m256i sc[8];
    __m256i mn[4];
    __m256 dx, dmx;
} yq4k;

typedef struct kact8 {
    int32_t qs[64];
    int32_t mp[4];
    float d;
    int32_t pad[11];
} kact8;

static kact8 *pack_acts(const void *act, size_t act_stride, int64_t nsb, int64_t n_tok) {
    kact8 *pack = tile_alloc64((size_t)(nsb * n_tok) * sizeof(kact8));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++) {
        const char *row = (const char *)act + (size_t)k * act_stride;
        for (int64_t b = 0; b < nsb; b++) {
            blk_q8_K y;
            memcpy(&y, row + (size_t)b * sizeof(blk_q8_K), sizeof y);
            kact8 *p = &pack[b * n_tok + k];
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

static void pack_group(int64_t nsb, const char *g, size_t rs, yq4k *pw) {
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int64_t b = 0; b < nsb; b++) {
        const char *blk = g + (size_t)b * sizeof(blk_q4_K);
        for (int p = 0; p < 4; p++) {
            const char *q = blk + 16 + 32 * p - 2; /* tile_transpose8 reads at q + 2 */
            __m256i a0[4], a1[4];
            tile_transpose8(q, rs, a0);
            tile_transpose8(q + 16, rs, a1);
            for (int k = 0; k < 4; k++) {
                pw[b].lo[p][k] = _mm256_and_si256(a0[k], m4);
                pw[b].hi[p][k] = _mm256_and_si256(_mm256_srli_epi16(a0[k], 4), m4);
                pw[b].lo[p][k + 4] = _mm256_and_si256(a1[k], m4);
                pw[b].hi[p][k + 4] = _mm256_and_si256(_mm256_srli_epi16(a1[k], 4), m4);
            }
        }
        int32_t sc[8][8], mn[4][8];
        float dx[8], dmx[8];
        for (int r = 0; r < 8; r++) {
            blk_q4_K x;
            memcpy(&x, blk + (size_t)r * rs, sizeof x);
            uint8_t s[8], m[8];
            for (int j = 0; j < 8; j++)
                tl_get_scale_min_k4(j, x.scales, &s[j], &m[j]);
            for (int j = 0; j < 8; j++)
                sc[j][r] = s[j];
            for (int p = 0; p < 4; p++)
                mn[p][r] = (int32_t)((uint32_t)m[2 * p] | ((uint32_t)m[2 * p + 1] << 16));
            dx[r] = f16f(x.d);
            dmx[r] = f16f(x.dmin);
        }
        for (int j = 0; j < 8; j++)
            pw[b].sc[j] = _mm256_loadu_si256((const __m256i *)sc[j]);
        for (int p = 0; p < 4; p++)
            pw[b].mn[p] = _mm256_loadu_si256((const __m256i *)mn[p]);
        pw[b].dx = _mm256_loadu_ps(dx);
        pw[b].dmx = _mm256_loadu_ps(dmx);
    }
}

/* sum over sub-block (p, low or high) of q * y for the 8 rows, as int32 */
static inline __m256i sub_sum(const __m256i W[8], const int32_t *qs) {
    __m256i s = _mm256_maddubs_epi16(W[0], _mm256_set1_epi32(qs[0]));
    for (int j = 1; j < 8; j++)
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(W[j], _mm256_set1_epi32(qs[j])));
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
}

/* 8 rows x 1 token; gemm: the GEMM order (per pair of sub-blocks), else the GEMV order */
static void q4k_8x1(int64_t nsb, const yq4k *pw, const kact8 *pa, int64_t n_tok, int64_t k,
                    bool gemm, float *out) {
    __m256 acc = _mm256_setzero_ps(), accm = acc;
    for (int64_t b = 0; b < nsb; b++) {
        const yq4k *W = pw + b;
        const kact8 *A = pa + b * n_tok + k;
        __m256 d = _mm256_mul_ps(W->dx, _mm256_set1_ps(A->d));
        __m256 dm = _mm256_mul_ps(W->dmx, _mm256_set1_ps(A->d));
        __m256i s = _mm256_setzero_si256(), m = s;
        for (int p = 0; p < 4; p++) {
            __m256i sp = _mm256_add_epi32(
                _mm256_mullo_epi32(sub_sum(W->lo[p], A->qs + 16 * p), W->sc[2 * p]),
                _mm256_mullo_epi32(sub_sum(W->hi[p], A->qs + 16 * p + 8), W->sc[2 * p + 1]));
            if (gemm)
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sp), d, acc);
            else
                s = _mm256_add_epi32(s, sp);
        }
        for (int p = 0; p < 4; p++) {
            __m256i mp = _mm256_madd_epi16(W->mn[p], _mm256_set1_epi32(A->mp[p]));
            if (gemm)
                accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mp), dm, accm);
            else
                m = _mm256_add_epi32(m, mp);
        }
        if (!gemm) {
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc);
            accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), dm, accm);
        }
    }
    _mm256_storeu_ps(out, _mm256_sub_ps(acc, accm));
}

/* 8 rows x 4 tokens in the GEMM order */
static void q4k_8x4(int64_t nsb, const yq4k *pw, const kact8 *pa, int64_t n_tok, int64_t k,
                    float *out, size_t out_stride) {
    __m256 acc[4], accm[4];
    for (int t = 0; t < 4; t++)
        acc[t] = accm[t] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nsb; b++) {
        const yq4k *W = pw + b;
        const kact8 *A = pa + b * n_tok + k;
        for (int p = 0; p < 4; p++) {
            __m256i l[4], h[4];
            for (int t = 0; t < 4; t++)
                l[t] = h[t] = _mm256_setzero_si256();
            for (int j = 0; j < 8; j++) {
                __m256i q = W->lo[p][j], u = W->hi[p][j];
                for (int t = 0; t < 4; t++) {
                    l[t] = _mm256_add_epi16(
                        l[t], _mm256_maddubs_epi16(q, _mm256_set1_epi32(A[t].qs[16 * p + j])));
                    h[t] = _mm256_add_epi16(
                        h[t], _mm256_maddubs_epi16(u, _mm256_set1_epi32(A[t].qs[16 * p + 8 + j])));
                }
            }
            for (int t = 0; t < 4; t++) {
                __m256i sp = _mm256_add_epi32(
                    _mm256_mullo_epi32(_mm256_madd_epi16(l[t], ones), W->sc[2 * p]),
                    _mm256_mullo_epi32(_mm256_madd_epi16(h[t], ones), W->sc[2 * p + 1]));
                __m256 d = _mm256_mul_ps(W->dx, _mm256_set1_ps(A[t].d));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sp), d, acc[t]);
            }
        }
        for (int t = 0; t < 4; t++) {
            __m256 dm = _mm256_mul_ps(W->dmx, _mm256_set1_ps(A[t].d));
            for (int p = 0; p < 4; p++) {
                __m256i m = _mm256_madd_epi16(W->mn[p], _mm256_set1_epi32(A[t].mp[p]));
                accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), dm, accm[t]);
            }
        }
    }
    for (int t = 0; t < 4; t++)
        _mm256_storeu_ps(out + (size_t)t * out_stride, _mm256_sub_ps(acc[t], accm[t]));
}

tl_status tl_ktile8_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                         int64_t r0, int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                         float *out, size_t out_stride) {
    if (dt != TL_DTYPE_Q4_K || order == TL_DOT_ORDER_ROW)
        return tl_fail(TL_ERR_UNSUPPORTED, "ktile8: no tile for %s in this order",
                       tl_dtype_name(dt));
    if (n % QK_K != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG, "ktile8: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    int64_t nsb = n / QK_K, r8 = r0 + (r1 - r0) / 8 * 8;
    if (r8 > r0 && n_tok > 0) {
        kact8 *pack = pack_acts(act, act_stride, nsb, n_tok);
        yq4k *pw = tile_alloc64((size_t)nsb * sizeof(*pw));
        if (!pack || !pw) {
            free(pack);
            free(pw);
            return tl_fail(TL_ERR_NOMEM, "ktile8: out of memory");
        }
        bool all_gemm = order == TL_DOT_ORDER_REPACK_GEMM;
        int64_t k4 = n_tok / 4 * 4;
        for (int64_t g = r0; g < r8; g += 8) {
            pack_group(nsb, (const char *)w + (size_t)g * w_stride, w_stride, pw);
            for (int64_t k = 0; k < k4; k += 4)
                q4k_8x4(nsb, pw, pack, n_tok, k, out + (size_t)k * out_stride + (size_t)g,
                        out_stride);
            for (int64_t k = k4; k < n_tok; k++)
                q4k_8x1(nsb, pw, pack, n_tok, k, all_gemm,
                        out + (size_t)k * out_stride + (size_t)g);
        }
        free(pack);
        free(pw);
    }
    if (r8 < r1)
        return tl_quant_gemm_rows_order(dt, order, n, w, w_stride, r8, r1, act, act_stride, n_tok,
                                        out, out_stride);
    return TL_OK;
}
