/* runtime/model.c -- a loaded GGUF model: tensor views into the mapping, llama config. */
#include "runtime/model.h"

#include "runtime/dtype.h"
#include "runtime/quant/q4_0x16.h"
#include "runtime/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_model {
    int32_t refcount;
    tl_gguf *gguf;
    tl_storage *storage; /* the whole mapping; holds its own gguf reference */
    tl_tensor **tensors; /* one per GGUF tensor, file order */
    int64_t n_tensors;
    const char *arch;
    bool shadows; /* TL_MODEL_SHADOWS took effect */
};

void tl_model_unref(tl_model *m) {
    if (!m || __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int64_t i = 0; i < m->n_tensors; i++)
        tl_tensor_unref(m->tensors[i]);
    free(m->tensors);
    tl_storage_unref(m->storage);
    tl_gguf_close(m->gguf);
    free(m);
}

tl_model *tl_model_ref(tl_model *m) {
    if (m) __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
    return m;
}

tl_status tl_model_load(const char *path, tl_model **out) {
    /* TL_HUGE_PAGES=1: read the weights into huge pages at load (TL_GGUF_HUGE_PAGES);
    ** by default they move there in the background (TL_GGUF_MIGRATE; off with
    ** TL_HUGE_PAGES=0; TL_HUGE_PAGES=background moves files of any size) */
    const char *hp = getenv("TL_HUGE_PAGES");
    bool at_load = hp && *hp && strcmp(hp, "0") != 0 && strcmp(hp, "background") != 0;
    unsigned flags = at_load ? TL_GGUF_HUGE_PAGES : TL_GGUF_MIGRATE;
    /* by default a model with Q4_0 matrices gets shadows instead of the
    ** background move (its shadows sit in huge pages; the file pages go) */
    if (!at_load && tl_shadow_wanted()) {
        tl_status st = tl_model_load_ex(path, TL_MODEL_SHADOWS, out);
        if (st || (*out)->shadows) return st;
        tl_model_unref(*out);
        *out = NULL;
    }
    return tl_model_load_ex(path, flags, out);
}

bool tl_model_has_shadows(const tl_model *m) {
    return m->shadows;
}

/* TL_MODEL_SHADOWS: when the file has Q4_0 matrices and this CPU the Q4_0x16
** kernels (the layout is what a shadow buys; other types read as fast from the
** background move's huge pages), its quantized 2-D weights may get shadows.
** f16/f32 weights never do: they can be written in place through their views,
** which a shadow would not see. */
static void allow_shadows(tl_model *m) {
    bool q4_0 = false;
    for (int64_t i = 0; i < m->n_tensors; i++)
        q4_0 |= m->tensors[i]->n_dims == 2 && m->tensors[i]->dtype == TL_DTYPE_Q4_0;
    if (!q4_0 || !tl_q4_0x16_gemv_available() || !tl_q4_0x16_gemm_available()) return;
    for (int64_t i = 0; i < m->n_tensors; i++) {
        tl_tensor *t = m->tensors[i];
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        if (t->n_dims == 2 && tr && tr->quantized) {
            t->shadow_allow = 2;
            m->shadows = true;
        }
    }
}

tl_status tl_model_load_ex(const char *path, unsigned flags, tl_model **out) {
    *out = NULL;
    tl_model *m = calloc(1, sizeof *m);
    if (!m) return tl_fail(TL_ERR_NOMEM, "out of memory");
    m->refcount = 1;
    tl_status st = tl_gguf_open_ex(path, flags & ~TL_MODEL_SHADOWS, &m->gguf);
    if (st) {
        free(m);
        return st;
    }
    tl_gguf *g = m->gguf;
    const char *arch;
    m->arch = tl_gguf_get_string(g, "general.architecture", &arch, NULL) == TL_OK ? arch : "llama";
    tl_clear_error();
    st = tl_storage_wrap((void *)tl_gguf_base(g), tl_gguf_file_size(g), tl_gguf_release_cb,
                         tl_gguf_ref(g), &m->storage);
    if (st) {
        tl_gguf_close(g); /* the reference meant for the storage */
        tl_model_unref(m);
        return st;
    }
    int64_t n = tl_gguf_n_tensors(g);
    m->tensors = calloc(n ? (size_t)n : 1, sizeof *m->tensors);
    if (!m->tensors) {
        tl_model_unref(m);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        const tl_gguf_tensor_info *ti = tl_gguf_tensor_at(g, i);
        /* n_dims = 0 is a scalar; an empty tensor has no bytes and sits at offset 0. */
        st = tl_tensor_from_storage(m->storage, ti->nbytes ? (size_t)ti->file_offset : 0, ti->dtype,
                                    ti->n_dims, ti->ne, NULL, &m->tensors[i]);
        if (!st) st = tl_tensor_set_name(m->tensors[i], ti->name);
        if (st) {
            tl_error_prefix("%s: tensor '%s'", path, ti->name);
            tl_model_unref(m);
            return st;
        }
        m->n_tensors = i + 1;
    }
    if (flags & TL_MODEL_SHADOWS) allow_shadows(m);
    *out = m;
    return TL_OK;
}

