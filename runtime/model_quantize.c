/* runtime/model_quantize.c -- convert a GGUF model's weights to another type, choosing
** per-tensor types the way llama.cpp's llama-quantize does for single-type targets. */
#include "runtime/model.h"

#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool is_k_quant(tl_dtype t) {
    return t == TL_DTYPE_Q2_K || t == TL_DTYPE_Q3_K || t == TL_DTYPE_Q4_K || t == TL_DTYPE_Q5_K ||
           t == TL_DTYPE_Q6_K;
}

/* Effective dims as ggml_n_dims counts them: trailing 1s do not count. */
static int effective_dims(const tl_tensor *t) {
    int n = 1;
    for (int d = 1; d < TL_MAX_DIMS; d++)
        if (t->ne[d] != 1) n = d + 1;
    return n;
}

tl_status tl_quantize_ftype(tl_dtype type, uint32_t *ftype) {
    switch (type) {
    case TL_DTYPE_F32:
        *ftype = 0;
        return TL_OK;
    case TL_DTYPE_F16:
        *ftype = 1;
        return TL_OK;
    case TL_DTYPE_Q4_0:
        *ftype = 2;
        return TL_OK;
    case TL_DTYPE_Q4_1:
        *ftype = 3;
        return TL_OK;
    case TL_DTYPE_Q8_0:
        *ftype = 7;
        return TL_OK;
    case TL_DTYPE_Q5_0:
        *ftype = 8;
        return TL_OK;
    case TL_DTYPE_Q5_1:
        *ftype = 9;
        return TL_OK;
    case TL_DTYPE_Q2_K:
        *ftype = 10;
        return TL_OK;
    case TL_DTYPE_Q3_K:
        *ftype = 12;
        return TL_OK; /* llama-quantize's "Q3_K" = Q3_K_M */
    case TL_DTYPE_Q4_K:
        *ftype = 15;
        return TL_OK; /* "Q4_K" = Q4_K_M */
    case TL_DTYPE_Q5_K:
        *ftype = 17;
        return TL_OK; /* "Q5_K" = Q5_K_M */
    case TL_DTYPE_Q6_K:
        *ftype = 18;
        return TL_OK;
    case TL_DTYPE_BF16:
        *ftype = 32;
        return TL_OK;
    default:
        return tl_fail(TL_ERR_UNSUPPORTED, "cannot quantize a model to %s", tl_dtype_name(type));
    }
}

tl_dtype tl_quantize_tensor_type(const tl_tensor *t, const char *name, tl_dtype target, bool pure,
                                 bool tied_output) {
    /* Only matrices named *weight are converted; norms and 1-D tensors stay as they are. */
    if (!ends_with(name, "weight") || effective_dims(t) < 2 || strstr(name, "_norm.weight") ||
        strstr(name, "ffn_gate_inp.weight") || strstr(name, "pos_embd") ||
        strstr(name, "token_types"))
        return t->dtype;
    tl_dtype nt = target;
    const tl_type_traits *tr = tl_dtype_traits(target);
    bool is_output = strcmp(name, "output.weight") == 0 ||
                     (tied_output && strcmp(name, "token_embd.weight") == 0);
    if (!pure && tr->quantized && is_output) {
        if (t->ne[0] % 256 != 0)
            nt = TL_DTYPE_Q8_0;
        else if (nt != TL_DTYPE_Q8_0)
            nt = TL_DTYPE_Q6_K;
    }
    /* Rows that do not split into whole blocks: llama.cpp's fallbacks. */
    if (is_k_quant(nt) && t->ne[0] % 256 != 0) {
        switch (nt) {
        case TL_DTYPE_Q2_K:
        case TL_DTYPE_Q3_K:
            nt = TL_DTYPE_Q4_0;
            break;
        case TL_DTYPE_Q4_K:
            nt = TL_DTYPE_Q5_0;
            break;
        case TL_DTYPE_Q5_K:
            nt = TL_DTYPE_Q5_1;
            break;
        default:
            nt = TL_DTYPE_Q8_0;
            break;
        }
    }
    if (t->ne[0] % tl_dtype_traits(nt)->blck != 0) nt = TL_DTYPE_F16;
    return nt;
}

/* llama.cpp's loader keeps tensors in a map ordered by layer number ("blk.N.", others first
** as -1), then by name; llama-quantize writes them in that order. */
static int64_t layer_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0) return -1;
    char *end;
    long long k = strtoll(name + 4, &end, 10);
    return (end != name + 4 && *end == '.') ? k : -1;
}

