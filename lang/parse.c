/* lang/parse.c -- drives the lexer and the Lemon parser; AST node helpers; error text. */
#include "lang/parse_internal.h"
#include "grammar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lemon's generated interface (grammar.c). */
void *tl_parserAlloc(void *(*alloc)(size_t), tl_parse_state *ps);
void tl_parser(void *p, int major, tl_token minor);
void tl_parserFree(void *p, void (*dealloc)(void *));

void tl_perror(tl_parse_state *ps, uint32_t line, uint32_t col, const char *fmt, ...) {
    if (ps->failed) return; /* report the first error only */
    ps->failed = true;
    ps->diag->line = line;
    ps->diag->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->diag->msg, sizeof ps->diag->msg, fmt, ap);
    va_end(ap);
}

static bool in_set(int id, const int *set, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (set[i] == id) return true;
    return false;
}

/* "expected an expression or ')'" from the terminals the parser state accepts;
** empty when there are too many alternatives to be helpful. */
static void expected_hint(char *out, size_t cap, const int *exp, int n) {
    static const int expr_start[] = {TK_IDENT, TK_INT,    TK_FLOAT,      TK_STRING, TK_TRUE,
                                     TK_FALSE, TK_LPAREN, TK_LBRACKET,   TK_MINUS,  TK_BANG,
                                     TK_NOT,   TK_MATCH,  TK_STRUCTNAME, TK_EINSUM, TK_PYTHON};
    static const int operators[] = {
        TK_OROR,  TK_OR,      TK_ANDAND,   TK_AND,      TK_EQEQ,  TK_NE,     TK_LT,
        TK_LE,    TK_GT,      TK_GE,       TK_APPROX,   TK_PLUS,  TK_MINUS,  TK_STAR,
        TK_SLASH, TK_PERCENT, TK_AT,       TK_ODOT,     TK_POW,   TK_OTIMES, TK_AS,
        TK_DOT,   TK_LPAREN,  TK_LBRACKET, TK_QUESTION, TK_TILDE, TK_EQ,     TK_COLONEQ};
    const size_t n_expr = sizeof expr_start / sizeof expr_start[0];
    const size_t n_ops = sizeof operators / sizeof operators[0];
    bool want_expr = in_set(TK_INT, exp, (size_t)n) && in_set(TK_IDENT, exp, (size_t)n);
    bool want_op = in_set(TK_PLUS, exp, (size_t)n) && in_set(TK_STAR, exp, (size_t)n);
    const char *items[8];
    int k = 0;
    if (want_expr) items[k++] = "an expression";
    if (want_op) items[k++] = "an operator";
    for (int i = 0; i < n; i++) {
        if (want_expr && in_set(exp[i], expr_start, n_expr)) continue;
        if (want_op && in_set(exp[i], operators, n_ops)) continue;
        if (k == 5) {
            out[0] = '\0';
            return;
        }
        items[k++] = tl_token_spelling(exp[i]);
    }
    out[0] = '\0';
    if (k == 0 || k > 4) return;
    size_t used = (size_t)snprintf(out, cap, ", expected ");
    for (int i = 0; i < k && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                 i == 0       ? ""
                                 : i == k - 1 ? " or "
                                              : ", ",
                                 items[i]);
}

void tl_psyntax_error(tl_parse_state *ps, int major, const tl_token *t, const int *expected,
                      int n_expected) {
    if (ps->failed) return;
    char hint[160];
    expected_hint(hint, sizeof hint, expected, n_expected);
    if (major == 0) {
        tl_perror(ps, t->line, t->col, "unexpected end of input%s", hint);
        ps->diag->incomplete = true;
        return;
    }
    int n = t->n > 40 ? 40 : (int)t->n;
    tl_perror(ps, t->line, t->col, "unexpected %s '%.*s'%s", tl_token_describe(major), n, t->z,
              hint);
}

static tl_node *alloc_node(tl_parse_state *ps, tl_node_kind kind, uint32_t line, uint32_t col) {
    tl_node *n = tl_arena_alloc(&ps->chunk->arena, sizeof *n);
    if (!n) {
        tl_perror(ps, line, col, "out of memory");
        return NULL;
    }
    n->kind = (uint16_t)kind;
    n->line = line;
    n->col = col;
    n->chunk = ps->chunk;
    return n;
}

tl_node *tl_pnode(tl_parse_state *ps, tl_node_kind kind, const tl_token *at) {
    return alloc_node(ps, kind, at->line, at->col);
}

tl_node *tl_pnode_at(tl_parse_state *ps, tl_node_kind kind, const tl_node *at) {
    if (!at) return NULL;
    return alloc_node(ps, kind, at->line, at->col);
}

