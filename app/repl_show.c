/* app/repl_show.c -- how the REPL shows a value (lang/show.h: tensors with a
** NumPy-like preview, floats shortest round-trip, also inside arrays and
** structs) and describes its type (:type). */
#include "lang/show.h"
#include "app/repl_internal.h"
#include "lang/builtin.h"
#include "lang/value_struct.h"
#include "runtime/dtype.h"

#include <stdio.h>

const char *const *tl_repl_object_props(const char *cls) {
    return tl_show_object_props(cls);
}

void tl_repl_show_value(tl_strbuf *b, const tl_value *v) {
    tl_show_value(b, v);
}

void tl_repl_describe_type(tl_strbuf *b, const tl_value *v) {
    switch (v->kind) {
    case TL_VAL_TENSOR: {
        char shape[160];
        tl_strbuf_printf(b, "tensor %s %s", tl_dtype_name(v->as.tensor->dtype),
                         tl_tensor_shape_str(v->as.tensor, shape, sizeof shape));
        break;
    }
    case TL_VAL_STRUCT:
        tl_strbuf_printf(b, "struct %s", v->as.st->decl->name);
        break;
    case TL_VAL_ARRAY:
        tl_strbuf_printf(b, "array (len=%zu)", v->as.arr->len);
        break;
    case TL_VAL_STRING:
        tl_strbuf_printf(b, "string (len=%zu)", v->as.str->len);
        break;
    case TL_VAL_FUNC:
        tl_strbuf_printf(b, "fn %s", v->as.fn->decl->name);
        break;
    case TL_VAL_BUILTIN:
        tl_strbuf_printf(b, "builtin %s",
                         v->as.builtin->signature ? v->as.builtin->signature : v->as.builtin->name);
        break;
    default:
        tl_strbuf_puts(b, tl_value_type_name(v));
        break;
    }
}
