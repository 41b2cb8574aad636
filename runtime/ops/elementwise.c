/* runtime/ops/elementwise.c -- binary ops with NumPy broadcasting, where(). */
#include "runtime/ops/internal.h"

#include "runtime/arith.h"
#include "runtime/threadpool.h"

static const char *const bin_names[TL_BIN_COUNT] = {
    "add", "sub", "mul", "div", "mod", "pow", "maximum", "minimum",
    "eq",  "ne",  "lt",  "le",  "gt",  "ge",  "and",     "or",
};

const char *tl_binary_op_name(tl_binary_op op) {
    return (unsigned)op < TL_BIN_COUNT ? bin_names[op] : "?";
}

static bool is_compare(tl_binary_op op) {
    return op >= TL_BIN_EQ;
}

static int dtype_rank(tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_BOOL:
        return 0;
    case TL_DTYPE_I8:
        return 1;
    case TL_DTYPE_I16:
        return 2;
    case TL_DTYPE_I32:
        return 3;
    case TL_DTYPE_I64:
        return 4;
    case TL_DTYPE_BF16:
        return 5;
    case TL_DTYPE_F16:
        return 6;
    case TL_DTYPE_F32:
        return 7;
    case TL_DTYPE_F64:
        return 8;
    default:
        return -1;
    }
}

static tl_dtype promote(tl_dtype a, tl_dtype b) {
    if ((a == TL_DTYPE_BF16 && b == TL_DTYPE_F16) || (a == TL_DTYPE_F16 && b == TL_DTYPE_BF16))
        return TL_DTYPE_F32;
    return dtype_rank(a) >= dtype_rank(b) ? a : b;
}

/* Broadcast shapes of up to n tensors (ggml order); fills each tensor's
** broadcast strides.  Returns false when they do not fit. */
static bool broadcast_shapes(int n, const tl_tensor *const *ts, int *out_dims, int64_t *ne,
                             size_t (*nbs)[TL_MAX_DIMS]) {
    int dims = 0;
    for (int k = 0; k < n; k++)
        if (ts[k]->n_dims > dims) dims = ts[k]->n_dims;
    for (int d = 0; d < TL_MAX_DIMS; d++) {
        int64_t m = 1;
        for (int k = 0; k < n; k++) {
            int64_t e = ts[k]->ne[d];
            if (e == 1) continue;
            if (m == 1)
                m = e;
            else if (e != m)
                return false;
        }
        ne[d] = m;
        for (int k = 0; k < n; k++)
            nbs[k][d] = ts[k]->ne[d] == 1 ? 0 : ts[k]->nb[d];
    }
    *out_dims = dims;
    return true;
}

typedef struct bin_job {
    tl_binary_op op;
    const tl_tensor *a, *b;
    size_t nba[TL_MAX_DIMS], nbb[TL_MAX_DIMS];
    tl_tensor *out;
    bool int_math; /* operands computed in int64 */
    int failed;    /* 1: integer division by zero, 2: out of memory */
} bin_job;

/* One row of a binary op in element type T (f32 or i64), written once over the
** type: runtime/arith.h gives each type's add/sub/mul/div/floormod, the
** comparisons and min/max read the same in both (a != a is false for
** integers).  INT_DIV: check integer divisors (false on a division by zero).
** EXTRA: the cases only one type has (f32: pow; i64 never computes pow). */
#define EACH(EXPR)                                                                                 \
    for (int64_t i = 0; i < n; i++)                                                                \
        o[i] = (EXPR);                                                                             \
    break
#define EACH_DIVISOR(INT_DIV, EXPR)                                                                \
    for (int64_t i = 0; i < n; i++) {                                                              \
        if (INT_DIV && b[i] == 0) return false;                                                    \
        o[i] = (EXPR);                                                                             \
    }                                                                                              \
    break
