/* lang/grammar.y -- the Lemon grammar of TensorLogic (TENSORLOGIC.md section 1, with
** our fixes: full expressions in indices, else-if, real number lexing).
** Actions build AST nodes (lang/ast.h) through the helpers in parse_internal.h.
**
** Newlines carry no meaning.  A statement that is an expression followed by a
** token that can continue it -- '(' '[' '-' -- continues it (as in the original):
** the [LOWEST] rules below make "shift" win those conflicts. */

%include {
#include "lang/parse_internal.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#define YYNOERRORRECOVERY 1
}

%name tl_parser
%token_prefix TK_
%token_type {tl_token}
%extra_context {tl_parse_state *ps}
%default_type {tl_node *}
%stack_size 10000

%syntax_error {
    /* the terminals this state accepts, for an "expected ..." hint */
    int expected[YYNTOKEN];
    int n_expected = 0;
    for (int t = 1; t < YYNTOKEN; t++)
        if (yy_find_shift_action((YYCODETYPE)t, yypParser->yytos->stateno) != YY_ERROR_ACTION)
            expected[n_expected++] = t;
    tl_psyntax_error(ps, yymajor, &yyminor, expected, n_expected);
}
%stack_overflow { tl_perror(ps, ps->line, ps->col, "program is nested too deeply"); }

/* Tokens produced only by the lexer's context checks, declared for grammar.h. */
%token TEST BENCH WITH EMBEDDING STRUCTNAME RETURNVOID EXTERN.
/* `max=` `min=` `avg=` right after `]`: tensor equation projections (lang/equation.h) */
%token MAXEQ MINEQ AVGEQ.

%nonassoc LOWEST.
%left OROR OR.
%left ANDAND AND.
%right NOT.
%left EQEQ NE.
%left LT GT LE GE APPROX.
%left AS.
%left PLUS MINUS.
%left STAR SLASH PERCENT AT ODOT.
%left POW OTIMES.
%right UMINUS.
%left DOT.
%left LPAREN LBRACKET.

%type items {tl_list}
%type stmts {tl_list}
%type params {tl_list}
%type paramlist {tl_list}
%type fields {tl_list}
%type methods {tl_list}
%type args {tl_list}
%type arglist {tl_list}
%type elems {tl_list}
%type indices {tl_list}
%type arms {tl_list}
%type finits {tl_list}
%type finitlist {tl_list}
%type fpats {tl_list}
%type fpatlist {tl_list}
%type patlist {tl_list}
%type alts {tl_list}
%type dims {tl_list}
%type exprlist {tl_list}

program ::= items(A). { ps->root = A.head; }

items(A) ::= . { A.head = A.tail = NULL; }
items(A) ::= items(B) item(C). { A = tl_plist_append(B, C); }

/* ---------------------------------------------------------------- declarations */
item(A) ::= IMPORT(T) STRING(S). {
    A = tl_pnode(ps, TL_D_IMPORT, &T);
    tl_node *s = tl_pstring(ps, &S);
    if (A && s) A->name = s->name;
    if (s && memchr(s->name, '\0', (size_t)s->v.len))
        tl_perror(ps, S.line, S.col, "an import path cannot contain a NUL byte");
}
item(A) ::= fndecl(F). { A = F; }
item(A) ::= STRUCT IDENT(N) generics LBRACE fields(F) RBRACE. {
    A = tl_pnode(ps, TL_D_STRUCT, &N);
    if (A) { A->name = tl_pname(ps, &N); A->a = F.head; }
}
item(A) ::= IMPL(T) generics impltarget(N) LBRACE methods(M) RBRACE. {
    A = tl_pnode(ps, TL_D_IMPL, &T);
    if (A) { A->name = N ? N->name : NULL; A->a = M.head; }
}
item(A) ::= MAIN(T) block(B). { A = tl_pnode(ps, TL_D_MAIN, &T); if (A) A->b = B; }
item(A) ::= TEST(T) IDENT(N) block(B). {
    A = tl_pnode(ps, TL_D_TEST, &T); if (A) { A->name = tl_pname(ps, &N); A->b = B; }
}
item(A) ::= BENCH(T) IDENT(N) block(B). {
    A = tl_pnode(ps, TL_D_BENCH, &T); if (A) { A->name = tl_pname(ps, &N); A->b = B; }
}
item(A) ::= tensordecl(D). { A = D; }
item(A) ::= RELATION(T) IDENT(N) LPAREN params(P) RPAREN relembed. {
    A = tl_pnode(ps, TL_D_RELATION, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = P.head; }
}
item(A) ::= ENTITY(T) IDENT(N). { A = tl_pnode(ps, TL_D_ENTITY, &T); if (A) A->name = tl_pname(ps, &N); }
item(A) ::= ENTITY(T) IDENT(N) EQ LBRACE entnames(E) RBRACE. {
    A = tl_pnode(ps, TL_D_ENTITY, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = E.head; A->op = 1; }
}
item(A) ::= EMBEDDING(T) embname(N) LBRACE embitems(E) RBRACE. {
    A = tl_pnode(ps, TL_D_EMBEDDING, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = E.head; }
}
/* `Name {` lexes as a struct name */
%type embname {tl_token}
embname(A) ::= IDENT(T). { A = T; }
embname(A) ::= STRUCTNAME(T). { A = T; }
item(A) ::= expr(H) LARROW exprlist(B). [LOWEST] {
    A = tl_pnode_at(ps, TL_D_RULE, H);
    if (A) { A->a = H; A->b = B.head; }
}

