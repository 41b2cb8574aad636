/* runtime/ops.h -- tensor operations: the math behind the tensor/nn builtins.
**
** Conventions for every function here:
**  - Inputs are borrowed; *out receives a new reference (NULL on failure).
**    Results are fresh contiguous tensors, except the view ops (reshape of a
**    contiguous tensor, transpose, permute, slice, select, squeeze,
**    unsqueeze, split/chunk parts), which share the input's storage.
**  - Axes and shapes are in .tl (NumPy) order, outermost first; negative axes
**    count from the end (-1 = last).  Error messages name the op and shapes
**    in that order: "add: shapes [2, 3] and [4] cannot broadcast".
**  - Plain dtypes: f32, f16, bf16, i32, i64, bool (i8, i16, f64 are read too).
**    f16/bf16 math is done in f32 and rounded back once per result element.
**    Quantized (block) tensors are accepted only by linear, matmul's weight
**    side via linear, embedding, cast/to_f32 and contiguous; elsewhere the
**    error is "q4_0 tensor: dequantize it first".
**  - Heavy ops run on the thread pool with a static split; every output
**    element is computed by one thread in a fixed order, so results are
**    byte-identical for any thread count. */
#ifndef TL_RUNTIME_OPS_H
#define TL_RUNTIME_OPS_H

#include "runtime/context.h"
#include "runtime/tensor.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- elementwise (runtime/ops/elementwise.c) -------------------------------- */
typedef enum tl_binary_op {
    TL_BIN_ADD,
    TL_BIN_SUB,
    TL_BIN_MUL,
    TL_BIN_DIV, /* ints: floor division; division by zero is an error      */
    TL_BIN_MOD, /* result has the divisor's sign (Python/NumPy remainder) */
    TL_BIN_POW,
    TL_BIN_MAXIMUM,
    TL_BIN_MINIMUM,
    TL_BIN_EQ, /* comparisons give bool tensors */
    TL_BIN_NE,
    TL_BIN_LT,
    TL_BIN_LE,
    TL_BIN_GT,
    TL_BIN_GE,
    TL_BIN_AND, /* logical, on "non-zero" */
    TL_BIN_OR,
    TL_BIN_COUNT
} tl_binary_op;

const char *tl_binary_op_name(tl_binary_op op); /* "add", "sub", ... */

/* NumPy broadcasting.  Result dtype: the wider of the two in the order
** bool < i32 < i64 < bf16 < f16 < f32 (bf16 with f16 gives f32); comparisons
** give bool.  Integer math is exact in int64 and stored back. */
tl_status tl_op_binary(tl_binary_op op, const tl_tensor *a, const tl_tensor *b, tl_tensor **out);

/* t (op) s, or s (op) t when scalar_first.  The scalar does not widen the
** tensor's dtype, except that a non-integral s with an integer/bool tensor
** gives f32.  Float math uses (float)s. */
tl_status tl_op_binary_scalar(tl_binary_op op, const tl_tensor *t, double s, bool scalar_first,
                              tl_tensor **out);

/* cond ? a : b with broadcasting over all three (cond: any plain dtype, non-zero = true). */
tl_status tl_op_where(const tl_tensor *cond, const tl_tensor *a, const tl_tensor *b,
                      tl_tensor **out);

/* ---- unary (runtime/ops/unary.c) -------------------------------------------- */
typedef enum tl_unary_op {
    TL_UN_NEG,
    TL_UN_ABS,
    TL_UN_EXP,
    TL_UN_LOG,
    TL_UN_SQRT,
    TL_UN_RSQRT,
    TL_UN_SIN,
    TL_UN_COS,
    TL_UN_TAN,
    TL_UN_TANH,
    TL_UN_SIGMOID, /* 1/(1+expf(-x))                                     */
    TL_UN_SILU,    /* x/(1+expf(-x))                                     */
    TL_UN_GELU,    /* ggml's tanh approximation                          */
    TL_UN_RELU,
    TL_UN_FLOOR,
    TL_UN_CEIL,
    TL_UN_ROUND, /* half away from zero (roundf)                        */
    TL_UN_SQUARE,
    TL_UN_SIGN,
    TL_UN_NOT, /* logical not: bool result                               */
    TL_UN_COUNT
} tl_unary_op;

