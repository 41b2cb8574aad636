/* lang/equation.h -- tensor equations: `Y[i, k] = W[i, j] X[j, k]` (docs/equations.md).
**
** This module owns the language side of the paper's one construct: telling an
** equation from element assignment, compiling its right side once into a plan
** (cached on the statement's AST node, in the chunk's arena), and running the
** plan on the tensors in scope.  The numeric core -- pairwise contraction
** order and the kernels of each step -- is runtime/contract.h.
**
** The rule that makes `T[a, b] = e` an equation: every index on the left is a
** bare name (optionally marked `q.` for softmax/lnorm, or `j:4` with an
** explicit extent) and at least one of them is not a variable in scope.  When
** every left index is a bound variable (or any other expression) it is element
** assignment, as before.  A left side that mixes bound and unbound names is an
** error.  On the right, a name inside brackets that is not a variable is an
** index; a bound variable there is a value (a fixed position, an offset, a
** divisor).
**
** Other helpers (logic rules, autograd) run equations through these entry
** points; a statement node is any TL_S_ASSIGN the parser made, including ones
** from text they parse themselves. */
#ifndef TL_LANG_EQUATION_H
#define TL_LANG_EQUATION_H

#include "lang/eval_internal.h"

/* Projection operators: `=` and `+=` sum; `max=`, `min=`, `avg=` (stored in the
** TL_S_ASSIGN node's op). */
typedef enum tl_eq_proj {
    TL_EQ_PROJ_SUM = 0,
    TL_EQ_PROJ_MAX = 1,
    TL_EQ_PROJ_MIN = 2,
    TL_EQ_PROJ_AVG = 3,
} tl_eq_proj;

/* Is the assignment statement n (TL_S_ASSIGN) an equation under the rule above?
** Returns 1 (equation), 0 (ordinary assignment) or -1 after recording an error
** (a left side mixing variables and index names, `max=` on a non-equation). */
int tl_eq_classify(tl_interp *I, const tl_node *n);

/* Runs equation n: evaluates its right side and stores the result in the left
** side's variable (declared in the current scope when there is none). */
tl_flow tl_eq_exec(tl_interp *I, const tl_node *n);

/* Evaluates equation n's right side to a tensor shaped like its left side,
** without assigning it (*out: a tensor value). */
tl_flow tl_eq_eval(tl_interp *I, const tl_node *n, tl_value *out);

/* The statement after a fused attention equation (lang/equation_attention.c): when n is the
** `O[s, h, d] = P[h, s, t] V[t, h / g, d]` whose result the fused kernel already computed,
** moves it to *out and returns true.  Drops any other pending result. */
bool tl_eq_attn_take(tl_interp *I, const tl_node *n, tl_value *out);
/* Releases a pending result (at interpreter exit). */
void tl_eq_attn_drop(tl_interp *I);

#endif
