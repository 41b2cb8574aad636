/* runtime/ops/unary.c -- elementwise functions of one tensor. */
#include "runtime/ops/internal.h"

#include "runtime/ops/expf_kernels.h"
#include "runtime/ops/ggml_math.h"
#include "runtime/threadpool.h"

static const char *const un_names[TL_UN_COUNT] = {
    "neg",     "abs",  "exp",  "log",  "sqrt",  "rsqrt", "sin",   "cos",    "tan",  "tanh",
    "sigmoid", "silu", "gelu", "relu", "floor", "ceil",  "round", "square", "sign", "not",
};

const char *tl_unary_op_name(tl_unary_op op) {
    return (unsigned)op < TL_UN_COUNT ? un_names[op] : "?";
}

/* ggml's tanh-approximation constants */
#define GELU_COEF_A    0.044715f
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876f

static void f32_unary(tl_unary_op op, const float *x, float *y, int64_t n) {
    switch (op) {
    case TL_UN_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = -x[i];
        break;
    case TL_UN_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabsf(x[i]);
        break;
    case TL_UN_EXP:
        if (ops_vexpf_ok()) { /* the same bits, 8 at a time */
            tl_expf_avx2(x, y, n);
            break;
        }
        for (int64_t i = 0; i < n; i++)
            y[i] = expf(x[i]);
        break;
    case TL_UN_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = logf(x[i]);
        break;
    case TL_UN_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrtf(x[i]);
        break;
    case TL_UN_RSQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / sqrtf(x[i]);
        break;
    case TL_UN_SIN:
        for (int64_t i = 0; i < n; i++)
            y[i] = sinf(x[i]);
        break;
    case TL_UN_COS:
        for (int64_t i = 0; i < n; i++)
            y[i] = cosf(x[i]);
        break;
    case TL_UN_TAN:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanf(x[i]);
        break;
    case TL_UN_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    case TL_UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case TL_UN_SILU: /* llama.cpp's: its vector expf in groups of 8 (ggml_math.h) */
        ops_ggml_silu_row(x, y, n);
        break;
    case TL_UN_GELU:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            y[i] = 0.5f * v * (1.0f + tanhf(SQRT_2_OVER_PI * v * (1.0f + GELU_COEF_A * v * v)));
        }
        break;
    case TL_UN_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case TL_UN_FLOOR:
        for (int64_t i = 0; i < n; i++)
            y[i] = floorf(x[i]);
        break;
    case TL_UN_CEIL:
        for (int64_t i = 0; i < n; i++)
            y[i] = ceilf(x[i]);
        break;
    case TL_UN_ROUND:
        for (int64_t i = 0; i < n; i++)
            y[i] = roundf(x[i]);
        break;
    case TL_UN_SQUARE:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * x[i];
        break;
    case TL_UN_SIGN:
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)((x[i] > 0.0f) - (x[i] < 0.0f));
        break;
    case TL_UN_NOT:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] == 0.0f;
        break;
    default:
        break;
    }
}

static int64_t i64_unary(tl_unary_op op, int64_t v) {
    switch (op) {
    case TL_UN_NEG:
        return (int64_t)(0 - (uint64_t)v);
    case TL_UN_ABS:
        return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
    case TL_UN_RELU:
        return v > 0 ? v : 0;
    case TL_UN_SQUARE:
        return (int64_t)((uint64_t)v * (uint64_t)v);
    case TL_UN_SIGN:
        return (v > 0) - (v < 0);
    case TL_UN_NOT:
        return v == 0;
    default:
        return v; /* floor, ceil, round */
    }
}

typedef struct un_job {
    tl_unary_op op;
    const tl_tensor *x;
    tl_tensor *y;
    bool int_math;
    int failed; /* out of memory: y is dropped */
} un_job;

static void un_rows(void *ctx, int64_t begin, int64_t end) {
    un_job *j = ctx;
    const tl_tensor *x = j->x;
    tl_tensor *y = j->y;
    int64_t ne0 = x->ne[0];
    float *tmp = malloc(2 * (size_t)ne0 * sizeof(float) + 1);
    if (!tmp) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    float *tin = tmp, *tout = tmp + ne0;
    int64_t idx[TL_MAX_DIMS] = {0};
    int64_t r = begin;
    for (int d = 1; d < TL_MAX_DIMS; d++) {
        idx[d] = r % x->ne[d];
        r /= x->ne[d];
    }
    for (int64_t row = begin; row < end; row++) {
        const char *px = (const char *)tl_tensor_data(x) + ops_offset(idx, x->nb);
        char *py = (char *)tl_tensor_data(y) + (size_t)row * y->nb[1];
        if (j->int_math) {
            for (int64_t i = 0; i < ne0; i++)
                st_i64(py + i * y->nb[0], y->dtype,
                       i64_unary(j->op, ld_i64(px + i * x->nb[0], x->dtype)));
        } else {
            const float *src = tin;
            if (x->dtype == TL_DTYPE_F32 && x->nb[0] == sizeof(float))
                src = (const float *)px;
            else
                for (int64_t i = 0; i < ne0; i++)
                    tin[i] = ld_f32(px + i * x->nb[0], x->dtype);
            if (y->dtype == TL_DTYPE_F32) {
                f32_unary(j->op, src, (float *)py, ne0);
            } else {
                f32_unary(j->op, src, tout, ne0);
                for (int64_t i = 0; i < ne0; i++)
                    st_f32(py + i * y->nb[0], y->dtype, tout[i]);
            }
        }
        ops_next(idx, x->ne, 1);
    }
    free(tmp);
}

