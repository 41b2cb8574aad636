/* runtime/temp_file.h -- the temporary files a whole-file write goes through.
**
** Owns two things:
**   - the naming and creation of a temporary file beside a target: in the
**     target's directory (same file system, so rename() can replace the target
**     atomically), hidden, unique to the process, ".NAME.tmp-PID-N", created
**     with O_EXCL so it never replaces a file that is already there;
**   - the process-wide list of the temporary files still being written, which
**     tl_temp_remove_all() unlinks from a signal handler (async-signal-safe:
**     a slot is set only after its string is complete and cleared before the
**     string is freed), so a SIGTERM, SIGHUP, SIGINT or SIGPIPE that stops the
**     process leaves none behind.  SIGKILL cannot be caught: then the hidden
**     file stays, never a partial target.
** Users: the GGUF writer (runtime/gguf.h: tl_gguf_writer_save) and the io
** builtins' atomic writes (lang/atomic_file.h). */
#ifndef TL_RUNTIME_TEMP_FILE_H
#define TL_RUNTIME_TEMP_FILE_H

/* Creates and opens (write-only, close-on-exec, mode 0666 minus the umask) a
** new temporary file beside target and registers it.  On success returns 0,
** *path (malloc'd; the caller frees it after tl_temp_forget) and *fd; on
** failure returns an errno value and leaves nothing behind. */
int tl_temp_create(const char *target, char **path, int *fd);

/* Takes path off the list (after it was renamed or unlinked). */
void tl_temp_forget(const char *path);

/* Unlinks every registered temporary file; async-signal-safe, for a signal
** handler that is about to _exit(). */
void tl_temp_remove_all(void);

#endif
