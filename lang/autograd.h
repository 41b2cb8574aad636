/* lang/autograd.h -- reverse-mode automatic differentiation over the builtins.
**
** The tape: when a builtin is called (lang/builtin.c) while gradients are
** enabled and one of its tensor arguments has requires_grad, the call is
** recorded as a node hung on its result (tl_tensor.grad_fn) holding the
** arguments and a view of the result.  Nothing is recorded otherwise, so
** inference pays one loop over the arguments per call.  backward walks the
** nodes from the loss in reverse topological order and calls each builtin's
** backward rule (lang/autograd_rules.c), which computes the input gradients
** with the same runtime ops (f32).  Leaves (tensors with requires_grad and no
** grad_fn: the learnable parameters) accumulate into tl_tensor.grad.
**
** Builtins without a rule: those whose result carries no gradient (comparisons,
** argmax, shape, ...) are simply not recorded; any other gives an error naming
** the builtin, so a gradient is never silently wrong. */
#ifndef TL_LANG_AUTOGRAD_H
#define TL_LANG_AUTOGRAD_H

#include "lang/builtin.h"

/* ---- grad mode ----------------------------------------------------------------------------- */
void tl_ag_no_grad_enter(void);
void tl_ag_no_grad_leave(void);
bool tl_ag_enabled(void); /* false inside no_grad { } */

/* True when a call with these arguments must be recorded. */
static inline bool tl_ag_wants(int argc, const tl_value *argv) {
    extern int tl_ag_live_params; /* > 0 once any tensor was made learnable */
    if (__atomic_load_n(&tl_ag_live_params, __ATOMIC_RELAXED) == 0) return false;
    for (int i = 0; i < argc; i++) {
        if (argv[i].kind == TL_VAL_TENSOR && argv[i].as.tensor->requires_grad)
            return tl_ag_enabled();
        if (argv[i].kind == TL_VAL_ARRAY)
            for (size_t j = 0; j < argv[i].as.arr->len; j++)
                if (argv[i].as.arr->items[j].kind == TL_VAL_TENSOR &&
                    argv[i].as.arr->items[j].as.tensor->requires_grad)
                    return tl_ag_enabled();
    }
    return false;
}

/* Records the finished call def(argv) -> *out (called when tl_ag_wants).  May
** replace *out (a number from sum/mean/max/min becomes a 0-d tensor). */
tl_status tl_ag_record(const tl_builtin_def *def, int argc, const tl_value *argv, tl_value *out);

/* The same for a call the evaluator makes itself under a builtin's name ("add"). */
tl_status tl_ag_record_named(const char *name, int argc, const tl_value *argv, tl_value *out);

/* Records y = name(argv) with backward rule bw and the rule's own data (given to
** the rule as c->data, freed with free_data when the node goes; also on failure). */
typedef struct tl_ag_ctx tl_ag_ctx;
typedef tl_status (*tl_ag_backward_fn)(tl_ag_ctx *c);
tl_status tl_ag_record_custom(const char *name, tl_ag_backward_fn bw, int argc,
                              const tl_value *argv, tl_tensor *y, void *data,
                              void (*free_data)(void *data));

/* Marks t as a leaf parameter (f32 only): requires_grad, no grad_fn. */
tl_status tl_ag_make_param(tl_tensor *t);

/* ---- backward ------------------------------------------------------------------------------ */
/* Backpropagates from loss (seed: ones of loss's shape).  With n_targets == 0 the
** gradients of every leaf are accumulated into leaf->grad; otherwise only
** grads[k] = d loss / d targets[k] are computed (zeros when unreachable) and no
** .grad changes. */
tl_status tl_ag_backward(tl_tensor *loss, int n_targets, tl_tensor *const *targets,
                         tl_tensor **grads);

/* ---- for the rules (lang/autograd_rules.c) ------------------------------------------------- */

/* The rule of a builtin name: its backward function, or NULL; *op tells the rule
** which operation of its family it differentiates (below).  Looked up once, when
** the call is recorded. */
tl_ag_backward_fn tl_ag_rule(const char *name, int *op, bool *no_grad_result);
/* The rule of sum/mean/max/min (op: the tl_reduce_op), whose number results
** tl_ag_record turns into 0-d tensors. */
tl_status tl_ag_rule_reduce(tl_ag_ctx *c);

struct tl_ag_ctx {
    const char *name; /* the builtin (for messages) */
    /* which operation of the rule's family, from the rule table: TL_UN_* for the
    ** elementwise rule, TL_RED_* for reductions and maximum/minimum, TL_BIN_* for
    ** add/sub, or the rule file's own enum; 0 for tl_ag_record_custom */
    int op;
    int argc;
    const tl_value *argv; /* the call's arguments (retained) */
    tl_tensor *out;       /* the result's values (a view without grad fields) */
    tl_tensor *g;         /* d loss / d out, same shape as out, f32 */
    void *data;           /* tl_ag_record_custom's data, else NULL */
    void *priv;           /* the backward pass (lang/autograd.c) */
};

/* Does argument i (a tensor) need a gradient? */
bool tl_ag_needs(const tl_ag_ctx *c, int i);
/* Argument i as a tensor, or NULL when it is not one. */
tl_tensor *tl_ag_arg(const tl_ag_ctx *c, int i);
/* Adds gradient gi (taken over: the rule drops its reference) for argument i
** (item j of an array argument; j = -1 for a plain tensor).  gi is reshaped to
** the argument's shape when it holds the same number of elements. */
tl_status tl_ag_emit(tl_ag_ctx *c, int i, int j, tl_tensor *gi);

#endif
