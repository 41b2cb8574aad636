/* runtime/model_quantize.c -- convert a GGUF model's weights to another type, choosing
** per-tensor types the way llama.cpp's llama-quantize does (its file types, k-quant mixes,
** output rule, fallbacks and tensor order). */
#include "runtime/model.h"

#include "runtime/quant.h"
#include "runtime/threadpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Effective dims as ggml_n_dims counts them: trailing 1s do not count. */
static int effective_dims(const tl_tensor *t) {
    int n = 1;
    for (int d = 1; d < TL_MAX_DIMS; d++)
        if (t->ne[d] != 1) n = d + 1;
    return n;
}

static const struct {
    const char *name;
    tl_ftype ftype;
    tl_dtype type;
} ftypes[] = {
    {"f32", TL_FTYPE_F32, TL_DTYPE_F32},
    {"f16", TL_FTYPE_F16, TL_DTYPE_F16},
    {"bf16", TL_FTYPE_BF16, TL_DTYPE_BF16},
    {"q4_0", TL_FTYPE_Q4_0, TL_DTYPE_Q4_0},
    {"q4_1", TL_FTYPE_Q4_1, TL_DTYPE_Q4_1},
    {"q5_0", TL_FTYPE_Q5_0, TL_DTYPE_Q5_0},
    {"q5_1", TL_FTYPE_Q5_1, TL_DTYPE_Q5_1},
    {"q8_0", TL_FTYPE_Q8_0, TL_DTYPE_Q8_0},
    {"q2_k", TL_FTYPE_Q2_K, TL_DTYPE_Q2_K},
    {"q3_k_s", TL_FTYPE_Q3_K_S, TL_DTYPE_Q3_K},
    {"q3_k_m", TL_FTYPE_Q3_K_M, TL_DTYPE_Q3_K},
    {"q3_k_l", TL_FTYPE_Q3_K_L, TL_DTYPE_Q3_K},
    {"q4_k_s", TL_FTYPE_Q4_K_S, TL_DTYPE_Q4_K},
    {"q4_k_m", TL_FTYPE_Q4_K_M, TL_DTYPE_Q4_K},
    {"q5_k_s", TL_FTYPE_Q5_K_S, TL_DTYPE_Q5_K},
    {"q5_k_m", TL_FTYPE_Q5_K_M, TL_DTYPE_Q5_K},
    {"q6_k", TL_FTYPE_Q6_K, TL_DTYPE_Q6_K},
    /* llama-quantize's aliases */
    {"q3_k", TL_FTYPE_Q3_K_M, TL_DTYPE_Q3_K},
    {"q4_k", TL_FTYPE_Q4_K_M, TL_DTYPE_Q4_K},
    {"q5_k", TL_FTYPE_Q5_K_M, TL_DTYPE_Q5_K},
};

bool tl_ftype_from_name(const char *name, tl_ftype *out) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (strcasecmp(ftypes[i].name, name) == 0) {
            *out = ftypes[i].ftype;
            return true;
        }
    return false;
}

const char *tl_ftype_name(tl_ftype f) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (ftypes[i].ftype == f) return ftypes[i].name;
    return "?";
}

tl_dtype tl_ftype_default_type(tl_ftype f) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (ftypes[i].ftype == f) return ftypes[i].type;
    return TL_DTYPE_COUNT;
}

void tl_quantize_ctx_init(tl_quantize_ctx *q, tl_ftype ftype, bool pure, bool has_output,
                          int64_t n_layer, int64_t n_gqa, int64_t n_attention_wv) {
    *q = (tl_quantize_ctx){.ftype = ftype,
                           .pure = pure,
                           .has_output = has_output,
                           .n_layer = n_layer,
                           .n_gqa = n_gqa,
                           .n_attention_wv = n_attention_wv};
}

