/* lang/builtins/gnn.c -- graph-network builtins, listed in kg.c's table:
** neighbour aggregation, relational aggregation, feature and adjacency
** normalisation, graph attention (formulas in kg.c and docs/logic.md). */
#include "lang/builtin.h"
#include "runtime/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tl_status f32_2d(tl_call *c, const tl_value *argv, int i, int want_nd, tl_tensor **out,
                        int64_t *shape) {
    tl_tensor *t, *f;
    tl_status st = tl_arg_tensor(c, argv, i, &t);
    if (st != TL_OK) return st;
    if (t->n_dims != want_nd)
        return tl_fail(TL_ERR_SHAPE, "argument %d must have %d dimensions, not %d", i + 1, want_nd,
                       t->n_dims);
    if ((st = tl_op_cast(t, TL_DTYPE_F32, &f)) != TL_OK) return st;
    st = tl_op_contiguous(f, out);
    tl_tensor_unref(f);
    if (st == TL_OK) tl_tensor_shape(*out, shape);
    return st;
}

tl_status tl_gnn_aggregate(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *mode = "sum";
    tl_tensor *A = NULL, *H = NULL, *R = NULL;
    int64_t sa[2], sh[2];
    tl_status st = argc > 2 ? tl_arg_string(c, argv, 2, &mode) : TL_OK;
    if (st == TL_OK && strcmp(mode, "sum") && strcmp(mode, "mean") && strcmp(mode, "max"))
        st = tl_fail(TL_ERR_ARG, "mode must be \"sum\", \"mean\" or \"max\", not \"%s\"", mode);
    if (st == TL_OK) st = f32_2d(c, argv, 0, 2, &A, sa);
    if (st == TL_OK) st = f32_2d(c, argv, 1, 2, &H, sh);
    if (st == TL_OK && sa[1] != sh[0])
        st = tl_fail(TL_ERR_SHAPE, "A [%lld, %lld] and H [%lld, %lld] do not fit", (long long)sa[0],
                     (long long)sa[1], (long long)sh[0], (long long)sh[1]);
    int64_t shape[2] = {sa[0], sh[1]};
    if (st == TL_OK) st = tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &R);
    if (st == TL_OK) {
        const float *a = tl_tensor_data(A), *h = tl_tensor_data(H);
        float *y = tl_tensor_data(R);
        int64_t n = sa[0], m = sa[1], d = sh[1];
        for (int64_t i = 0; i < n; i++) {
            double deg = 0;
            bool any = false;
            for (int64_t j = 0; j < m; j++) {
                float w = a[i * m + j];
                if (w == 0) continue;
                deg += w;
                for (int64_t k = 0; k < d; k++) {
                    float v = h[j * d + k];
                    if (mode[1] == 'a')
                        y[i * d + k] = any ? fmaxf(y[i * d + k], v) : v;
                    else
                        y[i * d + k] += w * v;
                }
                any = true;
            }
            if (mode[0] == 'm' && mode[1] == 'e' && deg != 0)
                for (int64_t k = 0; k < d; k++)
                    y[i * d + k] = (float)(y[i * d + k] / deg);
        }
        *out = tl_value_tensor(R);
    }
    if (A) tl_tensor_unref(A);
    if (H) tl_tensor_unref(H);
    return st;
}

