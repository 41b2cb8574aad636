/* lang/builtins/compat.c -- builtins and signatures of the original TensorLogic
** interpreter that its scripts use (docs/compat.md):
**   append(ids, id), ids.append_token(id), IntVec::new() and the other typed
**   vector constructors (new_int_vec(), ... and vec_push/vec_pop/vec_set/
**   vec_clear/vec_is_empty), detokenize_single(tok, id[, skip_special]),
**   top_k(logits, k), top_p(logits, p), temperature(logits, T), sample(logits[, T]),
**   int_to_tokenids(id), print_top_k(logits, k[, tok]),
**   new_tensor_buffer(bytes) (a TensorBuffer with zeros/ones/alloc),
**   Tensor::create_cache(max_len, shape) and append(t, x) on tensors,
**   batch_norm(x, gamma, beta, eps), string_substring(s, start, len),
**   fused_gelu_linear(x, W, b).
** Several of these were stubs in the original; here they work.  Where a name
** also has a form of ours (batch_norm with 5-6 arguments, string_substring with
** 2 arguments), other calls are handed to the next def of that name.
** This table is listed first in lang/builtin.c. */
#include "lang/builtins/tensor_args.h"

#include "runtime/ops.h"
#include "runtime/random.h"
#include "runtime/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)
#define OBJ    TL_KIND_BIT(TL_VAL_OBJECT)

/* ---- token id arrays ------------------------------------------------------------ */

/* A token id from an int, an integral float or a one-element tensor. */
static tl_status id_arg(const tl_call *c, const tl_value *argv, int i, int64_t *id) {
    if (argv[i].kind == TL_VAL_TENSOR) {
        tl_tensor *t = argv[i].as.tensor;
        tl_value v;
        if (tl_tensor_nelements(t) != 1)
            return tl_fail(TL_ERR_SHAPE,
                           "%s: argument %d must be one token id, got a tensor of %lld elements",
                           c->name, i + 1, (long long)tl_tensor_nelements(t));
        tl_status st = tlb_scalar_value(t, &v);
        if (st != TL_OK) return st;
        return tl_arg_int(c, &v, 0, id);
    }
    return tl_arg_int(c, argv, i, id);
}

/* t.append(x) on a tensor: t and x joined along axis 0 (x may lack that axis). */
static tl_status append_tensor(tl_call *c, const tl_value *argv, tl_value *out) {
    tl_tensor *t = argv[0].as.tensor, *x = NULL, *x1 = NULL, *r = NULL;
    tl_status st = tlb_tensor(c, argv, 1, &x);
    if (st == TL_OK && x->n_dims == t->n_dims - 1) {
        st = tl_op_unsqueeze(x, 0, &x1);
    } else if (st == TL_OK) {
        x1 = tl_tensor_ref(x);
    }
    if (st == TL_OK && x1->dtype != t->dtype) {
        tl_tensor *cast;
        st = tl_op_cast(x1, t->dtype, &cast);
        tl_tensor_unref(x1);
        x1 = st == TL_OK ? cast : NULL;
    }
    if (st == TL_OK) {
        const tl_tensor *parts[2] = {t, x1};
        st = tl_op_concat(2, parts, 0, &r);
        if (st != TL_OK) tl_error_prefix("append");
    }
    tl_tensor_unref(x);
    tl_tensor_unref(x1);
    return tlb_ret(st, &r, out);
}

