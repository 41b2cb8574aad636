/* runtime/status.c -- the thread-local error message behind tl_fail(). */
#include "runtime/status.h"

#include <stdarg.h>
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

const char *tl_last_error(void) { return error_message; }

void tl_error_prefix(const char *fmt, ...) {
    char prefix[TL_ERROR_MAX], old[TL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_message, sizeof old);
    snprintf(error_message, sizeof error_message, "%s: %s", prefix, old);
}

void tl_clear_error(void) { error_message[0] = '\0'; }

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
