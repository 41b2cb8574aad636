/* lang/show.h -- values as the REPL shows them; scripts get the same text from
** the show() builtin (docs/repl.md, "Values").
**
**   tensors: "Tensor<f32>[2, 3]" (and the tensor's name), then a NumPy-like
**     preview: right-aligned columns, rows wrapped at 80 columns, "..." eliding
**     all but 3 items at each end of every dimension longer than 6 once the
**     tensor has more than 1000 elements; floats in PyTorch's style (integers,
**     4 decimals, or scientific when the magnitudes call for it); quantized
**     tensors dequantized block by block for the preview only;
**   floats: the shortest %g that reads back to the same double (an exact f32,
**     such as a model's eps, gets the shortest f32 spelling: 1e-05), also
**     inside arrays, structs and small tensors nested in them;
**   strings: quoted with escapes; Model and LlamaConfig objects: their main
**     properties; JsonObjects: "JsonObject { key: value, ... }"; everything
**     else as print() shows it (lang/display.h). */
#ifndef TL_LANG_SHOW_H
#define TL_LANG_SHOW_H

#include "lang/strbuf.h"
#include "lang/value.h"

void tl_show_value(tl_strbuf *b, const tl_value *v);
void tl_show_tensor(tl_strbuf *b, const tl_tensor *t);
void tl_show_float(tl_strbuf *b, double d);
/* The property names worth listing for a host object class ("Model",
** "LlamaConfig"), NULL-terminated; NULL for other classes. */
const char *const *tl_show_object_props(const char *cls);

#endif
