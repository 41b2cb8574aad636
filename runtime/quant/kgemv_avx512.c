/* runtime/quant/kgemv_avx512.c -- one-token matrix-vector products for Q4_K,
** Q5_K and Q6_K with AVX-512 VNNI (see ktile.h): one row at a time, the whole
** super-block in 512-bit vectors, each thread reading its rows as one
** sequential stream; and Q6_K against up to 8 tokens the same way, each
** super-block decoded once for all of them.
**
** Q4_K in llama.cpp's repacked GEMV order (runtime/quant.h): per super-block
** the exact integer sum of sc_j * sum(q * y) over the 8 sub-blocks and of
** min_j * (bsum pair of sub-block j), then acc = fma((float)S, d_x * d_y, acc),
** accm = fma((float)M, dmin_x * d_y, accm); the result acc - accm.
** The 128 nibble bytes are two vectors whose low (high) nibbles are sub-blocks
** 0 and 2 (1 and 3), resp. 4 and 6 (5 and 7); the activations are rearranged
** once per call to match, so vpdpbusd gives 4-element sums (at most 7620 in
** magnitude), which are packed to 16 bits and scaled with vpdpwssd. */
#include "runtime/quant/ktile.h"

#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* One Q8_K super-block rearranged for the Q4_K rows: y[v] pairs with the low
** (v even) or high (v odd) nibbles of qs bytes 64 (v / 2) .. +63. */
typedef struct gact {
    __m512i y[4];
    __m128i bp; /* bsum pairs of sub-blocks 0..7 as int16 */
    float d;
    int32_t pad[11];
} gact;

static inline __m512i cat256(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* S and M of one Q4_K super-block against its rearranged activations */
static inline void q4k_sums(const blk_q4_K *x, const gact *a, int32_t *S, int32_t *M) {
    const __m512i m4 = _mm512_set1_epi8(15);
    /* word w of 128-bit lane L: scale of sub-block (L < 2 ? 0 : 2) + (w >= 4) (+4 for the
    ** second vector); -1 bytes give the zero high halves */
    const __m512i pick01 =
        _mm512_set_epi8(-1, 3, -1, 3, -1, 3, -1, 3, -1, 2, -1, 2, -1, 2, -1, 2, -1, 3, -1, 3, -1, 3,
                        -1, 3, -1, 2, -1, 2, -1, 2, -1, 2, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, -1, 0,
                        -1, 0, -1, 0, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, -1, 0, -1, 0, -1, 0);
    const __m512i pick23 = _mm512_add_epi8(pick01, _mm512_set1_epi16(4));
    __m128i sm = tl_unpack_scales_mins(x->scales);
    __m512i scb = _mm512_broadcastq_epi64(sm);
    __m512i q0 = _mm512_loadu_si512(x->qs), q1 = _mm512_loadu_si512(x->qs + 64);
    __m512i z = _mm512_setzero_si512();
    __m512i p0 = _mm512_dpbusd_epi32(z, _mm512_and_si512(q0, m4), a->y[0]);
    __m512i p1 = _mm512_dpbusd_epi32(z, _mm512_and_si512(_mm512_srli_epi16(q0, 4), m4), a->y[1]);
    __m512i p2 = _mm512_dpbusd_epi32(z, _mm512_and_si512(q1, m4), a->y[2]);
    __m512i p3 = _mm512_dpbusd_epi32(z, _mm512_and_si512(_mm512_srli_epi16(q1, 4), m4), a->y[3]);
    __m512i s =
        _mm512_dpwssd_epi32(z, _mm512_packs_epi32(p0, p1), _mm512_shuffle_epi8(scb, pick01));
    s = _mm512_dpwssd_epi32(s, _mm512_packs_epi32(p2, p3), _mm512_shuffle_epi8(scb, pick23));
    *S = _mm512_reduce_add_epi32(s);
    __m128i m = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), a->bp);
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xb1));
    *M = _mm_cvtsi128_si32(m);
}

#define GEMV_MAX_SB 128