/* extern "libm.so.6" { fn cos(x: f64) -> f64  fn printf(fmt: string, ...) -> i32 }:
** C functions called through libffi (lang/ffi.c). */
item(A) ::= EXTERN(T) STRING(S) LBRACE externfns(F) RBRACE. {
    A = tl_pnode(ps, TL_D_EXTERN, &T);
    tl_node *s = tl_pstring(ps, &S);
    if (A && s) { A->name = s->name; A->a = F.head; }
}
%type externfns {tl_list}
externfns(A) ::= . { A.head = A.tail = NULL; }
externfns(A) ::= externfns(B) externfn(F). { A = tl_plist_append(B, F); }
externfns(A) ::= externfns(B) SEMI. { A = B; }
externfn(A) ::= FN(T) IDENT(N) LPAREN params(P) RPAREN ret(R). {
    A = tl_pnode(ps, TL_D_FN, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = P.head; A->c = R; }
}
externfn(A) ::= FN(T) IDENT(N) LPAREN paramlist(P) COMMA ELLIPSIS RPAREN ret(R). {
    A = tl_pnode(ps, TL_D_FN, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = P.head; A->c = R; A->op = 1; }
}

generics ::= .
generics ::= LT identlist GT.
identlist ::= IDENT.
identlist ::= identlist COMMA IDENT.

impltarget(A) ::= type(T). { A = T; }
impltarget(A) ::= IDENT FOR type(T). { A = T; }

relembed ::= .
relembed ::= EMBED type.

%type embitems {tl_list}
embitems(A) ::= . { A.head = A.tail = NULL; }
embitems(A) ::= embitems(B) IDENT(N) COLON embval(V). {
    tl_node *f = tl_pnode(ps, TL_N_FIELDINIT, &N);
    if (f) { f->name = tl_pname(ps, &N); f->a = V; }
    A = tl_plist_append(B, f);
}
embitems(A) ::= embitems(B) COMMA. { A = B; }
embval(A) ::= LBRACE(T) entnames(E) RBRACE. { A = tl_pnode(ps, TL_N_ARRAY, &T); if (A) A->a = E.head; }
embval(A) ::= AUTO(T). { A = tl_pnode(ps, TL_N_IDENT, &T); if (A) A->name = "auto"; }
embval(A) ::= IDENT(T). { A = tl_pnode(ps, TL_N_IDENT, &T); if (A) A->name = tl_pname(ps, &T); }
embval(A) ::= INT(T). { A = tl_pint(ps, &T, false); }

fndecl(A) ::= FN(T) IDENT(N) LPAREN params(P) RPAREN ret(R) block(B). {
    A = tl_pnode(ps, TL_D_FN, &T);
    if (A) { A->name = tl_pname(ps, &N); A->a = P.head; A->c = R; A->b = B; }
}
ret(A) ::= . { A = NULL; }
ret(A) ::= ARROW type(T). { A = T; }

params(A) ::= . { A.head = A.tail = NULL; }
params(A) ::= paramlist(B). { A = B; }
params(A) ::= paramlist(B) COMMA. { A = B; }
paramlist(A) ::= param(P). { A = tl_plist_one(P); }
paramlist(A) ::= paramlist(B) COMMA param(P). { A = tl_plist_append(B, P); }
param(A) ::= IDENT(N). { A = tl_pnode(ps, TL_D_PARAM, &N); if (A) A->name = tl_pname(ps, &N); }
param(A) ::= IDENT(N) COLON type(T). {
    A = tl_pnode(ps, TL_D_PARAM, &N); if (A) { A->name = tl_pname(ps, &N); A->c = T; }
}

fields(A) ::= . { A.head = A.tail = NULL; }
fields(A) ::= fields(B) param(P). { A = tl_plist_append(B, P); }
fields(A) ::= fields(B) param(P) COMMA. { A = tl_plist_append(B, P); }

methods(A) ::= . { A.head = A.tail = NULL; }
methods(A) ::= methods(B) fndecl(F). { A = tl_plist_append(B, F); }

