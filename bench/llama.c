/* bench/llama.c -- prompt / generation speed of the stdlib forward pass (never run by ctest).
**
**   build/bench/bench_llama MODEL.gguf [--threads N] [--pp 64] [--tg 32] [--reps 3]
**       [--lens]   also time the logit lens over every layer x prompt position
**                           [--huge-pages] [--json]
**
** Runs the .tl workload in bench/llama_bench.tl through the interpreter (the
** stdlib forward pass, stdlib/llama.tl; no C shortcut) and times, from C around
** each tl_interp_eval_string() call:
**   load  llama_load(path) + llama_cache(lm)  (mmap, metadata, tokenizer)
**   pp    prefill_last: a fresh cache, PP prompt tokens, logits of the last one
**   tg    TG greedy one-token forward() calls after the PP-token prompt
** after one untimed warm-up round; reports min / median / max over REPS rounds
** and the peak RSS (VmHWM).  bench/llama_bench.sh alternates it with
** llama.cpp's own bench (the oracle) and prints the ratios. */
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

static double peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kib = atof(line + 6);
    fclose(f);
    return kib / 1024.0;
}

/* The calling thread's CPU seconds: with 1 thread, the time a run took
** without the slices other processes took (a loaded machine). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* MiB of this process's memory in 2 MiB pages (the weights after the
** background move, runtime/gguf_migrate.c, or with --huge-pages). */
static double huge_mib(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    double kib = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "AnonHugePages:", 14) == 0) kib = atof(line + 14);
    fclose(f);
    return kib / 1024.0;
}

static double last_cpu; /* CPU seconds of the last run() */

/* Runs src; on error prints it and exits (a bench, not a library). */
static double run(tl_interp *I, const char *src) {
    double t0 = bench_now(), c0 = cpu_now();
    if (tl_interp_eval_string(I, src, strlen(src), "<bench>", NULL) != TL_OK) {
        fprintf(stderr, "bench_llama: %s\n", tl_interp_error(I));
        exit(1);
    }
    last_cpu = cpu_now() - c0;
    return bench_now() - t0;
}

typedef struct stat3 {
    double min, median, max;
} stat3;

static stat3 stats(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return (stat3){v[0], v[n / 2], v[n - 1]};
}

