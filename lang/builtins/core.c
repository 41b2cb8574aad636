/* lang/builtins/core.c -- core builtins: printing and formatting, conversions,
** scalar math, ranges, strings, arrays, assertions, panic/exit, environment.
** Tensor versions of shared names (abs, min, max, sqrt, ...) live in the tensor
** area; the defs here only accept scalar first arguments (see builtin.h). */
#include "lang/builtin.h"
#include "lang/builtins/tensor_args.h"
#include "lang/display.h"
#include "lang/eval_internal.h"
#include "lang/format.h"
#include "runtime/ops.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM (TL_KIND_BIT(TL_VAL_INT) | TL_KIND_BIT(TL_VAL_FLOAT))
#define STR TL_KIND_BIT(TL_VAL_STRING)
#define ARR TL_KIND_BIT(TL_VAL_ARRAY)

static bool has_placeholder(const tl_value *v) {
    return v->kind == TL_VAL_STRING && tl_format_has_placeholder(v->as.str->data);
}

/* print's three modes (docs/language.md) into b. */
static tl_status print_text(const tl_call *c, tl_strbuf *b, int argc, const tl_value *argv) {
    /* a lone string is printed as it is, "{}" included (the original did so) */
    if (argc > 1 && has_placeholder(&argv[0]))
        return tl_format_into(c->name, b, argv[0].as.str->data, argv[0].as.str->len, argc - 1,
                              argv + 1);
    for (int i = 0; i < argc; i++) {
        if (i) tl_strbuf_putc(b, ' ');
        tl_value_display(b, &argv[i]);
    }
    return TL_OK;
}

static tl_status b_print(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    tl_strbuf b = {0};
    tl_status st = print_text(c, &b, argc, argv);
    if (st == TL_OK) {
        tl_strbuf_putc(&b, '\n');
        if (b.oom)
            st = tl_fail(TL_ERR_NOMEM, "out of memory");
        else
            c->op ? (void)fwrite(b.data, 1, b.len, stderr) /* eprint */
                  : tl_interp_write(c->interp, b.data, b.len, false);
    }
    tl_strbuf_free(&b);
    return st;
}

static tl_status b_format(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *fmt;
    tl_status st = tl_arg_string(c, argv, 0, &fmt);
    if (st != TL_OK) return st;
    tl_strbuf b = {0};
    st = tl_format_into(c->name, &b, fmt, argv[0].as.str->len, argc - 1, argv + 1);
    if (st != TL_OK) {
        tl_strbuf_free(&b);
        return st;
    }
    return tl_strbuf_take_value(&b, out);
}

static tl_status b_str(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    tl_strbuf b = {0};
    tl_value_display(&b, &argv[0]);
    return tl_strbuf_take_value(&b, out);
}

static tl_status b_type_of(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    const char *name =
        argv[0].kind == TL_VAL_STRUCT ? argv[0].as.st->decl->name : tl_value_type_name(&argv[0]);
    return tl_value_cstring(name, out);
}

static tl_status b_len(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    const tl_value *v = &argv[0];
    if (v->kind == TL_VAL_ARRAY)
        *out = tl_value_int((int64_t)v->as.arr->len);
    else if (v->kind == TL_VAL_STRING)
        *out = tl_value_int((int64_t)v->as.str->len);
    else { /* tensor: size of the outermost axis */
        const tl_tensor *t = v->as.tensor;
        *out = tl_value_int(t->n_dims ? t->ne[t->n_dims - 1] : 1);
    }
    return TL_OK;
}

static tl_status b_to_int(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const tl_value *v = &argv[0];
    switch (v->kind) {
    case TL_VAL_INT:
        *out = *v;
        return TL_OK;
    case TL_VAL_BOOL:
        *out = tl_value_int(v->as.b);
        return TL_OK;
    case TL_VAL_FLOAT:
        if (!isfinite(v->as.f) || fabs(v->as.f) >= 9.2e18)
            return tl_fail(TL_ERR_RANGE, "to_int: %s does not fit in an int", tl_num_str(v->as.f));
        *out = tl_value_int((int64_t)trunc(v->as.f));
        return TL_OK;
    case TL_VAL_STRING: {
        const char *s = v->as.str->data;
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        while (*end && isspace((unsigned char)*end))
            end++;
        if (end == s || *end || errno)
            return tl_fail(TL_ERR_ARG, "to_int: \"%s\" is not an integer", s);
        *out = tl_value_int(x);
        return TL_OK;
    }
    default:
        return tl_fail(TL_ERR_TYPE, "%s: cannot convert %s to int", c->name, tl_value_type_name(v));
    }
}

