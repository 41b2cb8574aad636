/* lang/lexer.re -- the re2c scanner (see lexer.h).  Generated into lexer.c. */
#include "lang/lexer.h"
#include "grammar.h"

#include <stdio.h>
#include <string.h>

void tl_lexer_init(tl_lexer *lx, const char *src, size_t len) {
    memset(lx, 0, sizeof *lx);
    lx->cur = src;
    lx->lim = src + len;
    lx->line_start = src;
    lx->line = 1;
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark */
        lx->cur += 3;
        lx->line_start += 3;
    }
}

typedef struct keyword {
    const char *word;
    int id;
} keyword;

/* Reserved words (TENSORLOGIC.md section 1 minus the ones we free up:
** range, forward/backward/..., rule are ordinary names here). */
static const keyword keywords[] = {
    {"and", TK_AND},           {"as", TK_AS},           {"auto", TK_AUTO},
    {"bool", TK_BOOL},         {"break", TK_BREAK},     {"complex16", TK_COMPLEX16},
    {"concept", TK_CONCEPT},   {"continue", TK_CONTINUE}, {"einsum", TK_EINSUM},
    {"else", TK_ELSE},         {"embed", TK_EMBED},     {"entity", TK_ENTITY},
    {"epochs", TK_EPOCHS},     {"false", TK_FALSE},     {"float16", TK_FLOAT16},
    {"float32", TK_FLOAT32},   {"fn", TK_FN},           {"for", TK_FOR},
    {"frozen", TK_FROZEN},     {"if", TK_IF},           {"impl", TK_IMPL},
    {"import", TK_IMPORT},     {"in", TK_IN},           {"infer", TK_INFER},
    {"int16", TK_INT16},       {"int32", TK_INT32},     {"int64", TK_INT64},
    {"learn", TK_LEARN},       {"learnable", TK_LEARNABLE}, {"let", TK_LET},
    {"loop", TK_LOOP},         {"main", TK_MAIN},       {"match", TK_MATCH},
    {"no_grad", TK_NOGRAD},    {"not", TK_NOT},           {"objective", TK_OBJECTIVE}, {"optimizer", TK_OPTIMIZER},
    {"or", TK_OR},             {"python", TK_PYTHON},   {"relation", TK_RELATION},
    {"return", TK_RETURN},     {"struct", TK_STRUCT},   {"tensor", TK_TENSOR},
    {"true", TK_TRUE},         {"void", TK_VOID},       {"where", TK_WHERE},
    {"while", TK_WHILE},
};

static int is_id_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_id_char(int c) { return is_id_start(c) || (c >= '0' && c <= '9'); }

