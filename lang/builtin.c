/* lang/builtin.c -- the list of builtin tables, lookup, and argument helpers. */
#include "lang/builtin.h"
#include "lang/autograd.h"
#include "lang/builtins/tensor_args.h"

#include "lang/read_all.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One table per area (lang/builtins/<area>.c).  Add new areas here.  Defs of
** one name are told apart by arity and argument kinds (lang/builtin.h); table
** order only breaks ties, which test_builtin_overloads rules out. */
extern const tl_builtin_def tl_builtins_compat[];
extern const tl_builtin_def tl_builtins_compat_generate[];
extern const tl_builtin_def tl_builtins_logic[];
extern const tl_builtin_def tl_builtins_kg[];
extern const tl_builtin_def tl_builtins_kvcache[];
extern const tl_builtin_def tl_builtins_kvbatch[];
extern const tl_builtin_def tl_builtins_quant[];
extern const tl_builtin_def tl_builtins_model[];
extern const tl_builtin_def tl_builtins_tokenizer[];
extern const tl_builtin_def tl_builtins_tensor[];
extern const tl_builtin_def tl_builtins_tensor_shape[];
extern const tl_builtin_def tl_builtins_nn_compat[];
extern const tl_builtin_def tl_builtins_nn[];
extern const tl_builtin_def tl_builtins_llama_support[];
extern const tl_builtin_def tl_builtins_io[];
extern const tl_builtin_def tl_builtins_interp[];
extern const tl_builtin_def tl_builtins_lens[];
extern const tl_builtin_def tl_builtins_core[];
extern const tl_builtin_def tl_builtins_args[];
extern const tl_builtin_def tl_builtins_show[];
extern const tl_builtin_def tl_builtins_learn[];
extern const tl_builtin_def tl_builtins_default_model[];
extern const tl_builtin_def tl_builtins_vocab[];

static const tl_builtin_def *const builtin_tables[] = {
    tl_builtins_compat, /* the original's forms (compat.c) */
    tl_builtins_compat_generate,
    tl_builtins_logic,
    tl_builtins_kg,
    tl_builtins_kvcache,
    tl_builtins_kvbatch,
    tl_builtins_quant,
    tl_builtins_model,
    tl_builtins_tokenizer,
    tl_builtins_learn,
    tl_builtins_default_model,
    tl_builtins_vocab, /* learn_vocab */
    tl_builtins_tensor,
    tl_builtins_tensor_shape,
    tl_builtins_nn_compat,
    tl_builtins_nn,
    tl_builtins_llama_support,
    tl_builtins_io,
    tl_builtins_interp,
    tl_builtins_lens,
    tl_builtins_args, /* parse_args, option, required */
    tl_builtins_show,
    tl_builtins_core,
    NULL,
};

/* Name index (perf): every def sorted by (name, table order), built once, so a
** call's lookup is a binary search instead of a strcmp scan over all builtins
** (which profiling showed at ~1% of generation time).  Same results as the
** scan: defs of one name are visited in table order. */
#define BUILTIN_INDEX_MAX 4096
static const tl_builtin_def *builtin_index[BUILTIN_INDEX_MAX];
static size_t builtin_index_n; /* 0 with more defs than fit: plain scans */
static pthread_once_t builtin_index_once = PTHREAD_ONCE_INIT;

/* A hash of the distinct names over the sorted index: slot -> first index of
** the name (+1; 0 = empty), so that a lookup hashes the name once and compares
** one string (profiling showed the binary search's strcmps at ~0.1%). */
#define NAME_SLOTS 8192
static uint16_t name_slot[NAME_SLOTS];

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void build_name_slots(void) {
    for (size_t i = 0; i < builtin_index_n; i++) {
        if (i > 0 && strcmp(builtin_index[i - 1]->name, builtin_index[i]->name) == 0) continue;
        uint32_t h = name_hash(builtin_index[i]->name) % NAME_SLOTS;
        while (name_slot[h])
            h = (h + 1) % NAME_SLOTS;
        name_slot[h] = (uint16_t)(i + 1);
    }
}

static void build_index(void) {
    size_t n = 0;
    for (size_t t = 0; builtin_tables[t]; t++)
        for (const tl_builtin_def *d = builtin_tables[t]; d->name; d++) {
            if (n == BUILTIN_INDEX_MAX) return;
            builtin_index[n++] = d;
        }
    /* stable by table order: insertion sort keeps equal names in scan order */
    for (size_t i = 1; i < n; i++) {
        const tl_builtin_def *d = builtin_index[i];
        size_t k = i;
        while (k > 0 && strcmp(builtin_index[k - 1]->name, d->name) > 0) {
            builtin_index[k] = builtin_index[k - 1];
            k--;
        }
        builtin_index[k] = d;
    }
    builtin_index_n = n;
    build_name_slots();
}

