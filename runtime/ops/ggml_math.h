/* runtime/ops/ggml_math.h -- the float arithmetic of llama.cpp's CPU backend
** where it is not the C library's: its vector expf, SiLU / SwiGLU, softmax, the
** fused multiply-adds of RoPE and the summation orders of attention's scores and
** outputs, so that a llama forward pass here gives llama.cpp's bits.
**
** The reference is llama.cpp's AVX2 build (its "haswell" CPU variant; the
** AVX-512 builds compute these differently), measured against its recorded
** intermediate tensors (docs/llama.md, "Agreement with llama.cpp"):
**
** - expf over a vector of 8 (ggml_v_expf): with z = fma(x, 0x1.715476p+0, 0x1.8p23),
**   n = z - 0x1.8p23, b = fma(-n, 0x1.7f7d1cp-20, fma(-n, 0x1.62e4p-1, x)),
**   e = bits(z) << 23, k = float(e + bits(1.0f)), u = b*b,
**   j = fma(fma(fma(0x1.0e402p-7, b, 0x1.573e2ep-5), u, fma(0x1.555e66p-3, b,
**   0x1.fffdb6p-2)), u, 0x1.ffffecp-1 * b): the result is fma(j, k, k) when
**   |n| <= 126; otherwise, with g = (n <= 0 ? 0x82000000 : 0), s1 = float(g +
**   0x7f000000), s2 = float(e - g): s1 * s1 when |n| > 192, else fma(s2, j, s2) * s1.
**   Each lane is independent of the others, so ops_ggml_expf computes one.
** - SiLU / SwiGLU of a row of n: x / (1 + expf(0 - x)) (times g) with that expf
**   for the elements in whole groups of 8 from the row's start, the C
**   library's expf (x / (1 + expf(-x))) for the last n % 8.
** - The attention softmax over a row of scores: llama.cpp's row is the whole
**   padded KV cache, the masked keys -inf; e = that expf(x - max) for every
**   group of 8 (a masked key's is exactly 0), each group summed in float as
**   (e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7)) and the group sums added in
**   a double in order; then every e times (float)(1 / sum).
** - RoPE rotates a pair with x0 c - x1 s = fma(x0, c, -(x1 s)) and
**   x0 s + x1 c = fma(x0, s, x1 c): its compiler contracted the expressions.
** - Attention's scores are ggml_vec_dot_f32 (ops_ggml_dot_f32); its outputs
**   are llamafile's sgemm when the call has two or more queries (ops_ggml_pv)
**   and ggml_vec_dot_f32 over the keys for a single query (ops_ggml_pv_dot:
**   sgemm refuses a one-column product), so a one-token decode step and the
**   same token inside a prompt differ in the last bits, in llama.cpp as here.
**
** Every function has a portable version (one lane at a time with fmaf) and,
** when runtime/cpu.h selects AVX2, an 8-lane one; both give the same bits
** (unit/test_ggml_math). */
#ifndef TL_RUNTIME_OPS_GGML_MATH_H
#define TL_RUNTIME_OPS_GGML_MATH_H

#include <stdint.h>

/* ggml's vector expf of one value. */
float ops_ggml_expf(float x);

/* y[i] = silu(x[i]) for a row of n, as ggml_vec_silu_f32 computes it; y may be x. */
void ops_ggml_silu_row(const float *x, float *y, int64_t n);

/* y[i] = silu(x[i]) * g[i] for a row of n, as ggml_vec_swiglu_f32 computes it. */
void ops_ggml_swiglu_row(const float *x, const float *g, float *y, int64_t n);

/* p[i] = ggml expf(p[i] - mx) for i < n (the visible keys of one query, mx
** their maximum, none NaN); returns the double sum ggml's softmax forms over
** the row (n rounded up to 8 with zeros). */
double ops_ggml_softmax_exp(float *p, int64_t n, float mx);
/* The same over p[i * stride]. */
double ops_ggml_softmax_exp_strided(float *p, int64_t n, int64_t stride, float mx);

/* ggml_vec_dot_f32 on AVX2: four 8-lane accumulators of fused multiply-adds over
** the first n - n % 32 elements (element i in accumulator (i % 32) / 8, lane i %
** 8), reduced (a0 + a2) + (a1 + a3), lanes (v0 + v4, ..), two pairwise adds; then
** the last n % 32 products added one by one in float, not fused (measured on
** stories260K's feed-forward rows of 172). */
float ops_ggml_dot_f32(const float *x, const float *y, int64_t n);

