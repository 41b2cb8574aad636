/* runtime/quant/ktile16_q5k_avx512.c -- the 16-rows-in-lanes GEMM tile of
** Q5_K in ggml's one-row order (see ktile.h, ktile_avx512.h).
**
** ggml's lane k of a row holds, per super-block, the exact integer
**   s_k = sum over the sub-blocks j of sc_j * sum over the 4 elements
**         e = 32 j + 4 k .. 32 j + 4 k + 3 of q_e y_e
** (q_e the unsigned 5-bit code), acc_k = fma(d_x d_y, (float)s_k, acc_k); the
** mins' integer sum msum = sum over j of min_j (bsum_2j + bsum_2j+1) goes into
** a separate float, summs = fma(-d_y dmin_x, (float)msum, summs) (fused, as in
** llama.cpp's build: q5_k.c), added after the fold.
** As for Q6_K (ktile16_q6k_avx512.c): a 4-element sum of 5-bit codes and Q8_K
** activations is at most 4 * 31 * 128 < 2^15, so per lane, token and pair of
** sub-blocks two vpdpbusd give the two sums of 16 rows, a shift and a select
** put them into the int16 halves of each dword and one vpdpwssd scales both.
** The codes are unpacked from the raw bytes transposed as dwords (three 16 x 16
** transposes per super-block give each row's d, dmin, scales, qh and qs in
** lanes) and assembled in place; the activations are Q8_K's bytes. */
#include "runtime/quant/ktile.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile_avx512.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* One super-block of a 16-row group.  c[8 j + k], lane r: the 4 codes of row
** r's elements 4k .. 4k + 3 of sub-block j (ggml's lane k); sp[m], mn[m], lane
** r: (sc_2m, sc_2m+1), (min_2m, min_2m+1) as int16; dx, dmx the rows' d and
** dmin. */
typedef struct zq5k {
    __m512i c[64];
    __m512i sp[4];
    __m512i mn[4];
    __m512 dx, dmx;
} zq5k;

/* One Q8_K super-block of one token: q[i] = its codes 4i .. 4i + 3; mp[m] the
** bsum sums of sub-blocks 2m and 2m + 1 as an int16 pair; d. */
typedef struct kact5 {
    int32_t q[64];
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
            memcpy(p->q, y->qs, sizeof p->q);
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
        for (int p = 0; p < 4; p++) {
            z->mn[p] = _mm512_or_si512(mn[2 * p], _mm512_slli_epi32(mn[2 * p + 1], 16));
            z->sp[p] = _mm512_or_si512(sc[2 * p], _mm512_slli_epi32(sc[2 * p + 1], 16));
        }
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            int c = j / 2, hi = j % 2;
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i q = qs[8 * c + k];
                if (hi) q = _mm512_srli_epi32(q, 4);
                __m512i t = h[4 + k]; /* bit j of each qh byte to bit 4 */
                t = j <= 4 ? _mm512_slli_epi32(t, 4 - j) : _mm512_srli_epi32(t, j - 4);
                /* (q & 15) | (t & 16) */
                z->c[8 * j + k] = _mm512_ternarylogic_epi32(q, _mm512_and_si512(t, b4), m4, 0xec);
            }
        }
    }
}

/* 16 rows x NT tokens (k .. k + NT - 1) of Q5_K: per lane l, token and pair
** of sub-blocks (2m, 2m + 1) two vpdpbusd, a shift and a select, one vpdpwssd;
** two integer chains per token (even and odd m); the float lanes in memory
** (one update per lane, token and super-block); the mins' sum per token. */
static inline __attribute__((always_inline)) void
q5k_tile(const int nt, int64_t nsb, const zq5k *pw, const kact5 *pa, int64_t n_tok, int64_t k,
         const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[8][8], summs[8]; /* [lane][token], [token] */
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero)); /* stores of a register, not a memset */
    for (int t = 0; t < nt; t++) {
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
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            d[t] = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[t].d));
        for (int l = 0; l < 8; l++) {
            __m512i s[8], e[8];
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                s[t] = _mm512_setzero_si512();
                e[t] = _mm512_setzero_si512();
            }
            ktile_pair_sums(nt, W->c, W->sp, l, A[0].q, KACT5_INTS, s, e);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                acc[l][t] = _mm512_fmadd_ps(d[t], _mm512_cvtepi32_ps(_mm512_add_epi32(s[t], e[t])),
                                            acc[l][t]);
        }
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            __m512i m = _mm512_setzero_si512();
            for (int p = 0; p < 4; p++)
                DOTW_BCAST(m, W->mn[p], A[t].mp[p]);
            __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(-A[t].d), W->dmx);
            summs[t] = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(m), summs[t]);
        }
    }
    for (int t = 0; t < nt; t++) {
        __m512 a[8];
        for (int l = 0; l < 8; l++)
            a[l] = acc[l][t];
        _mm512_storeu_ps(out + (size_t)t * out_stride, _mm512_add_ps(fold8(a), summs[t]));
    }
}

/* q5k_tile for nt = 8, 4, 2, 1 (ktile_nt_fn) */
static void q5k_tiles(int nt, int64_t nsb, const void *pw, const void *pa, int64_t n_tok, int64_t k,
                      const char *next, size_t rs, float *out, size_t out_stride) {
    const zq5k *w = pw;
    const kact5 *a = pa;
    if (nt == 8)
        q5k_tile(8, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else if (nt == 4)
        q5k_tile(4, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else if (nt == 2)
        q5k_tile(2, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else
        q5k_tile(1, nsb, w, a, n_tok, k, next, rs, out, out_stride);
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
        ktile_tokens(q5k_tiles, nsb, pw, pack, n_tok, next, w_stride, out + (size_t)g, out_stride);
    }
    free(pack);
    free(pw);
    return TL_OK;
}
