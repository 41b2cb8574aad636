/* tests/ffi/tlffitest.c -- a small shared library (libtlffitest.so) that the
** FFI golden scripts in this directory call through `extern`.  Every function
** is plain C with no callbacks; tf_touch prints, so a golden .out shows
** whether a call that should have been refused reached C. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scalars */
int32_t tf_add_i32(int32_t a, int32_t b) {
    return a + b;
}
int8_t tf_neg_i8(int8_t x) {
    return (int8_t)-x;
}
int16_t tf_twice_i16(int16_t x) {
    return (int16_t)(2 * x);
}
int64_t tf_mul_i64(int64_t a, int64_t b) {
    return a * b;
}
uint8_t tf_u8_max(void) {
    return UINT8_MAX;
}
uint16_t tf_u16_inc(uint16_t x) {
    return (uint16_t)(x + 1);
}
uint32_t tf_u32_max(void) {
    return UINT32_MAX;
}
uint64_t tf_u64_shift(uint64_t x, uint32_t n) {
    return x << n;
}
float tf_scale_f32(float x, float s) {
    return x * s;
}
double tf_hypot(double a, double b) {
    return a * a + b * b;
}
bool tf_is_even(int64_t x) {
    return x % 2 == 0;
}
bool tf_not(bool b) {
    return !b;
}

/* ---- void and state */
static int64_t stored;
void tf_store(int64_t x) {
    stored = x;
}
int64_t tf_load(void) {
    return stored;
}
void tf_touch(int32_t x) {
    printf("tf_touch(%d) was called\n", x);
    fflush(stdout);
}

/* ---- strings */
const char *tf_greeting(void) {
    return "hello from C";
}
const char *tf_null_string(void) {
    return NULL;
}
int32_t tf_count_char(const char *s, int32_t c) {
    int32_t n = 0;
    for (; *s; s++)
        if ((unsigned char)*s == c) n++;
    return n;
}
/* Writes into the copy it is given (tl passes a private NUL-terminated copy). */
int32_t tf_upcase_len(char *s) {
    int32_t n = 0;
    for (; *s; s++, n++)
        if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 'a' + 'A');
    return n;
}

/* ---- tensors: pointers to contiguous storage */
void tf_fill_f32(float *buf, int32_t n, float start, float step) {
    for (int32_t i = 0; i < n; i++)
        buf[i] = start + step * (float)i;
}
float tf_sum_f32(const float *buf, int32_t n) {
    float s = 0;
    for (int32_t i = 0; i < n; i++)
        s += buf[i];
    return s;
}
void tf_iota_i32(int32_t *buf, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        buf[i] = i * i;
}
/* f16 bit patterns: negate by flipping the sign bit */
void tf_negate_f16(uint16_t *buf, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        buf[i] ^= 0x8000u;
}

/* ---- pointers */
typedef struct counter {
    int64_t next;
} counter;
void *tf_counter_new(int64_t start) {
    counter *c = malloc(sizeof *c);
    if (c) c->next = start;
    return c;
}
int64_t tf_counter_next(void *p) {
    return ((counter *)p)->next++;
}
void tf_counter_free(void *p) {
    free(p);
}
bool tf_is_null(const void *p) {
    return p == NULL;
}

/* ---- variadic (no callbacks) */
int64_t tf_sum_ints(int32_t n, ...) {
    va_list ap;
    va_start(ap, n);
    int64_t s = 0;
    for (int32_t i = 0; i < n; i++)
        s += va_arg(ap, int64_t);
    va_end(ap);
    return s;
}
double tf_avg(int32_t n, ...) {
    va_list ap;
    va_start(ap, n);
    double s = 0;
    for (int32_t i = 0; i < n; i++)
        s += va_arg(ap, double);
    va_end(ap);
    return n ? s / n : 0;
}
/* "i" int64, "d" double, "s" string, "b" bool (promoted to int), "p" pointer */
int32_t tf_describe(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (const char *f = fmt; *f; f++) {
        switch (*f) {
        case 'i':
            printf("[i %lld]", (long long)va_arg(ap, int64_t));
            break;
        case 'd':
            printf("[d %g]", va_arg(ap, double));
            break;
        case 's':
            printf("[s %s]", va_arg(ap, const char *));
            break;
        case 'b':
            printf("[b %d]", va_arg(ap, int));
            break;
        case 'p':
            printf("[p %s]", va_arg(ap, void *) ? "non-null" : "null");
            break;
        }
    }
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return (int32_t)strlen(fmt);
}
