/* tests/unit/test_ggml_math.c -- runtime/ops/ggml_math.h: the portable lane
** (ops_ggml_expf) and the 8-lane AVX2 versions give the same bits on a sweep of
** inputs and the special values; the row functions' group and tail split. */
#include "ggml_ref.h"
#include "runtime/ops/ggml_math.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int same(float a, float b) {
    return bits(a) == bits(b) || (isnan(a) && isnan(b));
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static float frand(float lo, float hi) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)((double)(rng >> 11) / 9007199254740992.0);
}

/* the sweep: random values over expf's range and beyond, and the edges */
/* x[0..n) uniform in [lo, hi) */
static void fill(float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++)
        x[i] = frand(lo, hi);
}

/* The R output rows o + r * os against ref(row r) of D values, bit for bit. */
static void check_rows(const float *o, int64_t os, int64_t R, int64_t D,
                       void (*ref)(int64_t r, float *want, void *ctx), void *ctx) {
    float want[128];
    for (int64_t r = 0; r < R; r++) {
        ref(r, want, ctx);
        for (int64_t d = 0; d < D; d++)
            assert_true(same(o[r * os + d], want[d]));
    }
}

static int64_t inputs(float *x, int64_t cap) {
    const float edge[] = {0.0f,   -0.0f,    1.0f,      -1.0f,   88.3f,  88.4f,   -103.9f, -104.0f,
                          126.5f, -126.5f,  192.5f,    -192.5f, 300.0f, -300.0f, 1e-30f,  -1e-30f,
                          1e-45f, INFINITY, -INFINITY, NAN,     0.5f,   -87.0f};
    int64_t n = 0;
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        x[n++] = edge[i];
    while (n < cap)
        x[n++] = frand(-130.0f, 130.0f);
    return n;
}

static void test_expf_values(void **state) {
    (void)state;
    assert_true(ops_ggml_expf(0.0f) == 1.0f);
    assert_true(ops_ggml_expf(-INFINITY) == 0.0f);
    assert_true(isinf(ops_ggml_expf(INFINITY)) && ops_ggml_expf(INFINITY) > 0);
    assert_true(isnan(ops_ggml_expf(NAN)));
    assert_true(ops_ggml_expf(-200.0f) == 0.0f); /* flushed */
    /* within 2 ulp of the C library's over the normal range (the kernel's stated error) */
    for (int i = 0; i < 20000; i++) {
        float x = frand(-87.0f, 88.0f), a = ops_ggml_expf(x), b = expf(x);
        int64_t d = (int64_t)bits(a) - (int64_t)bits(b);
        assert_true(d <= 2 && d >= -2);
    }
}

/* silu/swiglu rows: groups of 8 through the selected kernel, the tail through the C
** library; compared with the portable lane for the groups */
static void test_rows_match_portable(void **state) {
    (void)state;
    enum { N = 4099 };
    float *x = malloc(N * sizeof *x), *g = malloc(N * sizeof *g), *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(g);
    assert_non_null(y);
    int64_t n = inputs(x, N);
    for (int64_t i = 0; i < n; i++)
        g[i] = frand(-3.0f, 3.0f);
    for (int64_t len = 1; len <= n; len = len < 40 ? len + 1 : len * 3) {
        ops_ggml_silu_row(x, y, len);
        for (int64_t i = 0; i < len; i++) {
            float want = i < len / 8 * 8 ? x[i] / (1.0f + ops_ggml_expf(0.0f - x[i]))
                                         : x[i] / (1.0f + expf(-x[i]));
            assert_true(same(y[i], want));
        }
        ops_ggml_swiglu_row(x, g, y, len);
        for (int64_t i = 0; i < len; i++) {
            float s = i < len / 8 * 8 ? x[i] / (1.0f + ops_ggml_expf(0.0f - x[i]))
                                      : x[i] / (1.0f + expf(-x[i]));
            assert_true(same(y[i], s * g[i]));
        }
    }
    free(x);
    free(g);
    free(y);
}

