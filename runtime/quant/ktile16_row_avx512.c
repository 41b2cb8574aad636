/* runtime/quant/ktile16_row_avx512.c -- the 16-rows-in-lanes GEMM tile of
** Q8_0, which llama.cpp does not repack, in ggml's one-row order (see ktile.h
** and ktile_avx512.h; Q5_K and Q6_K: ktile16_q5k_avx512.c, ktile16_q6k_avx512.c). */
#include "runtime/quant/ktile.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile_avx512.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* -- Q8_0: codes + 128 as unsigned bytes with vpdpbusd; lane k starts from
** -128 * (the activation codes of lane k). */
typedef struct zq8 {
    __m512i q[8]; /* lane r: bytes 4k..4k+3 of row r, + 128 */
    __m512 dx;
} zq8;

typedef struct act8 {
    int32_t qs[8];
    int32_t nc[8]; /* -128 * (sum of codes 4k..4k+3) */
    float d;
    int32_t pad[3];
} act8;

static act8 *pack_acts_q8_0(const void *act, size_t act_stride, int64_t nb, int64_t n_tok) {
    act8 *pack = tile_alloc64((size_t)(nb * n_tok) * sizeof(act8));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++) {
        const blk_q8_0 *y = (const blk_q8_0 *)((const char *)act + (size_t)k * act_stride);
        for (int64_t b = 0; b < nb; b++) {
            act8 *p = &pack[b * n_tok + k];
            memcpy(p->qs, y[b].qs, sizeof p->qs);
            for (int l = 0; l < 8; l++)
                p->nc[l] = -128 * (y[b].qs[4 * l] + y[b].qs[4 * l + 1] + y[b].qs[4 * l + 2] +
                                   y[b].qs[4 * l + 3]);
            p->d = f16_to_f32_hw(y[b].d);
        }
    }
    return pack;
}

static void pack_group_q8_0(int64_t nb, const char *g, size_t rs, zq8 *pw) {
    const __m512i x80 = _mm512_set1_epi8((char)0x80);
    const __m512i idx =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32((int)rs));
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) { /* two blocks per transpose */
        const char *p = g + (size_t)b * sizeof(blk_q8_0);
        if (b + 4 <= nb) /* the next two blocks of the 16 rows, into L1 */
            for (int r = 0; r < 16; r++) {
                _mm_prefetch(p + 68 + (size_t)r * rs, _MM_HINT_T0);
                _mm_prefetch(p + 68 + 67 + (size_t)r * rs, _MM_HINT_T0);
            }
        __m512i v[16];
        uint64_t da[4] = {0, 0, 0, 0}, db[4] = {0, 0, 0, 0}; /* the d halves, 4 rows each */
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++) {
            const char *q = p + (size_t)r * rs;
            v[r] = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + 2))),
                _mm256_loadu_si256((const __m256i *)(q + 2 + sizeof(blk_q8_0))), 1);
            uint16_t h0, h1;
            memcpy(&h0, q, 2);
            memcpy(&h1, q + sizeof(blk_q8_0), 2);
            da[r / 4] |= (uint64_t)h0 << (16 * (r % 4));
            db[r / 4] |= (uint64_t)h1 << (16 * (r % 4));
        }
        transpose16(v);
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) {
            pw[b].q[l] = _mm512_xor_si512(v[l], x80);
            pw[b + 1].q[l] = _mm512_xor_si512(v[8 + l], x80);
        }
        /* d through general registers: a vpgatherdd costs ~20 cycles on Zen 4 */
        pw[b].dx = _mm512_cvtph_ps(_mm256_setr_epi64x((long long)da[0], (long long)da[1],
                                                      (long long)da[2], (long long)da[3]));
        pw[b + 1].dx = _mm512_cvtph_ps(_mm256_setr_epi64x((long long)db[0], (long long)db[1],
                                                          (long long)db[2], (long long)db[3]));
    }
    for (; b < nb; b++) {
        const char *p = g + (size_t)b * sizeof(blk_q8_0);
        int32_t t[8][16];
        for (int r = 0; r < 16; r++)
            for (int l = 0; l < 8; l++)
                memcpy(&t[l][r], p + (size_t)r * rs + 2 + 4 * l, 4);
        for (int l = 0; l < 8; l++)
            pw[b].q[l] = _mm512_xor_si512(_mm512_loadu_si512(t[l]), x80);
        pw[b].dx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(idx, p, 1)));
    }
}

