/* runtime/sample.c -- greedy, temperature, top-k, top-p and min-p sampling. */
#include "runtime/sample.h"

#include "runtime/ops/internal.h"

typedef struct cand {
    float logit;
    int64_t id;
} cand;

static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit > y->logit) return -1;
    if (x->logit < y->logit) return 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The last row of logits as a malloc'd f32 array. */
static tl_status last_row(const char *op, const tl_tensor *logits, float **row, int64_t *n) {
    tl_status st = ops_require_plain(op, logits);
    if (st != TL_OK) return st;
    if (logits->n_dims < 1 || logits->ne[0] == 0) {
        char s[96];
        return tl_fail(TL_ERR_SHAPE, "%s: logits %s are empty", op, OPS_SHAPE(logits, s));
    }
    int64_t V = logits->ne[0];
    int64_t idx[TL_MAX_DIMS];
    for (int d = 0; d < TL_MAX_DIMS; d++)
        idx[d] = logits->ne[d] - 1;
    idx[0] = 0;
    const char *p = (const char *)tl_tensor_data(logits) + ops_offset(idx, logits->nb);
    st = ops_alloc(op, (size_t)V * sizeof(float), (void **)row);
    if (st != TL_OK) return st;
    for (int64_t i = 0; i < V; i++)
        (*row)[i] = ld_f32(p + (size_t)i * logits->nb[0], logits->dtype);
    *n = V;
    return TL_OK;
}

static int64_t argmax_first(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best] || (x[best] != x[best] && x[i] == x[i])) best = i;
    return best;
}

tl_status tl_sample_greedy(const tl_tensor *logits, int64_t *id) {
    float *row;
    int64_t n;
    tl_status st = last_row("argmax", logits, &row, &n);
    if (st != TL_OK) return st;
    *id = argmax_first(row, n);
    bool all_nan = row[*id] != row[*id]; /* NaN logits never win; all NaN: an error */
    free(row);
    if (all_nan) return tl_fail(TL_ERR_ARG, "greedy_sample: every logit is NaN");
    return TL_OK;
}

enum filter { F_NONE, F_TOP_K, F_TOP_P, F_MIN_P };

static tl_status sample_impl(const char *op, const tl_tensor *logits, enum filter f, double param,
                             float temp, tl_rng *rng, int64_t *id) {
    if (temp != temp) return tl_fail(TL_ERR_ARG, "%s: the temperature is NaN", op);
    float *row;
    int64_t n;
    tl_status st = last_row(op, logits, &row, &n);
    if (st != TL_OK) return st;
    cand *c = malloc((size_t)n * sizeof *c);
    if (!c) {
        free(row);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", op);
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (row[i] == row[i]) c[m++] = (cand){row[i], i}; /* NaN logits never win */
    free(row);
    if (m == 0) {
        free(c);
        return tl_fail(TL_ERR_ARG, "%s: every logit is NaN", op);
    }
    qsort(c, (size_t)m, sizeof *c, cand_cmp);
    int64_t keep = m;
    if (f == F_TOP_K && param > 0 && param < (double)m) keep = (int64_t)param;
    if (f == F_TOP_P || f == F_MIN_P) {
        double mx = c[0].logit, sum = 0.0;
        for (int64_t i = 0; i < m; i++)
            sum += exp((double)c[i].logit - mx);
        if (f == F_TOP_P) {
            double cum = 0.0;
            for (keep = 0; keep < m;) {
                cum += exp((double)c[keep].logit - mx) / sum;
                keep++;
                if (cum >= param) break;
            }
        } else {
            /* p_i >= param * p_max  <=>  exp(l_i - max) >= param */
            for (keep = 1; keep < m && exp((double)c[keep].logit - mx) >= param; keep++) {
            }
        }
    }
    if (temp <= 1e-4f || keep == 1) { /* the original treats T <= 1e-4 as greedy */
        *id = c[0].id;
        free(c);
        return TL_OK;
    }
    double mx = c[0].logit, sum = 0.0;
    double *w = malloc((size_t)keep * sizeof *w);
    if (!w) {
        free(c);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", op);
    }
    for (int64_t i = 0; i < keep; i++) {
        w[i] = exp(((double)c[i].logit - mx) / (double)temp);
        sum += w[i];
    }
    double u = tl_rng_uniform_f64(rng) * sum, run = 0.0;
    int64_t pick = keep - 1;
    for (int64_t i = 0; i < keep; i++) {
        run += w[i];
        if (run > u) {
            pick = i;
            break;
        }
    }
    *id = c[pick].id;
    free(w);
    free(c);
    return TL_OK;
}

tl_status tl_sample_temperature(const tl_tensor *logits, float temp, tl_rng *rng, int64_t *id) {
    return sample_impl("temperature_sample", logits, F_NONE, 0, temp, rng, id);
}

tl_status tl_sample_top_k(const tl_tensor *logits, int64_t k, float temp, tl_rng *rng,
                          int64_t *id) {
    return sample_impl("top_k_sample", logits, F_TOP_K, (double)k, temp, rng, id);
}

tl_status tl_sample_top_p(const tl_tensor *logits, float p, float temp, tl_rng *rng, int64_t *id) {
    if (!(p > 0.0f && p <= 1.0f))
        return tl_fail(TL_ERR_ARG, "top_p_sample: p = %s must be in (0, 1]", tl_num_str(p));
    return sample_impl("top_p_sample", logits, F_TOP_P, p, temp, rng, id);
}

tl_status tl_sample_min_p(const tl_tensor *logits, float p, float temp, tl_rng *rng, int64_t *id) {
    if (!(p >= 0.0f && p <= 1.0f))
        return tl_fail(TL_ERR_ARG, "min_p_sample: p = %s must be in [0, 1]", tl_num_str(p));
    return sample_impl("min_p_sample", logits, F_MIN_P, p, temp, rng, id);
}
