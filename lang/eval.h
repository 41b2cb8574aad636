/* lang/eval.h -- the tree-walking interpreter.
**
** A tl_interp holds everything a running program has: the parsed chunks
** (kept alive because functions point into them), the global scope, user
** functions, structs and impls, the import table, and the last error.
** State persists across tl_interp_eval_string() calls (for the REPL).
**
** Errors: every entry point returns a tl_status.  On failure
** tl_interp_error() gives the full text to show the user:
**     file:line:col: error: message
**      3 |     let y = x / 0
**        |             ^
**       at f (file:line:col)
**       at main (file:line:col)
** and tl_last_error() the one-line message.
**
** Scoping is lexical: a function body sees its parameters, its own locals and
** the globals -- never its caller's locals.  Name calls `f(x)` look for a
** variable holding a function, then a user `fn` (which shadows a builtin of
** the same name), then the builtins (lang/builtin.h). */
#ifndef TL_LANG_EVAL_H
#define TL_LANG_EVAL_H

#include "lang/value.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tl_interp tl_interp;

tl_interp *tl_interp_new(void);
void tl_interp_free(tl_interp *I);

/* Limits: call depth (default 1000) and statement steps (0 = unlimited). */
void tl_interp_set_max_depth(tl_interp *I, int depth);
void tl_interp_set_max_steps(tl_interp *I, int64_t steps);
/* tl run --time: when out is not NULL, each top-level statement of main is
** timed and reported to out as "time: FILE:LINE  SOURCE  12.345 ms". */
void tl_interp_set_timing(tl_interp *I, FILE *out);
/* Where print, write and input's prompt go: fn(user, bytes, len) for every
** chunk of output, or stdout (fn NULL, the default). */
typedef void (*tl_output_fn)(void *user, const char *data, size_t len);
void tl_interp_set_output(tl_interp *I, tl_output_fn fn, void *user);
/* Writes to the interpreter's output (flush: fflush stdout when that is it). */
void tl_interp_write(tl_interp *I, const char *data, size_t len, bool flush);
/* The interpreter's runtime settings (precision, random generator, thread
** count; runtime/context.h), entered while it runs.  Never NULL. */
struct tl_context *tl_interp_context(tl_interp *I);
/* Script arguments (after `--`), returned by the builtin args(). Copied. */
void tl_interp_set_args(tl_interp *I, int argc, char **argv);
/* The value returned by args() (borrowed). */
const tl_value *tl_interp_args(const tl_interp *I);

/* Parses the file and runs its declarations (imports, fn, struct, impl,
** tensor); does not run main. */
tl_status tl_interp_load_file(tl_interp *I, const char *path);
/* Loads the file, then runs its main block (if any). */
tl_status tl_interp_eval_file(tl_interp *I, const char *path);
/* Parses and runs source text as a chunk named `name`: declarations are
** registered and main blocks run in the global scope, so variables persist
** between calls.  *result (optional) gets the value of the last expression
** statement of the last main block (owned), else void. */
tl_status tl_interp_eval_string(tl_interp *I, const char *src, size_t len, const char *name,
                                tl_value *result);
/* Runs the main block of the last loaded file. TL_OK when there is none. */
tl_status tl_interp_run_main(tl_interp *I);
bool tl_interp_has_main(const tl_interp *I);
/* Runs every `test NAME {}` block of the last loaded file, printing
** "test NAME ... ok" / "... FAILED" to out and the errors to err.
** Returns TL_OK when all pass; *n_run / *n_failed (optional) get counts. */
tl_status tl_interp_run_tests(tl_interp *I, FILE *out, FILE *err, int *n_run, int *n_failed);
/* Runs every `bench NAME {}` block, printing "bench NAME ... T ms". */
tl_status tl_interp_run_benches(tl_interp *I, FILE *out);

/* The full text of the last error ("" if none). */
const char *tl_interp_error(const tl_interp *I);
/* True when the last error was a syntax error at the end of input. */
bool tl_interp_error_incomplete(const tl_interp *I);
void tl_interp_clear_error(tl_interp *I);
/* The code passed to exit(n) by the script, or -1. */
int tl_interp_exit_code(const tl_interp *I);
/* For the exit() builtin: the program stops (the builtin then returns any
** failure status; the evaluator unwinds without reporting an error). */
void tl_interp_request_exit(tl_interp *I, int code);

/* Globals.  get: *out is a new reference; TL_ERR_ARG when undefined.
** set: stores a new reference to v (v stays the caller's). */
tl_status tl_interp_get_global(tl_interp *I, const char *name, tl_value *out);
tl_status tl_interp_set_global(tl_interp *I, const char *name, const tl_value *v);

/* Visits every global variable (value borrowed) and every user function (value
** NULL), in definition order: for the REPL's `vars` and for completion. */
void tl_interp_each_name(tl_interp *I,
                         void (*fn)(void *ctx, const char *name, const tl_value *value), void *ctx);

/* Calls a function value (user fn or builtin) from C, e.g. from a builtin. */
tl_status tl_interp_call(tl_interp *I, const tl_value *fn, int argc, const tl_value *argv,
                         tl_value *out);

/* Set to non-zero (e.g. from a SIGINT handler) to stop the running program
** at the next statement or call with "interrupted". Cleared at each entry. */
extern volatile sig_atomic_t tl_interrupt_requested;

#endif