/* Tensor::create_cache(max_len, shape): an empty f16 tensor [0, ...shape] that
** t.append(rows) grows along axis 0 (f16 as llama.cpp's KV cache); max_len is
** checked to be positive but not enforced as a limit. */
static tl_status b_create_cache(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t max_len, shape[TL_MAX_DIMS];
    int n = 0;
    tl_status st = tl_arg_int(c, argv, 0, &max_len);
    if (st == TL_OK) st = tl_arg_shape(c, argv, 1, shape + 1, &n);
    if (st != TL_OK) return st;
    if (max_len < 1) return tl_fail(TL_ERR_ARG, "%s: max_len must be >= 1", c->name);
    if (n + 1 > TL_MAX_DIMS)
        return tl_fail(TL_ERR_SHAPE, "%s: a row shape has at most %d dims", c->name,
                       TL_MAX_DIMS - 1);
    shape[0] = 0;
    tl_tensor *t;
    if ((st = tl_tensor_new_shape(TL_DTYPE_F16, n + 1, shape, &t)) != TL_OK) return st;
    *out = tl_value_tensor(t);
    return TL_OK;
}

/* append(ids, id) -> a new array: ids followed by id (ids itself is not changed);
** append(t, x) with a tensor t joins along axis 0 (the original's cache tensors) */
static tl_status b_append(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t id;
    if (argv[0].kind == TL_VAL_TENSOR) return append_tensor(c, argv, out);
    if (argv[0].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "append: argument 1 must be an array of token ids, got %s",
                       tl_value_type_name(&argv[0]));
    tl_status st = id_arg(c, argv, 1, &id);
    if (st != TL_OK) return st;
    const tl_array *a = argv[0].as.arr;
    if ((st = tl_value_array(a->len + 1, out)) != TL_OK) return st;
    for (size_t k = 0; k < a->len; k++)
        tl_array_push(out->as.arr, tl_value_retain(a->items[k]));
    return tl_array_push(out->as.arr, tl_value_int(id));
}

/* ids.append_token(id): pushes id onto ids (in place) and returns ids */
static tl_status b_append_token(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t id;
    if (argv[0].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE,
                       "append_token: argument 1 must be an array of token ids, got %s",
                       tl_value_type_name(&argv[0]));
    tl_status st = id_arg(c, argv, 1, &id);
    if (st == TL_OK) st = tl_array_push(argv[0].as.arr, tl_value_int(id));
    if (st == TL_OK) *out = tl_value_retain(argv[0]);
    return st;
}

/* IntVec::new(), FloatVec::new(), ...: an empty array; ::from(arr) copies arr */
static tl_status b_vec_new(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    if (argc == 0) return tl_value_array(0, out);
    int64_t cap = 0;
    if (argv[0].kind != TL_VAL_ARRAY) {
        tl_status st = tl_arg_int(c, argv, 0, &cap); /* with_capacity(n) */
        if (st != TL_OK) return st;
        return tl_value_array(cap > 0 && cap < (1 << 20) ? (size_t)cap : 0, out);
    }
    const tl_array *a = argv[0].as.arr;
    tl_status st = tl_value_array(a->len, out);
    for (size_t k = 0; st == TL_OK && k < a->len; k++)
        st = tl_array_push(out->as.arr, tl_value_retain(a->items[k]));
    return st;
}

/* vec_push(v, x), vec_pop(v), vec_set(v, i, x), vec_clear(v), vec_is_empty(v): the
** original's function forms of the array methods push/pop/set/clear/is_empty (vec_push,
** vec_set and vec_clear give void, as there). */
enum { VEC_PUSH, VEC_POP, VEC_SET, VEC_CLEAR, VEC_IS_EMPTY }; /* b_vec_fn's ops */
static const char *const vec_methods[] = {"push", "pop", "set", "clear", "is_empty"};

static tl_status b_vec_fn(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *method = vec_methods[c->op];
    if (argv[0].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a vector (an array), got %s", c->name,
                       tl_value_type_name(&argv[0]));
    const tl_builtin_def *d = tl_builtin_resolve(method, argc, argv);
    if (!d) return tl_fail(TL_ERR_ARG, "%s: no array method %s", c->name, method);
    tl_status st = tl_builtin_call(d, c->interp, argc, argv, out);
    if (st == TL_OK && (c->op == VEC_PUSH || c->op == VEC_SET || c->op == VEC_CLEAR))
        tl_value_release(out);
    return st;
}

/* ---- tokenizer ------------------------------------------------------------------ */