tl_status tl_gnn_relational(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *A = NULL, *H = NULL, *W = NULL, *R = NULL;
    int64_t sa[3], sh[2], sw[3];
    tl_status st = f32_2d(c, argv, 0, 3, &A, sa);
    if (st == TL_OK) st = f32_2d(c, argv, 1, 2, &H, sh);
    if (st == TL_OK) st = f32_2d(c, argv, 2, 3, &W, sw);
    if (st == TL_OK && (sa[2] != sh[0] || sw[0] != sa[0] || sw[1] != sh[1]))
        st = tl_fail(TL_ERR_SHAPE,
                     "A [R, n, m], H [m, d] and W [R, d, e] do not fit: A [%lld, %lld, %lld], H "
                     "[%lld, %lld], W [%lld, %lld, %lld]",
                     (long long)sa[0], (long long)sa[1], (long long)sa[2], (long long)sh[0],
                     (long long)sh[1], (long long)sw[0], (long long)sw[1], (long long)sw[2]);
    int64_t shape[2] = {sa[1], sw[2]};
    if (st == TL_OK) st = tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &R);
    if (st == TL_OK) {
        const float *a = tl_tensor_data(A), *h = tl_tensor_data(H), *w = tl_tensor_data(W);
        float *y = tl_tensor_data(R);
        int64_t nr = sa[0], n = sa[1], m = sa[2], d = sh[1], e = sw[2];
        double *tmp = calloc((size_t)d + 1, sizeof *tmp);
        if (!tmp) st = tl_fail(TL_ERR_NOMEM, "out of memory");
        for (int64_t r = 0; r < nr && st == TL_OK; r++)
            for (int64_t i = 0; i < n; i++) {
                memset(tmp, 0, (size_t)d * sizeof *tmp);
                for (int64_t j = 0; j < m; j++) {
                    float av = a[(r * n + i) * m + j];
                    if (av == 0) continue;
                    for (int64_t k = 0; k < d; k++)
                        tmp[k] += (double)av * h[j * d + k];
                }
                for (int64_t k = 0; k < d; k++)
                    for (int64_t l = 0; l < e; l++)
                        y[i * e + l] += (float)(tmp[k] * w[(r * d + k) * e + l]);
            }
        free(tmp);
        if (st == TL_OK)
            *out = tl_value_tensor(R);
        else
            tl_tensor_unref(R);
    }
    if (A) tl_tensor_unref(A);
    if (H) tl_tensor_unref(H);
    if (W) tl_tensor_unref(W);
    return st;
}

tl_status tl_gnn_normalize_features(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_tensor *H;
    int64_t s[2];
    tl_status st = f32_2d(c, argv, 0, 2, &H, s);
    if (st != TL_OK) return st;
    float *h = tl_tensor_data(H);
    for (int64_t i = 0; i < s[0]; i++) {
        double n2 = 0;
        for (int64_t k = 0; k < s[1]; k++)
            n2 += (double)h[i * s[1] + k] * h[i * s[1] + k];
        if (n2 > 0)
            for (int64_t k = 0; k < s[1]; k++)
                h[i * s[1] + k] = (float)(h[i * s[1] + k] / sqrt(n2));
    }
    *out = tl_value_tensor(H);
    return TL_OK;
}