/* the softmax exponentials and ggml's sum (groups of 8 summed in float, padded with 0) */
static void test_softmax_exp(void **state) {
    (void)state;
    for (int64_t n = 1; n <= 40; n++) {
        float p[40], q[40];
        for (int64_t i = 0; i < n; i++)
            p[i] = q[i] = frand(-20.0f, 5.0f);
        float mx = -INFINITY;
        for (int64_t i = 0; i < n; i++)
            mx = p[i] > mx ? p[i] : mx;
        double got = ops_ggml_softmax_exp(p, n, mx), want = 0.0;
        for (int64_t i = 0; i < n; i += 8) {
            float v[8] = {0};
            for (int64_t l = 0; l < 8 && i + l < n; l++)
                v[l] = ops_ggml_expf(q[i + l] - mx);
            want += (double)(((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7])));
        }
        assert_true(got == want);
        for (int64_t i = 0; i < n; i++)
            assert_true(same(p[i], ops_ggml_expf(q[i] - mx)));
    }
}

/* The scores (8 keys per reduction, a last group of n % 8 beside zeros, nothing
** written past key n), one dot, and the probabilities times values against the
** lane-by-lane loops of ggml_ref.h: head sizes with and without a 32-element
** body and tail, key counts around 8. */
static void test_dot_scores_pv(void **state) {
    (void)state;
    static const int64_t Ds[] = {8, 16, 40, 64, 128};
    enum { NMAX = 75, STRIDE = 3 * 128 };
    static float q[128], k[NMAX * STRIDE], p[NMAX], got[NMAX], o[128], want[128];
    for (size_t c = 0; c < sizeof Ds / sizeof Ds[0]; c++) {
        int64_t D = Ds[c];
        for (int64_t n = 0; n <= NMAX; n++) {
            for (int64_t i = 0; i < D; i++)
                q[i] = frand(-2.0f, 2.0f);
            for (int64_t i = 0; i < NMAX * STRIDE; i++)
                k[i] = frand(-2.0f, 2.0f);
            for (int64_t t = 0; t < n; t++)
                p[t] = frand(0.0f, 1.0f);
            if (n < NMAX) got[n] = 1234.5f;
            ops_ggml_scores(q, k, STRIDE, n, D, 0.125f, got);
            if (n < NMAX) assert_true(got[n] == 1234.5f);
            for (int64_t t = 0; t < n; t++) {
                float dot = ref_ggml_dot(q, k + t * STRIDE, D);
                assert_true(same(got[t], dot * 0.125f));
                assert_true(same(ops_ggml_dot_f32(q, k + t * STRIDE, D), dot));
            }
            ops_ggml_pv(p, k, STRIDE, n, D, o);
            ref_ggml_pv(p, k, STRIDE, n, D, want);
            for (int64_t d = 0; d < D; d++)
                assert_true(same(o[d], want[d]));
            ops_ggml_pv_dot(p, k, STRIDE, n, D, o);
            ref_ggml_pv_dot(p, k, STRIDE, n, D, want);
            for (int64_t d = 0; d < D; d++)
                assert_true(same(o[d], want[d]));
        }
    }
}

/* The outputs of G heads that share the values (a decode step's group of query
** heads) against the one-head loop of ggml_ref.h, head by head: group sizes
** with and without a pair left over, head sizes with and without a 32-wide
** part, key counts around the 32 chains and past them. */
typedef struct pv_case {
    const float *p, *v;
    int64_t ps, vs, n, D;
} pv_case;

static void ref_pv_dot_row(int64_t r, float *want, void *ctx) {
    const pv_case *c = ctx;
    ref_ggml_pv_dot(c->p + r * c->ps, c->v, c->vs, c->n, c->D, want);
}

static void ref_pv_row(int64_t r, float *want, void *ctx) {
    const pv_case *c = ctx;
    ref_ggml_pv(c->p + r * c->ps, c->v, c->vs, c->n, c->D, want);
}

