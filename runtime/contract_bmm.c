/* runtime/contract_bmm.c -- the f32 batched product of contractions (contract_bmm.h). */
#include "runtime/contract_bmm.h"

#include "runtime/quant.h"
#include "runtime/threadpool.h"

#define BMM_NB 64 /* columns per work item */

void tl_contract_bmm_block(const float *arow, const float *bt, float *crow, int64_t N, int64_t K,
                           int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
        double sum = 0.0;
        for (int64_t k = 0; k < K; k++)
            sum += (double)(arow[k] * bt[k * N + n]);
        crow[n] = (float)sum;
    }
}

typedef struct bmm_job {
    const float *a, *bt;
    float *c;
    int64_t M, N, K, nblk;
    bool avx2;
} bmm_job;

static void bmm_items(void *ctx, int64_t begin, int64_t end) {
    const bmm_job *j = ctx;
    for (int64_t it = begin; it < end; it++) {
        int64_t blk = it % j->nblk, row = it / j->nblk; /* row = b * M + m */
        int64_t b = row / j->M;
        const float *arow = j->a + row * j->K;
        const float *bt = j->bt + b * j->K * j->N;
        float *crow = j->c + row * j->N;
        int64_t n0 = blk * BMM_NB, n1 = n0 + BMM_NB < j->N ? n0 + BMM_NB : j->N;
#ifdef TL_X86_KERNELS /* else contract_bmm_avx2.c is not compiled */
        if (j->avx2) {
            tl_contract_bmm_block_avx2(arow, bt, crow, j->N, j->K, n0, n1);
            continue;
        }
#endif
        tl_contract_bmm_block(arow, bt, crow, j->N, j->K, n0, n1);
    }
}

void tl_contract_bmm_f32(const float *a, const float *bt, float *c, int64_t Bt, int64_t M,
                         int64_t N, int64_t K) {
    bmm_job j = {.a = a,
                 .bt = bt,
                 .c = c,
                 .M = M,
                 .N = N,
                 .K = K,
                 .nblk = (N + BMM_NB - 1) / BMM_NB,
                 .avx2 = tl_kernels_use_avx2()};
    int64_t items = Bt * M * j.nblk;
    if (items > 0) tl_parallel_for(items, 1 + (1 << 15) / (BMM_NB * K + 1), bmm_items, &j);
}
