/* runtime/ops/lens.c -- tl_op_lens_topk: the top-k logit lens over many
** residual streams at once (declared in runtime/ops.h).
**
** The lens of a residual h is softmax(linear(rms_norm(h, w, eps), W_out)); a
** full lens (every layer x position) is 22 x S rows against a 32000-row head.
** Done one layer at a time it re-packs the head's weights for every layer
** (the Q6_K tile's unpacking is ~30% of its time at 64 rows) and keeps S x V
** logits and S x V probabilities per layer.  Here the layers' rows go through
** the norm and the head together, in chunks of whole layers (LENS_CHUNK_ROWS
** rows: 16 MB of logits for a 32000-token vocabulary), and each row is reduced
** to its top k at once
** (softmax in place, then the top k), so no more than one chunk of logits
** ever exists and the head's weights are packed once per chunk.
**
** Bit-identical to topk(softmax(linear(rms_norm(h, w, eps), W)), k) per layer:
** rms_norm, softmax and topk are row-wise (the same row functions); the head's
** dot order depends on a token's index in its batch only for heads in
** TL_DOT_ORDER_REPACK (Q4_0/Q4_K/Q2_K: groups of 4 tokens in the GEMM order,
** the rest in the GEMV order), so for those a chunk holds several layers only
** when S % 4 == 0 (every layer then starts on a group boundary); and for F32/F16
** heads on the number of rows (one: the one-row dot; more: sgemm's order), so
** for those a chunk holds several layers only when S > 1. */
#include "runtime/ops.h"
#include "runtime/ops/internal.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"

#include <stdlib.h>
#include <string.h>

/* Rows per chunk: measured on the TinyLlama-shaped head (Q6_K, 32000 x 2048),
** calling thread's CPU time for 22 x 64 rows: 64 rows 2.10 s, 128 rows 1.79 s,
** 256 rows 1.82 s, 512 rows 2.0 s (larger chunks re-pack the head less often,
** but their activations no longer stay in L2 while a row group runs over them). */
#define LENS_CHUNK_ROWS   128
#define LENS_CHUNK_FLOATS ((int64_t)16 << 20) /* and at most 64 MiB of logits */

typedef struct lens_rows {
    float *logits; /* [rows][V], softmaxed in place */
    int64_t V, k;
    float *probs; /* [rows][k] */
    int64_t *ids; /* [rows][k] */
    int failed;
} lens_rows;

static void lens_reduce(void *ctx, int64_t begin, int64_t end) {
    lens_rows *j = ctx;
    int64_t *order = malloc((size_t)(j->k ? j->k : 1) * sizeof *order);
    if (!order) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    ops_softmax_rows(j->logits + begin * j->V, end - begin, j->V);
    for (int64_t r = begin; r < end; r++) {
        float *row = j->logits + r * j->V;
        ops_topk_row(row, j->V, j->k, order);
        for (int64_t i = 0; i < j->k; i++) {
            j->probs[r * j->k + i] = row[order[i]];
            j->ids[r * j->k + i] = order[i];
        }
    }
    free(order);
}

/* rows [0, C) of x: layers h[first .. first + m) one after another */
static tl_status gather(const tl_tensor *const *h, int first, int m, int64_t S, int64_t d,
                        tl_tensor **x) {
    int64_t ne[2] = {d, (int64_t)m * S};
    tl_status st = tl_tensor_new_uninit(TL_DTYPE_F32, 2, ne, x);
    for (int i = 0; st == TL_OK && i < m; i++) {
        const float *src;
        float *owned;
        st = ops_f32_data("lens_topk", h[first + i], &src, &owned);
        if (st != TL_OK) break;
        memcpy((float *)tl_tensor_data(*x) + (size_t)i * (size_t)(S * d), src,
               (size_t)(S * d) * sizeof(float));
        free(owned);
    }
    if (st != TL_OK) {
        tl_tensor_unref(*x);
        *x = NULL;
    }
    return st;
}