const char *tl_unary_op_name(tl_unary_op op);

/* Float inputs keep their dtype; integer/bool inputs keep it for neg, abs,
** relu, floor, ceil, round, square, sign and become f32 otherwise. */
tl_status tl_op_unary(tl_unary_op op, const tl_tensor *x, tl_tensor **out);

/* silu(g) * u (SwiGLU's gate times up), the same bits as tl_op_unary(TL_UN_SILU)
** then tl_op_binary(TL_BIN_MUL), in one pass over contiguous f32 operands of one
** shape (anything else: those two ops). */
tl_status tl_op_swiglu(const tl_tensor *g, const tl_tensor *u, tl_tensor **out);

/* ---- reductions and softmax (runtime/ops/reduce.c) --------------------------- */
typedef enum tl_reduce_op {
    TL_RED_SUM,  /* accumulated in double, in index order                 */
    TL_RED_MEAN, /* sum / n                                               */
    TL_RED_MAX,
    TL_RED_MIN,
    TL_RED_ARGMAX, /* i64 indices; first index on ties                   */
    TL_RED_ARGMIN,
    TL_RED_COUNT
} tl_reduce_op;

const char *tl_reduce_op_name(tl_reduce_op op);

/* Reduces along `axis`, or over every element when all_axes (then the result
** is a 0-d tensor, or all-ones dims with keepdim; argmax/argmin then give the
** flat index in .tl order).  sum/mean/max/min of f32/f16/bf16 keep the dtype,
** of ints: sum/max/min give i64 (exact), mean gives f32. */
tl_status tl_op_reduce(tl_reduce_op op, const tl_tensor *x, int axis, bool all_axes, bool keepdim,
                       tl_tensor **out);

/* softmax along axis, ggml's bit for bit (runtime/ops/ggml_math.h): max-subtracted,
** ggml's vector expf, float sums of each 8 from the row's start added in a double,
** then each value times (float)(1/sum).  -inf entries give 0; a row that is
** entirely -inf gives the uniform distribution. Output keeps a float dtype. */
tl_status tl_op_softmax(const tl_tensor *x, int axis, tl_tensor **out);
/* log_softmax = (x - max) - log(sum exp(x - max)), the sum in double. */
tl_status tl_op_log_softmax(const tl_tensor *x, int axis, tl_tensor **out);

/* The k largest values along the last axis, in descending order (equal values:
** lower index first), and their i64 indices. */
tl_status tl_op_topk(const tl_tensor *x, int64_t k, tl_tensor **values, tl_tensor **indices);

/* ---- matmul, linear, einsum (runtime/ops/matmul.c, einsum.c) ----------------- */
/* tl_precision, tl_set_precision, tl_get_precision: runtime/context.h (per interpreter). */

/* NumPy matmul: 1-D operands are promoted and the added dim removed again;
** batch dims broadcast.  Products in f32, summed in double per output element.
** Output f32, or f16 / bf16 when both inputs have that dtype. */
tl_status tl_op_matmul(const tl_tensor *a, const tl_tensor *b, tl_tensor **out);

/* y = x · Wᵀ (+ bias): x [.., in], W [out, in] (GGUF ne {in, out}) of any dtype
** with kernels, bias [out] or NULL.  Each activation row is converted once to
** traits(W)->dot_type (llama.cpp's rounding) and multiplied in the order
** tl_quant_llama_order() gives (TL_PRECISION_LLAMA) or with vec_dot
** (TL_PRECISION_LLAMA_ROW); in TL_PRECISION_EXACT the W rows are dequantized
** to f32 and dotted in double.  Each output's order depends only on its row
** count, token index and batch size, never on the thread count.
** Output f32 (f16/bf16 when x has that dtype), shape [.., out]. */
tl_status tl_op_linear(const tl_tensor *x, const tl_tensor *w, const tl_tensor *bias,
                       tl_tensor **out);

