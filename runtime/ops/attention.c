/* runtime/ops/attention.c -- fused scaled-dot-product attention with GQA, in
** llama.cpp's arithmetic (ggml_math.h). */
#include "runtime/ops/ggml_math.h"
#include "runtime/ops/internal.h"

#include "runtime/ops/expf_kernels.h"
#include "runtime/threadpool.h"

typedef struct attn_job {
    const float *q, *k, *v; /* [S][H][D], [T][Hkv][D], [T][Hkv][D] */
    float *vt;              /* two or more queries: the values transposed, [Hkv][D][T] */
    float *o;               /* [S][H][D] */
    float *scores, *probs;  /* NULL, or [H][S][T]: scaled scores (-inf past the visible keys),
                               the softmax of each row */
    int64_t S, H, Hkv, T, D, group, pos_offset;
    float scale;
    bool causal;
    int failed;
    const float *k_new, *v_new; /* NULL, or one new key and value [Hkv][D], */
    float *k_row, *v_row;       /* copied here (key T - 1) by the KV head's item */
} attn_job;

/* The keys query s sees: 0 .. last, last = s + pos_offset when causal. */
static int64_t visible_keys(const attn_job *j, int64_t s) {
    int64_t last = j->causal ? s + j->pos_offset : j->T - 1;
    return last + 1 < j->T ? (last + 1 > 0 ? last + 1 : 0) : j->T;
}

/* The probabilities of one query's row from the scores p[0..nk) of the nk
** visible keys (mx their maximum, nan: one of them is NaN); the keys past nk are
** masked.  Leaves in p what the probs row holds (see write_row).  The arithmetic
** is llama.cpp's (ggml_math.h) over the full row of T scores (masked ones
** -inf): a masked key's expf is exactly 0, so it adds nothing to its group's
** float sum (the groups of 8 start at key 0 either way), its probability is
** 0 * inv = 0 and its product adds exactly nothing to the output lane it falls
** in; only the nk visible keys are visited.  Returns the number of entries of p
** set: nk, or T for the uniform row of a query that sees nothing; *fill: the
** masked keys' probability (0 * inv: 0, or NaN when an infinite score made the
** sum NaN; -inf for a NaN row, whose p keeps the scores).  A NaN row's output
** o is NaN and *pv is false; otherwise *pv is true and o = sum over t < n of
** p[t] v_t is the caller's (pv_row). */
static int64_t softmax_row(const attn_job *j, float *p, int64_t nk, float mx, bool nan, float *o,
                           float *fill, bool *pv) {
    int64_t T = j->T, n = nk;
    *fill = -INFINITY;
    *pv = !nan;
    if (nan) { /* a NaN score (even all of them): the output row is NaN */
        for (int64_t d = 0; d < j->D; d++)
            o[d] = NAN;
        return nk;
    }
    if (mx == -INFINITY) { /* nothing visible: uniform, like softmax of an all-masked row */
        n = T;
        for (int64_t t = 0; t < T; t++)
            p[t] = 1.0f / (float)T;
    } else {
        float inv = (float)(1.0 / ops_ggml_softmax_exp(p, nk, mx));
        if (ops_vexpf_ok()) {
            tl_row_scale_avx2(p, nk, inv);
        } else {
            for (int64_t t = 0; t < nk; t++)
                p[t] *= inv;
        }
        *fill = 0.0f * inv;
    }
    return n;
}

/* o = sum over t < n of p[t] v_t for KV head kvh in llamafile sgemm's order
** (ops_ggml_pv), or ggml_vec_dot_f32's for a single query (llama.cpp's sgemm
** needs two columns). */
static void pv_row(const attn_job *j, const float *p, int64_t n, int64_t kvh, float *o) {
    if (j->S == 1)
        ops_ggml_pv_dot(p, j->v + kvh * j->D, j->Hkv * j->D, n, j->D, o);
    else
        ops_ggml_pv(p, j->v + kvh * j->D, j->Hkv * j->D, n, j->D, o);
}

/* The max of p[0..n) and whether one is NaN. */
static float row_max(const float *p, int64_t n, bool *nan) {
    if (ops_vexpf_ok() && n > 0) return tl_row_max_avx2(p, n, nan);
    float mx = -INFINITY;
    *nan = false;
    for (int64_t t = 0; t < n; t++) {
        if (p[t] > mx) mx = p[t];
        if (p[t] != p[t]) *nan = true;
    }
    return mx;
}