/* The nsb Q8_K super-blocks at act rearranged (the same for Q4_K and Q5_K:
** y[2c + h] holds the 32 activations of sub-blocks 4c + h and 4c + 2 + h). */
static void pack_gact(const void *act, int64_t nsb, gact *pa) {
    for (int64_t b = 0; b < nsb; b++) {
        blk_q8_K y;
        memcpy(&y, (const char *)act + (size_t)b * sizeof y, sizeof y);
        pa[b].y[0] = cat256(y.qs, y.qs + 64);
        pa[b].y[1] = cat256(y.qs + 32, y.qs + 96);
        pa[b].y[2] = cat256(y.qs + 128, y.qs + 192);
        pa[b].y[3] = cat256(y.qs + 160, y.qs + 224);
        __m256i bs = _mm256_loadu_si256((const __m256i *)y.bsums);
        pa[b].bp = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        pa[b].d = y.d;
    }
}

static tl_status gemv_q4k(int64_t n, const void *w, size_t rs, int64_t r0, int64_t r1,
                          const void *act, float *out) {
    int64_t nsb = n / QK_K;
    _Alignas(64) gact pa[GEMV_MAX_SB];
    pack_gact(act, nsb, pa);
    for (int64_t r = r0; r < r1; r++) {
        const blk_q4_K *x = (const blk_q4_K *)((const char *)w + (size_t)r * rs);
        float acc = 0.0f, accm = 0.0f;
        for (int64_t b = 0; b < nsb; b++) {
            /* ~14 super-blocks ahead: at ~12 cycles per super-block that covers
            ** DRAM latency (1024 B ahead: 11.9 GB/s from DRAM, 2048: 14.3, 4096:
            ** 13.4; in cache the kernel does ~19.5) */
            _mm_prefetch((const char *)(x + b) + 2048, _MM_HINT_T0);
            _mm_prefetch((const char *)(x + b) + 2048 + 64, _MM_HINT_T0);
            int32_t S, M;
            q4k_sums(&x[b], &pa[b], &S, &M);
            acc = fmaf((float)S, f16_to_f32_hw(x[b].d) * pa[b].d, acc);
            accm = fmaf((float)M, f16_to_f32_hw(x[b].dmin) * pa[b].d, accm);
        }
        out[r] = acc - accm;
    }
    return TL_OK;
}

