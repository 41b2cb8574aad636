/* app/repl_input.c -- is a REPL input complete, and how does it run?
**
** An input is first parsed as a file (declarations and main blocks); failing
** that, wrapped as the body of `main { ... }` so statements and expressions
** run in the global scope.  It is INCOMPLETE when either parse stops at the end
** of the text (an open brace, bracket, paren or string, a trailing operator). */
#include "lang/parse.h"
#include "app/repl.h"

#include <stdlib.h>
#include <string.h>

static bool only_blanks(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';') {
            i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *e = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (s[j] == '*' && s[j + 1] == '/') {
                    e = s + j;
                    break;
                }
            if (!e) return false; /* unterminated comment: let the parser say incomplete */
            i = (size_t)(e - s) + 2;
        } else {
            return false;
        }
    }
    return true;
}

/* Parses src; returns 1 when it parses, 0 on a syntax error, -1 when incomplete. */
static int try_parse(const char *src, size_t len) {
    tl_chunk *c = NULL;
    tl_diag d = {0};
    tl_status st = tl_parse(src, len, "<input>", &c, &d);
    if (st == TL_OK) {
        tl_chunk_free(c);
        return 1;
    }
    return d.incomplete ? -1 : 0;
}

tl_input_kind tl_repl_classify(const char *text, size_t len) {
    if (only_blanks(text, len)) return TL_INPUT_EMPTY;
    int raw = try_parse(text, len);
    if (raw == 1) return TL_INPUT_ITEMS;
    /* "main {\n" + text + "\n}" and the same without the closing brace */
    size_t n = len + 16;
    char *w = malloc(n);
    if (!w) return TL_INPUT_ERROR;
    memcpy(w, "main {\n", 7);
    memcpy(w + 7, text, len);
    memcpy(w + 7 + len, "\n}", 3);
    int closed = try_parse(w, len + 9);
    int open = closed == 1 ? 1 : try_parse(w, len + 7);
    free(w);
    if (closed == 1) return TL_INPUT_STATEMENTS;
    if (open == -1 || raw == -1) return TL_INPUT_INCOMPLETE;
    return TL_INPUT_ERROR;
}
