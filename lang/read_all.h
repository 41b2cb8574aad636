/* lang/read_all.h -- whole-file reads that always end.
**
** Every place that reads a whole file or stream into memory (read_file,
** read_lines, `tl run FILE`, `tl run -`, imports, the REPL's :load, the copy
** append_file makes of an existing file) goes through here, so each read
**   - has a size limit: TL_READ_SOURCE (scripts) stops at 64 MiB and
**     TL_READ_DATA (read_file, read_lines, appends) at 1 GiB; the environment
**     variable TL_MAX_READ_BYTES (a byte count) replaces both.  Going past it is
**     TL_ERR_NOMEM: "read_file: 'x' is larger than the read limit of 1073741824
**     bytes (TL_MAX_READ_BYTES)"; an endless source (/dev/zero, `yes |`) ends
**     there;
**   - honours Ctrl-C: the descriptor is polled every 100 ms and a set
**     tl_interrupt_requested (lang/eval.h) stops it with TL_ERR_INTERRUPTED
**     "interrupted" (the flag is cleared), also while a FIFO has no writer yet
**     or a pipe stays silent;
**   - names the real cause: a directory is EISDIR, a NUL byte in the path is
**     an error (the C path would silently name a shorter file). */
#ifndef TL_LANG_READ_ALL_H
#define TL_LANG_READ_ALL_H

#include "lang/strbuf.h"
#include "runtime/status.h"

#include <stddef.h>

typedef enum tl_read_kind { TL_READ_SOURCE, TL_READ_DATA } tl_read_kind;

#define TL_READ_SOURCE_LIMIT ((size_t)64 << 20)
#define TL_READ_DATA_LIMIT   ((size_t)1 << 30)

/* The limit for kind: TL_MAX_READ_BYTES when set to a positive integer. */
size_t tl_read_limit(tl_read_kind kind);

/* Appends everything readable from fd to b (at most limit bytes; one more is an
** error).  who and path only name things in messages ("who: 'path' ..."). */
tl_status tl_read_fd(int fd, const char *who, const char *path, size_t limit, tl_strbuf *b);

/* Opens path (never blocking in open(): a FIFO waits for its writer in the
** polling loop) and reads it whole into b.  "-" is not special here. */
tl_status tl_read_path(const char *path, const char *who, tl_read_kind kind, tl_strbuf *b);

/* TL_OK unless the len bytes of a path string contain a NUL byte. */
tl_status tl_check_path_bytes(const char *path, size_t len, const char *who);

#endif
