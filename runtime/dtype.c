/* runtime/dtype.c -- the traits table and the plain types' scalar kernels. */
#include "runtime/dtype.h"

#include "runtime/cpu.h"
#include "runtime/half.h"
#include "runtime/quant.h"

#include <pthread.h>
#include <strings.h>

/* ---- plain types: row conversions ---------------------------------------- */

static void f32_to_f32(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void f32_from_f32(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void f16_to_f32(const void *src, float *dst, int64_t n) {
    const tl_f16 *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = tl_f16_to_f32(s[i]);
}
static void f16_from_f32(const float *src, void *dst, int64_t n) {
    tl_f16 *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = tl_f32_to_f16(src[i]);
}
static void bf16_to_f32(const void *src, float *dst, int64_t n) {
    const tl_bf16 *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = tl_bf16_to_f32(s[i]);
}
static void bf16_from_f32(const float *src, void *dst, int64_t n) {
    tl_bf16 *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = tl_f32_to_bf16(src[i]);
}

#define INT_CONVERTERS(NAME, CTYPE)                                                                \
    static void NAME##_to_f32(const void *src, float *dst, int64_t n) {                            \
        const CTYPE *s = src;                                                                      \
        for (int64_t i = 0; i < n; i++) dst[i] = (float)s[i];                                      \
    }                                                                                              \
    static void NAME##_from_f32(const float *src, void *dst, int64_t n) {                          \
        CTYPE *d = dst;                                                                            \
        for (int64_t i = 0; i < n; i++) d[i] = (CTYPE)src[i];                                      \
    }
INT_CONVERTERS(i8, int8_t)
INT_CONVERTERS(i16, int16_t)
INT_CONVERTERS(i32, int32_t)
INT_CONVERTERS(i64, int64_t)
INT_CONVERTERS(f64, double)

static void bool_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = s[i] ? 1.0f : 0.0f;
}
static void bool_from_f32(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = src[i] != 0.0f;
}

/* ---- plain types: dot products (scalar references) ----------------------- */

/* f32 . f32, accumulated in double as ggml's scalar ggml_vec_dot_f32 does. */
static void dot_f32(int64_t n, float *out, const void *x, const void *y) {
    const float *a = x, *b = y;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(a[i] * b[i]);
    *out = (float)sum;
}

/* f16 . f16 (the activation already rounded to f16), accumulated in double. */
static void dot_f16(int64_t n, float *out, const void *x, const void *y) {
    const tl_f16 *a = x, *b = y;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(tl_f16_to_f32(a[i]) * tl_f16_to_f32(b[i]));
    *out = (float)sum;
}

static void dot_bf16(int64_t n, float *out, const void *x, const void *y) {
    const tl_bf16 *a = x, *b = y;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(tl_bf16_to_f32(a[i]) * tl_bf16_to_f32(b[i]));
    *out = (float)sum;
}

/* ---- the table ----------------------------------------------------------- */

