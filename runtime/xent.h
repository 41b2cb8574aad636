/* runtime/xent.h -- cross-entropy of logit rows against integer targets, fused.
**
** The loss and its gradient without materialising log_softmax / softmax copies of
** the [rows, C] logits (for a 32000-token vocabulary those copies cost more than the
** arithmetic).  The arithmetic is exactly tl_op_log_softmax's / tl_op_softmax's per
** row (max, double sum of expf, f32 results), so the values are bit-identical to the
** unfused form.  Rows are split over the thread pool; the loss is summed in row order. */
#ifndef TL_RUNTIME_XENT_H
#define TL_RUNTIME_XENT_H

#include "runtime/status.h"
#include "runtime/tensor.h"

/* *loss = mean over rows i of -log_softmax(z[i])[t[i]]; z [.., C] float, t int64
** contiguous with one target per row (each in 0..C-1, else an error). */
tl_status tl_op_cross_entropy(const tl_tensor *z, const tl_tensor *t, double *loss);

/* *dz = (softmax(z) - onehot(t)) * scale, an f32 tensor of z's shape. */
tl_status tl_op_cross_entropy_grad(const tl_tensor *z, const tl_tensor *t, float scale,
                                   tl_tensor **dz);

#endif
