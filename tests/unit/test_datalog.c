/* tests/unit/test_datalog.c -- the relation store and the Datalog engine
** (runtime/relation.h, runtime/datalog.h): property tests on random graphs
** (forward chaining and tabled queries equal a BFS closure computed here, and
** each other), same-generation against a direct computation, negation,
** stratification and safety errors, the round cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/datalog.h"

static uint64_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* ---- program building helpers */
#define V(i) ((tl_dl_term){.var = (i)})
#define C(x) ((tl_dl_term){.var = -1, .val = (x)})

typedef struct prog {
    tl_dl_program p;
    tl_dl_pred preds[8];
    tl_dl_rule rules[8];
    tl_dl_lit lits[8][4];
    tl_dl_term terms[8][5][3];
    tl_dl_term heads[8][3];
} prog;

static void prog_init(prog *g, int64_t side) {
    memset(g, 0, sizeof *g);
    g->p.preds = g->preds;
    g->p.rules = g->rules;
    g->p.side = side;
}

static int pred(prog *g, const char *name, int arity, tl_rel *facts) {
    g->preds[g->p.n_preds] = (tl_dl_pred){.name = name, .arity = arity, .facts = facts};
    return g->p.n_preds++;
}

/* rule: head(h0, h1) <- body atoms given as (kind, pred, t0, t1) */
static tl_dl_rule *rule(prog *g, int head, int n_vars, tl_dl_term h0, tl_dl_term h1) {
    int r = g->p.n_rules++;
    g->rules[r] =
        (tl_dl_rule){.head = head, .head_args = g->heads[r], .body = g->lits[r], .n_vars = n_vars};
    g->heads[r][0] = h0;
    g->heads[r][1] = h1;
    return &g->rules[r];
}

static void lit(prog *g, tl_dl_rule *r, tl_dl_lit_kind kind, int p, tl_dl_term a, tl_dl_term b) {
    int ri = (int)(r - g->rules), l = r->n_body++;
    g->terms[ri][l][0] = a;
    g->terms[ri][l][1] = b;
    g->lits[ri][l] = (tl_dl_lit){.kind = kind, .pred = p, .args = g->terms[ri][l]};
}

static void cmp(prog *g, tl_dl_rule *r, tl_dl_cmp_op op, tl_dl_term a, tl_dl_term b) {
    int ri = (int)(r - g->rules), l = r->n_body++;
    g->lits[ri][l] = (tl_dl_lit){.kind = TL_DL_CMP, .op = op, .l = a, .r = b};
}

/* ---- reference closure */
static uint8_t *bfs_closure(int n, const tl_rel *edges) {
    uint8_t *reach = calloc((size_t)n * n, 1);
    int *adj_start = calloc((size_t)n + 1, sizeof(int)), *adj = malloc(edges->n * sizeof(int));
    for (size_t i = 0; i < edges->n; i++)
        adj_start[edges->tup[2 * i] + 1]++;
    for (int i = 0; i < n; i++)
        adj_start[i + 1] += adj_start[i];
    int *fill = calloc((size_t)n, sizeof(int));
    for (size_t i = 0; i < edges->n; i++) {
        int a = edges->tup[2 * i];
        adj[adj_start[a] + fill[a]++] = edges->tup[2 * i + 1];
    }
    int *queue = malloc((size_t)(n + 1) * sizeof(int));
    for (int s = 0; s < n; s++) {
        int qh = 0, qt = 0;
        for (int e = adj_start[s]; e < adj_start[s + 1]; e++)
            if (!reach[(size_t)s * n + adj[e]])
                reach[(size_t)s * n + adj[e]] = 1, queue[qt++] = adj[e];
        while (qh < qt) {
            int v = queue[qh++];
            for (int e = adj_start[v]; e < adj_start[v + 1]; e++)
                if (!reach[(size_t)s * n + adj[e]])
                    reach[(size_t)s * n + adj[e]] = 1, queue[qt++] = adj[e];
        }
    }
    free(adj_start), free(adj), free(fill), free(queue);
    return reach;
}

