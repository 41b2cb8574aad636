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
** of ../shared/spec/LLAMA_NUMERICS.md (rope base 10000 when absent, ...). */
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

/* Reads the llama hyper-parameters; fails naming the missing or bad key. */
tl_status tl_model_llama_config(const tl_model *m, tl_llama_config *out);

/* ---- conversion (tl quantize) ------------------------------------------------ */
typedef struct tl_quantize_opts {
    bool pure;             /* every matrix gets the target type (no output.weight rule) */
    bool allow_requantize; /* convert tensors that are already quantized               */
} tl_quantize_opts;

typedef struct tl_quantize_report {
    size_t bytes_in, bytes_out; /* tensor data before and after */
    int64_t n_converted;        /* tensors whose type changed   */
} tl_quantize_report;

/* llama.cpp's general.file_type for a target type (TL_ERR_UNSUPPORTED if none). */
tl_status tl_quantize_ftype(tl_dtype type, uint32_t *ftype);

/* The type llama-quantize gives tensor t for target type `target`: matrices named *weight
** (not norms) get target; without pure, output.weight (token_embd.weight when tied) gets
** q6_K (q8_0 when rows are not multiples of 256); rows that do not split into whole blocks
** fall back (q2_K/q3_K -> q4_0, q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0, then f16).
** Everything else keeps its type. */
tl_dtype tl_quantize_tensor_type(const tl_tensor *t, const char *name, tl_dtype target, bool pure,
                                 bool tied_output);

/* Reads in_path, converts its tensors (rows through f32 with the types' from_f32), copies the
** metadata, sets general.quantization_version = 2 and general.file_type, and writes out_path
** (atomically).  report may be NULL. */
tl_status tl_model_quantize(const char *in_path, const char *out_path, tl_dtype target,
                            const tl_quantize_opts *opts, tl_quantize_report *report);

#endif
