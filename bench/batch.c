/* bench/batch.c -- a batch of sequences against one sequence, through the stdlib
** (stdlib/llama.tl: forward, forward_batch_last); never run by ctest.
**
**   build/bench/bench_batch MODEL.gguf [--threads N] [--seqs 8] [--pp 64] [--tg 16]
**                           [--reps 3]
**
** Runs bench/batch_bench.tl through the interpreter and times each
** tl_interp_eval_string() call from C, in wall time and in the process's CPU
** time (all threads; at --threads 1 that is the work itself, unaffected by other
** processes taking the core), after one untimed warm-up round, rounds interleaved:
**   tg1       TG greedy forward() steps of one sequence (after a 16-token prompt)
**   tgB       TG greedy steps of SEQS sequences at once (forward_batch_last, one
**             token each; after SEQS different 16-token prompts): SEQS x TG tokens
**   ppL       one prompt of SEQS x PP tokens through forward(), last logits only
**   ppBxPP    SEQS different PP-token prompts in one forward_batch_last step
** and prints each median with min / max, the aggregate ratios tgB / tg1 and
** ppBxPP / ppL (wall and CPU), and the load average. */
#include "lang/eval.h"
#include "runtime/shadow.h"
#include "runtime/threadpool.h"

#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef TL_BENCH_DIR
#define TL_BENCH_DIR "bench"
#endif

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct timing {
    double wall, cpu;
} timing;

/* Runs src; on error prints it and exits (a bench, not a library). */
static timing run(tl_interp *I, const char *src) {
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (tl_interp_eval_string(I, src, strlen(src), "<bench>", NULL) != TL_OK) {
        fprintf(stderr, "bench_batch: %s\n", tl_interp_error(I));
        exit(1);
    }
    return (timing){clock_s(CLOCK_MONOTONIC) - w0, clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0};
}

/* min, median, max of n values (sorted in place) */
static void stats(double *v, int n, double out[3]) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    out[0] = v[0];
    out[1] = v[n / 2];
    out[2] = v[n - 1];
}

enum { TG1, TGB, PPL, PPB, N_CASES };

int main(int argc, char **argv) {
    const char *model = NULL;
    int threads = 0, seqs = 8, pp = 64, tg = 16, reps = 3;
    const bench_opt opts[] = {{"--threads", &threads, 0},
                              {"--seqs", &seqs, 0},
                              {"--pp", &pp, 0},
                              {"--tg", &tg, 0},
                              {"--reps", &reps, 0}};
    if (bench_args(argc, argv, opts, 5, &model,
                   "bench_batch MODEL.gguf [--threads N] [--seqs N] [--pp N] [--tg N] [--reps N]"))
        return 2;
    if (!model || seqs < 1 || seqs > 64 || pp < 1 || tg < 1 || reps < 1 || reps > 100) {
        fprintf(stderr, "bench_batch: give MODEL.gguf, 1 <= seqs <= 64, pp >= 1, tg >= 1, "
                        "1 <= reps <= 100\n");
        return 2;
    }
    if (threads > 0 && tl_threadpool_set_threads(threads) != TL_OK) {
        fprintf(stderr, "bench_batch: %s\n", tl_last_error());
        return 2;
    }
    threads = tl_threadpool_threads();

    tl_interp *I = tl_interp_new();
    char src[1024], tg1[256], tgb[256], ppl[256], ppb[256];
    const char *tg1_setup = "main {\nc1.clear()\nt1 = single_prefill(lm, c1, short[0])\n}\n";
    run(I, "import \"" TL_BENCH_DIR "/batch_bench.tl\"\n");
    snprintf(src, sizeof src,
             "main {\nlet lm = llama_load(\"%s\")\nlet V = lm.cfg.n_vocab\n"
             "let short = []\nlet prompts = []\n"
             "for i in range(%d) {\nshort.push(batch_prompt(16, V, i))\n"
             "prompts.push(batch_prompt(%d, V, 100 + i))\n}\n"
             "let long = batch_prompt(%d, V, 7)\nlet t1 = 0\nlet tb = []\n"
             "let c1 = llama_cache(lm)\nlet kb = llama_batch_cache(lm, %d)\n"
             "let cl = llama_cache(lm)\nlet kp = llama_batch_cache(lm, %d)\n}\n",
             model, seqs, pp, seqs * pp, seqs, seqs);
    run(I, src);
    snprintf(tg1, sizeof tg1, "main {\nt1 = single_generate(lm, c1, t1, %d)\n}\n", tg);
    const char *tgb_setup = "main {\nkb.clear()\ntb = batch_prefill(lm, kb, short)\n}\n";
    snprintf(tgb, sizeof tgb, "main {\ntb = batch_generate(lm, kb, tb, %d)\n}\n", tg);
    snprintf(ppl, sizeof ppl, "main {\ncl.clear()\nt1 = single_prefill(lm, cl, long)\n}\n");
    snprintf(ppb, sizeof ppb, "main {\nkp.clear()\ntb = batch_prefill(lm, kp, prompts)\n}\n");

    double tok[N_CASES] = {tg, (double)seqs * tg, (double)seqs * pp, (double)seqs * pp};
    double wall[N_CASES][100], cpu[N_CASES][100];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        timing t[N_CASES];
        run(I, tg1_setup);
        t[TG1] = run(I, tg1);
        run(I, tgb_setup);
        t[TGB] = run(I, tgb);
        t[PPL] = run(I, ppl);
        t[PPB] = run(I, ppb);
        for (int c = 0; r >= 0 && c < N_CASES; c++) {
            wall[c][r] = tok[c] / t[c].wall;
            cpu[c][r] = tok[c] / t[c].cpu;
        }
        if (r < 0) tl_shadow_wait(); /* the weights' shadows, asked for by the warm-up */
    }
    double load[3] = {0};
    if (getloadavg(load, 3) < 0) load[0] = -1;
    static const char *names[N_CASES] = {"tg1", "tgB", "ppL", "ppBxPP"};
    double wm[N_CASES], cm[N_CASES];
    printf("bench_batch %s threads=%d seqs=%d pp=%d tg=%d reps=%d load=%.1f %.1f %.1f\n", model,
           threads, seqs, pp, tg, reps, load[0], load[1], load[2]);
    for (int c = 0; c < N_CASES; c++) {
        double w[3], u[3];
        stats(wall[c], reps, w);
        stats(cpu[c], reps, u);
        wm[c] = w[1];
        cm[c] = u[1];
        printf("  %-7s %6.0f tokens: wall %8.2f tok/s (%.2f-%.2f)   cpu %8.2f tok/s (%.2f-%.2f)\n",
               names[c], tok[c], w[1], w[0], w[2], u[1], u[0], u[2]);
    }
    printf("  aggregate generation %d seqs / 1 seq: wall %.2fx  cpu %.2fx\n", seqs,
           wm[TGB] / wm[TG1], cm[TGB] / cm[TG1]);
    printf("  prompts %d x %d / one %d-token prompt: wall %.2fx  cpu %.2fx\n", seqs, pp, seqs * pp,
           wm[PPB] / wm[PPL], cm[PPB] / cm[PPL]);
    tl_interp_free(I);
    tl_threadpool_shutdown();
    return 0;
}
