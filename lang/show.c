/* lang/show.c -- values as the REPL shows them, and the show() builtin's text
** (lang/show.h): tensors with a NumPy-like preview, floats in the shortest %g
** spelling that reads back, strings quoted. */
#include "lang/show.h"
#include "lang/display.h"
#include "lang/json_value.h"
#include "lang/value_struct.h"
#include "runtime/dtype.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EDGE_ITEMS 3    /* shown at each end of an elided dimension        */
#define SUMMARY_AT 1000 /* elide once the tensor has more elements than this */
#define MAX_BLOCK  256  /* largest block (elements) of any quantized type   */

typedef struct preview {
    const tl_tensor *t;
    const tl_type_traits *tr;
    bool summarize;
    bool is_float;
    int width; /* column width: the widest formatted element */
    /* float style, chosen from the shown values (as PyTorch does): integers,
    ** fixed with 4 decimals, or scientific when magnitudes span > 1e3 or leave
    ** [1e-4, 1e8) */
    enum { STYLE_INT, STYLE_FIXED, STYLE_SCI } style;
    bool measuring;
    double max_abs, min_abs; /* over the shown finite non-zero values */
    bool all_int;
    tl_strbuf tmp;
} preview;

#define LINE_WIDTH 80

/* The element at ne-order index idx[0..n_dims) as a double. */
static bool read_elem(const preview *p, const int64_t *idx, double *out) {
    const tl_tensor *t = p->t;
    size_t off = 0;
    for (int d = 1; d < t->n_dims; d++)
        off += (size_t)idx[d] * t->nb[d];
    if (!p->tr || !p->tr->quantized) {
        off += (size_t)(t->n_dims > 0 ? idx[0] : 0) * t->nb[0];
        return tl_tensor_read_double(t, off, out);
    }
    if (!p->tr->to_f32 || p->tr->blck > MAX_BLOCK) return false;
    int64_t blk = idx[0] / p->tr->blck;
    off += (size_t)blk * t->nb[0];
    float vals[MAX_BLOCK];
    p->tr->to_f32((const char *)t->storage->data + t->offs + off, vals, p->tr->blck);
    *out = vals[idx[0] % p->tr->blck];
    return true;
}

static void format_elem(preview *p, tl_strbuf *b, const int64_t *idx) {
    double d = 0;
    if (!read_elem(p, idx, &d)) {
        tl_strbuf_putc(b, '?');
        return;
    }
    if (p->t->dtype == TL_DTYPE_BOOL) {
        tl_strbuf_puts(b, d != 0 ? "true" : "false");
    } else if (!p->is_float) {
        tl_strbuf_printf(b, "%lld", (long long)d);
    } else if (d != d) {
        tl_strbuf_puts(b, "nan");
    } else if (d == 1.0 / 0.0 || d == -1.0 / 0.0) {
        tl_strbuf_puts(b, d > 0 ? "inf" : "-inf");
    } else if (p->measuring) {
        double a = d < 0 ? -d : d;
        if (a != 0) {
            if (a > p->max_abs) p->max_abs = a;
            if (p->min_abs == 0 || a < p->min_abs) p->min_abs = a;
        }
        if (d != (double)(long long)d || a >= 1e16) p->all_int = false;
    } else if (p->style == STYLE_INT) {
        tl_strbuf_printf(b, "%.0f", d);
    } else if (p->style == STYLE_FIXED) {
        tl_strbuf_printf(b, "%.4f", d);
    } else {
        tl_strbuf_printf(b, "%.4e", d);
    }
}

/* Visits the shown indices of dimension `dim` (NumPy order: dim 0 outermost). */
static bool shown(const preview *p, int64_t n, int64_t i) {
    return !p->summarize || n <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= n - EDGE_ITEMS;
}

static void measure(preview *p, int64_t *idx, int axis) {
    const tl_tensor *t = p->t;
    if (axis < 0 && p->measuring) {
        format_elem(p, &p->tmp, idx);
        return;
    }
    if (axis < 0) {
        tl_strbuf_reset(&p->tmp);
        format_elem(p, &p->tmp, idx);
        if ((int)p->tmp.len > p->width) p->width = (int)p->tmp.len;
        return;
    }
    for (int64_t i = 0; i < t->ne[axis]; i++) {
        if (!shown(p, t->ne[axis], i)) continue;
        idx[axis] = i;
        measure(p, idx, axis - 1);
    }
}

