/* runtime/tokenizer_json.c -- a Hugging Face tokenizer.json of the Llama kind
** (model.type "BPE", byte_fallback, "▁" for spaces) read with jansson.
**
** What is understood: model.vocab / model.merges (as "a b" strings or
** ["a", "b"] pairs) / unk_token / byte_fallback / fuse_unk; added_tokens
** (special -> CONTROL, else USER_DEFINED: cut out of the text); the normalizer
** Sequence of Prepend("▁") and Replace(" " -> "▁"), or a Metaspace
** pre-tokenizer (prepend_scheme always/first/never, split false); a
** TemplateProcessing post-processor that starts with a special token (BOS). */
#include "runtime/tokenizer_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_ctx {
    const char *source;
    int32_t n;
    char **texts;
    size_t *lens;
    int32_t *types;
} json_ctx;

static void ctx_free(json_ctx *c) {
    if (c->texts)
        for (int32_t i = 0; i < c->n; i++)
            free(c->texts[i]);
    free(c->texts);
    free(c->lens);
    free(c->types);
}

static tl_status set_text(json_ctx *c, int64_t id, const char *s, size_t len, const char *where) {
    if (id < 0 || id >= c->n)
        return tl_fail(TL_ERR_FORMAT, "%s: %s id %lld out of range (vocab %d)", c->source, where,
                       (long long)id, c->n);
    if (c->texts[id]) {
        if (c->lens[id] == len && memcmp(c->texts[id], s, len) == 0) return TL_OK;
        return tl_fail(TL_ERR_FORMAT, "%s: id %lld is both \"%s\" and \"%.*s\"", c->source,
                       (long long)id, c->texts[id], (int)len, s);
    }
    c->texts[id] = malloc(len + 1);
    if (!c->texts[id]) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->source);
    memcpy(c->texts[id], s, len);
    c->texts[id][len] = 0;
    c->lens[id] = len;
    return TL_OK;
}

/* How the pre-processing is configured: prefix mode; fails on unknown steps. */
static tl_status read_normalizer(const char *src, json_t *norm, tl_tok_prefix *prefix) {
    if (!norm || json_is_null(norm)) return TL_OK;
    const char *type = json_string_value(json_object_get(norm, "type"));
    if (!type) return tl_fail(TL_ERR_FORMAT, "%s: normalizer without a type", src);
    if (strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(norm, "normalizers");
        size_t i;
        json_t *item;
        if (!json_is_array(list))
            return tl_fail(TL_ERR_FORMAT, "%s: normalizer Sequence without a list", src);
        json_array_foreach(list, i, item) {
            tl_status st = read_normalizer(src, item, prefix);
            if (st) return st;
        }
        return TL_OK;
    }
    if (strcmp(type, "Prepend") == 0) {
        const char *p = json_string_value(json_object_get(norm, "prepend"));
        if (!p || strcmp(p, U2581) != 0)
            return tl_fail(TL_ERR_UNSUPPORTED, "%s: only Prepend(\"\xE2\x96\x81\") is supported",
                           src);
        *prefix = TL_PREFIX_ALWAYS;
        return TL_OK;
    }
    if (strcmp(type, "Replace") == 0) {
        json_t *pat = json_object_get(norm, "pattern");
        const char *from = json_string_value(json_object_get(pat, "String"));
        const char *to = json_string_value(json_object_get(norm, "content"));
        if (!from || !to || strcmp(from, " ") != 0 || strcmp(to, U2581) != 0)
            return tl_fail(
                TL_ERR_UNSUPPORTED,
                "%s: only the normalizer Replace(\" \" -> \"\xE2\x96\x81\") is supported", src);
        return TL_OK;
    }
    return tl_fail(TL_ERR_UNSUPPORTED, "%s: normalizer \"%s\" is not supported (Llama kind only)",
                   src, type);
}

