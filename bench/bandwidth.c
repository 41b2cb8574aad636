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
#include "stream_read.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS STREAM_MAX_THREADS
#define PASSES      7

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
        gbs[pass] = stream_read_pass(buf, per, threads, use_cpu, &total);
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