tensordecl(A) ::= TENSOR(T) IDENT(N) COLON type(Y). {
    A = tl_pnode(ps, TL_S_TENSOR, &T); if (A) { A->name = tl_pname(ps, &N); A->c = Y; }
}
tensordecl(A) ::= TENSOR(T) IDENT(N) COLON type(Y) EQ expr(E). [LOWEST] {
    A = tl_pnode(ps, TL_S_TENSOR, &T); if (A) { A->name = tl_pname(ps, &N); A->c = Y; A->a = E; }
}

/* ---------------------------------------------------------------- types */
type(A) ::= IDENT(N). { A = tl_pnode(ps, TL_T_NAMED, &N); if (A) A->name = tl_pname(ps, &N); }
type(A) ::= IDENT(N) LT typelist GT. { A = tl_pnode(ps, TL_T_NAMED, &N); if (A) A->name = tl_pname(ps, &N); }
type(A) ::= VOID(N). { A = tl_pnode(ps, TL_T_NAMED, &N); if (A) A->name = "void"; }
type(A) ::= ENTITY(N). { A = tl_pnode(ps, TL_T_NAMED, &N); if (A) A->name = "entity"; }
type(A) ::= CONCEPT(N). { A = tl_pnode(ps, TL_T_NAMED, &N); if (A) A->name = "concept"; }
type(A) ::= basetype(B). [LOWEST] { A = tl_pnode(ps, TL_T_NAMED, &B); if (A) A->name = tl_pname(ps, &B); }
type(A) ::= basetype(B) LBRACKET dims(D) RBRACKET tmod(M). {
    A = tl_pnode(ps, TL_T_TENSOR, &B); if (A) { A->name = tl_pname(ps, &B); A->a = D.head; A->op = (uint16_t)M; }
}
basetype(A) ::= FLOAT32(T). { A = T; }
basetype(A) ::= FLOAT16(T). { A = T; }
basetype(A) ::= INT16(T). { A = T; }
basetype(A) ::= INT32(T). { A = T; }
basetype(A) ::= INT64(T). { A = T; }
basetype(A) ::= BOOL(T). { A = T; }
basetype(A) ::= COMPLEX16(T). { A = T; }
%type basetype {tl_token}
%type tmod {int}
tmod(A) ::= . { A = 0; }
tmod(A) ::= LEARNABLE. { A = 1; }
tmod(A) ::= FROZEN. { A = 2; }
typelist ::= type.
typelist ::= typelist COMMA type.
dims(A) ::= dim(D). { A = tl_plist_one(D); }
dims(A) ::= dims(B) COMMA dim(D). { A = tl_plist_append(B, D); }
dim(A) ::= INT(T). { A = tl_pint(ps, &T, false); if (A) A->kind = TL_T_DIM; }
dim(A) ::= IDENT(T). { A = tl_pnode(ps, TL_T_DIM, &T); if (A) A->v.i = -1; }
dim(A) ::= QUESTION(T). { A = tl_pnode(ps, TL_T_DIM, &T); if (A) A->v.i = -1; }

/* ---------------------------------------------------------------- statements */
block(A) ::= LBRACE(T) stmts(S) RBRACE. {
    A = tl_pnode(ps, TL_S_BLOCK, &T); if (A) A->a = S.head;
    tl_pmark_equations(S.head);
}

stmts(A) ::= . { A.head = A.tail = NULL; }
stmts(A) ::= stmts(B) stmt(S). { A = S ? tl_plist_append(B, S) : B; }

