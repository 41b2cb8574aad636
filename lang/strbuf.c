/* lang/strbuf.c -- growable byte buffer (see strbuf.h). */
#include "lang/strbuf.h"

#include "lang/value.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(tl_strbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    if (extra > tl_value_max_string() || b->len + extra > tl_value_max_string()) {
        b->oom = true; /* past the string limit: as if out of memory */
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void tl_strbuf_append(tl_strbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void tl_strbuf_puts(tl_strbuf *b, const char *s) {
    tl_strbuf_append(b, s, strlen(s));
}

void tl_strbuf_putc(tl_strbuf *b, char c) {
    tl_strbuf_append(b, &c, 1);
}

void tl_strbuf_printf(tl_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        tl_strbuf_append(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *tl_strbuf_cstr(tl_strbuf *b) {
    if (!b->data) return "";
    return b->data;
}

void tl_strbuf_reset(tl_strbuf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void tl_strbuf_free(tl_strbuf *b) {
    free(b->data);
    *b = (tl_strbuf){0};
}

tl_status tl_strbuf_take_value(tl_strbuf *b, tl_value *out) {
    if (b->oom) {
        tl_strbuf_free(b);
        *out = TL_VOID;
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    tl_status st = tl_value_string(b->data ? b->data : "", b->len, out);
    tl_strbuf_free(b);
    return st;
}

void tl_strbuf_put_escaped(tl_strbuf *b, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
            tl_strbuf_printf(b, "\\x%02x", ch);
        else
            tl_strbuf_putc(b, (char)ch);
    }
}
