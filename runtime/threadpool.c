/* runtime/threadpool.c -- persistent spinning pthread workers, chunked split, one barrier. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include "runtime/threadpool.h"

#include "runtime/context.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define SPIN_ITERS 20000

/* One pause in a spin-wait loop. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
#define CHUNKS_PER_THREAD 4

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done_cv;
    pthread_t tids[TL_MAX_THREADS];
    int n_workers;   /* started workers (threads - 1)                 */
    int n_threads;   /* configured thread count, 0 = not decided yet  */
    int started_for; /* the thread count the workers were started for */
    /* the current job */
    uint64_t generation; /* bumped for each job (atomic reads while spinning) */
    int active;          /* threads that may take chunks (<= n_threads)   */
    int64_t n;
    int64_t nchunks; /* the job's chunks                               */
    uint64_t work;   /* (generation << 32) | chunks not taken yet        */
    int64_t done;    /* chunks finished                                 */
    tl_range_fn fn;
    void *ctx;
    bool stop;
    uint64_t start_generation; /* generation when the workers were started */
    /* a stealing job (tl_parallel_for_steal): n items, regions of grain-sized claims */
    bool steal;
    int64_t grain;
} pool;

/* A stealing job's region of thread t: (generation << 40) | (back << 20) | front,
** items [front, back) left; the owner claims from the front, the others from
** the back.  One cache line each.  The generation keeps its low 24 bits: a
** worker would have to sleep through 2^24 jobs to mistake one for another. */
#define STEAL_BITS 20
#define STEAL_MASK ((uint64_t)(1u << STEAL_BITS) - 1)
typedef struct steal_region {
    _Alignas(64) uint64_t word;
} steal_region;
static steal_region regions[TL_MAX_THREADS];

static pool P = {.mu = PTHREAD_MUTEX_INITIALIZER,
                 .wake = PTHREAD_COND_INITIALIZER,
                 .done_cv = PTHREAD_COND_INITIALIZER};
static __thread bool in_parallel;
/* Serialises whole parallel regions started from different threads. */
static pthread_mutex_t region_mu = PTHREAD_MUTEX_INITIALIZER;

static int default_threads(void) {
    const char *env = getenv("TL_THREADS");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v >= 1 && v <= TL_MAX_THREADS) return (int)v;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    if (c < 1) c = 1;
    if (c > TL_MAX_THREADS) c = TL_MAX_THREADS;
    return (int)c;
}

