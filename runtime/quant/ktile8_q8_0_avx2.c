/* runtime/quant/ktile8_q8_0_avx2.c -- the Q8_0 GEMM tile for AVX2 CPUs (see
** ktile8_row.h).  A group of 8 rows is unpacked per 32-element block into the
** codes' absolute values and the codes themselves, rows in lanes (vector k,
** lane r: codes 4k..4k+3 of row r), and the rows' f16 scales as floats.  Lane
** k of ggml's row kernel takes, per block, (dx * dy) times the integer sum of
** the products of codes 4k..4k+3 by one fused multiply-add; here one vector
** holds that lane for the 8 rows: vpsignb moves the weight's sign onto the
** broadcast activation dword, vpmaddubsw multiplies by |w| (ggml's own
** trick, exact for any weight code and activation codes within +-127),
** vpmaddwd adds the pairs.  The lanes are independent, so each token runs lane
** by lane over all the blocks with the accumulators in registers. */
#include "runtime/quant/ktile8_row_avx2.h"

#include "runtime/quant.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

typedef struct yq8 {
    __m256i aw[8], sw[8]; /* |codes| and codes, rows in lanes */
    __m256 dx;
} yq8;

/* Block b of the 8 rows at g (rows rs bytes apart; rows past `last` repeat it). */
static void pack_block(const char *g, size_t rs, int last, int64_t b, yq8 *pw) {
    __m256i R[8];
    float dx[8];
    for (int r = 0; r < 8; r++) {
        const char *x = g + (size_t)(r < last ? r : last) * rs + (size_t)b * sizeof(blk_q8_0);
        R[r] = _mm256_loadu_si256((const __m256i *)(x + offsetof(blk_q8_0, qs)));
        uint16_t h;
        memcpy(&h, x, sizeof h);
        dx[r] = f16_to_f32_hw(h);
    }
    tl_transpose8x32(R, pw->sw);
    for (int k = 0; k < 8; k++)
        pw->aw[k] = _mm256_sign_epi8(pw->sw[k], pw->sw[k]);
    pw->dx = _mm256_loadu_ps(dx);
}

#define TMAX 4

/* Blocks per pass: a pass runs lane by lane over CB blocks, so the packed
** weights, scales and activations it reads stay in L1 (FFN-down rows of 176
** blocks would not). */
#define CB 16

/* 8 rows x T tokens (T <= TMAX, a constant after inlining); dy: the tokens'
** block scales as floats, [t * nb + b]. */
static inline __attribute__((always_inline)) void tile(int T, int64_t nb, const yq8 *pw,
                                                       const char *act, size_t act_stride,
                                                       const float *dy, float *out,
                                                       size_t out_stride, __m256i mask) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[TMAX][8], dd[CB * TMAX];
    for (int t = 0; t < T; t++)
        for (int k = 0; k < 8; k++)
            acc[t][k] = _mm256_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += CB) {
        int64_t nc = nb - b0 < CB ? nb - b0 : CB;
        const yq8 *P = pw + b0;
        for (int64_t b = 0; b < nc; b++)
#pragma GCC unroll 8
            for (int t = 0; t < T; t++)
                dd[b * T + t] = _mm256_mul_ps(P[b].dx, _mm256_set1_ps(dy[t * nb + b0 + b]));
        for (int k = 0; k < 8; k++) {
            __m256 a[TMAX];
#pragma GCC unroll 8
            for (int t = 0; t < T; t++)
                a[t] = acc[t][k];
            const char *y = act + (size_t)b0 * sizeof(blk_q8_0) + offsetof(blk_q8_0, qs) + 4 * k;
            for (int64_t b = 0; b < nc; b++, y += sizeof(blk_q8_0)) {
                __m256i aw = P[b].aw[k], sw = P[b].sw[k];
#pragma GCC unroll 8
                for (int t = 0; t < T; t++) {
                    int32_t v;
                    memcpy(&v, y + (size_t)t * act_stride, sizeof v);
                    __m256i p =
                        _mm256_maddubs_epi16(aw, _mm256_sign_epi8(_mm256_set1_epi32(v), sw));
                    a[t] = _mm256_fmadd_ps(dd[b * T + t],
                                           _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones)), a[t]);
                }
            }
#pragma GCC unroll 8
            for (int t = 0; t < T; t++)
                acc[t][k] = a[t];
        }
    }
    for (int t = 0; t < T; t++) {
        __m256 *a = acc[t];
        __m256 v =
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6])),
                          _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7])));
        _mm256_maskstore_ps(out + (size_t)t * out_stride, mask, v);
    }
}

static void tiles(int T, int64_t nb, const yq8 *pw, const char *act, size_t act_stride,
                  const float *dy, float *out, size_t out_stride, __m256i mask) {
    switch (T) {
    case 1:
        tile(1, nb, pw, act, act_stride, dy, out, out_stride, mask);
        break;
    case 2:
        tile(2, nb, pw, act, act_stride, dy, out, out_stride, mask);
        break;
    case 3:
        tile(3, nb, pw, act, act_stride, dy, out, out_stride, mask);
        break;
    default:
        tile(4, nb, pw, act, act_stride, dy, out, out_stride, mask);
        break;
    }
}

tl_status tl_ktile8_q8_0_gemm(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride) {
    int64_t nb = n / QK32;
    yq8 *pw = tile_alloc64((size_t)nb * sizeof(*pw));
    float *dy = malloc((size_t)(nb * n_tok) * sizeof(float));
    if (!pw || !dy) {
        free(pw);
        free(dy);
        return tl_fail(TL_ERR_NOMEM, "ktile8_row: out of memory");
    }
    for (int64_t k = 0; k < n_tok; k++) {
        const char *y = (const char *)act + (size_t)k * act_stride;
        for (int64_t b = 0; b < nb; b++) {
            uint16_t h;
            memcpy(&h, y + (size_t)b * sizeof(blk_q8_0), sizeof h);
            dy[k * nb + b] = f16_to_f32_hw(h);
        }
    }
    for (int64_t g = r0; g < r1; g += 8) {
        const char *wg = (const char *)w + (size_t)g * w_stride;
        int last = (int)(r1 - g < 8 ? r1 - g : 8) - 1;
        for (int64_t b = 0; b < nb; b++)
            pack_block(wg, w_stride, last, b, pw + b);
        __m256i mask = tl_ktile8_row_mask(r1 - g);
        for (int64_t k = 0; k < n_tok; k += TMAX) {
            int T = (int)(n_tok - k < TMAX ? n_tok - k : TMAX);
            tiles(T, nb, pw, (const char *)act + (size_t)k * act_stride, act_stride, dy + k * nb,
                  out + (size_t)k * out_stride + (size_t)g, out_stride, mask);
        }
    }
    free(pw);
    free(dy);
    return TL_OK;
}
