/* runtime/optim.h -- optimizers and learning-rate schedules for f32 parameters.
**
** An optimizer holds a list of parameter tensors (f32, contiguous) and its
** per-parameter state (momentum, Adam moments).  tl_optim_step() reads each
** parameter's gradient (tl_tensor.grad, set by lang/autograd.c; a parameter
** without one is skipped), optionally clips all gradients together to a global
** L2 norm, and updates the parameter values in place.  The math runs in double
** per element in a fixed order, so a step is deterministic.
**   sgd:   g += wd p;  v = momentum v + g (when momentum > 0);  p -= lr v
**   adam:  g += wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;
**          p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
**   adamw: as adam without the g += wd p, and p -= lr wd p first (decoupled decay). */
#ifndef TL_RUNTIME_OPTIM_H
#define TL_RUNTIME_OPTIM_H

#include "runtime/tensor.h"

typedef enum tl_optim_kind { TL_OPTIM_SGD, TL_OPTIM_ADAM, TL_OPTIM_ADAMW } tl_optim_kind;

typedef struct tl_optim_config {
    tl_optim_kind kind;
    double lr;
    double momentum;     /* sgd */
    double beta1, beta2; /* adam/adamw (0.9, 0.999) */
    double eps;          /* adam/adamw (1e-8) */
    double weight_decay;
    double clip_norm; /* > 0: scale the gradients so their global L2 norm is at most this */
} tl_optim_config;

/* Defaults for a kind (lr 0.01, adam betas 0.9/0.999, eps 1e-8, adamw decay 0.01). */
tl_optim_config tl_optim_defaults(tl_optim_kind kind);

typedef struct tl_optim tl_optim;

/* params: n f32 tensors (each referenced by the optimizer until tl_optim_free). */
tl_status tl_optim_new(const tl_optim_config *cfg, int n, tl_tensor *const *params, tl_optim **out);
/* One update with learning rate lr; *grad_norm (optional) = the global norm before clipping. */
tl_status tl_optim_step(tl_optim *o, double lr, double *grad_norm);
void tl_optim_free(tl_optim *o);

typedef enum tl_sched_kind {
    TL_SCHED_CONSTANT,
    TL_SCHED_STEP,        /* lr * gamma^floor(epoch / step_size) */
    TL_SCHED_EXPONENTIAL, /* lr * gamma^epoch */
    TL_SCHED_COSINE,      /* eta_min + (lr - eta_min) (1 + cos(pi epoch / t_max)) / 2 */
} tl_sched_kind;

typedef struct tl_sched {
    tl_sched_kind kind;
    double gamma, eta_min;
    int64_t step_size, t_max;
} tl_sched;

/* The learning rate for epoch (0-based). */
double tl_sched_lr(const tl_sched *s, double base_lr, int64_t epoch);

#endif