/* llama.cpp gives some layers more bits: the first and last eighth and every third between. */
static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* The k-quant mixes' per-tensor choices (llama_tensor_get_type for a llama-like model without
** experts); t is default type of the ftype. */
static tl_dtype mix_type(tl_quantize_ctx *q, const tl_tensor *x, const char *name, tl_dtype t) {
    tl_ftype f = q->ftype;
    if (strcmp(name, "output.weight") == 0 ||
        (!q->has_output && strcmp(name, "token_embd.weight") == 0)) {
        if (x->ne[0] % tl_dtype_traits(t)->blck != 0) return TL_DTYPE_Q8_0;
        return t == TL_DTYPE_Q8_0 ? t : TL_DTYPE_Q6_K;
    }
    if (strcmp(name, "token_embd.weight") == 0) return t;
    if (strstr(name, "attn_v.weight")) {
        if (f == TL_FTYPE_Q2_K)
            t = q->n_gqa >= 4 ? TL_DTYPE_Q4_K : TL_DTYPE_Q3_K;
        else if (f == TL_FTYPE_Q3_K_M)
            t = q->i_attention_wv < 2 ? TL_DTYPE_Q5_K : TL_DTYPE_Q4_K;
        else if (f == TL_FTYPE_Q3_K_L)
            t = TL_DTYPE_Q5_K;
        else if ((f == TL_FTYPE_Q4_K_M || f == TL_FTYPE_Q5_K_M) &&
                 use_more_bits(q->i_attention_wv, q->n_attention_wv))
            t = TL_DTYPE_Q6_K;
        else if (f == TL_FTYPE_Q4_K_S && q->i_attention_wv < 4)
            t = TL_DTYPE_Q5_K;
        q->i_attention_wv++;
        return t;
    }
    if (strstr(name, "attn_k.weight") || strstr(name, "attn_q.weight")) return t;
    if (strstr(name, "ffn_down")) {
        int64_t i = q->i_ffn_down, n = q->n_layer;
        if (f == TL_FTYPE_Q2_K)
            t = TL_DTYPE_Q3_K;
        else if (f == TL_FTYPE_Q3_K_M)
            t = i < n / 16 ? TL_DTYPE_Q5_K : TL_DTYPE_Q4_K;
        else if (f == TL_FTYPE_Q3_K_L)
            t = TL_DTYPE_Q5_K;
        else if ((f == TL_FTYPE_Q4_K_M || f == TL_FTYPE_Q5_K_M) && use_more_bits(i, n))
            t = TL_DTYPE_Q6_K;
        else if (f == TL_FTYPE_Q4_K_S && i < n / 8)
            t = TL_DTYPE_Q5_K;
        q->i_ffn_down++;
        return t;
    }
    if (strstr(name, "attn_output.weight")) {
        if (f == TL_FTYPE_Q2_K) return TL_DTYPE_Q3_K;
        if (f == TL_FTYPE_Q3_K_M) return TL_DTYPE_Q4_K;
        if (f == TL_FTYPE_Q3_K_L) return TL_DTYPE_Q5_K;
        return t;
    }
    if (strstr(name, "attn_qkv.weight")) {
        if (f == TL_FTYPE_Q3_K_M || f == TL_FTYPE_Q3_K_L) return TL_DTYPE_Q4_K;
        if (f == TL_FTYPE_Q4_K_M) return TL_DTYPE_Q5_K;
        if (f == TL_FTYPE_Q5_K_M) return TL_DTYPE_Q6_K;
    }
    return t;
}

tl_dtype tl_quantize_tensor_type(tl_quantize_ctx *q, const tl_tensor *t, const char *name) {
    /* Only matrices named *weight are converted; norms and 1-D tensors stay as they are. */
    if (!ends_with(name, "weight") || effective_dims(t) < 2 || strstr(name, "_norm.weight") ||
        strstr(name, "ffn_gate_inp.weight") || strcmp(name, "position_embd.weight") == 0 ||
        strcmp(name, "token_types.weight") == 0 || strstr(name, "ssm_conv1d.weight") ||
        strstr(name, "attn_rel_b.weight"))
        return t->dtype;
    tl_dtype nt = tl_ftype_default_type(q->ftype);
    if (!q->pure && tl_dtype_traits(nt)->quantized) nt = mix_type(q, t, name, nt);
    /* Rows that do not split into whole blocks: llama.cpp's fallbacks, then f16. */
    if (t->ne[0] % tl_dtype_traits(nt)->blck != 0) {
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
        case TL_DTYPE_Q6_K:
            nt = TL_DTYPE_Q8_0;
            break;
        default:
            break;
        }
        if (t->ne[0] % tl_dtype_traits(nt)->blck != 0) nt = TL_DTYPE_F16;
    }
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
    const tl_quantize_opts *opts; /* for the progress callback */
    int64_t index, count;
} job;

/* Rows [begin, end) of one conversion, on a pool thread: to f32, then llama-quantize's
** quantize_row_*_ref.  Rows are independent, so the bytes do not depend on the thread count. */
typedef struct convert_ctx {
    const tl_tensor *src;
    tl_tensor *dst;
    int failed; /* set (atomically) when a row range failed */
} convert_ctx;

