/* bench/batch_c.c -- the stdlib's batch step replayed in C, to measure what limits
** issue 22's target 4 (never run by ctest).
**
**   build/bench/bench_batch_c MODEL.gguf [--threads N] [--seqs 8] [--pp 16] [--tg 16]
**                                        [--reps 10] [--profile]
**
** Target 4 asks SEQS sequences generating together (forward_batch_last, one new
** token each a step) for >= 5x the tokens a second of one sequence alone
** (forward).  This program calls the runtime ops of stdlib/llama.tl's
** batch_hidden / batch_layer / forward_batch_last in C, in the same order with the
** same arguments (linear_batch's row flags as lang/builtins/kvbatch.c computes
** them), on the interpreter's own loaded model.
**
** It first checks that the C step computes what the .tl step computes: the
** logits of SEQS different PP-token prompts in one step (bench/batch_bench.tl's
** batch_prompt), compared bit for bit, then the greedy tokens of TG steps.  Then
** REPS rounds, each after fresh prompts: TG times, in turn, one C batch step, one
** .tl batch step (bench/batch_bench.tl batch_generate, a .tl function called from
** C), the batch step's matmuls alone (the same weights, SEQS rows, fixed inputs,
** nothing between them), one .tl step of a single sequence (single_generate) and
** one sequence's matmuls alone.  Printed per round and as medians: the aggregate
** rates and the ratios to the single sequence's rate: .tl batch (what bench_batch
** reports as tgB / tg1), C batch (no interpreter) and the matmuls alone (nothing
** but the weights' arithmetic).  --profile adds one C round with every op
** timed (wall clock around each runtime call), per step. */
#include "lang/builtins/model.h"
#include "lang/eval.h"
#include "runtime/kvbatch.h"
#include "runtime/ops.h"
#include "runtime/shadow.h"
#include "runtime/threadpool.h"

#include "bench_common.h"
#include "llama_weights.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef TL_BENCH_DIR
#define TL_BENCH_DIR "bench"
#endif

#define MAX_SEQS 64

static void die(const char *what) {
    fprintf(stderr, "bench_batch_c: %s: %s\n", what, tl_last_error());
    exit(1);
}

/* Where a batch step's time goes, op by op (--profile): wall seconds per kind of
** op, summed over the timed steps. */
enum { P_MATMUL, P_HEAD, P_ATTN, P_NORM, P_ROPE, P_ADD, P_SWIGLU, P_OTHER, P_N };
static const char *const prof_name[P_N] = {"matmuls (q/k/v, o, gate/up, down)",
                                           "output head",
                                           "attention (KV append + all sequences)",
                                           "rms_norm",
                                           "rope",
                                           "residual adds",
                                           "swiglu",
                                           "embedding, views, positions"};
static double prof[P_N];
static int profiling;

#define CHECK_AS(kind, call, what)                                                                 \
    do {                                                                                           \
        double t0_ = profiling ? bench_now() : 0;                                                  \
        if ((call) != TL_OK) die(what);                                                            \
        if (profiling) prof[kind] += bench_now() - t0_;                                            \
    } while (0)
#define CHECK(call, what) CHECK_AS(P_OTHER, call, what)

static void unref_all(tl_tensor **t, int n) {
    for (int i = 0; i < n; i++)
        tl_tensor_unref(t[i]);
}

/* linear_batch(x, w[0..nw), lens[, last_only]) as lang/builtins/kvbatch.c calls
** tl_op_linear_batch: llama.cpp's split of each sequence's call into GEMM rows
** (the first len - len % 4) and GEMV rows, and whether it was a one-row call. */
static void linear_batch(const tl_tensor *x, const tl_tensor *const *w, int nw, const int64_t *lens,
                         int n, bool last_only, tl_tensor **out) {
    int kind = last_only ? P_HEAD : P_MATMUL;
    uint8_t gemm[4096], single[4096];
    int64_t r = 0;
    for (int i = 0; i < n; i++)
        for (int64_t j = last_only ? lens[i] - 1 : 0; j < lens[i] && r < 4096; j++, r++) {
            gemm[r] = j < lens[i] - lens[i] % 4;
            single[r] = lens[i] == 1;
        }
    CHECK_AS(kind, tl_op_linear_batch(x, w, nw, gemm, single, out), "linear_batch");
}

static tl_tensor *reshape(tl_tensor *t, int n, const int64_t *shape) {
    tl_tensor *r;
    CHECK(tl_op_reshape(t, n, shape, &r), "reshape");
    tl_tensor_unref(t);
    return r;
}