stmt(A) ::= LET(T) IDENT(N) EQ expr(E). [LOWEST] {
    A = tl_pnode(ps, TL_S_LET, &T); if (A) { A->name = tl_pname(ps, &N); A->a = E; }
}
stmt(A) ::= LET(T) IDENT(N) COLONEQ expr(E). [LOWEST] {
    A = tl_pnode(ps, TL_S_LET, &T); if (A) { A->name = tl_pname(ps, &N); A->a = E; }
}
stmt(A) ::= LET(T) IDENT(N) COLON type(Y) EQ expr(E). [LOWEST] {
    A = tl_pnode(ps, TL_S_LET, &T); if (A) { A->name = tl_pname(ps, &N); A->a = E; A->c = Y; }
}
stmt(A) ::= expr(L) EQ expr(R). [LOWEST] { A = tl_passign(ps, L, R); }
stmt(A) ::= expr(L) COLONEQ expr(R). [LOWEST] { A = tl_passign(ps, L, R); }
/* compound assignment (an extension): x op= e is x = x op e, x evaluated twice */
stmt(A) ::= expr(L) PLUSEQ expr(R). [LOWEST] { A = tl_passign(ps, L, tl_pbinary(ps, TL_OP_ADD, L, R)); }
stmt(A) ::= expr(L) MINUSEQ expr(R). [LOWEST] { A = tl_passign(ps, L, tl_pbinary(ps, TL_OP_SUB, L, R)); }
stmt(A) ::= expr(L) STAREQ expr(R). [LOWEST] { A = tl_passign(ps, L, tl_pbinary(ps, TL_OP_MUL, L, R)); }
stmt(A) ::= expr(L) SLASHEQ expr(R). [LOWEST] { A = tl_passign(ps, L, tl_pbinary(ps, TL_OP_DIV, L, R)); }
/* tensor equations with another projection: Y[i] max= X[i, j] (lang/equation.h) */
stmt(A) ::= expr(L) MAXEQ expr(R). [LOWEST] { A = tl_passign(ps, L, R); if (A) A->op = 1; }
stmt(A) ::= expr(L) MINEQ expr(R). [LOWEST] { A = tl_passign(ps, L, R); if (A) A->op = 2; }
stmt(A) ::= expr(L) AVGEQ expr(R). [LOWEST] { A = tl_passign(ps, L, R); if (A) A->op = 3; }
stmt(A) ::= ifstmt(I). { A = I; }
stmt(A) ::= WHILE(T) expr(C) block(B). { A = tl_pnode(ps, TL_S_WHILE, &T); if (A) { A->a = C; A->b = B; } }
stmt(A) ::= FOR(T) IDENT(N) IN expr(E) block(B). {
    A = tl_pnode(ps, TL_S_FOR, &T); if (A) { A->name = tl_pname(ps, &N); A->a = E; A->b = B; }
}
/* for i in a..b (the original's docs): range(a, b) */
stmt(A) ::= FOR(T) IDENT(N) IN expr(E) DOTDOT(D) expr(F) block(B). {
    tl_node *f = tl_pnode(ps, TL_N_IDENT, &D), *r = tl_pnode(ps, TL_N_CALL, &D);
    if (f) f->name = "range";
    if (r && E) { r->a = f; r->b = E; E->next = F; }
    A = tl_pnode(ps, TL_S_FOR, &T); if (A) { A->name = tl_pname(ps, &N); A->a = r; A->b = B; }
}
/* for x in {alice, bob}: an entity set iterates its names as strings */
stmt(A) ::= FOR(T) IDENT(N) IN LBRACE(L) entnames(E) RBRACE block(B). {
    tl_node *set = tl_pnode(ps, TL_N_ARRAY, &L);
    if (set) set->a = E.head;
    A = tl_pnode(ps, TL_S_FOR, &T); if (A) { A->name = tl_pname(ps, &N); A->a = set; A->b = B; }
}
%type entnames {tl_list}
entnames(A) ::= . { A.head = A.tail = NULL; }
entnames(A) ::= entnamelist(B). { A = B; }
entnames(A) ::= entnamelist(B) COMMA. { A = B; }
%type entnamelist {tl_list}
entnamelist(A) ::= entname(E). { A = tl_plist_one(E); }
entnamelist(A) ::= entnamelist(B) COMMA entname(E). { A = tl_plist_append(B, E); }
entname(A) ::= IDENT(T). {
    A = tl_pnode(ps, TL_N_STRING, &T);
    if (A) { A->name = tl_pname(ps, &T); A->v.len = A->name ? strlen(A->name) : 0; }
}
entname(A) ::= STRING(S). { A = tl_pstring(ps, &S); }
stmt(A) ::= LOOP(T) block(B). { A = tl_pnode(ps, TL_S_LOOP, &T); if (A) A->b = B; }
stmt(A) ::= BREAK(T). { A = tl_pnode(ps, TL_S_BREAK, &T); }
stmt(A) ::= CONTINUE(T). { A = tl_pnode(ps, TL_S_CONTINUE, &T); }
stmt(A) ::= RETURNVOID(T). { A = tl_pnode(ps, TL_S_RETURN, &T); }
stmt(A) ::= RETURN(T) expr(E). [LOWEST] { A = tl_pnode(ps, TL_S_RETURN, &T); if (A) A->a = E; }
stmt(A) ::= block(B). { A = B; }
stmt(A) ::= expr(E). [LOWEST] { A = tl_pnode_at(ps, TL_S_EXPR, E); if (A) A->a = E; }
stmt(A) ::= SEMI. { A = NULL; }
stmt(A) ::= tensordecl(D). { A = D; }
stmt(A) ::= expr(L) TILDE expr(R). [LOWEST] {
    A = tl_pnode_at(ps, TL_S_EQUATION, L); if (A) { A->a = L; A->b = R; }
}
stmt(A) ::= expr(Q) QUESTION. { A = tl_pnode_at(ps, TL_S_QUERY, Q); if (A) A->a = Q; }
stmt(A) ::= expr(Q) QUESTION WHERE exprlist(W). [LOWEST] {
    A = tl_pnode_at(ps, TL_S_QUERY, Q); if (A) { A->a = Q; A->b = W.head; }
}
stmt(A) ::= LEARN(T) LBRACE stmts(S) OBJECTIVE COLON expr(E) learnopts(O) RBRACE. {
    A = tl_pnode(ps, TL_S_LEARN, &T); if (A) { A->a = S.head; A->b = E; A->c = O.head; }
}
stmt(A) ::= NOGRAD(T) block(B). { A = tl_pnode(ps, TL_S_NOGRAD, &T); if (A) A->b = B; }
stmt(A) ::= WITH NOGRAD(T) block(B). { A = tl_pnode(ps, TL_S_NOGRAD, &T); if (A) A->b = B; }
stmt(A) ::= INFER(T) IDENT(M) expr(Q) QUESTION. {
    A = tl_pnode(ps, TL_S_INFER, &T); if (A) { A->name = tl_pname(ps, &M); A->a = Q; }
}
stmt(A) ::= INFER(T) LBRACE inferitems(L) RBRACE. { A = tl_pnode(ps, TL_S_BLOCK, &T); if (A) A->a = L.head; }
stmt(A) ::= PYTHON(T) IMPORT dotted pyas. { A = tl_punsupported(ps, TL_S_UNSUPPORTED, "python import", &T); }
stmt(A) ::= WITH(T) embname(N) block(B). {
    A = tl_pnode(ps, TL_S_WITH, &T); if (A) { A->name = tl_pname(ps, &N); A->b = B; }
}

