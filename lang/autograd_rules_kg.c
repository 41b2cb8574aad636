/* lang/autograd_rules_kg.c -- the backward rules of the knowledge-graph builtins
** (lang/builtins/kg.c): transe_score, distmult_score, complex_score,
** margin_ranking_loss, binary_cross_entropy.  Each reads contiguous f32 copies
** of its arguments, computes the derivative of the score of each row in double
** and emits g times it.  A score of single vectors (a number) or a loss is
** recorded as a 0-d tensor (lang/autograd.c), so the rules see g as a tensor. */
#include "lang/autograd_internal.h"

#include <math.h>
#include <string.h>

/* contiguous f32 copies of arguments 0..n-1 and of g (NULL where not a tensor) */
static tl_status copies(tl_ag_ctx *c, int n, tl_tensor **a, tl_tensor **g) {
    tl_status st = TL_OK;
    for (int i = 0; i < n && st == TL_OK; i++)
        a[i] = NULL;
    for (int i = 0; i < n && st == TL_OK; i++)
        if (tl_ag_arg(c, i)) st = tl_ag_f32c(tl_ag_arg(c, i), &a[i]);
    if (st == TL_OK) st = tl_ag_f32c(c->g, g);
    return st;
}

static void drop(int n, tl_tensor **a) {
    for (int i = 0; i < n; i++)
        tl_tensor_unref(a[i]);
}

/* emits d[i] (taken over) for every argument i < n that needs a gradient */
static tl_status emit_all(tl_ag_ctx *c, int n, tl_tensor **d) {
    tl_status st = TL_OK;
    for (int i = 0; i < n; i++) {
        if (st == TL_OK && d[i] && tl_ag_needs(c, i))
            st = tl_ag_emit(c, i, -1, d[i]);
        else
            tl_tensor_unref(d[i]);
        d[i] = NULL;
    }
    return st;
}

/* transe_score(h, r, t[, p]) = -||h + r - t||_p, distmult = sum h r t, complex = Re <h, r, conj t>
 */
enum { TRANSE = 0, DISTMULT = 1, COMPLEX = 2 }; /* r_score3's op */

static tl_status r_score3(tl_ag_ctx *c) {
    int kind = c->op;
    double p = kind == 0 && c->argc > 3 ? tl_value_as_double(&c->argv[3]) : 1;
    tl_tensor *a[3], *g = NULL, *d[3] = {0};
    tl_status st = copies(c, 3, a, &g);
    for (int i = 0; i < 3 && st == TL_OK; i++)
        st = tl_ag_f32c(a[i], &d[i]);
    if (st == TL_OK) {
        int64_t dn = a[0]->ne[0], rows = dn ? tl_tensor_nelements(a[0]) / dn : 0, m = dn / 2;
        const float *gp = tl_tensor_data(g);
        for (int64_t k = 0; k < rows; k++) {
            const float *h = (const float *)tl_tensor_data(a[0]) + k * dn,
                        *r = (const float *)tl_tensor_data(a[1]) + k * dn,
                        *t = (const float *)tl_tensor_data(a[2]) + k * dn;
            float *dh = (float *)tl_tensor_data(d[0]) + k * dn,
                  *dr = (float *)tl_tensor_data(d[1]) + k * dn,
                  *dt = (float *)tl_tensor_data(d[2]) + k * dn;
            double gk = gp[k], norm = 0;
            if (kind == 0 && p == 2) {
                for (int64_t i = 0; i < dn; i++) {
                    double e = (double)h[i] + r[i] - t[i];
                    norm += e * e;
                }
                norm = sqrt(norm);
            }
            for (int64_t i = 0; i < dn; i++) {
                double vh, vr, vt; /* d score / d h[i], r[i], t[i] */
                if (kind == 0) {
                    double e = (double)h[i] + r[i] - t[i];
                    double de = p == 1 ? (e > 0   ? -1.0
                                          : e < 0 ? 1.0
                                                  : 0.0)
                                       : (norm > 0 ? -e / norm : 0.0);
                    vh = vr = de;
                    vt = -de;
                } else if (kind == 1) {
                    vh = (double)r[i] * t[i];
                    vr = (double)h[i] * t[i];
                    vt = (double)h[i] * r[i];
                } else { /* s = sum hr rr tr + hi rr ti + hr ri ti - hi ri tr */
                    int64_t j = i < m ? i : i - m;
                    double hr = h[j], hi = h[m + j], rr = r[j], ri = r[m + j], tr = t[j],
                           ti = t[m + j];
                    if (i < m) {
                        vh = rr * tr + ri * ti;
                        vr = hr * tr + hi * ti;
                        vt = hr * rr - hi * ri;
                    } else {
                        vh = rr * ti - ri * tr;
                        vr = hr * ti - hi * tr;
                        vt = hi * rr + hr * ri;
                    }
                }
                dh[i] = (float)(gk * vh);
                dr[i] = (float)(gk * vr);
                dt[i] = (float)(gk * vt);
            }
        }
        st = emit_all(c, 3, d);
    }
    drop(3, d);
    drop(3, a);
    tl_tensor_unref(g);
    return st;
}

