/* runtime/quant/ktile16_q6k_avx512.c -- the 16-rows-in-lanes GEMM tile of
** Q6_K in ggml's one-row order (see ktile.h, ktile_avx512.h).
**
** ggml's lane k of a row holds, per super-block, the exact integer
**   s_k = sum over the elements e with (e % 32) / 4 == k of sc_(e/16) (q_e + 32) y_e
**         - 32 (sc_2k bsum_2k + sc_2k+1 bsum_2k+1)
** (q_e + 32 the unsigned 6-bit code), then acc_k = fma(d_x d_y, (float)s_k, acc_k).
** Every 4-element group has its own scale, so the weights are kept as int16
** sc * (q + 32) (at most 128 * 63), two per dword lane, and multiplied with
** vpdpwssd against int16 activation pairs; lane k starts from the offset
** term, a vpdpwssd of (32 sc_2k, 32 sc_2k+1) against (-bsum_2k, -bsum_2k+1).
**
** Packing a 16-row group, per super-block: the raw bytes (ql, qh) are
** transposed as dwords, so lane r of one vector holds row r's 4 codes of one
** 4-element group (ql bytes 4k..4k+3 and the qh bytes with their top bits);
** the 6-bit codes are assembled in place (shifts, a mask, one ternary-logic
** select) and turned into the int16 products by vpmaddubsw against the scale
** in every other byte: (q_e0 sc, q_e2 sc) in one vector, (q_e1 sc, q_e3 sc) in
** the next.  The activations are paired to match: (y_e0, y_e2), (y_e1, y_e3). */
#include "runtime/quant/ktile.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/ktile_avx512.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* One super-block of a 16-row group.  c[8 ch + k], lane r: the 4 unsigned
** codes (q + 32) of row r's elements 32 ch + 4k .. + 3 (ggml's lane k of
** chunk ch); sp[4 h + m], lane r: the int16 pair (sc_(4m + h), sc_(4m + 2 + h))
** of row r, the scales of chunks 2m and 2m + 1 in lanes k with k / 4 == h;
** off[k], lane r: (32 sc_2k, 32 sc_2k+1); dx the rows' d. */
typedef struct zq6k {
    __m512i c[64];
    __m512i sp[8];
    __m512i off[8];
    __m512 dx;
} zq6k;

/* One Q8_K super-block of one token: q[i] = its codes 4i .. 4i + 3 (dword i of
** qs); bs[k] = (-bsum_2k, -bsum_2k+1) as int16; d. */
typedef struct kact6 {
    int32_t q[64];
    int32_t bs[8];
    float d;
    int32_t pad[7];
} kact6;
_Static_assert(sizeof(kact6) % 64 == 0, "kact6 keeps 64-byte alignment");
#define KACT6_INTS ((int)(sizeof(kact6) / sizeof(int32_t)))

static kact6 *pack_acts_q6k(const void *act, size_t act_stride, int64_t nsb, int64_t n_tok) {
    kact6 *pack = tile_alloc64((size_t)(nsb * n_tok) * sizeof(kact6));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++) {
        const char *row = (const char *)act + (size_t)k * act_stride;
        for (int64_t b = 0; b < nsb; b++) {
            const blk_q8_K *y = (const blk_q8_K *)(row + (size_t)b * sizeof(blk_q8_K));
            kact6 *p = &pack[b * n_tok + k];
            memcpy(p->q, y->qs, sizeof p->q);
            int16_t bs[16];
            memcpy(bs, y->bsums, sizeof bs);
            for (int i = 0; i < 8; i++)
                p->bs[i] = (int32_t)(((uint32_t)(uint16_t)(int16_t)-bs[2 * i]) |
                                     ((uint32_t)(uint16_t)(int16_t)-bs[2 * i + 1] << 16));
            memcpy(&p->d, &y->d, sizeof p->d);
        }
    }
    return pack;
}

