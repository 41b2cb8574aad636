/* lang/builtins/learn.c -- the autograd and learning builtins: grad, backward,
** zero_grad, detach, parameter, requires_grad, the initialisers (xavier,
** kaiming, normal, uniform) and the losses cross_entropy and mse_loss
** (docs/learning.md).  The tape itself is lang/autograd.c. */
#include "lang/autograd.h"
#include "lang/eval.h"
#include "lang/builtins/tensor_args.h"

#include "runtime/ops.h"
#include "runtime/random.h"
#include "runtime/xent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_ONLY TL_KIND_BIT(TL_VAL_TENSOR)

/* The tensors of argv[i]: one tensor or an array of tensors (borrowed, into ts). */
static tl_status tensor_list(const tl_call *c, const tl_value *argv, int i, tl_tensor **ts, int max,
                             int *n) {
    *n = 0;
    if (argv[i].kind == TL_VAL_TENSOR) {
        ts[(*n)++] = argv[i].as.tensor;
        return TL_OK;
    }
    if (argv[i].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "%s: argument %d must be a tensor or an array of tensors",
                       c->name, i + 1);
    const tl_array *a = argv[i].as.arr;
    if ((int)a->len > max) return tl_fail(TL_ERR_ARG, "%s: at most %d tensors", c->name, max);
    for (size_t j = 0; j < a->len; j++) {
        if (a->items[j].kind != TL_VAL_TENSOR)
            return tl_fail(TL_ERR_TYPE, "%s: item %zu must be a tensor, got %s", c->name, j + 1,
                           tl_value_type_name(&a->items[j]));
        ts[(*n)++] = a->items[j].as.tensor;
    }
    return TL_OK;
}

static tl_status check_loss(const tl_call *c, const tl_value *argv, tl_tensor **loss) {
    if (argv[0].kind != TL_VAL_TENSOR)
        return tl_fail(TL_ERR_TYPE,
                       "%s: the loss must be a tensor computed from learnable tensors, got %s",
                       c->name, tl_value_type_name(&argv[0]));
    *loss = argv[0].as.tensor;
    if (!(*loss)->requires_grad)
        return tl_fail(TL_ERR_ARG,
                       "%s: the loss does not depend on any learnable tensor (or was computed "
                       "in no_grad)",
                       c->name);
    return TL_OK;
}

/* grad(loss, W) -> tensor;  grad(loss, [W, b]) -> [dW, db] */
static tl_status b_grad(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *loss = NULL, *ts[64], *gs[64];
    int n;
    tl_status st = check_loss(c, argv, &loss);
    if (st == TL_OK) st = tensor_list(c, argv, 1, ts, 64, &n);
    for (int k = 0; st == TL_OK && k < n; k++)
        if (!ts[k]->requires_grad)
            st = tl_fail(TL_ERR_ARG, "grad: tensor %d is not learnable", k + 1);
    if (st == TL_OK) st = tl_ag_backward(loss, n, ts, gs);
    if (st != TL_OK) return st;
    if (argv[1].kind == TL_VAL_TENSOR) {
        *out = tl_value_tensor(gs[0]);
        return TL_OK;
    }
    st = tl_value_array((size_t)n, out);
    for (int k = 0; k < n; k++) {
        if (st == TL_OK)
            st = tl_array_push(out->as.arr, tl_value_tensor(gs[k]));
        else
            tl_tensor_unref(gs[k]);
    }
    if (st != TL_OK) tl_value_release(out);
    return st;
}

/* backward(loss): every learnable tensor's .grad += d loss / d it */
static tl_status b_backward(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    *out = TL_VOID;
    tl_tensor *loss = NULL;
    tl_status st = check_loss(c, argv, &loss);
    if (st != TL_OK) return st;
    return tl_ag_backward(loss, 0, NULL, NULL);
}

static tl_status b_zero_grad(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    *out = TL_VOID;
    tl_tensor *ts[1024];
    int n;
    tl_status st = tensor_list(c, argv, 0, ts, 1024, &n);
    for (int k = 0; st == TL_OK && k < n; k++) {
        tl_tensor_unref(ts[k]->grad);
        ts[k]->grad = NULL;
    }
    return st;
}