/* ---- Q5_K in ggml's one-row order (tl_q5_K_dot) ------------------------------
** Lane k of sub-block j (32 elements) is its elements 4k .. 4k + 3; s_k = sum
** over j of sc_j times their 4-element sum (at most 4 * 31 * 128 < 2^15), the
** mins' integer sum apart.  Per half c of the super-block: the codes of
** sub-blocks 4c, 4c + 2 (low nibbles) and 4c + 1, 4c + 3 (high nibbles) with
** their fifth bits, two vpdpbusd against the rearranged activations, the two
** sums put into the int16 halves of each dword and scaled by one vpdpwssd. */
static tl_status gemv_q5k(int64_t n, const void *w, size_t rs, int64_t r0, int64_t r1,
                          const void *act, float *out) {
    int64_t nsb = n / QK_K;
    _Alignas(64) gact pa[GEMV_MAX_SB];
    pack_gact(act, nsb, pa);
    const __m512i m4 = _mm512_set1_epi8(15), one = _mm512_set1_epi8(1);
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    __m512i pidx[2]; /* words 2i, 2i + 1: scales 4c + 2 (i >= 8), 4c + 2 (i >= 8) + 1 */
    for (int c = 0; c < 2; c++) {
        int16_t idx[32];
        for (int i = 0; i < 16; i++) {
            idx[2 * i] = (int16_t)(4 * c + 2 * (i >= 8));
            idx[2 * i + 1] = (int16_t)(4 * c + 2 * (i >= 8) + 1);
        }
        pidx[c] = _mm512_loadu_si512(idx);
    }
    for (int64_t r = r0; r < r1; r++) {
        const blk_q5_K *x = (const blk_q5_K *)((const char *)w + (size_t)r * rs);
        __m256 acc = _mm256_setzero_ps();
        float summs = 0.0f;
        for (int64_t b = 0; b < nsb; b++) {
            _mm_prefetch((const char *)(x + b) + 2048, _MM_HINT_T0);
            _mm_prefetch((const char *)(x + b) + 2048 + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)(x + b) + 2048 + 128, _MM_HINT_T0);
            __m256i sm = _mm256_cvtepu8_epi16(tl_unpack_scales_mins(x[b].scales));
            __m128i p = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pa[b].bp);
            p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
            p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
            int32_t msum = _mm_cvtsi128_si32(p);
            __m512i scw = _mm512_castsi256_si512(sm);
            /* the fifth bits: qh[l] bit 2c' of sub-block 2c' (c' = 0..3); the
            ** high half shifted by 2 so that c' = 2c + 1 sits where 2c does */
            __m256i hb = _mm256_loadu_si256((const __m256i *)x[b].qh);
            __m512i hq =
                _mm512_inserti64x4(_mm512_castsi256_si512(hb), _mm256_srli_epi16(hb, 2), 1);
            __m512i sum = _mm512_setzero_si512();
            for (int c = 0; c < 2; c++) {
                __m512i q = _mm512_loadu_si512(x[b].qs + 64 * c);
                __m512i v0 = _mm512_or_si512(
                    _mm512_and_si512(q, m4),
                    _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hq, 4 * c), one), 4));
                __m512i v1 = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16(q, 4), m4),
                    _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hq, 4 * c + 1), one), 4));
                __m512i z = _mm512_setzero_si512();
                __m512i p0 = _mm512_dpbusd_epi32(z, v0, pa[b].y[2 * c]);
                __m512i p1 = _mm512_dpbusd_epi32(z, v1, pa[b].y[2 * c + 1]);
                __m512i pr = _mm512_ternarylogic_epi32(p0, _mm512_slli_epi32(p1, 16), lo16, 0xe4);
                sum = _mm512_dpwssd_epi32(sum, pr, _mm512_permutexvar_epi16(pidx[c], scw));
            }
            __m256i s8 =
                _mm256_add_epi32(_mm512_castsi512_si256(sum), _mm512_extracti64x4_epi64(sum, 1));
            float dmin = -pa[b].d * f16_to_f32_hw(x[b].dmin);
            summs = fmaf(dmin, (float)msum, summs);
            __m256 d = _mm256_set1_ps(pa[b].d * f16_to_f32_hw(x[b].d));
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s8), acc);
        }
        out[r] = hsum8(acc) + summs;
    }
    return TL_OK;
}

/* ---- Q6_K in ggml's one-row order (tl_q6_K_dot) ------------------------------
** Four 512-bit vectors of unsigned codes q + 32 (groups 2i, 2i + 1 of 32
** elements each) against the activations: vpdpbusd gives the 4-element sums of
** lane k of both groups (|sum| <= 4 * 63 * 128 < 2^15); the sums of two groups
** go into the int16 halves of one dword (a shift and a ternary-logic select)
** and one vpdpwssd scales both by their sub-block scales; the two halves are
** added into ggml's 8 lanes, and one more vpdpwssd of the activations' 16-element
** sums against the scales times -32 takes off its offset (32 sc bsum).  All of
** it is exact integer arithmetic, so any grouping gives ggml's lane sums. */

/* word 2j (2j + 1) of half h's scale pairs: the sub-block of dword j of the
** first (second) vector of codes, less 8h: dword j < 8 is lane j of group 4h
** (second: 4h + 2), dword j >= 8 lane j - 8 of group 4h + 1 (4h + 3). */
static __m512i q6k_pair_index(void) {
    int16_t idx[32];
    for (int j = 0; j < 16; j++) {
        int k = j % 8, g = j / 8; /* g: group 4h + g (first), 4h + 2 + g (second) */
        idx[2 * j] = (int16_t)(2 * g + (k >= 4));
        idx[2 * j + 1] = (int16_t)(4 + 2 * g + (k >= 4));
    }
    return _mm512_loadu_si512(idx);
}