static void random_graph(tl_rel *e, int n, int m, int64_t side) {
    assert_int_equal(tl_rel_init(e, 2, side), TL_OK);
    while ((int)e->n < m) {
        int32_t t[2] = {(int32_t)(rnd() % n), (int32_t)(rnd() % n)};
        assert_int_equal(tl_rel_insert(e, t, NULL), TL_OK);
    }
}

static void expect_equal_to(const tl_rel *r, const uint8_t *reach, int n) {
    size_t count = 0;
    for (size_t i = 0; i < (size_t)n * n; i++)
        count += reach[i];
    assert_int_equal(r->n, count);
    for (size_t i = 0; i < r->n; i++)
        assert_true(reach[(size_t)r->tup[2 * i] * n + r->tup[2 * i + 1]]);
}

/* shape: 0 right recursion, 1 left recursion, 2 doubly recursive */
static void closure_case(int n, int m, int shape, int64_t side, int n_queries) {
    tl_rel edges;
    random_graph(&edges, n, m, side);
    uint8_t *reach = bfs_closure(n, &edges);
    prog g;
    prog_init(&g, side);
    int E = pred(&g, "Edge", 2, &edges), P = pred(&g, "Path", 2, NULL);
    tl_dl_rule *r = rule(&g, P, 2, V(0), V(1));
    lit(&g, r, TL_DL_POS, E, V(0), V(1));
    r = rule(&g, P, 3, V(0), V(2));
    if (shape == 0) lit(&g, r, TL_DL_POS, E, V(0), V(1)), lit(&g, r, TL_DL_POS, P, V(1), V(2));
    if (shape == 1) lit(&g, r, TL_DL_POS, P, V(0), V(1)), lit(&g, r, TL_DL_POS, E, V(1), V(2));
    if (shape == 2) lit(&g, r, TL_DL_POS, P, V(0), V(1)), lit(&g, r, TL_DL_POS, P, V(1), V(2));
    tl_rel model[2];
    tl_dl_error err;
    assert_int_equal(tl_dl_forward(&g.p, model, NULL, &err), TL_OK);
    expect_equal_to(&model[P], reach, n);
    /* queries: Path(s, X), Path(X, t), Path(s, t), Path(X, Y); each equals the forward model */
    for (int q = 0; q < n_queries; q++) {
        int32_t s = (int32_t)(rnd() % n), t = (int32_t)(rnd() % n);
        int32_t pats[4][2] = {{s, -1}, {-1, t}, {s, t}, {-1, -1}};
        for (int k = 0; k < (q == 0 ? 4 : 3); k++) {
            tl_rel ans;
            assert_int_equal(tl_dl_query(&g.p, P, pats[k], &ans, NULL, &err), TL_OK);
            size_t expect = 0;
            for (size_t i = 0; i < model[P].n; i++) {
                const int32_t *tu = model[P].tup + 2 * i;
                if ((pats[k][0] < 0 || tu[0] == pats[k][0]) &&
                    (pats[k][1] < 0 || tu[1] == pats[k][1])) {
                    expect++;
                    assert_true(tl_rel_contains(&ans, tu));
                }
            }
            assert_int_equal(ans.n, expect);
            tl_rel_free(&ans);
        }
    }
    tl_rel_free(&model[0]);
    tl_rel_free(&model[1]);
    tl_rel_free(&edges);
    free(reach);
}

static void test_closure_small_dense(void **state) {
    (void)state;
    for (int shape = 0; shape < 3; shape++) {
        closure_case(30, 200, shape, 30, 10); /* 22% dense */
        closure_case(60, 90, shape, 60, 10);  /* sparse edges, dense storage */
        closure_case(1, 1, shape, 1, 2);      /* a self loop */
    }
}

static void test_closure_large_sparse(void **state) {
    (void)state;
    closure_case(2000, 2100, 0, 100000, 2); /* hash-set storage */
    closure_case(1000, 1100, 1, 1000, 2);
    closure_case(150, 1100, 2, 150, 2); /* 5% dense */
}

