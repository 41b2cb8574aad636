/* lang/strbuf.h -- a growable byte buffer for building messages and displays.
**
** A zero-initialised tl_strbuf is empty and valid.  On allocation failure the
** buffer sets `oom` and ignores further appends (callers check once at the
** end).  tl_strbuf_cstr() always returns a NUL-terminated string. */
#ifndef TL_LANG_STRBUF_H
#define TL_LANG_STRBUF_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct tl_strbuf {
    char *data;
    size_t len, cap;
    bool oom;
} tl_strbuf;

void tl_strbuf_append(tl_strbuf *b, const char *s, size_t n);
void tl_strbuf_puts(tl_strbuf *b, const char *s);
void tl_strbuf_putc(tl_strbuf *b, char c);
void tl_strbuf_printf(tl_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *tl_strbuf_cstr(tl_strbuf *b);
/* Appends s with control bytes (but newline and tab) and DEL spelled \xNN, so a
** hostile string cannot drive the terminal it is shown on. */
void tl_strbuf_put_escaped(tl_strbuf *b, const char *s, size_t len);
void tl_strbuf_reset(tl_strbuf *b); /* empties, keeps memory */
void tl_strbuf_free(tl_strbuf *b);

/* Moves the buffer's bytes into a new string value (*out, owned) and frees the
** buffer; fails with TL_ERR_NOMEM if an append ran out of memory. */
struct tl_value;
tl_status tl_strbuf_take_value(tl_strbuf *b, struct tl_value *out);

#endif