static uint32_t name_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Grows the name table to twice its size; false (names stay unshared) on out of memory. */
static bool names_grow(tl_parse_state *ps) {
    uint32_t cap = ps->names_cap ? ps->names_cap * 2 : 256;
    const char **t = calloc(cap, sizeof *t);
    if (!t) return false;
    for (uint32_t i = 0; i < ps->names_cap; i++) {
        const char *s = ps->names[i];
        if (!s) continue;
        uint32_t k = name_hash(s, strlen(s)) & (cap - 1);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = s;
    }
    free(ps->names);
    ps->names = t;
    ps->names_cap = cap;
    return true;
}

const char *tl_pname(tl_parse_state *ps, const tl_token *t) {
    if (2 * (ps->names_n + 1) > ps->names_cap && !names_grow(ps))
        return tl_arena_strndup(&ps->chunk->arena, t->z, t->n);
    uint32_t m = ps->names_cap - 1, k = name_hash(t->z, t->n) & m;
    for (; ps->names[k]; k = (k + 1) & m)
        if (strlen(ps->names[k]) == t->n && memcmp(ps->names[k], t->z, t->n) == 0)
            return ps->names[k];
    char *s = tl_arena_strndup(&ps->chunk->arena, t->z, t->n);
    if (s) {
        ps->names[k] = s;
        ps->names_n++;
    }
    return s;
}

tl_list tl_plist_one(tl_node *n) {
    return (tl_list){n, n};
}

tl_list tl_plist_append(tl_list l, tl_node *n) {
    if (!n) return l;
    if (!l.head) return (tl_list){n, n};
    l.tail->next = n;
    l.tail = n;
    return l;
}

tl_node *tl_pbinary(tl_parse_state *ps, tl_binop op, tl_node *a, tl_node *b) {
    if (!a || !b) return NULL;
    tl_node *n = alloc_node(ps, TL_N_BINARY, a->line, a->col);
    if (n) {
        n->op = (uint16_t)op;
        n->a = a;
        n->b = b;
    }
    return n;
}

tl_node *tl_punary(tl_parse_state *ps, tl_binop op, tl_node *a, const tl_token *at) {
    if (!a) return NULL;
    /* fold -literal so that `-1` is an int constant (and i64 min is reachable) */
    if (op == TL_OP_NEG && a->kind == TL_N_INT && (a->v.i >= 0 || a->op == 1)) {
        if (a->op == 1)
            a->op = 0; /* -9223372036854775808 */
        else
            a->v.i = -a->v.i;
        a->line = at->line;
        a->col = at->col;
        return a;
    }
    if (op == TL_OP_NEG && a->kind == TL_N_FLOAT) {
        a->v.f = -a->v.f;
        a->line = at->line;
        a->col = at->col;
        return a;
    }
    tl_node *n = tl_pnode(ps, TL_N_UNARY, at);
    if (n) {
        n->op = (uint16_t)op;
        n->a = a;
    }
    return n;
}

tl_node *tl_pint(tl_parse_state *ps, const tl_token *t, bool negative) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t d = (uint64_t)(t->z[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            v = UINT64_MAX;
            break;
        }
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX + 1u) {
        tl_perror(ps, t->line, t->col, "integer literal %.*s is too large", (int)t->n, t->z);
        return NULL;
    }
    tl_node *n = tl_pnode(ps, TL_N_INT, t);
    if (!n) return NULL;
    if (v == (uint64_t)INT64_MAX + 1u) {
        n->v.i = INT64_MIN;
        n->op = negative ? 0 : 1; /* 1: only valid once negated (-9223372036854775808) */
    } else {
        n->v.i = negative ? -(int64_t)v : (int64_t)v;
    }
    return n;
}

tl_node *tl_pfloat(tl_parse_state *ps, const tl_token *t, bool negative) {
    char buf[128];
    size_t n = t->n < sizeof buf - 1 ? t->n : sizeof buf - 1;
    memcpy(buf, t->z, n);
    buf[n] = '\0';
    tl_node *node = tl_pnode(ps, TL_N_FLOAT, t);
    if (node) node->v.f = negative ? -strtod(buf, NULL) : strtod(buf, NULL);
    return node;
}

