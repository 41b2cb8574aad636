/* runtime/model_check.c -- a llama model's metadata checked against its tensors.
**
** A GGUF file can lie: its block_count, head counts, vocabulary size, epsilon
** or RoPE base may disagree with the tensors it holds, and its tensor names
** decide how many layers there are.  These checks run when the llama config is
** read (llama_config / llama_load), so such a file is refused with a message
** naming the key and both values instead of running to wrong output or failing
** later inside a reshape. */
#include "runtime/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tl_status tl_model_count_layers(const tl_model *m, int64_t *n_layers) {
    int64_t n = 0, n_t = tl_model_n_tensors(m);
    *n_layers = 0;
    for (int64_t i = 0; i < n_t; i++) {
        const char *nm = tl_model_tensor_at(m, i)->name;
        if (strncmp(nm, "blk.", 4) != 0) continue;
        const char *p = nm + 4;
        if (*p < '0' || *p > '9') continue;
        char *end;
        errno = 0;
        unsigned long long k = strtoull(p, &end, 10);
        if (*end != '.') continue;
        /* every layer below N must hold a tensor, so N < the number of tensors */
        if (errno == ERANGE || k >= (unsigned long long)n_t)
            return tl_fail(TL_ERR_FORMAT,
                           "%s: tensor '%s' names layer %s, but the file holds only %lld tensors",
                           tl_model_path(m), nm, errno == ERANGE ? "> 2^64" : p, (long long)n_t);
        if ((int64_t)k + 1 > n) n = (int64_t)k + 1;
    }
    *n_layers = n;
    return TL_OK;
}

/* ne[0] (columns) and ne[1] (rows) of a tensor, when present. */
static tl_status check_shape(const tl_model *m, const char *name, int64_t cols,
                             const char *cols_why, int64_t rows, const char *rows_why) {
    const tl_tensor *t = tl_model_find_tensor(m, name);
    if (!t) return tl_fail(TL_ERR_FORMAT, "%s: missing tensor '%s'", tl_model_path(m), name);
    if (t->ne[0] != cols)
        return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' has %lld columns but %s is %lld",
                       tl_model_path(m), name, (long long)t->ne[0], cols_why, (long long)cols);
    if (rows >= 0 && t->ne[1] != rows)
        return tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' has %lld rows but %s is %lld",
                       tl_model_path(m), name, (long long)t->ne[1], rows_why, (long long)rows);
    return TL_OK;
}

static bool positive_finite(double x) {
    return x > 0 && isfinite(x);
}

static const char *real_str(char *buf, size_t cap, double x) {
    if (isnan(x)) return "NaN";
    snprintf(buf, cap, "%g", x);
    return buf;
}

tl_status tl_model_llama_check(const tl_model *m, const tl_llama_config *c) {
    const char *path = tl_model_path(m), *a = tl_model_arch(m);
    char k1[160], k2[160], num[64];
    if (!positive_finite(c->eps))
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.attention.layer_norm_rms_epsilon is %s; it must be a positive "
                       "finite number",
                       path, a, real_str(num, sizeof num, c->eps));
    if (!positive_finite(c->rope_base))
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.rope.freq_base is %s; it must be a positive finite number", path, a,
                       real_str(num, sizeof num, c->rope_base));
    if (c->n_embd <= 0 || c->n_ff <= 0 || c->n_layer <= 0 || c->n_ctx <= 0)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.embedding_length %lld, feed_forward_length %lld, block_count %lld "
                       "and context_length %lld must all be positive",
                       path, a, (long long)c->n_embd, (long long)c->n_ff, (long long)c->n_layer,
                       (long long)c->n_ctx);
    if (c->rope_dim <= 0 || c->rope_dim % 2 != 0 || c->rope_dim > c->head_dim)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.rope.dimension_count is %lld; it must be even and in 2 .. the head "
                       "size %lld (embedding_length %lld / head_count %lld)",
                       path, a, (long long)c->rope_dim, (long long)c->head_dim,
                       (long long)c->n_embd, (long long)c->n_head);
    if (tl_model_n_tensors(m) == 0) return TL_OK; /* a vocabulary-only file: nothing to compare */

    int64_t n_layers;
    tl_status st = tl_model_count_layers(m, &n_layers);
    if (st) return st;
    if (n_layers != c->n_layer)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: %s.block_count is %lld but the file has tensors for %lld layers "
                       "(blk.0 .. blk.%lld)",
                       path, a, (long long)c->n_layer, (long long)n_layers,
                       (long long)n_layers - 1);
    snprintf(k1, sizeof k1, "%s.embedding_length", a);
    snprintf(k2, sizeof k2, "the vocabulary size (%s.vocab_size or tokenizer.ggml.tokens)", a);
    if ((st = check_shape(m, "token_embd.weight", c->n_embd, k1, c->n_vocab, k2))) return st;
    if (!c->tied_output && (st = check_shape(m, "output.weight", c->n_embd, k1, c->n_vocab, k2)))
        return st;
    if ((st = check_shape(m, "output_norm.weight", c->n_embd, k1, -1, NULL))) return st;
    int64_t q_rows = c->n_head * c->head_dim, kv_rows = c->n_head_kv * c->head_dim;
    char kq[200], kkv[200], kff[160];
    snprintf(kq, sizeof kq, "%s.attention.head_count x head size", a);
    snprintf(kkv, sizeof kkv, "%s.attention.head_count_kv x head size", a);
    snprintf(kff, sizeof kff, "%s.feed_forward_length", a);
    static const char *const norms[] = {"attn_norm", "ffn_norm"};
    for (int64_t l = 0; l < c->n_layer; l++) {
        char name[96];
#define NAME(w) (snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)l, (w)), name)
        for (int i = 0; i < 2; i++)
            if ((st = check_shape(m, NAME(norms[i]), c->n_embd, k1, -1, NULL))) return st;
        if ((st = check_shape(m, NAME("attn_q"), c->n_embd, k1, q_rows, kq)) ||
            (st = check_shape(m, NAME("attn_k"), c->n_embd, k1, kv_rows, kkv)) ||
            (st = check_shape(m, NAME("attn_v"), c->n_embd, k1, kv_rows, kkv)) ||
            (st = check_shape(m, NAME("attn_output"), q_rows, kq, c->n_embd, k1)) ||
            (st = check_shape(m, NAME("ffn_gate"), c->n_embd, k1, c->n_ff, kff)) ||
            (st = check_shape(m, NAME("ffn_up"), c->n_embd, k1, c->n_ff, kff)) ||
            (st = check_shape(m, NAME("ffn_down"), c->n_ff, kff, c->n_embd, k1)))
            return st;
#undef NAME
    }
    return TL_OK;
}
