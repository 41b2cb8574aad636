/* app/term_signals.h -- the signals that stop a command part-way.
**
** Owns one thing: on SIGTERM, SIGHUP or SIGPIPE (and SIGINT for a command with
** no Ctrl-C handling of its own, e.g. `tl quantize`) the process removes every
** temporary file a whole-file write is still writing (tl_temp_remove_all in
** runtime/temp_file.h, an unlink of paths prepared beforehand,
** async-signal-safe) and leaves with the shell's convention 128 + the signal
** (143, 129, 141, 130), so such a stop leaves no hidden ".NAME.tmp-PID-N"
** behind and NAME is either untouched or complete.  `tl run`, `tl test` and
** the REPL keep their own Ctrl-C handlers (app/cli.c, app/repl.c); SIGKILL
** cannot be caught. */
#ifndef TL_APP_TERM_SIGNALS_H
#define TL_APP_TERM_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers for SIGTERM, SIGHUP and SIGPIPE, and for SIGINT when
** with_sigint (a signal ignored at start, e.g. SIGHUP under nohup, stays
** ignored). */
void tl_app_catch_stop_signals(bool with_sigint);

/* The same without SIGINT. */
void tl_app_catch_term_signals(void);

#endif