tl_node *tl_pstring(tl_parse_state *ps, const tl_token *t) {
    /* t spans the quotes; escapes: \\ \" \n \t \r \0 */
    char *out = tl_arena_alloc(&ps->chunk->arena, t->n + 1);
    tl_node *n = tl_pnode(ps, TL_N_STRING, t);
    if (!out || !n) return NULL;
    size_t k = 0;
    uint32_t line = t->line, col = t->col;
    for (uint32_t i = 1; i + 1 < t->n; i++) {
        char c = t->z[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (c != '\\') {
            out[k++] = c;
            continue;
        }
        char e = t->z[++i];
        switch (e) {
        case 'n':
            out[k++] = '\n';
            break;
        case 't':
            out[k++] = '\t';
            break;
        case 'r':
            out[k++] = '\r';
            break;
        case '0':
            out[k++] = '\0';
            break;
        case '\\':
            out[k++] = '\\';
            break;
        case '"':
            out[k++] = '"';
            break;
        case 'u': { /* \u2713 or \u{1F999}: a code point as UTF-8 */
            uint32_t cp = 0;
            int nd = 0;
            bool braced = i + 1 + 1 < t->n && t->z[i + 1] == '{';
            uint32_t j = i + 1 + (braced ? 1 : 0);
            for (; j + 1 < t->n && nd < (braced ? 6 : 4); j++, nd++) {
                char h = t->z[j];
                int d = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
                if (d < 0) break;
                cp = cp * 16 + (uint32_t)d;
            }
            if ((braced ? nd == 0 || j + 1 >= t->n || t->z[j] != '}' : nd != 4) || cp > 0x10FFFF ||
                (cp >= 0xD800 && cp <= 0xDFFF)) {
                tl_perror(ps, line, col,
                          "bad \\u escape: write \\u followed by 4 hex digits or \\u{1 to 6 "
                          "hex digits} naming a Unicode scalar value");
                return NULL;
            }
            if (braced) j++; /* the '}' */
            col += j - i - 1;
            i = j - 1;
            if (cp < 0x80) {
                out[k++] = (char)cp;
            } else if (cp < 0x800) {
                out[k++] = (char)(0xC0 | (cp >> 6));
                out[k++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[k++] = (char)(0xE0 | (cp >> 12));
                out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[k++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[k++] = (char)(0xF0 | (cp >> 18));
                out[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[k++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            tl_perror(ps, line, col, "unknown escape '\\%c' in string", e);
            return NULL;
        }
        col++;
    }
    out[k] = '\0';
    n->name = out;
    n->v.len = k;
    return n;
}

/* Juxtaposition (docs/equations.md): on one line, a name directly followed by '['
** (or '(' after ']' or a number) that comes right after ']', ')' or a number
** multiplies: `W[i, j] X[j]`, `2 X[i]`, `relu(A[i]) B[i]`, `W[i, j] relu(X[j])`. */
static bool juxtaposed(int prev, uint32_t prev_line, int id, const tl_token *tok, const char *lim) {
    if (id != TK_IDENT || prev_line != tok->line) return false;
    if (prev != TK_RBRACKET && prev != TK_RPAREN && prev != TK_INT && prev != TK_FLOAT)
        return false;
    const char *p = tok->z + tok->n;
    while (p < lim && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= lim) return false;
    return *p == '[' || (*p == '(' && prev != TK_RPAREN);
}

static bool plain_lhs(const tl_node *s) {
    if (s->kind != TL_S_ASSIGN || s->op != 0 || s->a->kind != TL_N_INDEX ||
        s->a->a->kind != TL_N_IDENT || (s->b && s->b->kind == TL_N_BINARY && s->b->a == s->a))
        return false; /* (the last test: `Y[i] += e`, which accumulates by itself) */
    for (const tl_node *ix = s->a->b; ix; ix = ix->next)
        if (ix->kind != TL_N_IDENT) return false;
    return true;
}

static bool same_lhs(const tl_node *x, const tl_node *y) {
    if (strcmp(x->a->a->name, y->a->a->name) != 0) return false;
    const tl_node *a = x->a->b, *b = y->a->b;
    for (; a && b; a = a->next, b = b->next)
        if (strcmp(a->name, b->name) != 0) return false;
    return !a && !b;
}

void tl_pmark_equations(tl_node *stmts) {
    for (tl_node *s = stmts; s; s = s->next) {
        if (!plain_lhs(s)) continue;
        for (const tl_node *t = stmts; t != s; t = t->next)
            if (plain_lhs(t) && same_lhs(s, t)) {
                s->v.i = 1;
                break;
            }
    }
}

tl_node *tl_passign(tl_parse_state *ps, tl_node *target, tl_node *value) {
    if (!target || !value) return NULL;
    if (target->kind != TL_N_IDENT && target->kind != TL_N_FIELD && target->kind != TL_N_INDEX) {
        tl_perror(ps, target->line, target->col,
                  "cannot assign to this expression (only to a name, a field or an index)");
        return NULL;
    }
    tl_node *n = alloc_node(ps, TL_S_ASSIGN, target->line, target->col);
    if (n) {
        n->a = target;
        n->b = value;
    }
    return n;
}

tl_node *tl_punsupported(tl_parse_state *ps, tl_node_kind kind, const char *what,
                         const tl_token *at) {
    tl_node *n = tl_pnode(ps, kind, at);
    if (n) n->name = what;
    return n;
}

tl_status tl_parse(const char *src, size_t len, const char *filename, tl_chunk **out,
                   tl_diag *diag) {
    *out = NULL;
    memset(diag, 0, sizeof *diag);
    tl_chunk *c = calloc(1, sizeof *c);
    if (!c) return tl_fail(TL_ERR_NOMEM, "out of memory");
    c->filename = strdup(filename ? filename : "<input>");
    c->text = malloc(len + 1);
    if (!c->filename || !c->text) {
        tl_chunk_free(c);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    if (len) memcpy(c->text, src, len);
    c->text[len] = '\0';
    c->len = len;
    tl_arena_init(&c->arena, 32 * 1024);

    tl_parse_state ps = {.chunk = c, .diag = diag};
    void *parser = tl_parserAlloc(malloc, &ps);
    if (!parser) {
        tl_chunk_free(c);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    tl_lexer lx;
    tl_lexer_init(&lx, c->text, len);
    tl_token tok;
    int prev_id = 0;
    uint32_t prev_line = 0;
    for (;;) {
        int id = tl_lexer_next(&lx, &tok);
        if (id == TL_LEX_ERROR) {
            unsigned char ch = (unsigned char)tok.z[0];
            if (strcmp(lx.error, "unexpected character") == 0 && (ch < 0x20 || ch == 0x7f))
                /* a NUL or control byte: spelled out, never written raw */
                tl_perror(&ps, tok.line, tok.col, "unexpected character '\\x%02x'", ch);
            else if (strcmp(lx.error, "unexpected character") == 0)
                tl_perror(&ps, tok.line, tok.col, "unexpected character '%c'", tok.z[0]);
            else
                tl_perror(&ps, tok.line, tok.col, "%s", lx.error);
            if (lx.incomplete) diag->incomplete = true;
            break;
        }
        ps.line = tok.line;
        ps.col = tok.col;
        if (juxtaposed(prev_id, prev_line, id, &tok, lx.lim)) {
            /* W[i, j] X[j, k]: the factors of a tensor equation, joined by an implied '*' */
            tl_token star = tok;
            star.n = 0;
            tl_parser(parser, TK_STAR, star);
            if (ps.failed) break;
        }
        prev_id = id;
        prev_line = tok.line;
        tl_parser(parser, id, tok);
        if (ps.failed || id == TL_LEX_END) break;
    }
    tl_parserFree(parser, free);
    free(ps.names);
    if (ps.failed) {
        tl_chunk_free(c);
        return tl_fail(TL_ERR_FORMAT, "%s:%u:%u: %s", filename ? filename : "<input>", diag->line,
                       diag->col, diag->msg);
    }
    c->items = ps.root;
    *out = c;
    return TL_OK;
}

void tl_chunk_free(tl_chunk *c) {
    if (!c) return;
    tl_arena_free(&c->arena);
    free(c->filename);
    free(c->text);
    free(c);
}

void tl_format_error(tl_strbuf *out, const char *filename, const char *text, size_t len,
                     uint32_t line, uint32_t col, const char *msg) {
    if (line == 0) {
        tl_strbuf_printf(out, "%s: error: %s\n", filename, msg);
        return;
    }
    tl_strbuf_printf(out, "%s:%u:%u: error: %s\n", filename, line, col, msg);
    if (!text) return;
    /* find the line */
    const char *p = text, *end = text + len;
    for (uint32_t l = 1; l < line && p < end; p++)
        if (*p == '\n') l++;
    if (p > end) return;
    const char *e = p;
    while (e < end && *e != '\n')
        e++;
    size_t n = (size_t)(e - p);
    if (n && p[n - 1] == '\r') n--;
    if (n > 200) n = 200;
    char num[16];
    int w = snprintf(num, sizeof num, "%u", line);
    tl_strbuf_printf(out, " %s | ", num);
    for (size_t i = 0; i < n; i++) /* control bytes (a NUL would end the message) as '?' */
        tl_strbuf_putc(out, (unsigned char)p[i] < 0x20 && p[i] != '\t' ? '?' : p[i]);
    tl_strbuf_printf(out, "\n %*s | ", w, "");
    for (uint32_t i = 1; i < col && i - 1 < n; i++)
        tl_strbuf_putc(out, p[i - 1] == '\t' ? '\t' : ' ');
    tl_strbuf_puts(out, "^\n");
}
