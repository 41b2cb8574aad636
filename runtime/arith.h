/* runtime/arith.h -- integer and float division and remainder, decided once
** for the scalars of the language (lang/eval_expr.c) and the tensor ops
** (runtime/ops/elementwise.c).
**
** The rule is Python's and NumPy's: integer `/` rounds toward negative
** infinity (floor division: -7 / 2 == -4), and `%` has the sign of the divisor
** (-7 % 2 == 1, 7 % -2 == -1), so a == (a / b) * b + a % b always holds.
** INT64_MIN / -1 wraps to INT64_MIN (remainder 0), as the other integer ops
** wrap.  Callers check b != 0 for integers.  For floats `/` is IEEE division
** and `%` is fmod moved to the divisor's sign. */
#ifndef TL_RUNTIME_ARITH_H
#define TL_RUNTIME_ARITH_H

#include <math.h>
#include <stdint.h>

static inline int64_t tl_i64_floordiv(int64_t a, int64_t b) {
    if (b == -1) return (int64_t)(0 - (uint64_t)a);
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static inline int64_t tl_i64_floormod(int64_t a, int64_t b) {
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

/* ---- the arithmetic of one element type ------------------------------------
** For code written once over the element type (runtime/ops/elementwise.c's
** row loops, lang/eval_expr.c's int and float scalars): tl_<T>_add/sub/mul/div,
** tl_<T>_floormod.  i64 add, sub and mul wrap (two's complement, no undefined
** overflow); i64 div is the floor division above (the caller checks b != 0);
** f32 and f64 are IEEE. */
static inline int64_t tl_i64_add(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t tl_i64_sub(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}
static inline int64_t tl_i64_mul(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a * (uint64_t)b);
}
static inline int64_t tl_i64_div(int64_t a, int64_t b) {
    return tl_i64_floordiv(a, b);
}
#define TL_FLOAT_ARITH(T, CT)                                                                      \
    static inline CT tl_##T##_add(CT a, CT b) {                                                    \
        return a + b;                                                                              \
    }                                                                                              \
    static inline CT tl_##T##_sub(CT a, CT b) {                                                    \
        return a - b;                                                                              \
    }                                                                                              \
    static inline CT tl_##T##_mul(CT a, CT b) {                                                    \
        return a * b;                                                                              \
    }                                                                                              \
    static inline CT tl_##T##_div(CT a, CT b) {                                                    \
        return a / b;                                                                              \
    }
TL_FLOAT_ARITH(f32, float)
TL_FLOAT_ARITH(f64, double)
#undef TL_FLOAT_ARITH

static inline double tl_f64_floormod(double a, double b) {
    double r = fmod(a, b);
    if (r != 0.0 && ((r < 0.0) != (b < 0.0))) r += b;
    return r;
}

static inline float tl_f32_floormod(float a, float b) {
    float r = fmodf(a, b);
    if (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) r += b;
    return r;
}

#endif
