/* runtime/status.h -- status codes and the error message that goes with them.
**
** Every runtime function that can fail returns a tl_status.  On failure it
** first records a human-readable message with tl_fail(), e.g.
**     return tl_fail(TL_ERR_SHAPE, "matmul: shapes [2, 3] and [4, 5] do not align");
** The message lives in a thread-local buffer until the next tl_fail() on the
** same thread; lang/ copies it into an error value and adds the source span.
** The runtime never prints and never exits. */
#ifndef TL_RUNTIME_STATUS_H
#define TL_RUNTIME_STATUS_H

typedef enum tl_status {
    TL_OK = 0,
    TL_ERR_ARG,         /* a bad argument: wrong count, bad axis, bad option   */
    TL_ERR_TYPE,        /* a dtype or value kind that the operation refuses     */
    TL_ERR_SHAPE,       /* shapes that do not fit together                      */
    TL_ERR_RANGE,       /* an index or id out of range                          */
    TL_ERR_NOMEM,       /* an allocation failed or would be absurdly large      */
    TL_ERR_IO,          /* open/read/write/mmap failed (message has the OS why) */
    TL_ERR_FORMAT,      /* a malformed file (GGUF, JSON, ...)                   */
    TL_ERR_UNSUPPORTED, /* valid but not implemented (e.g. an IQ tensor type)   */
    TL_ERR_INTERRUPTED, /* stopped by the user (Ctrl-C) or a step budget        */
    TL_ERR_INTERNAL,    /* a broken invariant: a bug in tl                      */
    TL_STATUS_COUNT
} tl_status;

/* Records the message (printf-style) for the calling thread and returns st. */
tl_status tl_fail(tl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message of the last tl_fail() on this thread ("" if none). */
const char *tl_last_error(void);

/* Prepends "prefix: " to the current message (adds context on the way up). */
void tl_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tl_clear_error(void);

/* A short name for a status, e.g. "shape error". */
const char *tl_status_name(tl_status st);

/* v as %g, but NaN as "NaN" (never "-nan") and infinities as "inf"/"-inf",
** the way the language prints them; for messages.  The result lives in one of
** 8 thread-local buffers, valid until the 8th next call on this thread. */
const char *tl_num_str(double v);

#endif
