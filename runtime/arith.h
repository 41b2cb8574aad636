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