static void test_same_generation(void **state) {
    (void)state;
    int n = 200;
    tl_rel par;
    assert_int_equal(tl_rel_init(&par, 2, n), TL_OK);
    for (int i = 1; i < n; i++) { /* a random tree: parent(child, parent) */
        int32_t t[2] = {i, (int32_t)(rnd() % i)};
        assert_int_equal(tl_rel_insert(&par, t, NULL), TL_OK);
    }
    prog g;
    prog_init(&g, n);
    int Par = pred(&g, "Par", 2, &par), SG = pred(&g, "SG", 2, NULL);
    tl_dl_rule *r = rule(&g, SG, 2, V(0), V(1)); /* SG(x, y) <- Par(x, p), Par(y, p), x != y */
    lit(&g, r, TL_DL_POS, Par, V(0), V(2));
    r->n_vars = 3;
    lit(&g, r, TL_DL_POS, Par, V(1), V(2));
    cmp(&g, r, TL_DL_NE, V(0), V(1));
    r = rule(&g, SG, 4, V(0), V(1)); /* SG(x, y) <- Par(x, a), SG(a, b), Par(y, b) */
    lit(&g, r, TL_DL_POS, Par, V(0), V(2));
    lit(&g, r, TL_DL_POS, SG, V(2), V(3));
    lit(&g, r, TL_DL_POS, Par, V(1), V(3));
    tl_rel model[2];
    tl_dl_error err;
    assert_int_equal(tl_dl_forward(&g.p, model, NULL, &err), TL_OK);
    /* reference: same depth and different ancestors at every level up to the split */
    int depth[200], parent[200];
    parent[0] = -1, depth[0] = 0;
    for (size_t i = 0; i < par.n; i++)
        parent[par.tup[2 * i]] = par.tup[2 * i + 1];
    for (int i = 1; i < n; i++)
        depth[i] = depth[parent[i]] + 1;
    size_t count = 0;
    for (int x = 0; x < n; x++)
        for (int y = 0; y < n; y++) {
            bool sg = false;
            if (x != y && depth[x] == depth[y] && depth[x] > 0)
                sg = true; /* distinct, same depth */
            if (sg) {
                count++;
                int32_t t[2] = {x, y};
                assert_true(tl_rel_contains(&model[SG], t));
            }
        }
    assert_int_equal(model[SG].n, count);
    int32_t pat[2] = {5, -1};
    tl_rel ans;
    assert_int_equal(tl_dl_query(&g.p, SG, pat, &ans, NULL, &err), TL_OK);
    size_t c5 = 0;
    for (int y = 0; y < n; y++)
        c5 += y != 5 && depth[y] == depth[5];
    assert_int_equal(ans.n, c5);
    tl_rel_free(&ans);
    tl_rel_free(&model[0]), tl_rel_free(&model[1]), tl_rel_free(&par);
}

