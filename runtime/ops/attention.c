/* runtime/ops/attention.c -- fused scaled-dot-product attention with GQA. */
#include "runtime/ops/internal.h"

#include "runtime/quant.h" /* tl_kernels_use_avx2: the variant select.c chose */
#include "runtime/ops/attention_kernels.h"
#include "runtime/ops/expf_kernels.h"
#include "runtime/threadpool.h"

typedef struct attn_job {
    const float *q, *k, *v; /* [S][H][D], [T][Hkv][D], [T][Hkv][D] */
    float *o;               /* [S][H][D] */
    float *scores, *probs;  /* NULL, or [H][S][T]: scaled scores (-inf past the visible keys),
                               the softmax of each row */
    int64_t S, H, Hkv, T, D, group, pos_offset;
    float scale;
    bool causal;
    int failed;
} attn_job;

/* The keys query s sees: 0 .. last, last = s + pos_offset when causal. */
static int64_t visible_keys(const attn_job *j, int64_t s) {
    int64_t last = j->causal ? s + j->pos_offset : j->T - 1;
    return last + 1 < j->T ? (last + 1 > 0 ? last + 1 : 0) : j->T;
}

/* One output row from the scores p[0..nk) of the nk visible keys (mx their
** maximum, nan: one of them is NaN); the keys past nk are masked.  Leaves in p
** what the probs row holds (see write_row).  The arithmetic is the softmax of
** the full row of T scores (masked ones -inf): a masked key's expf is 0 and
** adds exactly nothing to the double sum (which starts at +0 and only grows),
** its probability is 0 * inv = 0 and the products loop skips a probability of
** 0, so only the nk visible keys are visited.  Returns the number of entries
** of p set: nk, or T for the uniform row of a query that sees nothing; *fill:
** the masked keys' probability (0 * inv: 0, or NaN when an infinite score made
** the sum NaN; -inf for a NaN row, whose p keeps the scores).
** acc[d] = sum over t of (double)(p[t] * v_t[d]) in t order, o = (float)acc. */
static int64_t softmax_pv(const attn_job *j, float *p, int64_t nk, float mx, bool nan, int64_t kvh,
                          bool vec, double *acc, float *o, float *fill) {
    int64_t T = j->T, D = j->D, n = nk;
    *fill = -INFINITY;
    if (nan) { /* a NaN score (even all of them): the output row is NaN */
        for (int64_t d = 0; d < D; d++)
            o[d] = NAN;
        return nk;
    }
    if (mx == -INFINITY) { /* nothing visible: uniform, like softmax of an all-masked row */
        n = T;
        for (int64_t t = 0; t < T; t++)
            p[t] = 1.0f / (float)T;
    } else if (vec && ops_vexpf_ok()) { /* the same values: expf(-inf - mx) is 0 */
        double sum = 0.0;
        tl_expf_minus_avx2(p, nk, mx);
        for (int64_t t = 0; t < nk; t++)
            sum += (double)p[t];
        float inv = (float)(1.0 / sum);
        tl_row_scale_avx2(p, nk, inv);
        *fill = 0.0f * inv;
    } else {
        double sum = 0.0;
        for (int64_t t = 0; t < nk; t++) {
            float e = p[t] == -INFINITY ? 0.0f : expf(p[t] - mx);
            p[t] = e;
            sum += (double)e;
        }
        float inv = (float)(1.0 / sum);
        for (int64_t t = 0; t < nk; t++)
            p[t] *= inv;
        *fill = 0.0f * inv;
    }
    for (int64_t d = 0; d < D; d++)
        acc[d] = 0.0;
    if (vec) tl_attn_pv_avx2(p, j->v + kvh * D, j->Hkv * D, n, D, acc);
    for (int64_t t = 0; !vec && t < n; t++) {
        if (p[t] == 0.0f) continue; /* adds exactly 0 */
        const float *v = j->v + (t * j->Hkv + kvh) * D;
        for (int64_t d = 0; d < D; d++)
            acc[d] += (double)(p[t] * v[d]);
    }
    for (int64_t d = 0; d < D; d++)
        o[d] = (float)acc[d];
    return n;
}

/* dst[0..T) = p[0..n) followed by fill (the masked keys' -inf score or 0 probability). */
static void write_row(float *dst, const float *p, int64_t n, int64_t T, float fill) {
    memcpy(dst, p, (size_t)n * sizeof(float));
    for (int64_t t = n; t < T; t++)
        dst[t] = fill;
}