static tl_status read_pre_tokenizer(const char *src, json_t *pre, tl_tok_prefix *prefix) {
    if (!pre || json_is_null(pre)) return TL_OK;
    const char *type = json_string_value(json_object_get(pre, "type"));
    if (!type) return tl_fail(TL_ERR_FORMAT, "%s: pre_tokenizer without a type", src);
    if (strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(pre, "pretokenizers");
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            tl_status st = read_pre_tokenizer(src, item, prefix);
            if (st) return st;
        }
        return TL_OK;
    }
    if (strcmp(type, "Metaspace") == 0) {
        const char *rep = json_string_value(json_object_get(pre, "replacement"));
        json_t *split = json_object_get(pre, "split");
        if (rep && strcmp(rep, U2581) != 0)
            return tl_fail(TL_ERR_UNSUPPORTED, "%s: Metaspace replacement must be U+2581", src);
        if (json_is_true(split))
            return tl_fail(TL_ERR_UNSUPPORTED, "%s: Metaspace with split=true is not supported",
                           src);
        const char *scheme = json_string_value(json_object_get(pre, "prepend_scheme"));
        json_t *add = json_object_get(pre, "add_prefix_space");
        if (scheme)
            *prefix = strcmp(scheme, "always") == 0  ? TL_PREFIX_ALWAYS
                      : strcmp(scheme, "first") == 0 ? TL_PREFIX_FIRST
                                                     : TL_PREFIX_NEVER;
        else if (add)
            *prefix = json_is_true(add) ? TL_PREFIX_ALWAYS : TL_PREFIX_NEVER;
        else
            *prefix = TL_PREFIX_ALWAYS;
        return TL_OK;
    }
    return tl_fail(TL_ERR_UNSUPPORTED,
                   "%s: pre_tokenizer \"%s\" is not supported (Llama kind only)", src, type);
}

/* The BOS a TemplateProcessing post-processor puts first, or -1 (none). */
static int32_t template_bos(json_t *post, json_t *vocab_obj, bool *found) {
    *found = false;
    if (!post || json_is_null(post)) return -1;
    const char *type = json_string_value(json_object_get(post, "type"));
    if (!type || strcmp(type, "TemplateProcessing") != 0) return -1;
    json_t *single = json_object_get(post, "single");
    json_t *first = json_array_get(single, 0);
    json_t *sp = json_object_get(first, "SpecialToken");
    *found = true;
    if (!sp) return -1;
    const char *name = json_string_value(json_object_get(sp, "id"));
    json_t *special_tokens = json_object_get(post, "special_tokens");
    json_t *entry = name ? json_object_get(special_tokens, name) : NULL;
    json_t *ids = json_object_get(entry, "ids");
    if (json_is_array(ids) && json_array_size(ids) > 0)
        return (int32_t)json_integer_value(json_array_get(ids, 0));
    json_t *id = name ? json_object_get(vocab_obj, name) : NULL;
    return json_is_integer(id) ? (int32_t)json_integer_value(id) : -1;
}