#define PLAIN(NAME, CTYPE, DT)                                                                     \
    {.name = #NAME, .blck = 1, .size = sizeof(CTYPE), .supported = true,                           \
     .to_f32 = NAME##_to_f32, .from_f32 = NAME##_from_f32, .dot_type = DT}
/* Block types: kernels are registered by runtime/quant/ (supported = false until then). */
#define BLOCK(NAME, BLCK, SIZE, DOT)                                                               \
    {.name = #NAME, .blck = BLCK, .size = SIZE, .quantized = true, .dot_type = DOT}

static tl_type_traits type_traits[TL_DTYPE_COUNT] = {
    [TL_DTYPE_F32] = {.name = "f32", .blck = 1, .size = 4, .supported = true, .to_f32 = f32_to_f32,
                      .from_f32 = f32_from_f32, .vec_dot = dot_f32, .dot_type = TL_DTYPE_F32},
    [TL_DTYPE_F16] = {.name = "f16", .blck = 1, .size = 2, .supported = true, .to_f32 = f16_to_f32,
                      .from_f32 = f16_from_f32, .vec_dot = dot_f16, .dot_type = TL_DTYPE_F16},
    [TL_DTYPE_BF16] = {.name = "bf16", .blck = 1, .size = 2, .supported = true,
                       .to_f32 = bf16_to_f32, .from_f32 = bf16_from_f32, .vec_dot = dot_bf16,
                       .dot_type = TL_DTYPE_BF16},
    [TL_DTYPE_I8] = PLAIN(i8, int8_t, TL_DTYPE_F32),
    [TL_DTYPE_I16] = PLAIN(i16, int16_t, TL_DTYPE_F32),
    [TL_DTYPE_I32] = PLAIN(i32, int32_t, TL_DTYPE_F32),
    [TL_DTYPE_I64] = PLAIN(i64, int64_t, TL_DTYPE_F32),
    [TL_DTYPE_F64] = PLAIN(f64, double, TL_DTYPE_F32),
    [TL_DTYPE_BOOL] = PLAIN(bool, uint8_t, TL_DTYPE_F32),
    [TL_DTYPE_Q4_0] = BLOCK(q4_0, 32, 18, TL_DTYPE_Q8_0),
    [TL_DTYPE_Q4_1] = BLOCK(q4_1, 32, 20, TL_DTYPE_Q8_1),
    [TL_DTYPE_Q5_0] = BLOCK(q5_0, 32, 22, TL_DTYPE_Q8_0),
    [TL_DTYPE_Q5_1] = BLOCK(q5_1, 32, 24, TL_DTYPE_Q8_1),
    [TL_DTYPE_Q8_0] = BLOCK(q8_0, 32, 34, TL_DTYPE_Q8_0),
    [TL_DTYPE_Q8_1] = BLOCK(q8_1, 32, 36, TL_DTYPE_Q8_1),
    [TL_DTYPE_Q2_K] = BLOCK(q2_K, 256, 84, TL_DTYPE_Q8_K),
    [TL_DTYPE_Q3_K] = BLOCK(q3_K, 256, 110, TL_DTYPE_Q8_K),
    [TL_DTYPE_Q4_K] = BLOCK(q4_K, 256, 144, TL_DTYPE_Q8_K),
    [TL_DTYPE_Q5_K] = BLOCK(q5_K, 256, 176, TL_DTYPE_Q8_K),
    [TL_DTYPE_Q6_K] = BLOCK(q6_K, 256, 210, TL_DTYPE_Q8_K),
    [TL_DTYPE_Q8_K] = BLOCK(q8_K, 256, 292, TL_DTYPE_Q8_K),
};

bool tl_dtype_is_valid(int id) {
    return id >= 0 && id < TL_DTYPE_COUNT && type_traits[id].name != NULL;
}

/* Registers the block types' kernels (scalar, then AVX2 where the CPU has it
** and TL_NO_AVX2 is unset).  Must not call tl_dtype_traits (pthread_once). */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void runtime_init(void) { tl_quant_register(tl_cpu_use_avx2()); }

void tl_runtime_init(void) { pthread_once(&init_once, runtime_init); }

const tl_type_traits *tl_dtype_traits(tl_dtype dt) {
    tl_runtime_init();
    return tl_dtype_is_valid((int)dt) ? &type_traits[dt] : NULL;
}

const char *tl_dtype_name(tl_dtype dt) {
    return tl_dtype_is_valid((int)dt) ? type_traits[dt].name : "?";
}

bool tl_dtype_from_name(const char *name, tl_dtype *out) {
    for (int i = 0; i < TL_DTYPE_COUNT; i++) {
        if (type_traits[i].name && strcasecmp(type_traits[i].name, name) == 0) {
            *out = (tl_dtype)i;
            return true;
        }
    }
    return false;
}

size_t tl_dtype_row_size(tl_dtype dt, int64_t n) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    if (!t || n < 0 || n % t->blck != 0) return 0;
    return (size_t)(n / t->blck) * t->size;
}

void tl_dtype_set_kernels(tl_dtype dt, tl_to_f32_fn to_f32, tl_from_f32_fn from_f32,
                          tl_vec_dot_fn vec_dot, tl_dtype dot_type) {
    if (!tl_dtype_is_valid((int)dt)) return;
    tl_type_traits *t = &type_traits[dt];
    if (to_f32) t->to_f32 = to_f32;
    if (from_f32) t->from_f32 = from_f32;
    if (vec_dot) t->vec_dot = vec_dot;
    t->dot_type = dot_type;
    t->supported = t->to_f32 != NULL;
}
