/* runtime/sample.h -- picking a token id from logits.
**
** logits: a 1-d tensor [V], or [.., V] in which case the last row is used
** (that is how the scripts pass [S, V] logits).  Any plain float or int dtype.
**
** greedy: the first index of the maximum (llama.cpp's greedy sampler).
** Random samplers follow llama.cpp's chain order: the filter (top-k, top-p or
** min-p, judged on softmax(logits) at temperature 1) first, then logits / T,
** then a draw.  The draw: candidates sorted by logit, descending (ties: lower
** id first); p_i = exp((l_i - l_max) / T) in double; u = uniform * sum; the
** first candidate whose running sum exceeds u (the last one if rounding leaves
** u uncovered).  T <= 1e-4 (the original's threshold) means greedy over the kept
** candidates. */
#ifndef TL_RUNTIME_SAMPLE_H
#define TL_RUNTIME_SAMPLE_H

#include "runtime/random.h"
#include "runtime/tensor.h"

/* The id of the largest logit (the first on ties); NaN logits never win, and
** all-NaN logits are an error ("every logit is NaN"), as for the samplers. */
tl_status tl_sample_greedy(const tl_tensor *logits, int64_t *id);
tl_status tl_sample_temperature(const tl_tensor *logits, float temp, tl_rng *rng, int64_t *id);
/* Keeps the k most likely (k <= 0 or k >= V: all). */
tl_status tl_sample_top_k(const tl_tensor *logits, int64_t k, float temp, tl_rng *rng, int64_t *id);
/* Keeps the smallest prefix (by probability) whose mass reaches p (at least one). */
tl_status tl_sample_top_p(const tl_tensor *logits, float p, float temp, tl_rng *rng, int64_t *id);
/* Keeps candidates with probability >= p * (the largest probability). */
tl_status tl_sample_min_p(const tl_tensor *logits, float p, float temp, tl_rng *rng, int64_t *id);

#endif
