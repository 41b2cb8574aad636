/* runtime/quant/select.c -- the one place that chooses kernels: the variant
** of the traits tables (scalar or AVX2, runtime/quant/traits.c) the process
** runs, and the matmul kernel for a weight (runtime/quant.h:
** tl_quant_gemv_rows_best, tl_quant_gemm_rows_best); and the portable side of
** the tile kernels (runtime/quant/tile8.h) on CPUs without them.
**
** The variant is one pointer, set once under pthread_once from the CPU's
** features (runtime/cpu.h: AVX2 unless TL_NO_AVX2=1); the tables it points to
** are static const, so nothing else about kernel choice is mutable.
**
** Q4_0 weights in llama.cpp's repacked order go to the 8-rows-in-lanes tiles
** (AVX2; 16 rows with AVX-512 VNNI for more than one token); with AVX-512
** VNNI, Q4_K (repacked orders), Q5_K, Q6_K and Q8_0 weights go to the tiles of
** runtime/quant/ktile.h (Q4_K single tokens to its GEMV; Q6_K against up to 8
** tokens, and the GEMV-order Q4_K tokens of a batch, tl_quant_gemv_tokens_best,
** to its few-token GEMV); with AVX2 only,
** Q4_K to ktile8_avx2.c and Q5_K, Q6_K and Q8_0 against enough tokens to
** the row-order tiles of runtime/quant/ktile8_row.h; every other
** weight to the quant module's row kernels in the given order.  All choices
** give the same bits. */
#include "runtime/quant.h"
#include "runtime/quant/ktile.h"
#include "runtime/quant/ktile8_row.h"
#include "runtime/quant/tile8.h"

#include "runtime/cpu.h"

#include <pthread.h>

static const tl_type_traits *selected; /* written once, under select_once */
static pthread_once_t select_once = PTHREAD_ONCE_INIT;

static void select_variant(void) {
    selected = tl_dtype_traits_table(tl_cpu_use_avx2());
}

const tl_type_traits *tl_kernels_selected(void) {
    pthread_once(&select_once, select_variant);
    return selected;
}

bool tl_kernels_use_avx2(void) {
    return tl_kernels_selected() != tl_dtype_traits_table(false);
}

static bool use_tile8(tl_dtype dt, tl_dot_order order) {
    return dt == TL_DTYPE_Q4_0 && order == TL_DOT_ORDER_REPACK && tl_q4_0_tile8_available();
}

tl_status tl_quant_gemv_rows_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                  size_t row_stride, int64_t r0, int64_t r1, const void *act,
                                  float *out) {
    if (use_tile8(dt, order)) return tl_q4_0_gemv_tile8(n, w, row_stride, r0, r1, act, out);
    if (tl_kgemv16_supports(dt, order, n) && tl_ktile16_available())
        return tl_kgemv16(dt, order, n, w, row_stride, r0, r1, act, out);
    return tl_quant_gemv_rows_order(dt, order, n, w, row_stride, r0, r1, act, out);
}

tl_status tl_quant_gemm_rows_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                  size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                  size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    if (use_tile8(dt, order) && tl_q4_0_tile16_available())
        return tl_q4_0_gemm_tile16(n, w, w_stride, r0, r1, act, act_stride, n_tok, out, out_stride);
    if (use_tile8(dt, order))
        return tl_q4_0_gemm_tile8(n, w, w_stride, r0, r1, act, act_stride, n_tok, out, out_stride);
    if (n_tok > 1 && dt == TL_DTYPE_Q6_K && tl_kgemv16_tokens_supports(dt, order, n, n_tok) &&
        tl_ktile16_available()) {
        float *outs[KGEMV_MAX_TOK];
        for (int64_t k = 0; k < n_tok && k < KGEMV_MAX_TOK; k++)
            outs[k] = out + (size_t)k * out_stride;
        return tl_kgemv16_tokens(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, outs);
    }
    if (n_tok > 1 && tl_ktile16_supports(dt, order) && tl_ktile16_available())
        return tl_ktile16_gemm(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                               out_stride);
    if (n_tok > 1 && dt == TL_DTYPE_Q4_K && order != TL_DOT_ORDER_ROW && tl_ktile8_available())
        return tl_ktile8_gemm(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                              out_stride);
    if (tl_ktile8_row_supports(dt, order) && n_tok >= tl_ktile8_row_min_tokens(dt) &&
        tl_ktile8_available())
        return tl_ktile8_row_gemm(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                                  out_stride);
    return tl_quant_gemm_rows_order(dt, order, n, w, w_stride, r0, r1, act, act_stride, n_tok, out,
                                    out_stride);
}