tl_status tl_op_lens_topk(const tl_tensor *const *h, int n, const tl_tensor *norm_w, float eps,
                          const tl_tensor *out_w, int64_t k, tl_tensor **probs, tl_tensor **ids) {
    *probs = *ids = NULL;
    if (n < 1) return tl_fail(TL_ERR_ARG, "lens_topk: needs at least one residual");
    if (out_w->n_dims != 2)
        return tl_fail(TL_ERR_SHAPE, "lens_topk: the output head must be 2-d [V, d]");
    int64_t d = out_w->ne[0], V = out_w->ne[1];
    int64_t S = tl_tensor_nrows(h[0]);
    for (int i = 0; i < n; i++) {
        tl_status st = ops_require_plain("lens_topk", h[i]);
        if (st != TL_OK) return st;
        if (h[i]->ne[0] != d || tl_tensor_nrows(h[i]) != S || h[i]->n_dims > 2) {
            char a[64], b[64];
            return tl_fail(TL_ERR_SHAPE,
                           "lens_topk: residual %d is %s; every residual must be [S, %lld] with "
                           "the first one's S (%s)",
                           i + 1, OPS_SHAPE(h[i], a), (long long)d, OPS_SHAPE(h[0], b));
        }
    }
    if (k < 0 || k > V)
        return tl_fail(TL_ERR_ARG, "lens_topk: k = %lld is out of range for %lld logits",
                       (long long)k, (long long)V);
    int64_t per = S > 0 ? LENS_CHUNK_ROWS / S : n;
    if (S * V > 0 && per * S * V > LENS_CHUNK_FLOATS) per = LENS_CHUNK_FLOATS / (S * V);
    if (per < 1) per = 1;
    if (per > n) per = n;
    if (S % 4 != 0 && tl_dtype_traits(out_w->dtype)->blck > 1 &&
        tl_quant_llama_order(out_w->dtype, V) == TL_DOT_ORDER_REPACK)
        per = 1;
    if (S == 1 && (out_w->dtype == TL_DTYPE_F32 || out_w->dtype == TL_DTYPE_F16))
        per = 1; /* one row alone takes llama.cpp's one-row dot, two or more its sgemm order */
    int64_t ne[3] = {k, S, n};
    tl_status st = tl_tensor_new(TL_DTYPE_F32, 3, ne, probs);
    if (st == TL_OK) st = tl_tensor_new(TL_DTYPE_I64, 3, ne, ids);
    for (int first = 0; st == TL_OK && first < n; first += (int)per) {
        int m = n - first < per ? n - first : (int)per;
        tl_tensor *x = NULL, *xn = NULL, *logits = NULL;
        st = gather(h, first, m, S, d, &x);
        if (st == TL_OK) st = tl_op_rms_norm(x, norm_w, eps, &xn);
        tl_tensor_unref(x);
        if (st == TL_OK) st = tl_op_linear(xn, out_w, NULL, &logits);
        tl_tensor_unref(xn);
        if (st == TL_OK && logits->dtype != TL_DTYPE_F32)
            st = tl_fail(TL_ERR_TYPE, "lens_topk: the residuals must be f32");
        if (st == TL_OK) {
            size_t off = (size_t)first * (size_t)(S * k);
            lens_rows j = {tl_tensor_data(logits),
                           V,
                           k,
                           (float *)tl_tensor_data(*probs) + off,
                           (int64_t *)tl_tensor_data(*ids) + off,
                           0};
            tl_parallel_for((int64_t)m * S, 1, lens_reduce, &j);
            if (j.failed) st = tl_fail(TL_ERR_NOMEM, "lens_topk: out of memory");
        }
        tl_tensor_unref(logits);
    }
    if (st != TL_OK) {
        tl_tensor_unref(*probs);
        tl_tensor_unref(*ids);
        *probs = *ids = NULL;
    }
    return st;
}
