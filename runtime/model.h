/* runtime/model.h -- a loaded GGUF model: the mapped file and its tensors as views.
**
** tl_model_load() opens and validates a GGUF file (runtime/gguf.h) and makes
** one tl_tensor per GGUF tensor.  The tensors are non-owned windows into the
** mapping: weights are never copied or expanded (quantized ones stay
** quantized), and pages are only read when used.  All tensors share one
** tl_storage whose release callback drops a reference on the tl_gguf, so the
** mapping lives as long as the model or any tensor taken from it.
**
** Tensor dims are ggml order (ne[0] contiguous), exactly as in the file; .tl
** shows them reversed (token_embd ne {2048, 32000} is [32000, 2048]).
**
** tl_model_llama_config() reads the llama hyper-parameters with the defaults
** of docs/formats.md (rope base 10000 when absent, ...). */
#ifndef TL_RUNTIME_MODEL_H
#define TL_RUNTIME_MODEL_H

#include "runtime/gguf.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct tl_model tl_model;

/* Hyper-parameters of a llama-architecture model. */
typedef struct tl_llama_config {
    int64_t n_layer;   /* {arch}.block_count                                   */
    int64_t n_embd;    /* {arch}.embedding_length                              */
    int64_t n_ff;      /* {arch}.feed_forward_length                           */
    int64_t n_head;    /* {arch}.attention.head_count                          */
    int64_t n_head_kv; /* {arch}.attention.head_count_kv (default n_head)      */
    int64_t head_dim;  /* n_embd / n_head                                      */
    int64_t n_vocab;   /* {arch}.vocab_size, else the token list, else token_embd */
    int64_t n_ctx;     /* {arch}.context_length                                */
    int64_t rope_dim;  /* {arch}.rope.dimension_count (default head_dim)       */
    double eps;        /* {arch}.attention.layer_norm_rms_epsilon (a float32)  */
    double rope_base;  /* {arch}.rope.freq_base (default 10000)                */
    bool tied_output;  /* no output.weight: the output reuses token_embd       */
} tl_llama_config;

/* Maps, validates and wraps a GGUF file.  *out is NULL on failure. */
tl_status tl_model_load(const char *path, tl_model **out);
/* The same with explicit TL_GGUF_* open flags (tl_model_load picks them from
** TL_HUGE_PAGES; a reader that streams through the file once passes 0), or
** TL_MODEL_SHADOWS: a plain file mapping whose quantized 2-D weights get
** shadows when a linear first reads them (runtime/shadow.h), if the file has
** Q4_0 matrices and the CPU the Q4_0x16 kernels; else the model loads without
** (tl_model_has_shadows says which). */
#define TL_MODEL_SHADOWS (1u << 8)
tl_status tl_model_load_ex(const char *path, unsigned flags, tl_model **out);
bool tl_model_has_shadows(const tl_model *m);
tl_model *tl_model_ref(tl_model *m);
void tl_model_unref(tl_model *m); /* accepts NULL; tensors handed out stay valid */

const tl_gguf *tl_model_gguf(const tl_model *m);
const char *tl_model_path(const tl_model *m);
/* general.architecture, or "llama" when absent. */
const char *tl_model_arch(const tl_model *m);

int64_t tl_model_n_tensors(const tl_model *m);
/* The i-th tensor in file order (borrowed; take tl_tensor_ref to keep it). */
tl_tensor *tl_model_tensor_at(const tl_model *m, int64_t i);
/* The tensor named name (borrowed), or NULL. */
tl_tensor *tl_model_find_tensor(const tl_model *m, const char *name);
/* The same as a new reference; fails with TL_ERR_RANGE naming the model and tensor. */
tl_status tl_model_tensor(const tl_model *m, const char *name, tl_tensor **out);

/* Reads the llama hyper-parameters; fails naming the missing or bad key, and
** (tl_model_llama_check) when the metadata disagrees with the tensors. */
tl_status tl_model_llama_config(const tl_model *m, tl_llama_config *out);

/* The number of layers: one more than the largest N in "blk.N.*" tensor names;
** an N not below the number of tensors (blk.50000000.*, an overflowing N) is
** TL_ERR_FORMAT naming the tensor (runtime/model_check.c). */
tl_status tl_model_count_layers(const tl_model *m, int64_t *n_layers);