static tl_status b_to_float(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const tl_value *v = &argv[0];
    switch (v->kind) {
    case TL_VAL_INT:
    case TL_VAL_FLOAT:
    case TL_VAL_BOOL:
        *out = tl_value_float(tl_value_as_double(v));
        return TL_OK;
    case TL_VAL_STRING: {
        const char *s = v->as.str->data;
        char *end;
        double d = strtod(s, &end);
        while (*end && isspace((unsigned char)*end))
            end++;
        if (end == s || *end) return tl_fail(TL_ERR_ARG, "to_float: \"%s\" is not a number", s);
        *out = tl_value_float(d);
        return TL_OK;
    }
    default:
        return tl_fail(TL_ERR_TYPE, "%s: cannot convert %s to float", c->name,
                       tl_value_type_name(v));
    }
}

/* ---- scalar math ---- */

static tl_status b_abs(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    if (argv[0].kind == TL_VAL_INT)
        *out =
            tl_value_int(argv[0].as.i < 0 ? (int64_t)(0 - (uint64_t)argv[0].as.i) : argv[0].as.i);
    else
        *out = tl_value_float(fabs(argv[0].as.f));
    return TL_OK;
}

static tl_status rounding(tl_call *c, const tl_value *argv, tl_value *out, double (*f)(double)) {
    (void)c;
    if (argv[0].kind == TL_VAL_INT)
        *out = argv[0];
    else
        *out = tl_value_float(f(argv[0].as.f));
    return TL_OK;
}
static tl_status b_floor(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return rounding(c, argv, out, floor);
}
static tl_status b_ceil(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return rounding(c, argv, out, ceil);
}
static tl_status b_round(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return rounding(c, argv, out, round);
}

static tl_status minmax(tl_call *c, int argc, const tl_value *argv, tl_value *out, bool want_max) {
    const tl_value *items = argv;
    size_t n = (size_t)argc;
    if (argc == 1 && argv[0].kind == TL_VAL_ARRAY) {
        items = argv[0].as.arr->items;
        n = argv[0].as.arr->len;
        if (n == 0) return tl_fail(TL_ERR_ARG, "%s of an empty array", c->name);
    } else if (argc < 2) {
        return tl_fail(TL_ERR_ARG, "%s needs two or more numbers, or an array", c->name);
    }
    const tl_value *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!tl_value_is_number(&items[i]))
            return tl_fail(TL_ERR_TYPE, "%s: %s is not a number", c->name,
                           tl_value_type_name(&items[i]));
        if (!best) {
            best = &items[i];
            continue;
        }
        double a = tl_value_as_double(&items[i]), b = tl_value_as_double(best);
        if (items[i].kind == TL_VAL_INT && best->kind == TL_VAL_INT) {
            if (want_max ? items[i].as.i > best->as.i : items[i].as.i < best->as.i)
                best = &items[i];
        } else if (want_max ? a > b : a < b) {
            best = &items[i];
        }
    }
    bool any_float = false;
    for (size_t i = 0; i < n; i++)
        any_float |= items[i].kind == TL_VAL_FLOAT;
    *out = any_float ? tl_value_float(tl_value_as_double(best)) : *best;
    return TL_OK;
}
static tl_status b_min(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    return minmax(c, argc, argv, out, false);
}
static tl_status b_max(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    return minmax(c, argc, argv, out, true);
}

#define UNARY_MATH(name, expr)                                                                     \
    static tl_status b_##name(tl_call *c, int argc, const tl_value *argv, tl_value *out) {         \
        (void)argc;                                                                                \
        double x;                                                                                  \
        tl_status st = tl_arg_double(c, argv, 0, &x);                                              \
        if (st == TL_OK) *out = tl_value_float(expr);                                              \
        return st;                                                                                 \
    }