/* One super-block's codes and scale pairs.  Elements 128h + 32c + l: c = 0
** ql[l] low, 1 ql[l + 32] low, 2 ql[l] high, 3 ql[l + 32] high; the 2 high bits
** in qh[32h + l] >> 2c.  v0[h]: groups 4h, 4h + 1 (c = 0, 1); v1[h]: groups
** 4h + 2, 4h + 3 (c = 2, 3); sp[h]: their scale pairs (q6k_pair_index). */
typedef struct q6k_codes {
    __m512i v0[2], v1[2], sp[2];
    __m256i sc32; /* the 16 scales times -32 as int16 (ggml's offset, one vpdpwssd) */
    __m256 d;     /* the super-block's scale in every lane */
} q6k_codes;

static inline __attribute__((always_inline)) void q6k_decode(const blk_q6_K *xb, __m512i pidx,
                                                             q6k_codes *c) {
    const __m512i m4 = _mm512_set1_epi8(15), m3 = _mm512_set1_epi8(3);
    /* 16 super-blocks ahead (4 ahead: 12 GB/s from DRAM, 16: 15-17) */
    _mm_prefetch((const char *)xb + 3360, _MM_HINT_T0);
    _mm_prefetch((const char *)xb + 3360 + 64, _MM_HINT_T0);
    _mm_prefetch((const char *)xb + 3360 + 128, _MM_HINT_T0);
    _mm_prefetch((const char *)xb + 3360 + 192, _MM_HINT_T0);
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)xb->scales));
    c->sc32 = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16), 5);
    __m512i scw = _mm512_castsi256_si512(sc16);
    for (int h = 0; h < 2; h++) {
        __m512i ql = _mm512_loadu_si512(xb->ql + 64 * h); /* ql[l], ql[l + 32] */
        __m256i hb = _mm256_loadu_si256((const __m256i *)(xb->qh + 32 * h));
        __m512i qh = _mm512_inserti64x4(_mm512_castsi256_si512(hb), _mm256_srli_epi16(hb, 2), 1);
        c->v0[h] = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                   _mm512_slli_epi16(_mm512_and_si512(qh, m3), 4));
        c->v1[h] =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 4), m3), 4));
        c->sp[h] =
            _mm512_permutexvar_epi16(h ? _mm512_add_epi16(pidx, _mm512_set1_epi16(8)) : pidx, scw);
    }
    c->d = _mm256_set1_ps(f16_to_f32_hw(xb->d));
}

/* acc + d_y d_x (the super-block's 8 lanes of integer sums against activation
** block y, less ggml's offset 32 sc bsum). */
static inline __attribute__((always_inline)) __m256 q6k_step(const q6k_codes *c, const blk_q8_K *y,
                                                             __m256 acc) {
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    __m512i sum = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
        __m512i z = _mm512_setzero_si512();
        __m512i p0 = _mm512_dpbusd_epi32(z, c->v0[h], _mm512_loadu_si512(y->qs + 128 * h));
        __m512i p1 = _mm512_dpbusd_epi32(z, c->v1[h], _mm512_loadu_si512(y->qs + 128 * h + 64));
        __m512i pr = _mm512_ternarylogic_epi32(p0, _mm512_slli_epi32(p1, 16), lo16, 0xe4);
        sum = _mm512_dpwssd_epi32(sum, pr, c->sp[h]);
    }
    __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(sum), _mm512_extracti64x4_epi64(sum, 1));
    /* less 32 sc bsum: lane j's pair of sub-blocks 2j, 2j + 1 (exact integers) */
    s8 = _mm256_dpwssd_epi32(s8, _mm256_loadu_si256((const __m256i *)y->bsums), c->sc32);
    /* d_y d_x: the one rounded float product ggml forms */
    __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(&y->d), c->d);
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s8), acc);
}

static float q6k_row(const blk_q6_K *x, const blk_q8_K *y, int64_t nsb, __m512i pidx) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        q6k_codes c;
        q6k_decode(x + b, pidx, &c);
        acc = q6k_step(&c, y + b, acc);
    }
    return hsum8(acc);
}

static tl_status gemv_q6k(int64_t n, const void *w, size_t rs, int64_t r0, int64_t r1,
                          const void *act, float *out) {
    int64_t nsb = n / QK_K;
    const blk_q8_K *y = act;
    __m512i pidx = q6k_pair_index();
    for (int64_t r = r0; r < r1; r++)
        out[r] = q6k_row((const blk_q6_K *)((const char *)w + (size_t)r * rs), y, nsb, pidx);
    return TL_OK;
}

