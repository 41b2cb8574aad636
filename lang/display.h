/* lang/display.h -- how values print (docs/language.md).
**
**   string: raw bytes; int: decimal; float: Rust `{}` (shortest round-trip,
**   positional, 1.0 -> "1", NaN, inf); bool: true/false; void: "void";
**   array: [a, b] or, past 10 items, "[a, b, ..., z] (len=N)" (first 3, last 1);
**   tensor of a plain dtype (f32, f16, bf16, integer, bool) with <= 10 elements:
**   its values, nested by shape, floats in f32 shortest; bigger and quantized
**   ones: "Tensor<q4_0>(shape=[2, 32])"; struct: "Name { x: 1, y: 2 }";
**   functions: "<fn name>"; host objects: "<Model>" (class name).
** Strings nested inside arrays/structs are shown in quotes.  The REPL and
** show() display values differently (lang/show.h). */
#ifndef TL_LANG_DISPLAY_H
#define TL_LANG_DISPLAY_H

#include "lang/strbuf.h"
#include "lang/value.h"

void tl_value_display(tl_strbuf *b, const tl_value *v);
/* Appends s (len bytes) in double quotes with \" \\ \n \t \r \0 escaped. */
void tl_display_quoted(tl_strbuf *b, const char *s, size_t len);
/* Rust-style shortest round-trip rendering of a double / of a float. */
void tl_format_double(tl_strbuf *b, double d);
void tl_format_float(tl_strbuf *b, float f);
/* Reads element `offset` bytes into t's storage as a double (plain dtypes only). */
bool tl_tensor_read_double(const tl_tensor *t, size_t offset, double *out);

#endif
