/* runtime/contract.h -- tensor contraction over labelled axes, planned pairwise.
**
** This module owns the numeric core of tensor equations (lang/equation.h), in
** a language-free form: einsum with small integer labels instead of letters.
** Each operand's axes (NumPy order, outermost first) carry labels; the result
** has the axes `out` in that order.  Operands are joined (multiplied, matched
** on equal labels) and every label absent from `out` is projected (summed).
** A label repeated inside one operand takes the diagonal (a strided view).
**
** The plan (tl_contract_plan) is the pairwise order: labels found in a single
** operand and not wanted later are summed first, then, as opt_einsum's greedy
** strategy does, the pair whose result is smallest relative to its inputs
** (size(result) - size(a) - size(b)) is contracted next, pairs that share a
** label before outer products.  A plan depends only on the operands' labels and
** the extents, so the caller may keep one and reuse it (it is recomputed when
** the extents change).
**
** Each pairwise step maps onto an existing kernel (runtime/ops.h):
**  - a 2-d operand W[o, k] contracted over its last axis k against X[.., k]
**    (no other shared label) is tl_op_linear(X, W): any weight dtype, quantized
**    and mmapped weights included, bit-identical to the `linear` builtin;
**  - no shared summed label: broadcasting tl_op_binary(MUL) on views;
**  - otherwise the operands are permuted to [batch, M, K] and [batch, N, K]
**    (f32, contiguous) and each batch is one tl_op_linear of f32 rows;
**  - summed labels of one operand: tl_op_reduce(SUM).
** Nothing is interpreted per element.  Results are f32 (a single operand that
** needs no arithmetic keeps its dtype and may come back as a view: a transpose
** or a diagonal); like every op, byte-identical for any thread count. */
#ifndef TL_RUNTIME_CONTRACT_H
#define TL_RUNTIME_CONTRACT_H

#include "runtime/tensor.h"

#include <stdbool.h>
#include <stdint.h>

#define TL_CONTRACT_MAX_OPS    16 /* operands of one contraction            */
#define TL_CONTRACT_MAX_LABELS 32 /* labels are 0 .. TL_CONTRACT_MAX_LABELS-1 */

typedef struct tl_contract_spec {
    int n_ops;
    int n_dims[TL_CONTRACT_MAX_OPS];
    int labels[TL_CONTRACT_MAX_OPS][TL_MAX_DIMS];
    int n_out;
    int out[TL_MAX_DIMS];
} tl_contract_spec;

/* One pairwise step: operands a and b of the working list (the inputs first,
** each step's result appended) are replaced by their contraction. */
typedef struct tl_contract_step {
    int8_t a, b;
} tl_contract_step;

typedef struct tl_contract_plan {
    bool valid;
    int n_steps;
    tl_contract_step steps[TL_CONTRACT_MAX_OPS];
    int64_t extent[TL_CONTRACT_MAX_LABELS]; /* the extents the plan was made for (-1: unused) */
    int n_ops;                              /* and the operands' label sets */
    uint32_t op_labels[TL_CONTRACT_MAX_OPS];
    uint32_t used_kernels; /* bit set of TL_CONTRACT_K_* seen by the last run */
} tl_contract_plan;

/* Kernels a run used (tl_contract_plan.used_kernels), for tests and traces. */
enum {
    TL_CONTRACT_K_LINEAR = 1,    /* tl_op_linear against a 2-d weight           */
    TL_CONTRACT_K_BATCHED = 2,   /* the batched f32 kernel (contract_bmm.h)     */
    TL_CONTRACT_K_BROADCAST = 4, /* broadcasting multiply                      */
    TL_CONTRACT_K_REDUCE = 8,    /* a sum over axes of one operand              */
};

/* Contracts ops by spec.  plan may be NULL; when given, it is (re)made when it is
** not valid for these extents, and reused otherwise.  Errors: an extent
** mismatch names both labels' operands by position ("operand 0 axis 1 has 3,
** operand 1 axis 0 has 4 for label 2"), an out label that no operand has, a
** quantized operand that is not contracted as a weight. */
tl_status tl_contract(const tl_contract_spec *spec, const tl_tensor *const *ops,
                      tl_contract_plan *plan, tl_tensor **out);

/* The planning step alone: fills plan for these label sets and extents
** (extent[label] for every label used).  Exposed for tests and for callers that
** want to print a plan. */
void tl_contract_make_plan(const tl_contract_spec *spec, const int64_t *extent,
                           tl_contract_plan *plan);

#endif