/* ---- Q6_K against a few tokens ----------------------------------------------
** q6k_row's arithmetic for R tokens at once: each super-block's codes and scale
** pairs are decoded once and serve every token, whose sums and accumulator are
** its own (the same instructions on the same numbers as q6k_row, so the same
** bits).  Without this a few tokens went to the 16-row tile, which unpacks the
** weights per call: for the 8 rows of an 8-sequence batch step's output head
** that unpacking cost more than the products. */
static inline __attribute__((always_inline)) void q6k_rows(const int R, const blk_q6_K *x,
                                                           const char *act, size_t act_stride,
                                                           int64_t nsb, __m512i pidx,
                                                           float *const *out, int64_t r) {
    __m256 acc[KGEMV_MAX_TOK];
#pragma GCC unroll 8
    for (int k = 0; k < R; k++)
        acc[k] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nsb; b++) {
        q6k_codes c;
        q6k_decode(x + b, pidx, &c);
#pragma GCC unroll 8
        for (int k = 0; k < R; k++)
            acc[k] = q6k_step(&c, (const blk_q8_K *)(act + (size_t)k * act_stride) + b, acc[k]);
    }
#pragma GCC unroll 8
    for (int k = 0; k < R; k++)
        out[k][r] = hsum8(acc[k]);
}

/* ---- Q4_K (repacked GEMV order) against a few tokens: gemv_q4k's arithmetic
** for R tokens, each super-block's codes, scale pairs and mins decoded once.
** Token k is lane k of the float steps: its exact integer sums S and M (the
** horizontal sums of its vectors, added in another order: integers, so the same
** sums) and then lane by lane the same fmaf as gemv_q4k's, so the same bits. */

