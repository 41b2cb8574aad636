/* app/term_signals.h -- SIGTERM and SIGHUP for `tl run`/`tl test` and the REPL.
**
** Owns one thing: on SIGTERM or SIGHUP the process removes every temporary
** file an atomic write is still writing (tl_atomic_remove_temps, an unlink of
** paths prepared beforehand, async-signal-safe) and leaves with the shell's
** convention 128 + the signal (143, 129), so such a stop leaves no hidden
** ".NAME.tmp-PID-N" behind and NAME is either untouched or complete.  Ctrl-C
** keeps its own handlers (app/cli.c, app/repl.c); SIGKILL cannot be caught. */
#ifndef TL_APP_TERM_SIGNALS_H
#define TL_APP_TERM_SIGNALS_H

/* Installs the SIGTERM and SIGHUP handlers (a signal ignored at start, e.g.
** SIGHUP under nohup, stays ignored). */
void tl_app_catch_term_signals(void);

#endif