/* detach(t): the same values, cut from the tape (a view sharing the storage) */
static tl_status b_detach(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    tl_tensor *r;
    tl_status st = tl_tensor_view(t, t->n_dims, t->ne, t->nb, 0, &r);
    if (st != TL_OK) return st;
    *out = tl_value_tensor(r);
    return TL_OK;
}

/* parameter(t): a new f32 leaf parameter holding a copy of t */
static tl_status b_learnable(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *t, *r;
    tl_status st = tl_value_to_tensor(&argv[0], &t);
    if (st != TL_OK) return st;
    st = tl_op_cast(t, TL_DTYPE_F32, &r);
    tl_tensor_unref(t);
    if (st != TL_OK) return st;
    if (r->grad_fn || r->requires_grad) { /* never share a tracked result */
        tl_tensor *d;
        st = tl_op_contiguous(r, &d);
        tl_tensor_unref(r);
        if (st != TL_OK) return st;
        r = d;
    }
    (void)c;
    st = tl_ag_make_param(r);
    if (st != TL_OK) {
        tl_tensor_unref(r);
        return st;
    }
    *out = tl_value_tensor(r);
    return TL_OK;
}

static tl_status b_requires_grad(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(t);
    *out = tl_value_bool(t->requires_grad);
    return TL_OK;
}

/* ---- initialisers -------------------------------------------------------------------------- */

tl_status tl_learn_init(const char *kind, int n_dims, const int64_t *shape, double a, double b,
                        tl_tensor **out) {
    *out = NULL;
    int64_t fan_in = n_dims >= 1 ? shape[n_dims - 1] : 1, fan_out = n_dims >= 2 ? shape[0] : 1;
    double std = 0, lo = 0, hi = 0;
    bool uniform = false;
    if (!strcmp(kind, "xavier")) {
        std = sqrt(2.0 / (double)(fan_in + fan_out));
    } else if (!strcmp(kind, "kaiming")) {
        std = sqrt(2.0 / (double)(fan_in ? fan_in : 1));
    } else if (!strcmp(kind, "normal")) {
        if (!isfinite(a) || !isfinite(b) || b < 0)
            return tl_fail(TL_ERR_ARG,
                           "normal: the mean must be finite and std finite and >= 0 "
                           "(got mean %g, std %g)",
                           a, b);
        std = b;
    } else if (!strcmp(kind, "uniform")) {
        if (!isfinite(a) || !isfinite(b) || a > b)
            return tl_fail(TL_ERR_ARG,
                           "uniform: the bounds must be finite with lo <= hi (got lo %g, "
                           "hi %g)",
                           a, b);
        uniform = true;
        lo = a;
        hi = b;
    } else {
        return tl_fail(TL_ERR_ARG, "unknown initialiser \"%s\"", kind);
    }
    tl_tensor *t;
    tl_status st = tl_tensor_new_shape(TL_DTYPE_F32, n_dims, shape, &t);
    if (st != TL_OK) return st;
    tl_rng *rng = tl_random_global();
    float *p = tl_tensor_data(t);
    int64_t n = tl_tensor_nelements(t);
    for (int64_t i = 0; i < n; i++)
        p[i] = uniform ? (float)(lo + (hi - lo) * tl_rng_uniform_f64(rng))
                       : (float)((!strcmp(kind, "normal") ? a : 0.0) + std * tl_rng_normal(rng));
    *out = t;
    return TL_OK;
}

/* xavier(shape) | kaiming(shape) | normal(shape[, mean[, std]]) | uniform(shape[, lo, hi]) */
enum { INIT_XAVIER, INIT_KAIMING, INIT_NORMAL, INIT_UNIFORM }; /* b_init's ops */
static const char *const init_kinds[] = {"xavier", "kaiming", "normal", "uniform"};

static tl_status b_init(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    int64_t shape[TL_MAX_DIMS];
    int nd;
    tl_status st = tl_arg_shape(c, argv, 0, shape, &nd);
    bool uni = c->op == INIT_UNIFORM;
    double a = uni ? -1.0 : 0.0, b = uni ? 1.0 : 1.0;
    if (st == TL_OK && argc >= 2) st = tl_arg_double(c, argv, 1, &a);
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &b);
    if (st != TL_OK) return st;
    tl_tensor *t;
    st = tl_learn_init(init_kinds[c->op], nd, shape, a, b, &t);
    if (st != TL_OK) return st;
    *out = tl_value_tensor(t);
    return TL_OK;
}