/* Spans [begin, end) of UN_SPAN elements of a contiguous f32 x (values do not
** depend on how the elements are split). */
#define UN_SPAN 1024
static void un_spans(void *ctx, int64_t begin, int64_t end) {
    un_job *j = ctx;
    int64_t n = tl_tensor_nelements(j->x), a = begin * UN_SPAN, b = end * UN_SPAN;
    if (b > n) b = n;
    f32_unary(j->op, (const float *)tl_tensor_data(j->x) + a, (float *)tl_tensor_data(j->y) + a,
              b - a);
}

tl_status tl_op_unary(tl_unary_op op, const tl_tensor *x, tl_tensor **out) {
    *out = NULL;
    if ((unsigned)op >= TL_UN_COUNT) return tl_fail(TL_ERR_ARG, "unary: bad op %d", (int)op);
    tl_status st = ops_require_plain(tl_unary_op_name(op), x);
    if (st != TL_OK) return st;
    bool ints = !dt_is_float(x->dtype);
    bool keeps = op == TL_UN_NEG || op == TL_UN_ABS || op == TL_UN_RELU || op == TL_UN_FLOOR ||
                 op == TL_UN_CEIL || op == TL_UN_ROUND || op == TL_UN_SQUARE || op == TL_UN_SIGN;
    tl_dtype dt = x->dtype;
    bool int_math = false;
    if (op == TL_UN_NOT) {
        dt = TL_DTYPE_BOOL;
        int_math = ints;
    } else if (ints) {
        int_math = keeps;
        dt = keeps ? (x->dtype == TL_DTYPE_BOOL ? TL_DTYPE_I64 : x->dtype) : TL_DTYPE_F32;
    }
    un_job j = {.op = op, .x = x, .int_math = int_math};
    st = tl_tensor_new_uninit(dt, x->n_dims, x->ne, &j.y); /* every element is written */
    if (st != TL_OK) return st;
    int64_t n = tl_tensor_nelements(x);
    bool costly = op == TL_UN_EXP || op == TL_UN_SIGMOID || op == TL_UN_SILU || op == TL_UN_GELU ||
                  op == TL_UN_TANH;
    /* silu's groups of 8 start at each row's start: spans only when rows are whole groups */
    bool spans_ok = op != TL_UN_SILU || (x->n_dims > 0 && x->ne[0] % 8 == 0);
    if (costly && spans_ok && x->dtype == TL_DTYPE_F32 && tl_tensor_is_contiguous(x) &&
        n >= 2 * UN_SPAN) {
        /* one long row (a token's FFN activations): split the elements too */
        tl_parallel_for((n + UN_SPAN - 1) / UN_SPAN, 2, un_spans, &j);
    } else if (n > 0) {
        tl_parallel_for(tl_tensor_nrows(x), (1 << 13) / (x->ne[0] + 1) + 1, un_rows, &j);
    }
    if (j.failed) {
        tl_tensor_unref(j.y);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", tl_unary_op_name(op));
    }
    *out = j.y;
    return TL_OK;
}

/* ---- swiglu ------------------------------------------------------------------ */

typedef struct swiglu_job {
    const float *g, *u;
    float *y;
    int64_t n, ne0;
} swiglu_job;

static void swiglu_spans(void *ctx, int64_t begin, int64_t end) {
    const swiglu_job *j = ctx;
    if (j->ne0 % 8 != 0) {
        for (int64_t r = begin; r < end; r++)
            ops_ggml_swiglu_row(j->g + r * j->ne0, j->u + r * j->ne0, j->y + r * j->ne0, j->ne0);
        return;
    }
    int64_t a = begin * UN_SPAN, b = end * UN_SPAN < j->n ? end * UN_SPAN : j->n;
    ops_ggml_swiglu_row(j->g + a, j->u + a, j->y + a, b - a);
}

tl_status tl_op_swiglu(const tl_tensor *g, const tl_tensor *u, tl_tensor **out) {
    *out = NULL;
    if (g->dtype != TL_DTYPE_F32 || u->dtype != TL_DTYPE_F32 || !tl_tensor_is_contiguous(g) ||
        !tl_tensor_is_contiguous(u) || !tl_tensor_same_shape(g, u)) {
        tl_tensor *s;
        tl_status st = tl_op_unary(TL_UN_SILU, g, &s);
        if (st != TL_OK) return st;
        st = tl_op_binary(TL_BIN_MUL, s, u, out);
        tl_tensor_unref(s);
        if (st == TL_ERR_SHAPE) {
            char a[96], b[96];
            return tl_fail(TL_ERR_SHAPE, "swiglu: g %s and u %s cannot broadcast", OPS_SHAPE(g, a),
                           OPS_SHAPE(u, b));
        }
        return st;
    }
    swiglu_job j = {.g = tl_tensor_data(g),
                    .u = tl_tensor_data(u),
                    .n = tl_tensor_nelements(g),
                    .ne0 = g->n_dims > 0 ? g->ne[0] : 1};
    tl_tensor *y;
    tl_status st = tl_tensor_new_uninit(TL_DTYPE_F32, g->n_dims, g->ne, &y); /* all written */
    if (st != TL_OK) return st;
    j.y = tl_tensor_data(y);
    if (j.n > 0 && j.ne0 % 8 == 0)
        tl_parallel_for((j.n + UN_SPAN - 1) / UN_SPAN, 2, swiglu_spans, &j);
    else if (j.n > 0)
        tl_parallel_for(j.n / j.ne0, 1 + 2048 / (j.ne0 + 1), swiglu_spans, &j);
    *out = y;
    return TL_OK;
}