static void separator(tl_strbuf *b, int axis, int indent) {
    if (axis == 0) {
        tl_strbuf_puts(b, ", ");
        return;
    }
    tl_strbuf_putc(b, ',');
    for (int k = 0; k < axis; k++)
        tl_strbuf_putc(b, '\n'); /* blank lines between blocks */
    for (int k = 0; k <= indent; k++)
        tl_strbuf_putc(b, ' ');
}

/* axis counts down from n_dims-1 (outermost) to 0 (innermost, contiguous);
** the '[' of this level is at column `indent`. */
static void render(preview *p, tl_strbuf *b, int64_t *idx, int axis, int indent) {
    int64_t n = p->t->ne[axis];
    bool first = true, elided = false;
    tl_strbuf_putc(b, '[');
    for (int64_t i = 0; i < n; i++) {
        if (!shown(p, n, i)) {
            if (!elided) {
                elided = true;
                separator(b, axis, indent);
                tl_strbuf_puts(b, "...");
            }
            continue;
        }
        if (!first) separator(b, axis, indent);
        first = false;
        if (axis == 0 && i > 0) {
            /* wrap long rows under their first element */
            size_t col = 0;
            while (col < b->len && b->data[b->len - 1 - col] != '\n')
                col++;
            if (col + (size_t)p->width + 2 > LINE_WIDTH) {
                while (b->len && b->data[b->len - 1] == ' ')
                    b->len--;
                tl_strbuf_putc(b, '\n');
                for (int k = 0; k <= indent; k++)
                    tl_strbuf_putc(b, ' ');
            }
        }
        idx[axis] = i;
        if (axis > 0) {
            render(p, b, idx, axis - 1, indent + 1);
            continue;
        }
        tl_strbuf_reset(&p->tmp);
        format_elem(p, &p->tmp, idx);
        for (int k = (int)p->tmp.len; k < p->width; k++)
            tl_strbuf_putc(b, ' ');
        tl_strbuf_append(b, p->tmp.data, p->tmp.len);
    }
    tl_strbuf_putc(b, ']');
}

void tl_show_tensor(tl_strbuf *b, const tl_tensor *t) {
    char shape[160];
    tl_strbuf_printf(b, "Tensor<%s>%s", tl_dtype_name(t->dtype),
                     tl_tensor_shape_str(t, shape, sizeof shape));
    if (t->name && t->name[0]) tl_strbuf_printf(b, " \"%s\"", t->name);
    preview p = {.t = t, .tr = tl_dtype_traits(t->dtype)};
    if (!p.tr || !t->storage || !t->storage->data) return;
    if (p.tr->quantized && (!p.tr->to_f32 || p.tr->blck > MAX_BLOCK)) return;
    int64_t n = tl_tensor_nelements(t);
    if (n == 0) {
        tl_strbuf_puts(b, "\n[]");
        return;
    }
    p.summarize = n > SUMMARY_AT;
    p.is_float = p.tr->quantized || t->dtype == TL_DTYPE_F32 || t->dtype == TL_DTYPE_F16 ||
                 t->dtype == TL_DTYPE_BF16 || t->dtype == TL_DTYPE_F64;
    int64_t idx[TL_MAX_DIMS] = {0};
    tl_strbuf_putc(b, '\n');
    if (t->n_dims == 0) {
        if (p.is_float) {
            p.measuring = true;
            p.all_int = true;
            format_elem(&p, b, idx);
            p.measuring = false;
            p.style = p.all_int && p.max_abs < 1e8                                ? STYLE_INT
                      : (p.max_abs >= 1e8 || (p.max_abs > 0 && p.max_abs < 1e-4)) ? STYLE_SCI
                                                                                  : STYLE_FIXED;
        }
        format_elem(&p, b, idx);
    } else {
        if (p.is_float) {
            /* first pass: the range of the shown values picks the style */
            p.measuring = true;
            p.all_int = true;
            measure(&p, idx, t->n_dims - 1);
            p.measuring = false;
            bool wide = p.max_abs >= 1e8 || (p.min_abs > 0 && p.min_abs < 1e-4) ||
                        (p.min_abs > 0 && p.max_abs / p.min_abs > 1e3);
            p.style = p.all_int && p.max_abs < 1e8 ? STYLE_INT : wide ? STYLE_SCI : STYLE_FIXED;
        }
        measure(&p, idx, t->n_dims - 1);
        render(&p, b, idx, t->n_dims - 1, 0);
    }
    tl_strbuf_free(&p.tmp);
}

