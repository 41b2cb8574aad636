/* lang/parse.h -- source text -> AST chunk (drives the re2c lexer and the Lemon parser).
**
** A tl_chunk owns a copy of its source text, its file name and the arena that
** holds its nodes; the evaluator keeps chunks alive as long as functions
** defined in them may run.  Syntax errors come back in a tl_diag: position,
** message, and `incomplete` when the text ended in the middle of a construct
** (the REPL then asks for another line). */
#ifndef TL_LANG_PARSE_H
#define TL_LANG_PARSE_H

#include "lang/ast.h"
#include "lang/strbuf.h"
#include "runtime/status.h"

struct tl_chunk {
    char *filename; /* as given (used in messages) */
    char *text;     /* NUL-terminated copy of the source */
    size_t len;
    tl_arena arena;
    tl_node *items; /* top-level items: TL_D_* nodes and TL_S_TENSOR */
};

typedef struct tl_diag {
    bool incomplete; /* the input ended inside a construct */
    uint32_t line, col;
    char msg[256];
} tl_diag;

/* Parses src[0..len).  On success *out is a new chunk (free with tl_chunk_free).
** On a syntax error returns TL_ERR_FORMAT, *out = NULL, and fills *diag. */
tl_status tl_parse(const char *src, size_t len, const char *filename, tl_chunk **out,
                   tl_diag *diag);
void tl_chunk_free(tl_chunk *c);

/* Appends "file:line:col: error: msg\n" plus the source line and a caret line. */
void tl_format_error(tl_strbuf *out, const char *filename, const char *text, size_t len,
                     uint32_t line, uint32_t col, const char *msg);

#endif