/* detokenize_single(tok, id[, skip_special = false]): the text of one token as it
** reads inside a stream (" Hello": the word's space kept), "" for a special
** token when skip_special. */
static tl_status b_detokenize_single(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_object *o = argv[0].kind == TL_VAL_OBJECT ? argv[0].as.obj : NULL;
    if (!o || strcmp(o->cls->name, "Tokenizer") != 0 || !o->cls->call_method)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a Tokenizer, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    int64_t id;
    bool skip = false;
    tl_status st = id_arg(c, argv, 1, &id);
    if (st == TL_OK && argc > 2) st = tl_arg_bool(c, argv, 2, &skip);
    if (st != TL_OK) return st;
    tl_value args[2] = {tl_value_int(id), tl_value_bool(!skip)};
    return o->cls->call_method(o, "token_to_piece", 2, args, out);
}

/* ---- logits filters ------------------------------------------------------------- */

/* A fresh contiguous f32 copy of t. */
static tl_status f32_copy(const tl_tensor *t, tl_tensor **out) {
    return tl_op_cast(t, TL_DTYPE_F32, out);
}

typedef struct scored {
    float v;
    int64_t i;
} scored;

/* Largest first, NaN last, ties by index (a total order, so qsort is well defined). */
static int by_value_desc(const void *pa, const void *pb) {
    const scored *a = pa, *b = pb;
    bool na = isnan(a->v), nb = isnan(b->v);
    if (na != nb) return na ? 1 : -1;
    if (!na && a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Row-wise over the last axis: keep the k largest (top_k) or the smallest set of
** largest whose probabilities reach p (top_p); the rest become -inf. */
static tl_status b_filter(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *l, *r = NULL;
    double p;
    tl_status st = tl_arg_tensor(c, argv, 0, &l);
    if (st == TL_OK) st = tl_arg_double(c, argv, 1, &p);
    if (st != TL_OK) return st;
    bool is_k = c->op == 1;
    if (is_k && !(p >= 1 && p == floor(p)))
        return tl_fail(TL_ERR_ARG, "top_k: k must be an integer >= 1, got %s", tl_num_str(p));
    if (!is_k && !(p > 0 && p <= 1))
        return tl_fail(TL_ERR_ARG, "top_p: p must be in (0, 1], got %s", tl_num_str(p));
    if (tl_tensor_nelements(l) == 0) return tl_fail(TL_ERR_SHAPE, "%s: empty logits", c->name);
    if ((st = f32_copy(l, &r)) != TL_OK) return st;
    int64_t n = r->ne[0], rows = tl_tensor_nrows(r);
    scored *s = malloc(sizeof *s * (size_t)n);
    if (!s) {
        tl_tensor_unref(r);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
    }
    for (int64_t row = 0; row < rows; row++) {
        float *x = (float *)tl_tensor_data(r) + row * n;
        for (int64_t i = 0; i < n; i++)
            s[i] = (scored){x[i], i};
        qsort(s, (size_t)n, sizeof *s, by_value_desc);
        int64_t keep = n;
        if (is_k) {
            keep = (int64_t)p < n ? (int64_t)p : n;
        } else {
            /* probabilities relative to the largest value; +inf or NaN at the top: keep it alone */
            double top = s[0].v, sum = 0, acc = 0;
            if (!isfinite(top)) {
                keep = top < 0 ? n : 1; /* all -inf: nothing to choose between */
            } else {
                for (int64_t i = 0; i < n; i++)
                    sum += isnan(s[i].v) ? 0 : exp((double)s[i].v - top);
                for (keep = 0; keep < n;) {
                    acc += isnan(s[keep].v) ? 0 : exp((double)s[keep].v - top) / sum;
                    keep++;
                    if (acc >= p - 1e-12) break;
                }
            }
        }
        for (int64_t i = keep; i < n; i++)
            x[s[i].i] = -INFINITY;
    }
    free(s);
    *out = tl_value_tensor(r);
    return TL_OK;
}

/* temperature(logits, T) = logits / T; sample(logits[, T = 1]) draws an id from
** softmax(logits / T) (temperature_sample's rules: the last row of a 2-D tensor). */
static tl_status b_temperature(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *l, *r = NULL;
    double t = 1.0;
    tl_status st = tl_arg_tensor(c, argv, 0, &l);
    if (st == TL_OK && argc > 1) st = tl_arg_double(c, argv, 1, &t);
    if (st != TL_OK) return st;
    if (!(t > 0)) return tl_fail(TL_ERR_ARG, "%s: the temperature must be > 0", c->name);
    if (c->op == 1) { /* sample */
        int64_t id = 0;
        st = tl_sample_temperature(l, (float)t, tl_random_global(), &id);
        if (st == TL_OK) *out = tl_value_int(id);
        return st;
    }
    if ((st = f32_copy(l, &r)) != TL_OK) return st;
    float *x = tl_tensor_data(r);
    for (int64_t i = 0, n = tl_tensor_nelements(r); i < n; i++)
        x[i] = (float)(x[i] / t);
    *out = tl_value_tensor(r);
    return TL_OK;
}

/* int_to_tokenids(id) -> [id] */
static tl_status b_int_to_tokenids(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t id;
    tl_status st = id_arg(c, argv, 0, &id);
    if (st == TL_OK) st = tl_value_array(1, out);
    if (st == TL_OK) st = tl_array_push(out->as.arr, tl_value_int(id));
    return st;
}

/* print_top_k(logits, k[, tok]): the k largest logits of the last row, one per line */
static tl_status b_print_top_k(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *l, *r = NULL;
    int64_t k;
    tl_status st = tl_arg_tensor(c, argv, 0, &l);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &k);
    if (st != TL_OK) return st;
    tl_object *tok = NULL;
    if (argc > 2) {
        if (argv[2].kind != TL_VAL_OBJECT || strcmp(argv[2].as.obj->cls->name, "Tokenizer") != 0)
            return tl_fail(TL_ERR_TYPE, "print_top_k: argument 3 must be a Tokenizer, got %s",
                           tl_value_type_name(&argv[2]));
        tok = argv[2].as.obj;
    }
    if (k < 1) return tl_fail(TL_ERR_ARG, "print_top_k: k must be >= 1");
    if (tl_tensor_nelements(l) == 0) return tl_fail(TL_ERR_SHAPE, "print_top_k: empty logits");
    if ((st = f32_copy(l, &r)) != TL_OK) return st;
    int64_t n = r->ne[0];
    const float *x = (const float *)tl_tensor_data(r) + (tl_tensor_nrows(r) - 1) * n;
    scored *s = malloc(sizeof *s * (size_t)n);
    if (!s) st = tl_fail(TL_ERR_NOMEM, "print_top_k: out of memory");
    for (int64_t i = 0; s && i < n; i++)
        s[i] = (scored){x[i], i};
    if (s) qsort(s, (size_t)n, sizeof *s, by_value_desc);
    printf("Top %lld logits:\n", (long long)(k < n ? k : n));
    for (int64_t i = 0; s && st == TL_OK && i < k && i < n; i++) {
        printf("  #%lld: token_id=%lld logit=%s", (long long)(i + 1), (long long)s[i].i,
               tl_num_str((double)s[i].v));
        if (tok) {
            tl_value args[2] = {tl_value_int(s[i].i), tl_value_bool(true)}, piece;
            st = tok->cls->call_method(tok, "token_to_piece", 2, args, &piece);
            if (st == TL_OK) {
                printf(" piece=\"%s\"", piece.as.str->data);
                tl_value_release(&piece);
            }
        }
        printf("\n");
    }
    fflush(stdout);
    free(s);
    tl_tensor_unref(r);
    *out = TL_VOID;
    return st;
}

/* ---- TensorBuffer --------------------------------------------------------------- */

typedef struct tensor_buffer {
    int64_t capacity, used; /* bytes */
} tensor_buffer;

static tl_status tb_get(tl_object *self, const char *name, tl_value *out) {
    tensor_buffer *b = self->payload;
    if (strcmp(name, "capacity") == 0)
        *out = tl_value_int(b->capacity);
    else if (strcmp(name, "used") == 0)
        *out = tl_value_int(b->used);
    else
        return tl_fail(TL_ERR_ARG, "TensorBuffer has no property %s (capacity, used)", name);
    return TL_OK;
}

/* buf.zeros(shape), buf.ones(shape), buf.alloc(shape): f16 tensors counted
** against the buffer's capacity (alloc gives zeros too: memory is never left
** uninitialised). */
static tl_status tb_call(tl_object *self, const char *name, int argc, const tl_value *argv,
                         tl_value *out) {
    tensor_buffer *b = self->payload;
    tl_call c = {.interp = NULL, .name = name};
    bool ones = strcmp(name, "ones") == 0;
    if ((!ones && strcmp(name, "zeros") != 0 && strcmp(name, "alloc") != 0) || argc != 1)
        return tl_fail(TL_ERR_ARG,
                       "TensorBuffer has no method %s with %d argument%s (methods: "
                       "zeros(shape), ones(shape), alloc(shape))",
                       name, argc, argc == 1 ? "" : "s");
    int64_t shape[TL_MAX_DIMS];
    int n = 0;
    tl_status st = tl_arg_shape(&c, argv, 0, shape, &n);
    if (st != TL_OK) return st;
    int64_t numel = 1;
    for (int i = 0; i < n; i++)
        numel = shape[i] && numel > INT64_MAX / 4 / shape[i] ? INT64_MAX / 4 : numel * shape[i];
    if (numel * 2 > b->capacity - b->used)
        return tl_fail(TL_ERR_RANGE,
                       "TensorBuffer.%s: %lld bytes do not fit (capacity %lld, %lld used)", name,
                       (long long)(numel * 2), (long long)b->capacity, (long long)b->used);
    tl_tensor *t;
    if ((st = tl_tensor_new_shape(TL_DTYPE_F16, n, shape, &t)) != TL_OK) return st;
    if (ones) {
        uint16_t one = 0x3C00; /* 1.0 in IEEE half */
        for (int64_t i = 0; i < numel; i++)
            memcpy((char *)tl_tensor_data(t) + i * 2, &one, 2);
    }
    b->used += numel * 2;
    *out = tl_value_tensor(t);
    return TL_OK;
}

static const tl_object_class tensor_buffer_class = {
    .name = "TensorBuffer",
    .free = free,
    .get_property = tb_get,
    .call_method = tb_call,
};

static tl_status b_new_tensor_buffer(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    int64_t cap;
    tl_status st = tl_arg_int(c, argv, 0, &cap);
    if (st != TL_OK) return st;
    if (cap < 0) return tl_fail(TL_ERR_ARG, "new_tensor_buffer: capacity must be >= 0 bytes");
    tensor_buffer *b = calloc(1, sizeof *b);
    if (!b) return tl_fail(TL_ERR_NOMEM, "new_tensor_buffer: out of memory");
    b->capacity = cap;
    return tl_value_object(&tensor_buffer_class, b, out);
}

/* ---- the original's signatures ---------------------------------------------------- */

/* batch_norm(x, gamma, beta, eps): batch statistics per channel (axis 1 of an
** [N, C, ...] tensor, biased variance); the 5-6 argument form is nn_compat.c's
** (the arity picks the def, lang/builtin.h). */
static tl_status b_batch_norm4(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *x, *xf = NULL, *g = NULL, *bt = NULL, *mean = NULL, *var = NULL, *r = NULL;
    double eps;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_double(c, argv, 3, &eps);
    if (st == TL_OK && x->n_dims < 2)
        st = tl_fail(TL_ERR_SHAPE, "batch_norm: x must be [N, C, ...], got %d-D", x->n_dims);
    if (st == TL_OK && !(eps >= 0.0)) st = tl_fail(TL_ERR_ARG, "batch_norm: eps must be >= 0");
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &g);
    if (st == TL_OK) st = tlb_tensor(c, argv, 2, &bt);
    if (st == TL_OK) st = f32_copy(x, &xf);
    int64_t shape[TL_MAX_DIMS];
    if (st == TL_OK) {
        tl_tensor_shape(xf, shape);
        int64_t C = shape[1];
        st = tl_tensor_new_shape(TL_DTYPE_F32, 1, &C, &mean);
        if (st == TL_OK) st = tl_tensor_new_shape(TL_DTYPE_F32, 1, &C, &var);
    }
    if (st == TL_OK) {
        int64_t N = shape[0], C = shape[1], inner = 1;
        for (int i = 2; i < xf->n_dims; i++)
            inner *= shape[i];
        const float *d = tl_tensor_data(xf);
        float *m = tl_tensor_data(mean), *v = tl_tensor_data(var);
        double cnt = (double)(N * inner);
        for (int64_t ch = 0; ch < C; ch++) {
            double s = 0, s2 = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < inner; i++)
                    s += d[(n * C + ch) * inner + i];
            double mu = cnt > 0 ? s / cnt : 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < inner; i++) {
                    double e = d[(n * C + ch) * inner + i] - mu;
                    s2 += e * e;
                }
            m[ch] = (float)mu;
            v[ch] = (float)(cnt > 0 ? s2 / cnt : 0);
        }
        st = tl_op_batch_norm(x, mean, var, g, bt, eps, &r);
    }
    tl_tensor *all[] = {xf, g, bt, mean, var};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tl_tensor_unref(all[i]);
    return tlb_ret(st, &r, out);
}