/* out[i] = linear(x, w[i]) for i < n (no bias), every output bit-identical to
** tl_op_linear's.  When the weights share a block dtype and row length (a
** layer's q/k/v, or gate/up) x is quantized once and all their rows run in one
** parallel region (one barrier instead of n); otherwise it is n linears.  On
** failure every out[i] is NULL. */
tl_status tl_op_linear_many(const tl_tensor *x, const tl_tensor *const *w, int n, tl_tensor **out);

/* tl_op_linear_many for the stacked new tokens of several sequences (a batch):
** gemm_row[r] (one per row of x) is 1 when row r would run in the batched-GEMM
** order if its sequence ran alone, 0 for the GEMV order (llama.cpp's first
** n - n % 4 tokens of a call, then the rest); single_row[r] is 1 when row r's
** sequence has that one row in the call (llama.cpp's F32/F16 matmul takes its
** one-row dot then, its sgemm order for two or more rows).  Only the repacked
** Q4_K/Q2_K orders and F32/F16 weights differ; every other weight runs
** tl_op_linear_many unchanged.  Each output row is then bit-identical to its
** sequence's own call, and the weights are still read once
** (runtime/ops/linear_batch.c).  gemm_row NULL: linear_many. */
tl_status tl_op_linear_batch(const tl_tensor *x, const tl_tensor *const *w, int n,
                             const uint8_t *gemm_row, const uint8_t *single_row, tl_tensor **out);

/* einsum over n operands, e.g. "ihd,jhd->ihj".  Letters a-z/A-Z; a letter
** repeated inside one operand takes the diagonal; without "->" the output is
** the letters that appear exactly once, sorted.  Operands are read as f32; each
** output element sums its products in double, looping over the summed letters
** in order of first appearance (the last one fastest).  "ihd,jhd->ihj" and
** "ihj,jhd->ihd" have threaded fast paths with the same summation order.
** Output f32. */
tl_status tl_op_einsum(const char *spec, int n, const tl_tensor *const *operands, tl_tensor **out);

/* ---- nn (runtime/ops/nn.c, attention.c) -------------------------------------- */
/* y = x / sqrt(mean(x²) + eps) * w over the trailing dims that w covers (w NULL:
** the last dim, no scale).  llama.cpp's order: sum of float squares in double,
** mean = (float)(sum/n), scale = 1/sqrtf(mean + eps), y = (x*scale)*w. */
tl_status tl_op_rms_norm(const tl_tensor *x, const tl_tensor *w, float eps, tl_tensor **out);

/* The top-k logit lens of n residuals h[i] (each [S, d], f32): for every row,
** the k largest of softmax(linear(rms_norm(h, norm_w, eps), out_w)) and their
** token ids, bit-identical to those ops run per residual followed by topk.
** The residuals go through the norm and the head together in chunks of whole
** residuals (at most 64 MiB of logits at a time, each row reduced to its top k
** at once; runtime/ops/lens.c).  probs f32 and ids i64, both [n, S, k]. */
tl_status tl_op_lens_topk(const tl_tensor *const *h, int n, const tl_tensor *norm_w, float eps,
                          const tl_tensor *out_w, int64_t k, tl_tensor **probs, tl_tensor **ids);

/* Layer norm over the trailing dims w covers (or the last dim): mean and
** variance in double as ggml_norm, then (x-mean)*scale (*w) (+b). */
tl_status tl_op_layer_norm(const tl_tensor *x, const tl_tensor *w, const tl_tensor *b, float eps,
                           tl_tensor **out);

typedef enum tl_rope_style {
    TL_ROPE_NORM = 0, /* adjacent pairs (x[2i], x[2i+1]): GGUF llama      */
    TL_ROPE_NEOX = 2, /* halves (x[i], x[i + D/2])                        */
} tl_rope_style;

