/* lang/builtins/kvbatch.c -- the KVBatch host object (runtime/kvbatch.h) in .tl,
** the per-token positions of rope() for a batch, and the sampler's state:
**   let kb = KVBatch::new(n_layer, n_seq[, capacity[, n_ctx]])
**   kb.n_seq()   kb.n_ctx()   kb.len(seq)   kb.lens() -> [int]
**   kb.truncate(seq, n)   kb.clear([seq])
**   kb.positions(seqs, lens) -> i64 tensor [N]   (the position of every new token)
**   kb.attention(layer, seqs, lens, q, k, v[, scale]) -> [N, H, D]
**   linear_batch(x, W | [W1, ..], lens[, last_only])  linear / linear_many over the
**       stacked tokens of sequences of these lengths (x: their last rows only with
**       last_only), each row in the order its sequence alone would use
**   rng_state() -> [int x 4]   set_rng_state(s)    (the seeded sampler's generator)
** stdlib/llama.tl's forward_batch / generate_batch use them (docs/llama.md). */
#include "lang/builtin.h"
#include "lang/builtins/tensor_args.h"
#include "runtime/kvbatch.h"
#include "runtime/ops.h"
#include "runtime/random.h"

#include <stdlib.h>
#include <string.h>

static void kb_free(void *payload) {
    tl_kvbatch_free(payload);
}

static tl_status kb_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                           tl_value *out);

static const tl_object_class kvbatch_class = {
    .name = "KVBatch",
    .free = kb_free,
    .call_method = kb_method,
};

static tl_status need_args(const char *name, int argc, int lo, int hi, const char *sig) {
    if (argc < lo || argc > hi)
        return tl_fail(TL_ERR_ARG, "KVBatch.%s: wrong number of arguments (%d); expected %s", name,
                       argc, sig);
    return TL_OK;
}

/* argv[i] as an array of n ints (malloc'd; *n = its length). */
static tl_status int_array(const char *method, const char *what, const tl_value *v, int64_t **out,
                           int64_t *n) {
    *out = NULL;
    *n = 0;
    if (v->kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "KVBatch.%s: %s must be an array of ints, got %s", method, what,
                       tl_value_type_name(v));
    const tl_array *a = v->as.arr;
    int64_t *p = malloc((a->len + 1) * sizeof *p);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->len; i++) {
        if (a->items[i].kind != TL_VAL_INT) {
            free(p);
            return tl_fail(TL_ERR_TYPE, "KVBatch.%s: %s[%zu] must be an int, got %s", method, what,
                           i, tl_value_type_name(&a->items[i]));
        }
        p[i] = a->items[i].as.i;
    }
    *out = p;
    *n = (int64_t)a->len;
    return TL_OK;
}

/* seqs and lens arguments at argv[0], argv[1] (same length). */
static tl_status step_args(const char *method, const tl_value *argv, int64_t **seqs, int64_t **lens,
                           int64_t *n) {
    int64_t nl;
    tl_status st = int_array(method, "seqs", &argv[0], seqs, n);
    if (st == TL_OK) st = int_array(method, "lens", &argv[1], lens, &nl);
    if (st == TL_OK && nl != *n)
        st = tl_fail(TL_ERR_SHAPE, "KVBatch.%s: %lld sequence ids but %lld lengths", method,
                     (long long)*n, (long long)nl);
    if (st != TL_OK) {
        free(*seqs);
        free(*lens);
        *seqs = *lens = NULL;
    }
    return st;
}

static tl_status kb_positions(tl_kvbatch *b, const tl_value *argv, tl_value *out) {
    int64_t *seqs = NULL, *lens = NULL, n, total = 0;
    tl_status st = step_args("positions", argv, &seqs, &lens, &n);
    if (st == TL_OK) st = tl_kvbatch_check(b, seqs, lens, n, -1);
    for (int64_t i = 0; st == TL_OK && i < n; i++)
        total += lens[i];
    tl_tensor *t = NULL;
    if (st == TL_OK) st = tl_tensor_new_uninit(TL_DTYPE_I64, 1, &total, &t);
    if (st == TL_OK) st = tl_kvbatch_positions(b, seqs, lens, n, tl_tensor_data(t), total);
    free(seqs);
    free(lens);
    if (st != TL_OK) {
        tl_tensor_unref(t);
        return st;
    }
    *out = tl_value_tensor(t);
    return TL_OK;
}

static tl_status kb_attention(tl_kvbatch *b, int argc, const tl_value *argv, tl_value *out) {
    tl_call call = {.interp = NULL, .name = "KVBatch.attention"};
    int64_t layer, *seqs = NULL, *lens = NULL, n;
    tl_tensor *q, *k, *v, *o;
    double scale = 0.0;
    tl_status st = tl_arg_int(&call, argv, 0, &layer);
    if (st == TL_OK) st = tl_arg_tensor(&call, argv, 3, &q);
    if (st == TL_OK) st = tl_arg_tensor(&call, argv, 4, &k);
    if (st == TL_OK) st = tl_arg_tensor(&call, argv, 5, &v);
    if (st == TL_OK && argc > 6) st = tl_arg_double(&call, argv, 6, &scale);
    if (st == TL_OK) st = step_args("attention", argv + 1, &seqs, &lens, &n);
    if (st == TL_OK) st = tl_kvbatch_attention(b, layer, seqs, lens, n, q, k, v, (float)scale, &o);
    free(seqs);
    free(lens);
    if (st == TL_OK) *out = tl_value_tensor(o);
    return st;
}

