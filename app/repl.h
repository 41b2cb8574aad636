/* app/repl.h -- the interactive read-eval-print loop (`tl`, `tl repl`).
**
** The REPL owns: reading input lines (libedit: line editing, history in
** ~/.tl_history, tab completion), deciding when an input is complete (the
** parser's INCOMPLETE status), wrapping statements so they run in the global
** scope of one persistent tl_interp, showing expression values (tensors with a
** NumPy-like preview), the `:` commands, and Ctrl-C / Ctrl-D handling.
**
** The pieces that do not need a terminal are exposed for unit tests:
** tl_repl_classify (is this input complete?), tl_repl_show_value (value
** display), tl_repl_completions (tab completion candidates) and
** tl_repl_session_* (one input at a time against an interpreter). */
#ifndef TL_APP_REPL_H
#define TL_APP_REPL_H

#include "lang/eval.h"
#include "lang/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- input classification --------------------------------------------------- */
typedef enum tl_input_kind {
    TL_INPUT_EMPTY,      /* only blanks and comments                                  */
    TL_INPUT_ITEMS,      /* declarations (fn, struct, import, main, ...): run as is    */
    TL_INPUT_STATEMENTS, /* statements / expressions: run inside `main { }`           */
    TL_INPUT_INCOMPLETE, /* ended inside a construct: read another line               */
    TL_INPUT_ERROR,      /* a syntax error before the end                             */
} tl_input_kind;

tl_input_kind tl_repl_classify(const char *text, size_t len);

/* ---- value display ------------------------------------------------------------ */
/* Appends how the REPL shows a value: tensors as
**     Tensor<f32>[2, 3]
**     [[1, 2, 3],
**      [4, 5, 6]]
** with "..." eliding the middle of any dimension longer than 6 once the tensor
** has more than 1000 elements (quantized tensors are dequantized for display);
** floats shortest round-trip (1e-05), also inside arrays and structs; strings
** quoted; everything else as print() shows it (lang/show.h, shared with show()). */
void tl_repl_show_value(tl_strbuf *b, const tl_value *v);
/* One line: "tensor f32 [2, 3]", "int", "Model", "struct Point", ... */
void tl_repl_describe_type(tl_strbuf *b, const tl_value *v);

/* ---- a session: one interpreter plus the REPL's input counter ------------------ */
typedef struct tl_repl_session {
    tl_interp *interp;
    int n_inputs;           /* inputs evaluated so far (names chunks "<input N>") */
    const char *chunk_name; /* when set, names every input instead     */
    bool quiet;             /* do not show values (script mode)                   */
    bool quit;              /* :quit or exit() was asked for                      */
    int exit_code;
    FILE *out, *err;
} tl_repl_session;

tl_status tl_repl_session_init(tl_repl_session *s, FILE *out, FILE *err);
void tl_repl_session_free(tl_repl_session *s);
/* Evaluates one complete input (statements, declarations or a `:` command),
** printing its value to s->out and any error to s->err.  Returns the status of
** the evaluation; the session stays usable after errors. */
tl_status tl_repl_session_eval(tl_repl_session *s, const char *text, size_t len);
/* Evaluates a ':' command line (text starts with ':'). */
tl_status tl_repl_command(tl_repl_session *s, const char *line);

/* ---- completion ------------------------------------------------------------------ */
/* Candidates for the word ending at line[point] (builtins, keywords, globals,
** functions, structs, struct fields after `name.`, and `:` commands at the start
** of the line).  Returns a malloc'd NULL-terminated array of malloc'd strings
** (sorted, unique), or NULL when there are none.  *word_start gets the offset
** of the word being completed. */
char **tl_repl_completions(tl_interp *I, const char *line, size_t point, size_t *word_start);
void tl_repl_free_completions(char **list);
/* The signature(s) of the call whose '(' is open at point (builtin overloads one
** per line, or `fn f(a, b)`); false when point is not inside a known call. */
bool tl_repl_call_signature(tl_interp *I, const char *line, size_t point, tl_strbuf *out);

/* ---- entry points ------------------------------------------------------------------ */
/* The interactive loop on the terminal; history_path NULL = ~/.tl_history,
** "" = no history file.
** The n_load files are run first, as by :load.  Returns the process exit status. */
int tl_repl_interactive(const char *history_path, int n_load, char **load);
/* `tl repl` on a non-terminal stdin: the REPL without prompts or line editing
** (values shown, errors reported, the session goes on). */
int tl_repl_run_piped(FILE *in, int n_load, char **load);
/* Runs a script read from `in` (non-terminal stdin): statements, declarations
** and main blocks in order, values not shown.  Stops at the first error
** (message on stderr) and returns 1; else 0 or the code given to exit(n). */
int tl_repl_run_stream(FILE *in, const char *name);

#endif