/* x [.., S, H, D]: the pair i at position s + offset turns by
** (s + offset) * base^(-2i/D), theta built by repeated float multiplication
** with cosf/sinf, as ggml does.  D must be even. */
tl_status tl_op_rope(const tl_tensor *x, int64_t offset, float base, tl_rope_style style,
                     tl_tensor **out);
/* The same with row s of the S rows at position pos[s] (n_pos == S, each >= 0): a batch
** of sequences stacked along S, each token at its own position.  The turn of a row
** depends only on its position, so it equals tl_op_rope's at that position bit for bit. */
tl_status tl_op_rope_at(const tl_tensor *x, const int64_t *pos, int64_t n_pos, float base,
                        tl_rope_style style, tl_tensor **out);

/* Fused attention, f32: q [S, H, D], k and v [T, Hkv, D] with H % Hkv == 0
** (query head h reads KV head h / (H/Hkv)).  scale <= 0 means 1/sqrt(D).
** causal: query s (at position s + pos_offset) sees keys j <= s + pos_offset;
** pos_offset < 0 means T - S (the queries are the last S positions).
** The arithmetic is llama.cpp's CPU backend's (runtime/ops/ggml_math.h): each score one
** ggml_vec_dot_f32 times scale, softmax as tl_op_softmax (ggml's), the output in llamafile
** sgemm's order; output [S, H, D]. */
tl_status tl_op_attention(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v, bool causal,
                          float scale, int64_t pos_offset, tl_tensor **out);
/* The same computation (the same kernel, the same output bytes), also keeping, when
** scores / probs are not NULL, the scaled scores (-inf for keys a query does not see)
** and the attention probabilities, each a new f32 tensor [H, S, T] (NumPy order). */
tl_status tl_op_attention_probs(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                                bool causal, float scale, int64_t pos_offset, tl_tensor **out,
                                tl_tensor **scores, tl_tensor **probs);
/* n independent causal tl_op_attention calls with one scale, in one parallel region
** (a batch's sequences, each against its own cache): q[i] [S_i, H, D], k[i] and v[i]
** [T_i, Hkv, D], the queries of i at positions pos[i] ..; output i written to the
** S_i * H * D floats at o[i].  Each output is bit-identical to tl_op_attention's; the
** work items of all of them share the threads (one barrier instead of n). */
tl_status tl_op_attention_batch(int n, const tl_tensor *const *q, const tl_tensor *const *k,
                                const tl_tensor *const *v, const int64_t *pos, float scale,
                                float *const *o);
/* One sequence of tl_op_attention_rows: its queries q [S][H][D] at positions
** T - S .. T - 1 against the keys and values k, v [T][Hkv][D] (contiguous f32),
** output o [S][H][D].  When k_new is not NULL, the step's own S keys and values
** k_new, v_new [S][Hkv][D] are first copied to k_rows, v_rows, which must be
** rows T - S .. T - 1 of k and v (a tl_kvcache_reserve()d cache): inside the
** parallel region when S == 1 (each KV head's work copies its own slice). */
typedef struct tl_attn_rows {
    const float *q, *k, *v, *k_new, *v_new;
    float *k_rows, *v_rows, *o;
    int64_t S, T;
} tl_attn_rows;
/* tl_op_attention_batch on raw rows: n sequences of H query heads, Hkv KV heads
** and head size D, the same outputs bit for bit, in one parallel region. */
tl_status tl_op_attention_rows(int n, const tl_attn_rows *seqs, int64_t H, int64_t Hkv, int64_t D,
                               float scale);
/* probs [H, S, T] applied to v [T, Hkv, D] (query head h reads KV head h / (H/Hkv)):
** out [S, H, D] = sum over t of probs[h, s, t] v[t, h / (H/Hkv), :] in tl_op_attention's
** order, so tl_op_attention's probabilities give its output bit for bit. */
tl_status tl_op_attention_apply(const tl_tensor *probs, const tl_tensor *v, tl_tensor **out);
/* Attention with an additive mask, as its separate steps compute it (ops/attention_masked.c):
** q [S, H, D], k (and v, or NULL) [T, Hkv, D], mask [S, T] or NULL, all contiguous f32, D and
** T > 0.  probs [H, S, T] = softmax over t of ((float)(q·k in double) * scale + mask[s, t]),
** each row as tl_op_softmax computes it; with v, out [S, H, D] = sum over t of p · v in double,
** in t order (a probability of exactly 0 adds nothing, as in tl_op_attention). */
tl_status tl_op_attention_masked(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v,
                                 const tl_tensor *mask, float scale, tl_tensor **probs,
                                 tl_tensor **out);