/* dst[0..T) = p[0..n) followed by fill (the masked keys' -inf score or 0 probability). */
static void write_row(float *dst, const float *p, int64_t n, int64_t T, float fill) {
    memcpy(dst, p, (size_t)n * sizeof(float));
    for (int64_t t = n; t < T; t++)
        dst[t] = fill;
}

/* j->vt[(kvh D + d) T + t] = element d of key t's value for KV head kvh:
** each output's keys contiguous, as llamafile's sgemm reads them. */
static void transpose_values(attn_job *j) {
    int64_t T = j->T, D = j->D, Hkv = j->Hkv;
    for (int64_t kvh = 0; kvh < Hkv; kvh++)
        for (int64_t t0 = 0; t0 < T; t0 += 8) {
            int64_t t1 = t0 + 8 < T ? t0 + 8 : T;
            for (int64_t d = 0; d < D; d++) {
                float *dst = j->vt + (kvh * D + d) * T;
                for (int64_t t = t0; t < t1; t++)
                    dst[t] = j->v[(t * Hkv + kvh) * D + d];
            }
        }
}

/* Query positions per work item. */
#define ATTN_QBLOCK 8

/* Keys per block of a query's scores: a block of keys (16 KiB at D 64) stays in
** L1 while the G query heads that read it score it. */
#define ATTN_KBLOCK 64

/* Query s against KV head kvh: the scores of the group's G query heads a block
** of keys at a time, each head's softmax, then the G outputs together: for a
** single query (S == 1, a generated token) ggml_vec_dot_f32's chains in one pass
** over the values (ops_ggml_pv_dot_heads), for two or more llamafile sgemm's
** sums from the transposed values (ops_ggml_pv_rows_t).  Every number is the
** one a head-by-head loop gives: each score is its own dot and the outputs are
** the same sums.  buf: G * (T + 1) floats, then (S == 1)
** ops_ggml_pv_dot_heads_work(G, T, D); n: G entries. */
static void attn_query(attn_job *j, int64_t s, int64_t kvh, float *buf, int64_t *n) {
    int64_t T = j->T, D = j->D, G = j->group, nk = visible_keys(j, s), ps = T + 1;
    const float *k = j->k + kvh * D, *q = j->q + (s * j->H + kvh * G) * D;
    float *o = j->o + (s * j->H + kvh * G) * D;
    for (int64_t t0 = 0; t0 < nk; t0 += ATTN_KBLOCK) {
        int64_t nb = nk - t0 < ATTN_KBLOCK ? nk - t0 : ATTN_KBLOCK;
        for (int64_t g = 0; g < G; g++)
            ops_ggml_scores(q + g * D, k + t0 * j->Hkv * D, j->Hkv * D, nb, D, j->scale,
                            buf + g * ps + t0);
    }
    bool same = true; /* every head a row of probabilities over the nk keys */
    for (int64_t g = 0; g < G; g++) {
        int64_t h = kvh * G + g;
        float *p = buf + g * ps, fill;
        bool nan, pv;
        float mx = row_max(p, nk, &nan);
        if (j->scores) write_row(j->scores + (h * j->S + s) * T, p, nk, T, -INFINITY);
        n[g] = softmax_row(j, p, nk, mx, nan, o + g * D, &fill, &pv);
        if (j->probs) write_row(j->probs + (h * j->S + s) * T, p, n[g], T, fill);
        if (!pv) n[g] = -1; /* a NaN row: its output is set */
        same = same && n[g] == nk;
    }
    if (same && j->S == 1)
        ops_ggml_pv_dot_heads(buf, ps, G, j->v + kvh * D, j->Hkv * D, nk, D, o, D, buf + G * ps);
    else if (same)
        ops_ggml_pv_rows_t(buf, ps, G, j->vt + kvh * D * T, T, nk, D, o, D);
    else
        for (int64_t g = 0; g < G; g++) /* a NaN or an all-masked row among them */
            if (n[g] >= 0) pv_row(j, buf + g * ps, n[g], kvh, o + g * D);
}

