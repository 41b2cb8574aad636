/* runtime/ops/attention_masked.c -- attention with an additive mask, computed the
** way the separate steps compute it (tl_op_attention_masked in ops.h).
**
** Per query position s and KV head: the keys are transposed once (as in
** attention.c) so that the AVX2 score kernel covers 8 keys at a time; then for
** each query head h of the group, every score (float)dot * scale + mask[s, t],
** the softmax of the row exactly as tl_op_softmax computes one row, the row
** written to probs[h, s, :] and, with v, the output row (double sums over t). */
#include "runtime/ops/internal.h"

#include "runtime/quant.h" /* tl_kernels_use_avx2: the variant select.c chose */
#include "runtime/ops/attention_kernels.h"
#include "runtime/threadpool.h"

typedef struct am_job {
    const float *q, *k, *v, *mask; /* [S][H][D], [T][Hkv][D] x2, [S][T] (or NULL) */
    float *o, *probs;              /* [S][H][D] (or NULL), [H][S][T] */
    int64_t S, H, Hkv, T, D, group;
    float scale;
    int failed;
} am_job;

static void am_items(void *ctx, int64_t begin, int64_t end) {
    am_job *j = ctx;
    int64_t T = j->T, D = j->D, ldk = (T + 7) / 8 * 8;
    bool vec = tl_kernels_use_avx2() && D % 4 == 0;
    double *acc = malloc((size_t)(D + 1) * sizeof(double));
    float *kt = vec ? malloc((size_t)(D * ldk + 1) * sizeof(float)) : NULL;
    if (!acc || (vec && !kt)) {
        free(acc);
        free(kt);
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t it = begin; it < end; it++) {
        int64_t s = it / j->Hkv, kvh = it % j->Hkv;
        if (vec)
            for (int64_t t = 0; t < ldk; t++) {
                const float *k = j->k + (t * j->Hkv + kvh) * D;
                for (int64_t d = 0; d < D; d++)
                    kt[d * ldk + t] = t < T ? k[d] : 0.0f;
            }
        const float *m = j->mask ? j->mask + s * T : NULL;
        for (int64_t h = kvh * j->group; h < (kvh + 1) * j->group; h++) {
            const float *q = j->q + (s * j->H + h) * D;
            float *p = j->probs + (h * j->S + s) * T;
            if (vec && T > 0) tl_attn_scores_t_avx2(q, kt, ldk, T, D, j->scale, p);
            for (int64_t t = 0; !vec && t < T; t++) {
                const float *k = j->k + (t * j->Hkv + kvh) * D;
                double sum = 0.0;
                for (int64_t d = 0; d < D; d++)
                    sum += (double)(q[d] * k[d]);
                p[t] = (float)sum * j->scale;
            }
            if (m)
                for (int64_t t = 0; t < T; t++)
                    p[t] = p[t] + m[t];
            ops_softmax_row(p, T); /* tl_op_softmax's row */
            if (!j->v) continue;
            float *o = j->o + (s * j->H + h) * D;
            for (int64_t d = 0; d < D; d++)
                acc[d] = 0.0;
            if (vec) tl_attn_pv_avx2(p, j->v + kvh * D, j->Hkv * D, T, D, acc);
            for (int64_t t = 0; !vec && t < T; t++) {
                if (p[t] == 0.0f) continue; /* adds exactly 0 (as attention.c) */
                const float *v = j->v + (t * j->Hkv + kvh) * D;
                for (int64_t d = 0; d < D; d++)
                    acc[d] += (double)(p[t] * v[d]);
            }
            for (int64_t d = 0; d < D; d++)
                o[d] = (float)acc[d];
        }
    }
    free(acc);
    free(kt);
}

static bool plain_f32(const tl_tensor *t) {
    return t && t->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(t);
}

tl_status tl_op_attention_masked(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                                 const tl_tensor *mask, float scale, tl_tensor **probs,
                                 tl_tensor **out) {
    *probs = NULL;
    if (out) *out = NULL;
    char sq[96], sk[96], sm[96];
    if (!plain_f32(q) || !plain_f32(k) || (v && !plain_f32(v)) || (mask && !plain_f32(mask)) ||
        (v && !out))
        return tl_fail(TL_ERR_ARG, "attention_masked: the operands must be contiguous f32");
    if (q->n_dims != 3 || k->n_dims != 3 || (v && !tl_tensor_same_shape(k, v)) ||
        q->ne[0] != k->ne[0] || k->ne[1] == 0 || q->ne[0] == 0 || k->ne[2] == 0 ||
        q->ne[1] % k->ne[1] != 0 ||
        (mask && (mask->n_dims != 2 || mask->ne[0] != k->ne[2] || mask->ne[1] != q->ne[2])))
        return tl_fail(TL_ERR_SHAPE,
                       "attention_masked: shapes %s, %s and mask %s do not fit (q [S, H, D], k "
                       "and v [T, Hkv, D], H a multiple of Hkv, D and T > 0, mask [S, T])",
                       OPS_SHAPE(q, sq), OPS_SHAPE(k, sk), mask ? OPS_SHAPE(mask, sm) : "(none)");
    am_job j = {.D = q->ne[0], .H = q->ne[1], .S = q->ne[2], .Hkv = k->ne[1], .T = k->ne[2]};
    j.group = j.H / j.Hkv;
    j.scale = scale;
    j.q = tl_tensor_data((tl_tensor *)q);
    j.k = tl_tensor_data((tl_tensor *)k);
    j.v = v ? tl_tensor_data((tl_tensor *)v) : NULL;
    j.mask = mask ? tl_tensor_data((tl_tensor *)mask) : NULL;
    int64_t pne[3] = {j.T, j.S, j.H}; /* [H, S, T] in NumPy order */
    tl_tensor *p = NULL, *o = NULL;
    tl_status st = tl_tensor_new_uninit(TL_DTYPE_F32, 3, pne, &p);
    if (st == TL_OK && v) st = tl_tensor_new_uninit(TL_DTYPE_F32, 3, q->ne, &o);
    if (st == TL_OK) {
        j.probs = tl_tensor_data(p);
        j.o = o ? tl_tensor_data(o) : NULL;
        if (j.S * j.H > 0)
            tl_parallel_for(j.S * j.Hkv, 1 + 4096 / (j.T * j.D * j.group + 1), am_items, &j);
        if (j.failed) st = tl_fail(TL_ERR_NOMEM, "attention_masked: out of memory");
    }
    if (st != TL_OK) {
        tl_tensor_unref(p);
        tl_tensor_unref(o);
        return st;
    }
    *probs = p;
    if (out) *out = o;
    return TL_OK;
}