/* Lane k: the sum of the 16 int32 lanes of v[k]. */
static inline __attribute__((always_inline)) __m256i sum16x8(const __m512i *v) {
    __m256i t[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++)
        t[k] = _mm256_add_epi32(_mm512_castsi512_si256(v[k]), _mm512_extracti64x4_epi64(v[k], 1));
    __m256i g0 = _mm256_hadd_epi32(_mm256_hadd_epi32(t[0], t[1]), _mm256_hadd_epi32(t[2], t[3]));
    __m256i g1 = _mm256_hadd_epi32(_mm256_hadd_epi32(t[4], t[5]), _mm256_hadd_epi32(t[6], t[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(g0, g1, 0x20),
                            _mm256_permute2x128_si256(g0, g1, 0x31));
}

/* Lane k: the dot of the 8 int16 mins with token k's 8 bsum pairs bp[k]. */
static inline __attribute__((always_inline)) __m256i mins_dot8(__m128i mins, const __m128i *bp) {
    __m256i mm = _mm256_broadcastsi128_si256(mins), u[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) /* [token 2i | token 2i + 1] */
        u[i] = _mm256_madd_epi16(
            mm, _mm256_inserti128_si256(_mm256_castsi128_si256(bp[2 * i]), bp[2 * i + 1], 1));
    __m256i c = _mm256_hadd_epi32(_mm256_hadd_epi32(u[0], u[1]), _mm256_hadd_epi32(u[2], u[3]));
    return _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* dy[8 b + k]: token k's activation scale of super-block b (0 past the tokens). */
static inline __attribute__((always_inline)) void q4k_rows(const int R, const blk_q4_K *x,
                                                           const gact *const *pa, const float *dy,
                                                           int64_t nsb, float *const *out,
                                                           int64_t r) {
    const __m512i m4 = _mm512_set1_epi8(15);
    const __m512i pick01 = /* as in q4k_sums */
        _mm512_set_epi8(-1, 3, -1, 3, -1, 3, -1, 3, -1, 2, -1, 2, -1, 2, -1, 2, -1, 3, -1, 3, -1, 3,
                        -1, 3, -1, 2, -1, 2, -1, 2, -1, 2, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, -1, 0,
                        -1, 0, -1, 0, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0, -1, 0, -1, 0, -1, 0);
    const __m512i pick23 = _mm512_add_epi8(pick01, _mm512_set1_epi16(4));
    __m256 acc = _mm256_setzero_ps(), accm = acc;
    for (int64_t b = 0; b < nsb; b++) {
        const blk_q4_K *xb = x + b;
        _mm_prefetch((const char *)xb + 2048, _MM_HINT_T0);
        _mm_prefetch((const char *)xb + 2048 + 64, _MM_HINT_T0);
        __m128i sm = tl_unpack_scales_mins(xb->scales);
        __m512i scb = _mm512_broadcastq_epi64(sm);
        __m512i w01 = _mm512_shuffle_epi8(scb, pick01), w23 = _mm512_shuffle_epi8(scb, pick23);
        __m512i q0 = _mm512_loadu_si512(xb->qs), q1 = _mm512_loadu_si512(xb->qs + 64);
        __m512i v0 = _mm512_and_si512(q0, m4), v1 = _mm512_and_si512(_mm512_srli_epi16(q0, 4), m4);
        __m512i v2 = _mm512_and_si512(q1, m4), v3 = _mm512_and_si512(_mm512_srli_epi16(q1, 4), m4);
        __m512i sv[8];
        __m128i bp[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            if (k >= R) { /* no token: nothing (the lane is not stored) */
                sv[k] = _mm512_setzero_si512();
                bp[k] = _mm_setzero_si128();
                continue;
            }
            const gact *a = &pa[k][b];
            __m512i z = _mm512_setzero_si512();
            __m512i p0 = _mm512_dpbusd_epi32(z, v0, a->y[0]);
            __m512i p1 = _mm512_dpbusd_epi32(z, v1, a->y[1]);
            __m512i p2 = _mm512_dpbusd_epi32(z, v2, a->y[2]);
            __m512i p3 = _mm512_dpbusd_epi32(z, v3, a->y[3]);
            sv[k] = _mm512_dpwssd_epi32(z, _mm512_packs_epi32(p0, p1), w01);
            sv[k] = _mm512_dpwssd_epi32(sv[k], _mm512_packs_epi32(p2, p3), w23);
            bp[k] = a->bp;
        }
        __m256i S = sum16x8(sv), M = mins_dot8(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), bp);
        __m256 d = _mm256_loadu_ps(dy + 8 * b);
        __m256 dx = _mm256_set1_ps(f16_to_f32_hw(xb->d)),
               dmx = _mm256_set1_ps(f16_to_f32_hw(xb->dmin));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(S), _mm256_mul_ps(dx, d), acc);
        accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(M), _mm256_mul_ps(dmx, d), accm);
    }
    float res[8];
    _mm256_storeu_ps(res, _mm256_sub_ps(acc, accm));
#pragma GCC unroll 8
    for (int k = 0; k < R; k++)
        out[k][r] = res[k];
}

#define KGEMV_ROWS(R)                                                                              \
    static void q6k_rows##R(const blk_q6_K *x, const char *act, size_t as, int64_t nsb,            \
                            __m512i pidx, float *const *out, int64_t r) {                          \
        q6k_rows(R, x, act, as, nsb, pidx, out, r);                                                \
    }                                                                                              \
    static void q4k_rows##R(const blk_q4_K *x, const gact *const *pa, const float *dy,             \
                            int64_t nsb, float *const *out, int64_t r) {                           \
        q4k_rows(R, x, pa, dy, nsb, out, r);                                                       \
    }
KGEMV_ROWS(1)
KGEMV_ROWS(2)
KGEMV_ROWS(3)
KGEMV_ROWS(4)
KGEMV_ROWS(5)
KGEMV_ROWS(6)
KGEMV_ROWS(7)
KGEMV_ROWS(8)
#undef KGEMV_ROWS

typedef void (*q6k_rows_fn)(const blk_q6_K *, const char *, size_t, int64_t, __m512i,
                            float *const *, int64_t);
typedef void (*q4k_rows_fn)(const blk_q4_K *, const gact *const *, const float *, int64_t,
                            float *const *, int64_t);
static const q6k_rows_fn q6k_by_tokens[KGEMV_MAX_TOK + 1] = {
    NULL, q6k_rows1, q6k_rows2, q6k_rows3, q6k_rows4, q6k_rows5, q6k_rows6, q6k_rows7, q6k_rows8};
