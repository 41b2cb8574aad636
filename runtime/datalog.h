/* runtime/datalog.h -- Datalog over relations (runtime/relation.h): checks,
** stratification, semi-naive forward chaining, goal-directed (tabled) queries.
**
** A program is a set of predicates and rules over integer symbol ids.  Each
** predicate has a relation of asserted facts (`facts`, owned by the caller).
** A rule is   head(t..) <- lit, lit, ...   where a literal is a positive atom,
** a negated atom, or a comparison of two terms; a term is a variable number or
** a constant id.  The engine knows nothing of names or source positions: its
** errors carry the rule and literal numbers (tl_dl_error) so the caller can
** point at the source.
**
** Forward chaining (tl_dl_forward) computes the whole model stratum by
** stratum (strongly connected components of the dependency graph, negation
** only on lower strata); inside a stratum it is semi-naive: each round joins
** only the tuples the previous round derived (one variant of every rule per
** recursive body atom: that atom reads the delta, earlier ones the old
** tuples, later ones everything), and stops at a fixpoint or with an error at
** max_rounds.
**
** Queries (tl_dl_query) are answered top-down with tabling, done the Datalog
** way: the rules reachable from the goal are rewritten with "call" (magic)
** predicates per binding pattern -- the table of subgoals a tabled Prolog
** would create -- and "answer" predicates, and that program runs semi-naively.
** Left recursion terminates and answers are complete; only the subgoals the
** query reaches are computed.  Predicates used under negation are computed in
** full first. */
#ifndef TL_RUNTIME_DATALOG_H
#define TL_RUNTIME_DATALOG_H

#include "runtime/relation.h"

typedef struct tl_dl_term {
    int32_t var; /* >= 0: variable number in the rule; -1: constant */
    int32_t val; /* the constant's symbol id */
} tl_dl_term;

typedef enum tl_dl_lit_kind { TL_DL_POS = 0, TL_DL_NEG, TL_DL_CMP } tl_dl_lit_kind;
typedef enum tl_dl_cmp_op {
    TL_DL_EQ = 0,
    TL_DL_NE,
    TL_DL_LT,
    TL_DL_LE,
    TL_DL_GT,
    TL_DL_GE
} tl_dl_cmp_op;

typedef struct tl_dl_lit {
    tl_dl_lit_kind kind;
    int pred;         /* POS / NEG */
    tl_dl_term *args; /* POS / NEG: the predicate's arity terms */
    tl_dl_cmp_op op;  /* CMP */
    tl_dl_term l, r;  /* CMP */
} tl_dl_lit;

typedef struct tl_dl_rule {
    int head;
    tl_dl_term *head_args;
    tl_dl_lit *body;
    int n_body;
    int n_vars;
} tl_dl_rule;

typedef struct tl_dl_pred {
    const char *name; /* for error messages */
    int arity;
    tl_rel *facts; /* asserted facts (may be NULL: none) */
} tl_dl_pred;

/* Orders two symbols for <, <=, >, >= (ids are compared by == / != directly). */
typedef int (*tl_dl_compare_fn)(void *ctx, int32_t a, int32_t b);

typedef struct tl_dl_program {
    tl_dl_pred *preds;
    int n_preds;
    tl_dl_rule *rules;
    int n_rules;
    tl_dl_compare_fn compare;
    void *compare_ctx;
    int64_t side;       /* symbol-id bound: dense relations while side^arity is small */
    int64_t max_rounds; /* forward rounds per stratum before an error (0: 1,000,000) */
} tl_dl_program;

typedef struct tl_dl_error {
    int rule; /* -1: not about one rule */
    int lit;  /* -1: the head / not about one literal */
    int var;  /* -1 or the variable concerned */
    char msg[512];
} tl_dl_error;

typedef struct tl_dl_stats {
    int64_t rounds;  /* semi-naive rounds, summed over strata */
    int64_t derived; /* new tuples */
} tl_dl_stats;

/* Range restriction (every head / negated / compared variable is bound by a
** positive atom), arity, and stratification.  TL_ERR_ARG with err filled. */
tl_status tl_dl_check(const tl_dl_program *p, tl_dl_error *err);

/* The full model: out[i] (initialised here, n_preds of them) = facts + derived. */
tl_status tl_dl_forward(const tl_dl_program *p, tl_rel *out, tl_dl_stats *stats, tl_dl_error *err);

/* Answers to pred(pattern): pattern[i] >= 0 is a constant, < 0 a free argument.
** *answers (initialised here) receives the matching tuples of pred (full arity). */
tl_status tl_dl_query(const tl_dl_program *p, int pred, const int32_t *pattern, tl_rel *answers,
                      tl_dl_stats *stats, tl_dl_error *err);

#endif
