/* runtime/quant/q4_0x16.c -- the Q4_0x16 layout (q4_0x16.h): the portable
** packer, and the kernels' stand-ins where the x86 kernels are not built. */
#include "runtime/quant/q4_0x16.h"

#include "runtime/quant/quant_impl.h"

#include <string.h>

void tl_q4_0x16_pack_scalar(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst) {
    int64_t nb = n / QK32;
    for (int64_t g = 0; g < rows16 / 16; g++)
        for (int64_t b = 0; b < nb; b++) {
            char *o = (char *)dst + ((size_t)g * (size_t)nb + (size_t)b) * TL_Q4_0X16_BLOCK;
            for (int r = 0; r < 16; r++) {
                const blk_q4_0 *blk =
                    (const blk_q4_0 *)((const char *)w + (size_t)(16 * g + r) * rs) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int j = 0; j < 4; j++)
                    memcpy(o + 32 + 64 * j + 4 * r, blk->qs + 4 * j, 4);
            }
        }
}

void tl_q4_0x16_pack(const void *w, size_t rs, int64_t rows16, int64_t n, void *dst) {
#ifdef TL_X86_KERNELS
    if (tl_q4_0x16_gemv_available()) {
        tl_q4_0x16_pack_avx2(w, rs, rows16, n, dst);
        return;
    }
#endif
    tl_q4_0x16_pack_scalar(w, rs, rows16, n, dst);
}

#ifndef TL_X86_KERNELS
bool tl_q4_0x16_gemv_available(void) {
    return false;
}
bool tl_q4_0x16_gemm_available(void) {
    return false;
}
tl_status tl_q4_0x16_gemv(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          float *out) {
    (void)n, (void)packed, (void)r0, (void)r1, (void)act, (void)out;
    return tl_fail(TL_ERR_UNSUPPORTED, "the Q4_0x16 kernels need an x86-64 CPU with AVX2");
}
tl_status tl_q4_0x16_gemm(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    (void)n, (void)packed, (void)r0, (void)r1, (void)act, (void)act_stride, (void)n_tok;
    (void)out, (void)out_stride;
    return tl_fail(TL_ERR_UNSUPPORTED, "the Q4_0x16 kernels need an x86-64 CPU with AVX-512 VNNI");
}
tl_q4_0x16_acts *tl_q4_0x16_acts_new(int64_t n, int64_t n_tok) {
    (void)n, (void)n_tok;
    return NULL;
}
void tl_q4_0x16_acts_set(tl_q4_0x16_acts *a, int64_t k, const void *act) {
    (void)a, (void)k, (void)act;
}
void tl_q4_0x16_acts_free(tl_q4_0x16_acts *a) {
    (void)a;
}
tl_status tl_q4_0x16_gemm_acts(const void *packed, int64_t r0, int64_t r1, int64_t r_ahead,
                               const tl_q4_0x16_acts *a, float *out, size_t out_stride) {
    (void)packed, (void)r0, (void)r1, (void)r_ahead, (void)a, (void)out, (void)out_stride;
    return tl_fail(TL_ERR_UNSUPPORTED, "the Q4_0x16 kernels need an x86-64 CPU with AVX-512 VNNI");
}
#endif