/* same-generation on a dense random graph (the factorised join of datalog.c) against a
** Boolean-matrix fixpoint computed here */
static void test_same_generation_dense(void **state) {
    (void)state;
    enum { N = 60 };
    tl_rel e;
    random_graph(&e, N, 130, N);
    static uint8_t E[N][N], S[N][N], T[N][N];
    memset(E, 0, sizeof E), memset(S, 0, sizeof S);
    for (size_t i = 0; i < e.n; i++)
        E[e.tup[2 * i]][e.tup[2 * i + 1]] = 1;
    for (bool changed = true; changed;) {
        changed = false;
        for (int x = 0; x < N; x++)
            for (int y = 0; y < N; y++) {
                uint8_t v = S[x][y];
                for (int a = 0; a < N && !v; a++) {
                    if (!E[a][x]) continue;
                    if (E[a][y]) v = 1;
                    for (int b = 0; b < N && !v; b++)
                        v = S[a][b] && E[b][y];
                }
                T[x][y] = v;
            }
        for (int x = 0; x < N; x++)
            for (int y = 0; y < N; y++)
                if (T[x][y] != S[x][y]) S[x][y] = T[x][y], changed = true;
    }
    prog g;
    prog_init(&g, N);
    int Ed = pred(&g, "e", 2, &e), SG = pred(&g, "sg", 2, NULL);
    tl_dl_rule *r = rule(&g, SG, 3, V(0), V(1)); /* sg(x, y) <- e(p, x), e(p, y) */
    lit(&g, r, TL_DL_POS, Ed, V(2), V(0));
    lit(&g, r, TL_DL_POS, Ed, V(2), V(1));
    r = rule(&g, SG, 4, V(0), V(1)); /* sg(x, y) <- e(a, x), sg(a, b), e(b, y) */
    lit(&g, r, TL_DL_POS, Ed, V(2), V(0));
    lit(&g, r, TL_DL_POS, SG, V(2), V(3));
    lit(&g, r, TL_DL_POS, Ed, V(3), V(1));
    tl_rel model[2];
    tl_dl_error err;
    assert_int_equal(tl_dl_forward(&g.p, model, NULL, &err), TL_OK);
    size_t count = 0;
    for (int x = 0; x < N; x++)
        for (int y = 0; y < N; y++) {
            int32_t t[2] = {x, y};
            count += S[x][y];
            assert_int_equal(tl_rel_contains(&model[SG], t), S[x][y]);
        }
    assert_int_equal(model[SG].n, count);
    assert_true(count > 0 && count < (size_t)N * N);
    tl_rel_free(&model[0]), tl_rel_free(&model[1]), tl_rel_free(&e);
}

static void test_negation_and_errors(void **state) {
    (void)state;
    tl_rel node, edge;
    assert_int_equal(tl_rel_init(&node, 1, 8), TL_OK);
    assert_int_equal(tl_rel_init(&edge, 2, 8), TL_OK);
    for (int32_t i = 0; i < 5; i++)
        assert_int_equal(tl_rel_insert(&node, &i, NULL), TL_OK);
    int32_t e[][2] = {{0, 1}, {1, 2}, {3, 4}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_rel_insert(&edge, e[i], NULL), TL_OK);
    prog g;
    prog_init(&g, 8);
    int N = pred(&g, "Node", 1, &node), E = pred(&g, "Edge", 2, &edge);
    int R = pred(&g, "Reach", 2, NULL), U = pred(&g, "Unreach", 2, NULL);
    tl_dl_rule *r = rule(&g, R, 2, V(0), V(1));
    lit(&g, r, TL_DL_POS, E, V(0), V(1));
    r = rule(&g, R, 3, V(0), V(2));
    lit(&g, r, TL_DL_POS, R, V(0), V(1)), lit(&g, r, TL_DL_POS, E, V(1), V(2));
    r = rule(&g, U, 2, V(0), V(1)); /* Unreach(x, y) <- Node(x), Node(y), not Reach(x, y) */
    lit(&g, r, TL_DL_POS, N, V(0), V(0)), lit(&g, r, TL_DL_POS, N, V(1), V(1));
    lit(&g, r, TL_DL_NEG, R, V(0), V(1));
    tl_rel model[4];
    tl_dl_error err;
    assert_int_equal(tl_dl_forward(&g.p, model, NULL, &err), TL_OK);
    assert_int_equal(model[R].n, 4); /* 01 12 02 34 */
    assert_int_equal(model[U].n, 21);
    int32_t pat[2] = {0, -1};
    tl_rel ans;
    assert_int_equal(tl_dl_query(&g.p, U, pat, &ans, NULL, &err), TL_OK);
    assert_int_equal(ans.n, 3); /* 0 -> 0, 3, 4 */
    tl_rel_free(&ans);
    for (int i = 0; i < 4; i++)
        tl_rel_free(&model[i]);

    /* not stratifiable: Reach(x, y) <- Edge(x, y), not Reach(y, x) */
    lit(&g, &g.rules[0], TL_DL_NEG, R, V(1), V(0));
    assert_int_equal(tl_dl_check(&g.p, &err), TL_ERR_ARG);
    assert_int_equal(err.rule, 0);
    assert_int_equal(err.lit, 1);
    assert_non_null(strstr(err.msg, "not stratifiable"));
    assert_non_null(strstr(err.msg, "Reach -> not Reach"));
    g.rules[0].n_body = 1;
    /* unsafe: Unreach(x, z) with z unbound */
    g.heads[2][1] = V(3);
    g.rules[2].n_vars = 4;
    assert_int_equal(tl_dl_check(&g.p, &err), TL_ERR_ARG);
    assert_int_equal(err.rule, 2);
    assert_int_equal(err.lit, -1);
    assert_int_equal(err.var, 3);
    g.heads[2][1] = V(1);
    /* unsafe negation */
    g.terms[2][2][1] = V(3);
    assert_int_equal(tl_dl_check(&g.p, &err), TL_ERR_ARG);
    assert_int_equal(err.lit, 2);
    g.terms[2][2][1] = V(1);
    /* the round cap */
    g.p.max_rounds = 2;
    assert_int_equal(tl_dl_forward(&g.p, model, NULL, &err), TL_ERR_ARG);
    assert_non_null(strstr(err.msg, "round cap"));
    tl_rel_free(&node), tl_rel_free(&edge);
}

