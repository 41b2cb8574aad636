/* runtime/quant/ktile_avx512.h -- internals shared by the AVX-512 VNNI tile
** files (ktile16_avx512.c: Q4_K and the dispatch; ktile16_row_avx512.c: the
** row-order types).  Include only from files built with AVX-512 enabled, after
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

/* The row-order GEMMs of ktile16_row_avx512.c: rows [r0, r16) (a multiple of
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
