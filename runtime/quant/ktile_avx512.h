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
