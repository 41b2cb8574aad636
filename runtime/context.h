/* runtime/context.h -- the runtime settings that belong to one interpreter.
**
** A tl_context holds what used to be process-wide: the matmul precision mode,
** the random generator behind rand/randn/dropout/sampling, and the number of
** threads the ops use.  Each thread has a current context: the one its caller
** entered with tl_context_enter(), else the process default.  An interpreter
** (lang/eval.c) owns one and enters it while it runs, so two interpreters on
** two threads never see each other's seed, precision or thread count.
**
** The ops read the current context on the calling thread, at the op's entry
** (never inside a worker of the thread pool), so a context needs no locking:
** it is used by one thread at a time. */
#ifndef TL_RUNTIME_CONTEXT_H
#define TL_RUNTIME_CONTEXT_H

#include "runtime/random.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum tl_precision {
    TL_PRECISION_LLAMA = 0, /* llama.cpp's defaults: activations rounded to the weight's
                               dot_type, and its float order per weight (the repacked
                               GEMV/GEMM orders for Q4_0/Q4_K/Q2_K, see runtime/quant.h) */
    TL_PRECISION_EXACT,     /* weight rows dequantized to f32, dot in double          */
    TL_PRECISION_LLAMA_ROW, /* as LLAMA, but every weight in the one-row vec_dot order
                               (llama.cpp run with --no-repack)                        */
} tl_precision;

typedef struct tl_context {
    tl_precision precision;
    tl_rng rng;
    bool rng_seeded; /* false: seeded on first use from TL_SEED, else 0x5eed */
    int threads;     /* 0: the process default (tl_threadpool_set_threads, TL_THREADS) */
} tl_context;

#include "runtime/status.h"

/* The most threads a pool or a context may use (including the caller). */
#define TL_MAX_THREADS 256

/* LLAMA precision, an unseeded generator, the default thread count. */
void tl_context_init(tl_context *c);

/* The calling thread's current context (never NULL). */
tl_context *tl_context_current(void);

/* Makes c (NULL: the process default) the calling thread's current context;
** returns the previous one (NULL when it was the default), to restore later. */
tl_context *tl_context_enter(tl_context *c);

/* Sets c's own thread count (1..TL_MAX_THREADS), or 0 for the process default. */
tl_status tl_context_set_threads(tl_context *c, int n);

/* The current context's precision mode (matmul, linear). */
void tl_set_precision(tl_precision p);
tl_precision tl_get_precision(void);

#endif