UNARY_MATH(sqrt, sqrt(x))
UNARY_MATH(exp, exp(x))
UNARY_MATH(log, log(x))
UNARY_MATH(sin, sin(x))
UNARY_MATH(cos, cos(x))
UNARY_MATH(tan, tan(x))
UNARY_MATH(tanh, tanh(x))

static tl_status b_pow(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double x, y;
    tl_status st = tl_arg_double(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_double(c, argv, 1, &y);
    if (st == TL_OK) *out = tl_value_float(pow(x, y));
    return st;
}

static tl_status b_range(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    int64_t v[3] = {0, 0, 1};
    for (int i = 0; i < argc; i++) {
        tl_status st = tl_arg_int(c, argv, i, &v[i]);
        if (st != TL_OK) return st;
    }
    int64_t start = argc == 1 ? 0 : v[0], end = argc == 1 ? v[0] : v[1],
            step = argc == 3 ? v[2] : 1;
    if (step == 0) return tl_fail(TL_ERR_ARG, "%s: step must not be 0", c->name);
    double count = ceil(((double)end - (double)start) / (double)step);
    if (count > 1e8) return tl_fail(TL_ERR_NOMEM, "%s: %.0f elements is too many", c->name, count);
    tl_status st = tl_value_array(count > 0 ? (size_t)count : 0, out);
    for (int64_t i = start; st == TL_OK && (step > 0 ? i < end : i > end); i += step)
        st = tl_array_push(out->as.arr, tl_value_int(i));
    return st;
}

/* ---- strings ---- */

static tl_status b_string_length(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *s;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) *out = tl_value_int((int64_t)argv[0].as.str->len);
    return st;
}

static tl_status b_substring(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *s;
    int64_t a, b;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &a);
    int64_t len = st == TL_OK ? (int64_t)argv[0].as.str->len : 0;
    b = len;
    if (st == TL_OK && argc > 2) st = tl_arg_int(c, argv, 2, &b);
    if (st != TL_OK) return st;
    if (a < 0 || b < a || b > len)
        return tl_fail(TL_ERR_RANGE, "%s: range %lld..%lld is outside a string of length %lld",
                       c->name, (long long)a, (long long)b, (long long)len);
    return tl_value_string(s + a, (size_t)(b - a), out);
}

static tl_status b_split(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *s, *sep;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &sep);
    if (st != TL_OK) return st;
    size_t n = argv[0].as.str->len, m = argv[1].as.str->len;
    if (m == 0) return tl_fail(TL_ERR_ARG, "split: the separator must not be empty");
    st = tl_value_array(0, out);
    size_t start = 0;
    for (size_t i = 0; st == TL_OK && i + m <= n;) {
        if (memcmp(s + i, sep, m) == 0) {
            tl_value piece;
            st = tl_value_string(s + start, i - start, &piece);
            if (st == TL_OK) st = tl_array_push(out->as.arr, piece);
            i += m;
            start = i;
        } else {
            i++;
        }
    }
    if (st == TL_OK) {
        tl_value piece;
        st = tl_value_string(s + start, n - start, &piece);
        if (st == TL_OK) st = tl_array_push(out->as.arr, piece);
    }
    if (st != TL_OK) tl_value_release(out);
    return st;
}

static tl_status b_join(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *sep = "";
    if (argv[0].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "join: argument 1 must be an array, got %s",
                       tl_value_type_name(&argv[0]));
    if (argc > 1) {
        tl_status st = tl_arg_string(c, argv, 1, &sep);
        if (st != TL_OK) return st;
    }
    tl_strbuf b = {0};
    for (size_t i = 0; i < argv[0].as.arr->len; i++) {
        if (i) tl_strbuf_puts(&b, sep);
        tl_value_display(&b, &argv[0].as.arr->items[i]);
    }
    return tl_strbuf_take_value(&b, out);
}

