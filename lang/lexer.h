/* lang/lexer.h -- the re2c scanner: source bytes -> tokens with line/column.
**
** Tokens are small values pointing into the source text (which must stay alive
** and be NUL-terminated at len).  Token ids are the TK_* constants of the Lemon
** grammar (grammar.h, generated into the build directory).  A few words are
** keywords only in context, decided by looking ahead in the text:
**   test NAME {, bench NAME {, with NAME {, embedding NAME {  -> TK_TEST, ...
**   Upper { name: ... } / Upper { }                         -> TK_STRUCTNAME
** so that `test`, `embedding`, ... stay usable as ordinary names. */
#ifndef TL_LANG_LEXER_H
#define TL_LANG_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_token {
    const char *z; /* first byte in the source */
    uint32_t n;    /* length in bytes */
    uint32_t line, col;
} tl_token;

typedef struct tl_lexer {
    const char *cur, *lim, *mar, *tok, *line_start;
    uint32_t line;
    const char *error; /* set when tl_lexer_next returns TL_LEX_ERROR */
    bool incomplete;   /* the error is an unterminated string/comment */
    int prev;          /* the previous token id */
} tl_lexer;

#define TL_LEX_END   0
#define TL_LEX_ERROR (-1)

void tl_lexer_init(tl_lexer *lx, const char *src, size_t len);
/* The next token id (> 0), TL_LEX_END at the end, or TL_LEX_ERROR (tok holds the
** position of the offending text, lx->error the message). */
int tl_lexer_next(tl_lexer *lx, tl_token *tok);
/* The spelling of a token id for messages ("'{'", "identifier", "end of input"). */
const char *tl_token_describe(int id);
/* How a token is written, for "expected ..." hints: "'('", "'let'", "a name". */
const char *tl_token_spelling(int id);

#endif