int main(int argc, char **argv) {
    const char *model = NULL;
    int threads = 0, pp = 64, tg = 32, reps = 3, json = 0, lens = 0, huge_pages = 0;
    const bench_opt opts[] = {{"--threads", &threads, 0},
                              {"--pp", &pp, 0},
                              {"--tg", &tg, 0},
                              {"--reps", &reps, 0},
                              {"--json", &json, 1},
                              {"--lens", &lens, 1},
                              {"--huge-pages", &huge_pages, 1}};
    if (bench_args(argc, argv, opts, 7, &model,
                   "bench_llama MODEL.gguf [--threads N] [--pp N] [--tg N] [--reps N] "
                   "[--huge-pages] [--lens] [--json]"))
        return 2;
    if (huge_pages)
        setenv("TL_HUGE_PAGES", "1", 1); /* the weights in 2 MiB pages (runtime/gguf.h) */
    if (!model) model = getenv("TL_BENCH_MODEL");
    if (!model || pp < 1 || tg < 0 || reps < 1 || reps > 100) {
        fprintf(stderr,
                "bench_llama: give MODEL.gguf (or TL_BENCH_MODEL), pp >= 1, 1 <= reps <= 100\n");
        return 2;
    }
    if (threads > 0 && tl_threadpool_set_threads(threads) != TL_OK) {
        fprintf(stderr, "bench_llama: %s\n", tl_last_error());
        return 2;
    }
    threads = tl_threadpool_threads();

    tl_interp *I = tl_interp_new();
    char src[1024];
    run(I, "import \"" TL_BENCH_DIR "/llama_bench.tl\"\n");
    snprintf(src, sizeof src,
             "main {\nlet lm = llama_load(\"%s\")\nlet cache = llama_cache(lm)\n}\n", model);
    double load_s = run(I, src);
    snprintf(src, sizeof src,
             "main {\nlet ids = bench_prompt(%d, lm.cfg.n_vocab)\nlet last = 0\n}\n", pp);
    run(I, src);
    const char *pp_src = "main {\ncache.clear()\nlast = argmax(prefill_last(lm, cache, ids))\n}\n";
    snprintf(src, sizeof src, "main {\nlast = generate_n(lm, cache, last, %d)\n}\n", tg);

    /* The warm-up round right after load: its generation runs while the
    ** weights are still moving into huge pages (reported as tg_first). */
    run(I, pp_src); /* warm-up */
    double tg_first = tg ? tg / run(I, src) : 0;
    /* the weights' shadows (runtime/shadow.h), asked for by the warm-up, made in
    ** the background: the timed rounds start once they are all there */
    double t_shadow = bench_now();
    tl_shadow_wait();
    t_shadow = bench_now() - t_shadow;
    double pp_t[100], tg_t[100], tg_c[100], pp_c[100];
    for (int r = 0; r < reps; r++) {
        pp_t[r] = pp / run(I, pp_src);
        pp_c[r] = last_cpu;
        tg_t[r] = tg ? tg / run(I, src) : 0;
        tg_c[r] = tg ? tg / last_cpu : 0;
    }
    stat3 p = stats(pp_t, reps), g = stats(tg_t, reps), gc = stats(tg_c, reps);
    stat3 pc = stats(pp_c, reps); /* seconds */
    /* --lens: the logit lens over every layer x position of the prompt (the
    ** residuals from one forward_trace, not timed), against the prompt's time */
    double lens_s = 0, lens_k_s = 0, lens_c = 0, lens_k_c = 0;
    if (lens) {
        run(I, "main {\ncache.clear()\nlet tr = forward_trace(lm, cache, ids)\n}\n");
        const char *lsrc = "main {\nlast = lens_all(lm, tr)\n}\n";
        double lt[100], lc[100];
        run(I, lsrc); /* warm-up */
        for (int r = 0; r < reps; r++) {
            lt[r] = run(I, lsrc);
            lc[r] = last_cpu;
        }
        lens_s = stats(lt, reps).median;
        lens_c = stats(lc, reps).median;
        const char *ksrc = "main {\nlast = lens_all_topk(lm, tr)\n}\n";
        run(I, ksrc); /* warm-up */
        for (int r = 0; r < reps; r++) {
            lt[r] = run(I, ksrc);
            lc[r] = last_cpu;
        }
        lens_k_s = stats(lt, reps).median;
        lens_k_c = stats(lc, reps).median;
    }
    const char *hp = getenv("TL_HUGE_PAGES");
    const char *engine = hp && *hp && strcmp(hp, "0") != 0 ? "tl --huge-pages" : "tl";
    if (hp && strcmp(hp, "0") == 0) engine = "tl mapped";
    double rss = peak_rss_mib(), huge = huge_mib();
    if (json)
        printf("{\"engine\":\"%s\",\"threads\":%d,\"pp\":%d,\"tg\":%d,\"reps\":%d,\"load_s\":%.3f,"
               "\"pp_tok_s\":{\"min\":%.2f,\"median\":%.2f,\"max\":%.2f},"
               "\"tg_tok_s\":{\"min\":%.2f,\"median\":%.2f,\"max\":%.2f},\"rss_peak_mib\":%.1f,"
               "\"tg_first_tok_s\":%.2f,\"tg_cpu_tok_s\":%.2f,\"huge_mib\":%.0f,"
               "\"shadow_wait_s\":%.3f}\n",
               engine, threads, pp, tg, reps, load_s, p.min, p.median, p.max, g.min, g.median,
               g.max, rss, tg_first, gc.median, huge, t_shadow);
    else
        printf("%s threads=%d load=%.3f s\n  pp%d: min %.2f / median %.2f / max %.2f tok/s\n"
               "  tg%d after pp%d: min %.2f / median %.2f / max %.2f tok/s\n"
               "  tg%d right after load (warm-up): %.2f tok/s; by the calling thread's CPU time: "
               "%.2f tok/s\n  peak RSS %.1f MiB, in 2 MiB pages %.0f MiB\n",
               engine, threads, load_s, pp, p.min, p.median, p.max, tg, pp, g.min, g.median, g.max,
               tg, tg_first, gc.median, rss, huge);
    if (!json)
        printf("  pp%d by the calling thread's CPU time: %.2f tok/s (median)\n"
               "  weight shadows finished %.3f s after the warm-up round\n",
               pp, pp / pc.median, t_shadow);
    if (lens) {
        printf("%slens (every layer x %d positions): %.3f s = %.2f x the pp%d time\n",
               json ? "# " : "  ", pp, lens_s, lens_s / (pp / p.median), pp);
        printf("%stop-5 lens, all layers at once (logit_lens_topk): %.3f s = %.2f x the pp%d "
               "time\n",
               json ? "# " : "  ", lens_k_s, lens_k_s / (pp / p.median), pp);
        double ppc = stats(pp_c, reps).median;
        printf("%sby the calling thread's CPU time (1 thread: the work alone): pp%d %.3f s, lens "
               "%.3f s = %.2f x, top-5 lens %.3f s = %.2f x\n",
               json ? "# " : "  ", pp, ppc, lens_c, lens_c / ppc, lens_k_c, lens_k_c / ppc);
    }
    tl_interp_free(I);
    tl_threadpool_shutdown();
    return 0;
}
