/* runtime/quant/ktile_avx512.h -- internals shared by the AVX-512 VNNI tile
** files (ktile16_avx512.c: Q4_K and the dispatch; ktile16_row_avx512.c: Q5_K
** and Q8_0; ktile16_q6k_avx512.c: Q6_K).  Include only from files built with AVX-512 enabled, after
** quant_impl.h. */
#ifndef TL_RUNTIME_QUANT_KTILE_AVX512_H
#define TL_RUNTIME_QUANT_KTILE_AVX512_H

#include "runtime/status.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* acc += w (unsigned bytes) . the dword at mem broadcast to the 16 lanes;
** acc += w (int16 pairs) . the int16 pair at mem broadcast.  In asm because
** GCC does not fold the broadcast into the VNNI instructions. */
#define DOT_BCAST(acc, w, mem)                                                                     \
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(mem))
#define DOTW_BCAST(acc, w, mem)                                                                    \
    __asm__("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(mem))

/* ---- ROW order (Q5_K, Q6_K, Q8_0): ggml's 8 lanes per row -------------------------
** In ggml's one-row order (the one llama.cpp uses for these types) each output
** keeps 8 float lanes: lane k receives, per block, the exact integer sum over
** the elements with (e % 32) / 4 == k, by one fma with d_x * d_y; at the end
** the lanes are folded ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).  Here lane k of
** the 16 rows is one vector, so the tile keeps 8 accumulators per token and
** the fold is 7 vertical adds. */

static inline __m512 fold8(const __m512 a[8]) {
    __m512 r0 = _mm512_add_ps(a[0], a[4]), r1 = _mm512_add_ps(a[1], a[5]);
    __m512 r2 = _mm512_add_ps(a[2], a[6]), r3 = _mm512_add_ps(a[3], a[7]);
    return _mm512_add_ps(_mm512_add_ps(r0, r2), _mm512_add_ps(r1, r3));
}

/* r[s], lane t <- r[t], lane s (16 x 16 dwords) */
__attribute__((always_inline)) static inline void transpose16(__m512i r[16]) {
    __m512i t[16], u[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512i v = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);
        __m512i w = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);
        __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
        __m512i w2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
        r[c] = _mm512_shuffle_i32x4(v, v2, 0x88);
        r[8 + c] = _mm512_shuffle_i32x4(v, v2, 0xdd);
        r[4 + c] = _mm512_shuffle_i32x4(w, w2, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(w, w2, 0xdd);
    }
}

/* v[s], lane r <- dword s of the 64 bytes at p + r * rs (16 rows) */
__attribute__((always_inline)) static inline void load_transposed16(const char *p, size_t rs,
                                                                    __m512i v[16]) {
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++)
        v[r] = _mm512_loadu_si512(p + (size_t)r * rs);
    transpose16(v);
}

/* ---- Q5_K / Q6_K in pairs of chunks (ktile16_q5k_avx512.c, ktile16_q6k_avx512.c) ----
** Lane l's exact integer sums of NT tokens over the four chunk pairs (2m, 2m + 1):
** c[8 ch + l], lane r: row r's 4 unsigned codes of chunk ch; sp[m], lane r: the
** int16 scale pair of chunks 2m, 2m + 1; token t's activations (Q8_K bytes as
** dwords) at y + t * ystride ints, dword 8 ch + l.  Two vpdpbusd give the
** chunks' 4-element sums (< 2^15 in magnitude), a shift and a select put them
** in the halves of each dword, one vpdpwssd scales and adds both: into s[t]
** for even m, e[t] for odd m (two chains per token). */
static inline __attribute__((always_inline)) void ktile_pair_sums(const int nt, const __m512i *c,
                                                                  const __m512i *sp, int l,
                                                                  const int32_t *y, int ystride,
                                                                  __m512i *s, __m512i *e) {
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
#pragma GCC unroll 4
    for (int m = 0; m < 4; m++) {
        __m512i ca = c[16 * m + l], cb = c[16 * m + 8 + l], sc = sp[m];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            __m512i u = _mm512_setzero_si512(), v = u;
            DOT_BCAST(u, ca, y[t * ystride + 16 * m + l]);
            DOT_BCAST(v, cb, y[t * ystride + 16 * m + 8 + l]);
            __m512i p = _mm512_ternarylogic_epi32(u, _mm512_slli_epi32(v, 16), lo16, 0xe4);
            if (m % 2 == 0)
                s[t] = _mm512_dpwssd_epi32(s[t], p, sc);
            else
                e[t] = _mm512_dpwssd_epi32(e[t], p, sc);
        }
    }
}

/* A tile function of 8, 4, 2 or 1 (nt) tokens k .. k + nt - 1 of one packed
** 16-row group, and the walk over n_tok tokens in such tiles (the first tile
** prefetches the next group; out: the group's first output column). */
typedef void (*ktile_nt_fn)(int nt, int64_t nsb, const void *pw, const void *pa, int64_t n_tok,
                            int64_t k, const char *next, size_t rs, float *out, size_t out_stride);
static inline void ktile_tokens(ktile_nt_fn tile, int64_t nsb, const void *pw, const void *pa,
                                int64_t n_tok, const char *next, size_t rs, float *out,
                                size_t out_stride) {
    for (int64_t k = 0; k < n_tok; next = NULL) {
        int nt = n_tok - k >= 8 ? 8 : n_tok - k >= 4 ? 4 : n_tok - k >= 2 ? 2 : 1;
        tile(nt, nsb, pw, pa, n_tok, k, next, rs, out + (size_t)k * out_stride, out_stride);
        k += nt;
    }
}

/* The row-order GEMMs (ktile16_row_avx512.c, ktile16_q6k_avx512.c): rows [r0, r16) (a multiple of
** 16) against n_tok activation rows, in ggml's one-row order. */
tl_status tl_ktile_gemm_q5k(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                            const void *act, size_t act_stride, int64_t n_tok, float *out,
                            size_t out_stride);
tl_status tl_ktile_gemm_q6k(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                            const void *act, size_t act_stride, int64_t n_tok, float *out,
                            size_t out_stride);
tl_status tl_ktile_gemm_q8_0(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r16,
                             const void *act, size_t act_stride, int64_t n_tok, float *out,
                             size_t out_stride);

#endif