/* out[t] = ops_ggml_dot_f32(q, key t, D) * scale for t < n, key t at k + t * kstride. */
void ops_ggml_scores(const float *q, const float *k, int64_t kstride, int64_t n, int64_t D,
                     float scale, float *out);

/* o[d] = sum over keys t < n of p[t] * v_t[d] (value t at v + t * vstride) in
** llamafile sgemm's order: one 8-lane fused multiply-add accumulator per output,
** key t in lane t % 8, summed ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)). */
void ops_ggml_pv(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D, float *o);

/* The same sums in ggml_vec_dot_f32's order over t (as llama.cpp computes them
** for a single query: its sgemm refuses one column): key t in lane t % 8 of
** accumulator (t % 32) / 8, every key in the accumulators (llama.cpp's row is the
** KV cache padded to a multiple of 32 with probability 0), reduced (a0 + a2) +
** (a1 + a3), then ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)). */
void ops_ggml_pv_dot(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                     float *o);

/* ops_ggml_pv for R rows of probabilities that share the values (the heads of
** one query that read one KV head), from the values transposed: row r's
** probabilities at p + r * ps, output d of row r at o + r * os + d, the values'
** element d of key t at vt[d * vs + t].  The same bits as ops_ggml_pv row by
** row; the AVX2 kernel computes 4 rows x 3 outputs per pass over the keys. */
void ops_ggml_pv_rows_t(const float *p, int64_t ps, int64_t R, const float *vt, int64_t vs,
                        int64_t n, int64_t D, float *o, int64_t os);

/* ops_ggml_pv_dot for G heads that share the values: head g's probabilities at
** p + g * pstride, its output at o + g * ostride.  work holds
** ops_ggml_pv_dot_heads_work(G, n, D) floats.  The same bits as G calls of
** ops_ggml_pv_dot; faster: the value rows are regrouped once so that each of the
** 32 chains' keys are contiguous, and each row serves two heads a load.  Up to
** TL_PV_SHORT_KEYS keys the chains of 8 outputs and their sums stay in
** registers; past that the chains' sums of 32 outputs go through work, which
** keeps more multiply-adds in flight per load. */
void ops_ggml_pv_dot_heads(const float *p, int64_t pstride, int64_t G, const float *v,
                           int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                           float *work);
/* The floats of work ops_ggml_pv_dot_heads needs (0 when it needs none). */
int64_t ops_ggml_pv_dot_heads_work(int64_t G, int64_t n, int64_t D);
/* The longest row of keys that ops_ggml_pv_dot_heads keeps in registers (measured:
** docs/performance/eleventh_pass.md). */
#define TL_PV_SHORT_KEYS 64

/* The RoPE rotation of the pairs (x[a_i], x[b_i]) = (x[2i], x[2i+1]) ("norm",
** neox = 0) or (x[i], x[i + D/2]) (neox = 1), i < D/2, by cs[2i] = cos,
** cs[2i+1] = sin; in may be x. */
void ops_ggml_rope_row(const float *in, float *x, const float *cs, int64_t D, int neox);

#ifdef TL_X86_KERNELS
/* The 8-lane versions (ggml_math_avx2.c): n8 a multiple of 8 for silu/swiglu. */
void tl_ggml_silu8_avx2(const float *x, float *y, int64_t n8);
void tl_ggml_swiglu8_avx2(const float *x, const float *g, float *y, int64_t n8);
double tl_ggml_softmax_exp_avx2(float *p, int64_t n, float mx);
void tl_ggml_rope_row_avx2(const float *in, float *x, const float *cs, int64_t D, int neox);
/* ops_ggml_scores for D % 32 == 0, D > 0: one reduction for 8 keys (the last
** n % 8 with zeros beside them), the same sums as one key at a time */
void tl_ggml_scores8_avx2(const float *q, const float *k, int64_t kstride, int64_t n, int64_t D,
                          float scale, float *out);
void tl_ggml_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                     float *o); /* D % 8 == 0 */
void tl_ggml_pv_dot_avx2(const float *p, const float *v, int64_t vstride, int64_t n, int64_t D,
                         float *o); /* D % 8 == 0 */
void tl_ggml_pv_rows_t_avx2(const float *p, int64_t ps, int64_t R, const float *vt, int64_t vs,
                            int64_t n, int64_t D, float *o, int64_t os);
void tl_ggml_pv_dot_heads_avx2(const float *p, int64_t pstride, int64_t G, const float *v,
                               int64_t vstride, int64_t n, int64_t D, float *o, int64_t ostride,
                               float *work); /* D % 8 == 0 */
#endif

#endif