static const char *skip_ws(const char *p, const char *lim) {
    while (p < lim && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

/* After `word` at p: whitespace, an identifier, whitespace, '{'? */
static int ident_then_brace(const char *p, const char *lim) {
    p = skip_ws(p, lim);
    if (p >= lim || !is_id_start((unsigned char)*p)) return 0;
    while (p < lim && is_id_char((unsigned char)*p)) p++;
    p = skip_ws(p, lim);
    return p < lim && *p == '{';
}

/* After `extern`: whitespace, then a string literal? */
static int string_follows(const char *p, const char *lim) {
    p = skip_ws(p, lim);
    return p < lim && *p == '"';
}

/* After an upper-case name at p: '{' then '}' or `ident :` (not `::`)? */
static int struct_literal_follows(const char *p, const char *lim) {
    p = skip_ws(p, lim);
    if (p >= lim || *p != '{') return 0;
    p = skip_ws(p + 1, lim);
    if (p < lim && *p == '}') return 1;
    if (p >= lim || !is_id_start((unsigned char)*p)) return 0;
    while (p < lim && is_id_char((unsigned char)*p)) p++;
    p = skip_ws(p, lim);
    return p < lim && *p == ':' && !(p + 1 < lim && p[1] == ':');
}

/* After `return`: does the line end (or the block close) before any value? */
static int value_ends_here(const char *p, const char *lim) {
    while (p < lim && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    if (p >= lim || *p == '\n' || *p == '}' || *p == ';') return 1;
    return p + 1 < lim && p[0] == '/' && p[1] == '/';
}

static int classify_ident(tl_lexer *lx, const char *z, size_t n) {
    if (n == 6 && memcmp(z, "return", 6) == 0 && value_ends_here(lx->cur, lx->lim))
        return TK_RETURNVOID;
    size_t lo = 0, hi = sizeof keywords / sizeof keywords[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(z, keywords[mid].word, n);
        if (c == 0 && keywords[mid].word[n] != '\0') c = -1;
        if (c == 0) return keywords[mid].id;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
#define WORD(w) (n == sizeof(w) - 1 && memcmp(z, w, n) == 0)
    if (WORD("test") && ident_then_brace(lx->cur, lx->lim)) return TK_TEST;
    if (WORD("bench") && ident_then_brace(lx->cur, lx->lim)) return TK_BENCH;
    if (WORD("with") && ident_then_brace(lx->cur, lx->lim)) return TK_WITH;
    if (WORD("extern") && string_follows(lx->cur, lx->lim)) return TK_EXTERN;
    if ((WORD("embedding") || WORD("relation_embedding")) && ident_then_brace(lx->cur, lx->lim))
        return TK_EMBEDDING;
#undef WORD
    /* `Name {` starts a struct literal, except where a type or a condition ends before a
    ** block: struct/impl/for/-> headers and if/while/match/for-in conditions (as in Rust) */
    int p = lx->prev;
    if (p != TK_STRUCT && p != TK_IMPL && p != TK_FOR && p != TK_ARROW && p != TK_IN &&
        p != TK_IF && p != TK_WHILE && p != TK_MATCH && z[0] >= 'A' && z[0] <= 'Z' &&
        struct_literal_follows(lx->cur, lx->lim))
        return TK_STRUCTNAME;
    return TK_IDENT;
}

/* `max=` `min=` `avg=` (no space before '=', not '==') right after ']': the
** projection of a tensor equation, Y[i] max= X[i, j]. */
static int projection_eq(tl_lexer *lx, const char *z, size_t n) {
    if (lx->prev != TK_RBRACKET || n != 3 || lx->cur >= lx->lim || *lx->cur != '=') return 0;
    if (lx->cur + 1 < lx->lim && (lx->cur[1] == '=' || lx->cur[1] == '>')) return 0;
    if (memcmp(z, "max", 3) == 0) return TK_MAXEQ;
    if (memcmp(z, "min", 3) == 0) return TK_MINEQ;
    if (memcmp(z, "avg", 3) == 0) return TK_AVGEQ;
    return 0;
}

static void newlines(tl_lexer *lx, const char *from, const char *to) {
    for (const char *p = from; p < to; p++)
        if (*p == '\n') {
            lx->line++;
            lx->line_start = p + 1;
        }
}

int tl_lexer_next(tl_lexer *lx, tl_token *tok) {
    for (;;) {
        lx->tok = lx->cur;
        tok->z = lx->cur;
        tok->line = lx->line;
        tok->col = (uint32_t)(lx->cur - lx->line_start) + 1;
#define EMIT(id)                                                                                   \
    do {                                                                                           \
        tok->n = (uint32_t)(lx->cur - lx->tok);                                                    \
        return lx->prev = (id);                                                                    \
    } while (0)
#define FAIL(msg, inc)                                                                             \
    do {                                                                                           \
        tok->n = (uint32_t)(lx->cur - lx->tok);                                                    \
        lx->error = (msg);                                                                         \
        lx->incomplete = (inc);                                                                    \
        return TL_LEX_ERROR;                                                                       \
    } while (0)
        if (lx->prev == TK_DOT && lx->cur < lx->lim && *lx->cur >= '0' && *lx->cur <= '9') {
            /* x.0 after a dot: an integer alone (model.blk.0.attn_q), never "0.5" */
            while (lx->cur < lx->lim && *lx->cur >= '0' && *lx->cur <= '9')
                lx->cur++;
            EMIT(TK_INT);
        }
        /*!re2c
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYCURSOR = "lx->cur";
        re2c:define:YYMARKER = "lx->mar";
        re2c:define:YYLIMIT = "lx->lim";
        re2c:yyfill:enable = 0;
        re2c:eof = 0;

        digit = [0-9];
        id = [a-zA-Z_][a-zA-Z_0-9]*;
        exp = [eE] [+-]? digit+;

        $ { tok->n = 0; return TL_LEX_END; }
        [ \t\r]+ { continue; }
        "\n" { lx->line++; lx->line_start = lx->cur; continue; }
        "//" [^\n]* { continue; }
        "/*" ([^*] | "*"+ [^*/])* "*"+ "/" { newlines(lx, lx->tok, lx->cur); continue; }
        "/*" { lx->cur = lx->lim; FAIL("unterminated /* comment", 1); }

        digit+ "." digit+ exp? { EMIT(TK_FLOAT); }
        digit+ exp { EMIT(TK_FLOAT); }
        digit+ { EMIT(TK_INT); }
        digit+ / ".." { EMIT(TK_INT); }
        digit+ "." { FAIL("a number needs digits after the '.' (write 1.0)", 0); }
        digit+ ("." digit+)? "i" { FAIL("complex numbers are not supported", 0); }
        digit+ [a-zA-Z_] { FAIL("malformed number", 0); }

        ["] ([^"\\] | "\\" [^])* ["] { newlines(lx, lx->tok, lx->cur); EMIT(TK_STRING); }
        ["] { lx->cur = lx->lim; FAIL("unterminated string", 1); }

        id {
            tok->n = (uint32_t)(lx->cur - lx->tok);
            int proj = projection_eq(lx, lx->tok, tok->n);
            if (proj) {
                lx->cur++;
                tok->n++;
                return lx->prev = proj;
            }
            return lx->prev = classify_ident(lx, lx->tok, tok->n);
        }

        "(" { EMIT(TK_LPAREN); }
        ")" { EMIT(TK_RPAREN); }
        "{" { EMIT(TK_LBRACE); }
        "}" { EMIT(TK_RBRACE); }
        "[" { EMIT(TK_LBRACKET); }
        "]" { EMIT(TK_RBRACKET); }
        "," { EMIT(TK_COMMA); }
        ";" { EMIT(TK_SEMI); }
        "..." { EMIT(TK_ELLIPSIS); }
        ".." { EMIT(TK_DOTDOT); }
        "." { EMIT(TK_DOT); }
        "::" { EMIT(TK_COLONCOLON); }
        ":=" { EMIT(TK_COLONEQ); }
        ":" { EMIT(TK_COLON); }
        "==" { EMIT(TK_EQEQ); }
        "=>" { EMIT(TK_FATARROW); }
        "=" { EMIT(TK_EQ); }
        "!=" { EMIT(TK_NE); }
        "!" { EMIT(TK_BANG); }
        "<=" { EMIT(TK_LE); }
        "<-" { EMIT(TK_LARROW); }
        "<" { EMIT(TK_LT); }
        ">=" { EMIT(TK_GE); }
        ">" { EMIT(TK_GT); }
        "+=" { EMIT(TK_PLUSEQ); }
        "-=" { EMIT(TK_MINUSEQ); }
        "*=" { EMIT(TK_STAREQ); }
        "/=" { EMIT(TK_SLASHEQ); }
        "+" { EMIT(TK_PLUS); }
        "->" { EMIT(TK_ARROW); }
        "-" { EMIT(TK_MINUS); }
        "**" { EMIT(TK_POW); }
        "*" { EMIT(TK_STAR); }
        "/" { EMIT(TK_SLASH); }
        "%" { EMIT(TK_PERCENT); }
        "@" { EMIT(TK_AT); }
        "&&" { EMIT(TK_ANDAND); }
        "||" { EMIT(TK_OROR); }
        "|" { EMIT(TK_PIPE); }
        "?" { EMIT(TK_QUESTION); }
        "~" { EMIT(TK_TILDE); }
        "\xE2\x8A\x99" { EMIT(TK_ODOT); }
        "\xE2\x8A\x97" { EMIT(TK_OTIMES); }
        "\xE2\x89\x88" { EMIT(TK_APPROX); }
        * { FAIL((unsigned char)lx->tok[0] < 0x80 ? "unexpected character" : "unexpected non-ASCII character (names and operators are ASCII, except \xE2\x8A\x99 \xE2\x8A\x97 \xE2\x89\x88)", 0); }
        */
#undef EMIT
#undef FAIL
    }
}

const char *tl_token_describe(int id) {
    switch (id) {
    case TL_LEX_END: return "end of input";
    case TK_IDENT: return "identifier";
    case TK_STRUCTNAME: return "struct name";
    case TK_INT: return "integer";
    case TK_FLOAT: return "number";
    case TK_STRING: return "string";
    case TK_LPAREN: case TK_RPAREN: case TK_LBRACE: case TK_RBRACE: case TK_LBRACKET:
    case TK_RBRACKET: case TK_COMMA: case TK_SEMI: case TK_DOT: case TK_COLONCOLON:
    case TK_COLONEQ: case TK_COLON: case TK_EQEQ: case TK_FATARROW: case TK_EQ: case TK_NE:
    case TK_BANG: case TK_LE: case TK_LARROW: case TK_LT: case TK_GE: case TK_GT: case TK_PLUS:
    case TK_ARROW: case TK_MINUS: case TK_POW: case TK_STAR: case TK_SLASH: case TK_PERCENT:
    case TK_AT: case TK_ANDAND: case TK_OROR: case TK_PIPE: case TK_QUESTION: case TK_TILDE:
    case TK_ODOT: case TK_OTIMES: case TK_APPROX: case TK_PLUSEQ: case TK_MINUSEQ:
    case TK_STAREQ: case TK_SLASHEQ: case TK_ELLIPSIS: case TK_DOTDOT: case TK_MAXEQ:
    case TK_MINEQ: case TK_AVGEQ:
        return "token";
    default: return "keyword";
    }
}

const char *tl_token_spelling(int id) {
    static char quoted[sizeof keywords / sizeof keywords[0]][24];
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (keywords[i].id == id) {
            if (!quoted[i][0]) snprintf(quoted[i], sizeof quoted[i], "'%s'", keywords[i].word);
            return quoted[i];
        }
    switch (id) {
    case TL_LEX_END: return "end of input";
    case TK_IDENT: return "a name";
    case TK_STRUCTNAME: return "a struct name";
    case TK_INT: return "an integer";
    case TK_FLOAT: return "a number";
    case TK_STRING: return "a string";
    case TK_LPAREN: return "'('";
    case TK_RPAREN: return "')'";
    case TK_LBRACE: return "'{'";
    case TK_RBRACE: return "'}'";
    case TK_LBRACKET: return "'['";
    case TK_RBRACKET: return "']'";
    case TK_COMMA: return "','";
    case TK_SEMI: return "';'";
    case TK_DOT: return "'.'";
    case TK_ELLIPSIS: return "'...'";
    case TK_DOTDOT: return "'..'";
    case TK_COLONCOLON: return "'::'";
    case TK_COLONEQ: return "':='";
    case TK_COLON: return "':'";
    case TK_EQEQ: return "'=='";
    case TK_FATARROW: return "'=>'";
    case TK_EQ: return "'='";
    case TK_NE: return "'!='";
    case TK_BANG: return "'!'";
    case TK_LE: return "'<='";
    case TK_LARROW: return "'<-'";
    case TK_LT: return "'<'";
    case TK_GE: return "'>='";
    case TK_GT: return "'>'";
    case TK_PLUS: return "'+'";
    case TK_ARROW: return "'->'";
    case TK_MINUS: return "'-'";
    case TK_POW: return "'**'";
    case TK_STAR: return "'*'";
    case TK_SLASH: return "'/'";
    case TK_PERCENT: return "'%'";
    case TK_AT: return "'@'";
    case TK_ANDAND: return "'&&'";
    case TK_OROR: return "'||'";
    case TK_PIPE: return "'|'";
    case TK_QUESTION: return "'?'";
    case TK_TILDE: return "'~'";
    case TK_PLUSEQ: return "'+='";
    case TK_MINUSEQ: return "'-='";
    case TK_STAREQ: return "'*='";
    case TK_SLASHEQ: return "'/='";
    case TK_MAXEQ: return "'max='";
    case TK_MINEQ: return "'min='";
    case TK_AVGEQ: return "'avg='";
    case TK_TEST: return "'test'";
    case TK_BENCH: return "'bench'";
    case TK_WITH: return "'with'";
    case TK_EXTERN: return "'extern'";
    case TK_EMBEDDING: return "'embedding'";
    case TK_RETURNVOID: return "'return'";
    default: return "a token";
    }
}