/* Rows of table [V, D] (any dtype with to_f32) picked by integer ids of any
** shape → [ids.., D] f32.  Out-of-range ids are an error. */
tl_status tl_op_embedding(const tl_tensor *table, const tl_tensor *ids, tl_tensor **out);

/* [S, S] f32: 1 where j <= i (keep), 0 above the diagonal. */
tl_status tl_op_causal_mask(int64_t s, tl_tensor **out);

/* scores where mask != 0, -1e9 where mask == 0 (mask broadcasts to scores). */
tl_status tl_op_apply_attention_mask(const tl_tensor *scores, const tl_tensor *mask,
                                     tl_tensor **out);

/* ---- shape and data movement (runtime/ops/shape.c) ---------------------------- */
tl_status tl_op_contiguous(const tl_tensor *t, tl_tensor **out); /* a fresh copy */
/* A view when t is contiguous, else a copy reshaped; one dim may be -1. */
tl_status tl_op_reshape(const tl_tensor *t, int n_dims, const int64_t *shape, tl_tensor **out);
tl_status tl_op_flatten(const tl_tensor *t, tl_tensor **out);
tl_status tl_op_transpose(const tl_tensor *t, int axis0, int axis1, tl_tensor **out); /* view */
tl_status tl_op_permute(const tl_tensor *t, int n, const int *axes, tl_tensor **out); /* view */
/* t[.., start:end:step, ..] along axis (clamped like Python; step > 0): a view. */
tl_status tl_op_slice(const tl_tensor *t, int axis, int64_t start, int64_t end, int64_t step,
                      tl_tensor **out);
/* t[.., index, ..] along axis (index may be negative): a view without that axis. */
tl_status tl_op_select(const tl_tensor *t, int axis, int64_t index, tl_tensor **out);
/* Removes axis (must be 1), or every size-1 axis when all_axes. */
tl_status tl_op_squeeze(const tl_tensor *t, int axis, bool all_axes, tl_tensor **out);
tl_status tl_op_unsqueeze(const tl_tensor *t, int axis, tl_tensor **out); /* axis in 0..n */
/* NumPy right-aligned broadcast, materialised. */
tl_status tl_op_broadcast_to(const tl_tensor *t, int n_dims, const int64_t *shape, tl_tensor **out);
/* The same broadcast as a view (stride 0 in the broadcast dims, nothing copied). */
tl_status tl_op_expand(const tl_tensor *t, int n_dims, const int64_t *shape, tl_tensor **out);
/* Joins n tensors of one dtype along axis (other dims equal). */
tl_status tl_op_concat(int n, const tl_tensor *const *ts, int axis, tl_tensor **out);
/* Views of consecutive pieces of `size` along axis (the last may be smaller);
** *parts is a malloc'd array of *n_parts references (free each, then the array). */
tl_status tl_op_split(const tl_tensor *t, int64_t size, int axis, tl_tensor ***parts, int *n_parts);
/* n pieces of ceil(len/n) (torch.chunk). */
tl_status tl_op_chunk(const tl_tensor *t, int64_t n, int axis, tl_tensor ***parts, int *n_parts);
/* torch.gather: out[..i..] = t[..idx[..i..]..] along axis; out has idx's shape. */
tl_status tl_op_gather(const tl_tensor *t, int axis, const tl_tensor *idx, tl_tensor **out);
/* torch.scatter: a copy of t with out[..idx[..i..]..] = src[..i..] along axis. */
tl_status tl_op_scatter(const tl_tensor *t, int axis, const tl_tensor *idx, const tl_tensor *src,
                        tl_tensor **out);