#define BINARY_ROW(T, CT, INT_DIV, EXTRA)                                                          \
    static bool T##_row(tl_binary_op op, const CT *a, const CT *b, CT *o, int64_t n) {             \
        switch (op) {                                                                              \
        case TL_BIN_ADD:                                                                           \
            EACH(tl_##T##_add(a[i], b[i]));                                                        \
        case TL_BIN_SUB:                                                                           \
            EACH(tl_##T##_sub(a[i], b[i]));                                                        \
        case TL_BIN_MUL:                                                                           \
            EACH(tl_##T##_mul(a[i], b[i]));                                                        \
        case TL_BIN_DIV:                                                                           \
            EACH_DIVISOR(INT_DIV, tl_##T##_div(a[i], b[i]));                                       \
        case TL_BIN_MOD:                                                                           \
            EACH_DIVISOR(INT_DIV, tl_##T##_floormod(a[i], b[i]));                                  \
        case TL_BIN_MAXIMUM:                                                                       \
            EACH((a[i] >= b[i] || a[i] != a[i]) ? a[i] : b[i]);                                    \
        case TL_BIN_MINIMUM:                                                                       \
            EACH((a[i] <= b[i] || a[i] != a[i]) ? a[i] : b[i]);                                    \
        case TL_BIN_EQ:                                                                            \
            EACH(a[i] == b[i]);                                                                    \
        case TL_BIN_NE:                                                                            \
            EACH(a[i] != b[i]);                                                                    \
        case TL_BIN_LT:                                                                            \
            EACH(a[i] < b[i]);                                                                     \
        case TL_BIN_LE:                                                                            \
            EACH(a[i] <= b[i]);                                                                    \
        case TL_BIN_GT:                                                                            \
            EACH(a[i] > b[i]);                                                                     \
        case TL_BIN_GE:                                                                            \
            EACH(a[i] >= b[i]);                                                                    \
        case TL_BIN_AND:                                                                           \
            EACH(a[i] != 0 && b[i] != 0);                                                          \
        case TL_BIN_OR:                                                                            \
            EACH(a[i] != 0 || b[i] != 0);                                                          \
            EXTRA                                                                                  \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
        return true;                                                                               \
    }
BINARY_ROW(f32, float, false, case TL_BIN_POW : EACH(powf(a[i], b[i]));)
BINARY_ROW(i64, int64_t, true, )
#undef BINARY_ROW
#undef EACH_DIVISOR
#undef EACH

static void row_index(int64_t row, const int64_t *ne, int64_t *idx) {
    idx[0] = 0;
    for (int d = 1; d < TL_MAX_DIMS; d++) {
        idx[d] = row % ne[d];
        row /= ne[d];
    }
}

static void bin_rows(void *ctx, int64_t begin, int64_t end) {
    bin_job *j = ctx;
    tl_tensor *o = j->out;
    int64_t ne0 = o->ne[0];
    size_t esz = j->int_math ? sizeof(int64_t) : sizeof(float);
    char *buf = malloc(3 * (size_t)ne0 * esz + 1);
    if (!buf) {
        __atomic_store_n(&j->failed, 2, __ATOMIC_RELAXED);
        return;
    }
    char *ba = buf, *bb = buf + (size_t)ne0 * esz, *bo = buf + 2 * (size_t)ne0 * esz;
    int64_t idx[TL_MAX_DIMS];
    row_index(begin, o->ne, idx);
    const char *pa0 = tl_tensor_data(j->a), *pb0 = tl_tensor_data(j->b);
    char *po0 = tl_tensor_data(o);
    tl_dtype da = j->a->dtype, db = j->b->dtype, dout = o->dtype;
    for (int64_t r = begin; r < end; r++) {
        const char *pa = pa0 + ops_offset(idx, j->nba), *pb = pb0 + ops_offset(idx, j->nbb);
        char *po = po0 + ops_offset(idx, o->nb);
        if (j->int_math) {
            int64_t *ia = (int64_t *)ba, *ib = (int64_t *)bb, *io = (int64_t *)bo;
            for (int64_t i = 0; i < ne0; i++)
                ia[i] = ld_i64(pa + i * j->nba[0], da);
            for (int64_t i = 0; i < ne0; i++)
                ib[i] = ld_i64(pb + i * j->nbb[0], db);
            if (!i64_row(j->op, ia, ib, io, ne0)) {
                __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
                break;
            }
            for (int64_t i = 0; i < ne0; i++)
                st_i64(po + i * o->nb[0], dout, io[i]);
        } else {
            float *fa = (float *)ba, *fb = (float *)bb, *fo = (float *)bo;
            /* f32 operands read in place when dense */
            const float *ra = fa, *rb = fb;
            if (da == TL_DTYPE_F32 && j->nba[0] == sizeof(float))
                ra = (const float *)pa;
            else
                for (int64_t i = 0; i < ne0; i++)
                    fa[i] = ld_f32(pa + i * j->nba[0], da);
            if (db == TL_DTYPE_F32 && j->nbb[0] == sizeof(float))
                rb = (const float *)pb;
            else
                for (int64_t i = 0; i < ne0; i++)
                    fb[i] = ld_f32(pb + i * j->nbb[0], db);
            if (dout == TL_DTYPE_F32) {
                f32_row(j->op, ra, rb, (float *)po, ne0);
            } else {
                f32_row(j->op, ra, rb, fo, ne0);
                for (int64_t i = 0; i < ne0; i++)
                    st_f32(po + i * o->nb[0], dout, fo[i]);
            }
        }
        ops_next(idx, o->ne, 1);
    }
    free(buf);
}

/* out_dt: the result dtype (bool for comparisons); int_math: compute in int64. */
static tl_status binary_run(tl_binary_op op, const tl_tensor *a, const tl_tensor *b,
                            tl_dtype out_dt, bool int_math, tl_tensor **out) {
    const char *name = tl_binary_op_name(op);
    const tl_tensor *ts[2] = {a, b};
    bin_job j = {.op = op, .a = a, .b = b, .int_math = int_math};
    size_t nbs[2][TL_MAX_DIMS];
    int64_t ne[TL_MAX_DIMS];
    int dims;
    if (!broadcast_shapes(2, ts, &dims, ne, nbs)) {
        char sa[96], sb[96];
        return tl_fail(TL_ERR_SHAPE, "%s: shapes %s and %s cannot broadcast", name,
                       OPS_SHAPE(a, sa), OPS_SHAPE(b, sb));
    }
    memcpy(j.nba, nbs[0], sizeof j.nba);
    memcpy(j.nbb, nbs[1], sizeof j.nbb);
    /* bin_rows writes every element (a failed run drops the tensor) */
    tl_status st = tl_tensor_new_uninit(out_dt, dims, ne, &j.out);
    if (st != TL_OK) return st;
    int64_t rows = tl_tensor_nrows(j.out);
    if (tl_tensor_nelements(j.out) > 0)
        tl_parallel_for(rows, (1 << 15) / (ne[0] + 1) + 1, bin_rows, &j);
    if (j.failed) {
        tl_tensor_unref(j.out);
        return j.failed == 1 ? tl_fail(TL_ERR_ARG, "%s: integer division by zero", name)
                             : tl_fail(TL_ERR_NOMEM, "%s: out of memory", name);
    }
    *out = j.out;
    return TL_OK;
}

static tl_status check_operand(tl_binary_op op, const tl_tensor *t) {
    return ops_require_plain(tl_binary_op_name(op), t);
}

tl_status tl_op_binary(tl_binary_op op, const tl_tensor *a, const tl_tensor *b, tl_tensor **out) {
    *out = NULL;
    if ((unsigned)op >= TL_BIN_COUNT) return tl_fail(TL_ERR_ARG, "binary: bad op %d", (int)op);
    tl_status st = check_operand(op, a);
    if (st == TL_OK) st = check_operand(op, b);
    if (st != TL_OK) return st;
    tl_dtype common = promote(a->dtype, b->dtype);
    bool ints = !dt_is_float(common);
    bool int_math = ints && op != TL_BIN_POW;
    tl_dtype out_dt = common;
    if (is_compare(op))
        out_dt = TL_DTYPE_BOOL;
    else if (op == TL_BIN_POW && ints)
        out_dt = TL_DTYPE_F32;
    else if (common == TL_DTYPE_BOOL && op != TL_BIN_MAXIMUM && op != TL_BIN_MINIMUM)
        out_dt = TL_DTYPE_I64;
    return binary_run(op, a, b, out_dt, int_math, out);
}

tl_status tl_op_binary_scalar(tl_binary_op op, const tl_tensor *t, double s, bool scalar_first,
                              tl_tensor **out) {
    *out = NULL;
    if ((unsigned)op >= TL_BIN_COUNT) return tl_fail(TL_ERR_ARG, "binary: bad op %d", (int)op);
    tl_status st = check_operand(op, t);
    if (st != TL_OK) return st;
    bool integral = s == floor(s) && fabs(s) < 9.0e18;
    bool t_int = !dt_is_float(t->dtype);
    tl_dtype sdt, out_dt;
    bool int_math;
    if (t_int && integral && op != TL_BIN_POW) {
        sdt = TL_DTYPE_I64;
        int_math = true;
        out_dt = t->dtype == TL_DTYPE_BOOL ? TL_DTYPE_I64 : t->dtype;
    } else {
        sdt = TL_DTYPE_F32;
        int_math = false;
        out_dt = t_int ? TL_DTYPE_F32 : t->dtype;
    }
    if (is_compare(op)) out_dt = TL_DTYPE_BOOL;
    tl_tensor *sc;
    st = tl_tensor_scalar(sdt, s, &sc);
    if (st != TL_OK) return st;
    st = scalar_first ? binary_run(op, sc, t, out_dt, int_math, out)
                      : binary_run(op, t, sc, out_dt, int_math, out);
    tl_tensor_unref(sc);
    return st;
}

tl_status tl_op_where(const tl_tensor *cond, const tl_tensor *a, const tl_tensor *b,
                      tl_tensor **out) {
    *out = NULL;
    tl_status st = ops_require_plain("where", cond);
    if (st == TL_OK) st = ops_require_plain("where", a);
    if (st == TL_OK) st = ops_require_plain("where", b);
    if (st != TL_OK) return st;
    const tl_tensor *ts[3] = {cond, a, b};
    size_t nbs[3][TL_MAX_DIMS];
    int64_t ne[TL_MAX_DIMS];
    int dims;
    if (!broadcast_shapes(3, ts, &dims, ne, nbs)) {
        char s0[96], s1[96], s2[96];
        return tl_fail(TL_ERR_SHAPE, "where: shapes %s, %s and %s cannot broadcast",
                       OPS_SHAPE(cond, s0), OPS_SHAPE(a, s1), OPS_SHAPE(b, s2));
    }
    tl_dtype dt = promote(a->dtype, b->dtype);
    tl_tensor *o;
    st = tl_tensor_new(dt, dims, ne, &o);
    if (st != TL_OK) return st;
    int64_t idx[TL_MAX_DIMS] = {0};
    bool ints = !dt_is_float(dt);
    const char *pc = tl_tensor_data(cond), *pa = tl_tensor_data(a), *pb = tl_tensor_data(b);
    char *po = tl_tensor_data(o);
    if (tl_tensor_nelements(o) > 0) do {
            for (int64_t i = 0; i < ne[0]; i++) {
                idx[0] = i;
                bool c = ld_f64(pc + ops_offset(idx, nbs[0]), cond->dtype) != 0.0;
                const char *src = c ? pa + ops_offset(idx, nbs[1]) : pb + ops_offset(idx, nbs[2]);
                tl_dtype sd = c ? a->dtype : b->dtype;
                char *dst = po + ops_offset(idx, o->nb);
                if (ints)
                    st_i64(dst, dt, ld_i64(src, sd));
                else
                    st_f32(dst, dt, ld_f32(src, sd));
            }
            idx[0] = 0;
        } while (ops_next(idx, ne, 1));
    *out = o;
    return TL_OK;
}
