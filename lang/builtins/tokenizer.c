/* lang/builtins/tokenizer.c -- tokenizers in .tl: load_tokenizer, tokenize,
** detokenize, token_to_piece, bos_id, eos_id, vocab_size, detokenize_incremental,
** detokenize_flush.
**
** Host object class "Tokenizer" (payload: the runtime tokenizer plus the state
** of one incremental decode):
**   properties: vocab_size, bos_id, eos_id, unk_id, pad_id (ints, -1 = none),
**               add_bos, add_eos (bools), kind ("spm" or "bpe")
**   methods:    tokenize(text[, add_special[, parse_special]]), detokenize(ids[, skip_special]),
**               token_to_piece(id[, special]), detokenize_incremental(id | ids[, skip_special]),
**               detokenize_flush(), find(text) -> id or -1
** Ids come back as an int array; ids are taken as an int array, a 1-D tensor or
** one int.  Nothing here prints. */
#include "lang/builtin.h"
#include "runtime/tokenizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tok_obj {
    tl_tokenizer *tok;
    tl_detok_stream stream;
    bool streaming; /* stream holds a decode in progress */
} tok_obj;

static void tok_obj_free(void *p) {
    tok_obj *o = p;
    tl_tokenizer_free(o->tok);
    free(o);
}

static tl_status tok_get_property(tl_object *self, const char *name, tl_value *out);
static tl_status tok_call_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                                 tl_value *out);

static const tl_object_class tokenizer_class = {
    .name = "Tokenizer",
    .free = tok_obj_free,
    .get_property = tok_get_property,
    .call_method = tok_call_method,
};

/* ---- argument helpers ----------------------------------------------------------- */

static tl_status tok_arg(const tl_call *c, const tl_value *argv, int i, tok_obj **out) {
    *out = tl_value_object_payload(&argv[i], &tokenizer_class);
    if (!*out)
        return tl_fail(TL_ERR_TYPE,
                       "%s: argument %d must be a Tokenizer (from load_tokenizer), got %s", c->name,
                       i + 1, tl_value_type_name(&argv[i]));
    return TL_OK;
}

/* A string argument with its length (strings may hold NUL). */
static tl_status text_arg(const tl_call *c, const tl_value *argv, int i, const char **s,
                          size_t *len) {
    if (argv[i].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: argument %d must be a string, got %s", c->name, i + 1,
                       tl_value_type_name(&argv[i]));
    *s = argv[i].as.str->data;
    *len = argv[i].as.str->len;
    return TL_OK;
}

static tl_status opt_bool(const tl_call *c, int argc, const tl_value *argv, int i, bool dflt,
                          bool *out) {
    *out = dflt;
    return i < argc ? tl_arg_bool(c, argv, i, out) : TL_OK;
}

static tl_status id_of(const tl_call *c, const tl_tokenizer *tok, const tl_value *v, size_t k,
                       int32_t *out) {
    int64_t id;
    if (v->kind == TL_VAL_INT)
        id = v->as.i;
    else if (v->kind == TL_VAL_FLOAT && v->as.f == floor(v->as.f) && fabs(v->as.f) < 9e15)
        id = (int64_t)v->as.f;
    else
        return tl_fail(TL_ERR_TYPE, "%s: token id %zu must be an int, got %s", c->name, k,
                       tl_value_type_name(v));
    tl_status st = tl_tokenizer_check_id(tok, id);
    if (st) tl_error_prefix("%s", c->name);
    *out = (int32_t)id;
    return st;
}

