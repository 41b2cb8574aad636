/* runtime/open_regular.h -- opening a file that must be a regular file.
**
** Owns one rule: models, tokenizers and arrays are mapped or sized before they
** are read, so only a regular file will do, and the open itself must never
** wait.  The open uses O_NONBLOCK (which changes nothing for a regular file),
** so a FIFO with no writer is refused at once instead of blocking forever.
** Users: runtime/gguf_open.c, runtime/tokenizer_load.c, runtime/npy.c and the
** load_f32 builtin (lang/builtins/interp.c); each words its own message. */
#ifndef TL_RUNTIME_OPEN_REGULAR_H
#define TL_RUNTIME_OPEN_REGULAR_H

#include <sys/stat.h>

/* Opens path read-only and close-on-exec and fills *sb.  Returns the
** descriptor of a regular file.  Otherwise returns -1 with errno set when the
** open or fstat failed, or with errno 0 when path is something else (a
** directory, S_ISDIR(sb->st_mode), a FIFO, a device, a socket). */
int tl_open_regular(const char *path, struct stat *sb);

#endif
