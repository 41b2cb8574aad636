/* runtime/optim.c -- sgd (momentum), adam, adamw, gradient clipping and the
** learning-rate schedules (see runtime/optim.h). */
#include "runtime/optim.h"

#include "runtime/threadpool.h"

#include <math.h>
#include <stdlib.h>

struct tl_optim {
    tl_optim_config cfg;
    int n;
    tl_tensor **params;
    float **m, **v; /* state per parameter (NULL until needed) */
    int64_t t;      /* steps taken */
};

tl_optim_config tl_optim_defaults(tl_optim_kind kind) {
    return (tl_optim_config){.kind = kind,
                             .lr = 0.01,
                             .beta1 = 0.9,
                             .beta2 = 0.999,
                             .eps = 1e-8,
                             .weight_decay = kind == TL_OPTIM_ADAMW ? 0.01 : 0.0};
}

void tl_optim_free(tl_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        tl_tensor_unref(o->params[i]);
        if (o->m) free(o->m[i]);
        if (o->v) free(o->v[i]);
    }
    free(o->params);
    free(o->m);
    free(o->v);
    free(o);
}

tl_status tl_optim_new(const tl_optim_config *cfg, int n, tl_tensor *const *params,
                       tl_optim **out) {
    *out = NULL;
    for (int i = 0; i < n; i++)
        if (params[i]->dtype != TL_DTYPE_F32 || !tl_tensor_is_contiguous(params[i]))
            return tl_fail(TL_ERR_TYPE,
                           "optimizer: parameter %d is not a contiguous float32 "
                           "tensor",
                           i + 1);
    tl_optim *o = calloc(1, sizeof *o);
    if (!o) return tl_fail(TL_ERR_NOMEM, "out of memory");
    o->cfg = *cfg;
    o->params = calloc((size_t)(n ? n : 1), sizeof *o->params);
    o->m = calloc((size_t)(n ? n : 1), sizeof *o->m);
    o->v = calloc((size_t)(n ? n : 1), sizeof *o->v);
    if (!o->params || !o->m || !o->v) {
        tl_optim_free(o);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    o->n = n;
    for (int i = 0; i < n; i++)
        o->params[i] = tl_tensor_ref(params[i]);
    *out = o;
    return TL_OK;
}

static tl_status state(float **slot, int64_t n) {
    if (*slot) return TL_OK;
    *slot = calloc((size_t)(n ? n : 1), sizeof **slot);
    return *slot ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
}

typedef struct upd_job {
    const tl_optim_config *c;
    float *pp, *m, *v;
    const float *gp;
    double scale, lr, bc1, bc2;
} upd_job;

/* The update of elements [begin, end) of one parameter, each in double. */
static void update_range(void *ctx, int64_t begin, int64_t end) {
    const upd_job *j = ctx;
    const tl_optim_config *c = j->c;
    float *pp = j->pp, *m = j->m, *v = j->v;
    const float *gp = j->gp;
    double scale = j->scale, lr = j->lr, bc1 = j->bc1, bc2 = j->bc2;
    for (int64_t k = begin; k < end; k++) {
        double g = (double)gp[k] * scale, w = pp[k];
        if (c->kind != TL_OPTIM_ADAMW) g += c->weight_decay * w;
        if (c->kind == TL_OPTIM_SGD) {
            if (c->momentum > 0) {
                m[k] = (float)(c->momentum * m[k] + g);
                g = m[k];
            }
            pp[k] = (float)(w - lr * g);
            continue;
        }
        if (c->kind == TL_OPTIM_ADAMW) w -= lr * c->weight_decay * w;
        m[k] = (float)(c->beta1 * m[k] + (1 - c->beta1) * g);
        v[k] = (float)(c->beta2 * v[k] + (1 - c->beta2) * g * g);
        pp[k] = (float)(w - lr * ((double)m[k] / bc1) / (sqrt((double)v[k] / bc2) + c->eps));
    }
}

tl_status tl_optim_step(tl_optim *o, double lr, double *grad_norm) {
    const tl_optim_config *c = &o->cfg;
    double ss = 0;
    for (int i = 0; i < o->n; i++) {
        const tl_tensor *g = o->params[i]->grad;
        if (!g) continue;
        if (g->dtype != TL_DTYPE_F32 || !tl_tensor_is_contiguous(g) ||
            tl_tensor_nelements(g) != tl_tensor_nelements(o->params[i]))
            return tl_fail(TL_ERR_INTERNAL, "optimizer: gradient %d does not fit its parameter",
                           i + 1);
        const float *gp = tl_tensor_data(g);
        for (int64_t k = 0, n = tl_tensor_nelements(g); k < n; k++)
            ss += (double)gp[k] * gp[k];
    }
    double norm = sqrt(ss), scale = 1.0;
    if (grad_norm) *grad_norm = norm;
    if (c->clip_norm > 0 && norm > c->clip_norm) scale = c->clip_norm / (norm + 1e-6);
    o->t++;
    double bc1 = 1.0 - pow(c->beta1, (double)o->t), bc2 = 1.0 - pow(c->beta2, (double)o->t);
    for (int i = 0; i < o->n; i++) {
        tl_tensor *p = o->params[i];
        if (!p->grad) continue;
        int64_t n = tl_tensor_nelements(p);
        float *pp = tl_tensor_data(p);
        const float *gp = tl_tensor_data(p->grad);
        tl_status st = TL_OK;
        if (c->kind != TL_OPTIM_SGD || c->momentum > 0) st = state(&o->m[i], n);
        if (st == TL_OK && c->kind != TL_OPTIM_SGD) st = state(&o->v[i], n);
        if (st != TL_OK) return st;
        upd_job j = {.c = c,
                     .pp = pp,
                     .gp = gp,
                     .m = o->m[i],
                     .v = o->v[i],
                     .scale = scale,
                     .lr = lr,
                     .bc1 = bc1,
                     .bc2 = bc2};
        /* elementwise: the same bits for any split */
        tl_parallel_for(n, 1 << 14, update_range, &j);
    }
    return TL_OK;
}

double tl_sched_lr(const tl_sched *s, double base_lr, int64_t epoch) {
    switch (s->kind) {
    case TL_SCHED_STEP:
        return base_lr * pow(s->gamma, (double)(epoch / (s->step_size > 0 ? s->step_size : 1)));
    case TL_SCHED_EXPONENTIAL:
        return base_lr * pow(s->gamma, (double)epoch);
    case TL_SCHED_COSINE: {
        double t =
            s->t_max > 0 ? (double)(epoch < s->t_max ? epoch : s->t_max) / (double)s->t_max : 0.0;
        return s->eta_min + (base_lr - s->eta_min) * (1 + cos(M_PI * t)) / 2;
    }
    default:
        return base_lr;
    }
}