static const q4k_rows_fn q4k_by_tokens[KGEMV_MAX_TOK + 1] = {
    NULL, q4k_rows1, q4k_rows2, q4k_rows3, q4k_rows4, q4k_rows5, q4k_rows6, q4k_rows7, q4k_rows8};

bool tl_kgemv16_tokens_supports(tl_dtype dt, tl_dot_order order, int64_t n, int64_t n_tok) {
    return n_tok >= 1 && n_tok <= KGEMV_MAX_TOK && tl_kgemv16_supports(dt, order, n) &&
           dt != TL_DTYPE_Q5_K;
}

tl_status tl_kgemv16_tokens(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                            size_t w_stride, int64_t r0, int64_t r1, const void *act,
                            size_t act_stride, int64_t n_tok, float *const *out) {
    if (!tl_kgemv16_tokens_supports(dt, order, n, n_tok))
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "kgemv16: no kernel for %lld tokens of %s rows of %lld in this order",
                       (long long)n_tok, tl_dtype_name(dt), (long long)n);
    if (r0 < 0 || r1 < r0)
        return tl_fail(TL_ERR_ARG, "kgemv16: bad range [%lld, %lld)", (long long)r0, (long long)r1);
    int64_t nsb = n / QK_K;
    if (dt == TL_DTYPE_Q6_K) {
        __m512i pidx = q6k_pair_index();
        for (int64_t r = r0; r < r1; r++)
            q6k_by_tokens[n_tok]((const blk_q6_K *)((const char *)w + (size_t)r * w_stride), act,
                                 act_stride, nsb, pidx, out, r);
        return TL_OK;
    }
    /* the tokens' activations rearranged, then their scales by super-block */
    size_t bytes = (size_t)(n_tok * nsb) * sizeof(gact) + (size_t)nsb * 8 * sizeof(float);
    gact *pa = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!pa) return tl_fail(TL_ERR_NOMEM, "kgemv16: out of memory");
    float *dy = (float *)(pa + n_tok * nsb);
    const gact *pt[KGEMV_MAX_TOK];
    for (int64_t k = 0; k < n_tok; k++) {
        pack_gact((const char *)act + (size_t)k * act_stride, nsb, pa + k * nsb);
        pt[k] = pa + k * nsb;
    }
    for (int64_t b = 0; b < nsb; b++)
        for (int64_t k = 0; k < 8; k++)
            dy[8 * b + k] = k < n_tok ? pt[k][b].d : 0.0f;
    for (int64_t r = r0; r < r1; r++)
        q4k_by_tokens[n_tok]((const blk_q4_K *)((const char *)w + (size_t)r * w_stride), pt, dy,
                             nsb, out, r);
    free(pa);
    return TL_OK;
}

bool tl_kgemv16_supports(tl_dtype dt, tl_dot_order order, int64_t n) {
    if (n % QK_K != 0) return false;
    if (dt == TL_DTYPE_Q6_K) return true;                    /* not repacked: every order is ROW */
    if (dt == TL_DTYPE_Q5_K) return n / QK_K <= GEMV_MAX_SB; /* likewise */
    return dt == TL_DTYPE_Q4_K && order == TL_DOT_ORDER_REPACK && n / QK_K <= GEMV_MAX_SB;
}

tl_status tl_kgemv16(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                     int64_t r0, int64_t r1, const void *act, float *out) {
    if (!tl_kgemv16_supports(dt, order, n))
        return tl_fail(TL_ERR_UNSUPPORTED, "kgemv16: no kernel for %s rows of %lld in this order",
                       tl_dtype_name(dt), (long long)n);
    if (r0 < 0 || r1 < r0)
        return tl_fail(TL_ERR_ARG, "kgemv16: bad range [%lld, %lld)", (long long)r0, (long long)r1);
    if (dt == TL_DTYPE_Q6_K) return gemv_q6k(n, w, w_stride, r0, r1, act, out);
    if (dt == TL_DTYPE_Q5_K) return gemv_q5k(n, w, w_stride, r0, r1, act, out);
    return gemv_q4k(n, w, w_stride, r0, r1, act, out);
}
