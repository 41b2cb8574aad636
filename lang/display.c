/* lang/display.c -- value display (see display.h). */
#include "lang/display.h"
#include "lang/value_struct.h"
#include "lang/builtin.h"
#include "runtime/half.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Renders the decimal digits `digits` (no dot) with decimal exponent `exp10`
** (value = 0.d1d2d3... * 10^exp10) positionally, like Rust's Display. */
static void positional(tl_strbuf *b, bool neg, const char *digits, int exp10) {
    if (neg) tl_strbuf_putc(b, '-');
    int nd = (int)strlen(digits);
    if (exp10 <= 0) {
        tl_strbuf_puts(b, "0.");
        for (int i = 0; i < -exp10; i++)
            tl_strbuf_putc(b, '0');
        tl_strbuf_puts(b, digits);
    } else if (exp10 >= nd) {
        tl_strbuf_puts(b, digits);
        for (int i = nd; i < exp10; i++)
            tl_strbuf_putc(b, '0');
    } else {
        tl_strbuf_append(b, digits, (size_t)exp10);
        tl_strbuf_putc(b, '.');
        tl_strbuf_puts(b, digits + exp10);
    }
}

/* Shortest "%.*e" that round-trips, split into digits and exponent. */
static void shortest(double d, bool is_float, char *digits, int *exp10) {
    char buf[64];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec, d);
        bool ok = is_float ? (strtof(buf, NULL) == (float)d) : (strtod(buf, NULL) == d);
        if (ok) break;
    }
    /* buf = "D.DDDDe[+-]XX" */
    char *e = strchr(buf, 'e');
    int ex = atoi(e + 1);
    size_t k = 0;
    for (char *p = buf; p < e; p++)
        if (*p >= '0' && *p <= '9') digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *exp10 = ex + 1;
}

static void format_real(tl_strbuf *b, double d, bool is_float) {
    if (isnan(d)) {
        tl_strbuf_puts(b, "NaN");
        return;
    }
    if (isinf(d)) {
        tl_strbuf_puts(b, d < 0 ? "-inf" : "inf");
        return;
    }
    bool neg = signbit(d);
    if (d == 0) {
        tl_strbuf_puts(b, neg ? "-0" : "0");
        return;
    }
    char digits[40];
    int exp10;
    shortest(fabs(d), is_float, digits, &exp10);
    positional(b, neg, digits, exp10);
}

void tl_format_double(tl_strbuf *b, double d) {
    format_real(b, d, false);
}
void tl_format_float(tl_strbuf *b, float f) {
    format_real(b, (double)f, true);
}

bool tl_tensor_read_double(const tl_tensor *t, size_t offset, double *out) {
    const char *p = (const char *)t->storage->data + t->offs + offset;
    switch (t->dtype) {
    case TL_DTYPE_F32: {
        float f;
        memcpy(&f, p, 4);
        *out = f;
        return true;
    }
    case TL_DTYPE_F16: {
        tl_f16 h;
        memcpy(&h, p, 2);
        *out = tl_f16_to_f32(h);
        return true;
    }
    case TL_DTYPE_BF16: {
        tl_bf16 h;
        memcpy(&h, p, 2);
        *out = tl_bf16_to_f32(h);
        return true;
    }
    case TL_DTYPE_F64:
        memcpy(out, p, 8);
        return true;
    case TL_DTYPE_I8:
        *out = *(const int8_t *)p;
        return true;
    case TL_DTYPE_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        *out = v;
        return true;
    }
    case TL_DTYPE_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        *out = v;
        return true;
    }
    case TL_DTYPE_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        *out = (double)v;
        return true;
    }
    case TL_DTYPE_BOOL:
        *out = *(const uint8_t *)p ? 1 : 0;
        return true;
    default:
        return false;
    }
}

static void tensor_values(tl_strbuf *b, const tl_tensor *t, int dim, size_t offset) {
    if (dim < 0) {
        double d = 0;
        tl_tensor_read_double(t, offset, &d);
        if (t->dtype == TL_DTYPE_F32 || t->dtype == TL_DTYPE_F16 || t->dtype == TL_DTYPE_BF16)
            tl_format_float(b, (float)d);
        else if (t->dtype == TL_DTYPE_F64)
            tl_format_double(b, d);
        else if (t->dtype == TL_DTYPE_BOOL)
            tl_strbuf_puts(b, d != 0 ? "true" : "false");
        else if (t->dtype == TL_DTYPE_I64) { /* not through double: exact, and no UB at 2^63 */
            int64_t v;
            memcpy(&v, (const char *)t->storage->data + t->offs + offset, sizeof v);
            tl_strbuf_printf(b, "%lld", (long long)v);
        } else
            tl_strbuf_printf(b, "%lld", (long long)d);
        return;
    }
    tl_strbuf_putc(b, '[');
    for (int64_t i = 0; i < t->ne[dim]; i++) {
        if (i) tl_strbuf_puts(b, ", ");
        tensor_values(b, t, dim - 1, offset + (size_t)i * t->nb[dim]);
    }
    tl_strbuf_putc(b, ']');
}

