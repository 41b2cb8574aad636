/* lang/eval_logic.h -- the evaluator's entry points for logic programming
** (lang/eval_logic.c, lang/eval_logic_query.c): entity / relation / rule /
** embedding declarations, facts, queries, `infer`, `with` blocks. */
#ifndef TL_LANG_EVAL_LOGIC_H
#define TL_LANG_EVAL_LOGIC_H

#include "lang/eval_internal.h"
#include "lang/logic.h"

/* The interpreter's logic store (created on first use; NULL: out of memory). */
tl_logic *tl_interp_logic(tl_interp *I);

/* TL_D_ENTITY, TL_D_RELATION, TL_D_RULE, TL_D_EMBEDDING */
tl_flow tl_logic_declare(tl_interp *I, const tl_node *n);
/* TL_S_QUERY, TL_S_INFER, TL_S_WITH */
tl_flow tl_logic_stmt(tl_interp *I, const tl_node *n);
/* Is call (a TL_N_CALL) an atom of a declared relation (not shadowed by a
** variable or function of that name)? */
bool tl_logic_is_atom(tl_interp *I, const tl_node *call);
/* A statement that is an atom: asserts the fact. */
tl_flow tl_logic_fact(tl_interp *I, const tl_node *call);
/* An atom used as an expression: bool when ground, else the bindings
** (an array of names for one variable, of [names..] arrays for several). */
tl_flow tl_logic_atom_value(tl_interp *I, const tl_node *call, tl_value *out);

/* E["alice"] for an embedding E (lang/logic_embed.c): true when n is that
** form (then *fl tells how it went), false to index normally. */
bool tl_logic_embedding_index(tl_interp *I, const tl_node *n, tl_value *out, tl_flow *fl);

/* lang/logic_tensor.c: a relation's name as a value (its 0/1 tensor), an
** equation whose left side is a relation (asserted to a fixpoint), and the
** conversions both ways. */
tl_flow tl_logic_relation_value(tl_interp *I, const tl_node *ident, tl_value *out);
tl_flow tl_logic_equation(tl_interp *I, const tl_node *assign);
tl_flow tl_logic_model_at(tl_interp *I, tl_logic *L, const tl_node *site);
tl_status tl_logic_tensor_of(tl_logic *L, int rel, tl_tensor **out); /* model must be valid */
tl_status tl_logic_from_tensor(tl_logic *L, int rel, const tl_tensor *t, double threshold,
                               int64_t *added);

/* ---- shared by eval_logic*.c */
typedef struct tl_logic_prog {
    tl_dl_program p;
    const tl_node **rule_node; /* per compiled rule: the TL_D_RULE */
    const tl_node ***lit_node; /* per rule, per body literal: its expression */
    const char ***var_name;    /* per rule, per variable */
    void **blocks;
    int n_blocks, cap_blocks;
} tl_logic_prog;

tl_flow tl_logic_compile(tl_interp *I, tl_logic *L, tl_logic_prog *out);
void tl_logic_prog_free(tl_logic_prog *lp);
/* Reports a runtime/datalog error at the rule / literal it names. */
tl_flow tl_logic_report(tl_interp *I, const tl_logic_prog *lp, const tl_node *site,
                        const tl_dl_error *e, tl_status st);
/* The symbol an argument expression of a fact names (NULL result: error set). */
tl_flow tl_logic_fact_arg(tl_interp *I, tl_logic *L, const tl_node *arg, int32_t *out);

#endif
