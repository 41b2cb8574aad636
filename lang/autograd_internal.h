/* lang/autograd_internal.h -- helpers shared by the backward rules
** (lang/autograd_rules.c, lang/autograd_rules_nn.c).  Not for other modules. */
#ifndef TL_LANG_AUTOGRAD_INTERNAL_H
#define TL_LANG_AUTOGRAD_INTERNAL_H

#include "lang/autograd.h"
#include "runtime/ops.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        st = (x);                                                                                  \
        if (st != TL_OK) goto done;                                                                \
    } while (0)

/* A fresh contiguous f32 copy. */
tl_status tl_ag_f32c(const tl_tensor *x, tl_tensor **out);
/* g summed down to x's shape (NumPy broadcasting undone); a new reference. */
tl_status tl_ag_unbroadcast(const tl_tensor *g, const tl_tensor *x, tl_tensor **out);
/* Emits unbroadcast(t) for argument i and drops t. */
tl_status tl_ag_emit_unb(tl_ag_ctx *c, int i, tl_tensor *t);
/* A negative axis counted from the end. */
int tl_ag_norm_axis(int64_t a, int n);
/* The rules of lang/autograd_rules_nn.c by builtin name, or NULL; *op as tl_ag_rule. */
tl_ag_backward_fn tl_ag_rule_nn(const char *name, int *op);
/* The rules of lang/autograd_rules_kg.c (knowledge-graph scores and losses), or NULL. */
tl_ag_backward_fn tl_ag_rule_kg(const char *name, int *op);
/* The rules of lang/autograd_rules_attn.c (layer_norm, attention, gather, scatter, dropout). */
tl_ag_backward_fn tl_ag_rule_attn(const char *name, int *op);

#endif
