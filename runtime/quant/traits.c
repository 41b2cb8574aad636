/* runtime/quant/traits.c -- the traits tables (runtime/dtype.h): every type's
** layout and kernels, as two `static const` tables, one per kernel variant:
** the scalar reference kernels, and (x86-64 builds) the AVX2 ones where a type
** has them.  Both are built from one list (TRAITS_TABLE), so they differ only in
** the kernels the list names twice.  Nothing writes them: runtime/quant/select.c
** picks one table once (tl_kernels_select) and tl_dtype_traits reads it.
** F16 takes the quant module's row kernels (f16.c); BF16 and the plain types
** have their converters here. */
#include "runtime/dtype.h"
#include "runtime/half.h"
#include "runtime/quant/quant_impl.h"

#include <string.h>

/* ---- plain types: row conversions ---------------------------------------- */

static void f32_to_f32(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void f32_from_f32(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void bf16_to_f32(const void *src, float *dst, int64_t n) {
    const tl_bf16 *s = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = tl_bf16_to_f32(s[i]);
}
static void bf16_from_f32(const float *src, void *dst, int64_t n) {
    tl_bf16 *d = dst;
    for (int64_t i = 0; i < n; i++)
        d[i] = tl_f32_to_bf16(src[i]);
}

#define INT_CONVERTERS(NAME, CTYPE)                                                                \
    static void NAME##_to_f32(const void *src, float *dst, int64_t n) {                            \
        const CTYPE *s = src;                                                                      \
        for (int64_t i = 0; i < n; i++)                                                            \
            dst[i] = (float)s[i];                                                                  \
    }                                                                                              \
    static void NAME##_from_f32(const float *src, void *dst, int64_t n) {                          \
        CTYPE *d = dst;                                                                            \
        for (int64_t i = 0; i < n; i++)                                                            \
            d[i] = (CTYPE)src[i];                                                                  \
    }
INT_CONVERTERS(i8, int8_t)
INT_CONVERTERS(i16, int16_t)
INT_CONVERTERS(i32, int32_t)
INT_CONVERTERS(i64, int64_t)
INT_CONVERTERS(f64, double)

static void bool_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = s[i] ? 1.0f : 0.0f;
}
static void bool_from_f32(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++)
        d[i] = src[i] != 0.0f;
}

/* ---- plain types: dot products (scalar references) ----------------------- */

static void dot_bf16(int64_t n, float *out, const void *x, const void *y) {
    const tl_bf16 *a = x, *b = y;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(tl_bf16_to_f32(a[i]) * tl_bf16_to_f32(b[i]));
    *out = (float)sum;
}

/* ---- the tables ---------------------------------------------------------- */

#define PLAIN(NAME, CTYPE, DT)                                                                     \
    {                                                                                              \
        .name = #NAME, .blck = 1, .size = sizeof(CTYPE), .supported = true,                        \
        .to_f32 = NAME##_to_f32, .from_f32 = NAME##_from_f32, .dot_type = DT                       \
    }
/* A block type: dequantizer, activation converter, dot with dot_type rows. */
#define BLOCK(NAME, BLCK, SIZE, FROM, DOT, DOT_TYPE)                                               \
    {                                                                                              \
        .name = #NAME, .blck = BLCK, .size = SIZE, .quantized = true, .supported = true,           \
        .to_f32 = tl_##NAME##_to_f32, .from_f32 = FROM, .vec_dot = DOT, .dot_type = DOT_TYPE       \
    }