static tl_status b_contains(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    if (argv[0].kind == TL_VAL_ARRAY) {
        bool found = false;
        for (size_t i = 0; i < argv[0].as.arr->len && !found; i++)
            found = tl_values_equal(&argv[0].as.arr->items[i], &argv[1]);
        *out = tl_value_bool(found);
        return TL_OK;
    }
    const char *s, *sub;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &sub);
    if (st == TL_OK)
        *out = tl_value_bool(memmem(s, argv[0].as.str->len, sub, argv[1].as.str->len) != NULL);
    return st;
}

static tl_status affix(tl_call *c, const tl_value *argv, tl_value *out, bool prefix) {
    const char *s, *p;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &p);
    if (st != TL_OK) return st;
    size_t n = argv[0].as.str->len, m = argv[1].as.str->len;
    *out = tl_value_bool(m <= n && memcmp(prefix ? s : s + n - m, p, m) == 0);
    return TL_OK;
}
static tl_status b_starts_with(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return affix(c, argv, out, true);
}
static tl_status b_ends_with(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return affix(c, argv, out, false);
}

static tl_status b_trim(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *s;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st != TL_OK) return st;
    size_t a = 0, b = argv[0].as.str->len;
    while (a < b && isspace((unsigned char)s[a]))
        a++;
    while (b > a && isspace((unsigned char)s[b - 1]))
        b--;
    return tl_value_string(s + a, b - a, out);
}

static tl_status b_replace(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *s, *from, *to;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st == TL_OK) st = tl_arg_string(c, argv, 1, &from);
    if (st == TL_OK) st = tl_arg_string(c, argv, 2, &to);
    if (st != TL_OK) return st;
    size_t n = argv[0].as.str->len, m = argv[1].as.str->len, k = argv[2].as.str->len;
    if (m == 0) return tl_value_string(s, n, out);
    tl_strbuf b = {0};
    for (size_t i = 0; i < n;) {
        if (i + m <= n && memcmp(s + i, from, m) == 0) {
            tl_strbuf_append(&b, to, k);
            i += m;
        } else {
            tl_strbuf_putc(&b, s[i++]);
        }
    }
    return tl_strbuf_take_value(&b, out);
}

static tl_status change_case(tl_call *c, const tl_value *argv, tl_value *out, bool up) {
    const char *s;
    tl_status st = tl_arg_string(c, argv, 0, &s);
    if (st != TL_OK) return st;
    st = tl_value_string(s, argv[0].as.str->len, out);
    if (st != TL_OK) return st;
    for (size_t i = 0; i < out->as.str->len; i++)
        out->as.str->data[i] = (char)(up ? toupper((unsigned char)out->as.str->data[i])
                                         : tolower((unsigned char)out->as.str->data[i]));
    return TL_OK;
}
static tl_status b_upper(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return change_case(c, argv, out, true);
}
static tl_status b_lower(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    return change_case(c, argv, out, false);
}

/* ---- arrays ---- */

static tl_status b_push(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)out;
    if (tl_value_would_cycle(&argv[1], argv[0].as.arr))
        return tl_fail(TL_ERR_ARG, "push: cannot put an array inside itself");
    return tl_array_push(argv[0].as.arr, tl_value_retain(argv[1]));
}

static tl_status b_pop(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_array *a = argv[0].as.arr;
    if (a->len == 0) return tl_fail(TL_ERR_RANGE, "%s: the array is empty", c->name);
    *out = a->items[--a->len];
    return TL_OK;
}

static tl_status array_index(tl_call *c, const tl_value *argv, size_t *out) {
    int64_t i;
    tl_status st = tl_arg_int(c, argv, 1, &i);
    if (st != TL_OK) return st;
    int64_t len = (int64_t)argv[0].as.arr->len;
    int64_t j = i < 0 ? i + len : i;
    if (j < 0 || j >= len)
        return tl_fail(TL_ERR_RANGE, "%s: index %lld out of range for array of length %lld",
                       c->name, (long long)i, (long long)len);
    *out = (size_t)j;
    return TL_OK;
}

static tl_status b_get(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    size_t i = 0;
    tl_status st = array_index(c, argv, &i);
    if (st == TL_OK) *out = tl_value_retain(argv[0].as.arr->items[i]);
    return st;
}

