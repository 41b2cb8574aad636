/* bench/bandwidth.c -- how fast this machine streams memory: the ceiling for
** one-token generation, which reads every weight once per token.
**
**   build/bench/bench_bandwidth [THREADS] [FILE | --huge]
**
** Reads a 600 MiB buffer (about one token's weights) with THREADS threads, each
** its own contiguous half/third/..., summing 32-byte vectors; or, with FILE,
** the file through a read-only mapping (the page cache, as tl reads a model);
** with --huge, a buffer advised for 2 MiB pages (as tl's weights after the
** background move, runtime/gguf_migrate.c).
** Prints GB/s for 7 passes (the first warms up) and the median of the rest.
** TL_BENCH_CPU=1 divides by the slowest thread's CPU time instead of the wall
** clock (a loaded machine: time slices taken by other processes left out). */
#include <fcntl.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define PASSES      7

typedef struct part {
    const uint64_t *p;
    size_t n; /* words */
    uint64_t sum;
    double cpu; /* the thread's CPU seconds */
} part;

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* 128 bytes per step in four 32-byte loads (AVX2: scalar loads would make the
** loop, not the memory, the limit) */
__attribute__((target("avx2"))) static void *read_part(void *arg) {
    part *w = arg;
    double c0 = cpu_now();
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
    w->cpu = cpu_now() - c0;
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "bench_bandwidth: threads must be 1..%d\n", MAX_THREADS);
        return 2;
    }
    size_t bytes = (size_t)600 << 20;
    const uint64_t *buf;
    void *mapped = NULL;
    int huge = argc > 2 && strcmp(argv[2], "--huge") == 0;
    const char *cpu_env = getenv("TL_BENCH_CPU");
    int use_cpu = cpu_env && *cpu_env && strcmp(cpu_env, "0") != 0;
    if (argc > 2 && !huge) {
        int fd = open(argv[2], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 4096) {
            fprintf(stderr, "bench_bandwidth: cannot read %s\n", argv[2]);
            return 1;
        }
        bytes = (size_t)st.st_size & ~(size_t)4095;
        mapped = mmap(NULL, bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
        close(fd);
        if (mapped == MAP_FAILED) {
            perror("bench_bandwidth: mmap");
            return 1;
        }
        buf = mapped;
    } else {
        uint64_t *b = aligned_alloc((size_t)2 << 20, bytes);
        if (!b) {
            fprintf(stderr, "bench_bandwidth: out of memory\n");
            return 1;
        }
        if (huge) madvise(b, bytes, MADV_HUGEPAGE);
        memset(b, 1, bytes);
        buf = b;
    }
    size_t words = bytes / 8, per = words / (size_t)threads / 16 * 16; /* whole 128-byte steps */
    double gbs[PASSES];
    uint64_t total = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        part parts[MAX_THREADS];
        pthread_t tid[MAX_THREADS];
        double t0 = now();
        for (int t = 0; t < threads; t++) {
            parts[t] = (part){buf + (size_t)t * per, per, 0, 0};
            pthread_create(&tid[t], NULL, read_part, &parts[t]);
        }
        double cpu = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            total += parts[t].sum;
            cpu = parts[t].cpu > cpu ? parts[t].cpu : cpu;
        }
        double secs = use_cpu ? cpu : now() - t0;
        gbs[pass] = (double)(per * (size_t)threads * 8) / secs / 1e9;
        printf("pass %d: %.1f GB/s\n", pass, gbs[pass]);
    }
    qsort(gbs + 1, PASSES - 1, sizeof gbs[0], cmp_double);
    printf("%d thread(s), %s%s: median %.1f GB/s (checksum %llu)\n", threads,
           mapped ? "mapped file"
           : huge ? "anonymous buffer, 2 MiB pages"
                  : "anonymous buffer",
           use_cpu ? ", by CPU time" : "", (gbs[PASSES / 2] + gbs[PASSES / 2 + 1]) / 2,
           (unsigned long long)total);
    if (mapped)
        munmap(mapped, bytes);
    else
        free((void *)buf);
    return 0;
}
