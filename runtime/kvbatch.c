/* runtime/kvbatch.c -- one KV cache per sequence of a batch, and its attention. */
#include "runtime/kvbatch.h"

#include "runtime/ops.h"

#include <stdlib.h>
#include <string.h>

struct tl_kvbatch {
    int64_t n_seq, n_ctx;
    tl_kvcache **seq;
    unsigned char *seen; /* n_seq flags, for the distinct-ids check */
};

tl_status tl_kvbatch_new(int64_t n_layer, int64_t n_seq, int64_t capacity, int64_t n_ctx,
                         tl_kvbatch **out) {
    *out = NULL;
    if (n_seq <= 0 || n_seq > 4096)
        return tl_fail(TL_ERR_ARG, "KVBatch: sequence count %lld out of range 1..4096",
                       (long long)n_seq);
    tl_kvbatch *b = calloc(1, sizeof *b);
    if (b) b->seq = calloc((size_t)n_seq, sizeof *b->seq);
    if (b) b->seen = calloc((size_t)n_seq, 1);
    if (!b || !b->seq || !b->seen) {
        if (b) free(b->seq);
        free(b);
        return tl_fail(TL_ERR_NOMEM, "KVBatch: out of memory");
    }
    b->n_seq = n_seq;
    b->n_ctx = n_ctx > 0 ? n_ctx : 0;
    for (int64_t i = 0; i < n_seq; i++) {
        tl_status st = tl_kvcache_new(n_layer, capacity, &b->seq[i]);
        if (st != TL_OK) {
            tl_kvbatch_free(b);
            return st;
        }
    }
    *out = b;
    return TL_OK;
}

void tl_kvbatch_free(tl_kvbatch *b) {
    if (!b) return;
    for (int64_t i = 0; i < b->n_seq; i++)
        tl_kvcache_free(b->seq[i]);
    free(b->seq);
    free(b->seen);
    free(b);
}

int64_t tl_kvbatch_n_seq(const tl_kvbatch *b) {
    return b->n_seq;
}

int64_t tl_kvbatch_n_ctx(const tl_kvbatch *b) {
    return b->n_ctx;
}

static tl_status check_seq(const tl_kvbatch *b, int64_t seq) {
    if (seq < 0 || seq >= b->n_seq)
        return tl_fail(TL_ERR_RANGE, "KVBatch: sequence %lld out of range (the batch has %lld)",
                       (long long)seq, (long long)b->n_seq);
    return TL_OK;
}

tl_status tl_kvbatch_len(const tl_kvbatch *b, int64_t seq, int64_t *len) {
    *len = 0;
    tl_status st = check_seq(b, seq);
    if (st == TL_OK) *len = tl_kvcache_len(b->seq[seq], 0);
    return st;
}

tl_status tl_kvbatch_truncate(tl_kvbatch *b, int64_t seq, int64_t n) {
    if (seq < 0) {
        for (int64_t i = 0; i < b->n_seq; i++) {
            tl_status st = tl_kvcache_truncate(b->seq[i], n);
            if (st != TL_OK) return st;
        }
        return TL_OK;
    }
    tl_status st = check_seq(b, seq);
    return st == TL_OK ? tl_kvcache_truncate(b->seq[seq], n) : st;
}

/* tl_kvbatch_check against the lengths of one layer's caches. */
static tl_status check_step(const tl_kvbatch *b, const int64_t *seqs, const int64_t *lens,
                            int64_t n, int64_t rows, int64_t layer) {
    if (n <= 0 || n > b->n_seq)
        return tl_fail(TL_ERR_ARG, "KVBatch: a step needs 1 to %lld sequences, got %lld",
                       (long long)b->n_seq, (long long)n);
    tl_status st = TL_OK;
    int64_t total = 0;
    memset(b->seen, 0, (size_t)b->n_seq);
    for (int64_t i = 0; i < n && st == TL_OK; i++) {
        if ((st = check_seq(b, seqs[i])) != TL_OK) break;
        if (b->seen[seqs[i]]) {
            st = tl_fail(TL_ERR_ARG, "KVBatch: sequence %lld appears twice in one step",
                         (long long)seqs[i]);
            break;
        }
        b->seen[seqs[i]] = 1;
        if (lens[i] <= 0) {
            st = tl_fail(TL_ERR_ARG, "KVBatch: sequence %lld brings %lld new tokens (need >= 1)",
                         (long long)seqs[i], (long long)lens[i]);
            break;
        }
        int64_t len = tl_kvcache_len(b->seq[seqs[i]], layer);
        if (b->n_ctx > 0 && lens[i] > b->n_ctx - len) {
            st = tl_fail(TL_ERR_RANGE,
                         "KVBatch: sequence %lld is full: %lld + %lld tokens exceed the context "
                         "of %lld",
                         (long long)seqs[i], (long long)len, (long long)lens[i],
                         (long long)b->n_ctx);
            break;
        }
        if (__builtin_add_overflow(total, lens[i], &total)) {
            st = tl_fail(TL_ERR_RANGE, "KVBatch: too many new tokens");
            break;
        }
    }
    if (st == TL_OK && rows >= 0 && total != rows)
        st = tl_fail(TL_ERR_SHAPE, "KVBatch: the lengths add up to %lld tokens, the step has %lld",
                     (long long)total, (long long)rows);
    return st;
}

tl_status tl_kvbatch_check(const tl_kvbatch *b, const int64_t *seqs, const int64_t *lens, int64_t n,
                           int64_t rows) {
    return check_step(b, seqs, lens, n, rows, 0);
}

