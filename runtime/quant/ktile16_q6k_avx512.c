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

/* One super-block of a 16-row group.  w[2 (e / 4)], lane r: (sc q_e0,
** sc q_e2) of the 4-element group e0..e3 = e..e+3 of row r, w[2 (e / 4) + 1]:
** (sc q_e1, sc q_e3), with q the unsigned code; off[k], lane r: (32 sc_2k,
** 32 sc_2k+1); dx the rows' d. */
typedef struct zq6k {
    __m512i w[128];
    __m512i off[8];
    __m512 dx;
} zq6k;

/* One Q8_K super-block of one token paired as the weights: yp[2i] =
** (y_4i, y_4i+2), yp[2i + 1] = (y_4i+1, y_4i+3) as int16; bs[k] =
** (-bsum_2k, -bsum_2k+1); d. */
typedef struct kact6 {
    int32_t yp[128];
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
            for (int i = 0; i < 64; i++) {
                const int8_t *q = y->qs + 4 * i;
                p->yp[2 * i] = (int32_t)((uint32_t)(uint16_t)(int16_t)q[0] |
                                         ((uint32_t)(uint16_t)(int16_t)q[2] << 16));
                p->yp[2 * i + 1] = (int32_t)((uint32_t)(uint16_t)(int16_t)q[1] |
                                             ((uint32_t)(uint16_t)(int16_t)q[3] << 16));
            }
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
** of that same dword (128: a zero byte): pick(j, 128, j, 128) puts byte j in
** bytes 0 and 2, pick(128, i, 128, i + 1) bytes i, i + 1 in the high halves
** of the two words. */
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
    __m512i pe[4], po[4], poff[2];
    for (int j = 0; j < 4; j++) {
        pe[j] = pick(j, 128, j, 128);
        po[j] = pick(128, j, 128, j);
    }
    poff[0] = pick(128, 2, 128, 3); /* even k: bytes 2, 3 */
    poff[1] = pick(128, 0, 128, 1);
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
        __m512i se[16], so[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
            se[j] = _mm512_shuffle_epi8(t[11 + (j + 2) / 4], pe[(j + 2) % 4]);
            so[j] = _mm512_shuffle_epi8(t[11 + (j + 2) / 4], po[(j + 2) % 4]);
        }
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
                __m512i c[4];
                /* (x & 15) | (y & ~15): y keeps the two top bits in bits 4-5 */
                c[0] = _mm512_ternarylogic_epi32(l0, _mm512_slli_epi32(qa, 4), m4, 0xe4);
                c[1] = _mm512_ternarylogic_epi32(l1, _mm512_slli_epi32(qb, 2), m4, 0xe4);
                c[2] = _mm512_ternarylogic_epi32(_mm512_srli_epi32(l0, 4), qa, m4, 0xe4);
                c[3] = _mm512_ternarylogic_epi32(_mm512_srli_epi32(l1, 4), _mm512_srli_epi32(qb, 2),
                                                 m4, 0xe4);
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    int gi = 4 * h + i, j = 2 * gi + (k >= 4);
                    z->w[16 * gi + 2 * k] = _mm512_maddubs_epi16(c[i], se[j]);
                    z->w[16 * gi + 2 * k + 1] = _mm512_maddubs_epi16(c[i], so[j]);
                }
            }
        }
    }
}

/* 16 rows x 2 tokens (nt = 2) or 1 token (nt = 1) of Q6_K */
static void q6k_16xn(int64_t nsb, const zq6k *pw, const kact6 *pa, int64_t n_tok, int64_t k, int nt,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[2][8];
    for (int t = 0; t < 2; t++)
        for (int l = 0; l < 8; l++)
            acc[t][l] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 210; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 210 + l, _MM_HINT_T0);
        const zq6k *W = pw + b;
        const kact6 *A0 = pa + b * n_tok + k, *A1 = nt > 1 ? A0 + 1 : A0;
        __m512 d0 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A0->d));
        __m512 d1 = _mm512_mul_ps(W->dx, _mm512_set1_ps(A1->d));
        for (int l = 0; l < 8; l += 2) {
            /* lanes l and l + 1, two chains each (even and odd groups);
            ** pointers with constant offsets keep the loop free of index
            ** arithmetic */
            const __m512i *wl = W->w + 2 * l;
            const int32_t *y0 = A0->yp + 2 * l, *y1 = A1->yp + 2 * l;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
            __m512i c0 = a0, c1 = a0, e0 = a0, e1 = a0;
            DOTW_BCAST(a0, W->off[l], A0->bs[l]);
            DOTW_BCAST(a1, W->off[l], A1->bs[l]);
            DOTW_BCAST(c0, W->off[l + 1], A0->bs[l + 1]);
            DOTW_BCAST(c1, W->off[l + 1], A1->bs[l + 1]);
#pragma GCC unroll 4
            for (int g = 0; g < 128; g += 32) {
                __m512i w0 = wl[g], w1 = wl[g + 1], w2 = wl[g + 2], w3 = wl[g + 3];
                DOTW_BCAST(a0, w0, y0[g]);
                DOTW_BCAST(a1, w0, y1[g]);
                DOTW_BCAST(a0, w1, y0[g + 1]);
                DOTW_BCAST(a1, w1, y1[g + 1]);
                DOTW_BCAST(c0, w2, y0[g + 2]);
                DOTW_BCAST(c1, w2, y1[g + 2]);
                DOTW_BCAST(c0, w3, y0[g + 3]);
                DOTW_BCAST(c1, w3, y1[g + 3]);
                __m512i v0 = wl[g + 16], v1 = wl[g + 17], v2 = wl[g + 18], v3 = wl[g + 19];
                DOTW_BCAST(b0, v0, y0[g + 16]);
                DOTW_BCAST(b1, v0, y1[g + 16]);
                DOTW_BCAST(b0, v1, y0[g + 17]);
                DOTW_BCAST(b1, v1, y1[g + 17]);
                DOTW_BCAST(e0, v2, y0[g + 18]);
                DOTW_BCAST(e1, v2, y1[g + 18]);
                DOTW_BCAST(e0, v3, y0[g + 19]);
                DOTW_BCAST(e1, v3, y1[g + 19]);
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
    }
    _mm512_storeu_ps(out, fold8(acc[0]));
    if (nt > 1) _mm512_storeu_ps(out + out_stride, fold8(acc[1]));
}

