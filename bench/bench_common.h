/* bench/bench_common.h -- what the benchmarks share: the wall clock, a comparison
** for qsort, and the model benchmarks' command lines (one model path and "--name N"
** integer options or "--name" switches, in any order).  Header-only: each bench is
** its own program. */
#ifndef TL_BENCH_COMMON_H
#define TL_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort's comparison for doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench_opt {
    const char *name; /* "--threads" */
    int *value;       /* set to the next argument, or to 1 for a switch */
    int is_switch;
} bench_opt;

/* Fills the options and *model (the one argument not starting with '-') from
** argv; on anything else prints "usage: USAGE" and returns 2, else 0. */
static inline int bench_args(int argc, char **argv, const bench_opt *opts, int n_opts,
                             const char **model, const char *usage) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k = 0;
        while (k < n_opts && strcmp(a, opts[k].name) != 0)
            k++;
        if (k < n_opts && opts[k].is_switch)
            *opts[k].value = 1;
        else if (k < n_opts && i + 1 < argc)
            *opts[k].value = atoi(argv[++i]);
        else if (k == n_opts && a[0] != '-' && !*model)
            *model = a;
        else {
            fprintf(stderr, "usage: %s\n", usage);
            return 2;
        }
    }
    return 0;
}

#endif
