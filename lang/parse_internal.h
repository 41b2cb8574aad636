/* lang/parse_internal.h -- helpers shared by grammar.y's actions and parse.c.
** Not for use outside the parser. */
#ifndef TL_LANG_PARSE_INTERNAL_H
#define TL_LANG_PARSE_INTERNAL_H

#include "lang/lexer.h"
#include "lang/parse.h"

typedef struct tl_parse_state {
    tl_chunk *chunk;
    tl_diag *diag;
    bool failed;
    tl_node *root;
    uint32_t line, col; /* position of the token being fed */
    /* every distinct name once (tl_pname): equal names share one pointer, so the
    ** interpreter's scopes match a variable by pointer before comparing bytes */
    const char **names;
    uint32_t names_n, names_cap;
} tl_parse_state;

typedef struct tl_list {
    tl_node *head, *tail;
} tl_list;

tl_node *tl_pnode(tl_parse_state *ps, tl_node_kind kind, const tl_token *at);
tl_node *tl_pnode_at(tl_parse_state *ps, tl_node_kind kind, const tl_node *at);
const char *tl_pname(tl_parse_state *ps, const tl_token *t);
tl_list tl_plist_append(tl_list l, tl_node *n);
tl_list tl_plist_one(tl_node *n);
tl_node *tl_pbinary(tl_parse_state *ps, tl_binop op, tl_node *a, tl_node *b);
tl_node *tl_punary(tl_parse_state *ps, tl_binop op, tl_node *a, const tl_token *at);
tl_node *tl_pint(tl_parse_state *ps, const tl_token *t, bool negative);
tl_node *tl_pfloat(tl_parse_state *ps, const tl_token *t, bool negative);
tl_node *tl_pstring(tl_parse_state *ps, const tl_token *t);
tl_node *tl_passign(tl_parse_state *ps, tl_node *target, tl_node *value);
/* Marks (v.i = 1) every `T[i, j] = e` that repeats the left side of an earlier
** one in the same statement list: when both run as tensor equations, the later
** one adds to the tensor (docs/equations.md, "same left side"). */
void tl_pmark_equations(tl_node *stmts);
tl_node *tl_punsupported(tl_parse_state *ps, tl_node_kind kind, const char *what,
                         const tl_token *at);
void tl_perror(tl_parse_state *ps, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tl_psyntax_error(tl_parse_state *ps, int major, const tl_token *t, const int *expected,
                      int n_expected);

#endif