/* 16 rows x 4 tokens of Q6_K: each weight vector loaded once for 4 tokens
** (the 2-token tile is bound by its loads); 16 integer chains in registers,
** the float lanes in memory (one update per lane and super-block). */
static void q6k_16x4(int64_t nsb, const zq6k *pw, const kact6 *pa, int64_t n_tok, int64_t k,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[4][8];
    for (int t = 0; t < 4; t++)
        for (int l = 0; l < 8; l++)
            acc[t][l] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 210; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 210 + l, _MM_HINT_T0);
        const zq6k *W = pw + b;
        const kact6 *A = pa + b * n_tok + k;
        __m512 d[4];
        for (int t = 0; t < 4; t++)
            d[t] = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[t].d));
        for (int l = 0; l < 8; l += 2) {
            const __m512i *wl = W->w + 2 * l;
            const int32_t *y0 = A[0].yp + 2 * l, *y1 = A[1].yp + 2 * l, *y2 = A[2].yp + 2 * l,
                          *y3 = A[3].yp + 2 * l;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            __m512i e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            DOTW_BCAST(a0, W->off[l], A[0].bs[l]);
            DOTW_BCAST(a1, W->off[l], A[1].bs[l]);
            DOTW_BCAST(a2, W->off[l], A[2].bs[l]);
            DOTW_BCAST(a3, W->off[l], A[3].bs[l]);
            DOTW_BCAST(c0, W->off[l + 1], A[0].bs[l + 1]);
            DOTW_BCAST(c1, W->off[l + 1], A[1].bs[l + 1]);
            DOTW_BCAST(c2, W->off[l + 1], A[2].bs[l + 1]);
            DOTW_BCAST(c3, W->off[l + 1], A[3].bs[l + 1]);
#pragma GCC unroll 4
            for (int g = 0; g < 128; g += 32) {
                __m512i w0 = wl[g], w1 = wl[g + 1], w2 = wl[g + 2], w3 = wl[g + 3];
                __m512i v0 = wl[g + 16], v1 = wl[g + 17], v2 = wl[g + 18], v3 = wl[g + 19];
                DOTW_BCAST(a0, w0, y0[g + 0]);
                DOTW_BCAST(a1, w0, y1[g + 0]);
                DOTW_BCAST(a2, w0, y2[g + 0]);
                DOTW_BCAST(a3, w0, y3[g + 0]);
                DOTW_BCAST(a0, w1, y0[g + 1]);
                DOTW_BCAST(a1, w1, y1[g + 1]);
                DOTW_BCAST(a2, w1, y2[g + 1]);
                DOTW_BCAST(a3, w1, y3[g + 1]);
                DOTW_BCAST(c0, w2, y0[g + 2]);
                DOTW_BCAST(c1, w2, y1[g + 2]);
                DOTW_BCAST(c2, w2, y2[g + 2]);
                DOTW_BCAST(c3, w2, y3[g + 2]);
                DOTW_BCAST(c0, w3, y0[g + 3]);
                DOTW_BCAST(c1, w3, y1[g + 3]);
                DOTW_BCAST(c2, w3, y2[g + 3]);
                DOTW_BCAST(c3, w3, y3[g + 3]);
                DOTW_BCAST(b0, v0, y0[g + 16]);
                DOTW_BCAST(b1, v0, y1[g + 16]);
                DOTW_BCAST(b2, v0, y2[g + 16]);
                DOTW_BCAST(b3, v0, y3[g + 16]);
                DOTW_BCAST(b0, v1, y0[g + 17]);
                DOTW_BCAST(b1, v1, y1[g + 17]);
                DOTW_BCAST(b2, v1, y2[g + 17]);
                DOTW_BCAST(b3, v1, y3[g + 17]);
                DOTW_BCAST(e0, v2, y0[g + 18]);
                DOTW_BCAST(e1, v2, y1[g + 18]);
                DOTW_BCAST(e2, v2, y2[g + 18]);
                DOTW_BCAST(e3, v2, y3[g + 18]);
                DOTW_BCAST(e0, v3, y0[g + 19]);
                DOTW_BCAST(e1, v3, y1[g + 19]);
                DOTW_BCAST(e2, v3, y2[g + 19]);
                DOTW_BCAST(e3, v3, y3[g + 19]);
            }
#define Q6_FOLD(t, x, y, z, u)                                                                     \
    acc[t][l] = _mm512_fmadd_ps(d[t], _mm512_cvtepi32_ps(_mm512_add_epi32(x, y)), acc[t][l]);      \
    acc[t][l + 1] = _mm512_fmadd_ps(d[t], _mm512_cvtepi32_ps(_mm512_add_epi32(z, u)), acc[t][l + 1])
            Q6_FOLD(0, a0, b0, c0, e0);
            Q6_FOLD(1, a1, b1, c1, e1);
            Q6_FOLD(2, a2, b2, c2, e2);
            Q6_FOLD(3, a3, b3, c3, e3);
#undef Q6_FOLD
        }
    }
    for (int t = 0; t < 4; t++)
        _mm512_storeu_ps(out + (size_t)t * out_stride, fold8(acc[t]));
}

