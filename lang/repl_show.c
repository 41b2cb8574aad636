/* lang/repl_show.c -- how the REPL shows a value: tensors get their dtype,
** shape and a NumPy-like preview (aligned columns, "..." elision); other
** values print as print() would, with strings quoted. */
#include "lang/builtin.h"
#include "lang/display.h"
#include "lang/repl.h"
#include "lang/value_struct.h"
#include "runtime/dtype.h"

#include <stdlib.h>
#include <string.h>

#define EDGE_ITEMS 3       /* shown at each end of an elided dimension        */
#define SUMMARY_AT 1000    /* elide once the tensor has more elements than this */
#define MAX_BLOCK 256      /* largest block (elements) of any quantized type   */

typedef struct preview {
    const tl_tensor *t;
    const tl_type_traits *tr;
    bool summarize;
    bool is_float;
    int width; /* column width: the widest formatted element */
    tl_strbuf tmp;
} preview;

/* The element at ne-order index idx[0..n_dims) as a double. */
static bool read_elem(const preview *p, const int64_t *idx, double *out) {
    const tl_tensor *t = p->t;
    size_t off = 0;
    for (int d = 1; d < t->n_dims; d++) off += (size_t)idx[d] * t->nb[d];
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
    if (p->t->dtype == TL_DTYPE_BOOL)
        tl_strbuf_puts(b, d != 0 ? "true" : "false");
    else if (p->t->dtype == TL_DTYPE_F64)
        tl_format_double(b, d);
    else if (p->is_float)
        tl_format_float(b, (float)d);
    else
        tl_strbuf_printf(b, "%lld", (long long)d);
}

/* Visits the shown indices of dimension `dim` (NumPy order: dim 0 outermost). */
static bool shown(const preview *p, int64_t n, int64_t i) {
    return !p->summarize || n <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= n - EDGE_ITEMS;
}

static void measure(preview *p, int64_t *idx, int axis) {
    const tl_tensor *t = p->t;
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
    for (int k = 0; k < axis; k++) tl_strbuf_putc(b, '\n'); /* blank lines between blocks */
    for (int k = 0; k <= indent; k++) tl_strbuf_putc(b, ' ');
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
        idx[axis] = i;
        if (axis > 0) {
            render(p, b, idx, axis - 1, indent + 1);
            continue;
        }
        tl_strbuf_reset(&p->tmp);
        format_elem(p, &p->tmp, idx);
        for (int k = (int)p->tmp.len; k < p->width; k++) tl_strbuf_putc(b, ' ');
        tl_strbuf_append(b, p->tmp.data, p->tmp.len);
    }
    tl_strbuf_putc(b, ']');
}

static void show_tensor(tl_strbuf *b, const tl_tensor *t) {
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
        format_elem(&p, b, idx);
    } else {
        measure(&p, idx, t->n_dims - 1);
        render(&p, b, idx, t->n_dims - 1, 0);
    }
    tl_strbuf_free(&p.tmp);
}

void tl_repl_show_value(tl_strbuf *b, const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_TENSOR: show_tensor(b, v->as.tensor); break;
    case TL_VAL_STRING:
        tl_strbuf_putc(b, '"');
        for (size_t i = 0; i < v->as.str->len; i++) {
            char c = v->as.str->data[i];
            switch (c) {
            case '"': tl_strbuf_puts(b, "\\\""); break;
            case '\\': tl_strbuf_puts(b, "\\\\"); break;
            case '\n': tl_strbuf_puts(b, "\\n"); break;
            case '\t': tl_strbuf_puts(b, "\\t"); break;
            case '\r': tl_strbuf_puts(b, "\\r"); break;
            default: tl_strbuf_putc(b, c); break;
            }
        }
        tl_strbuf_putc(b, '"');
        break;
    default: tl_value_display(b, v); break;
    }
}

void tl_repl_describe_type(tl_strbuf *b, const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_TENSOR: {
        char shape[160];
        tl_strbuf_printf(b, "tensor %s %s", tl_dtype_name(v->as.tensor->dtype),
                         tl_tensor_shape_str(v->as.tensor, shape, sizeof shape));
        break;
    }
    case TL_VAL_STRUCT: tl_strbuf_printf(b, "struct %s", v->as.st->decl->name); break;
    case TL_VAL_ARRAY: tl_strbuf_printf(b, "array (len=%zu)", v->as.arr->len); break;
    case TL_VAL_STRING: tl_strbuf_printf(b, "string (len=%zu)", v->as.str->len); break;
    case TL_VAL_FUNC: tl_strbuf_printf(b, "fn %s", v->as.fn->decl->name); break;
    case TL_VAL_BUILTIN:
        tl_strbuf_printf(b, "builtin %s",
                         v->as.builtin->signature ? v->as.builtin->signature : v->as.builtin->name);
        break;
    default: tl_strbuf_puts(b, tl_value_type_name(v)); break;
    }
}