static tl_status kb_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                           tl_value *out) {
    tl_kvbatch *b = self->payload;
    tl_call call = {.interp = NULL, .name = name};
    tl_status st;
    int64_t seq = -1, n = 0, len;
    *out = TL_VOID;
    if (strcmp(name, "attention") == 0) {
        if ((st = need_args(name, argc, 6, 7, "(layer, seqs, lens, q, k, v[, scale])")) != TL_OK)
            return st;
        return kb_attention(b, argc, argv, out);
    }
    if (strcmp(name, "positions") == 0) {
        if ((st = need_args(name, argc, 2, 2, "(seqs, lens)")) != TL_OK) return st;
        return kb_positions(b, argv, out);
    }
    if (strcmp(name, "len") == 0) {
        if ((st = need_args(name, argc, 1, 1, "(seq)")) != TL_OK) return st;
        if ((st = tl_arg_int(&call, argv, 0, &seq)) != TL_OK) return st;
        if ((st = tl_kvbatch_len(b, seq, &len)) != TL_OK) return st;
        *out = tl_value_int(len);
        return TL_OK;
    }
    if (strcmp(name, "lens") == 0) {
        if ((st = need_args(name, argc, 0, 0, "()")) != TL_OK) return st;
        if ((st = tl_value_array((size_t)tl_kvbatch_n_seq(b), out)) != TL_OK) return st;
        for (int64_t i = 0; i < tl_kvbatch_n_seq(b) && st == TL_OK; i++) {
            tl_kvbatch_len(b, i, &len);
            st = tl_array_push(out->as.arr, tl_value_int(len));
        }
        if (st != TL_OK) tl_value_release(out);
        return st;
    }
    if (strcmp(name, "truncate") == 0) {
        if ((st = need_args(name, argc, 2, 2, "(seq, n)")) != TL_OK) return st;
        if ((st = tl_arg_int(&call, argv, 0, &seq)) != TL_OK) return st;
        if ((st = tl_arg_int(&call, argv, 1, &n)) != TL_OK) return st;
        if (seq < 0) /* a negative id is out of range here, not "all" */
            return tl_fail(TL_ERR_RANGE, "KVBatch: sequence %lld out of range", (long long)seq);
        return tl_kvbatch_truncate(b, seq, n);
    }
    if (strcmp(name, "clear") == 0) {
        if ((st = need_args(name, argc, 0, 1, "([seq])")) != TL_OK) return st;
        if (argc == 1) {
            if ((st = tl_arg_int(&call, argv, 0, &seq)) != TL_OK) return st;
            if (seq < 0)
                return tl_fail(TL_ERR_RANGE, "KVBatch: sequence %lld out of range", (long long)seq);
        }
        return tl_kvbatch_truncate(b, seq, 0);
    }
    if (strcmp(name, "n_seq") == 0 || strcmp(name, "n_ctx") == 0) {
        if ((st = need_args(name, argc, 0, 0, "()")) != TL_OK) return st;
        *out = tl_value_int(name[2] == 's' ? tl_kvbatch_n_seq(b) : tl_kvbatch_n_ctx(b));
        return TL_OK;
    }
    return tl_fail(TL_ERR_ARG,
                   "KVBatch has no method '%s' (attention, positions, len, lens, truncate, clear, "
                   "n_seq, n_ctx)",
                   name);
}

static tl_status kb_new(tl_call *call, int argc, const tl_value *argv, tl_value *out) {
    int64_t n_layer, n_seq, capacity = 0, n_ctx = 0;
    tl_status st = tl_arg_int(call, argv, 0, &n_layer);
    if (st == TL_OK) st = tl_arg_int(call, argv, 1, &n_seq);
    if (st == TL_OK && argc > 2) st = tl_arg_int(call, argv, 2, &capacity);
    if (st == TL_OK && argc > 3) st = tl_arg_int(call, argv, 3, &n_ctx);
    if (st != TL_OK) return st;
    tl_kvbatch *b;
    if ((st = tl_kvbatch_new(n_layer, n_seq, capacity, n_ctx, &b)) != TL_OK) return st;
    return tl_value_object(&kvbatch_class, b, out);
}