/* Query positions per work item: the AVX2 path transposes the keys once per
** block of ATTN_QBLOCK queries and KV head, for every query head of the group. */
#define ATTN_QBLOCK 8

/* Items it = (n_blocks - 1 - b) * Hkv + kvh: the query positions of block b
** (the costly late blocks of a causal prompt first, so that the threads taking
** chunks from the pool's counter end together) against KV head kvh,
** for the group of query heads that read it.  Each query scores only the keys
** it sees.  The AVX2 path transposes the keys visible to the block's last query
** once (element d of key t at kt[d * ldk + t]) so that a score vector covers 8
** keys; a block of one query (a decode step) whose group has 8 or 4 heads
** scores the keys where they are, the group's heads in the lanes.  Every sum
** keeps the scalar loop's order. */
static void attn_items(void *ctx, int64_t begin, int64_t end) {
    attn_job *j = ctx;
    int64_t T = j->T, D = j->D, G = j->group;
    bool vec = tl_kernels_use_avx2() && D % 4 == 0;
    /* one query against the keys: the group's heads in the lanes, no transpose */
    bool by_heads = vec && (G == 8 || G == 4);
    int64_t ldp = T + 1, np = by_heads ? G : 1;
    float *p = malloc((size_t)(np * ldp) * sizeof(float));
    double *acc = malloc((size_t)(D + 1) * sizeof(double));
    float *qt = by_heads ? malloc((size_t)(D * G) * sizeof(float)) : NULL;
    bool need_kt = vec && !(by_heads && j->S == 1); /* one query: scored in place */
    float *kt = need_kt ? malloc((size_t)(D * ((T + 7) / 8 * 8) + 1) * sizeof(float)) : NULL;
    if (!p || !acc || (need_kt && !kt) || (by_heads && !qt)) {
        free(p);
        free(acc);
        free(qt);
        free(kt);
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t it = begin; it < end; it++) {
        int64_t n_blocks = (j->S + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
        int64_t kvh = it % j->Hkv, s0 = (n_blocks - 1 - it / j->Hkv) * ATTN_QBLOCK;
        int64_t s1 = s0 + ATTN_QBLOCK < j->S ? s0 + ATTN_QBLOCK : j->S;
        int64_t nk_max = visible_keys(j, s1 - 1), ldk = (nk_max + 7) / 8 * 8;
        bool one_query = by_heads && s1 - s0 == 1;
        if (vec && !one_query && D % 8 == 0)
            tl_attn_transpose_k_avx2(j->k + kvh * D, j->Hkv * D, nk_max, D, kt, ldk);
        else if (vec && !one_query)
            for (int64_t t = 0; t < ldk; t++) {
                const float *k = j->k + (t * j->Hkv + kvh) * D;
                for (int64_t d = 0; d < D; d++)
                    kt[d * ldk + t] = t < nk_max ? k[d] : 0.0f;
            }
        for (int64_t s = s0; s < s1; s++) {
            int64_t nk = visible_keys(j, s);
            if (one_query && nk > 0) {
                for (int64_t g = 0; g < G; g++)
                    for (int64_t d = 0; d < D; d++)
                        qt[d * G + g] = j->q[(s * j->H + kvh * G + g) * D + d];
                if (G == 8)
                    tl_attn_scores_g8_avx2(qt, j->k + kvh * D, j->Hkv * D, nk, D, j->scale, p, ldp);
                else
                    tl_attn_scores_g4_avx2(qt, j->k + kvh * D, j->Hkv * D, nk, D, j->scale, p, ldp);
            }
            for (int64_t h = kvh * G; h < (kvh + 1) * G; h++) {
                const float *q = j->q + (s * j->H + h) * D;
                float *ph = one_query ? p + (h - kvh * G) * ldp : p;
                if (vec && !one_query && nk > 0)
                    tl_attn_scores_t_avx2(q, kt, ldk, nk, D, j->scale, ph);
                for (int64_t t = 0; !vec && t < nk; t++) {
                    const float *k = j->k + (t * j->Hkv + kvh) * D;
                    double sum = 0.0;
                    for (int64_t d = 0; d < D; d++)
                        sum += (double)(q[d] * k[d]);
                    ph[t] = (float)sum * j->scale;
                }
                float mx = -INFINITY;
                bool nan = false;
                for (int64_t t = 0; t < nk; t++) {
                    if (ph[t] > mx) mx = ph[t];
                    if (ph[t] != ph[t]) nan = true;
                }
                if (j->scores) write_row(j->scores + (h * j->S + s) * T, ph, nk, T, -INFINITY);
                float fill;
                int64_t n =
                    softmax_pv(j, ph, nk, mx, nan, kvh, vec, acc, j->o + (s * j->H + h) * D, &fill);
                if (j->probs) write_row(j->probs + (h * j->S + s) * T, ph, n, T, fill);
            }
        }
    }
    free(p);
    free(acc);
    free(qt);
    free(kt);
}

tl_status tl_op_attention(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v, bool causal,
                          float scale, int64_t pos_offset, tl_tensor **out) {
    return tl_op_attention_probs(q, k, v, causal, scale, pos_offset, out, NULL, NULL);
}

tl_status tl_op_attention_probs(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                                bool causal, float scale, int64_t pos_offset, tl_tensor **out,
                                tl_tensor **scores, tl_tensor **probs) {
    *out = NULL;
    if (scores) *scores = NULL;
    if (probs) *probs = NULL;
    char sq[96], sk[96], sv[96];
    tl_status st = ops_require_plain("attention", q);
    if (st == TL_OK) st = ops_require_plain("attention", k);
    if (st == TL_OK) st = ops_require_plain("attention", v);
    if (st != TL_OK) return st;
    if (q->n_dims != 3 || k->n_dims != 3 || v->n_dims != 3 || !tl_tensor_same_shape(k, v) ||
        q->ne[0] != k->ne[0] || k->ne[1] == 0 || q->ne[1] % k->ne[1] != 0)
        return tl_fail(
            TL_ERR_SHAPE,
            "attention: shapes %s, %s and %s do not fit (q [S, H, D], k and v [T, Hkv, D], "
            "H a multiple of Hkv)",
            OPS_SHAPE(q, sq), OPS_SHAPE(k, sk), OPS_SHAPE(v, sv));
    attn_job j = {.D = q->ne[0],
                  .H = q->ne[1],
                  .S = q->ne[2],
                  .Hkv = k->ne[1],
                  .T = k->ne[2],
                  .causal = causal};
    j.group = j.H / j.Hkv;
    j.scale = scale > 0.0f ? scale : 1.0f / sqrtf((float)j.D);
    j.pos_offset = pos_offset >= 0 ? pos_offset : j.T - j.S;
    /* every key is visible from an offset of T on: clamping keeps s + pos_offset
    ** from overflowing when an offset near INT64_MAX comes from a script */
    if (j.pos_offset > j.T) j.pos_offset = j.T;
    float *fq = NULL, *fk = NULL, *fv = NULL; /* copies, when the inputs are not f32 */
    tl_tensor *o = NULL, *ts = NULL, *tp = NULL;
    int64_t pne[3] = {j.T, j.S, j.H}; /* ne order: [H, S, T] in NumPy order */
    st = ops_f32_data("attention", q, &j.q, &fq);
    if (st == TL_OK) st = ops_f32_data("attention", k, &j.k, &fk);
    if (st == TL_OK) st = ops_f32_data("attention", v, &j.v, &fv);
    /* attn_items writes every output row (and, when D > 0, every scores/probs row) */
    if (st == TL_OK) st = tl_tensor_new_uninit(TL_DTYPE_F32, 3, q->ne, &o);
    if (st == TL_OK && scores) st = tl_tensor_new(TL_DTYPE_F32, 3, pne, &ts);
    if (st == TL_OK && probs) st = tl_tensor_new(TL_DTYPE_F32, 3, pne, &tp);
    if (st == TL_OK) {
        j.o = tl_tensor_data(o);
        j.scores = ts ? tl_tensor_data(ts) : NULL;
        j.probs = tp ? tl_tensor_data(tp) : NULL;
        if (j.S * j.H > 0 && j.D > 0)
            tl_parallel_for((j.S + ATTN_QBLOCK - 1) / ATTN_QBLOCK * j.Hkv, 1, attn_items, &j);
        if (j.failed) st = tl_fail(TL_ERR_NOMEM, "attention: out of memory");
    }
    if (st == TL_OK) {
        *out = o;
        if (scores) *scores = ts;
        if (probs) *probs = tp;
    } else {
        tl_tensor_unref(o);
        tl_tensor_unref(ts);
        tl_tensor_unref(tp);
    }
    free(fq);
    free(fk);
    free(fv);
    return st;
}