tl_status tl_kvbatch_positions(const tl_kvbatch *b, const int64_t *seqs, const int64_t *lens,
                               int64_t n, int64_t *pos, int64_t max_pos) {
    tl_status st = tl_kvbatch_check(b, seqs, lens, n, -1);
    if (st != TL_OK) return st;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t len = tl_kvcache_len(b->seq[seqs[i]], 0);
        for (int64_t j = 0; j < lens[i]; j++) {
            if (k >= max_pos) return tl_fail(TL_ERR_INTERNAL, "KVBatch: position buffer too small");
            pos[k++] = len + j;
        }
    }
    return TL_OK;
}

/* t's elements as contiguous f32: t's own data, or a converted copy kept in
** *own (the caller unrefs it). */
static tl_status plain_f32(const tl_tensor *t, const char *what, tl_tensor **own,
                           const float **data) {
    *own = NULL;
    if (t->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(t)) {
        *data = tl_tensor_data(t);
        return TL_OK;
    }
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr || tr->quantized || !tr->to_f32)
        return tl_fail(TL_ERR_TYPE, "KVBatch.attention: %s must be a float tensor, got %s", what,
                       tl_dtype_name(t->dtype));
    tl_status st = tl_op_cast(t, TL_DTYPE_F32, own);
    if (st == TL_OK) *data = tl_tensor_data(*own);
    return st;
}

/* Reserves each sequence's new rows in its layer cache and describes its
** attention (r[i]); q, k, v: the step's [N][H][D] and [N][Hkv][D] rows. */
static tl_status describe(tl_kvbatch *b, int64_t layer, const int64_t *seqs, const int64_t *lens,
                          int64_t n, int64_t H, int64_t Hkv, int64_t D, const float *q,
                          const float *k, const float *v, float *o, tl_attn_rows *r) {
    for (int64_t i = 0, r0 = 0; i < n; r0 += lens[i], i++) {
        tl_kvcache *c = b->seq[seqs[i]];
        tl_attn_rows *a = &r[i];
        *a = (tl_attn_rows){.q = q + r0 * H * D,
                            .k_new = k + r0 * Hkv * D,
                            .v_new = v + r0 * Hkv * D,
                            .o = o + r0 * H * D,
                            .S = lens[i],
                            .T = tl_kvcache_len(c, layer) + lens[i]};
        tl_status st =
            tl_kvcache_reserve(c, layer, lens[i], Hkv, D, &a->k_rows, &a->v_rows, &a->k, &a->v);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

tl_status tl_kvbatch_attention(tl_kvbatch *b, int64_t layer, const int64_t *seqs,
                               const int64_t *lens, int64_t n, const tl_tensor *q,
                               const tl_tensor *k, const tl_tensor *v, float scale,
                               tl_tensor **out) {
    *out = NULL;
    char sq[96], sk[96], sv[96];
    if (q->n_dims != 3 || k->n_dims != 3 || v->n_dims != 3 || k->ne[2] != q->ne[2] ||
        !tl_tensor_same_shape(k, v) || q->dtype != TL_DTYPE_F32 || q->ne[0] != k->ne[0] ||
        q->ne[0] == 0 || k->ne[1] == 0 || q->ne[1] % k->ne[1] != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "KVBatch.attention: q %s, k %s, v %s: want f32 q [N, H, D], k and v "
                       "[N, Hkv, D] with the same N and D > 0, H a multiple of Hkv",
                       tl_tensor_shape_str(q, sq, sizeof sq), tl_tensor_shape_str(k, sk, sizeof sk),
                       tl_tensor_shape_str(v, sv, sizeof sv));
    if (layer < 0 || layer >= tl_kvcache_n_layer(b->seq[0]))
        return tl_fail(TL_ERR_RANGE, "KVBatch: layer %lld out of range (%lld layers)",
                       (long long)layer, (long long)tl_kvcache_n_layer(b->seq[0]));
    tl_status st = check_step(b, seqs, lens, n, q->ne[2], layer);
    if (st != TL_OK) return st;
    /* each sequence's rows reserved in its cache; the new keys and values are
    ** copied there and every attention run in one parallel region
    ** (tl_op_attention_rows); the rows count only once all of it succeeded */
    int64_t H = q->ne[1], Hkv = k->ne[1], D = q->ne[0];
    tl_tensor *o = NULL, *own[3] = {NULL, NULL, NULL};
    const float *qd = NULL, *kd = NULL, *vd = NULL;
    tl_attn_rows *r = malloc((size_t)n * sizeof *r);
    st = r ? tl_tensor_new_uninit(TL_DTYPE_F32, 3, q->ne, &o)
           : tl_fail(TL_ERR_NOMEM, "KVBatch.attention: out of memory");
    if (st == TL_OK) st = plain_f32(q, "q", &own[0], &qd);
    if (st == TL_OK) st = plain_f32(k, "k", &own[1], &kd);
    if (st == TL_OK) st = plain_f32(v, "v", &own[2], &vd);
    if (st == TL_OK)
        st = describe(b, layer, seqs, lens, n, H, Hkv, D, qd, kd, vd, tl_tensor_data(o), r);
    if (st == TL_OK) st = tl_op_attention_rows((int)n, r, H, Hkv, D, scale);
    for (int64_t i = 0; st == TL_OK && i < n; i++)
        tl_kvcache_commit(b->seq[seqs[i]], layer, lens[i]);
    for (int i = 0; i < 3; i++)
        tl_tensor_unref(own[i]);
    free(r);
    if (st != TL_OK) {
        tl_tensor_unref(o);
        return st;
    }
    *out = o;
    return TL_OK;
}