/* A vpshufb control giving every dword of a 128-bit lane the bytes a, b, c, e
** of that same dword (128: a zero byte): pick(128, j, 128, 128) puts byte j
** in byte 1, pick(128, 128, 128, j) in byte 3. */
#define BYTES4(a, b, c, e)                                                                         \
    ((int)((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(e) << 24))
static inline __m512i pick(int a, int b, int c, int e) {
    return _mm512_setr4_epi32(
        BYTES4(a, b, c, e),
        BYTES4(a + 4 * (a < 128), b + 4 * (b < 128), c + 4 * (c < 128), e + 4 * (e < 128)),
        BYTES4(a + 8 * (a < 128), b + 8 * (b < 128), c + 8 * (c < 128), e + 8 * (e < 128)),
        BYTES4(a + 12 * (a < 128), b + 12 * (b < 128), c + 12 * (c < 128), e + 12 * (e < 128)));
}

static void pack_group_q6k(int64_t nsb, const char *g, size_t rs, zq6k *pw) {
    const __m512i m4 = _mm512_set1_epi8(15), m33 = _mm512_set1_epi8(0x33);
    const __m512i mcc = _mm512_set1_epi8((char)0xcc);
    __m512i poff[2], plo[2], phi[2];
    poff[0] = pick(128, 2, 128, 3); /* even k: bytes 2, 3 */
    poff[1] = pick(128, 0, 128, 1);
    for (int h = 0; h < 2; h++) {
        plo[h] = pick(128, 2 + h, 128, 128);
        phi[h] = pick(128, 128, 128, h);
    }
    for (int64_t b = 0; b < nsb; b++) {
        const char *blk = g + (size_t)b * sizeof(blk_q6_K);
        zq6k *z = pw + b;
        if (b + 1 < nsb) /* the next super-block of the 16 rows, into L1 */
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 256; l += 64)
                    _mm_prefetch(blk + sizeof(blk_q6_K) + (size_t)r * rs + l, _MM_HINT_T0);
        /* bytes 146..209 transposed: scales[j] is byte (j + 2) % 4 of dword
        ** 11 + (j + 2) / 4, d the high half of dword 15 */
        __m512i t[16];
        load_transposed16(blk + 146, rs, t);
        z->dx = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(t[15], 16)));
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) /* (sc << 8) >> 3 = 32 sc */
            z->off[k] = _mm512_srai_epi16(_mm512_shuffle_epi8(t[11 + (k + 1) / 2], poff[k % 2]), 3);
            /* sc_(4m + h): byte 2 + h of dword 11 + m; sc_(4m + 2 + h): byte h of
            ** dword 12 + m; each moved to the top of its int16 and shifted down */
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
            for (int m = 0; m < 4; m++)
                z->sp[4 * h + m] =
                    _mm512_srai_epi16(_mm512_or_si512(_mm512_shuffle_epi8(t[11 + m], plo[h]),
                                                      _mm512_shuffle_epi8(t[12 + m], phi[h])),
                                      8);
        __m512i qh[16];
        load_transposed16(blk + 128, rs, qh);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m512i ql[16];
            load_transposed16(blk + 64 * h, rs, ql);
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i l0 = ql[k], l1 = ql[8 + k], hb = qh[8 * h + k];
                __m512i qa = _mm512_and_si512(hb, m33), qb = _mm512_and_si512(hb, mcc);
                /* (x & 15) | (y & ~15): y keeps the two top bits in bits 4-5;
                ** chunks 4h .. 4h + 3 */
                z->c[8 * (4 * h) + k] =
                    _mm512_ternarylogic_epi32(l0, _mm512_slli_epi32(qa, 4), m4, 0xe4);
                z->c[8 * (4 * h + 1) + k] =
                    _mm512_ternarylogic_epi32(l1, _mm512_slli_epi32(qb, 2), m4, 0xe4);
                z->c[8 * (4 * h + 2) + k] =
                    _mm512_ternarylogic_epi32(_mm512_srli_epi32(l0, 4), qa, m4, 0xe4);
                z->c[8 * (4 * h + 3) + k] = _mm512_ternarylogic_epi32(
                    _mm512_srli_epi32(l1, 4), _mm512_srli_epi32(qb, 2), m4, 0xe4);
            }
        }
    }
}