static tl_status b_set(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    size_t i = 0;
    tl_status st = array_index(c, argv, &i);
    if (st != TL_OK) return st;
    if (tl_value_would_cycle(&argv[2], argv[0].as.arr))
        return tl_fail(TL_ERR_ARG, "set: cannot put an array inside itself");
    tl_value_release(&argv[0].as.arr->items[i]);
    argv[0].as.arr->items[i] = tl_value_retain(argv[2]);
    return TL_OK;
}

static tl_status b_clear(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)out;
    tl_array *a = argv[0].as.arr;
    while (a->len)
        tl_value_release(&a->items[--a->len]);
    return TL_OK;
}

static tl_status b_is_empty(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    *out = tl_value_bool(argv[0].kind == TL_VAL_ARRAY ? argv[0].as.arr->len == 0
                                                      : argv[0].as.str->len == 0);
    return TL_OK;
}

/* ---- assertions, panic, exit ---- */

static tl_status b_assert(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    bool ok;
    tl_status st = tl_arg_bool(c, argv, 0, &ok);
    if (st != TL_OK) return st;
    if (ok) return TL_OK;
    if (argc > 1) {
        tl_strbuf b = {0}, e = {0};
        tl_value_display(&b, &argv[1]);
        tl_strbuf_put_escaped(&e, b.data ? b.data : "", b.len); /* no terminal escapes */
        st = tl_fail(TL_ERR_ARG, "assertion failed: %s", tl_strbuf_cstr(&e));
        tl_strbuf_free(&b);
        tl_strbuf_free(&e);
        return st;
    }
    return tl_fail(TL_ERR_ARG, "assertion failed");
}

static tl_status b_assert_eq(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)out;
    if (tl_values_equal(&argv[0], &argv[1])) return TL_OK;
    tl_strbuf a = {0}, b = {0};
    tl_value_display(&a, &argv[0]);
    tl_value_display(&b, &argv[1]);
    tl_strbuf ea = {0}, eb = {0};
    tl_strbuf_put_escaped(&ea, a.data ? a.data : "", a.len);
    tl_strbuf_put_escaped(&eb, b.data ? b.data : "", b.len);
    tl_status st = tl_fail(TL_ERR_ARG, "assert_eq failed: left = %s, right = %s",
                           tl_strbuf_cstr(&ea), tl_strbuf_cstr(&eb));
    tl_strbuf_free(&ea);
    tl_strbuf_free(&eb);
    tl_strbuf_free(&a);
    tl_strbuf_free(&b);
    return st;
}

static tl_status b_assert_about_eq(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    double eps = 1e-6;
    if (argc > 2) {
        tl_status st = tl_arg_double(c, argv, 2, &eps);
        if (st != TL_OK) return st;
    }
    double x, y;
    tl_status st = tl_arg_double(c, argv, 0, &x);
    if (st == TL_OK) st = tl_arg_double(c, argv, 1, &y);
    if (st != TL_OK) return st;
    if (fabs(x - y) <= eps) return TL_OK;
    tl_strbuf a = {0}, b = {0}, e = {0};
    tl_format_double(&a, x);
    tl_format_double(&b, y);
    tl_format_double(&e, eps);
    st = tl_fail(TL_ERR_ARG, "assert_about_eq failed: left = %s, right = %s, eps = %s",
                 tl_strbuf_cstr(&a), tl_strbuf_cstr(&b), tl_strbuf_cstr(&e));
    tl_strbuf_free(&a);
    tl_strbuf_free(&b);
    tl_strbuf_free(&e);
    return st;
}

static tl_status b_panic(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    tl_strbuf b = {0}, e = {0};
    tl_status st = argc ? print_text(c, &b, argc, argv) : TL_OK;
    tl_strbuf_put_escaped(&e, b.data ? b.data : "", b.len); /* no terminal escapes */
    if (st == TL_OK)
        st = tl_fail(TL_ERR_ARG, "panic: %s", argc ? tl_strbuf_cstr(&e) : "explicit panic");
    tl_strbuf_free(&b);
    tl_strbuf_free(&e);
    return st;
}

