/* runtime/status.c -- the thread-local error message behind tl_fail(). */
#include "runtime/status.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TL_ERROR_MAX 1024

static _Thread_local char error_message[TL_ERROR_MAX];

tl_status tl_fail(tl_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return st;
}

const char *tl_last_error(void) {
    return error_message;
}

void tl_error_prefix(const char *fmt, ...) {
    char old[TL_ERROR_MAX];
    memcpy(old, error_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    size_t used = (size_t)n < sizeof error_message ? (size_t)n : sizeof error_message - 1;
    size_t room = sizeof error_message - used;
    if (room > 2) {
        memcpy(error_message + used, ": ", 2);
        used += 2;
        room -= 2;
        size_t len = strnlen(old, sizeof old);
        if (len >= room) len = room - 1;
        memcpy(error_message + used, old, len);
        error_message[used + len] = '\0';
    }
}

void tl_clear_error(void) {
    error_message[0] = '\0';
}

const char *tl_status_name(tl_status st) {
    static const char *const names[TL_STATUS_COUNT] = {
        [TL_OK] = "ok",
        [TL_ERR_ARG] = "argument error",
        [TL_ERR_TYPE] = "type error",
        [TL_ERR_SHAPE] = "shape error",
        [TL_ERR_RANGE] = "index error",
        [TL_ERR_NOMEM] = "out of memory",
        [TL_ERR_IO] = "I/O error",
        [TL_ERR_FORMAT] = "format error",
        [TL_ERR_UNSUPPORTED] = "unsupported",
        [TL_ERR_INTERRUPTED] = "interrupted",
        [TL_ERR_INTERNAL] = "internal error",
    };
    return (st >= 0 && st < TL_STATUS_COUNT) ? names[st] : "unknown error";
}

const char *tl_num_str(double v) {
    static __thread char bufs[8][32];
    static __thread unsigned next;
    char *b = bufs[next++ % 8];
    if (isnan(v))
        snprintf(b, 32, "NaN");
    else if (isinf(v))
        snprintf(b, 32, v > 0 ? "inf" : "-inf");
    else
        snprintf(b, 32, "%g", v);
    return b;
}
