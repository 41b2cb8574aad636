/* runtime/ops/attention_kernels.h -- AVX2 inner loops of tl_op_attention_masked
** (runtime/ops/attention_avx2.c), the general path's attention (tl_op_attention
** follows llama.cpp instead: ggml_math.h).  They compute exactly what the scalar
** loops in attention_masked.c compute: float products accumulated in double in the same
** order (over d for a score, over t for an output), vectorised across keys
** (scores) or across d (outputs) so no sum is reassociated.  Callers check
** tl_cpu_use_avx2(). */
#ifndef TL_RUNTIME_OPS_ATTENTION_KERNELS_H
#define TL_RUNTIME_OPS_ATTENTION_KERNELS_H

#include <stdint.h>

#ifdef TL_X86_KERNELS
/* p[t] = (float)(sum over d of (double)(q[d] * k_t[d])) * scale for t in
** [0, n_keys), from the keys transposed: element d of key t at
** kt[d * ldk + t], ldk >= n_keys rounded up to 8 (the padding is read). */
void tl_attn_scores_t_avx2(const float *q, const float *kt, int64_t ldk, int64_t n_keys, int64_t D,
                           float scale, float *p);

/* acc[d] += (double)(p[t] * v_t[d]) for t in [0, T) in order, skipping
** p[t] == 0; value t at v + t * vstride floats; D % 4 == 0. */
void tl_attn_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t T, int64_t D,
                     double *acc);
#else
/* Not an x86-64 build: never called (tl_cpu_use_avx2() is false). */
static inline void tl_attn_scores_t_avx2(const float *q, const float *kt, int64_t ldk,
                                         int64_t n_keys, int64_t D, float scale, float *p) {
    (void)q, (void)kt, (void)ldk, (void)n_keys, (void)D, (void)scale, (void)p;
}
static inline void tl_attn_pv_avx2(const float *p, const float *v, int64_t vstride, int64_t T,
                                   int64_t D, double *acc) {
    (void)p, (void)v, (void)vstride, (void)T, (void)D, (void)acc;
}
#endif

#endif
