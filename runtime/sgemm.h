/* runtime/sgemm.h -- f32 matrix products for training (linear and its gradients).
**
** C[M][N] = A·B over f32 matrices given by strides, so one routine covers the
** three products of a linear layer y = x Wᵀ:
**   forward   y[R][O]  = x[R][in] · W[O][in]ᵀ   (b(k, n) = W[n][k]: packed per panel)
**   dx        dx[R][in] = g[R][O] · W[O][in]
**   dW        dW[O][in] = g[R][O]ᵀ · x[R][in]
** Every element of C is one chain c = fmaf(a(m, k), b(k, n), c) over k = 0..K-1
** starting from c = +0, one rounding per step.  The scalar reference and the
** AVX2 kernel (sgemm_avx2.c) compute exactly that chain, so they give the same
** bits; the work is split over the thread pool by output tiles (each element is
** computed by one thread), so the result never depends on the thread count.
** The order differs from tl_op_linear's f32 dot (a double sum): results agree
** to f32 rounding, not bit for bit. */
#ifndef TL_RUNTIME_SGEMM_H
#define TL_RUNTIME_SGEMM_H

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <stdint.h>

/* a(m, k) = A[m*sam + k*sak]; b(k, n) = B[k*sbk + n*sbn]; C[m*ldc + n] (written). */
typedef struct tl_sgemm_args {
    int64_t M, N, K;
    const float *A;
    int64_t sam, sak;
    const float *B;
    int64_t sbk, sbn;
    float *C;
    int64_t ldc;
} tl_sgemm_args;

/* C = A·B as above (threaded; C must not alias A or B).  Fails only for lack of
** memory (the panel buffers). */
tl_status tl_sgemm(const tl_sgemm_args *a);

/* linear(x, W) = x Wᵀ for f32 x [.., in] and a contiguous f32 W [out, in], with
** tl_sgemm (the training path; tl_op_linear is the inference one).  x may be any
** layout (copied to contiguous rows when needed). */
tl_status tl_op_linear_sgemm(const tl_tensor *x, const tl_tensor *w, tl_tensor **out);

/* ---- for the kernels ---------------------------------------------------------------- */
/* Tile: C rows m0..m0+mr-1 (mr 1..4), 16 columns at c, over k0..k1 of a and of the
** panel bp (bp[(k-k0)*16 + j]); first: start from 0, else continue the chain from C. */
#define TL_SGEMM_NR 16
void tl_sgemm_tile_ref(int64_t kn, const float *a, int64_t sam, int64_t sak, const float *bp,
                       int64_t sbk, float *c, int64_t ldc, int mr, int first);
void tl_sgemm_tile_avx2(int64_t kn, const float *a, int64_t sam, int64_t sak, const float *bp,
                        int64_t sbk, float *c, int64_t ldc, int mr, int first);

#endif