/* margin_ranking_loss(pos, neg[, m]) = mean max(0, m - pos + neg);
** binary_cross_entropy(p, y) = mean -(y log q + (1 - y) log(1 - q)), q = clamp(p) */
enum { MARGIN_RANKING = 0, BCE = 1 }; /* r_loss2's op */

static tl_status r_loss2(tl_ag_ctx *c) {
    bool bce = c->op == BCE;
    double m = !bce && c->argc > 2 ? tl_value_as_double(&c->argv[2]) : 1;
    tl_tensor *a[2], *g = NULL, *d[2] = {0};
    tl_status st = copies(c, 2, a, &g);
    for (int i = 0; i < 2 && st == TL_OK; i++)
        if (a[i]) st = tl_ag_f32c(a[i], &d[i]);
    if (st == TL_OK && (!a[0] || !a[1]))
        st = tl_fail(TL_ERR_TYPE, "%s: both arguments must be tensors or arrays", c->name);
    if (st == TL_OK) {
        int64_t n = tl_tensor_nelements(a[0]);
        double gs = ((const float *)tl_tensor_data(g))[0] / (double)(n ? n : 1);
        const float *x = tl_tensor_data(a[0]), *y = tl_tensor_data(a[1]);
        float *dx = tl_tensor_data(d[0]), *dy = tl_tensor_data(d[1]);
        for (int64_t i = 0; i < n; i++) {
            if (bce) {
                double q = fmin(fmax(x[i], 1e-7), 1 - 1e-7), inside = x[i] == q;
                dx[i] = (float)(inside ? -gs * (y[i] / q - (1 - y[i]) / (1 - q)) : 0.0);
                dy[i] = (float)(-gs * (log(q) - log(1 - q)));
            } else {
                double on = m - x[i] + y[i] > 0;
                dx[i] = (float)(-gs * on);
                dy[i] = (float)(gs * on);
            }
        }
        st = emit_all(c, 2, d);
    }
    drop(2, d);
    drop(2, a);
    tl_tensor_unref(g);
    return st;
}

static const struct {
    const char *name;
    tl_ag_backward_fn fn;
    int op;
} rules_kg[] = {
    {"transe_score", r_score3, TRANSE},     {"distmult_score", r_score3, DISTMULT},
    {"complex_score", r_score3, COMPLEX},   {"margin_ranking_loss", r_loss2, MARGIN_RANKING},
    {"binary_cross_entropy", r_loss2, BCE},
};

tl_ag_backward_fn tl_ag_rule_kg(const char *name, int *op) {
    for (size_t i = 0; i < sizeof rules_kg / sizeof rules_kg[0]; i++)
        if (strcmp(rules_kg[i].name, name) == 0) {
            *op = rules_kg[i].op;
            return rules_kg[i].fn;
        }
    return NULL;
}