static void test_relation_forms(void **state) {
    (void)state;
    tl_rel r;
    assert_int_equal(tl_rel_init(&r, 2, 10), TL_OK);
    assert_true(tl_rel_is_dense(&r));
    int32_t a[2] = {3, 4}, b[2] = {30, 4};
    bool added;
    assert_int_equal(tl_rel_insert(&r, a, &added), TL_OK);
    assert_true(added);
    assert_int_equal(tl_rel_insert(&r, a, &added), TL_OK);
    assert_false(added);
    assert_int_equal(tl_rel_insert(&r, b, &added), TL_OK); /* id >= side: to the hash set */
    assert_true(added);
    assert_false(tl_rel_is_dense(&r));
    assert_true(tl_rel_contains(&r, a) && tl_rel_contains(&r, b));
    assert_int_equal(r.n, 2);
    int32_t neg[2] = {-1, 0};
    assert_int_equal(tl_rel_insert(&r, neg, NULL), TL_ERR_RANGE);
    tl_rel_free(&r);
    assert_int_equal(tl_rel_init(&r, 3, 100000), TL_OK); /* 10^15 coordinates: sparse */
    assert_false(tl_rel_is_dense(&r));
    for (int32_t i = 0; i < 5000; i++) {
        int32_t t[3] = {i, i * 7 % 1000, i % 3};
        assert_int_equal(tl_rel_insert(&r, t, NULL), TL_OK);
    }
    int ix;
    assert_int_equal(tl_rel_index_get(&r, 4u, &ix), TL_OK); /* column 2 */
    int32_t key[3] = {0, 0, 1};
    int count = 0;
    for (uint32_t t = tl_rel_index_first(&r, &r.idx[ix], key); t != TL_REL_NONE;
         t = r.idx[ix].next[t])
        count += r.tup[3 * t + 2] == 1;
    assert_int_equal(count, 1667);
    tl_rel_free(&r);
    assert_int_equal(tl_rel_init(&r, 0, 5), TL_OK); /* a proposition */
    assert_int_equal(tl_rel_insert(&r, NULL, &added), TL_OK);
    assert_int_equal(tl_rel_insert(&r, NULL, &added), TL_OK);
    assert_int_equal(r.n, 1);
    tl_rel_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation_forms),        cmocka_unit_test(test_closure_small_dense),
        cmocka_unit_test(test_closure_large_sparse),  cmocka_unit_test(test_same_generation),
        cmocka_unit_test(test_same_generation_dense), cmocka_unit_test(test_negation_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