/* ---- losses -------------------------------------------------------------------------------- */

/* cross_entropy(logits [.., C], targets [..] ints) -> mean over rows of -log softmax[target] */
static tl_status b_cross_entropy(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    FIRST_TENSOR(z);
    tl_tensor *ids = NULL, *ls = NULL, *ids64 = NULL, *r = NULL;
    tl_status st = tlb_tensor(c, argv, 1, &ids);
    if (st == TL_OK) st = tl_op_cast(ids, TL_DTYPE_I64, &ids64);
    if (st == TL_OK && z->dtype == TL_DTYPE_F32) { /* fused, the same bits (runtime/xent.h) */
        double loss = 0;
        st = tl_op_cross_entropy(z, ids64, &loss);
        if (st == TL_OK) st = tl_tensor_scalar(TL_DTYPE_F32, loss, &r);
        tl_tensor_unref(ids);
        tl_tensor_unref(ids64);
        return tlb_ret(st, &r, out);
    }
    if (st == TL_OK) st = tl_op_log_softmax(z, -1, &ls);
    if (st == TL_OK) {
        tl_tensor *lf;
        st = tl_op_cast(ls, TL_DTYPE_F32, &lf);
        tl_tensor_unref(ls);
        ls = lf;
    }
    int64_t cn = z->n_dims ? z->ne[0] : 1;
    int64_t rows = tl_tensor_nelements(z) / (cn ? cn : 1);
    if (st == TL_OK && tl_tensor_nelements(ids64) != rows)
        st = tl_fail(TL_ERR_SHAPE, "cross_entropy: %lld rows of logits but %lld targets",
                     (long long)rows, (long long)tl_tensor_nelements(ids64));
    if (st == TL_OK) {
        const int64_t *ip = tl_tensor_data(ids64);
        const float *lp = tl_tensor_data(ls);
        double s = 0;
        for (int64_t i = 0; i < rows && st == TL_OK; i++) {
            if (ip[i] < 0 || ip[i] >= cn)
                st = tl_fail(TL_ERR_ARG, "cross_entropy: target %lld is not in 0..%lld",
                             (long long)ip[i], (long long)cn - 1);
            else
                s -= lp[i * cn + ip[i]];
        }
        if (st == TL_OK) st = tl_tensor_scalar(TL_DTYPE_F32, s / (double)(rows ? rows : 1), &r);
    }
    tl_tensor_unref(ids);
    tl_tensor_unref(ids64);
    tl_tensor_unref(ls);
    return tlb_ret(st, &r, out);
}

/* ---- gradient check ------------------------------------------------------------------------ */

/* f(params...) as a double (a number or a one-element tensor). */
static tl_status call_scalar(tl_call *c, const tl_value *f, int n, tl_value *args, double *v,
                             tl_value *keep) {
    tl_value r;
    tl_status st = tl_interp_call(c->interp, f, n, args, &r);
    if (st != TL_OK) return st;
    if (tl_value_is_number(&r)) {
        *v = tl_value_as_double(&r);
    } else if (r.kind == TL_VAL_TENSOR && tl_tensor_nelements(r.as.tensor) == 1) {
        st = tl_tensor_get_f64(r.as.tensor, 0, v);
    } else {
        st = tl_fail(TL_ERR_TYPE, "grad_check: the function must return one number, got %s",
                     tl_value_type_name(&r));
    }
    if (keep && st == TL_OK)
        *keep = r;
    else
        tl_value_release(&r);
    return st;
}

