/* lang/builtins/show.c -- show(v): a value as the REPL shows it, for scripts
** (lang/show.h): tensors with their dtype, shape and a NumPy-like preview,
** floats shortest round-trip (1e-05), strings quoted.  print() keeps the
** original interpreter's display (docs/language.md). */
#include "lang/builtin.h"
#include "lang/eval.h"
#include "lang/show.h"

static tl_status b_show(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    tl_strbuf b = {0};
    for (int i = 0; i < argc; i++) {
        if (i) tl_strbuf_putc(&b, ' ');
        tl_show_value(&b, &argv[i]);
    }
    tl_strbuf_putc(&b, '\n');
    tl_status st = TL_OK;
    if (b.oom)
        st = tl_fail(TL_ERR_NOMEM, "out of memory");
    else
        tl_interp_write(c->interp, b.data, b.len, false);
    tl_strbuf_free(&b);
    return st;
}

static tl_status b_show_str(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    tl_strbuf b = {0};
    tl_show_value(&b, &argv[0]);
    return tl_strbuf_take_value(&b, out);
}

const tl_builtin_def tl_builtins_show[] = {
    {"show", 1, -1, b_show, "show(value, ...) (as the REPL shows values: tensor previews)", 0},
    {"show_str", 1, 1, b_show_str, "show_str(value) -> string (what show prints)", 0},
    {0},
};
