/* runtime/contract_bmm.h -- the f32 batched product kernel of runtime/contract.c.
**
** c[b][m][n] = (float) sum over k, in order, of (double)(a[b][m][k] * bt[b][k][n]):
** each product rounded to f32, accumulated in double (linear() sums an f32 weight
** in llama.cpp's float orders instead, runtime/quant/f32.c: the two agree to
** rounding).  The AVX2 version vectorises across n (8
** outputs at a time, each still summed in k order), so it gives the same bits as
** the scalar reference.  Threaded over (batch, row, column block): each output is
** computed by one thread, results do not depend on the thread count. */
#ifndef TL_RUNTIME_CONTRACT_BMM_H
#define TL_RUNTIME_CONTRACT_BMM_H

#include <stdint.h>

/* a: [Bt][M][K], bt: [Bt][K][N] (k-major), c: [Bt][M][N]; all contiguous f32. */
void tl_contract_bmm_f32(const float *a, const float *bt, float *c, int64_t Bt, int64_t M,
                         int64_t N, int64_t K);

/* One block of columns [n0, n1) of row m of batch b (the scalar reference and AVX2). */
void tl_contract_bmm_block(const float *arow, const float *bt, float *crow, int64_t N, int64_t K,
                           int64_t n0, int64_t n1);
void tl_contract_bmm_block_avx2(const float *arow, const float *bt, float *crow, int64_t N,
                                int64_t K, int64_t n0, int64_t n1);

#endif
