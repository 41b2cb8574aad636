/* lang/equation_internal.h -- the compiled form of a tensor equation, shared by
** lang/equation_compile.c (AST -> plan) and lang/equation_run.c (plan -> tensor).
**
** A plan is a small tree mirroring the right side: sums of terms, products of
** factors, elementwise functions, divisions, scalar sub-expressions and leaves
** (an indexed tensor, one axis spec per axis).  Index names become labels
** 0..TL_CONTRACT_MAX_LABELS-1.  Everything lives in the chunk's arena. */
#ifndef TL_LANG_EQUATION_INTERNAL_H
#define TL_LANG_EQUATION_INTERNAL_H

#include "lang/equation.h"
#include "runtime/contract.h"

typedef uint32_t eq_mask;

typedef enum eq_kind { EQ_SUM, EQ_PROD, EQ_LEAF, EQ_FUNC, EQ_DIV, EQ_SCALAR } eq_kind;

typedef enum eq_axis_kind {
    AX_INDEX,  /* X[.., j, ..]                                         */
    AX_SHIFT,  /* X[.., j + c, ..] / j - c: out of range reads 0        */
    AX_SELECT, /* X[.., v, ..] with v a value: the axis is dropped      */
    AX_SLICE,  /* X[.., lo:hi, ..]: the left index at this position     */
    AX_GROUP,  /* X[.., h / g, ..]: h split into (h / g, h % g)          */
    AX_SUM,    /* X[.., i + k, ..]: two indices, an unfolded (strided) view */
} eq_axis_kind;

typedef struct eq_axis {
    eq_axis_kind kind;
    int label;
    int label2;       /* AX_SUM: the second index */
    int sign;         /* AX_SHIFT: +1 for j + c, -1 for j - c */
    const tl_node *e; /* the offset, value, divisor or slice   */
} eq_axis;

typedef enum eq_fn {
    FN_RELU,
    FN_SIGMOID,
    FN_STEP,
    FN_EXP,
    FN_LOG,
    FN_TANH,
    FN_SILU,
    FN_SQRT,
    FN_ABS,
    FN_SOFTMAX,
    FN_LNORM,
    FN_USER, /* any other function value, called on the tensor */
} eq_fn;

typedef struct eq_node eq_node;
struct eq_node {
    eq_kind kind;
    const tl_node *src;
    eq_mask labels; /* every index label in this subtree */
    int n_kids;
    eq_node **kids;
    int8_t *signs; /* EQ_SUM: +1 / -1 per kid */
    /* EQ_LEAF */
    int leaf_id;
    int n_axes;
    eq_axis axes[TL_MAX_DIMS];
    /* EQ_FUNC */
    eq_fn fn;
    const tl_node *arg2; /* sigmoid(x, T): the temperature */
    /* EQ_PROD */
    tl_contract_plan plan;
};

#define EQ_MAX_LEAVES 64
#define EQ_MAX_NAMES  64

typedef struct eq_plan {
    uint32_t epoch; /* the defs epoch it was compiled under */
    int n_labels;
    const char *label_name[TL_CONTRACT_MAX_LABELS];
    /* the left side */
    const char *target; /* the variable */
    int n_out;
    int out[TL_MAX_DIMS];                   /* labels in left-side order */
    const tl_node *out_extent[TL_MAX_DIMS]; /* `j:4`: the extent expression, else NULL */
    int mark;                               /* the position marked `q.`, or -1 */
    bool lhs_free;                          /* no left index name was a variable */
    tl_eq_proj proj;
    eq_node *root;
    struct eq_attn *attn; /* the attention pattern (lang/equation_attention.c), or NULL */
    int n_leaves;
    eq_node *leaves[EQ_MAX_LEAVES];
    /* the names the compiler looked up, to notice when a variable appears or goes */
    int n_names;
    const char *names[EQ_MAX_NAMES];
    bool bound[EQ_MAX_NAMES];
} eq_plan;

/* Compiles (or finds the cached, still valid) plan for statement n. */
tl_flow tl_eq_plan_get(tl_interp *I, const tl_node *n, eq_plan **out);

/* The cached plan of statement n when it is still valid, else NULL (compiles nothing). */
eq_plan *tl_eq_plan_cached(tl_interp *I, const tl_node *n);

/* ---- the attention pattern (lang/equation_attention.c) */

/* At compile time: sets p->attn when statement n reads
** `P[h, s, t.] = softmax(c q[s, h, d] K[t, h / g, d] + mask[s, t])`. */
void tl_eq_attn_match(eq_plan *p, const tl_node *n, tl_arena *arena);

/* Writes the source form of an indexed factor ("W[i, j]") for messages. */
void tl_eq_node_text(const tl_node *e, char *buf, size_t cap);

/* ---- running (lang/equation_run.c, lang/equation_leaf.c) */

/* An intermediate result: a tensor with one label per axis, or a scalar. */
typedef struct eres {
    tl_tensor *t; /* NULL: a scalar s */
    double s;
    int n;
    int lab[TL_MAX_DIMS];
    int grp_label; /* with grp > 0: the axis labelled grp_label reads h / grp (not expanded) */
    int64_t grp;
} eres;

typedef struct run {
    tl_interp *I;
    const tl_node *stmt;
    eq_plan *p;
    int64_t ext[TL_CONTRACT_MAX_LABELS];
    int ext_leaf[TL_CONTRACT_MAX_LABELS]; /* the leaf that fixed the extent, or -1 */
    tl_tensor *base[EQ_MAX_LEAVES];
    int64_t group[EQ_MAX_LEAVES][TL_MAX_DIMS]; /* AX_GROUP divisors */
} run;

static inline eq_mask tl_eq_mask_of(const int *lab, int n) {
    eq_mask m = 0;
    for (int i = 0; i < n; i++)
        m |= (eq_mask)1 << lab[i];
    return m;
}

/* Records st (with the runtime message) at the equation and returns TL_FLOW_ERR. */
tl_flow tl_eq_status_err(run *R, tl_status st);
/* Phase 1: evaluates the leaves' tensors into R->base and settles every extent. */
tl_flow tl_eq_load_leaves(run *R);
/* The leaf's tensor with its axis specs applied; split: leave one h / g axis to the product. */
tl_flow tl_eq_make_leaf(run *R, const eq_node *lf, eres *out, bool split);
/* GQA in a product: split h of the other factors; *hi, *lo = the two labels or -1. */
tl_flow tl_eq_split_groups(run *R, eres *f, int nf, int *hi, int *lo);
/* After tl_eq_load_leaves, for a plan with p->attn: runs the fused kernel.  1: *out holds
** the result (and maybe a pending P V result for the next statement); 0: the inputs do not
** fit the kernel, take the general path; -1: an error was recorded. */
int tl_eq_attn_run(run *R, tl_value *out);
/* A product `W[o, k] X[s, k]` against a stored (non-f32) weight: linear(X, W) directly
** (lang/equation_linear.c).  1: *out holds it; 0: take the general path; -1: error. */
int tl_eq_linear_fast(run *R, const eq_node *n, eq_mask want, eres *out);
/* Joins the axes hi and lo (lo right after hi) of y back into one. */
tl_status tl_eq_merge_group(tl_tensor **y, int *lab, int *n, int hi, int lo);

#endif