/* Checks a llama config against the file's tensors: eps and rope base positive
** and finite, rope dims even and <= the head size, block_count equal to the
** layers present, token_embd/output/norm and every layer's weights shaped by
** embedding_length, head counts, feed_forward_length and the vocabulary size.
** Errors name the key (or tensor) and both values. */
tl_status tl_model_llama_check(const tl_model *m, const tl_llama_config *c);

/* ---- conversion (tl quantize) ------------------------------------------------ */
typedef struct tl_quantize_opts {
    bool pure;             /* every matrix gets the target type (no output.weight rule) */
    bool allow_requantize; /* convert tensors that are already quantized               */
    /* Called as each tensor is written (index 1..count, in file order), before a
    ** conversion starts; NULL: quiet. */
    void (*progress)(void *user, int64_t index, int64_t count, const char *name, tl_dtype from,
                     tl_dtype to);
    void *progress_user;
} tl_quantize_opts;

typedef struct tl_quantize_report {
    size_t bytes_in, bytes_out; /* tensor data before and after */
    int64_t n_converted;        /* tensors whose type changed   */
} tl_quantize_report;

/* llama.cpp's file types (llama_ftype, stored as general.file_type) that tl quantize makes. */
typedef enum tl_ftype {
    TL_FTYPE_F32 = 0,
    TL_FTYPE_F16 = 1,
    TL_FTYPE_Q4_0 = 2,
    TL_FTYPE_Q4_1 = 3,
    TL_FTYPE_Q8_0 = 7,
    TL_FTYPE_Q5_0 = 8,
    TL_FTYPE_Q5_1 = 9,
    TL_FTYPE_Q2_K = 10,
    TL_FTYPE_Q3_K_S = 11,
    TL_FTYPE_Q3_K_M = 12,
    TL_FTYPE_Q3_K_L = 13,
    TL_FTYPE_Q4_K_S = 14,
    TL_FTYPE_Q4_K_M = 15,
    TL_FTYPE_Q5_K_S = 16,
    TL_FTYPE_Q5_K_M = 17,
    TL_FTYPE_Q6_K = 18,
    TL_FTYPE_BF16 = 32,
} tl_ftype;

/* "q4_0", "q4_k_m", "Q6_K", ... (any case); q3_k/q4_k/q5_k mean the _m mixes, as in llama-quantize.
 */
bool tl_ftype_from_name(const char *name, tl_ftype *out);
const char *tl_ftype_name(tl_ftype f);
/* The type most tensors get (q4_K for q4_k_m, ...); TL_DTYPE_COUNT for an unknown ftype. */
tl_dtype tl_ftype_default_type(tl_ftype f);

/* The per-tensor type choice of llama-quantize, with the counters its mixes keep. */
typedef struct tl_quantize_ctx {
    tl_ftype ftype;
    bool pure;              /* no mix and no output rule: every matrix gets the default type */
    bool has_output;        /* false: token_embd.weight plays output.weight's role           */
    int64_t n_layer, n_gqa; /* block_count, n_head / n_head_kv                               */
    int64_t n_attention_wv; /* number of attn_v tensors                                      */
    int64_t i_attention_wv, i_ffn_down; /* advanced as tensors are typed                        */
} tl_quantize_ctx;
void tl_quantize_ctx_init(tl_quantize_ctx *q, tl_ftype ftype, bool pure, bool has_output,
                          int64_t n_layer, int64_t n_gqa, int64_t n_attention_wv);

/* The type tensor t gets; call for the tensors in write order (the mixes count attn_v and
** ffn_down tensors).  Matrices named *weight (not norms, ...) get the ftype's default type,
** changed by the mix unless pure: output.weight q6_K (q8_0 when rows are not multiples of the
** block), attn_v / ffn_down / attn_output per llama.cpp's k-quant rules.  Rows that do not split
** into whole blocks fall back (q2_K/q3_K -> q4_0, q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0,
** then f16).  Everything else keeps its type. */
tl_dtype tl_quantize_tensor_type(tl_quantize_ctx *q, const tl_tensor *t, const char *name);

/* Reads in_path, converts its tensors (llama-quantize's reference quantizers), copies the
** metadata, sets general.quantization_version = 2 and general.file_type, and writes out_path
** (atomically), tensors in llama.cpp's order, one converted tensor in memory at a time.
** report may be NULL. */
tl_status tl_model_quantize(const char *in_path, const char *out_path, tl_ftype ftype,
                            const tl_quantize_opts *opts, tl_quantize_report *report);

#endif