static tl_tensor *rms(const tl_tensor *x, const tl_tensor *w, const llama_w *m) {
    tl_tensor *r;
    CHECK_AS(P_NORM, tl_op_rms_norm(x, w, (float)m->cfg.eps, &r), "rms_norm");
    return r;
}

static tl_tensor *add_consume(tl_tensor *a, tl_tensor *b) {
    tl_tensor *r;
    CHECK_AS(P_ADD, tl_op_binary(TL_BIN_ADD, a, b, &r), "add");
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    return r;
}

/* batch_layer(x, ...): consumes x. */
static tl_tensor *batch_layer(const llama_w *m, tl_kvbatch *kb, tl_tensor *x, int layer,
                              const int64_t *seqs, const int64_t *lens, int n, const int64_t *pos) {
    const tl_llama_config *c = &m->cfg;
    const layer_w *b = &m->blk[layer];
    int64_t N = x->ne[1], H = c->n_head, Hkv = c->n_head_kv, D = c->head_dim;
    tl_tensor *a = rms(x, b->attn_norm, m), *qkv[3], *q, *k, *o, *t;
    linear_batch(a, b->qkv, 3, lens, n, false, qkv);
    tl_tensor_unref(a);
    tl_tensor *q3 = reshape(qkv[0], 3, (int64_t[]){N, H, D});
    tl_tensor *k3 = reshape(qkv[1], 3, (int64_t[]){N, Hkv, D});
    tl_tensor *v3 = reshape(qkv[2], 3, (int64_t[]){N, Hkv, D});
    CHECK_AS(P_ROPE, tl_op_rope_at(q3, pos, N, (float)c->rope_base, TL_ROPE_NORM, &q), "rope");
    CHECK_AS(P_ROPE, tl_op_rope_at(k3, pos, N, (float)c->rope_base, TL_ROPE_NORM, &k), "rope");
    tl_tensor_unref(q3);
    tl_tensor_unref(k3);
    float scale = (float)(1.0 / sqrt((double)D));
    CHECK_AS(P_ATTN, tl_kvbatch_attention(kb, layer, seqs, lens, n, q, k, v3, scale, &o),
             "attention");
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v3);
    o = reshape(o, 2, (int64_t[]){N, H * D});
    linear_batch(o, &b->attn_out, 1, lens, n, false, &t);
    tl_tensor_unref(o);
    tl_tensor *h = add_consume(x, t), *gu[2], *s;
    a = rms(h, b->ffn_norm, m);
    linear_batch(a, b->gate_up, 2, lens, n, false, gu);
    tl_tensor_unref(a);
    CHECK_AS(P_SWIGLU, tl_op_swiglu(gu[0], gu[1], &s), "swiglu");
    unref_all(gu, 2);
    linear_batch(s, &b->down, 1, lens, n, false, &t);
    tl_tensor_unref(s);
    return add_consume(h, t);
}

/* forward_batch_last(lm, kb, seqs, toks): the logits [n, V] of each sequence's
** last new token; ids holds the sum of lens new tokens, stacked. */
static tl_tensor *batch_last(const llama_w *m, tl_kvbatch *kb, const int64_t *seqs,
                             const int64_t *lens, int n, const int64_t *ids) {
    int64_t N = 0, pos[4096], last[MAX_SEQS];
    for (int i = 0; i < n; i++) {
        N += lens[i];
        last[i] = N - 1;
    }
    CHECK(tl_kvbatch_check(kb, seqs, lens, n, -1), "positions");
    CHECK(tl_kvbatch_positions(kb, seqs, lens, n, pos, 4096), "positions");
    tl_tensor *idt, *x, *lt, *xl, *nl, *logits;
    CHECK(tl_tensor_new(TL_DTYPE_I64, 1, &N, &idt), "ids");
    memcpy(tl_tensor_data(idt), ids, (size_t)N * sizeof *ids);
    CHECK(tl_op_embedding(m->tok_embd, idt, &x), "embedding");
    tl_tensor_unref(idt);
    for (int i = 0; i < m->cfg.n_layer; i++)
        x = batch_layer(m, kb, x, i, seqs, lens, n, pos);
    int64_t nn = n;
    CHECK(tl_tensor_new(TL_DTYPE_I64, 1, &nn, &lt), "ids");
    memcpy(tl_tensor_data(lt), last, (size_t)n * sizeof *last);
    CHECK(tl_op_embedding(x, lt, &xl), "embedding");
    tl_tensor_unref(lt);
    tl_tensor_unref(x);
    nl = rms(xl, m->out_norm, m);
    tl_tensor_unref(xl);
    linear_batch(nl, &m->out_w, 1, lens, n, true, &logits);
    tl_tensor_unref(nl);
    return logits;
}

