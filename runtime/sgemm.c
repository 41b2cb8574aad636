/* runtime/sgemm.c -- the tiling, packing and threading of tl_sgemm, and the
** scalar reference tile (runtime/sgemm.h). */
#include "runtime/sgemm.h"

#include "runtime/quant.h" /* tl_kernels_use_avx2: the variant select.c chose */
#include "runtime/threadpool.h"

#include <math.h>
#include <string.h>

#define MR 4
#define NR TL_SGEMM_NR
#define KC 256 /* k steps per pass: a 16 KB panel, C tiles reloaded between passes */

void tl_sgemm_tile_ref(int64_t kn, const float *a, int64_t sam, int64_t sak, const float *bp,
                       int64_t sbk, float *c, int64_t ldc, int mr, int first) {
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++) {
            float s = first ? 0.0f : c[i * ldc + j];
            for (int64_t k = 0; k < kn; k++)
                s = fmaf(a[i * sam + k * sak], bp[k * sbk + j], s);
            c[i * ldc + j] = s;
        }
}

typedef void (*tile_fn)(int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *,
                        int64_t, int, int);

typedef struct sg_job {
    tl_sgemm_args g;
    int64_t mb; /* row blocks of MR */
    tile_fn tile;
} sg_job;

/* Tiles [begin, end), numbered n-block major (tile t: n-block t / mb, m-block t % mb),
** so consecutive tiles share one B panel.  Each tile runs its k passes in order. */
static void sg_range(void *ctx, int64_t begin, int64_t end) {
    const sg_job *j = ctx;
    const tl_sgemm_args *g = &j->g;
    float panel[KC * NR];
    float ctmp[MR * NR];
    for (int64_t k0 = 0; k0 < g->K; k0 += KC) {
        int64_t kn = g->K - k0 < KC ? g->K - k0 : KC;
        int64_t cur = -1;
        const float *bp = NULL;
        int64_t bstride = NR;
        for (int64_t t = begin; t < end; t++) {
            int64_t nb = t / j->mb, m0 = (t % j->mb) * MR, n0 = nb * NR;
            int nv = g->N - n0 < NR ? (int)(g->N - n0) : NR;
            int mr = g->M - m0 < MR ? (int)(g->M - m0) : MR;
            if (nb != cur) {
                cur = nb;
                if (g->sbn == 1 && nv == NR) {
                    bp = g->B + k0 * g->sbk + n0;
                    bstride = g->sbk;
                } else {
                    for (int64_t k = 0; k < kn; k++) {
                        const float *src = g->B + (k0 + k) * g->sbk + n0 * g->sbn;
                        for (int c = 0; c < NR; c++)
                            panel[k * NR + c] = c < nv ? src[c * g->sbn] : 0.0f;
                    }
                    bp = panel;
                    bstride = NR;
                }
            }
            const float *a = g->A + m0 * g->sam + k0 * g->sak;
            float *c = g->C + m0 * g->ldc + n0;
            if (nv == NR) {
                j->tile(kn, a, g->sam, g->sak, bp, bstride, c, g->ldc, mr, k0 == 0);
            } else {
                if (k0 > 0)
                    for (int i = 0; i < mr; i++)
                        memcpy(ctmp + i * NR, c + i * g->ldc, (size_t)nv * sizeof(float));
                j->tile(kn, a, g->sam, g->sak, bp, bstride, ctmp, NR, mr, k0 == 0);
                for (int i = 0; i < mr; i++)
                    memcpy(c + i * g->ldc, ctmp + i * NR, (size_t)nv * sizeof(float));
            }
        }
    }
}

tl_status tl_sgemm(const tl_sgemm_args *a) {
    if (a->M <= 0 || a->N <= 0) return TL_OK;
    if (a->K <= 0) {
        for (int64_t m = 0; m < a->M; m++)
            memset(a->C + m * a->ldc, 0, (size_t)a->N * sizeof(float));
        return TL_OK;
    }
    sg_job j = {.g = *a, .mb = (a->M + MR - 1) / MR, .tile = tl_sgemm_tile_ref};
#ifdef TL_X86_KERNELS
    if (tl_kernels_use_avx2()) j.tile = tl_sgemm_tile_avx2;
#endif
    int64_t tiles = j.mb * ((a->N + NR - 1) / NR);
    /* a chunk of tiles worth at least ~64K multiply-adds */
    tl_parallel_for(tiles, 1 + (1 << 16) / (MR * NR * a->K), sg_range, &j);
    return TL_OK;
}