/* learn { ... objective: e, optimizer: adam(lr: 0.01), epochs: 100, scheduler: step(...),
** batches: 4, clip: 1.0 }: options in any order after the objective */
%type learnopts {tl_list}
learnopts(A) ::= . { A.head = A.tail = NULL; }
learnopts(A) ::= learnopts(B) COMMA learnopt(O). { A = O ? tl_plist_append(B, O) : B; }
learnopts(A) ::= learnopts(B) COMMA. { A = B; }
learnopt(A) ::= OPTIMIZER(K) COLON IDENT(N) LPAREN oparams(P) RPAREN. {
    A = tl_pnode(ps, TL_N_FIELDINIT, &K);
    tl_node *f = tl_pnode(ps, TL_N_STRUCTLIT, &N);
    if (f) { f->name = tl_pname(ps, &N); f->a = P.head; }
    if (A) { A->name = "optimizer"; A->a = f; }
}
learnopt(A) ::= IDENT(K) COLON IDENT(N) LPAREN oparams(P) RPAREN. {
    A = tl_pnode(ps, TL_N_FIELDINIT, &K);
    tl_node *f = tl_pnode(ps, TL_N_STRUCTLIT, &N);
    if (f) { f->name = tl_pname(ps, &N); f->a = P.head; }
    if (A) { A->name = tl_pname(ps, &K); A->a = f; }
}
learnopt(A) ::= EPOCHS(K) COLON lval(V). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &K); if (A) { A->name = "epochs"; A->a = V; }
}
learnopt(A) ::= IDENT(K) COLON lval(V). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &K); if (A) { A->name = tl_pname(ps, &K); A->a = V; }
}
/* an option's value: a number or a variable */
lval(A) ::= INT(T). { A = tl_pint(ps, &T, false); }
lval(A) ::= FLOAT(T). { A = tl_pfloat(ps, &T, false); }
lval(A) ::= MINUS INT(T). { A = tl_pint(ps, &T, true); }
lval(A) ::= MINUS FLOAT(T). { A = tl_pfloat(ps, &T, true); }
lval(A) ::= IDENT(N). { A = tl_pnode(ps, TL_N_IDENT, &N); if (A) A->name = tl_pname(ps, &N); }
%type oparams {tl_list}
%type oparamlist {tl_list}
oparams(A) ::= . { A.head = A.tail = NULL; }
oparams(A) ::= oparamlist(B). { A = B; }
oparamlist(A) ::= oparam(O). { A = tl_plist_one(O); }
oparamlist(A) ::= oparamlist(B) COMMA oparam(O). { A = tl_plist_append(B, O); }
oparam(A) ::= IDENT(N) EQ expr(V). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &N); if (A) { A->name = tl_pname(ps, &N); A->a = V; }
}
oparam(A) ::= IDENT(N) COLON expr(V). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &N); if (A) { A->name = tl_pname(ps, &N); A->a = V; }
}
%type inferitems {tl_list}
inferitems(A) ::= . { A.head = A.tail = NULL; }
inferitems(A) ::= inferitems(B) IDENT(M) expr(Q) QUESTION. {
    tl_node *n = tl_pnode(ps, TL_S_INFER, &M);
    if (n) { n->name = tl_pname(ps, &M); n->a = Q; }
    A = tl_plist_append(B, n);
}
dotted ::= IDENT.
dotted ::= dotted DOT IDENT.
pyas ::= .
pyas ::= AS IDENT.