/* Items it = (n_blocks - 1 - b) * Hkv + kvh: the query positions of block b
** (the costly late blocks of a causal prompt first, so that the threads taking
** chunks from the pool's counter end together) against KV head kvh, for the
** group of query heads that read it (attn_query).  Each query scores only the
** keys it sees, every score one ggml_vec_dot_f32 (ops_ggml_dot_f32) times the
** scale. */
static void attn_items(void *ctx, int64_t begin, int64_t end) {
    attn_job *j = ctx;
    int64_t T = j->T, D = j->D, G = j->group;
    size_t nf = (size_t)(G * (T + 1) + (j->S == 1 ? ops_ggml_pv_dot_heads_work(G, T, D) : 0));
    float *p = malloc(nf * sizeof(float));
    int64_t *n = malloc((size_t)G * sizeof *n);
    if (!p || !n) {
        free(p);
        free(n);
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    int64_t n_blocks = (j->S + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
    for (int64_t it = begin; it < end; it++) {
        int64_t kvh = it % j->Hkv, s0 = (n_blocks - 1 - it / j->Hkv) * ATTN_QBLOCK;
        if (j->k_new) { /* one query, so one item per KV head: its slice of the new row */
            memcpy(j->k_row + kvh * D, j->k_new + kvh * D, (size_t)D * sizeof(float));
            memcpy(j->v_row + kvh * D, j->v_new + kvh * D, (size_t)D * sizeof(float));
        }
        int64_t s1 = s0 + ATTN_QBLOCK < j->S ? s0 + ATTN_QBLOCK : j->S;
        for (int64_t s = s0; s < s1; s++)
            attn_query(j, s, kvh, p, n);
    }
    free(p);
    free(n);
}

tl_status tl_op_attention(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v, bool causal,
                          float scale, int64_t pos_offset, tl_tensor **out) {
    return tl_op_attention_probs(q, k, v, causal, scale, pos_offset, out, NULL, NULL);
}

/* Checks the shapes and fills j from q, k, v (f32 copies of other dtypes in
** fq/fk/fv, the caller's to free, set even on failure); j->o and the rest the
** caller's. */
static tl_status attn_setup(attn_job *j, const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                            bool causal, float scale, int64_t pos_offset, float **fq, float **fk,
                            float **fv) {
    char sq[96], sk[96], sv[96];
    *fq = *fk = *fv = NULL;
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
    *j = (attn_job){.D = q->ne[0],
                    .H = q->ne[1],
                    .S = q->ne[2],
                    .Hkv = k->ne[1],
                    .T = k->ne[2],
                    .causal = causal};
    j->group = j->H / j->Hkv;
    j->scale = scale > 0.0f ? scale : 1.0f / sqrtf((float)j->D);
    j->pos_offset = pos_offset >= 0 ? pos_offset : j->T - j->S;
    /* every key is visible from an offset of T on: clamping keeps s + pos_offset
    ** from overflowing when an offset near INT64_MAX comes from a script */
    if (j->pos_offset > j->T) j->pos_offset = j->T;
    st = ops_f32_data("attention", q, &j->q, fq);
    if (st == TL_OK) st = ops_f32_data("attention", k, &j->k, fk);
    if (st == TL_OK) st = ops_f32_data("attention", v, &j->v, fv);
    return st;
}

/* Two or more queries read the values transposed (attn_query); sets j->failed
** when out of memory. */
static void attn_transpose(attn_job *j) {
    if (j->S > 1 && j->S * j->H > 0 && j->D > 0) {
        j->vt = malloc((size_t)(j->Hkv * j->D * j->T + 1) * sizeof(float));
        if (!j->vt)
            j->failed = 1;
        else
            transpose_values(j);
    }
}

/* The work items of a job (attn_items). */
static int64_t attn_n_items(const attn_job *j) {
    return j->S * j->H > 0 && j->D > 0 ? (j->S + ATTN_QBLOCK - 1) / ATTN_QBLOCK * j->Hkv : 0;
}

tl_status tl_op_attention_probs(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                                bool causal, float scale, int64_t pos_offset, tl_tensor **out,
                                tl_tensor **scores, tl_tensor **probs) {
    *out = NULL;
    if (scores) *scores = NULL;
    if (probs) *probs = NULL;
    attn_job j = {0};
    float *fq, *fk, *fv; /* copies, when the inputs are not f32 */
    tl_status st = attn_setup(&j, q, k, v, causal, scale, pos_offset, &fq, &fk, &fv);
    tl_tensor *o = NULL, *ts = NULL, *tp = NULL;
    int64_t pne[3] = {j.T, j.S, j.H}; /* ne order: [H, S, T] in NumPy order */
    /* attn_items writes every output row (and, when D > 0, every scores/probs row) */
    if (st == TL_OK) st = tl_tensor_new_uninit(TL_DTYPE_F32, 3, q->ne, &o);
    if (st == TL_OK && scores) st = tl_tensor_new(TL_DTYPE_F32, 3, pne, &ts);
    if (st == TL_OK && probs) st = tl_tensor_new(TL_DTYPE_F32, 3, pne, &tp);
    if (st == TL_OK) {
        j.o = tl_tensor_data(o);
        j.scores = ts ? tl_tensor_data(ts) : NULL;
        j.probs = tp ? tl_tensor_data(tp) : NULL;
        attn_transpose(&j);
        if (!j.failed && attn_n_items(&j) > 0) tl_parallel_for(attn_n_items(&j), 1, attn_items, &j);
        free(j.vt);
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

/* ---- several independent attentions in one parallel region ------------------ */

typedef struct attn_many {
    attn_job *jobs;
    const int64_t *first; /* job i owns the items [first[i], first[i + 1]) */
    int n;
} attn_many;

static void many_items(void *ctx, int64_t begin, int64_t end) {
    attn_many *m = ctx;
    for (int i = 0; i < m->n && m->first[i] < end; i++) {
        int64_t b = begin > m->first[i] ? begin : m->first[i];
        int64_t e = end < m->first[i + 1] ? end : m->first[i + 1];
        if (b < e) attn_items(&m->jobs[i], b - m->first[i], e - m->first[i]);
    }
}

/* Runs n set-up jobs (attn_transpose done) in one parallel region; frees their
** transposed values. */
static tl_status run_many(attn_job *jobs, int n) {
    int64_t *first = calloc((size_t)n + 1, sizeof *first);
    int failed = !first;
    for (int i = 0; i < n && !failed; i++) {
        failed |= jobs[i].failed;
        first[i + 1] = first[i] + attn_n_items(&jobs[i]);
    }
    if (!failed && first[n] > 0) {
        attn_many m = {jobs, first, n};
        tl_parallel_for(first[n], 1, many_items, &m);
        for (int i = 0; i < n; i++)
            failed |= jobs[i].failed;
    }
    for (int i = 0; i < n; i++)
        free(jobs[i].vt);
    free(first);
    return failed ? tl_fail(TL_ERR_NOMEM, "attention: out of memory") : TL_OK;
}

tl_status tl_op_attention_batch(int n, const tl_tensor *const *q, const tl_tensor *const *k,
                                const tl_tensor *const *v, const int64_t *pos, float scale,
                                float *const *o) {
    if (n <= 0) return TL_OK;
    attn_job *jobs = calloc((size_t)n, sizeof *jobs);
    float **copies = calloc(3 * (size_t)n, sizeof *copies);
    tl_status st = jobs && copies ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
    int set = 0;
    for (; set < n && st == TL_OK; set++) {
        attn_job *j = &jobs[set];
        st = attn_setup(j, q[set], k[set], v[set], true, scale, pos[set], &copies[3 * set],
                        &copies[3 * set + 1], &copies[3 * set + 2]);
        if (st != TL_OK) break;
        j->o = o[set];
        attn_transpose(j);
    }
    if (st == TL_OK) {
        st = run_many(jobs, n);
    } else {
        for (int i = 0; jobs && i < set; i++)
            free(jobs[i].vt);
    }
    for (int i = 0; copies && i < 3 * n; i++)
        free(copies[i]);
    free(jobs);
    free(copies);
    return st;
}

tl_status tl_op_attention_rows(int n, const tl_attn_rows *seqs, int64_t H, int64_t Hkv, int64_t D,
                               float scale) {
    if (n <= 0) return TL_OK;
    if (H <= 0 || Hkv <= 0 || D <= 0 || H % Hkv != 0)
        return tl_fail(TL_ERR_SHAPE, "attention: %lld query heads, %lld KV heads of size %lld",
                       (long long)H, (long long)Hkv, (long long)D);
    for (int i = 0; i < n; i++)
        if (seqs[i].S < 0 || seqs[i].T < seqs[i].S)
            return tl_fail(TL_ERR_SHAPE, "attention: %lld queries against %lld keys",
                           (long long)seqs[i].S, (long long)seqs[i].T);
    attn_job *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs) return tl_fail(TL_ERR_NOMEM, "attention: out of memory");
    for (int i = 0; i < n; i++) {
        const tl_attn_rows *r = &seqs[i];
        attn_job *j = &jobs[i];
        *j = (attn_job){.q = r->q,
                        .k = r->k,
                        .v = r->v,
                        .o = r->o,
                        .S = r->S,
                        .H = H,
                        .Hkv = Hkv,
                        .T = r->T,
                        .D = D,
                        .group = H / Hkv,
                        .causal = true,
                        .pos_offset = r->T - r->S};
        j->scale = scale > 0.0f ? scale : 1.0f / sqrtf((float)D);
        if (r->k_new && r->S == 1) { /* copied by the KV heads' items */
            j->k_new = r->k_new;
            j->v_new = r->v_new;
            j->k_row = r->k_rows;
            j->v_row = r->v_rows;
        } else if (r->k_new) { /* before the values are transposed */
            memcpy(r->k_rows, r->k_new, (size_t)(r->S * Hkv * D) * sizeof(float));
            memcpy(r->v_rows, r->v_new, (size_t)(r->S * Hkv * D) * sizeof(float));
        }
        attn_transpose(j);
    }
    tl_status st = run_many(jobs, n);
    free(jobs);
    return st;
}

typedef struct apply_job {
    const float *p, *v; /* [H][S][T], [T][Hkv][D] */
    float *o;           /* [S][H][D] */
    int64_t S, H, Hkv, T, D;
} apply_job;

static void apply_rows(void *ctx, int64_t begin, int64_t end) {
    const apply_job *j = ctx;
    int64_t G = j->H / j->Hkv;
    for (int64_t it = begin; it < end; it++) { /* it = h * S + s */
        int64_t h = it / j->S, s = it % j->S;
        if (j->S == 1) /* as tl_op_attention: its order depends on the number of queries */
            ops_ggml_pv_dot(j->p + it * j->T, j->v + (h / G) * j->D, j->Hkv * j->D, j->T, j->D,
                            j->o + (s * j->H + h) * j->D);
        else
            ops_ggml_pv(j->p + it * j->T, j->v + (h / G) * j->D, j->Hkv * j->D, j->T, j->D,
                        j->o + (s * j->H + h) * j->D);
    }
}

tl_status tl_op_attention_apply(const tl_tensor *probs, const tl_tensor *v, tl_tensor **out) {
    *out = NULL;
    char sp[96], sv[96];
    tl_status st = ops_require_plain("attention_apply", probs);
    if (st == TL_OK) st = ops_require_plain("attention_apply", v);
    if (st != TL_OK) return st;
    if (probs->n_dims != 3 || v->n_dims != 3 || probs->ne[0] != v->ne[2] || v->ne[1] == 0 ||
        probs->ne[2] % v->ne[1] != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "attention_apply: shapes %s and %s do not fit (probs [H, S, T], v [T, "
                       "Hkv, D], H a multiple of Hkv)",
                       OPS_SHAPE(probs, sp), OPS_SHAPE(v, sv));
    apply_job j = {
        .H = probs->ne[2], .S = probs->ne[1], .T = probs->ne[0], .Hkv = v->ne[1], .D = v->ne[0]};
    float *fp = NULL, *fv = NULL;
    st = ops_f32_data("attention_apply", probs, &j.p, &fp);
    if (st == TL_OK) st = ops_f32_data("attention_apply", v, &j.v, &fv);
    tl_tensor *o = NULL;
    int64_t one[3] = {j.D, j.H, j.S};
    if (st == TL_OK) st = tl_tensor_new(TL_DTYPE_F32, 3, one, &o);
    if (st == TL_OK && j.D > 0) {
        j.o = tl_tensor_data(o);
        tl_parallel_for(j.H * j.S, 1 + 4096 / (j.T * j.D + 1), apply_rows, &j);
    }
    free(fp);
    free(fv);
    if (st == TL_OK) *out = o;
    return st;
}
