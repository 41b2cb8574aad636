/* lang/atomic_file.h -- whole-file writes that never leave a half-written result
** and never replace what they should not.
**
** What is at the path decides how it is written (symlinks are followed first,
** at most 40 deep, so a write through a symlink changes the file it names and
** the link stays; a dangling link creates its target, as the shell does):
**   - nothing, or a regular file the process may write and owns: a fresh
**     temporary file in the target's directory, named ".NAME.tmp-PID-N"
**     (hidden, same file system), is flushed, fsync'd, closed and rename()d
**     over NAME; the directory is fsync'd afterwards (best effort).  rename()
**     is atomic on POSIX file systems, so readers and a later run see either
**     the old file (or none) or the complete new one.  An existing file keeps
**     its permission bits (and group, when allowed); a new one gets 0666 minus
**     the umask, like fopen().  For an append the old bytes are copied first
**     (at most the size seen at open, within the data read limit of
**     lang/read_all.h; Ctrl-C stops the copy);
**   - a regular file owned by another user that the process may write: written
**     in place (truncated, or appended to), so its owner does not change; not
**     atomic;
**   - a character device or a FIFO: written in place at commit, never
**     replaced; a FIFO nobody reads is an error ("no process is reading the
**     FIFO"), and a blocked write honours Ctrl-C;
**   - a read-only file: refused with EACCES ("Permission denied"), never
**     replaced; a directory: EISDIR; anything else (block device, socket):
**     refused ("it is not a regular file, a character device or a FIFO").
** A run killed mid-write by SIGKILL or power loss may leave the hidden
** temporary file behind, never a partial NAME; the CLI's second-Ctrl-C exit
** and its SIGTERM/SIGHUP handler (app/term_signals.h) remove it first
** (tl_temp_remove_all: the temporary files are runtime/temp_file.h's).
**
** Errors are TL_ERR_IO with the caller's name, the path as given and strerror:
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
    char *path;      /* the path as given (for messages) */
    char *target;    /* the path with symlinks resolved */
    char *tmp;       /* the temporary file (NULL when direct) */
    const char *who; /* the builtin name used in error messages */
    bool direct;     /* a device / FIFO / foreign file: f buffers in memory */
    int fd;          /* direct: the open target */
    char *mem;       /* direct: the buffered bytes */
    size_t mem_len;
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