/* Takes chunks of job `gen` until none is left.  A claim is a CAS on
** P.work that also checks the job's generation, so a thread that wakes late
** never takes a chunk of a newer job; the job's fields are read only after a
** successful claim (the job cannot end while one of its chunks is claimed and
** not done).  A descheduled thread (a shared VM) leaves its share to the
** others.  Which thread runs a chunk never changes its outputs. */
static void run_chunks(uint32_t gen) {
    uint64_t v = __atomic_load_n(&P.work, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t left = v & 0xffffffffu;
        if ((uint32_t)(v >> 32) != gen || left == 0) return;
        if (!__atomic_compare_exchange_n(&P.work, &v, v - 1, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue; /* v was reloaded */
        int64_t nchunks = P.nchunks, n = P.n, c = nchunks - (int64_t)left;
        int64_t b = n * c / nchunks, e = n * (c + 1) / nchunks;
        if (b < e) P.fn(P.ctx, b, e);
        if (__atomic_add_fetch(&P.done, 1, __ATOMIC_ACQ_REL) == nchunks) {
            pthread_mutex_lock(&P.mu);
            pthread_cond_signal(&P.done_cv);
            pthread_mutex_unlock(&P.mu);
        }
        v = __atomic_load_n(&P.work, __ATOMIC_ACQUIRE);
    }
}

/* Claims up to `grain` items of region r for job gen: from the front (own) or
** the back; [*b, *e) on success. */
static bool steal_claim(int r, uint32_t gen, bool own, int64_t grain, int64_t *b, int64_t *e) {
    uint64_t v = __atomic_load_n(&regions[r].word, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((uint32_t)(v >> (2 * STEAL_BITS)) != (gen & 0xffffffu)) return false;
        int64_t f = (int64_t)(v & STEAL_MASK), k = (int64_t)((v >> STEAL_BITS) & STEAL_MASK);
        if (f >= k) return false;
        int64_t take = k - f < grain ? k - f : grain;
        uint64_t nv = own ? v + (uint64_t)take : v - ((uint64_t)take << STEAL_BITS);
        if (__atomic_compare_exchange_n(&regions[r].word, &v, nv, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            *b = own ? f : k - take;
            *e = own ? f + take : k;
            return true;
        }
    }
}

/* Thread t's share of stealing job gen: its own region from the front, then
** the others' from their backs, until no region has items left. */
static void run_steal(uint32_t gen, int t, int active) {
    int64_t b, e, mine = 0; /* counted once at the end: the done line is shared */
    for (int i = 0; i < active; i++) {
        int r = (t + i) % active;
        while (steal_claim(r, gen, i == 0, P.grain, &b, &e)) {
            P.fn(P.ctx, b, e);
            mine += e - b;
        }
    }
    if (mine > 0 && __atomic_add_fetch(&P.done, mine, __ATOMIC_ACQ_REL) == P.n) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_signal(&P.done_cv);
        pthread_mutex_unlock(&P.mu);
    }
}

/* Workers spin on the generation counter (a hand-off costs ~0.1-0.5 us) and
** only sleep on the condition variable after SPIN_ITERS idle pauses. */
static void *worker_main(void *arg) {
    int idx = (int)(intptr_t)arg; /* 1..n_workers */
    in_parallel = true;
#ifdef __GLIBC__
    pthread_setname_np(pthread_self(), "tl-worker"); /* shows in top and perf */
#endif
    pthread_mutex_lock(&P.mu);
    uint64_t seen = P.start_generation; /* jobs posted after this one are ours */
    pthread_mutex_unlock(&P.mu);
    for (;;) {
        uint64_t g = seen;
        for (int s = 0; s < SPIN_ITERS; s++) {
            g = __atomic_load_n(&P.generation, __ATOMIC_ACQUIRE);
            if (g != seen || __atomic_load_n(&P.stop, __ATOMIC_ACQUIRE)) break;
            cpu_relax();
        }
        if (g == seen) {
            pthread_mutex_lock(&P.mu);
            while (P.generation == seen && !P.stop)
                pthread_cond_wait(&P.wake, &P.mu);
            g = P.generation;
            pthread_mutex_unlock(&P.mu);
        }
        if (__atomic_load_n(&P.stop, __ATOMIC_ACQUIRE)) break;
        seen = g;
        int active = __atomic_load_n(&P.active, __ATOMIC_ACQUIRE);
        if (idx < active) {
            if (__atomic_load_n(&P.steal, __ATOMIC_ACQUIRE))
                run_steal((uint32_t)g, idx, active);
            else
                run_chunks((uint32_t)g);
        }
    }
    return NULL;
}

/* Called with P.mu held. */
static void stop_workers_locked(void) {
    if (P.n_workers == 0) return;
    __atomic_store_n(&P.stop, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&P.wake);
    int nw = P.n_workers;
    pthread_mutex_unlock(&P.mu);
    for (int i = 0; i < nw; i++)
        pthread_join(P.tids[i], NULL);
    pthread_mutex_lock(&P.mu);
    P.n_workers = 0;
    P.stop = false;
}

static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;
static void register_atexit(void) {
    atexit(tl_threadpool_shutdown);
}

/* Called with P.mu held; starts threads - 1 workers (fewer if creation fails).
** The first start registers tl_threadpool_shutdown with atexit, so programs
** exit with their workers joined (valgrind sees no thread stacks). */
static void start_workers_locked(int threads) {
    pthread_once(&atexit_once, register_atexit);
    int want = threads - 1;
    P.started_for = threads;
    P.start_generation = P.generation;
    for (int i = 0; i < want; i++) {
        if (pthread_create(&P.tids[i], NULL, worker_main, (void *)(intptr_t)(i + 1)) != 0) break;
        P.n_workers++;
    }
}

tl_status tl_threadpool_set_threads(int n) {
    if (n < 1 || n > TL_MAX_THREADS)
        return tl_fail(TL_ERR_ARG, "threads: %d is out of range (1..%d)", n, TL_MAX_THREADS);
    pthread_mutex_lock(&region_mu);
    pthread_mutex_lock(&P.mu);
    stop_workers_locked();
    P.n_threads = n;
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&region_mu);
    return TL_OK;
}

int tl_threadpool_threads(void) {
    int own = tl_context_current()->threads;
    if (own > 0) return own;
    pthread_mutex_lock(&P.mu);
    if (P.n_threads == 0) P.n_threads = default_threads();
    int n = P.n_threads;
    pthread_mutex_unlock(&P.mu);
    return n;
}

void tl_threadpool_shutdown(void) {
    pthread_mutex_lock(&region_mu);
    pthread_mutex_lock(&P.mu);
    stop_workers_locked();
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&region_mu);
}

