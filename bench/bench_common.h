/* bench/bench_common.h -- what the benchmarks share: the wall clock, a comparison
** for qsort, the model benchmarks' command lines (one model path and "--name N"
** integer options or "--name" switches, in any order) and their --profile table.  Header-only: each
*bench is
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

/* The --profile table: per op kind, the time per step (prof[k] seconds over
** steps steps) and its share of secs, then what no kind holds ("the rest"). */
static inline void bench_print_profile(const char *const *names, const double *prof, int n,
                                       int width, int steps, double secs) {
    double sum = 0;
    for (int k = 0; k < n; k++) {
        printf("  %-*s %7.3f ms  %5.1f%%\n", width, names[k], 1e3 * prof[k] / steps,
               100 * prof[k] / secs);
        sum += prof[k];
    }
    printf("  %-*s %7.3f ms  %5.1f%%\n", width, "the rest (frees, argmax, C glue)",
           1e3 * (secs - sum) / steps, 100 * (secs - sum) / secs);
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