/* 16 rows x 8 tokens of Q6_K: each weight vector loaded once for 8 tokens;
** one lane at a time, one integer chain per token; the float lanes in
** memory (one update per lane, token and super-block). */
static void q6k_16x8(int64_t nsb, const zq6k *pw, const kact6 *pa, int64_t n_tok, int64_t k,
                     const char *next, size_t rs, float *out, size_t out_stride) {
    __m512 acc[8][8]; /* [lane][token] */
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero)); /* stores of a register, not a memset */
    for (int l = 0; l < 8; l++)
        for (int t = 0; t < 8; t++)
            acc[l][t] = zero;
    for (int64_t b = 0; b < nsb; b++) {
        if (next)
            for (int r = 0; r < 16; r++)
                for (int l = 0; l < 210; l += 64)
                    _mm_prefetch(next + (size_t)r * rs + (size_t)b * 210 + l, _MM_HINT_T0);
        const zq6k *W = pw + b;
        const kact6 *A = pa + b * n_tok + k;
        __m512 d[8];
        for (int t = 0; t < 8; t++)
            d[t] = _mm512_mul_ps(W->dx, _mm512_set1_ps(A[t].d));
        for (int l = 0; l < 8; l++) {
            const __m512i *wl = W->w + 2 * l;
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
            __m512i s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            __m512i o = W->off[l];
            DOTW_BCAST(s0, o, A[0].bs[l]);
            DOTW_BCAST(s1, o, A[1].bs[l]);
            DOTW_BCAST(s2, o, A[2].bs[l]);
            DOTW_BCAST(s3, o, A[3].bs[l]);
            DOTW_BCAST(s4, o, A[4].bs[l]);
            DOTW_BCAST(s5, o, A[5].bs[l]);
            DOTW_BCAST(s6, o, A[6].bs[l]);
            DOTW_BCAST(s7, o, A[7].bs[l]);
#pragma GCC unroll 8
            for (int g = 0; g < 128; g += 16) {
                __m512i w0 = wl[g], w1 = wl[g + 1];
                const int32_t *y = A[0].yp + 2 * l + g;
#define Q6_T8(w, j)                                                                                \
    DOTW_BCAST(s0, w, y[j]);                                                                       \
    DOTW_BCAST(s1, w, y[j + 1 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s2, w, y[j + 2 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s3, w, y[j + 3 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s4, w, y[j + 4 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s5, w, y[j + 5 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s6, w, y[j + 6 * KACT6_INTS]);                                                      \
    DOTW_BCAST(s7, w, y[j + 7 * KACT6_INTS])
                Q6_T8(w0, 0);
                Q6_T8(w1, 1);
#undef Q6_T8
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
    }
    for (int t = 0; t < 8; t++) {
        __m512 a[8];
        for (int l = 0; l < 8; l++)
            a[l] = acc[l][t];
        _mm512_storeu_ps(out + (size_t)t * out_stride, fold8(a));
    }
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
        int64_t k = 0;
        for (; k + 8 <= n_tok; k += 8, next = NULL)
            q6k_16x8(nsb, pw, pack, n_tok, k, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
        for (; k + 4 <= n_tok; k += 4, next = NULL)
            q6k_16x4(nsb, pw, pack, n_tok, k, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
        for (; k < n_tok; k += 2, next = NULL)
            q6k_16xn(nsb, pw, pack, n_tok, k, n_tok - k > 1 ? 2 : 1, next, w_stride,
                     out + (size_t)k * out_stride + (size_t)g, out_stride);
    }
    free(pack);
    free(pw);
    return TL_OK;
}