void tl_parallel_for(int64_t n, int64_t min_chunk, tl_range_fn fn, void *ctx) {
    tl_parallel_for_split(n, min_chunk, CHUNKS_PER_THREAD, fn, ctx);
}

static void parallel_run(int64_t n, int64_t min_chunk, int chunks_per_thread, int64_t grain,
                         tl_range_fn fn, void *ctx);

void tl_parallel_for_split(int64_t n, int64_t min_chunk, int chunks_per_thread, tl_range_fn fn,
                           void *ctx) {
    parallel_run(n, min_chunk, chunks_per_thread, 0, fn, ctx);
}

void tl_parallel_for_steal(int64_t n, int64_t grain, tl_range_fn fn, void *ctx) {
    if (grain < 1) grain = 1;
    if (n >= (int64_t)STEAL_MASK) /* too many items for a region word: chunks instead */
        parallel_run(n, grain, CHUNKS_PER_THREAD, 0, fn, ctx);
    else
        parallel_run(n, grain, 1, grain, fn, ctx);
}

/* grain > 0: a stealing job (one region a thread), else chunks_per_thread
** chunks a thread. */
static void parallel_run(int64_t n, int64_t min_chunk, int chunks_per_thread, int64_t grain,
                         tl_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (chunks_per_thread < 1) chunks_per_thread = 1;
    if (in_parallel) {
        fn(ctx, 0, n);
        return;
    }
    int threads = tl_threadpool_threads();
    if (min_chunk < 1) min_chunk = 1;
    int64_t useful = n / min_chunk;
    int active = useful < threads ? (int)(useful < 1 ? 1 : useful) : threads;
    if (active <= 1) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&region_mu);
    pthread_mutex_lock(&P.mu);
    if (P.n_workers > 0 && threads > P.started_for)
        stop_workers_locked(); /* a context wants more */
    if (P.n_workers == 0) start_workers_locked(threads);
    if (active > P.n_workers + 1) active = P.n_workers + 1;
    int64_t nchunks =
        useful < (int64_t)active * chunks_per_thread ? useful : (int64_t)active * chunks_per_thread;
    uint32_t gen = (uint32_t)(P.generation + 1);
    __atomic_store_n(&P.active, active, __ATOMIC_RELAXED);
    P.n = n;
    P.nchunks = nchunks;
    P.fn = fn;
    P.ctx = ctx;
    P.grain = grain;
    __atomic_store_n(&P.steal, grain > 0, __ATOMIC_RELAXED);
    __atomic_store_n(&P.done, 0, __ATOMIC_RELAXED);
    int64_t done_at = grain > 0 ? n : nchunks; /* items or chunks */
    if (grain > 0) {
        __atomic_store_n(&P.work, (uint64_t)gen << 32, __ATOMIC_RELEASE); /* no chunks */
        for (int t = 0; t < active; t++)
            __atomic_store_n(&regions[t].word,
                             (uint64_t)(gen & 0xffffffu) << (2 * STEAL_BITS) |
                                 (uint64_t)(n * (t + 1) / active) << STEAL_BITS |
                                 (uint64_t)(n * t / active),
                             __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&P.work, (uint64_t)gen << 32 | (uint64_t)nchunks, __ATOMIC_RELEASE);
    }
    __atomic_add_fetch(&P.generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&P.wake);
    pthread_mutex_unlock(&P.mu);

    in_parallel = true;
    if (grain > 0)
        run_steal(gen, 0, active);
    else
        run_chunks(gen);
    in_parallel = false;

    for (int s = 0; s < SPIN_ITERS; s++) {
        if (__atomic_load_n(&P.done, __ATOMIC_ACQUIRE) == done_at) break;
        cpu_relax();
    }
    if (__atomic_load_n(&P.done, __ATOMIC_ACQUIRE) != done_at) {
        pthread_mutex_lock(&P.mu);
        while (__atomic_load_n(&P.done, __ATOMIC_ACQUIRE) != done_at)
            pthread_cond_wait(&P.done_cv, &P.mu);
        pthread_mutex_unlock(&P.mu);
    }
    pthread_mutex_unlock(&region_mu);
}

/* Process-wide allocator tuning for the ops (glibc): outputs of up to 32 MiB
** (a [64, 32000] f32 logits block is 8 MiB) come from the heap instead of a
** fresh mmap each time, and up to 64 MiB of freed heap is kept for reuse, so
** a token's ops stop paying page faults and zeroing (13.9% -> 4.6% of a
** 64-token prompt's time in the kernel, measured with perf).  Peak RSS is
** unchanged: the same bytes are live at the peak.  Runs before main because
** every program that uses the ops links this file. */
#ifdef __GLIBC__
__attribute__((constructor)) static void tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}
#endif