static tl_status b_exit(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    int64_t code = 0;
    if (argc > 0) {
        tl_status st = tl_arg_int(c, argv, 0, &code);
        if (st != TL_OK) return st;
    }
    if (code < 0 || code > 255)
        return tl_fail(TL_ERR_RANGE, "exit: code %lld is not in 0..255", (long long)code);
    fflush(stdout);
    tl_interp_request_exit(c->interp, (int)code);
    return tl_fail(TL_ERR_INTERRUPTED, "exit(%lld)", (long long)code);
}

/* ---- environment, input ---- */

static tl_status b_env(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *name;
    tl_status st = tl_arg_string(c, argv, 0, &name);
    if (st != TL_OK) return st;
    const char *v = getenv(name);
    if (v) return tl_value_cstring(v, out);
    if (argc > 1) {
        *out = tl_value_retain(argv[1]);
        return TL_OK;
    }
    return tl_fail(TL_ERR_ARG, "env: the environment variable %s is not set", name);
}

static tl_status b_input(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    if (argc > 0) {
        tl_strbuf b = {0};
        tl_value_display(&b, &argv[0]);
        tl_interp_write(c->interp, b.data ? b.data : "", b.len, false);
        tl_strbuf_free(&b);
    }
    tl_interp_write(c->interp, "", 0, true);
    tl_strbuf line = {0};
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n')
        tl_strbuf_putc(&line, (char)ch);
    if (line.len && line.data[line.len - 1] == '\r') line.data[--line.len] = '\0';
    return tl_strbuf_take_value(&line, out);
}

static tl_status b_args(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)argv;
    *out = tl_value_retain(*tl_interp_args(c->interp));
    return TL_OK;
}

static tl_status b_cleanup(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    (void)out;
    return TL_OK;
}

/* ---- constraint helpers: rank(x) <op> n, norm(x) <op> v (docs/language.md) ---- */

/* rank(x): a tensor's number of dims; an array's nesting depth (along its first
** elements); 0 for a number. */
static tl_status b_rank(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const tl_value *v = &argv[0];
    if (v->kind == TL_VAL_TENSOR) {
        *out = tl_value_int(v->as.tensor->n_dims);
        return TL_OK;
    }
    if (!tl_value_is_number(v) && v->kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "%s: needs a tensor, an array or a number, got %s", c->name,
                       tl_value_type_name(v));
    int64_t depth = 0;
    while (v->kind == TL_VAL_ARRAY) {
        depth++;
        if (v->as.arr->len == 0) break;
        v = &v->as.arr->items[0];
    }
    *out = tl_value_int(depth);
    return TL_OK;
}

/* norm(x): the L2 (Frobenius) norm of all elements, as a float, summed in double. */
static tl_status b_norm(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t = NULL, *f = NULL, *fc = NULL;
    tl_status st = tlb_tensor(c, argv, 0, &t);
    if (st == TL_OK) st = tl_op_cast(t, TL_DTYPE_F32, &f);
    if (st == TL_OK) st = tl_op_contiguous(f, &fc);
    if (st == TL_OK) {
        const float *p = tl_tensor_data(fc);
        double sum = 0;
        for (int64_t i = 0, n = tl_tensor_nelements(fc); i < n; i++)
            sum += (double)p[i] * p[i];
        *out = tl_value_float(sqrt(sum));
    }
    tl_tensor_unref(t);
    tl_tensor_unref(f);
    tl_tensor_unref(fc);
    return st;
}