/* The greedy token of each row (argmax's first largest). */
static void argmax_rows(const tl_tensor *logits, int64_t *ids) {
    int64_t V = logits->ne[0], rows = logits->ne[1];
    const float *p = tl_tensor_data(logits);
    for (int64_t r = 0; r < rows; r++) {
        const float *row = p + r * V;
        int64_t best = 0;
        float bv = row[0];
        for (int64_t i = 1; i < V; i++)
            if (row[i] > bv) {
                bv = row[i];
                best = i;
            }
        ids[r] = best;
    }
}

/* One step's matmuls alone for `rows` one-token sequences: the layers' q/k/v,
** o, gate/up and down and the head, fixed inputs, nothing between them. */
static double matmuls_alone(const llama_w *m, int rows) {
    const tl_llama_config *c = &m->cfg;
    int64_t lens[MAX_SEQS];
    for (int i = 0; i < rows; i++)
        lens[i] = 1;
    tl_tensor *x, *o, *ff, *r[3];
    CHECK(tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){rows, c->n_embd}, 0.01, &x), "full");
    CHECK(tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){rows, c->n_head * c->head_dim}, 0.01, &o),
          "full");
    CHECK(tl_op_full(TL_DTYPE_F32, 2, (int64_t[]){rows, c->n_ff}, 0.01, &ff), "full");
    double t0 = bench_now();
    for (int i = 0; i < c->n_layer; i++) {
        const layer_w *b = &m->blk[i];
        linear_batch(x, b->qkv, 3, lens, rows, false, r);
        unref_all(r, 3);
        linear_batch(o, &b->attn_out, 1, lens, rows, false, r);
        unref_all(r, 1);
        linear_batch(x, b->gate_up, 2, lens, rows, false, r);
        unref_all(r, 2);
        linear_batch(ff, &b->down, 1, lens, rows, false, r);
        unref_all(r, 1);
    }
    linear_batch(x, &m->out_w, 1, lens, rows, true, r);
    unref_all(r, 1);
    double s = bench_now() - t0;
    tl_tensor_unref(x);
    tl_tensor_unref(o);
    tl_tensor_unref(ff);
    return s;
}

static void run_tl(tl_interp *I, const char *src) {
    if (tl_interp_eval_string(I, src, strlen(src), "<bench>", NULL) != TL_OK) {
        fprintf(stderr, "bench_batch_c: %s\n", tl_interp_error(I));
        exit(1);
    }
}

static tl_value global(tl_interp *I, const char *name) {
    tl_value v;
    if (tl_interp_get_global(I, name, &v) != TL_OK) die(name);
    return v;
}

