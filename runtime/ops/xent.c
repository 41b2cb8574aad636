/* runtime/ops/xent.c -- fused cross-entropy and its gradient (runtime/xent.h). */
#include "runtime/ops/ggml_math.h"
#include "runtime/ops/internal.h"
#include "runtime/threadpool.h"
#include "runtime/xent.h"

#include <math.h>
#include <string.h>

typedef struct xe_job {
    const float *z;
    const int64_t *t;
    int64_t n;  /* classes */
    float *out; /* forward: one log-probability per row; backward: [rows][n] */
    float scale;
} xe_job;

/* max of a row; false when it holds a NaN */
static bool row_max(const float *p, int64_t n, float *mx) {
    float m = -INFINITY;
    bool nan = false;
    for (int64_t i = 0; i < n; i++) {
        if (p[i] > m) m = p[i];
        if (p[i] != p[i]) nan = true;
    }
    *mx = m;
    return !nan;
}

static void xe_fwd_rows(void *ctx, int64_t begin, int64_t end) {
    const xe_job *j = ctx;
    for (int64_t r = begin; r < end; r++) {
        const float *p = j->z + r * j->n;
        float mx;
        if (!row_max(p, j->n, &mx)) {
            j->out[r] = NAN;
            continue;
        }
        if (mx == -INFINITY) {
            j->out[r] = -logf((float)j->n);
            continue;
        }
        double sum = 0.0;
        for (int64_t i = 0; i < j->n; i++)
            sum += (double)expf(p[i] - mx);
        float ls = (float)log(sum);
        j->out[r] = (p[j->t[r]] - mx) - ls;
    }
}

static void xe_bwd_rows(void *ctx, int64_t begin, int64_t end) {
    const xe_job *j = ctx;
    int64_t n = j->n;
    for (int64_t r = begin; r < end; r++) {
        const float *p = j->z + r * n;
        float *d = j->out + r * n, mx;
        if (!row_max(p, n, &mx)) {
            for (int64_t i = 0; i < n; i++)
                d[i] = NAN;
        } else if (mx == -INFINITY) {
            for (int64_t i = 0; i < n; i++)
                d[i] = 1.0f / (float)n;
        } else {
            memcpy(d, p, (size_t)n * sizeof(float)); /* tl_op_softmax's row (ggml_math.h) */
            float s = (float)(1.0 / ops_ggml_softmax_exp(d, n, mx));
            for (int64_t i = 0; i < n; i++)
                d[i] *= s;
        }
        d[j->t[r]] -= 1.0f;
        for (int64_t i = 0; i < n; i++)
            d[i] *= j->scale;
    }
}

static tl_status xe_check(const tl_tensor *z, const tl_tensor *t, int64_t *rows, int64_t *n) {
    tl_status st = ops_require_plain("cross_entropy", z);
    if (st != TL_OK) return st;
    *n = z->n_dims ? z->ne[0] : 1;
    *rows = tl_tensor_nelements(z) / (*n ? *n : 1);
    if (t->dtype != TL_DTYPE_I64 || !tl_tensor_is_contiguous(t))
        return tl_fail(TL_ERR_TYPE, "cross_entropy: targets must be contiguous int64");
    if (tl_tensor_nelements(t) != *rows)
        return tl_fail(TL_ERR_SHAPE, "cross_entropy: %lld rows of logits but %lld targets",
                       (long long)*rows, (long long)tl_tensor_nelements(t));
    const int64_t *ip = tl_tensor_data(t);
    for (int64_t i = 0; i < *rows; i++)
        if (ip[i] < 0 || ip[i] >= *n)
            return tl_fail(TL_ERR_ARG, "cross_entropy: target %lld is not in 0..%lld",
                           (long long)ip[i], (long long)*n - 1);
    return TL_OK;
}

tl_status tl_op_cross_entropy(const tl_tensor *z, const tl_tensor *t, double *loss) {
    int64_t rows, n;
    tl_status st = xe_check(z, t, &rows, &n);
    if (st != TL_OK) return st;
    const float *zf;
    float *owned = NULL, *lp = NULL;
    st = ops_f32_data("cross_entropy", z, &zf, &owned);
    if (st == TL_OK)
        st = ops_alloc("cross_entropy", (size_t)(rows + 1) * sizeof(float), (void **)&lp);
    if (st == TL_OK) {
        xe_job j = {.z = zf, .t = tl_tensor_data(t), .n = n, .out = lp};
        if (n > 0) tl_parallel_for(rows, 4096 / (n + 1) + 1, xe_fwd_rows, &j);
        double s = 0;
        for (int64_t i = 0; i < rows; i++)
            s -= lp[i];
        *loss = s / (double)(rows ? rows : 1);
    }
    free(lp);
    free(owned);
    return st;
}

tl_status tl_op_cross_entropy_grad(const tl_tensor *z, const tl_tensor *t, float scale,
                                   tl_tensor **dz) {
    *dz = NULL;
    int64_t rows, n;
    tl_status st = xe_check(z, t, &rows, &n);
    if (st != TL_OK) return st;
    const float *zf;
    float *owned = NULL;
    st = ops_f32_data("cross_entropy", z, &zf, &owned);
    tl_tensor *d = NULL;
    if (st == TL_OK) st = tl_tensor_new(TL_DTYPE_F32, z->n_dims, z->ne, &d);
    if (st == TL_OK && n > 0) {
        xe_job j = {
            .z = zf, .t = tl_tensor_data(t), .n = n, .out = tl_tensor_data(d), .scale = scale};
        tl_parallel_for(rows, 4096 / (n + 1) + 1, xe_bwd_rows, &j);
    }
    free(owned);
    if (st != TL_OK) {
        tl_tensor_unref(d);
        return st;
    }
    *dz = d;
    return TL_OK;
}