const tl_gguf *tl_model_gguf(const tl_model *m) {
    return m->gguf;
}
const char *tl_model_path(const tl_model *m) {
    return tl_gguf_path(m->gguf);
}
const char *tl_model_arch(const tl_model *m) {
    return m->arch;
}
int64_t tl_model_n_tensors(const tl_model *m) {
    return m->n_tensors;
}

tl_tensor *tl_model_tensor_at(const tl_model *m, int64_t i) {
    return (i >= 0 && i < m->n_tensors) ? m->tensors[i] : NULL;
}

tl_tensor *tl_model_find_tensor(const tl_model *m, const char *name) {
    const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(m->gguf, name);
    if (!ti) return NULL;
    return m->tensors[ti - tl_gguf_tensor_at(m->gguf, 0)];
}

tl_status tl_model_tensor(const tl_model *m, const char *name, tl_tensor **out) {
    tl_tensor *t = tl_model_find_tensor(m, name);
    *out = tl_tensor_ref(t);
    if (!t) return tl_fail(TL_ERR_RANGE, "%s: no tensor named '%s'", tl_model_path(m), name);
    return TL_OK;
}

/* ---- llama hyper-parameters ----------------------------------------------- */

static tl_status get_count(const tl_model *m, const char *suffix, bool required, int64_t dflt,
                           int64_t *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    if (!tl_gguf_find(m->gguf, key)) {
        if (required) return tl_fail(TL_ERR_FORMAT, "%s: missing key '%s'", tl_model_path(m), key);
        *out = dflt;
        return TL_OK;
    }
    uint32_t v;
    tl_status st = tl_gguf_get_u32(m->gguf, key, &v);
    if (st) return st;
    *out = v;
    return TL_OK;
}

static tl_status get_real(const tl_model *m, const char *suffix, bool required, double dflt,
                          double *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    if (!tl_gguf_find(m->gguf, key)) {
        if (required) return tl_fail(TL_ERR_FORMAT, "%s: missing key '%s'", tl_model_path(m), key);
        *out = dflt;
        return TL_OK;
    }
    /* Read as float32 (as llama.cpp does), then widen exactly. */
    float f;
    tl_status st = tl_gguf_get_f32(m->gguf, key, &f);
    if (st) return st;
    *out = f;
    return TL_OK;
}

tl_status tl_model_llama_config(const tl_model *m, tl_llama_config *c) {
    memset(c, 0, sizeof *c);
    tl_status st;
    if ((st = get_count(m, "block_count", true, 0, &c->n_layer)) ||
        (st = get_count(m, "embedding_length", true, 0, &c->n_embd)) ||
        (st = get_count(m, "feed_forward_length", true, 0, &c->n_ff)) ||
        (st = get_count(m, "attention.head_count", true, 0, &c->n_head)) ||
        (st = get_count(m, "attention.head_count_kv", false, c->n_head, &c->n_head_kv)) ||
        (st = get_count(m, "context_length", true, 0, &c->n_ctx)) ||
        (st = get_real(m, "attention.layer_norm_rms_epsilon", true, 0, &c->eps)) ||
        (st = get_real(m, "rope.freq_base", false, 10000.0, &c->rope_base)))
        return st;
    if (c->n_head <= 0 || c->n_embd % c->n_head != 0)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.embedding_length %lld is not a multiple of "
                       "%s.attention.head_count %lld",
                       tl_model_path(m), m->arch, (long long)c->n_embd, m->arch,
                       (long long)c->n_head);
    if (c->n_head_kv <= 0 || c->n_head % c->n_head_kv != 0)
        return tl_fail(TL_ERR_FORMAT, "%s: head_count %lld is not a multiple of head_count_kv %lld",
                       tl_model_path(m), (long long)c->n_head, (long long)c->n_head_kv);
    c->head_dim = c->n_embd / c->n_head;
    if ((st = get_count(m, "rope.dimension_count", false, c->head_dim, &c->rope_dim))) return st;
    const tl_tensor *emb = tl_model_find_tensor(m, "token_embd.weight");
    const tl_gguf_kv *toks = tl_gguf_find(m->gguf, "tokenizer.ggml.tokens");
    char key[160];
    snprintf(key, sizeof key, "%s.vocab_size", m->arch);
    if (tl_gguf_find(m->gguf, key)) {
        if ((st = get_count(m, "vocab_size", true, 0, &c->n_vocab))) return st;
    } else if (toks && toks->type == TL_GGUF_ARRAY) {
        c->n_vocab = (int64_t)toks->count;
    } else if (emb) {
        c->n_vocab = emb->ne[1];
    }
    c->tied_output = tl_model_find_tensor(m, "output.weight") == NULL;
    return tl_model_llama_check(m, c);
}