/* Host objects whose properties are worth listing (objects cannot enumerate
** their properties, so the names are known here; absent ones are skipped). */
static const struct {
    const char *cls;
    const char *props[16];
} object_props[] = {
    {"Model", {"path", "arch"}},
    {"LlamaConfig",
     {"n_layer", "n_embd", "n_ff", "n_head", "n_head_kv", "head_dim", "rope_dim", "n_vocab",
      "n_ctx", "eps", "rope_base", "tied_output"}},
};

const char *const *tl_show_object_props(const char *cls) {
    for (size_t i = 0; i < sizeof object_props / sizeof *object_props; i++)
        if (strcmp(object_props[i].cls, cls) == 0) return object_props[i].props;
    return NULL;
}

/* The shortest "%.Ng" that reads back to d. A double that is exactly an f32
** (a model's f32 metadata such as eps, a tensor element) is taken as one and
** gets the shortest f32 spelling (1e-05, not 9.99999974737875e-06); other
** doubles get up to 17 digits. NaN and infinities as print() shows them. */
void tl_show_float(tl_strbuf *b, double d) {
    if (isnan(d) || isinf(d)) {
        tl_format_double(b, d);
        return;
    }
    bool is_f32 = fabs(d) <= 3.4028234663852886e38 && (double)(float)d == d;
    char buf[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (is_f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    /* whole numbers below 1e16 keep their zeros: 10000, not 1e+04 */
    int exp10 = d == 0 ? 0 : (int)floor(log10(fabs(d)));
    if (exp10 >= prec && exp10 < 16) snprintf(buf, sizeof buf, "%.*g", exp10 + 1, d);
    tl_strbuf_puts(b, buf);
}

#define SHOW_BUDGET 100000
static void show_nested(tl_strbuf *b, const tl_value *v, int depth, size_t *budget);

/* An object that lists its keys (a JsonObject: parse_json, parse_args) as
** "JsonObject { key: value, ... }", values as show_nested shows them. */
static bool show_keyed_object(tl_strbuf *b, tl_object *o) {
    tl_value keys = TL_VOID;
    if (!o->cls->call_method || !o->cls->get_property ||
        o->cls->call_method(o, "keys", 0, NULL, &keys) != TL_OK)
        return false;
    bool ok = keys.kind == TL_VAL_ARRAY;
    if (ok) {
        tl_strbuf_printf(b, "%s {", o->cls->name);
        size_t budget = SHOW_BUDGET;
        for (size_t i = 0; i < keys.as.arr->len; i++) {
            const tl_value *k = &keys.as.arr->items[i];
            tl_value pv = TL_VOID;
            if (k->kind != TL_VAL_STRING || o->cls->get_property(o, k->as.str->data, &pv) != TL_OK)
                continue;
            tl_strbuf_printf(b, "%s %s: ", i ? "," : "", k->as.str->data);
            show_nested(b, &pv, 1, &budget);
            tl_value_release(&pv);
        }
        tl_strbuf_puts(b, keys.as.arr->len ? " }" : "}");
    }
    tl_value_release(&keys);
    return ok;
}

static bool show_object(tl_strbuf *b, const tl_value *v) {
    tl_object *o = v->as.obj;
    if (o->cls == &tl_json_object_class) return show_keyed_object(b, o);
    if (!o->cls->get_property) return false;
    for (size_t i = 0; i < sizeof object_props / sizeof *object_props; i++) {
        if (strcmp(object_props[i].cls, o->cls->name) != 0) continue;
        tl_strbuf_printf(b, "%s {", o->cls->name);
        int shown_n = 0;
        for (int k = 0; k < 16 && object_props[i].props[k]; k++) {
            tl_value pv = TL_VOID;
            if (o->cls->get_property(o, object_props[i].props[k], &pv) != TL_OK) continue;
            tl_strbuf_printf(b, "%s %s: ", shown_n++ ? "," : "", object_props[i].props[k]);
            size_t budget = SHOW_BUDGET;
            show_nested(b, &pv, 1, &budget);
            tl_value_release(&pv);
        }
        tl_strbuf_puts(b, shown_n ? " }" : "}");
        return true;
    }
    return false;
}

/* Small tensors inside arrays and structs: their values, nested by shape, as
** print shows them but with floats spelt as tl_show_float does; bigger and
** quantized ones as "Tensor<f32>(shape=[2, 6])". */
static void nested_tensor(tl_strbuf *b, const tl_tensor *t, int dim, size_t offset) {
    if (dim < 0) {
        double d = 0;
        tl_tensor_read_double(t, offset, &d);
        if (t->dtype == TL_DTYPE_F32 || t->dtype == TL_DTYPE_F16 || t->dtype == TL_DTYPE_BF16 ||
            t->dtype == TL_DTYPE_F64)
            tl_show_float(b, d);
        else if (t->dtype == TL_DTYPE_BOOL)
            tl_strbuf_puts(b, d != 0 ? "true" : "false");
        else if (t->dtype == TL_DTYPE_I64) { /* not through double: exact */
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
        nested_tensor(b, t, dim - 1, offset + (size_t)i * t->nb[dim]);
    }
    tl_strbuf_putc(b, ']');
}

/* As print() shows arrays and structs (the same elision past 10 items, the
** same limits on depth and size), with strings quoted and floats as tl_show_float. */
static void show_nested(tl_strbuf *b, const tl_value *v, int depth, size_t *budget) {
    if (depth > 64 || *budget == 0) {
        tl_strbuf_puts(b, "...");
        return;
    }
    --*budget;
    switch (v->kind) {
    case TL_VAL_FLOAT:
        tl_show_float(b, v->as.f);
        break;
    case TL_VAL_STRING:
        tl_display_quoted(b, v->as.str->data, v->as.str->len);
        break;
    case TL_VAL_ARRAY: {
        const tl_array *a = v->as.arr;
        tl_strbuf_putc(b, '[');
        if (a->len > 10) {
            for (size_t i = 0; i < 3; i++) {
                show_nested(b, &a->items[i], depth + 1, budget);
                tl_strbuf_puts(b, ", ");
            }
            tl_strbuf_puts(b, "..., ");
            show_nested(b, &a->items[a->len - 1], depth + 1, budget);
            tl_strbuf_printf(b, "] (len=%zu)", a->len);
            break;
        }
        for (size_t i = 0; i < a->len; i++) {
            if (i) tl_strbuf_puts(b, ", ");
            show_nested(b, &a->items[i], depth + 1, budget);
        }
        tl_strbuf_putc(b, ']');
        break;
    }
    case TL_VAL_STRUCT: {
        const tl_struct_value *s = v->as.st;
        tl_strbuf_printf(b, "%s {", s->decl->name);
        const tl_node *f = s->decl->a;
        for (uint32_t i = 0; i < s->n && f; i++, f = f->next) {
            tl_strbuf_printf(b, "%s %s: ", i ? "," : "", f->name);
            show_nested(b, &s->fields[i], depth + 1, budget);
        }
        tl_strbuf_puts(b, s->n ? " }" : "}");
        break;
    }
    case TL_VAL_TENSOR: {
        const tl_tensor *t = v->as.tensor;
        const tl_type_traits *tr = tl_dtype_traits(t->dtype);
        if (tr && !tr->quantized && t->storage && t->storage->data && tl_tensor_nelements(t) <= 10)
            nested_tensor(b, t, t->n_dims - 1, 0);
        else
            tl_value_display(b, v);
        break;
    }
    case TL_VAL_OBJECT:
        if (!show_object(b, v)) tl_value_display(b, v);
        break;
    default:
        tl_value_display(b, v);
        break;
    }
}

void tl_show_value(tl_strbuf *b, const tl_value *v) {
    size_t budget = SHOW_BUDGET;
    if (v->kind == TL_VAL_TENSOR)
        tl_show_tensor(b, v->as.tensor);
    else
        show_nested(b, v, 0, &budget);
}