static int cmp_llama_order(const void *a, const void *b) {
    const tl_tensor *x = *(tl_tensor *const *)a, *y = *(tl_tensor *const *)b;
    int64_t lx = layer_of(x->name), ly = layer_of(y->name);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A new contiguous tensor of type dt with t's values, converted row by row through f32. */
static tl_status convert(const tl_tensor *t, tl_dtype dt, tl_tensor **out) {
    const tl_type_traits *src = tl_dtype_traits(t->dtype), *dst = tl_dtype_traits(dt);
    if (!src->to_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "no %s to f32 conversion available",
                       tl_dtype_name(t->dtype));
    if (!dst->from_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "no quantizer for %s available", tl_dtype_name(dt));
    if (t->nb[0] != src->size) return tl_fail(TL_ERR_SHAPE, "rows must be contiguous");
    tl_status st = tl_tensor_new(dt, t->n_dims, t->ne, out);
    if (st) return st;
    int64_t n = t->ne[0];
    float *row = malloc((size_t)(n ? n : 1) * sizeof *row);
    if (!row) {
        tl_tensor_unref(*out);
        *out = NULL;
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    const uint8_t *sb = tl_tensor_data(t);
    uint8_t *db = tl_tensor_data(*out);
    for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < t->ne[1]; i1++) {
                src->to_f32(sb + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3], row, n);
                dst->from_f32(row,
                              db + i1 * (*out)->nb[1] + i2 * (*out)->nb[2] + i3 * (*out)->nb[3], n);
            }
    free(row);
    return TL_OK;
}

tl_status tl_model_quantize(const char *in_path, const char *out_path, tl_dtype target,
                            const tl_quantize_opts *opts, tl_quantize_report *report) {
    uint32_t ftype;
    tl_status st = tl_quantize_ftype(target, &ftype);
    if (st) return st;
    tl_model *m;
    if ((st = tl_model_load(in_path, &m))) return st;
    tl_gguf_writer *w = NULL;
    tl_tensor **order = NULL;
    if ((st = tl_gguf_writer_new(&w))) goto done;
    const tl_gguf *g = tl_model_gguf(m);
    for (int64_t i = 0; i < tl_gguf_n_kv(g) && !st; i++)
        st = tl_gguf_writer_copy_kv(w, tl_gguf_kv_at(g, i));
    if (!st) st = tl_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (!st) st = tl_gguf_writer_set_u32(w, "general.file_type", ftype);
    bool tied = tl_model_find_tensor(m, "output.weight") == NULL;
    if (report) memset(report, 0, sizeof *report);
    int64_t n = tl_model_n_tensors(m);
    order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order && !st) st = tl_fail(TL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n && !st; i++)
        order[i] = tl_model_tensor_at(m, i);
    if (!st) qsort(order, (size_t)n, sizeof *order, cmp_llama_order);
    for (int64_t i = 0; i < n && !st; i++) {
        tl_tensor *t = order[i];
        tl_dtype nt = tl_quantize_tensor_type(t, t->name, target, opts && opts->pure, tied);
        if (report) report->bytes_in += tl_tensor_nbytes(t);
        if (nt == t->dtype) {
            st = tl_gguf_writer_add_tensor(w, t->name, t);
            if (report) report->bytes_out += tl_tensor_nbytes(t);
            continue;
        }
        if (tl_dtype_traits(t->dtype)->quantized && !(opts && opts->allow_requantize)) {
            st = tl_fail(TL_ERR_ARG,
                         "%s: tensor '%s' is already %s; pass --allow-requantize to convert it "
                         "to %s",
                         in_path, t->name, tl_dtype_name(t->dtype), tl_dtype_name(nt));
            break;
        }
        tl_tensor *q;
        st = convert(t, nt, &q);
        if (st) {
            tl_error_prefix("%s: tensor '%s' (%s -> %s)", in_path, t->name, tl_dtype_name(t->dtype),
                            tl_dtype_name(nt));
            break;
        }
        st = tl_gguf_writer_add_tensor(w, t->name, q);
        if (report) {
            report->bytes_out += tl_tensor_nbytes(q);
            report->n_converted++;
        }
        tl_tensor_unref(q);
    }
    if (!st) st = tl_gguf_writer_save(w, out_path);
done:
    free(order);
    tl_gguf_writer_free(w);
    tl_model_unref(m);
    return st;
}
