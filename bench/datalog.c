/* bench/datalog.c -- the Datalog engine alone (runtime/datalog.h), no parsing
** (never run by ctest; bench/logic_bench.sh times whole .tl scripts against
** SWI-Prolog).   build/bench/bench_datalog
** Graphs: random 2,000 nodes / 10,000 edges; a chain of 10,000 nodes; random
** 1,000 nodes at 5% density.  Programs: transitive closure (forward, and a
** query tc(0, X)) and same-generation (forward); the chain skips the full closure (50M
** pairs), the 5% graph same-generation (see docs/performance.md). */
#include "runtime/datalog.h"

#include "bench_common.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rs = 42;
static uint32_t rnd(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rs >> 33);
}

static void check(tl_status st) {
    if (st != TL_OK) {
        fprintf(stderr, "error: %s\n", tl_last_error());
        exit(1);
    }
}

#define V(i) ((tl_dl_term){.var = (i)})

/* where a relation's bytes go: coordinates, membership (dense bits or hash
** set), and the join indexes (docs/logic.md weighs these against CSR) */
static void breakdown(const tl_rel *r) {
    double coords = (double)r->cap * r->arity * 4, idx = 0;
    double memb = (double)tl_rel_bytes(r) - coords;
    for (int i = 0; i < r->n_idx; i++)
        idx += (double)(r->idx[i].n_buckets + r->idx[i].n_next) * 4;
    memb -= idx;
    printf("%28s   coordinates %.1f MB, membership %.1f MB (%s), %d index%s %.1f MB "
           "(%.1f B per tuple per index)\n",
           "", coords / 1e6, memb / 1e6, tl_rel_is_dense(r) ? "dense bits" : "hash set", r->n_idx,
           r->n_idx == 1 ? "" : "es", idx / 1e6,
           r->n_idx && r->n ? idx / r->n_idx / (double)r->n : 0);
}

static void run(const char *what, tl_rel *edges, int64_t side, bool full_tc, bool sg) {
    /* tc(x, y) <- e(x, y).  tc(x, z) <- e(x, y), tc(y, z). */
    tl_dl_pred preds[3] = {{"e", 2, edges}, {"tc", 2, NULL}, {"sg", 2, NULL}};
    tl_dl_term h0[2] = {V(0), V(1)}, h1[2] = {V(0), V(2)}, b0[2] = {V(0), V(1)};
    tl_dl_term b1a[2] = {V(0), V(1)}, b1b[2] = {V(1), V(2)};
    tl_dl_lit l0[1] = {{.kind = TL_DL_POS, .pred = 0, .args = b0}};
    tl_dl_lit l1[2] = {{.kind = TL_DL_POS, .pred = 0, .args = b1a},
                       {.kind = TL_DL_POS, .pred = 1, .args = b1b}};
    /* sg(x, y) <- e(p, x), e(p, y).  sg(x, y) <- e(a, x), sg(a, b), e(b, y). */
    tl_dl_term s0h[2] = {V(0), V(1)}, s0a[2] = {V(2), V(0)}, s0b[2] = {V(2), V(1)};
    tl_dl_term s1h[2] = {V(0), V(1)}, s1a[2] = {V(2), V(0)}, s1b[2] = {V(2), V(3)},
               s1c[2] = {V(3), V(1)};
    tl_dl_lit ls0[2] = {{.kind = TL_DL_POS, .pred = 0, .args = s0a},
                        {.kind = TL_DL_POS, .pred = 0, .args = s0b}};
    tl_dl_lit ls1[3] = {{.kind = TL_DL_POS, .pred = 0, .args = s1a},
                        {.kind = TL_DL_POS, .pred = 2, .args = s1b},
                        {.kind = TL_DL_POS, .pred = 0, .args = s1c}};
    tl_dl_rule rules[4] = {
        {1, h0, l0, 1, 2}, {1, h1, l1, 2, 3}, {2, s0h, ls0, 2, 3}, {2, s1h, ls1, 3, 4}};
    tl_dl_program p = {.preds = preds, .n_preds = 3, .rules = rules, .n_rules = 2, .side = side};
    tl_rel model[3];
    tl_dl_error err;
    tl_dl_stats stats = {0};
    double t0, t1;
    if (full_tc) {
        t0 = bench_now();
        check(tl_dl_forward(&p, model, &stats, &err));
        t1 = bench_now();
        printf("%-28s tc forward   %9zu tuples  %8.3f s  %7.1f MB  %lld rounds\n", what, model[1].n,
               t1 - t0, (double)tl_rel_bytes(&model[1]) / 1e6, (long long)stats.rounds);
        breakdown(&model[1]);
        for (int i = 0; i < 3; i++)
            tl_rel_free(&model[i]);
    }
    int32_t pat[2] = {0, -1};
    tl_rel ans;
    if (full_tc) { /* on the chain, right recursion tables every suffix: 50M answers */
        stats = (tl_dl_stats){0};
        t0 = bench_now();
        check(tl_dl_query(&p, 1, pat, &ans, &stats, &err));
        t1 = bench_now();
        printf("%-28s tc(0, X)     %9zu answers %8.3f s  %lld rounds\n", what, ans.n, t1 - t0,
               (long long)stats.rounds);
        tl_rel_free(&ans);
    }
    if (!sg) return;
    p.rules = rules + 2; /* the sg rules alone (tc is not needed) */
    p.n_rules = 2;
    stats = (tl_dl_stats){0};
    t0 = bench_now();
    check(tl_dl_forward(&p, model, &stats, &err));
    t1 = bench_now();
    printf("%-28s sg forward   %9zu tuples  %8.3f s  %7.1f MB  %lld rounds\n", what, model[2].n,
           t1 - t0, (double)tl_rel_bytes(&model[2]) / 1e6, (long long)stats.rounds);
    breakdown(&model[2]);
    for (int i = 0; i < 3; i++)
        tl_rel_free(&model[i]);
}

int main(void) {
    tl_rel e;
    check(tl_rel_init(&e, 2, 2000));
    while (e.n < 10000) {
        int32_t t[2] = {(int32_t)(rnd() % 2000), (int32_t)(rnd() % 2000)};
        check(tl_rel_insert(&e, t, NULL));
    }
    run("random 2000/10000", &e, 2000, true, true);
    tl_rel_free(&e);
    check(tl_rel_init(&e, 2, 10000));
    for (int32_t i = 0; i + 1 < 10000; i++) {
        int32_t t[2] = {i, i + 1};
        check(tl_rel_insert(&e, t, NULL));
    }
    run("chain 10000", &e, 10000, false, true);
    tl_rel_free(&e);
    check(tl_rel_init(&e, 2, 1000));
    while (e.n < 50000) {
        int32_t t[2] = {(int32_t)(rnd() % 1000), (int32_t)(rnd() % 1000)};
        check(tl_rel_insert(&e, t, NULL));
    }
    run("random 1000 at 5%", &e, 1000, true, false);
    tl_rel_free(&e);
    return 0;
}
