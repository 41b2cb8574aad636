/* runtime/ops/linear_job.h -- the row work of tl_op_linear, shared by
** tl_op_linear (matmul.c) and tl_op_linear_many (linear_many.c). */
#ifndef TL_RUNTIME_OPS_LINEAR_JOB_H
#define TL_RUNTIME_OPS_LINEAR_JOB_H

#include "runtime/dtype.h"
#include "runtime/quant.h"
#include "runtime/quant/q4_0x16.h"
#include "runtime/tensor.h"
#include "runtime/threadpool.h"

#include <stdbool.h>
#include <stdint.h>

/* Rows are handed to threads in groups of LIN_UNIT (whole 8-row kernel tiles), or of
** 16 for a Q4_0x16 shadow (whole groups of its layout). */
#define LIN_UNIT 8

typedef struct lin_job {
    const tl_tensor *w;
    const tl_type_traits *wtr;
    const char *xq; /* R rows of xq_row bytes (dot_type), or f32 rows in exact mode */
    size_t xq_row;
    const float *xf; /* f32 rows (exact mode) */
    const float *bias;
    float *y; /* [R][O] */
    int64_t R, O, in;
    bool exact;
    tl_dot_order order;
    int failed;
    /* for the activation conversion pass */
    const tl_type_traits *dtr;
    char *xq_w;
    /* w's shadow (runtime/shadow.h) when it has one: rows [0, shadow_rows) of it
    ** are read there; unit: rows a pool item covers (LIN_UNIT, or 16 for Q4_0x16) */
    const char *shadow;
    int shadow_kind;
    int64_t shadow_rows;
    int64_t unit;
    /* the activations laid out once for a Q4_0x16 shadow's GEMM (set by
    ** lin_quant_rows; NULL: each call of the GEMM lays them out itself) */
    tl_q4_0x16_acts *x16_acts;
} lin_job;

/* Whether j's rows run in its Q4_0x16 shadow's GEMM (several tokens, llama.cpp's
** order): then its activations can be laid out once for it (x16_acts). */
bool lin_x16_gemm(const lin_job *j);

/* Whether j's kernel reads its rows as a stream that goes on past the end of
** the rows it is given (lin_parallel): the Q4_0x16 GEMM, Q6_K against a few
** tokens. */
bool lin_streams_on(const lin_job *j);

/* Sets j's shadow fields from j->w (asking for the shadow the first time), and
** j->unit; the number of pool items for w's rows is lin_units(j). */
void lin_use_shadow(lin_job *j);
static inline int64_t lin_units(const lin_job *j) {
    return (j->O + j->unit - 1) / j->unit;
}

/* Runs fn over `units` weight row groups of a linear with `in` inputs and R
** activation rows.  One token streams the weights: one chunk per thread
** (threadpool.h).  A few tokens (a batch step) with a kernel that streams on
** past its rows (lin_streams_on): the threads take 8 units at a time from their
** own stream and then from each other's (tl_parallel_for_steal), so they end
** together: the batch's matmuls 1-5% faster than with 4 chunks a thread
** (docs/performance/fourteenth_pass.md).  Prompts (measured slower with claims)
** and the other kernels (which prefetch only inside their range) keep 4 chunks
** a thread. */
static inline void lin_parallel(int64_t units, int64_t in, int64_t R, bool streams_on,
                                tl_range_fn fn, void *ctx) {
    if (R == 1)
        tl_parallel_for_split(units, 1 + 512 / (in + 1), 1, fn, ctx);
    else if (streams_on && R <= 8)
        tl_parallel_for_steal(units, 8, fn, ctx);
    else
        tl_parallel_for_split(units, 1 + 512 / (in * R + 1), 4, fn, ctx);
}

/* tl_parallel_for callbacks: activation rows [begin, end) to dtr's type
** (xf -> xq_w), and weight row groups [begin, end) against all activations. */
void lin_quant_rows(void *ctx, int64_t begin, int64_t end);
void lin_rows(void *ctx, int64_t begin, int64_t end);

#endif