/* Ids from an int array, a 1-D tensor or one int; *ids is malloc'd. */
static tl_status ids_arg(const tl_call *c, const tl_tokenizer *tok, const tl_value *v,
                         int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    if (v->kind == TL_VAL_ARRAY) {
        const tl_array *a = v->as.arr;
        *ids = malloc(sizeof(int32_t) * (a->len ? a->len : 1));
        if (!*ids) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
        for (size_t k = 0; k < a->len; k++) {
            tl_status st = id_of(c, tok, &a->items[k], k, &(*ids)[k]);
            if (st) {
                free(*ids);
                *ids = NULL;
                return st;
            }
        }
        *n = a->len;
        return TL_OK;
    }
    if (v->kind == TL_VAL_TENSOR) {
        tl_tensor *t = v->as.tensor;
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        if (t->n_dims > 1 || tr->quantized || !tr->to_f32)
            return tl_fail(TL_ERR_SHAPE, "%s: token ids must be a 1-D tensor", c->name);
        size_t len = (size_t)t->ne[0];
        *ids = malloc(sizeof(int32_t) * (len ? len : 1));
        if (!*ids) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
        for (size_t k = 0; k < len; k++) {
            float f;
            tr->to_f32((const char *)tl_tensor_data(t) + k * (size_t)t->nb[0], &f, 1);
            tl_value e = tl_value_float(f);
            tl_status st = id_of(c, tok, &e, k, &(*ids)[k]);
            if (st) {
                free(*ids);
                *ids = NULL;
                return st;
            }
        }
        *n = len;
        return TL_OK;
    }
    if (v->kind == TL_VAL_INT || v->kind == TL_VAL_FLOAT) {
        *ids = malloc(sizeof(int32_t));
        if (!*ids) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
        tl_status st = id_of(c, tok, v, 0, *ids);
        if (st) {
            free(*ids);
            *ids = NULL;
            return st;
        }
        *n = 1;
        return TL_OK;
    }
    return tl_fail(TL_ERR_TYPE, "%s: token ids must be an int array, a tensor or an int, got %s",
                   c->name, tl_value_type_name(v));
}

static tl_status ids_value(const int32_t *ids, size_t n, tl_value *out) {
    tl_status st = tl_value_array(n, out);
    for (size_t k = 0; !st && k < n; k++)
        st = tl_array_push(out->as.arr, tl_value_int(ids[k]));
    if (st) tl_value_release(out);
    return st;
}

/* ---- the operations (shared by builtins and methods) ------------------------------ */

/* argv[0] is the text; then add_special (default true), parse_special (default true: "<s>" in the
 * text is BOS, as the original). */
static tl_status do_tokenize(const tl_call *c, tok_obj *o, int argc, const tl_value *argv,
                             tl_value *out) {
    const char *s = NULL;
    size_t len = 0;
    bool add, special;
    tl_status st = text_arg(c, argv, 0, &s, &len);
    if (!st) st = opt_bool(c, argc, argv, 1, true, &add);
    /* special tokens written in the text ("<s>") are split out by default, as the
    ** original did; an explicit false is llama.cpp's parse_special = false */
    if (!st) st = opt_bool(c, argc, argv, 2, true, &special);
    if (st) return st;
    int32_t *ids;
    size_t n;
    if ((st = tl_tokenize(o->tok, s, len, add, special, &ids, &n))) return st;
    st = ids_value(ids, n, out);
    free(ids);
    return st;
}

/* argv[0] ids; skip_special (default false): drop BOS/EOS and hide control tokens. */
static tl_status do_detokenize(const tl_call *c, tok_obj *o, int argc, const tl_value *argv,
                               tl_value *out) {
    bool skip;
    tl_status st = opt_bool(c, argc, argv, 1, false, &skip);
    int32_t *ids;
    size_t n;
    if (!st) st = ids_arg(c, o->tok, &argv[0], &ids, &n);
    if (st) return st;
    char *text;
    size_t len;
    st = tl_detokenize(o->tok, ids, n, skip, !skip, &text, &len);
    free(ids);
    if (st) return st;
    st = tl_value_string(text, len, out);
    free(text);
    return st;
}

static tl_status do_piece(const tl_call *c, tok_obj *o, int argc, const tl_value *argv,
                          tl_value *out) {
    bool special;
    int32_t id = 0;
    tl_status st = opt_bool(c, argc, argv, 1, true, &special);
    if (!st) st = id_of(c, o->tok, &argv[0], 0, &id);
    if (st) return st;
    const char *p;
    size_t len;
    if ((st = tl_token_piece(o->tok, id, special, &p, &len))) return st;
    return tl_value_string(p, len, out);
}

