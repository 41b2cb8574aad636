/* lang/eval_learn.h -- the evaluator's learning statements (docs/learning.md):
** `tensor W: float32[..] learnable|frozen [= init]`, `no_grad { }`, in-place
** updates of learnable tensors inside no_grad, and `learn { ... }`. */
#ifndef TL_LANG_EVAL_LEARN_H
#define TL_LANG_EVAL_LEARN_H

#include "lang/eval_internal.h"

/* Is init one of the declaration initialisers (xavier, kaiming, normal(..),
** uniform(..), zeros, ones) that take the declared shape? */
bool tl_learn_is_init(tl_interp *I, const tl_node *init);
/* Evaluates such an initialiser for tensor declaration n into *out. */
tl_flow tl_learn_init_value(tl_interp *I, const tl_node *n, tl_value *out);
/* Makes the declared value *v a learnable parameter (a private f32 copy when shared). */
tl_flow tl_learn_mark(tl_interp *I, const tl_node *n, tl_value *v);

/* Inside no_grad, `W = e` on a learnable W with e of W's shape copies e's values
** into W (which stays the same learnable tensor).  Returns true when it did
** (v is then released), false to assign as usual. */
bool tl_learn_assign_in_place(tl_value *slot, tl_value *v);

tl_flow tl_exec_no_grad(tl_interp *I, const tl_node *n);
tl_flow tl_exec_learn(tl_interp *I, const tl_node *n);

#endif
