/* lang/format.h -- the format mode of print, eprint and format().
**
** Owns the meaning of a format string: each "{}" takes the next argument's
** display (lang/display.h); "{:SPEC}" does the same with a Rust/Python-style
** spec: an optional fill character and alignment ('<' left, '>' right, '^'
** centre), a width, ".N": a number shown with N digits after the point, and a
** type 'f' (fixed, the same; Python's "{:.2f}") or 'e' (exponent, "1.50e+03").  Examples:
*"{:.3}" 3.14159 -> "3.142",
** "{:>6}" 42 -> "    42", "{:*^7.1}" 2.0 -> "**2.0**".  Numbers are right-aligned
** and everything else left-aligned by default, as in Rust.  "{{" and "}}" are a
** literal brace.  Any other brace text ("{x}", "{0}") is copied as it is (the
** original interpreter did so).  Too few arguments, and a spec it cannot read,
** are errors naming the builtin. */
#ifndef TL_LANG_FORMAT_H
#define TL_LANG_FORMAT_H

#include "lang/strbuf.h"
#include "lang/value.h"

#include <stdbool.h>

/* Appends fmt[0..len) with its placeholders filled from argv[0..argc). */
tl_status tl_format_into(const char *who, tl_strbuf *b, const char *fmt, size_t len, int argc,
                         const tl_value *argv);

/* Does s hold a placeholder ("{}" or "{:...}")? (print's format mode) */
bool tl_format_has_placeholder(const char *s);

#endif