ifstmt(A) ::= IF(T) expr(C) block(B). { A = tl_pnode(ps, TL_S_IF, &T); if (A) { A->a = C; A->b = B; } }
ifstmt(A) ::= IF(T) expr(C) block(B) ELSE block(E). {
    A = tl_pnode(ps, TL_S_IF, &T); if (A) { A->a = C; A->b = B; A->c = E; }
}
ifstmt(A) ::= IF(T) expr(C) block(B) ELSE ifstmt(E). {
    A = tl_pnode(ps, TL_S_IF, &T); if (A) { A->a = C; A->b = B; A->c = E; }
}

exprlist(A) ::= expr(E). [LOWEST] { A = tl_plist_one(E); }
exprlist(A) ::= exprlist(B) COMMA expr(E). [LOWEST] { A = tl_plist_append(B, E); }

/* ---------------------------------------------------------------- expressions */
expr(A) ::= expr(L) OROR expr(R). { A = tl_pbinary(ps, TL_OP_OR, L, R); }
expr(A) ::= expr(L) OR expr(R). { A = tl_pbinary(ps, TL_OP_OR, L, R); }
expr(A) ::= expr(L) ANDAND expr(R). { A = tl_pbinary(ps, TL_OP_AND, L, R); }
expr(A) ::= expr(L) AND expr(R). { A = tl_pbinary(ps, TL_OP_AND, L, R); }
expr(A) ::= expr(L) EQEQ expr(R). { A = tl_pbinary(ps, TL_OP_EQ, L, R); }
expr(A) ::= expr(L) NE expr(R). { A = tl_pbinary(ps, TL_OP_NE, L, R); }
expr(A) ::= expr(L) LT expr(R). { A = tl_pbinary(ps, TL_OP_LT, L, R); }
expr(A) ::= expr(L) LE expr(R). { A = tl_pbinary(ps, TL_OP_LE, L, R); }
expr(A) ::= expr(L) GT expr(R). { A = tl_pbinary(ps, TL_OP_GT, L, R); }
expr(A) ::= expr(L) GE expr(R). { A = tl_pbinary(ps, TL_OP_GE, L, R); }
expr(A) ::= expr(L) APPROX expr(R). { A = tl_pbinary(ps, TL_OP_APPROX, L, R); }
expr(A) ::= expr(L) PLUS expr(R). { A = tl_pbinary(ps, TL_OP_ADD, L, R); }
expr(A) ::= expr(L) MINUS expr(R). { A = tl_pbinary(ps, TL_OP_SUB, L, R); }
expr(A) ::= expr(L) STAR expr(R). { A = tl_pbinary(ps, TL_OP_MUL, L, R); }
expr(A) ::= expr(L) SLASH expr(R). { A = tl_pbinary(ps, TL_OP_DIV, L, R); }
expr(A) ::= expr(L) PERCENT expr(R). { A = tl_pbinary(ps, TL_OP_REM, L, R); }
expr(A) ::= expr(L) AT expr(R). { A = tl_pbinary(ps, TL_OP_MATMUL, L, R); }
expr(A) ::= expr(L) ODOT expr(R). { A = tl_pbinary(ps, TL_OP_HADAMARD, L, R); }
expr(A) ::= expr(L) POW expr(R). { A = tl_pbinary(ps, TL_OP_POW, L, R); }
expr(A) ::= expr(L) OTIMES expr(R). { A = tl_pbinary(ps, TL_OP_TENSORPROD, L, R); }
expr(A) ::= MINUS(T) expr(E). [UMINUS] { A = tl_punary(ps, TL_OP_NEG, E, &T); }
expr(A) ::= BANG(T) expr(E). [UMINUS] { A = tl_punary(ps, TL_OP_NOT, E, &T); }
expr(A) ::= NOT(T) expr(E). { A = tl_punary(ps, TL_OP_NOT, E, &T); }
expr(A) ::= expr(E) AS casttype(C). {
    A = tl_pnode_at(ps, TL_N_CAST, E); if (A) { A->a = E; A->name = tl_pname(ps, &C); }
}
%type casttype {tl_token}
casttype(A) ::= IDENT(T). { A = T; }
casttype(A) ::= BOOL(T). { A = T; }
casttype(A) ::= FLOAT32(T). { A = T; }
casttype(A) ::= FLOAT16(T). { A = T; }
casttype(A) ::= INT32(T). { A = T; }
casttype(A) ::= INT64(T). { A = T; }