/* Converts to dtype (plain targets; any source with to_f32; int<->int exact). */
tl_status tl_op_cast(const tl_tensor *t, tl_dtype dt, tl_tensor **out);

/* ---- creation (runtime/ops/create.c) ------------------------------------------ */
tl_status tl_op_full(tl_dtype dt, int n_dims, const int64_t *shape, double value, tl_tensor **out);
/* [start, end) by step: ceil((end-start)/step) elements. */
tl_status tl_op_arange(tl_dtype dt, double start, double end, double step, tl_tensor **out);
/* Uniform [0, 1) and standard normal from the seeded generator (random.h). */
tl_status tl_op_rand(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out);
tl_status tl_op_randn(tl_dtype dt, int n_dims, const int64_t *shape, tl_tensor **out);

/* ---- element access helpers ---------------------------------------------------- */
/* The element at a flat .tl-order index, as double (plain dtypes only). */
tl_status tl_tensor_get_f64(const tl_tensor *t, int64_t flat, double *out);
/* A 0-d tensor holding v. */
tl_status tl_tensor_scalar(tl_dtype dt, double v, tl_tensor **out);

/* ---- compat: the original's remaining NN ops (runtime/ops/compat.c) ------------ */
/* [max_seq, head_dim] f32 tables for the "Candle" rope: row s holds cos (or sin,
** when sine) of s * base^(-2i/head_dim) at both 2i and 2i+1 (each value
** duplicated per pair), computed with the same float steps as tl_op_rope. */
tl_status tl_op_rope_table(int64_t head_dim, int64_t max_seq, float base, bool sine,
                           tl_tensor **out);

/* rope(x, cos, sin): x [S, D] or [.., S, H, D]; pair i of position s turns by
** cos[s, 2i] / sin[s, 2i] (NORM style, adjacent pairs), rows 0..S-1 of tables
** [>= S, D].  With tl_op_rope_table's tables it equals tl_op_rope(x, 0, base,
** TL_ROPE_NORM) bit for bit.  (The original read cos[s*D + i]: wrong for i >= 1.) */
tl_status tl_op_rope_cs(const tl_tensor *x, const tl_tensor *cos_t, const tl_tensor *sin_t,
                        tl_tensor **out);

/* The original's attention_with_cache, done per head: q [S, n_head*D], kc and vc
** [T, n_kv*D] (K already roped), w_o [out, n_head*D].  n_head <= 0 means
** width / 64 (D = 64, the original's hard-coded head size).  q is roped (NORM,
** rope_base) at positions T-S .. T-1, then causal GQA attention (query head h
** reads KV head h / (n_head/n_kv), scale 1/sqrt(D)), then linear(o, w_o).
** Output [S, out] f32. */
tl_status tl_op_attention_with_cache(const tl_tensor *q, const tl_tensor *kc, const tl_tensor *vc,
                                     const tl_tensor *w_o, int64_t n_head, float rope_base,
                                     tl_tensor **out);

/* Inference batch norm: y = (x - mean) / sqrt(var + eps) * gamma + beta in
** double per element, rounded once.  Channels are .tl axis 1 of [N, C, ..]
** (axis 0 of a 1-d x); each parameter is [C] or a single value. */
tl_status tl_op_batch_norm(const tl_tensor *x, const tl_tensor *mean, const tl_tensor *var,
                           const tl_tensor *gamma, const tl_tensor *beta, double eps,
                           tl_tensor **out);

/* Inverted dropout.  !training: x itself (a new reference).  training: one
** uniform float u per element from rng in .tl order; kept (times 1/(1-p)) when
** u >= p, else 0.  p in [0, 1]. */
struct tl_rng; /* runtime/random.h */
tl_status tl_op_dropout(const tl_tensor *x, double p, bool training, struct tl_rng *rng,
                        tl_tensor **out);

/* x where mask != 0, 0 where mask == 0 (mask broadcasts with x; x's dtype). */
tl_status tl_op_apply_mask(const tl_tensor *x, const tl_tensor *mask, tl_tensor **out);

#endif