/* K(scalar, avx2) names a kernel that has an AVX2 version: the table being
** built takes one of the two. */
#define TRAITS_TABLE(K)                                                                            \
    {                                                                                              \
        [TL_DTYPE_F32] = {.name = "f32",                                                           \
                          .blck = 1,                                                               \
                          .size = 4,                                                               \
                          .supported = true,                                                       \
                          .to_f32 = f32_to_f32,                                                    \
                          .from_f32 = f32_from_f32,                                                \
                          .vec_dot = K(tl_f32_dot, tl_f32_dot_avx2),                               \
                          .dot_type = TL_DTYPE_F32},                                               \
        [TL_DTYPE_F16] = {.name = "f16",                                                           \
                          .blck = 1,                                                               \
                          .size = 2,                                                               \
                          .supported = true,                                                       \
                          .to_f32 = tl_f16_to_f32_row,                                             \
                          .from_f32 = tl_f16_from_f32_row,                                         \
                          .vec_dot = K(tl_f16_dot, tl_f16_dot_avx2),                               \
                          .dot_type = TL_DTYPE_F16},                                               \
        [TL_DTYPE_BF16] = {.name = "bf16",                                                         \
                           .blck = 1,                                                              \
                           .size = 2,                                                              \
                           .supported = true,                                                      \
                           .to_f32 = bf16_to_f32,                                                  \
                           .from_f32 = bf16_from_f32,                                              \
                           .vec_dot = dot_bf16,                                                    \
                           .dot_type = TL_DTYPE_BF16},                                             \
        [TL_DTYPE_I8] = PLAIN(i8, int8_t, TL_DTYPE_F32),                                           \
        [TL_DTYPE_I16] = PLAIN(i16, int16_t, TL_DTYPE_F32),                                        \
        [TL_DTYPE_I32] = PLAIN(i32, int32_t, TL_DTYPE_F32),                                        \
        [TL_DTYPE_I64] = PLAIN(i64, int64_t, TL_DTYPE_F32),                                        \
        [TL_DTYPE_F64] = PLAIN(f64, double, TL_DTYPE_F32),                                         \
        [TL_DTYPE_BOOL] = PLAIN(bool, uint8_t, TL_DTYPE_F32),                                      \
        [TL_DTYPE_Q4_0] = BLOCK(q4_0, 32, 18, tl_q4_0_quantize, K(tl_q4_0_dot, tl_q4_0_dot_avx2),  \
                                TL_DTYPE_Q8_0),                                                    \
        [TL_DTYPE_Q4_1] = BLOCK(q4_1, 32, 20, tl_q4_1_quantize, K(tl_q4_1_dot, tl_q4_1_dot_avx2),  \
                                TL_DTYPE_Q8_1),                                                    \
        [TL_DTYPE_Q5_0] = BLOCK(q5_0, 32, 22, tl_q5_0_quantize, K(tl_q5_0_dot, tl_q5_0_dot_avx2),  \
                                TL_DTYPE_Q8_0),                                                    \
        [TL_DTYPE_Q5_1] = BLOCK(q5_1, 32, 24, tl_q5_1_quantize, K(tl_q5_1_dot, tl_q5_1_dot_avx2),  \
                                TL_DTYPE_Q8_1),                                                    \
        [TL_DTYPE_Q8_0] = BLOCK(q8_0, 32, 34, K(tl_q8_0_quantize_act, tl_q8_0_quantize_act_avx2),  \
                                K(tl_q8_0_dot, tl_q8_0_dot_avx2), TL_DTYPE_Q8_0),                  \
        [TL_DTYPE_Q8_1] = BLOCK(q8_1, 32, 36, tl_q8_1_quantize_act, tl_q8_1_dot, TL_DTYPE_Q8_1),   \
        [TL_DTYPE_Q2_K] = BLOCK(q2_K, 256, 84, tl_q2_K_quantize, K(tl_q2_K_dot, tl_q2_K_dot_avx2), \
                                TL_DTYPE_Q8_K),                                                    \
        [TL_DTYPE_Q3_K] = BLOCK(q3_K, 256, 110, tl_q3_K_quantize,                                  \
                                K(tl_q3_K_dot, tl_q3_K_dot_avx2), TL_DTYPE_Q8_K),                  \
        [TL_DTYPE_Q4_K] = BLOCK(q4_K, 256, 144, tl_q4_K_quantize,                                  \
                                K(tl_q4_K_dot, tl_q4_K_dot_avx2), TL_DTYPE_Q8_K),                  \
        [TL_DTYPE_Q5_K] = BLOCK(q5_K, 256, 176, tl_q5_K_quantize,                                  \
                                K(tl_q5_K_dot, tl_q5_K_dot_avx2), TL_DTYPE_Q8_K),                  \
        [TL_DTYPE_Q6_K] = BLOCK(q6_K, 256, 210, tl_q6_K_quantize,                                  \
                                K(tl_q6_K_dot, tl_q6_K_dot_avx2), TL_DTYPE_Q8_K),                  \
        [TL_DTYPE_Q8_K] = BLOCK(q8_K, 256, 292, K(tl_q8_K_quantize, tl_q8_K_quantize_avx2),        \
                                tl_q8_K_dot, TL_DTYPE_Q8_K),                                       \
    }

#define SCALAR_KERNEL(scalar, avx2) scalar
static const tl_type_traits traits_scalar[TL_DTYPE_COUNT] = TRAITS_TABLE(SCALAR_KERNEL);

#ifdef TL_X86_KERNELS /* else no *_avx2.c is compiled: the scalar table serves both */
#define AVX2_KERNEL(scalar, avx2) avx2
static const tl_type_traits traits_avx2[TL_DTYPE_COUNT] = TRAITS_TABLE(AVX2_KERNEL);
#endif

const tl_type_traits *tl_dtype_traits_table(bool avx2) {
#ifdef TL_X86_KERNELS
    if (avx2) return traits_avx2;
#else
    (void)avx2;
#endif
    return traits_scalar;
}