tl_status tl_gnn_normalize_adjacency(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *A;
    int64_t s[2];
    bool loops = true;
    tl_status st = argc > 1 ? tl_arg_bool(c, argv, 1, &loops) : TL_OK;
    if (st == TL_OK) st = f32_2d(c, argv, 0, 2, &A, s);
    if (st != TL_OK) return st;
    if (s[0] != s[1]) {
        tl_tensor_unref(A);
        return tl_fail(TL_ERR_SHAPE, "an adjacency matrix is square, not [%lld, %lld]",
                       (long long)s[0], (long long)s[1]);
    }
    int64_t n = s[0];
    float *a = tl_tensor_data(A);
    double *deg = calloc((size_t)n + 1, sizeof *deg);
    if (!deg) {
        tl_tensor_unref(A);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        if (loops) a[i * n + i] += 1.0f;
        for (int64_t j = 0; j < n; j++)
            deg[i] += a[i * n + j];
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            a[i * n + j] = (deg[i] > 0 && deg[j] > 0)
                               ? (float)(a[i * n + j] / sqrt(deg[i]) / sqrt(deg[j]))
                               : 0.0f;
    free(deg);
    *out = tl_value_tensor(A);
    return TL_OK;
}

/* graph_attention(A, H, W, a[, slope = 0.2]): one GAT layer (single head).
** Z = H W; for each i and each neighbour j (A[i, j] != 0):
**   e_ij = leaky_relu(a[:e] . Z_i + a[e:] . Z_j, slope),  alpha_i = softmax_j e_ij,
**   out_i = sum_j alpha_ij Z_j;  a row without neighbours gives 0.
** A [n, n], H [n, d], W [d, e], a [2e]; the result is [n, e]. */
tl_status tl_gnn_attention(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    tl_tensor *A = NULL, *H = NULL, *W = NULL, *a = NULL, *R = NULL;
    int64_t sa[2], sh[2], sw[2], sv[1];
    double slope = 0.2;
    tl_status st = argc > 4 ? tl_arg_double(c, argv, 4, &slope) : TL_OK;
    if (st == TL_OK) st = f32_2d(c, argv, 0, 2, &A, sa);
    if (st == TL_OK) st = f32_2d(c, argv, 1, 2, &H, sh);
    if (st == TL_OK) st = f32_2d(c, argv, 2, 2, &W, sw);
    if (st == TL_OK) st = f32_2d(c, argv, 3, 1, &a, sv);
    if (st == TL_OK && (sa[0] != sa[1] || sa[1] != sh[0] || sh[1] != sw[0] || sv[0] != 2 * sw[1]))
        st = tl_fail(TL_ERR_SHAPE,
                     "A [n, n], H [n, d], W [d, e] and a [2e] do not fit: A [%lld, %lld], H "
                     "[%lld, %lld], W [%lld, %lld], a [%lld]",
                     (long long)sa[0], (long long)sa[1], (long long)sh[0], (long long)sh[1],
                     (long long)sw[0], (long long)sw[1], (long long)sv[0]);
    int64_t n = sa[0], d = sh[1], e = sw[1];
    int64_t shape[2] = {n, e};
    double *z = NULL, *src = NULL, *dst = NULL, *w = NULL;
    if (st == TL_OK) st = tl_tensor_new_shape(TL_DTYPE_F32, 2, shape, &R);
    if (st == TL_OK) {
        z = calloc((size_t)(n * e) + 1, sizeof *z);
        src = calloc((size_t)n + 1, sizeof *src);
        dst = calloc((size_t)n + 1, sizeof *dst);
        w = calloc((size_t)n + 1, sizeof *w);
        if (!z || !src || !dst || !w) st = tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    if (st == TL_OK) {
        const float *ad = tl_tensor_data(A), *h = tl_tensor_data(H), *wd = tl_tensor_data(W),
                    *av = tl_tensor_data(a);
        float *y = tl_tensor_data(R);
        for (int64_t i = 0; i < n; i++) {
            for (int64_t k = 0; k < d; k++)
                for (int64_t l = 0; l < e; l++)
                    z[i * e + l] += (double)h[i * d + k] * wd[k * e + l];
            for (int64_t l = 0; l < e; l++) {
                src[i] += av[l] * z[i * e + l];
                dst[i] += av[e + l] * z[i * e + l];
            }
        }
        for (int64_t i = 0; i < n; i++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < n; j++) {
                if (ad[i * n + j] == 0) continue;
                double s = src[i] + dst[j];
                w[j] = s > 0 ? s : slope * s;
                if (w[j] > mx) mx = w[j];
            }
            for (int64_t j = 0; j < n; j++)
                if (ad[i * n + j] != 0) sum += (w[j] = exp(w[j] - mx));
            for (int64_t l = 0; l < e; l++) {
                double acc = 0;
                for (int64_t j = 0; j < n; j++)
                    if (ad[i * n + j] != 0) acc += w[j] / sum * z[j * e + l];
                y[i * e + l] = (float)acc;
            }
        }
        *out = tl_value_tensor(R);
    } else if (R) {
        tl_tensor_unref(R);
    }
    free(z), free(src), free(dst), free(w);
    if (A) tl_tensor_unref(A);
    if (H) tl_tensor_unref(H);
    if (W) tl_tensor_unref(W);
    if (a) tl_tensor_unref(a);
    return st;
}