static tl_value call_tl(tl_interp *I, const tl_value *fn, int argc, const tl_value *argv) {
    tl_value out;
    if (tl_interp_call(I, fn, argc, argv, &out) != TL_OK) {
        fprintf(stderr, "bench_batch_c: %s\n", tl_interp_error(I));
        exit(1);
    }
    return out;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* The C side's fresh prompts (batch_prompt(pp, V, i) for sequence i) in one step;
** returns the logits [seqs, V]. */
static tl_tensor *c_prompts(const llama_w *m, tl_kvbatch *kb, int seqs, int pp) {
    int64_t sq[MAX_SEQS], lens[MAX_SEQS], *ids = malloc((size_t)(seqs * pp) * sizeof *ids);
    if (!ids) die("out of memory");
    int64_t V = m->cfg.n_vocab;
    for (int i = 0; i < seqs; i++) {
        sq[i] = i;
        lens[i] = pp;
        for (int j = 0; j < pp; j++) /* batch_bench.tl batch_prompt(pp, V, i) */
            ids[i * pp + j] = 3 + ((int64_t)j * 7919 + (int64_t)i * 104729) % (V - 3);
    }
    CHECK(tl_kvbatch_truncate(kb, -1, 0), "clear");
    tl_tensor *lg = batch_last(m, kb, sq, lens, seqs, ids);
    free(ids);
    return lg;
}

int main(int argc, char **argv) {
    const char *model = NULL;
    int threads = 0, seqs = 8, pp = 16, tg = 16, reps = 10, profile = 0;
    const bench_opt opts[] = {{"--threads", &threads, 0}, {"--seqs", &seqs, 0},
                              {"--pp", &pp, 0},           {"--tg", &tg, 0},
                              {"--reps", &reps, 0},       {"--profile", &profile, 1}};
    if (bench_args(argc, argv, opts, 6, &model,
                   "bench_batch_c MODEL.gguf [--threads N] [--seqs N] [--pp N] [--tg N] "
                   "[--reps N] [--profile]"))
        return 2;
    if (!model || seqs < 1 || seqs > MAX_SEQS || pp < 1 || seqs * pp > 4096 || tg < 1 || reps < 1 ||
        reps > 100) {
        fprintf(stderr,
                "bench_batch_c: give MODEL.gguf, 1 <= seqs <= %d, pp >= 1 with seqs x pp "
                "<= 4096, tg >= 1, 1 <= reps <= 100\n",
                MAX_SEQS);
        return 2;
    }
    if (threads > 0 && tl_threadpool_set_threads(threads) != TL_OK) die("threads");
    threads = tl_threadpool_threads();

    tl_interp *I = tl_interp_new();
    char src[2048];
    run_tl(I, "import \"" TL_BENCH_DIR "/batch_bench.tl\"\n");
    snprintf(src, sizeof src,
             "main {\nlet lm = llama_load(\"%s\")\nlet V = lm.cfg.n_vocab\nlet short = []\n"
             "let seqs = []\nfor i in range(%d) {\nshort.push(batch_prompt(%d, V, i))\n"
             "seqs.push(i)\n}\nlet kb = llama_batch_cache(lm, %d)\nlet c1 = llama_cache(lm)\n"
             "let mdl = lm.model\nlet lgb = 0\nlet tb = []\nlet t1 = 0\n}\n"
             "fn tl_bstep(lm: Llama, kb, ids) {\n    batch_generate(lm, kb, ids, 1)\n}\n"
             "fn tl_1step(lm: Llama, cache, id: int) {\n    single_generate(lm, cache, id, 1)\n}\n"
             "main {\nlet bstep = tl_bstep\nlet step1 = tl_1step\n}\n",
             model, seqs, pp, seqs);
    run_tl(I, src);
    tl_value mv = global(I, "mdl");
    if (!tl_model_from_value(&mv)) die("model");
    tl_model *mdl = tl_model_ref(tl_model_from_value(&mv));
    tl_value_release(&mv);
    llama_w m;
    llama_w_init(&m, mdl);
    tl_kvbatch *kb;
    CHECK(tl_kvbatch_new(m.cfg.n_layer, seqs, m.cfg.n_ctx < 512 ? m.cfg.n_ctx : 512, m.cfg.n_ctx,
                         &kb),
          "KVBatch");

    /* The check: the prompts' logits, then TG steps' greedy tokens. */
    run_tl(I, "main {\nkb.clear()\nlgb = forward_batch_last(lm, kb, seqs, short)\n"
              "tb = batch_argmax(lgb)\n}\n");
    tl_tensor *lc = c_prompts(&m, kb, seqs, pp);
    tl_value lt = global(I, "lgb");
    if (lt.kind != TL_VAL_TENSOR || tl_tensor_nelements(lt.as.tensor) != tl_tensor_nelements(lc) ||
        memcmp(tl_tensor_data(lt.as.tensor), tl_tensor_data(lc),
               (size_t)tl_tensor_nelements(lc) * sizeof(float)) != 0) {
        fprintf(stderr, "bench_batch_c: the C step's logits differ from the .tl step's\n");
        return 1;
    }
    tl_value_release(&lt);
    tl_value bstep = global(I, "bstep"), step1 = global(I, "step1");
    tl_value bargs[3] = {global(I, "lm"), global(I, "kb"), global(I, "tb")};
    int64_t ids[MAX_SEQS], sq[MAX_SEQS], ones[MAX_SEQS];
    for (int i = 0; i < seqs; i++) {
        sq[i] = i;
        ones[i] = 1;
    }
    for (int s = 0; s < tg; s++) {
        argmax_rows(lc, ids);
        tl_tensor_unref(lc);
        lc = batch_last(&m, kb, sq, ones, seqs, ids);
        tl_value next = call_tl(I, &bstep, 3, bargs);
        tl_value_release(&bargs[2]);
        bargs[2] = next;
    }
    argmax_rows(lc, ids);
    for (int i = 0; i < seqs; i++)
        if (bargs[2].kind != TL_VAL_ARRAY || bargs[2].as.arr->items[i].as.i != ids[i]) {
            fprintf(stderr, "bench_batch_c: the C steps' tokens differ from the .tl steps'\n");
            return 1;
        }
    tl_tensor_unref(lc);
    tl_value_release(&bargs[2]);
    tl_shadow_wait();
    printf("%d sequences: the prompts' logits (pp%d each, one step) and %d greedy steps: C and "
           ".tl identical\n",
           seqs, pp, tg);

    enum { K_C, K_TL, K_MM, K_1TL, K_1MM, K_N };
    const char *name[K_N] = {"C batch", ".tl batch", "batch matmuls alone", ".tl one sequence",
                             "one sequence's matmuls alone"};
    double rate[K_N][100], r_tl[100], r_c[100], r_mm[100], r_mm1[100];
    tl_value args1[3] = {global(I, "lm"), global(I, "c1"), TL_VOID};
    printf("threads=%d, %d rounds of %d steps after %d-token prompts\n", threads, reps, tg, pp);
    for (int r = 0; r < reps; r++) {
        lc = c_prompts(&m, kb, seqs, pp);
        run_tl(I, "main {\nkb.clear()\ntb = batch_prefill(lm, kb, short)\n"
                  "c1.clear()\nt1 = single_prefill(lm, c1, short[0])\n}\n");
        bargs[2] = global(I, "tb");
        args1[2] = global(I, "t1");
        double secs[K_N] = {0};
        for (int s = 0; s < tg; s++) {
            double t0 = bench_now();
            argmax_rows(lc, ids);
            tl_tensor_unref(lc);
            lc = batch_last(&m, kb, sq, ones, seqs, ids);
            double t1 = bench_now();
            tl_value next = call_tl(I, &bstep, 3, bargs);
            tl_value_release(&bargs[2]);
            bargs[2] = next;
            double t2 = bench_now();
            secs[K_MM] += matmuls_alone(&m, seqs);
            double t3 = bench_now();
            next = call_tl(I, &step1, 3, args1);
            tl_value_release(&args1[2]);
            args1[2] = next;
            double t4 = bench_now();
            secs[K_1MM] += matmuls_alone(&m, 1);
            secs[K_C] += t1 - t0;
            secs[K_TL] += t2 - t1;
            secs[K_1TL] += t4 - t3;
        }
        tl_tensor_unref(lc);
        tl_value_release(&bargs[2]);
        tl_value_release(&args1[2]);
        for (int k = 0; k < K_N; k++)
            rate[k][r] = (k < K_1TL ? seqs : 1) * tg / secs[k];
        r_tl[r] = rate[K_TL][r] / rate[K_1TL][r];
        r_c[r] = rate[K_C][r] / rate[K_1TL][r];
        r_mm[r] = rate[K_MM][r] / rate[K_1TL][r];
        r_mm1[r] = rate[K_MM][r] / rate[K_1MM][r];
        printf("  round %2d: tok/s", r + 1);
        for (int k = 0; k < K_N; k++)
            printf(" %s %.1f,", name[k], rate[k][r]);
        printf(" ratios to .tl one sequence: .tl batch %.2fx, C batch %.2fx, matmuls alone "
               "%.2fx\n",
               r_tl[r], r_c[r], r_mm[r]);
    }
    printf("medians over the rounds (tok/s):");
    for (int k = 0; k < K_N; k++)
        printf(" %s %.1f%s", name[k], median(rate[k], reps), k + 1 < K_N ? "," : "\n");
    printf("aggregate against one .tl sequence, medians of the per-round ratios: .tl batch "
           "%.2fx, C batch %.2fx, the batch's matmuls alone %.2fx; batch matmuls against one "
           "sequence's matmuls %.2fx\n",
           median(r_tl, reps), median(r_c, reps), median(r_mm, reps), median(r_mm1, reps));
    if (profile) { /* one more C round, its steps timed op by op */
        lc = c_prompts(&m, kb, seqs, pp);
        double t0 = bench_now();
        profiling = 1;
        for (int s = 0; s < tg; s++) {
            argmax_rows(lc, ids);
            tl_tensor_unref(lc);
            lc = batch_last(&m, kb, sq, ones, seqs, ids);
        }
        profiling = 0;
        double secs = bench_now() - t0;
        tl_tensor_unref(lc);
        printf("one profiled C round (%.1f tok/s), per step of %d tokens:\n", seqs * tg / secs,
               seqs);
        bench_print_profile(prof_name, prof, P_N, 38, tg, secs);
    }
    for (int i = 0; i < 2; i++)
        tl_value_release(&bargs[i]);
    for (int i = 0; i < 2; i++)
        tl_value_release(&args1[i]);
    tl_value_release(&bstep);
    tl_value_release(&step1);
    tl_kvbatch_free(kb);
    free(m.blk);
    tl_model_unref(mdl);
    tl_interp_free(I);
    tl_threadpool_shutdown();
    return 0;
}
