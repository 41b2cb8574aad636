/* tests/unit/test_ops_util.h -- small helpers shared by the test_ops_*.c tests:
** building tensors from literal values, reading elements back, and a
** deterministic value generator for reference comparisons. */
#ifndef TL_TEST_OPS_UTIL_H
#define TL_TEST_OPS_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "runtime/ops.h"
#include "runtime/threadpool.h"

/* A tensor of dtype dt with a NumPy-order shape, filled from vals (row-major). */
static inline tl_tensor *mk(tl_dtype dt, int n_dims, const int64_t *shape, const double *vals) {
    tl_tensor *t = NULL;
    assert_int_equal(tl_tensor_new_shape(dt, n_dims, shape, &t), TL_OK);
    int64_t n = tl_tensor_nelements(t);
    size_t esz = tl_dtype_traits(dt)->size;
    char *p = tl_tensor_data(t);
    for (int64_t i = 0; vals && i < n; i++) {
        double v = vals[i];
        void *e = p + (size_t)i * esz;
        switch (dt) {
        case TL_DTYPE_F32:
            *(float *)e = (float)v;
            break;
        case TL_DTYPE_F16:
            *(tl_f16 *)e = tl_f32_to_f16((float)v);
            break;
        case TL_DTYPE_BF16:
            *(tl_bf16 *)e = tl_f32_to_bf16((float)v);
            break;
        case TL_DTYPE_I32:
            *(int32_t *)e = (int32_t)v;
            break;
        case TL_DTYPE_I64:
            *(int64_t *)e = (int64_t)v;
            break;
        case TL_DTYPE_BOOL:
            *(uint8_t *)e = v != 0;
            break;
        default:
            fail_msg("mk: dtype");
            break;
        }
    }
    return t;
}

/* Deterministic pseudo-random values in [-scale, scale). */
static inline void fill_vals(double *v, int64_t n, uint32_t seed, double scale) {
    uint32_t x = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        v[i] = ((double)(x >> 8) / 16777216.0 * 2.0 - 1.0) * scale;
    }
}

static inline tl_tensor *mk_rand(tl_dtype dt, int n_dims, const int64_t *shape, uint32_t seed) {
    int64_t n = 1;
    for (int i = 0; i < n_dims; i++)
        n *= shape[i];
    double *v =
        calloc((size_t)(n ? n : 1), sizeof *v); /* zeroed: gcc cannot see fill_vals set all */
    fill_vals(v, n, seed, 2.0);
    tl_tensor *t = mk(dt, n_dims, shape, v);
    free(v);
    return t;
}

static inline double at(const tl_tensor *t, int64_t flat) {
    double v = 0;
    assert_int_equal(tl_tensor_get_f64(t, flat, &v), TL_OK);
    return v;
}

/* Shape of t in NumPy order as a string, for assertions. */
static inline const char *shp(const tl_tensor *t) {
    static char buf[4][96];
    static int k;
    k = (k + 1) & 3;
    return tl_tensor_shape_str(t, buf[k], sizeof buf[k]);
}

/* float of a value as stored in dt (the rounding a dt result goes through) */
static inline float round_to(tl_dtype dt, float v) {
    if (dt == TL_DTYPE_F16) return tl_f16_to_f32(tl_f32_to_f16(v));
    if (dt == TL_DTYPE_BF16) return tl_bf16_to_f32(tl_f32_to_bf16(v));
    return v;
}

/* Bitwise equality of two tensors' contents (both contiguous, same dtype/shape). */
static inline void assert_same_bytes(const tl_tensor *a, const tl_tensor *b) {
    assert_int_equal(a->dtype, b->dtype);
    assert_true(tl_tensor_same_shape(a, b));
    assert_true(tl_tensor_is_contiguous(a) && tl_tensor_is_contiguous(b));
    assert_memory_equal(tl_tensor_data(a), tl_tensor_data(b), tl_tensor_nbytes(a));
}

/* group teardown: joins the pool's workers so valgrind sees no thread stacks */
static inline int stop_pool(void **state) {
    (void)state;
    tl_threadpool_shutdown();
    return 0;
}

#define OK(expr) assert_int_equal((expr), TL_OK)

#endif