/* Feeds ids into the object's stream; returns the text that is now whole. */
static tl_status do_incremental(const tl_call *c, tok_obj *o, int argc, const tl_value *argv,
                                tl_value *out) {
    bool skip;
    tl_status st = opt_bool(c, argc, argv, 1, false, &skip);
    int32_t *ids;
    size_t n;
    if (!st) st = ids_arg(c, o->tok, &argv[0], &ids, &n);
    if (st) return st;
    if (!o->streaming) {
        tl_detok_stream_init(&o->stream, o->tok, skip, !skip);
        o->streaming = true;
    }
    size_t cap = 16, len = 0;
    for (size_t k = 0; k < n; k++) {
        const char *p;
        size_t pl;
        tl_token_piece(o->tok, ids[k], true, &p, &pl);
        cap += pl + 8;
    }
    char *buf = malloc(cap);
    if (!buf) {
        free(ids);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
    }
    for (size_t k = 0; k < n && !st; k++) {
        size_t got;
        st = tl_detok_stream_push(&o->stream, ids[k], buf + len, cap - len, &got);
        len += got;
    }
    free(ids);
    if (!st) st = tl_value_string(buf, len, out);
    free(buf);
    return st;
}

static tl_status do_flush(tok_obj *o, tl_value *out) {
    char held[8];
    size_t n = o->streaming ? tl_detok_stream_flush(&o->stream, held) : 0;
    o->streaming = false;
    return tl_value_string(held, n, out);
}

/* ---- the Tokenizer class ------------------------------------------------------------ */

static tl_status tok_get_property(tl_object *self, const char *name, tl_value *out) {
    tok_obj *o = self->payload;
    const tl_tokenizer *t = o->tok;
    if (strcmp(name, "vocab_size") == 0)
        *out = tl_value_int(tl_tokenizer_n_vocab(t));
    else if (strcmp(name, "bos_id") == 0)
        *out = tl_value_int(tl_tokenizer_bos(t));
    else if (strcmp(name, "eos_id") == 0)
        *out = tl_value_int(tl_tokenizer_eos(t));
    else if (strcmp(name, "unk_id") == 0)
        *out = tl_value_int(tl_tokenizer_unk(t));
    else if (strcmp(name, "pad_id") == 0)
        *out = tl_value_int(tl_tokenizer_pad(t));
    else if (strcmp(name, "add_bos") == 0)
        *out = tl_value_bool(tl_tokenizer_add_bos(t));
    else if (strcmp(name, "add_eos") == 0)
        *out = tl_value_bool(tl_tokenizer_add_eos(t));
    else if (strcmp(name, "kind") == 0)
        return tl_value_cstring(tl_tokenizer_kind(t), out);
    else
        return tl_fail(TL_ERR_ARG,
                       "Tokenizer has no property %s (properties: vocab_size, bos_id, eos_id, "
                       "unk_id, pad_id, add_bos, add_eos, kind)",
                       name);
    return TL_OK;
}

static tl_status tok_call_method(tl_object *self, const char *name, int argc, const tl_value *argv,
                                 tl_value *out) {
    tok_obj *o = self->payload;
    tl_call c = {.interp = NULL, .name = name};
    if (strcmp(name, "tokenize") == 0 && argc >= 1 && argc <= 3)
        return do_tokenize(&c, o, argc, argv, out);
    if (strcmp(name, "detokenize") == 0 && argc >= 1 && argc <= 2)
        return do_detokenize(&c, o, argc, argv, out);
    if (strcmp(name, "token_to_piece") == 0 && argc >= 1 && argc <= 2)
        return do_piece(&c, o, argc, argv, out);
    if (strcmp(name, "detokenize_incremental") == 0 && argc >= 1 && argc <= 2)
        return do_incremental(&c, o, argc, argv, out);
    if (strcmp(name, "detokenize_flush") == 0 && argc == 0) return do_flush(o, out);
    if (strcmp(name, "find") == 0 && argc == 1) {
        const char *s = NULL;
        size_t len = 0;
        tl_status st = text_arg(&c, argv, 0, &s, &len);
        if (!st) *out = tl_value_int(tl_tokenizer_find(o->tok, s, len));
        return st;
    }
    return tl_fail(TL_ERR_ARG,
                   "Tokenizer has no method %s with %d argument%s (methods: tokenize(text[, "
                   "add_special[, parse_special]]), detokenize(ids[, skip_special]), "
                   "token_to_piece(id[, special]), detokenize_incremental(ids[, skip_special]), "
                   "detokenize_flush(), find(text))",
                   name, argc, argc == 1 ? "" : "s");
}