/* 16 rows x NT tokens (k .. k + NT - 1) of Q6_K.  Per lane l, token and pair
** of chunks (2m, 2m + 1): two vpdpbusd give the chunks' exact 4-element sums
** (|sum| <= 4 * 63 * 128 < 2^15), one shift and one ternary-logic op put them
** into the two int16 halves of a dword, one vpdpwssd multiplies them by their
** scales and adds both: 3 multiply-add instructions per 128 multiply-adds
** where int16 weights need 4, and the shift and select run on other pipes.
** Two integer chains per token (even and odd m); the float lanes in memory
** (one update per lane, token and super-block). */
static inline __attribute__((always_inline)) void
q6k_tile(const int nt, int64_t nsb, const zq6k *pw, const kact6 *pa, int64_t n_tok, int64_t k,
         const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[8][8]; /* [lane][token] */
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero)); /* stores of a register, not a memset */
    for (int l = 0; l < 8; l++)
        for (int t = 0; t < nt; t++)
            acc[l][t] = zero;
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 210; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 210 + l, _MM_HINT_T0);
        const zq6k *W = pw + b;
        const kact6 *A = pa + b * n_tok + k;
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
                DOTW_BCAST(s[t], W->off[l], A[t].bs[l]);
            }
            ktile_pair_sums(nt, W->c, W->sp + 4 * (l >= 4), l, A[0].q, KACT6_INTS, s, e);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                acc[l][t] = _mm512_fmadd_ps(d[t], _mm512_cvtepi32_ps(_mm512_add_epi32(s[t], e[t])),
                                            acc[l][t]);
        }
    }
    for (int t = 0; t < nt; t++) {
        __m512 a[8];
        for (int l = 0; l < 8; l++)
            a[l] = acc[l][t];
        _mm512_storeu_ps(out + (size_t)t * out_stride, fold8(a));
    }
}

/* q6k_tile for nt = 8, 4, 2, 1 (ktile_nt_fn) */
static void q6k_tiles(int nt, int64_t nsb, const void *pw, const void *pa, int64_t n_tok, int64_t k,
                      const char *next, size_t rs, float *out, size_t out_stride) {
    const zq6k *w = pw;
    const kact6 *a = pa;
    if (nt == 8)
        q6k_tile(8, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else if (nt == 4)
        q6k_tile(4, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else if (nt == 2)
        q6k_tile(2, nsb, w, a, n_tok, k, next, rs, out, out_stride);
    else
        q6k_tile(1, nsb, w, a, n_tok, k, next, rs, out, out_stride);
}

tl_status tl_ktile_gemm_q6k(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                            const void *act, size_t act_stride, int64_t n_tok, float *out,
                            size_t out_stride) {
    int64_t nsb = n / QK_K;
    kact6 *pack = pack_acts_q6k(act, act_stride, nsb, n_tok);
    zq6k *pw = tile_alloc64((size_t)nsb * sizeof(*pw));
    if (!pack || !pw) {
        free(pack);
        free(pw);
        return tl_fail(TL_ERR_NOMEM, "ktile16: out of memory");
    }
    for (int64_t g = r0; g < r16; g += 16) {
        const char *base = (const char *)w + (size_t)g * w_stride;
        pack_group_q6k(nsb, base, w_stride, pw);
        const char *next = g + 16 < r16 ? base + 16 * w_stride : NULL;
        ktile_tokens(q6k_tiles, nsb, pw, pack, n_tok, next, w_stride, out + (size_t)g, out_stride);
    }
    free(pack);
    free(pw);
    return TL_OK;
}
