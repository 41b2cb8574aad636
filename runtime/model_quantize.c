/* runtime/model_quantize.c -- convert a GGUF model's weights to another type, choosing
** per-tensor types the way llama.cpp's llama-quantize does for single-type targets. */
#include "runtime/model.h"

#include "runtime/quant.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* One converted tensor, made by the writer when it reaches it (so only one converted tensor
** is in memory at a time). */
typedef struct job {
    tl_tensor *src;
    tl_dtype type;
    const char *in_path;
} job;

static tl_status produce(void *ctx, tl_tensor **out) {
    const job *j = ctx;
    tl_status st = tl_tensor_quantize(j->src, j->type, out); /* quantize_row_*_ref */
    if (st) {
        tl_error_prefix("%s: tensor '%s' (%s -> %s)", j->in_path, j->src->name,
                        tl_dtype_name(j->src->dtype), tl_dtype_name(j->type));
        return st;
    }
    /* The source pages will not be needed again: let the kernel drop them now. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)tl_tensor_data(j->src), hi = lo + tl_tensor_nbytes(j->src);
    lo = (lo + page - 1) & ~(uintptr_t)(page - 1);
    if (hi > lo) madvise((void *)lo, (hi - lo) & ~(uintptr_t)(page - 1), MADV_DONTNEED);
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
    job *jobs = NULL;
    if ((st = tl_gguf_writer_new(&w))) goto done;
    const tl_gguf *g = tl_model_gguf(m);
    for (int64_t i = 0; i < tl_gguf_n_kv(g) && !st; i++)
        st = tl_gguf_writer_copy_kv(w, tl_gguf_kv_at(g, i));
    /* llama.cpp's gguf_set_val removes an existing key and appends it: do the same. */
    tl_gguf_writer_remove(w, "general.quantization_version");
    tl_gguf_writer_remove(w, "general.file_type");
    if (!st) st = tl_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (!st) st = tl_gguf_writer_set_u32(w, "general.file_type", ftype);
    bool tied = tl_model_find_tensor(m, "output.weight") == NULL;
    if (report) memset(report, 0, sizeof *report);
    int64_t n = tl_model_n_tensors(m);
    order = malloc((size_t)(n ? n : 1) * sizeof *order);
    jobs = malloc((size_t)(n ? n : 1) * sizeof *jobs);
    if ((!order || !jobs) && !st) st = tl_fail(TL_ERR_NOMEM, "out of memory");
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
        /* Fail now, not halfway through writing, when a type has no quantizer. */
        if (!tl_dtype_traits(nt)->from_f32 || !tl_dtype_traits(t->dtype)->to_f32) {
            st = tl_fail(TL_ERR_UNSUPPORTED, "%s: tensor '%s': no conversion %s -> %s available",
                         in_path, t->name, tl_dtype_name(t->dtype), tl_dtype_name(nt));
            break;
        }
        jobs[i] = (job){.src = t, .type = nt, .in_path = in_path};
        st = tl_gguf_writer_add_tensor_lazy(w, t->name, nt, t->n_dims, t->ne, produce, &jobs[i]);
        if (report) {
            report->bytes_out += tl_dtype_row_size(nt, t->ne[0]) * (size_t)tl_tensor_nrows(t);
            report->n_converted++;
        }
    }
    if (!st) st = tl_gguf_writer_save(w, out_path);
done:
    free(order);
    free(jobs);
    tl_gguf_writer_free(w);
    tl_model_unref(m);
    return st;
}