expr(A) ::= expr(O) DOT IDENT(N). {
    A = tl_pnode(ps, TL_N_FIELD, &N); if (A) { A->a = O; A->name = tl_pname(ps, &N); }
}
/* model.blk.0.attn_q: a number after a dot indexes (the original's weight paths) */
expr(A) ::= expr(O) DOT INT(I). {
    A = tl_pnode(ps, TL_N_INDEX, &I); if (A) { A->a = O; A->b = tl_pint(ps, &I, false); }
}
expr(A) ::= expr(O) DOT IDENT(N) LPAREN args(G) RPAREN. {
    A = tl_pnode(ps, TL_N_METHOD, &N); if (A) { A->a = O; A->name = tl_pname(ps, &N); A->b = G.head; }
}
expr(A) ::= expr(F) LPAREN args(G) RPAREN. {
    A = tl_pnode_at(ps, TL_N_CALL, F); if (A) { A->a = F; A->b = G.head; }
}
expr(A) ::= expr(O) LBRACKET(T) indices(I) RBRACKET. {
    A = tl_pnode(ps, TL_N_INDEX, &T); if (A) { A->a = O; A->b = I.head; }
}
expr(A) ::= IDENT(T) COLONCOLON IDENT(F) LPAREN args(G) RPAREN. {
    A = tl_pnode(ps, TL_N_ASSOC, &T);
    if (A) { A->name = tl_pname(ps, &T); A->name2 = tl_pname(ps, &F); A->b = G.head; }
}
expr(A) ::= LPAREN expr(E) RPAREN. { A = E; }
expr(A) ::= LBRACKET(T) elems(L) RBRACKET. { A = tl_pnode(ps, TL_N_ARRAY, &T); if (A) A->a = L.head; }
expr(A) ::= MATCH(T) expr(E) LBRACE arms(R) RBRACE. {
    A = tl_pnode(ps, TL_N_MATCH, &T); if (A) { A->a = E; A->b = R.head; }
}
expr(A) ::= STRUCTNAME(T) LBRACE finits(F) RBRACE. {
    A = tl_pnode(ps, TL_N_STRUCTLIT, &T); if (A) { A->name = tl_pname(ps, &T); A->a = F.head; }
}
expr(A) ::= INT(T). { A = tl_pint(ps, &T, false); }
expr(A) ::= FLOAT(T). { A = tl_pfloat(ps, &T, false); }
expr(A) ::= STRING(T). { A = tl_pstring(ps, &T); }
expr(A) ::= TRUE(T). { A = tl_pnode(ps, TL_N_BOOL, &T); if (A) A->v.b = true; }
expr(A) ::= FALSE(T). { A = tl_pnode(ps, TL_N_BOOL, &T); if (A) A->v.b = false; }
expr(A) ::= IDENT(T). { A = tl_pnode(ps, TL_N_IDENT, &T); if (A) A->name = tl_pname(ps, &T); }
expr(A) ::= EINSUM(T) LPAREN args(G) RPAREN. {
    tl_node *f = tl_pnode(ps, TL_N_IDENT, &T);
    if (f) f->name = "einsum";
    A = tl_pnode(ps, TL_N_CALL, &T); if (A) { A->a = f; A->b = G.head; }
}
expr(A) ::= PYTHON(T) DOT IDENT LPAREN args RPAREN. {
    A = tl_punsupported(ps, TL_N_UNSUPPORTED_EXPR, "python.call", &T);
}

args(A) ::= . { A.head = A.tail = NULL; }
args(A) ::= arglist(B). { A = B; }
args(A) ::= arglist(B) COMMA. { A = B; }
arglist(A) ::= expr(E). { A = tl_plist_one(E); }
arglist(A) ::= arglist(B) COMMA expr(E). { A = tl_plist_append(B, E); }

/* array elements may be `?`: a wildcard for shape(e) == [?, 64] conditions */
elems(A) ::= . { A.head = A.tail = NULL; }
elems(A) ::= elemlist(B). { A = B; }
elems(A) ::= elemlist(B) COMMA. { A = B; }
%type elemlist {tl_list}
elemlist(A) ::= elem(E). { A = tl_plist_one(E); }
elemlist(A) ::= elemlist(B) COMMA elem(E). { A = tl_plist_append(B, E); }
elem(A) ::= expr(E). { A = E; }
elem(A) ::= QUESTION(T). { A = tl_pnode(ps, TL_N_WILDCARD, &T); }

indices(A) ::= index(I). { A = tl_plist_one(I); }
indices(A) ::= indices(B) COMMA index(I). { A = tl_plist_append(B, I); }
index(A) ::= expr(E). { A = E; }
/* q. : the normalised index of an equation's left side (Y[p, q.] = softmax(...)) */
index(A) ::= expr(E) DOT. { A = tl_pnode_at(ps, TL_N_EQMARK, E); if (A) A->a = E; }
index(A) ::= COLON(T). { A = tl_pnode(ps, TL_N_SLICE, &T); }
index(A) ::= expr(E) COLON. { A = tl_pnode_at(ps, TL_N_SLICE, E); if (A) A->a = E; }
index(A) ::= COLON(T) expr(E). { A = tl_pnode(ps, TL_N_SLICE, &T); if (A) A->b = E; }
index(A) ::= expr(E) COLON expr(F). { A = tl_pnode_at(ps, TL_N_SLICE, E); if (A) { A->a = E; A->b = F; } }