bool tl_quant_gemm_streams_rows(tl_dtype dt, tl_dot_order order, int64_t n, int64_t n_tok) {
    return !use_tile8(dt, order) && n_tok > 1 && dt == TL_DTYPE_Q6_K &&
           tl_kgemv16_tokens_supports(dt, order, n, n_tok) && tl_ktile16_available();
}

tl_status tl_quant_gemv_tokens_best(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                                    size_t w_stride, int64_t r0, int64_t r1, const void *act,
                                    size_t act_stride, int64_t n_tok, float *const *out) {
    for (int64_t k0 = 0; k0 < n_tok; k0 += KGEMV_MAX_TOK) {
        int64_t m = n_tok - k0 < KGEMV_MAX_TOK ? n_tok - k0 : KGEMV_MAX_TOK;
        const char *a = (const char *)act + (size_t)k0 * act_stride;
        tl_status st = TL_OK;
        if (m > 1 && tl_kgemv16_tokens_supports(dt, order, n, m) && tl_ktile16_available())
            st = tl_kgemv16_tokens(dt, order, n, w, w_stride, r0, r1, a, act_stride, m, out + k0);
        else
            for (int64_t k = 0; k < m && st == TL_OK; k++)
                st = tl_quant_gemv_rows_best(dt, order, n, w, w_stride, r0, r1,
                                             a + (size_t)k * act_stride, out[k0 + k]);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

#ifndef TL_X86_KERNELS
/* Not an x86-64 build: the tile kernels (tile8_avx2.c, tile16_avx512.c) are
** not compiled; nothing selects them. */
bool tl_q4_0_tile8_available(void) {
    return false;
}
bool tl_q4_0_tile16_available(void) {
    return false;
}
static tl_status no_tiles(void) {
    return tl_fail(TL_ERR_UNSUPPORTED, "the Q4_0 tile kernels need an x86-64 CPU with AVX2");
}
tl_status tl_q4_0_gemm_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, size_t act_stride, int64_t n_tok, float *out,
                             size_t out_stride) {
    (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act, (void)act_stride;
    (void)n_tok, (void)out, (void)out_stride;
    return no_tiles();
}
tl_status tl_q4_0_gemm_tile16(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride) {
    (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act, (void)act_stride;
    (void)n_tok, (void)out, (void)out_stride;
    return no_tiles();
}
tl_status tl_q4_0_gemv_tile8(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                             const void *act, float *out) {
    (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act, (void)out;
    return no_tiles();
}
/* the K-quant tiles (ktile.h) */
bool tl_ktile8_available(void) {
    return false;
}
tl_status tl_ktile8_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                         int64_t r0, int64_t r1, const void *act, size_t act_stride, int64_t n_tok,
                         float *out, size_t out_stride) {
    (void)dt, (void)order, (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act;
    (void)act_stride, (void)n_tok, (void)out, (void)out_stride;
    return no_tiles();
}
bool tl_ktile8_row_supports(tl_dtype dt, tl_dot_order order) {
    (void)dt, (void)order;
    return false;
}
tl_status tl_ktile8_row_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                             size_t w_stride, int64_t r0, int64_t r1, const void *act,
                             size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    (void)dt, (void)order, (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act;
    (void)act_stride, (void)n_tok, (void)out, (void)out_stride;
    return no_tiles();
}
bool tl_ktile16_available(void) {
    return false;
}
bool tl_ktile16_supports(tl_dtype dt, tl_dot_order order) {
    (void)dt, (void)order;
    return false;
}
bool tl_kgemv16_supports(tl_dtype dt, tl_dot_order order, int64_t n) {
    (void)dt, (void)order, (void)n;
    return false;
}
tl_status tl_ktile16_gemm(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                          size_t w_stride, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    (void)dt, (void)order, (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act;
    (void)act_stride, (void)n_tok, (void)out, (void)out_stride;
    return no_tiles();
}
tl_status tl_kgemv16(tl_dtype dt, tl_dot_order order, int64_t n, const void *w, size_t w_stride,
                     int64_t r0, int64_t r1, const void *act, float *out) {
    (void)dt, (void)order, (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act;
    (void)out;
    return no_tiles();
}
bool tl_kgemv16_tokens_supports(tl_dtype dt, tl_dot_order order, int64_t n, int64_t n_tok) {
    (void)dt, (void)order, (void)n, (void)n_tok;
    return false;
}
tl_status tl_kgemv16_tokens(tl_dtype dt, tl_dot_order order, int64_t n, const void *w,
                            size_t w_stride, int64_t r0, int64_t r1, const void *act,
                            size_t act_stride, int64_t n_tok, float *const *out) {
    (void)dt, (void)order, (void)n, (void)w, (void)w_stride, (void)r0, (void)r1, (void)act;
    (void)act_stride, (void)n_tok, (void)out;
    return no_tiles();
}
#endif