/* linear_batch(x, W | [W1, ...], lens[, last_only]) */
static tl_status b_linear_batch(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *x, *w[8];
    int n = 1;
    bool last_only = false, many = argv[1].kind == TL_VAL_ARRAY;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st != TL_OK) return st;
    if (many) {
        const tl_array *a = argv[1].as.arr;
        if (a->len == 0 || a->len > 8)
            return tl_fail(TL_ERR_TYPE, "%s: argument 2 must be a weight or 1 to 8 weights",
                           c->name);
        n = (int)a->len;
        for (int i = 0; i < n; i++) {
            if (a->items[i].kind != TL_VAL_TENSOR)
                return tl_fail(TL_ERR_TYPE, "%s: weight %d must be a tensor, got %s", c->name,
                               i + 1, tl_value_type_name(&a->items[i]));
            w[i] = a->items[i].as.tensor;
        }
    } else if ((st = tl_arg_tensor(c, argv, 1, &w[0])) != TL_OK) {
        return st;
    }
    if (argc > 3 && (st = tl_arg_bool(c, argv, 3, &last_only)) != TL_OK) return st;
    int64_t *lens = NULL, nl, rows = 0, R = x->n_dims ? tl_tensor_nrows(x) : 0;
    if ((st = int_array("linear_batch", "lens", &argv[2], &lens, &nl)) != TL_OK) return st;
    for (int64_t i = 0; i < nl && st == TL_OK; i++) {
        if (lens[i] <= 0)
            st = tl_fail(TL_ERR_ARG, "%s: lens[%lld] = %lld (need >= 1)", c->name, (long long)i,
                         (long long)lens[i]);
        rows += last_only ? 1 : lens[i];
    }
    if (st == TL_OK && rows != R)
        st = tl_fail(TL_ERR_SHAPE, "%s: the lengths give %lld rows, x has %lld", c->name,
                     (long long)rows, (long long)R);
    uint8_t *gemm = NULL, *single = NULL;
    if (st == TL_OK)
        st = (gemm = malloc(2 * (size_t)R + 1)) ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
    if (st == TL_OK) single = gemm + R;
    for (int64_t i = 0, r = 0; st == TL_OK && i < nl; i++) /* llama.cpp's split of a call */
        for (int64_t j = last_only ? lens[i] - 1 : 0; j < lens[i]; j++, r++) {
            gemm[r] = j < lens[i] - lens[i] % 4;
            single[r] = lens[i] == 1; /* the row's own call: forward_batch_last keeps it */
        }
    free(lens);
    tl_tensor *parts[8] = {0};
    if (st == TL_OK)
        st = tl_op_linear_batch(x, (const tl_tensor *const *)w, n, gemm, single, parts);
    free(gemm);
    if (st != TL_OK) return st;
    if (!many) {
        *out = tl_value_tensor(parts[0]);
        return TL_OK;
    }
    tl_tensor **arr = malloc((size_t)n * sizeof *arr);
    if (!arr) {
        for (int i = 0; i < n; i++)
            tl_tensor_unref(parts[i]);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    memcpy(arr, parts, (size_t)n * sizeof *arr);
    return tlb_parts_value(TL_OK, arr, n, out);
}

/* rng_state() -> the four 64-bit words of the sampler's generator (as ints). */
static tl_status b_rng_state(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c, (void)argc, (void)argv;
    const tl_rng *r = tl_random_global();
    tl_status st = tl_value_array(4, out);
    for (int i = 0; i < 4 && st == TL_OK; i++)
        st = tl_array_push(out->as.arr, tl_value_int((int64_t)r->s[i]));
    if (st != TL_OK) tl_value_release(out);
    return st;
}

/* set_rng_state(s): puts back a state rng_state() returned. */
static tl_status b_set_rng_state(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    *out = TL_VOID;
    if (argv[0].kind != TL_VAL_ARRAY || argv[0].as.arr->len != 4)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be an array of 4 ints (rng_state())",
                       c->name);
    uint64_t s[4];
    for (int i = 0; i < 4; i++) {
        const tl_value *v = &argv[0].as.arr->items[i];
        if (v->kind != TL_VAL_INT)
            return tl_fail(TL_ERR_TYPE, "%s: element %d must be an int, got %s", c->name, i,
                           tl_value_type_name(v));
        s[i] = (uint64_t)v->as.i;
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0)
        return tl_fail(TL_ERR_ARG, "%s: an all-zero state is not a valid generator", c->name);
    memcpy(tl_random_global()->s, s, sizeof s);
    return TL_OK;
}

const tl_builtin_def tl_builtins_kvbatch[] = {
    {"KVBatch::new", 2, 4, kb_new, "KVBatch::new(n_layer, n_seq[, capacity[, n_ctx]]) -> KVBatch",
     0},
    {"linear_batch", 3, 4, b_linear_batch,
     "linear_batch(x, W | [W1, ...], lens[, last_only]) -> tensor | [tensor] (rows of a batch)", 0},
    {"rng_state", 0, 0, b_rng_state, "rng_state() -> [int] (the sampler's generator state)", 0},
    {"set_rng_state", 1, 1, b_set_rng_state, "set_rng_state(s) -> void (s from rng_state())", 0},
    {0},
};