/* string_substring(s, start, len) as the original (a length, not an end); the
** 2-argument form is core.c's (to the end of s; the arity picks the def). */
static tl_status b_string_substring(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *s;
    int64_t a, n;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &a);
    if (st == TL_OK) st = tl_arg_int(c, argv, 2, &n);
    if (st != TL_OK) return st;
    int64_t len = (int64_t)argv[0].as.str->len;
    if (a < 0 || n < 0 || a > len || n > len - a)
        return tl_fail(TL_ERR_RANGE,
                       "%s: %lld bytes from %lld do not fit in a string of length %lld", c->name,
                       (long long)n, (long long)a, (long long)len);
    return tl_value_string(s + a, (size_t)n, out);
}

/* fused_gelu_linear(x, W, b) = gelu(x) @ W + b with W [in, out], as the original. */
static tl_status b_fused_gelu_linear(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *x, *w = NULL, *b = NULL, *g = NULL, *m = NULL, *r = NULL;
    tl_status st = tl_arg_tensor(c, argv, 0, &x);
    if (st == TL_OK) st = tlb_tensor(c, argv, 1, &w);
    if (st == TL_OK) st = tlb_tensor(c, argv, 2, &b);
    if (st == TL_OK) st = tl_op_unary(TL_UN_GELU, x, &g);
    if (st == TL_OK) st = tl_op_matmul(g, w, &m);
    if (st == TL_OK) st = tl_op_binary(TL_BIN_ADD, m, b, &r);
    tl_tensor *all[] = {w, b, g, m};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tl_tensor_unref(all[i]);
    if (st != TL_OK) tl_error_prefix("fused_gelu_linear");
    return tlb_ret(st, &r, out);
}

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }
#define DEF_OP(NAME, MIN, MAX, FN, SIG, MASK, OP)                                                  \
    { NAME, MIN, MAX, FN, SIG, MASK, OP }

