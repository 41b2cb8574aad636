/* runtime/tokenizer_gguf.c -- the SPM vocab from GGUF metadata (tokenizer.ggml.*),
** with the key types and defaults llama.cpp uses (docs/tokenizer.md). */
#include "runtime/gguf.h"
#include "runtime/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

/* An optional scalar key that must have exactly type t when present. */
static tl_status opt_key(const tl_gguf *g, const char *key, tl_gguf_type t,
                         const tl_gguf_kv **out) {
    *out = tl_gguf_find(g, key);
    if (*out && (*out)->type != t)
        return tl_fail(TL_ERR_FORMAT, "%s: key '%s' has wrong type %s (expected %s)",
                       tl_gguf_path(g), key, tl_gguf_type_name((*out)->type), tl_gguf_type_name(t));
    return TL_OK;
}

static tl_status opt_bool(const tl_gguf *g, const char *key, bool *v) {
    const tl_gguf_kv *kv;
    tl_status st = opt_key(g, key, TL_GGUF_BOOL, &kv);
    if (!st && kv) tl_gguf_kv_bool(kv, 0, v);
    return st;
}

/* A special id: a u32 key; out of range keeps the default (llama.cpp warns). */
static tl_status opt_id(const tl_gguf *g, const char *key, int32_t n_vocab, int32_t *v) {
    const tl_gguf_kv *kv;
    tl_status st = opt_key(g, key, TL_GGUF_UINT32, &kv);
    uint64_t u;
    if (!st && kv && tl_gguf_kv_uint(kv, 0, &u) && u < (uint64_t)n_vocab) *v = (int32_t)u;
    return st;
}

tl_status tl_tokenizer_from_gguf_file(const tl_gguf *g, tl_tokenizer **out) {
    *out = NULL;
    const char *path = tl_gguf_path(g);
    const char *model;
    const tl_gguf_kv *kv;
    tl_status st = opt_key(g, "tokenizer.ggml.model", TL_GGUF_STRING, &kv);
    if (st) return st;
    if (!kv)
        return tl_fail(TL_ERR_FORMAT, "%s: no tokenizer (key 'tokenizer.ggml.model' missing)",
                       path);
    model = kv->str;
    if (strcmp(model, "llama") != 0)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "%s: tokenizer model '%s' is not supported (only 'llama', SentencePiece)",
                       path, model);
    const tl_gguf_kv *tokens = tl_gguf_find(g, "tokenizer.ggml.tokens");
    if (!tokens) return tl_fail(TL_ERR_FORMAT, "%s: key 'tokenizer.ggml.tokens' missing", path);
    if (tokens->type != TL_GGUF_ARRAY || tokens->elem_type != TL_GGUF_STRING)
        return tl_fail(TL_ERR_FORMAT, "%s: key 'tokenizer.ggml.tokens' must be an array of strings",
                       path);
    if (tokens->count == 0 || tokens->count > INT32_MAX / 4)
        return tl_fail(TL_ERR_FORMAT, "%s: 'tokenizer.ggml.tokens' has %llu entries", path,
                       (unsigned long long)tokens->count);
    int32_t n = (int32_t)tokens->count;

    const tl_gguf_kv *scores = tl_gguf_find(g, "tokenizer.ggml.scores");
    if (scores && (scores->type != TL_GGUF_ARRAY ||
                   (scores->elem_type != TL_GGUF_FLOAT32 && scores->elem_type != TL_GGUF_INT32)))
        return tl_fail(TL_ERR_FORMAT, "%s: 'tokenizer.ggml.scores' must be an array of f32 or i32",
                       path);
    if (scores && scores->count < (uint64_t)n)
        return tl_fail(TL_ERR_FORMAT, "%s: 'tokenizer.ggml.scores' has %llu entries for %d tokens",
                       path, (unsigned long long)scores->count, n);
    const tl_gguf_kv *types = tl_gguf_find(g, "tokenizer.ggml.token_type");
    if (types && (types->type != TL_GGUF_ARRAY || types->elem_type != TL_GGUF_INT32))
        return tl_fail(TL_ERR_FORMAT, "%s: 'tokenizer.ggml.token_type' must be an array of i32",
                       path);
    if (types && types->count < (uint64_t)n)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: 'tokenizer.ggml.token_type' has %llu entries for %d tokens", path,
                       (unsigned long long)types->count, n);

    tl_spm_vocab v = tl_spm_vocab_defaults();
    v.n_tokens = n;
    if (v.bos_id >= n) v.bos_id = -1;
    if (v.eos_id >= n) v.eos_id = -1;
    if ((st = opt_id(g, "tokenizer.ggml.bos_token_id", n, &v.bos_id)) ||
        (st = opt_id(g, "tokenizer.ggml.eos_token_id", n, &v.eos_id)) ||
        (st = opt_id(g, "tokenizer.ggml.unknown_token_id", n, &v.unk_id)) ||
        (st = opt_id(g, "tokenizer.ggml.padding_token_id", n, &v.pad_id)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_bos_token", &v.add_bos)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_eos_token", &v.add_eos)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_space_prefix", &v.add_space_prefix)))
        return st;
    const tl_gguf_kv *name = tl_gguf_find(g, "general.name");
    if (name && name->type == TL_GGUF_STRING) v.name = name->str;

    const char **texts = malloc(sizeof(char *) * (size_t)n);
    size_t *lens = malloc(sizeof(size_t) * (size_t)n);
    float *sc = scores ? malloc(sizeof(float) * (size_t)n) : NULL;
    int32_t *ty = types ? malloc(sizeof(int32_t) * (size_t)n) : NULL;
    if (!texts || !lens || (scores && !sc) || (types && !ty)) {
        st = tl_fail(TL_ERR_NOMEM, "%s: out of memory for %d tokens", path, n);
        goto done;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!tl_gguf_kv_string(tokens, (uint64_t)i, &texts[i], &lens[i])) {
            st = tl_fail(TL_ERR_FORMAT, "%s: cannot read token %d", path, i);
            goto done;
        }
        double d;
        int64_t t;
        if (sc) sc[i] = tl_gguf_kv_float(scores, (uint64_t)i, &d) ? (float)d : 0.0f;
        if (ty) ty[i] = tl_gguf_kv_int(types, (uint64_t)i, &t) ? (int32_t)t : TL_TOKEN_UNDEFINED;
    }
    v.texts = texts;
    v.text_lens = lens;
    v.scores = sc;
    v.types = ty;
    st = tl_tokenizer_new_spm(&v, out);
    if (st) tl_error_prefix("%s", path);
done:
    free(texts);
    free(lens);
    free(sc);
    free(ty);
    return st;
}

tl_status tl_tokenizer_from_gguf(const char *path, tl_tokenizer **out) {
    *out = NULL;
    tl_gguf *g;
    tl_status st = tl_gguf_open(path, &g);
    if (st) return st;
    st = tl_tokenizer_from_gguf_file(g, out);
    tl_gguf_close(g);
    return st;
}