finits(A) ::= . { A.head = A.tail = NULL; }
finits(A) ::= finitlist(B). { A = B; }
finits(A) ::= finitlist(B) COMMA. { A = B; }
finitlist(A) ::= finit(F). { A = tl_plist_one(F); }
finitlist(A) ::= finitlist(B) COMMA finit(F). { A = tl_plist_append(B, F); }
finit(A) ::= IDENT(N) COLON expr(E). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &N); if (A) { A->name = tl_pname(ps, &N); A->a = E; }
}

/* match arms: commas between arms are optional */
arms(A) ::= . { A.head = A.tail = NULL; }
arms(A) ::= arms(B) arm(R). { A = tl_plist_append(B, R); }
arms(A) ::= arms(B) arm(R) COMMA. { A = tl_plist_append(B, R); }
arm(A) ::= pattern(P) FATARROW expr(E). [LOWEST] { A = tl_pnode_at(ps, TL_N_ARM, P); if (A) { A->a = P; A->c = E; } }
arm(A) ::= pattern(P) IF expr(G) FATARROW expr(E). [LOWEST] {
    A = tl_pnode_at(ps, TL_N_ARM, P); if (A) { A->a = P; A->b = G; A->c = E; }
}
arm(A) ::= pattern(P) FATARROW block(E). { A = tl_pnode_at(ps, TL_N_ARM, P); if (A) { A->a = P; A->c = E; } }
arm(A) ::= pattern(P) IF expr(G) FATARROW block(E). {
    A = tl_pnode_at(ps, TL_N_ARM, P); if (A) { A->a = P; A->b = G; A->c = E; }
}

pattern(A) ::= alts(L). {
    if (L.head == L.tail) A = L.head;
    else { A = tl_pnode_at(ps, TL_P_OR, L.head); if (A) A->a = L.head; }
}
alts(A) ::= pterm(P). { A = tl_plist_one(P); }
alts(A) ::= alts(B) PIPE pterm(P). { A = tl_plist_append(B, P); }
pterm(A) ::= IDENT(T). {
    A = tl_pnode(ps, TL_P_BIND, &T);
    if (A) { A->name = tl_pname(ps, &T); if (T.n == 1 && T.z[0] == '_') A->kind = TL_P_WILD; }
}
pterm(A) ::= plit(L). { A = tl_pnode_at(ps, TL_P_LIT, L); if (A) A->a = L; }
pterm(A) ::= LPAREN(T) patlist(L) RPAREN. { A = tl_pnode(ps, TL_P_TUPLE, &T); if (A) A->a = L.head; }
pterm(A) ::= STRUCTNAME(T) LBRACE fpats(F) RBRACE. {
    A = tl_pnode(ps, TL_P_STRUCT, &T); if (A) { A->name = tl_pname(ps, &T); A->a = F.head; }
}
plit(A) ::= INT(T). { A = tl_pint(ps, &T, false); }
plit(A) ::= MINUS INT(T). { A = tl_pint(ps, &T, true); }
plit(A) ::= FLOAT(T). { A = tl_pfloat(ps, &T, false); }
plit(A) ::= MINUS FLOAT(T). { A = tl_pfloat(ps, &T, true); }
plit(A) ::= STRING(T). { A = tl_pstring(ps, &T); }
plit(A) ::= TRUE(T). { A = tl_pnode(ps, TL_N_BOOL, &T); if (A) A->v.b = true; }
plit(A) ::= FALSE(T). { A = tl_pnode(ps, TL_N_BOOL, &T); if (A) A->v.b = false; }
patlist(A) ::= pattern(P). { A = tl_plist_one(P); }
patlist(A) ::= patlist(B) COMMA pattern(P). { A = tl_plist_append(B, P); }
fpats(A) ::= . { A.head = A.tail = NULL; }
fpats(A) ::= fpatlist(B). { A = B; }
fpats(A) ::= fpatlist(B) COMMA. { A = B; }
fpatlist(A) ::= fpat(F). { A = tl_plist_one(F); }
fpatlist(A) ::= fpatlist(B) COMMA fpat(F). { A = tl_plist_append(B, F); }
fpat(A) ::= IDENT(N) COLON pattern(P). {
    A = tl_pnode(ps, TL_N_FIELDINIT, &N); if (A) { A->name = tl_pname(ps, &N); A->a = P; }
}
