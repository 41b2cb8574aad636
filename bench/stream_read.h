/* bench/stream_read.h -- one timed pass of THREADS threads reading a buffer, each
** its own contiguous part: the memory's streaming rate, the ceiling of one-token
** generation (bench_bandwidth prints it; bench_forward_c measures it between
** its rounds).  Header-only: each bench is its own program. */
#ifndef TL_BENCH_STREAM_READ_H
#define TL_BENCH_STREAM_READ_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define STREAM_MAX_THREADS 64

typedef struct stream_part {
    const uint64_t *p;
    size_t n; /* words, a multiple of 16 */
    uint64_t sum;
    double cpu; /* the thread's CPU seconds */
} stream_part;

static inline double stream_clock(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
/* 128 bytes per step in four 32-byte loads (AVX2: scalar loads would make the
** loop, not the memory, the limit) */
__attribute__((target("avx2"))) static void *stream_read_part(void *arg) {
    stream_part *w = arg;
    double c0 = stream_clock(CLOCK_THREAD_CPUTIME_ID);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    const __m256i *v = (const __m256i *)w->p;
    for (size_t i = 0; i + 4 <= w->n / 4; i += 4) {
        s0 = _mm256_add_epi64(s0, _mm256_load_si256(v + i));
        s1 = _mm256_add_epi64(s1, _mm256_load_si256(v + i + 1));
        s2 = _mm256_add_epi64(s2, _mm256_load_si256(v + i + 2));
        s3 = _mm256_add_epi64(s3, _mm256_load_si256(v + i + 3));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes,
                        _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
    w->sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    w->cpu = stream_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}
#else
static void *stream_read_part(void *arg) {
    stream_part *w = arg;
    double c0 = stream_clock(CLOCK_THREAD_CPUTIME_ID);
    uint64_t s[4] = {0};
    for (size_t i = 0; i + 4 <= w->n; i += 4)
        for (int k = 0; k < 4; k++)
            s[k] += w->p[i + k];
    w->sum = s[0] + s[1] + s[2] + s[3];
    w->cpu = stream_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}
#endif

/* One pass over the first threads * per words of buf (32-byte aligned), `per`
** words a thread; returns GB/s by the wall clock, or by the slowest thread's CPU
** time when use_cpu; adds the checksum to *total. */
static inline double stream_read_pass(const uint64_t *buf, size_t per, int threads, int use_cpu,
                                      uint64_t *total) {
    stream_part parts[STREAM_MAX_THREADS];
    pthread_t tid[STREAM_MAX_THREADS];
    double t0 = stream_clock(CLOCK_MONOTONIC);
    for (int t = 0; t < threads; t++) {
        parts[t] = (stream_part){buf + (size_t)t * per, per, 0, 0};
        pthread_create(&tid[t], NULL, stream_read_part, &parts[t]);
    }
    double cpu = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        *total += parts[t].sum;
        cpu = parts[t].cpu > cpu ? parts[t].cpu : cpu;
    }
    double secs = use_cpu ? cpu : stream_clock(CLOCK_MONOTONIC) - t0;
    return (double)(per * (size_t)threads * 8) / secs / 1e9;
}

#endif
