/* lang/format.c -- see lang/format.h. */
#include "lang/format.h"

#include "lang/display.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec {
    char fill, align;      /* align: 0 (the value's default), '<', '>' or '^' */
    long width, precision; /* -1: none */
    char type;             /* 0, 'f' (fixed, as Python's {:.2f}) or 'e' (exponent) */
} spec;

/* Reads "SPEC}" at s (after "{:"); returns the length up to and including the
** '}', or 0 when it is not a spec this reads. */
static size_t parse_spec(const char *s, size_t n, spec *sp) {
    *sp = (spec){' ', 0, -1, -1, 0};
    size_t i = 0;
    if (n >= 2 && s[1] && strchr("<>^", s[1]) && s[0] != '}') { /* fill + align */
        sp->fill = s[0];
        sp->align = s[1];
        i = 2;
    } else if (n >= 1 && s[0] && strchr("<>^", s[0])) {
        sp->align = s[0];
        i = 1;
    }
    if (i < n && isdigit((unsigned char)s[i])) {
        sp->width = 0;
        for (; i < n && isdigit((unsigned char)s[i]) && sp->width < 10000; i++)
            sp->width = sp->width * 10 + (s[i] - '0');
        if (i < n && isdigit((unsigned char)s[i])) return 0; /* absurdly wide */
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !isdigit((unsigned char)s[i])) return 0;
        sp->precision = 0;
        for (; i < n && isdigit((unsigned char)s[i]) && sp->precision < 1000; i++)
            sp->precision = sp->precision * 10 + (s[i] - '0');
        if (i < n && isdigit((unsigned char)s[i])) return 0;
    }
    if (i < n && (s[i] == 'f' || s[i] == 'e')) sp->type = s[i++];
    return i < n && s[i] == '}' ? i + 1 : 0;
}

static tl_status put_spec(const char *who, tl_strbuf *b, const spec *sp, const tl_value *v) {
    bool number = v->kind == TL_VAL_INT || v->kind == TL_VAL_FLOAT;
    tl_strbuf t = {0};
    if (sp->precision >= 0 || sp->type) {
        if (!number) {
            tl_strbuf_free(&t);
            return tl_fail(TL_ERR_TYPE, "%s: a precision or f/e spec needs a number, got %s %s",
                           who, tl_value_type_article(v), tl_value_type_name(v));
        }
        double x = v->kind == TL_VAL_INT ? (double)v->as.i : v->as.f;
        int prec = sp->precision >= 0 ? (int)sp->precision : 6;
        tl_strbuf_printf(&t, sp->type == 'e' ? "%.*e" : "%.*f", prec, x);
    } else {
        tl_value_display(&t, v);
    }
    size_t pad = sp->width > 0 && (size_t)sp->width > t.len ? (size_t)sp->width - t.len : 0;
    char align = sp->align ? sp->align : number ? '>' : '<';
    size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0;
    for (size_t k = 0; k < left; k++)
        tl_strbuf_putc(b, sp->fill);
    tl_strbuf_append(b, t.data ? t.data : "", t.len);
    for (size_t k = left; k < pad; k++)
        tl_strbuf_putc(b, sp->fill);
    bool oom = t.oom;
    tl_strbuf_free(&t);
    return oom ? tl_fail(TL_ERR_NOMEM, "%s: out of memory", who) : TL_OK;
}

tl_status tl_format_into(const char *who, tl_strbuf *b, const char *fmt, size_t len, int argc,
                         const tl_value *argv) {
    int k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = fmt[i], next = i + 1 < len ? fmt[i + 1] : 0;
        if ((c == '{' && next == '{') || (c == '}' && next == '}')) {
            tl_strbuf_putc(b, c);
            i++;
            continue;
        }
        if (c != '{' || (next != '}' && next != ':')) {
            tl_strbuf_putc(b, c);
            continue;
        }
        spec sp = {' ', 0, -1, -1, 0};
        size_t used = 2;
        if (next == ':') {
            size_t n = parse_spec(fmt + i + 2, len - i - 2, &sp);
            if (!n) {
                const char *end = memchr(fmt + i, '}', len - i);
                int shown = end ? (int)(end - (fmt + i) + 1) : (int)(len - i);
                return tl_fail(TL_ERR_ARG,
                               "%s: cannot read the spec %.*s (it takes [[fill]<|>|^][width]"
                               "[.precision][f|e], e.g. {:.3}, {:>8} or {:.2e})",
                               who, shown > 40 ? 40 : shown, fmt + i);
            }
            used = 2 + n;
        }
        if (k >= argc)
            return tl_fail(TL_ERR_ARG, "%s: the format string has more {} than arguments (%d)", who,
                           argc);
        tl_status st = put_spec(who, b, &sp, &argv[k++]);
        if (st != TL_OK) return st;
        i += used - 1;
    }
    return TL_OK;
}

bool tl_format_has_placeholder(const char *s) {
    return strstr(s, "{}") != NULL || strstr(s, "{:") != NULL;
}