static tl_status from_json(json_t *root, const char *src, tl_tokenizer **out) {
    tl_status st = TL_OK;
    json_ctx c = {.source = src};
    int32_t *ml = NULL, *mr = NULL, *mm = NULL;
    tl_tokenizer *tok = NULL;
    if (!json_is_object(root)) return tl_fail(TL_ERR_FORMAT, "%s: not a JSON object", src);
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) return tl_fail(TL_ERR_FORMAT, "%s: no \"model\" object", src);
    static const char *const flags[] = {"byte_fallback", "fuse_unk"};
    for (int f = 0; f < 2; f++) { /* "yes" is not false: a flag that is not a bool is refused */
        json_t *j = json_object_get(model, flags[f]);
        if (j && !json_is_boolean(j) && !json_is_null(j))
            return tl_fail(TL_ERR_FORMAT, "%s: model.%s must be true or false", src, flags[f]);
    }
    const char *mtype = json_string_value(json_object_get(model, "type"));
    json_t *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges");
    if (mtype && strcmp(mtype, "BPE") != 0)
        return tl_fail(TL_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (BPE only)", src,
                       mtype);
    if (!json_is_object(vocab))
        return tl_fail(TL_ERR_FORMAT, "%s: model.vocab is missing or not an object", src);
    if (!json_is_array(merges))
        return tl_fail(TL_ERR_FORMAT, "%s: model.merges is missing or not an array", src);
    json_t *added = json_object_get(root, "added_tokens");

    /* n = 1 + the largest id */
    int64_t max_id = -1;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        if (!json_is_integer(val))
            return tl_fail(TL_ERR_FORMAT, "%s: vocab entry \"%s\" is not an integer id", src, key);
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    size_t i;
    json_array_foreach(added, i, val) {
        json_t *id = json_object_get(val, "id");
        if (!json_is_integer(id) || !json_is_string(json_object_get(val, "content")))
            return tl_fail(TL_ERR_FORMAT, "%s: added_tokens[%zu] needs an id and a content", src,
                           i);
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
    }
    if (max_id < 0) return tl_fail(TL_ERR_FORMAT, "%s: the vocab is empty", src);
    if (max_id >= INT32_MAX / 2)
        return tl_fail(TL_ERR_FORMAT, "%s: id %lld is too large", src, (long long)max_id);
    /* ids must be dense (a hole is reported below): an id far past the number of
    ** entries is such a hole, so fail before allocating max_id + 1 slots for it */
    size_t n_entries =
        json_object_size(vocab) + (json_is_array(added) ? json_array_size(added) : 0);
    if ((uint64_t)max_id >= n_entries + 65536)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: id %lld is out of range for %zu vocab entries (ids must be 0..%zu)",
                       src, (long long)max_id, n_entries, n_entries - 1);
    c.n = (int32_t)max_id + 1;
    c.texts = calloc((size_t)c.n, sizeof *c.texts);
    c.lens = calloc((size_t)c.n, sizeof *c.lens);
    c.types = calloc((size_t)c.n, sizeof *c.types);
    if (!c.texts || !c.lens || !c.types) {
        st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", src);
        goto done;
    }
    json_object_foreach(vocab, key, val) {
        /* jansson keys are NUL-terminated; a key with "\u0000" would be cut short */
        if ((st = set_text(&c, json_integer_value(val), key, strlen(key), "vocab"))) goto done;
        c.types[json_integer_value(val)] = TL_TOKEN_NORMAL;
    }
    for (int32_t k = 0; k < c.n; k++)
        if (c.texts[k] && c.lens[k] == 6 && strncmp(c.texts[k], "<0x", 3) == 0 &&
            c.texts[k][5] == '>')
            c.types[k] = TL_TOKEN_BYTE;
    const char *unk_text = json_string_value(json_object_get(model, "unk_token"));
    json_array_foreach(added, i, val) {
        int64_t id = json_integer_value(json_object_get(val, "id"));
        json_t *content = json_object_get(val, "content");
        if ((st = set_text(&c, id, json_string_value(content), json_string_length(content),
                           "added token")))
            goto done;
        bool special = json_is_true(json_object_get(val, "special"));
        c.types[id] = special ? TL_TOKEN_CONTROL : TL_TOKEN_USER_DEFINED;
        if (unk_text && strcmp(unk_text, json_string_value(content)) == 0)
            c.types[id] = TL_TOKEN_UNKNOWN;
    }
    for (int32_t k = 0; k < c.n; k++)
        if (!c.texts[k]) {
            st = tl_fail(TL_ERR_FORMAT, "%s: id %d is missing from the vocab (ids must be 0..%d)",
                         src, k, c.n - 1);
            goto done;
        }

    tl_tok_prefix prefix = TL_PREFIX_NEVER;
    if ((st = read_normalizer(src, json_object_get(root, "normalizer"), &prefix)) ||
        (st = read_pre_tokenizer(src, json_object_get(root, "pre_tokenizer"), &prefix)))
        goto done;

    tl_spm_vocab v = tl_spm_vocab_defaults();
    v.n_tokens = c.n;
    v.texts = (const char *const *)c.texts;
    v.text_lens = c.lens;
    v.types = c.types;
    v.add_space_prefix = prefix != TL_PREFIX_NEVER;
    v.add_eos = false;
    bool has_template;
    int32_t bos = template_bos(json_object_get(root, "post_processor"), vocab, &has_template);
    v.add_bos = has_template ? bos >= 0 : true;
    if ((st = tl_tokenizer_build(&v, TL_TOK_BPE, &tok))) goto done;
    /* special ids by text (tokenizer.json does not name them otherwise) */
    tok->bos = bos >= 0 && bos < c.n ? bos : tl_tokenizer_find(tok, "<s>", 3);
    tok->eos = tl_tokenizer_find(tok, "</s>", 4);
    tok->unk = unk_text ? tl_tokenizer_find(tok, unk_text, strlen(unk_text)) : -1;
    tok->pad = -1;
    if (tok->add_bos && tok->bos < 0) tok->add_bos = false;
    tok->prefix = prefix;
    json_t *bf = json_object_get(model, "byte_fallback");
    tok->byte_fallback = json_is_true(bf);
    tok->fuse_unk = json_is_true(json_object_get(model, "fuse_unk"));

    size_t nm = json_array_size(merges);
    ml = malloc(sizeof(int32_t) * (nm + 1));
    mr = malloc(sizeof(int32_t) * (nm + 1));
    mm = malloc(sizeof(int32_t) * (nm + 1));
    if (!ml || !mr || !mm) {
        st = tl_fail(TL_ERR_NOMEM, "%s: out of memory for %zu merges", src, nm);
        goto done;
    }
    char *cat = NULL;
    size_t cat_cap = 0;
    json_array_foreach(merges, i, val) {
        const char *a, *b;
        size_t al, bl;
        if (json_is_string(val)) {
            a = json_string_value(val);
            const char *sp = strchr(a + (a[0] ? 1 : 0), ' ');
            if (!sp) {
                st = tl_fail(TL_ERR_FORMAT, "%s: merge %zu \"%s\" is not two tokens", src, i, a);
                break;
            }
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (json_is_array(val) && json_array_size(val) == 2 &&
                   json_is_string(json_array_get(val, 0)) &&
                   json_is_string(json_array_get(val, 1))) {
            a = json_string_value(json_array_get(val, 0));
            al = json_string_length(json_array_get(val, 0));
            b = json_string_value(json_array_get(val, 1));
            bl = json_string_length(json_array_get(val, 1));
        } else {
            st = tl_fail(TL_ERR_FORMAT, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", src,
                         i);
            break;
        }
        if (al + bl + 1 > cat_cap) {
            cat_cap = (al + bl + 1) * 2;
            char *nc = realloc(cat, cat_cap);
            if (!nc) {
                st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", src);
                break;
            }
            cat = nc;
        }
        memcpy(cat, a, al);
        memcpy(cat + al, b, bl);
        ml[i] = tl_tokenizer_find(tok, a, al);
        mr[i] = tl_tokenizer_find(tok, b, bl);
        mm[i] = tl_tokenizer_find(tok, cat, al + bl);
        if (ml[i] < 0 || mr[i] < 0 || mm[i] < 0) {
            st = tl_fail(TL_ERR_FORMAT,
                         "%s: merge %zu (\"%.*s\" \"%.*s\") uses a token not in the "
                         "vocab",
                         src, i, (int)al, a, (int)bl, b);
            break;
        }
    }
    free(cat);
    if (!st) st = tl_tokenizer_set_merges(tok, nm, ml, mr, mm);
done:
    free(ml);
    free(mr);
    free(mm);
    ctx_free(&c);
    if (st) {
        tl_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return TL_OK;
}

tl_status tl_tokenizer_from_json_text(const char *text, size_t len, const char *source,
                                      tl_tokenizer **out) {
    *out = NULL;
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    if (!root)
        return tl_fail(TL_ERR_FORMAT, "%s:%d:%d: malformed JSON: %s", source, err.line, err.column,
                       err.text);
    tl_status st = from_json(root, source, out);
    json_decref(root);
    return st;
}

tl_status tl_tokenizer_from_json(const char *path, tl_tokenizer **out) {
    *out = NULL;
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        if (err.line < 0) return tl_fail(TL_ERR_IO, "%s: cannot read: %s", path, err.text);
        return tl_fail(TL_ERR_FORMAT, "%s:%d:%d: malformed JSON: %s", path, err.line, err.column,
                       err.text);
    }
    tl_status st = from_json(root, path, out);
    json_decref(root);
    return st;
}