const tl_builtin_def tl_builtins_core[] = {
    {"print", 0, -1, b_print, "print(fmt_or_value, ...)", 0},
    {"eprint", 0, -1, b_print, "eprint(fmt_or_value, ...) (like print, to stderr)", 0, 1},
    {"println", 0, -1, b_print, "println(fmt_or_value, ...)", 0},
    {"format", 1, -1, b_format, "format(fmt, ...) -> string", STR},
    {"str", 1, 1, b_str, "str(value) -> string", 0},
    {"to_string", 1, 1, b_str, "to_string(value) -> string", 0},
    {"type_of", 1, 1, b_type_of, "type_of(value) -> string", 0},
    {"len", 1, 1, b_len, "len(array | string | tensor) -> int",
     ARR | STR | TL_KIND_BIT(TL_VAL_TENSOR)},
    {"to_int", 1, 1, b_to_int, "to_int(value) -> int", 0},
    {"to_float", 1, 1, b_to_float, "to_float(value) -> float", 0},
    {"abs", 1, 1, b_abs, "abs(number) -> number", NUM},
    {"floor", 1, 1, b_floor, "floor(number) -> number", NUM},
    {"ceil", 1, 1, b_ceil, "ceil(number) -> number", NUM},
    {"round", 1, 1, b_round, "round(number) -> number", NUM},
    {"min", 1, -1, b_min, "min(a, b, ...) or min(array)", NUM | ARR},
    {"max", 1, -1, b_max, "max(a, b, ...) or max(array)", NUM | ARR},
    {"sqrt", 1, 1, b_sqrt, "sqrt(number) -> float", NUM},
    {"exp", 1, 1, b_exp, "exp(number) -> float", NUM},
    {"log", 1, 1, b_log, "log(number) -> float", NUM},
    {"sin", 1, 1, b_sin, "sin(number) -> float", NUM},
    {"cos", 1, 1, b_cos, "cos(number) -> float", NUM},
    {"tan", 1, 1, b_tan, "tan(number) -> float", NUM},
    {"tanh", 1, 1, b_tanh, "tanh(number) -> float", NUM},
    {"pow", 2, 2, b_pow, "pow(number, number) -> float", NUM},
    {"rank", 1, 1, b_rank, "rank(tensor | array | number) -> int", 0},
    {"norm", 1, 1, b_norm, "norm(tensor | array | number) -> float (L2 norm)", 0},
    {"range", 1, 3, b_range, "range(n) | range(a, b[, step]) -> array of int", NUM},
    {"range_i", 1, 3, b_range, "range_i(n) | range_i(a, b[, step]) -> array of int", NUM},
    {"string_length", 1, 1, b_string_length, "string_length(s) -> int", 0},
    {"string_substring", 2, 2, b_substring, "string_substring(s, start) -> string", 0},
    {"substring", 2, 3, b_substring, "substring(s, start[, end]) -> string", STR},
    {"split", 2, 2, b_split, "split(s, sep) -> array of string", STR},
    {"join", 1, 2, b_join, "join(array[, sep]) -> string", ARR},
    {"contains", 2, 2, b_contains, "contains(s, sub) | contains(array, value) -> bool", STR | ARR},
    {"starts_with", 2, 2, b_starts_with, "starts_with(s, prefix) -> bool", 0},
    {"ends_with", 2, 2, b_ends_with, "ends_with(s, suffix) -> bool", 0},
    {"trim", 1, 1, b_trim, "trim(s) -> string", 0},
    {"replace", 3, 3, b_replace, "replace(s, from, to) -> string", STR},
    {"upper", 1, 1, b_upper, "upper(s) -> string", 0},
    {"lower", 1, 1, b_lower, "lower(s) -> string", 0},
    {"push", 2, 2, b_push, "push(array, value)", ARR},
    {"pop", 1, 1, b_pop, "pop(array) -> value", ARR},
    {"get", 2, 2, b_get, "get(array, i) -> value", ARR},
    {"set", 3, 3, b_set, "set(array, i, value)", ARR},
    {"clear", 1, 1, b_clear, "clear(array)", ARR},
    {"is_empty", 1, 1, b_is_empty, "is_empty(array | string) -> bool", ARR | STR},
    {"assert", 1, 2, b_assert, "assert(cond[, message])", 0},
    {"assert_eq", 2, 3, b_assert_eq, "assert_eq(left, right)", 0},
    {"assert_about_eq", 2, 3, b_assert_about_eq, "assert_about_eq(a, b[, eps])", NUM},
    {"panic", 0, -1, b_panic, "panic(fmt, ...)", 0},
    {"exit", 0, 1, b_exit, "exit([code])", 0},
    {"env", 1, 2, b_env, "env(name[, default]) -> string", 0},
    {"input", 0, 1, b_input, "input([prompt]) -> string", 0},
    {"args", 0, 0, b_args, "args() -> array of string", 0},
    {"cleanup", 0, -1, b_cleanup, "cleanup(...)", 0},
    {0},
};
