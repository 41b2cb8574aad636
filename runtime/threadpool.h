/* runtime/threadpool.h -- the persistent worker pool behind the heavy ops.
**
** One process-wide pool of pthread workers.  tl_parallel_for(n, fn, ctx)
** cuts [0, n) into up to 4 contiguous chunks per thread (chunk c is
** [n*c/C, n*(c+1)/C)), which the caller and the workers take from a shared
** counter (a descheduled thread leaves its share to the others), and waits for
** all of them: one barrier per call.  Work items must be independent and each
** must write only its own outputs, so results never depend on the thread
** count or on which thread ran a chunk (no float reduction crosses a chunk
** boundary).  tl_parallel_for_steal() instead gives each thread a contiguous
** region that it takes a few items at a time, and lets threads that run out
** take from the backs of the others' regions.
**
** Thread count: the current context's (runtime/context.h: an interpreter's own
** setting) when it has one, else the process default: tl_threadpool_set_threads()
** (the CLI's --threads), else the TL_THREADS environment variable, else the number
** of online cores.  The workers are shared: a context that asks for more threads
** than were started restarts them with more; one that asks for fewer leaves the
** rest idle.  Calls
** made from inside a parallel region run serially on the calling thread.
** Workers spin between jobs and sleep on a condition variable only after a
** while idle; the caller spins for their acknowledgements the same way. */
#ifndef TL_RUNTIME_THREADPOOL_H
#define TL_RUNTIME_THREADPOOL_H

#include "runtime/status.h"

#include <stdint.h>

/* Runs fn(ctx, begin, end) over a partition of [0, n). */
typedef void (*tl_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Sets the process default number of threads (1..256, including the caller);
** restarts the pool. */
tl_status tl_threadpool_set_threads(int n);

/* The thread count the calling thread's ops use: its context's, else the
** process default (decided lazily). */
int tl_threadpool_threads(void);

/* Splits [0, n) statically over the pool; items below min_chunk per thread
** are not worth a thread, so fewer threads are used (the split stays fixed for
** a given n and thread count).  fn runs on the caller for chunk 0. */
void tl_parallel_for(int64_t n, int64_t min_chunk, tl_range_fn fn, void *ctx);

/* The same with chunks_per_thread chunks per thread instead of 4.  Streaming
** ops whose chunks each pay a start-up cost use 1: a one-token matmul reads
** its weights as one sequential stream per thread and must not restart it
** (measured on the TinyLlama-shaped model at 2 threads: 4 chunks 40.0 tok/s,
** 2 chunks 40.5, 1 chunk 41.2; 16 chunks 37.3).  Compute-bound ops keep 4:
** uneven items (causal attention, a prompt's tiles) balance out. */
void tl_parallel_for_split(int64_t n, int64_t min_chunk, int chunks_per_thread, tl_range_fn fn,
                           void *ctx);

/* The same over [0, n) with every thread taking `grain` items at a time from
** the front of its own contiguous region (n * t / threads ..), then from the
** backs of the others' until none is left: each thread reads its region as one
** forward stream, and the threads end within about one grain of each other
** (fixed chunks end within half a chunk).  For compute-bound ops whose items
** cost about the same; items below grain per thread use fewer threads. */
void tl_parallel_for_steal(int64_t n, int64_t grain, tl_range_fn fn, void *ctx);

/* Stops and joins the workers (they restart on the next parallel call).  Also
** registered with atexit when the workers first start. */
void tl_threadpool_shutdown(void);

#endif