static void convert_rows(void *arg, int64_t begin, int64_t end) {
    convert_ctx *c = arg;
    const tl_tensor *s = c->src;
    const tl_type_traits *tr = tl_dtype_traits(s->dtype);
    int64_t n = s->ne[0];
    size_t out_row = tl_dtype_row_size(c->dst->dtype, n);
    float *buf = malloc((size_t)(n ? n : 1) * sizeof *buf * 16);
    if (!buf) {
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    /* 16 rows at a time keeps each quantizer call busy without a large buffer. */
    for (int64_t r = begin; r < end; r += 16) {
        int64_t k = end - r < 16 ? end - r : 16;
        for (int64_t i = 0; i < k; i++)
            tr->to_f32((const char *)tl_tensor_data(s) + (size_t)(r + i) * s->nb[1],
                       buf + (size_t)(i * n), n);
        if (tl_quantize_rows(c->dst->dtype, buf,
                             (char *)tl_tensor_data(c->dst) + (size_t)r * out_row, k, n) != TL_OK)
            __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
    }
    free(buf);
}

static tl_status produce(void *ctx, tl_tensor **out) {
    const job *j = ctx;
    const tl_tensor *s = j->src;
    tl_status st;
    if (j->opts && j->opts->progress)
        j->opts->progress(j->opts->progress_user, j->index, j->count, s->name, s->dtype, j->type);
    if (tl_tensor_is_contiguous(s) && tl_dtype_traits(s->dtype)->to_f32) {
        /* The model's tensors: contiguous rows, converted in parallel over the thread pool. */
        st = tl_tensor_new(j->type, s->n_dims, s->ne, out);
        if (!st) {
            convert_ctx c = {.src = s, .dst = *out};
            tl_parallel_for(tl_tensor_nrows(s), 16, convert_rows, &c);
            if (c.failed) {
                tl_tensor_unref(*out);
                *out = NULL;
                st = tl_fail(TL_ERR_UNSUPPORTED,
                             "conversion failed (no quantizer, or out of memory)");
            }
        }
    } else {
        st = tl_tensor_quantize(s, j->type, out); /* any layout, one thread */
    }
    if (st) {
        tl_error_prefix("%s: tensor '%s' (%s -> %s)", j->in_path, s->name, tl_dtype_name(s->dtype),
                        tl_dtype_name(j->type));
        return st;
    }
    /* The source pages will not be needed again: let the kernel drop them now. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)tl_tensor_data(s), hi = lo + tl_tensor_nbytes(s);
    lo = (lo + page - 1) & ~(uintptr_t)(page - 1);
    if (hi > lo) madvise((void *)lo, (hi - lo) & ~(uintptr_t)(page - 1), MADV_DONTNEED);
    return TL_OK;
}

/* The counts the mixes need: layers (block_count, else the blk.N tensors), n_head/n_head_kv and
** the number of attn_v tensors. */
static void model_counts(const tl_model *m, int64_t *n_layer, int64_t *n_gqa, int64_t *n_attn_v) {
    tl_llama_config c;
    *n_layer = 0;
    *n_gqa = 1;
    if (tl_model_llama_config(m, &c) == TL_OK) {
        *n_layer = c.n_layer;
        *n_gqa = c.n_head / c.n_head_kv;
    }
    tl_clear_error();
    *n_attn_v = 0;
    for (int64_t i = 0; i < tl_model_n_tensors(m); i++) {
        const char *nm = tl_model_tensor_at(m, i)->name;
        int64_t l = layer_of(nm);
        if (l + 1 > *n_layer && !(c.n_layer > 0)) *n_layer = l + 1;
        if (strstr(nm, "attn_v.weight") || strstr(nm, "attn_qkv.weight")) ++*n_attn_v;
    }
}

tl_status tl_model_quantize(const char *in_path, const char *out_path, tl_ftype ftype,
                            const tl_quantize_opts *opts, tl_quantize_report *report) {
    tl_status st;
    if (tl_ftype_default_type(ftype) == TL_DTYPE_COUNT)
        return tl_fail(TL_ERR_UNSUPPORTED, "cannot quantize to llama file type %d", (int)ftype);
    struct stat si, so;
    if (stat(in_path, &si) == 0 && stat(out_path, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino)
        return tl_fail(TL_ERR_ARG, "%s: the output is the input file; give another path", out_path);
    tl_model *m;
    if ((st = tl_model_load_ex(in_path, 0, &m))) return st; /* read once: no huge pages */
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
    if (!st) st = tl_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype);
    tl_quantize_ctx qc;
    int64_t n_layer, n_gqa, n_attn_v;
    model_counts(m, &n_layer, &n_gqa, &n_attn_v);
    tl_quantize_ctx_init(&qc, ftype, opts && opts->pure, tl_model_find_tensor(m, "output.weight"),
                         n_layer, n_gqa, n_attn_v);
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
        tl_dtype nt = tl_quantize_tensor_type(&qc, t, t->name);
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
        jobs[i] = (job){
            .src = t, .type = nt, .in_path = in_path, .opts = opts, .index = i + 1, .count = n};
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