/* s in double quotes with \" \\ \n \t \r \0 escaped. */
void tl_display_quoted(tl_strbuf *b, const char *s, size_t len) {
    tl_strbuf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':
            tl_strbuf_puts(b, "\\\"");
            break;
        case '\\':
            tl_strbuf_puts(b, "\\\\");
            break;
        case '\n':
            tl_strbuf_puts(b, "\\n");
            break;
        case '\t':
            tl_strbuf_puts(b, "\\t");
            break;
        case '\r':
            tl_strbuf_puts(b, "\\r");
            break;
        case '\0':
            tl_strbuf_puts(b, "\\0");
            break;
        default:
            tl_strbuf_putc(b, s[i]);
        }
    }
    tl_strbuf_putc(b, '"');
}

/* At most 64 levels and DISPLAY_BUDGET values are shown ("..." for the rest):
** a shared value like `a = [a, a]` repeated stays cheap to print. */
#define DISPLAY_BUDGET 100000

static void display(tl_strbuf *b, const tl_value *v, bool nested, int depth, size_t *budget) {
    if (depth > 64 || *budget == 0) {
        tl_strbuf_puts(b, "...");
        return;
    }
    --*budget;
    switch (v->kind) {
    case TL_VAL_VOID:
        tl_strbuf_puts(b, "void");
        break;
    case TL_VAL_INT:
        tl_strbuf_printf(b, "%lld", (long long)v->as.i);
        break;
    case TL_VAL_FLOAT:
        tl_format_double(b, v->as.f);
        break;
    case TL_VAL_BOOL:
        tl_strbuf_puts(b, v->as.b ? "true" : "false");
        break;
    case TL_VAL_STRING:
        if (!nested) {
            tl_strbuf_append(b, v->as.str->data, v->as.str->len);
            break;
        }
        tl_display_quoted(b, v->as.str->data, v->as.str->len);
        break;
    case TL_VAL_ARRAY: {
        const tl_array *a = v->as.arr;
        tl_strbuf_putc(b, '[');
        if (a->len > 10) {
            for (size_t i = 0; i < 3; i++) {
                display(b, &a->items[i], true, depth + 1, budget);
                tl_strbuf_puts(b, ", ");
            }
            tl_strbuf_puts(b, "..., ");
            display(b, &a->items[a->len - 1], true, depth + 1, budget);
            tl_strbuf_printf(b, "] (len=%zu)", a->len);
            break;
        }
        for (size_t i = 0; i < a->len; i++) {
            if (i) tl_strbuf_puts(b, ", ");
            display(b, &a->items[i], true, depth + 1, budget);
        }
        tl_strbuf_putc(b, ']');
        break;
    }
    case TL_VAL_TENSOR: {
        const tl_tensor *t = v->as.tensor;
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        bool plain = tr && !tr->quantized; /* f16/bf16 too: small ones show values like f32 */
        if (plain && tl_tensor_nelements(t) <= 10) {
            tensor_values(b, t, t->n_dims - 1, 0);
        } else {
            char shape[128];
            tl_strbuf_printf(b, "Tensor<%s>(shape=%s)", tl_dtype_name(t->dtype),
                             tl_tensor_shape_str(t, shape, sizeof shape));
        }
        break;
    }
    case TL_VAL_STRUCT: {
        const tl_struct_value *s = v->as.st;
        tl_strbuf_printf(b, "%s {", s->decl->name);
        const tl_node *f = s->decl->a;
        for (uint32_t i = 0; i < s->n && f; i++, f = f->next) {
            tl_strbuf_printf(b, "%s %s: ", i ? "," : "", f->name);
            display(b, &s->fields[i], true, depth + 1, budget);
        }
        tl_strbuf_puts(b, s->n ? " }" : "}");
        break;
    }
    case TL_VAL_FUNC:
        tl_strbuf_printf(b, "<fn %s>", v->as.fn->decl->name);
        break;
    case TL_VAL_BUILTIN:
        tl_strbuf_printf(b, "<builtin %s>", v->as.builtin->name);
        break;
    case TL_VAL_OBJECT:
        tl_strbuf_printf(b, "<%s>", v->as.obj->cls->name);
        break;
    default:
        tl_strbuf_puts(b, "?");
        break;
    }
}

void tl_value_display(tl_strbuf *b, const tl_value *v) {
    size_t budget = DISPLAY_BUDGET;
    display(b, v, false, 0, &budget);
}

int tl_struct_field_index(const tl_struct_value *s, const char *name) {
    int i = 0;
    for (const tl_node *f = s->decl->a; f; f = f->next, i++)
        if (strcmp(f->name, name) == 0) return i;
    return -1;
}