static void test_pv_dot_heads(void **state) {
    (void)state;
    static const int64_t Ds[] = {8, 40, 64, 128}, Gs[] = {1, 2, 3, 8};
    enum { NMAX = 100, STRIDE = 2 * 128, GMAX = 8, PS = NMAX + 3 };
    static float v[NMAX * STRIDE], p[GMAX * PS], o[GMAX * 130];
    static float work[GMAX * 32 * 128 + (NMAX + 31) / 32 * 32 * 128];
    for (size_t c = 0; c < sizeof Ds / sizeof Ds[0]; c++)
        for (size_t gi = 0; gi < sizeof Gs / sizeof Gs[0]; gi++) {
            int64_t D = Ds[c], G = Gs[gi];
            for (int64_t n = 0; n <= NMAX; n += n < 40 ? 1 : 7) {
                fill(v, NMAX * STRIDE, -2.0f, 2.0f);
                fill(p, GMAX * PS, 0.0f, 1.0f);
                assert_true(ops_ggml_pv_dot_heads_work(G, n, D) <=
                            (int64_t)(sizeof work / sizeof work[0]));
                ops_ggml_pv_dot_heads(p, PS, G, v, STRIDE, n, D, o, D + 2, work);
                pv_case pc = {p, v, PS, STRIDE, n, D};
                check_rows(o, D + 2, G, D, ref_pv_dot_row, &pc);
            }
        }
}

/* The outputs of R rows of probabilities from the values transposed (a prompt's
** heads of one query that read one KV head) against the lane-by-lane loop of
** ggml_ref.h, row by row: row counts around the 4-row tiles, head sizes around
** the 3-output tiles, key counts with and without a partial group of 8. */
static void test_pv_rows_t(void **state) {
    (void)state;
    static const int64_t Ds[] = {8, 40, 64, 128}, Rs[] = {1, 3, 4, 5, 8};
    enum { NMAX = 100, RMAX = 8, PS = NMAX + 5, VS = NMAX + 3 };
    static float v[NMAX * 128], vt[128 * VS], p[RMAX * PS], o[RMAX * 131];
    for (size_t c = 0; c < sizeof Ds / sizeof Ds[0]; c++)
        for (size_t ri = 0; ri < sizeof Rs / sizeof Rs[0]; ri++) {
            int64_t D = Ds[c], R = Rs[ri];
            for (int64_t n = 0; n <= NMAX; n += n < 20 ? 1 : 9) {
                fill(v, NMAX * D, -2.0f, 2.0f);
                for (int64_t t = 0; t < NMAX; t++)
                    for (int64_t d = 0; d < D; d++)
                        vt[d * VS + t] = v[t * D + d];
                fill(p, RMAX * PS, 0.0f, 1.0f);
                ops_ggml_pv_rows_t(p, PS, R, vt, VS, n, D, o, D + 3);
                pv_case pc = {p, v, PS, D, n, D};
                check_rows(o, D + 3, R, D, ref_pv_row, &pc);
            }
        }
}

/* RoPE's pairs: fma(x0, c, -(x1 s)) and fma(x0, s, x1 c), both styles, head
** sizes that fill whole vectors and ones that leave pairs over, in place too */
static void test_rope_row(void **state) {
    (void)state;
    enum { DMAX = 66 };
    static const int sizes[] = {2, 6, 8, 10, 16, 18, 30, 32, 34, 64, 66};
    float in[DMAX], out[DMAX], cs[DMAX], x[DMAX];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int D = sizes[k];
        for (int i = 0; i < D; i++)
            in[i] = frand(-4.0f, 4.0f), cs[i] = frand(-1.0f, 1.0f);
        for (int neox = 0; neox < 2; neox++) {
            ops_ggml_rope_row(in, out, cs, D, neox);
            memcpy(x, in, (size_t)D * sizeof x[0]);
            ops_ggml_rope_row(x, x, cs, D, neox);
            for (int i = 0; i < D / 2; i++) {
                int a = neox ? i : 2 * i, b = neox ? i + D / 2 : 2 * i + 1;
                float c = cs[2 * i], s = cs[2 * i + 1];
                assert_true(same(out[a], fmaf(in[a], c, -(in[b] * s))));
                assert_true(same(out[b], fmaf(in[a], s, in[b] * c)));
                assert_true(same(x[a], out[a]) && same(x[b], out[b]));
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expf_values),   cmocka_unit_test(test_rows_match_portable),
        cmocka_unit_test(test_softmax_exp),   cmocka_unit_test(test_rope_row),
        cmocka_unit_test(test_dot_scores_pv), cmocka_unit_test(test_pv_dot_heads),
        cmocka_unit_test(test_pv_rows_t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