/* The index range [*lo, *hi) of the defs named name; false without an index. */
static bool index_range(const char *name, size_t *lo, size_t *hi) {
    pthread_once(&builtin_index_once, build_index);
    if (builtin_index_n == 0) return false;
    for (uint32_t h = name_hash(name) % NAME_SLOTS; name_slot[h]; h = (h + 1) % NAME_SLOTS) {
        size_t a = name_slot[h] - 1;
        if (strcmp(builtin_index[a]->name, name) != 0) continue;
        size_t e = a + 1;
        while (e < builtin_index_n && strcmp(builtin_index[e]->name, name) == 0)
            e++;
        *lo = a;
        *hi = e;
        return true;
    }
    *lo = *hi = 0;
    return true;
}

const tl_builtin_def *tl_builtin_find(const char *name) {
    size_t lo, hi;
    if (index_range(name, &lo, &hi)) return lo < hi ? builtin_index[lo] : NULL;
    for (size_t t = 0; builtin_tables[t]; t++)
        for (const tl_builtin_def *d = builtin_tables[t]; d->name; d++)
            if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

static bool def_accepts_kinds(const tl_builtin_def *d, int argc, const tl_value *argv) {
    if (d->first_arg && !(argc > 0 && (d->first_arg & TL_KIND_BIT(argv[0].kind)))) return false;
    if (d->some_arg) {
        int i = 0;
        while (i < argc && !(d->some_arg & TL_KIND_BIT(argv[i].kind)))
            i++;
        if (i == argc) return false;
    }
    return true;
}

static bool def_accepts_arity(const tl_builtin_def *d, int argc) {
    return argc >= d->min_args && (d->max_args < 0 || argc <= d->max_args);
}

/* The def that matches on kinds and arity, else the first that matches on
** kinds (its arity error names the builtin), else NULL (lang/builtin.h). */
static const tl_builtin_def *pick(const tl_builtin_def *d, const tl_builtin_def **by_kind, int argc,
                                  const tl_value *argv) {
    if (!def_accepts_kinds(d, argc, argv)) return NULL;
    if (!*by_kind) *by_kind = d;
    return def_accepts_arity(d, argc) ? d : NULL;
}

const tl_builtin_def *tl_builtin_resolve(const char *name, int argc, const tl_value *argv) {
    const tl_builtin_def *by_kind = NULL;
    size_t lo, hi;
    if (index_range(name, &lo, &hi)) {
        for (size_t i = lo; i < hi; i++)
            if (pick(builtin_index[i], &by_kind, argc, argv)) return builtin_index[i];
        return by_kind;
    }
    for (size_t t = 0; builtin_tables[t]; t++)
        for (const tl_builtin_def *d = builtin_tables[t]; d->name; d++)
            if (strcmp(d->name, name) == 0 && pick(d, &by_kind, argc, argv)) return d;
    return by_kind;
}

const tl_builtin_def *tl_builtin_at(size_t index) {
    for (size_t t = 0; builtin_tables[t]; t++)
        for (const tl_builtin_def *d = builtin_tables[t]; d->name; d++)
            if (index-- == 0) return d;
    return NULL;
}

tl_status tl_builtin_call(const tl_builtin_def *def, tl_interp *interp, int argc,
                          const tl_value *argv, tl_value *out) {
    *out = TL_VOID;
    if (!def_accepts_arity(def, argc)) {
        /* with several forms for these argument kinds, name them all */
        size_t lo, hi, forms = 0;
        if (index_range(def->name, &lo, &hi))
            for (size_t i = lo; i < hi; i++)
                forms += def_accepts_kinds(builtin_index[i], argc, argv);
        if (forms > 1) {
            char sigs[512] = "";
            size_t used = 0;
            for (size_t i = lo; i < hi && used < sizeof sigs; i++)
                if (def_accepts_kinds(builtin_index[i], argc, argv))
                    used += (size_t)snprintf(
                        sigs + used, sizeof sigs - used, "%s%s", used ? "; " : "",
                        builtin_index[i]->signature ? builtin_index[i]->signature : def->name);
            return tl_fail(TL_ERR_ARG, "%s: no form of it takes %d argument%s (%s)", def->name,
                           argc, argc == 1 ? "" : "s", sigs);
        }
        if (def->min_args == def->max_args)
            return tl_fail(TL_ERR_ARG, "%s takes %d argument%s, got %d (%s)", def->name,
                           def->min_args, def->min_args == 1 ? "" : "s", argc, def->signature);
        return tl_fail(TL_ERR_ARG, "%s: wrong number of arguments (%d) for %s", def->name, argc,
                       def->signature);
    }
    tl_call call = {.interp = interp, .name = def->name, .op = def->op, .arrays_ok = true};
    tl_status st = def->fn(&call, argc, argv, out);
    for (int i = 0; i < call.n_scratch; i++)
        tl_tensor_unref(call.scratch[i]);
    if (st == TL_OK && tl_ag_wants(argc, argv)) { /* autograd: record the call */
        st = tl_ag_record(def, argc, argv, out);
        if (st != TL_OK) tl_value_release(out);
    }
    return st;
}

static tl_status arg_kind_error(const tl_call *c, const tl_value *argv, int i, const char *want) {
    return tl_fail(TL_ERR_TYPE, "%s: argument %d must be %s, got %s", c->name, i + 1, want,
                   tl_value_type_name(&argv[i]));
}

bool tl_coerce_tensor(const tl_value *v, tl_tensor **out) {
    *out = NULL;
    if (v->kind == TL_VAL_TENSOR) {
        *out = tl_tensor_ref(v->as.tensor);
        return true;
    }
    if (v->kind == TL_VAL_ARRAY) {
        if (tl_value_to_tensor(v, out) == TL_OK) return true;
        tl_clear_error();
        return false;
    }
    if (v->kind == TL_VAL_OBJECT && v->as.obj->cls->get_property &&
        strcmp(v->as.obj->cls->name, "ModelFeature") == 0) {
        tl_value w = TL_VOID;
        if (v->as.obj->cls->get_property(v->as.obj, "weight", &w) == TL_OK &&
            w.kind == TL_VAL_TENSOR) {
            *out = tl_tensor_ref(w.as.tensor);
            tl_value_release(&w);
            return true;
        }
        tl_value_release(&w);
        tl_clear_error();
    }
    return false;
}

tl_status tl_arg_tensor(const tl_call *c, const tl_value *argv, int i, tl_tensor **out) {
    if ((argv[i].kind == TL_VAL_ARRAY || argv[i].kind == TL_VAL_OBJECT) && c->arrays_ok &&
        c->n_scratch < (int)(sizeof c->scratch / sizeof c->scratch[0])) {
        /* a numeric array or a model view where a tensor is expected (docs/compat.md) */
        tl_tensor *t;
        if (!tl_coerce_tensor(&argv[i], &t))
            return arg_kind_error(c, argv, i, "a tensor (or a rectangular array of numbers)");
        tl_call *m = (tl_call *)c; /* the tl_call of tl_builtin_call, not const there */
        m->scratch[m->n_scratch++] = t;
        *out = t;
        return TL_OK;
    }
    if (argv[i].kind != TL_VAL_TENSOR) return arg_kind_error(c, argv, i, "a tensor");
    *out = argv[i].as.tensor;
    return TL_OK;
}

tl_status tl_arg_int(const tl_call *c, const tl_value *argv, int i, int64_t *out) {
    if (argv[i].kind == TL_VAL_INT) {
        *out = argv[i].as.i;
        return TL_OK;
    }
    if (argv[i].kind == TL_VAL_FLOAT && argv[i].as.f == floor(argv[i].as.f) &&
        fabs(argv[i].as.f) < 9.0e15) {
        *out = (int64_t)argv[i].as.f;
        return TL_OK;
    }
    return arg_kind_error(c, argv, i, "an int");
}

tl_status tl_arg_double(const tl_call *c, const tl_value *argv, int i, double *out) {
    if (!tl_value_is_number(&argv[i])) return arg_kind_error(c, argv, i, "a number");
    *out = tl_value_as_double(&argv[i]);
    return TL_OK;
}

tl_status tl_arg_bool(const tl_call *c, const tl_value *argv, int i, bool *out) {
    if (argv[i].kind != TL_VAL_BOOL) return arg_kind_error(c, argv, i, "a bool");
    *out = argv[i].as.b;
    return TL_OK;
}

tl_status tl_arg_string(const tl_call *c, const tl_value *argv, int i, const char **out) {
    if (argv[i].kind != TL_VAL_STRING) return arg_kind_error(c, argv, i, "a string");
    *out = argv[i].as.str->data;
    return TL_OK;
}

tl_status tl_arg_path(const tl_call *c, const tl_value *argv, int i, const char **out) {
    tl_status st = tl_arg_string(c, argv, i, out);
    if (st == TL_OK) st = tl_check_path_bytes(argv[i].as.str->data, argv[i].as.str->len, c->name);
    return st;
}

/* allow_minus_one: -1 elements are kept (as -1) for tl_arg_shape_infer. */
static tl_status arg_shape(const tl_call *c, const tl_value *argv, int i, int64_t *shape,
                           int *n_dims, bool allow_minus_one) {
    const tl_value *v = &argv[i];
    if (v->kind == TL_VAL_ARRAY) {
        const tl_array *a = v->as.arr;
        if (a->len > TL_MAX_DIMS)
            return tl_fail(TL_ERR_SHAPE, "%s: a shape has at most %d dims, got %zu", c->name,
                           TL_MAX_DIMS, a->len);
        for (size_t k = 0; k < a->len; k++) {
            const tl_value *e = &a->items[k];
            double d;
            if (e->kind == TL_VAL_INT)
                d = (double)e->as.i;
            else if (e->kind == TL_VAL_FLOAT)
                d = trunc(e->as.f);
            else
                return tl_fail(TL_ERR_TYPE, "%s: shape element %zu must be a number, got %s",
                               c->name, k, tl_value_type_name(e));
            if (allow_minus_one && d == -1) {
                shape[k] = -1;
                continue;
            }
            if (d >= 9.0e15 && e->kind == TL_VAL_INT) /* no allocation can have it */
                return tl_fail(TL_ERR_NOMEM, "%s: shape element %zu is %lld, too large to allocate",
                               c->name, k, (long long)e->as.i);
            if (d >= 9.0e15)
                return tl_fail(TL_ERR_NOMEM, "%s: shape element %zu is %s, too large to allocate",
                               c->name, k, tl_num_str(d));
            if (!(d >= 0))
                return tl_fail(TL_ERR_SHAPE, "%s: shape element %zu is %s (must be >= 0%s)",
                               c->name, k, tl_num_str(d), allow_minus_one ? ", or -1 once" : "");
            shape[k] = (int64_t)d;
        }
        *n_dims = (int)a->len;
        return TL_OK;
    }
    if (v->kind == TL_VAL_TENSOR) {
        tl_tensor *t = v->as.tensor;
        if (t->n_dims != 1 || t->ne[0] > TL_MAX_DIMS)
            return tl_fail(TL_ERR_SHAPE, "%s: a shape tensor must be 1-D with at most %d values",
                           c->name, TL_MAX_DIMS);
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        if (tr->quantized) return arg_kind_error(c, argv, i, "a shape");
        float vals[TL_MAX_DIMS];
        for (int64_t k = 0; k < t->ne[0]; k++)
            tr->to_f32((const char *)tl_tensor_data(t) + (size_t)k * t->nb[0], &vals[k], 1);
        for (int64_t k = 0; k < t->ne[0]; k++) {
            if (allow_minus_one && vals[k] == -1) {
                shape[k] = -1;
                continue;
            }
            if (!(vals[k] >= 0))
                return tl_fail(TL_ERR_SHAPE, "%s: negative shape element", c->name);
            shape[k] = (int64_t)vals[k];
        }
        *n_dims = (int)t->ne[0];
        return TL_OK;
    }
    return arg_kind_error(c, argv, i, "a shape (an array of sizes)");
}

tl_status tl_arg_shape(const tl_call *c, const tl_value *argv, int i, int64_t *shape, int *n_dims) {
    return arg_shape(c, argv, i, shape, n_dims, false);
}

tl_status tl_arg_shape_infer(const tl_call *c, const tl_value *argv, int i, int64_t numel,
                             int64_t *shape, int *n_dims) {
    tl_status st = arg_shape(c, argv, i, shape, n_dims, true);
    if (st != TL_OK) return st;
    int hole = -1;
    int64_t known = 1;
    for (int k = 0; k < *n_dims; k++) {
        if (shape[k] != -1) {
            known = shape[k] && known > INT64_MAX / shape[k] ? INT64_MAX : known * shape[k];
            continue;
        }
        if (hole >= 0)
            return tl_fail(TL_ERR_SHAPE,
                           "%s: only one shape element may be -1 (elements %d and %d are)", c->name,
                           hole, k);
        hole = k;
    }
    if (hole < 0) return TL_OK;
    if (known == 0)
        return tl_fail(TL_ERR_SHAPE,
                       "%s: cannot infer the -1 element: the other elements multiply to 0, so "
                       "any size fits (give it explicitly)",
                       c->name);
    if (numel % known != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "%s: cannot infer the -1 element: %lld elements do not divide into "
                       "parts of %lld",
                       c->name, (long long)numel, (long long)known);
    shape[hole] = numel / known;
    return TL_OK;
}
