/* lang/atomic_file.h -- whole-file writes that never leave a half-written result.
**
** A write goes to a fresh temporary file in the target's directory, named
** ".NAME.tmp-PID-N" (hidden, same file system), which is flushed, fsync'd,
** closed and then rename()d over NAME; the directory is fsync'd afterwards
** (best effort).  rename() is atomic on POSIX file systems, so readers and a
** later run see either the old file (or none) or the complete new one.  A run
** killed mid-write (SIGKILL, power loss) may leave the hidden temporary file
** behind, never a partial NAME.  An existing target keeps its permission bits;
** a new one gets 0666 minus the umask, like fopen().  A symlink at NAME is
** replaced by a regular file.
**
** Errors are TL_ERR_IO with the caller's name, the target path and strerror:
**     "write_file: cannot open 'out/x.json': No such file or directory"
** Used by the io builtins (lang/builtins/io.c): write_file, append_file,
** write_csv and save. */
#ifndef TL_LANG_ATOMIC_FILE_H
#define TL_LANG_ATOMIC_FILE_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct tl_atomic_file {
    FILE *f;         /* write through this between open and commit */
    char *path;      /* the target */
    char *tmp;       /* the temporary file */
    const char *who; /* the builtin name used in error messages */
} tl_atomic_file;

/* Creates the temporary file.  If keep_contents and the target exists, its
** bytes are copied in first (for appends).  On failure nothing is left. */
tl_status tl_atomic_open(tl_atomic_file *af, const char *path, const char *who, bool keep_contents);

/* Flushes, syncs and renames the temporary file over the target; on failure
** the temporary file is removed and the target is unchanged.  Always closes. */
tl_status tl_atomic_commit(tl_atomic_file *af);

/* Discards the temporary file (the target is unchanged). */
void tl_atomic_abort(tl_atomic_file *af);

/* open + one write + commit. */
tl_status tl_atomic_write(const char *path, const void *data, size_t len, const char *who,
                          bool append);

#endif