/* grad_check(f, [x1, x2, ...][, h]) -> the largest error between the autograd
** gradient of f(x1, ...) and central differences (f(x+h) - f(x-h)) / 2h taken in
** double, each error |a - n| / (max(|a|, |n|) + 1e-2). */
static tl_status b_grad_check(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *ts[16];
    int n;
    double h = 1e-2;
    tl_status st = tensor_list(c, argv, 1, ts, 16, &n);
    if (st == TL_OK && argc >= 3) st = tl_arg_double(c, argv, 2, &h);
    if (st != TL_OK) return st;
    tl_value args[16], loss = TL_VOID;
    tl_tensor *grads[16] = {0};
    int made = 0;
    while (made < n && st == TL_OK) {
        tl_tensor *p = NULL;
        st = tl_op_cast(ts[made], TL_DTYPE_F32, &p);
        if (st == TL_OK) st = tl_ag_make_param(p);
        if (!p) break;
        args[made++] = tl_value_tensor(p);
    }
    double v0, worst = 0;
    if (st == TL_OK) st = call_scalar(c, &argv[0], n, args, &v0, &loss);
    if (st == TL_OK && (loss.kind != TL_VAL_TENSOR || !loss.as.tensor->requires_grad))
        st = tl_fail(TL_ERR_ARG, "grad_check: the result does not depend on the inputs");
    tl_tensor *targets[16];
    for (int k = 0; k < made; k++)
        targets[k] = args[k].as.tensor;
    if (st == TL_OK) st = tl_ag_backward(loss.as.tensor, n, targets, grads);
    tl_value_release(&loss);
    tl_ag_no_grad_enter();
    for (int k = 0; k < n && st == TL_OK; k++) {
        float *p = tl_tensor_data(targets[k]);
        const float *g = tl_tensor_data(grads[k]);
        int64_t m = tl_tensor_nelements(targets[k]);
        for (int64_t i = 0; i < m && st == TL_OK; i++) {
            float x = p[i];
            double fp = 0, fm = 0;
            p[i] = (float)(x + h);
            double hp = (double)p[i] - x;
            st = call_scalar(c, &argv[0], n, args, &fp, NULL);
            p[i] = (float)(x - h);
            double hm = x - (double)p[i];
            if (st == TL_OK) st = call_scalar(c, &argv[0], n, args, &fm, NULL);
            p[i] = x;
            double num = (fp - fm) / (hp + hm), a = g[i];
            double err = fabs(a - num) / (fmax(fabs(a), fabs(num)) + 1e-2);
            if (err > worst) worst = err;
        }
    }
    tl_ag_no_grad_leave();
    for (int k = 0; k < made; k++) {
        tl_value_release(&args[k]);
        tl_tensor_unref(grads[k]);
    }
    if (st != TL_OK) return st;
    *out = tl_value_float(worst);
    return TL_OK;
}

#define DEF(NAME, MIN, MAX, FN, SIG, MASK)                                                         \
    { NAME, MIN, MAX, FN, SIG, MASK }
#define DEF_OP(NAME, MIN, MAX, FN, SIG, MASK, OP)                                                  \
    { NAME, MIN, MAX, FN, SIG, MASK, OP }

const tl_builtin_def tl_builtins_learn[] = {
    DEF("grad", 2, 2, b_grad, "grad(loss, W | [W, b, ...]) -> tensor | [tensor]", 0),
    DEF("backward", 1, 1, b_backward, "backward(loss) -> void (accumulates W.grad)", 0),
    DEF("zero_grad", 1, 1, b_zero_grad, "zero_grad(W | [W, b, ...]) -> void", 0),
    DEF("detach", 1, 1, b_detach, "detach(t) -> tensor (no gradient flows back)", T_ONLY),
    DEF("parameter", 1, 1, b_learnable, "parameter(t) -> tensor (a new learnable f32 copy)", 0),
    DEF("requires_grad", 1, 1, b_requires_grad, "requires_grad(t) -> bool", T_ONLY),
    DEF_OP("xavier", 1, 1, b_init, "xavier(shape) -> tensor (normal, std sqrt(2/(in+out)))", 0,
           INIT_XAVIER),
    DEF_OP("kaiming", 1, 1, b_init, "kaiming(shape) -> tensor (normal, std sqrt(2/in))", 0,
           INIT_KAIMING),
    DEF_OP("normal", 1, 3, b_init, "normal(shape[, mean[, std]]) -> tensor", 0, INIT_NORMAL),
    DEF_OP("uniform", 1, 3, b_init, "uniform(shape[, lo, hi]) -> tensor", 0, INIT_UNIFORM),
    DEF("cross_entropy", 2, 2, b_cross_entropy,
        "cross_entropy(logits, targets) -> tensor (mean of -log softmax[target])", T_ONLY),
    DEF("grad_check", 2, 3, b_grad_check,
        "grad_check(f, [x, ...][, h]) -> float (largest autograd vs central-difference error)", 0),
    {0},
};