/* ---- builtins ------------------------------------------------------------------------- */

static tl_status bi_load_tokenizer(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_value path_value = TL_VOID;
    const char *path;
    tl_status st;
    if (argv[0].kind == TL_VAL_OBJECT && strcmp(argv[0].as.obj->cls->name, "Model") == 0 &&
        argv[0].as.obj->cls->get_property) {
        /* a loaded model: its GGUF file holds the vocab */
        tl_object *m = argv[0].as.obj;
        if ((st = m->cls->get_property(m, "path", &path_value))) return st;
        if (path_value.kind != TL_VAL_STRING) {
            tl_value_release(&path_value);
            return tl_fail(TL_ERR_TYPE, "%s: the model has no path", c->name);
        }
        path = path_value.as.str->data;
    } else if ((st = tl_arg_path(c, argv, 0, &path))) {
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a path or a Model, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    }
    /* "~/..." is the home folder, as in the original scripts' tokenizer paths */
    char *expanded = NULL;
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home) {
        expanded = malloc(strlen(home) + strlen(path));
        if (expanded) {
            strcpy(expanded, home);
            strcat(expanded, path + 1);
            path = expanded;
        }
    }
    tok_obj *o = calloc(1, sizeof *o);
    if (!o) st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
    if (!st) st = tl_tokenizer_load(path, &o->tok);
    free(expanded);
    tl_value_release(&path_value);
    if (st) {
        free(o);
        return st;
    }
    return tl_value_object(&tokenizer_class, o, out);
}

static tl_status bi_tokenize(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : do_tokenize(c, o, argc - 1, argv + 1, out);
}

static tl_status bi_detokenize(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : do_detokenize(c, o, argc - 1, argv + 1, out);
}

static tl_status bi_token_to_piece(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : do_piece(c, o, argc - 1, argv + 1, out);
}

static tl_status bi_incremental(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : do_incremental(c, o, argc - 1, argv + 1, out);
}

static tl_status bi_flush(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : do_flush(o, out);
}

static tl_status bi_int_query(tl_call *c, const tl_value *argv, tl_value *out, const char *prop) {
    tok_obj *o;
    tl_status st = tok_arg(c, argv, 0, &o);
    return st ? st : tok_get_property(argv[0].as.obj, prop, out);
}
static tl_status bi_bos_id(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return bi_int_query(c, argv, out, "bos_id");
}
static tl_status bi_eos_id(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return bi_int_query(c, argv, out, "eos_id");
}
static tl_status bi_vocab_size(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return bi_int_query(c, argv, out, "vocab_size");
}

#define TOK_ARG TL_KIND_BIT(TL_VAL_OBJECT)

const tl_builtin_def tl_builtins_tokenizer[] = {
    {"load_tokenizer", 1, 1, bi_load_tokenizer,
     "load_tokenizer(path.gguf | tokenizer.json | model) -> Tokenizer", 0},
    {"tokenize", 2, 4, bi_tokenize,
     "tokenize(tok, text[, add_special = true[, parse_special = true]]) -> [int]", TOK_ARG},
    {"detokenize", 2, 3, bi_detokenize, "detokenize(tok, ids[, skip_special = false]) -> string",
     TOK_ARG},
    {"token_to_piece", 2, 3, bi_token_to_piece,
     "token_to_piece(tok, id[, special = true]) -> string", TOK_ARG},
    {"detokenize_incremental", 2, 3, bi_incremental,
     "detokenize_incremental(tok, id | ids[, skip_special = false]) -> string (whole UTF-8 only)",
     TOK_ARG},
    {"detokenize_flush", 1, 1, bi_flush, "detokenize_flush(tok) -> string (held bytes; resets)",
     TOK_ARG},
    {"bos_id", 1, 1, bi_bos_id, "bos_id(tok) -> int (-1: none)", TOK_ARG},
    {"eos_id", 1, 1, bi_eos_id, "eos_id(tok) -> int (-1: none)", TOK_ARG},
    {"vocab_size", 1, 1, bi_vocab_size, "vocab_size(tok) -> int", TOK_ARG},
    {0},
};