const tl_builtin_def tl_builtins_compat[] = {
    DEF("append", 2, 2, b_append, "append(ids, id) -> [int] (a new array); append(t, x) -> tensor",
        0),
    DEF("Tensor::create_cache", 2, 2, b_create_cache,
        "Tensor::create_cache(max_len, row_shape) -> f16 tensor [0, ...] (grow with .append)", 0),
    DEF("append_token", 2, 2, b_append_token, "ids.append_token(id) -> ids (pushed in place)", 0),
    DEF("IntVec::new", 0, 1, b_vec_new, "IntVec::new([values | capacity]) -> array", 0),
    DEF("FloatVec::new", 0, 1, b_vec_new, "FloatVec::new([values | capacity]) -> array", 0),
    DEF("StringVec::new", 0, 1, b_vec_new, "StringVec::new([values | capacity]) -> array", 0),
    DEF("BoolVec::new", 0, 1, b_vec_new, "BoolVec::new([values | capacity]) -> array", 0),
    DEF("IntVec::from", 1, 1, b_vec_new, "IntVec::from(values) -> array", 0),
    DEF("FloatVec::from", 1, 1, b_vec_new, "FloatVec::from(values) -> array", 0),
    DEF("StringVec::from", 1, 1, b_vec_new, "StringVec::from(values) -> array", 0),
    DEF("BoolVec::from", 1, 1, b_vec_new, "BoolVec::from(values) -> array", 0),
    DEF("new_int_vec", 0, 0, b_vec_new, "new_int_vec() -> array", 0),
    DEF("new_float_vec", 0, 0, b_vec_new, "new_float_vec() -> array", 0),
    DEF("new_string_vec", 0, 0, b_vec_new, "new_string_vec() -> array", 0),
    DEF("new_bool_vec", 0, 0, b_vec_new, "new_bool_vec() -> array", 0),
    DEF_OP("vec_push", 2, 2, b_vec_fn, "vec_push(vec, value)", 0, VEC_PUSH),
    DEF_OP("vec_pop", 1, 1, b_vec_fn, "vec_pop(vec) -> value", 0, VEC_POP),
    DEF_OP("vec_set", 3, 3, b_vec_fn, "vec_set(vec, index, value)", 0, VEC_SET),
    DEF_OP("vec_clear", 1, 1, b_vec_fn, "vec_clear(vec)", 0, VEC_CLEAR),
    DEF_OP("vec_is_empty", 1, 1, b_vec_fn, "vec_is_empty(vec) -> bool", 0, VEC_IS_EMPTY),
    DEF("detokenize_single", 2, 3, b_detokenize_single,
        "detokenize_single(tok, id[, skip_special = false]) -> string", OBJ),
    DEF_OP("top_k", 2, 2, b_filter, "top_k(logits, k) -> tensor (the rest -inf)", T_ONLY, 1),
    DEF("top_p", 2, 2, b_filter, "top_p(logits, p) -> tensor (the rest -inf)", T_ONLY),
    DEF("temperature", 2, 2, b_temperature, "temperature(logits, T) -> tensor (logits / T)",
        T_ONLY),
    DEF_OP("sample", 1, 2, b_temperature, "sample(logits[, T = 1]) -> int", T_ONLY, 1),
    DEF("int_to_tokenids", 1, 1, b_int_to_tokenids, "int_to_tokenids(id) -> [id]", 0),
    DEF("print_top_k", 2, 3, b_print_top_k, "print_top_k(logits, k[, tok])", T_ONLY),
    DEF("new_tensor_buffer", 1, 1, b_new_tensor_buffer,
        "new_tensor_buffer(bytes) -> TensorBuffer (.zeros/.ones/.alloc(shape))", 0),
    DEF("batch_norm", 4, 4, b_batch_norm4, "batch_norm(x, gamma, beta, eps) -> tensor", T_ONLY),
    DEF("string_substring", 3, 3, b_string_substring, "string_substring(s, start, len) -> string",
        0),
    DEF("fused_gelu_linear", 3, 3, b_fused_gelu_linear,
        "fused_gelu_linear(x, W[in, out], b) -> tensor (gelu(x) @ W + b)", T_ONLY),
    {0},
};