/* lane l of one token: s = -128 * sum(y) + (q + 128) . y, acc += d * s */
#define Q8_LANE(acc, d, A, w, l)                                                                   \
    do {                                                                                           \
        __m512i s_ = _mm512_set1_epi32((A)->nc[l]);                                                \
        DOT_BCAST(s_, w, (A)->qs[l]);                                                              \
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s_), acc);                                     \
    } while (0)

static inline __m512 fold8v(__m512 l0, __m512 l1, __m512 l2, __m512 l3, __m512 l4, __m512 l5,
                            __m512 l6, __m512 l7) {
    return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(l0, l4), _mm512_add_ps(l2, l6)),
                         _mm512_add_ps(_mm512_add_ps(l1, l5), _mm512_add_ps(l3, l7)));
}

/* 16 rows x 2 tokens (nt = 2) or 1 token (nt = 1) of Q8_0; the 16
** accumulators are named so that they stay in registers */
static void q8_0_16xn(int64_t nb, const zq8 *pw, const act8 *pa, int64_t n_tok, int64_t k, int nt,
                      const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
    for (int64_t b = 0; b < nb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                _mm_prefetch(next + (size_t)r * rs + (size_t)b * 34, _MM_HINT_T0);
        const zq8 *W = pw + b;
        const act8 *A0 = pa + b * n_tok + k, *A1 = nt > 1 ? A0 + 1 : A0;
        __m512 d0 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A0->d));
        __m512 d1 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A1->d));
        __m512i w;
        w = W->q[0];
        Q8_LANE(a0, d0, A0, w, 0);
        Q8_LANE(b0, d1, A1, w, 0);
        w = W->q[1];
        Q8_LANE(a1, d0, A0, w, 1);
        Q8_LANE(b1, d1, A1, w, 1);
        w = W->q[2];
        Q8_LANE(a2, d0, A0, w, 2);
        Q8_LANE(b2, d1, A1, w, 2);
        w = W->q[3];
        Q8_LANE(a3, d0, A0, w, 3);
        Q8_LANE(b3, d1, A1, w, 3);
        w = W->q[4];
        Q8_LANE(a4, d0, A0, w, 4);
        Q8_LANE(b4, d1, A1, w, 4);
        w = W->q[5];
        Q8_LANE(a5, d0, A0, w, 5);
        Q8_LANE(b5, d1, A1, w, 5);
        w = W->q[6];
        Q8_LANE(a6, d0, A0, w, 6);
        Q8_LANE(b6, d1, A1, w, 6);
        w = W->q[7];
        Q8_LANE(a7, d0, A0, w, 7);
        Q8_LANE(b7, d1, A1, w, 7);
    }
    _mm512_storeu_ps(out, fold8v(a0, a1, a2, a3, a4, a5, a6, a7));
    if (nt > 1) _mm512_storeu_ps(out + out_stride, fold8v(b0, b1, b2, b3, b4, b5, b6, b7));
}

tl_status tl_ktile_gemm_q8_0(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                             const void *act, size_t act_stride, int64_t n_tok, float *out,
                             size_t out_stride) {
    int64_t nb = n / QK32;
    act8 *pack = pack_acts_q8_0(act, act_stride, nb, n_tok);
    zq8 *pw = tile_alloc64((size_t)nb * sizeof(*pw));
    if (!pack || !pw) {
        free(pack);
        free(pw);
        return tl_fail(TL_ERR_NOMEM, "ktile16: out of memory");
    }
    for (int64_t g = r0; g < r16; g += 16) {
        const char *base = (const char *)w + (size_t)g * w_stride;
        pack_group_q8_0(nb, base, w_stride, pw);
        const char *next = g + 16 < r16 ? base + 16 * w_stride : NULL;
        for (int64_t k = 0; k < n_tok; k += 2, next = NULL)
            q8_0_16xn(nb, pw, pack, n_tok, k, n_tok - k > 1 ? 2 : 1, next, w_stride,
                      out + (size_t)k * out_stride + (size_t)g, out_stride);
    }
    free(pack);
    free(pw);
    return TL_OK;
}
