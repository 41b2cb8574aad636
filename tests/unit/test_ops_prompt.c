/* tests/unit/test_ops_prompt.c -- the prompt's non-matmul ops against plain
** references written here, bit for bit (docs/performance/third_pass.md):
**   - the AVX2 expf kernel against the C library's expf over a sweep of all
**     float bit patterns, odd lengths, in place (skipped where ops_vexpf_ok()
**     says the kernel does not stand in for expf);
**   - silu (llama.cpp's, ggml_ref.h) and exp over odd sizes with the special
**     values; swiglu = silu then mul;
**   - fused attention (outputs, scores, probabilities) against llama.cpp's
**     arithmetic over the full row of scores (ggml_ref.h), the masked keys
**     -inf: causal and not, offsets, a query that sees nothing, NaN and
**     infinite scores, D % 8 == 0 (AVX2) and not (portable);
**   - rms_norm, rope and softmax against their formulas.
** malloc perturbs every new block (M_PERTURB), so an output element an op
** forgot to write shows up as garbage rather than as a lucky zero. */
#include "ggml_ref.h"
#include "test_ops_util.h"

#if defined(__x86_64__)
#define TL_X86_KERNELS 1
#endif
#include "runtime/ops/expf_kernels.h"

#include <malloc.h>
#include <stdio.h>

static bool same_bits(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_expf_kernels(void **state) {
    (void)state;
    if (!ops_vexpf_ok()) {
        printf("# the AVX2 expf kernels are not in use on this machine: nothing to compare\n");
        return;
    }
    enum { B = 4096 };
    static float x[B], y[B];
    uint64_t bad = 0, n = 0;
    /* every 1009th bit pattern (about 4.3 million inputs, all exponents, both signs) */
    for (uint64_t b0 = 0; b0 < (1ull << 32); b0 += (uint64_t)B * 1009) {
        int m = 0;
        for (uint64_t b = b0; m < B && b < (1ull << 32); b += 1009) {
            uint32_t u = (uint32_t)b;
            memcpy(&x[m++], &u, sizeof u);
        }
        tl_expf_avx2(x, y, m);
        for (int i = 0; i < m; i++, n++)
            bad += !same_bits(y[i], expf(x[i]));
    }
    assert_true(n > 4000000);
    assert_int_equal(bad, 0);
    /* odd lengths and offsets (the 8-wide body and the scalar tail), in place */
    const float sp[] = {0.0f,      -0.0f, 1e-45f,  -1e-45f, 88.0f,   -88.0f,
                        88.7f,     88.8f, -103.0f, -103.5f, -104.0f, INFINITY,
                        -INFINITY, NAN,   0.5f,    -20.0f,  3.25f};
    for (int len = 0; len <= 40; len++)
        for (int off = 0; off < 3; off++) {
            for (int i = 0; i < len + off; i++)
                x[i] = (i * 7) % 5 == 0 ? sp[i % 17] : (float)(i * 37 % 101) * 0.173f - 8.0f;
            memcpy(y, x, sizeof(float) * (size_t)(len + off));
            tl_expf_avx2(y + off, y + off, len);
            for (int i = off; i < len + off; i++)
                assert_true(same_bits(y[i], expf(x[i])));
        }
}

/* silu (llama.cpp's, groups of 8 from each row's start) and exp over odd sizes
** (rows and the long-row spans) equal the reference loops. */
static void test_unary_ops(void **state) {
    (void)state;
    const int64_t shapes[][2] = {{3, 37}, {1, 5000}, {7, 1}, {2, 2053}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, shapes[c], (uint32_t)c + 3);
        float *px = tl_tensor_data(x);
        int64_t n = tl_tensor_nelements(x);
        for (int64_t i = 0; i < n; i++)
            px[i] *= 12.0f;
        px[0] = 95.0f;
        if (n > 9) px[9] = -INFINITY, px[n - 1] = NAN, px[n / 2] = -92.0f;
        tl_tensor *s, *e;
        OK(tl_op_unary(TL_UN_SILU, x, &s));
        OK(tl_op_unary(TL_UN_EXP, x, &e));
        const float *ps = tl_tensor_data(s), *pe = tl_tensor_data(e);
        float *want = malloc((size_t)n * sizeof *want);
        assert_non_null(want);
        for (int64_t r = 0; r < shapes[c][0]; r++)
            ref_ggml_silu_row(px + r * shapes[c][1], want + r * shapes[c][1], shapes[c][1]);
        for (int64_t i = 0; i < n; i++) {
            assert_true(same_bits(ps[i], want[i]));
            assert_true(same_bits(pe[i], expf(px[i])));
        }
        free(want);
        tl_tensor_unref(s);
        tl_tensor_unref(e);
        tl_tensor_unref(x);
    }
}

/* softmax over the last axis against llama.cpp's loop (ggml_ref.h: float
** difference, its vector expf, float sums of 8 added in a double, one float
** scale): odd lengths, -inf entries and large magnitudes. */
static void softmax_ref(const float *x, float *y, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i];
    float scale = (float)(1.0 / ref_ggml_softmax_exp(y, n, mx));
    for (int64_t i = 0; i < n; i++)
        y[i] *= scale;
}

static void test_softmax(void **state) {
    (void)state;
    /* 19 rows (the rows path), one vocabulary-long row, short rows */
    const int64_t shapes[][2] = {{37, 3}, {1, 32000}, {1, 5}, {2, 2053}, {19, 2053}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, shapes[c], (uint32_t)c + 11);
        float *px = tl_tensor_data(x);
        int64_t rows = shapes[c][0], n = shapes[c][1]; /* [rows, n] */
        for (int64_t i = 0; i < n * rows; i++)
            px[i] *= 30.0f;
        if (n > 9) px[3] = -INFINITY, px[n / 2] = -200.0f, px[n - 1] = 150.0f;
        tl_tensor *y;
        OK(tl_op_softmax(x, -1, &y));
        const float *py = tl_tensor_data(y);
        float *want = malloc((size_t)n * sizeof *want);
        assert_non_null(want);
        for (int64_t r = 0; r < rows; r++) {
            softmax_ref(px + r * n, want, n);
            for (int64_t i = 0; i < n; i++)
                assert_true(same_bits(py[r * n + i], want[i]));
        }
        free(want);
        tl_tensor_unref(y);
        tl_tensor_unref(x);
    }
}

/* Rows of 8-row groups that a softmax handles apart: every entry -inf (uniform)
** and a NaN (the whole row NaN), between ordinary rows. */
static void test_softmax_special_rows(void **state) {
    (void)state;
    const int64_t shape[2] = {10, 64};
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, shape, 5);
    float *px = tl_tensor_data(x);
    for (int64_t i = 0; i < 64; i++)
        px[2 * 64 + i] = -INFINITY;
    px[5 * 64 + 17] = NAN;
    tl_tensor *y;
    OK(tl_op_softmax(x, -1, &y));
    const float *py = tl_tensor_data(y);
    float want[64];
    for (int64_t r = 0; r < 10; r++)
        for (int64_t i = 0; i < 64; i++) {
            float g = py[r * 64 + i];
            if (r == 2)
                assert_true(g == 1.0f / 64.0f);
            else if (r == 5)
                assert_true(isnan(g));
            else {
                if (i == 0) softmax_ref(px + r * 64, want, 64);
                assert_true(same_bits(g, want[i]));
            }
        }
    tl_tensor_unref(y);
    tl_tensor_unref(x);
}

/* swiglu(g, u) = silu(g) * u bit for bit: the fused pass over odd sizes with the
** special values (and the AVX2 kernel's tails), the fallback for a broadcast u. */
static void test_swiglu(void **state) {
    (void)state;
    const int64_t shapes[][2] = {{1, 13}, {3, 37}, {2, 2053}, {64, 88}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        tl_tensor *g = mk_rand(TL_DTYPE_F32, 2, shapes[c], (uint32_t)c + 60);
        tl_tensor *u = mk_rand(TL_DTYPE_F32, 2, shapes[c], (uint32_t)c + 70);
        float *pg = tl_tensor_data(g);
        int64_t n = tl_tensor_nelements(g);
        for (int64_t i = 0; i < n; i++)
            pg[i] *= 15.0f;
        pg[n - 1] = -100.0f;
        if (n > 9) pg[3] = NAN, pg[8] = INFINITY, pg[9] = -INFINITY;
        tl_tensor *y, *s, *want, *row, *yb, *wantb;
        OK(tl_op_swiglu(g, u, &y));
        OK(tl_op_unary(TL_UN_SILU, g, &s));
        OK(tl_op_binary(TL_BIN_MUL, s, u, &want));
        assert_same_bytes(y, want);
        row = mk_rand(TL_DTYPE_F32, 1, &shapes[c][1], 80);
        OK(tl_op_swiglu(g, row, &yb));
        OK(tl_op_binary(TL_BIN_MUL, s, row, &wantb));
        assert_same_bytes(yb, wantb);
        tl_tensor *v[] = {g, u, y, s, want, row, yb, wantb};
        for (size_t i = 0; i < 8; i++)
            tl_tensor_unref(v[i]);
    }
}

/* Attention the long way: every score of the row (-inf past the last visible
** key) one ggml dot times the scale, NaN row on a NaN score, uniform 1/T when
** nothing is visible, else ggml's softmax of the whole row, and the output over
** all T keys in the sgemm order, or for a single query the vec_dot order
** (ggml_ref.h). */
static void attn_ref(const float *q, const float *k, const float *v, int64_t S, int64_t T,
                     int64_t H, int64_t Hkv, int64_t D, bool causal, int64_t off, float *o,
                     float *sc, float *pr) {
    float scale = 1.0f / sqrtf((float)D);
    int64_t base = off >= 0 ? off : T - S, group = H / Hkv;
    if (base > T) base = T;
    float *p = malloc((size_t)T * sizeof(float));
    for (int64_t s = 0; s < S; s++)
        for (int64_t h = 0; h < H; h++) {
            int64_t kvh = h / group, last = causal ? s + base : T - 1;
            const float *qr = q + (s * H + h) * D;
            float mx = -INFINITY;
            bool nan = false;
            for (int64_t t = 0; t < T; t++) {
                if (t > last) {
                    p[t] = -INFINITY;
                    continue;
                }
                p[t] = ref_ggml_dot(qr, k + (t * Hkv + kvh) * D, D) * scale;
                if (p[t] > mx) mx = p[t];
                if (p[t] != p[t]) nan = true;
            }
            memcpy(sc + (h * S + s) * T, p, (size_t)T * sizeof(float));
            float *orow = o + (s * H + h) * D;
            if (nan) {
                for (int64_t d = 0; d < D; d++)
                    orow[d] = NAN;
            } else {
                if (mx == -INFINITY) {
                    for (int64_t t = 0; t < T; t++)
                        p[t] = 1.0f / (float)T;
                } else {
                    float inv = (float)(1.0 / ref_ggml_softmax_exp(p, T, mx));
                    for (int64_t t = 0; t < T; t++)
                        p[t] *= inv;
                }
                if (S == 1) /* one query: llama.cpp's vec_dot order */
                    ref_ggml_pv_dot(p, v + kvh * D, Hkv * D, T, D, orow);
                else
                    ref_ggml_pv(p, v + kvh * D, Hkv * D, T, D, orow);
            }
            memcpy(pr + (h * S + s) * T, p, (size_t)T * sizeof(float));
        }
    free(p);
}

/* The same floats bit for bit, except that any NaN matches any NaN (which NaN a
** vector kernel and a scalar loop produce from inf - inf may differ in sign). */
static void assert_same_floats(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(a[i] != a[i] && b[i] != b[i])) assert_true(same_bits(a[i], b[i]));
}

static void check_attn(int64_t S, int64_t T, int64_t H, int64_t Hkv, int64_t D, bool causal,
                       int64_t off, int special) {
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, (uint32_t)(S * 31 + D));
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, (uint32_t)(T * 7 + H));
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, (uint32_t)(T + 5));
    float *pq = tl_tensor_data(q), *pk = tl_tensor_data(k);
    if (special) { /* a NaN query row, an infinite key (+-inf and NaN scores) */
        pq[(S / 2 * H + 0) * D + 1] = NAN;
        pk[(1 * Hkv + 0) * D + 0] = INFINITY;
        pq[((S - 1) * H + H - 1) * D] = 1e30f;
    }
    size_t no = (size_t)(S * H * D), np = (size_t)(H * S * T);
    float *o = malloc(no * sizeof(float)), *sc = malloc(np * sizeof(float)),
          *pr = malloc(np * sizeof(float));
    attn_ref(pq, pk, tl_tensor_data(v), S, T, H, Hkv, D, causal, off, o, sc, pr);
    for (int threads = 1; threads <= 2; threads++) {
        OK(tl_threadpool_set_threads(threads));
        tl_tensor *ot, *o2, *st, *pt;
        OK(tl_op_attention(q, k, v, causal, 0.0f, off, &ot));
        OK(tl_op_attention_probs(q, k, v, causal, 0.0f, off, &o2, &st, &pt));
        assert_same_floats(tl_tensor_data(ot), o, no);
        assert_same_floats(tl_tensor_data(o2), o, no);
        assert_same_floats(tl_tensor_data(st), sc, np);
        assert_same_floats(tl_tensor_data(pt), pr, np);
        tl_tensor_unref(ot);
        tl_tensor_unref(o2);
        tl_tensor_unref(st);
        tl_tensor_unref(pt);
    }
    free(o);
    free(sc);
    free(pr);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
}

static void test_attention_reference(void **state) {
    (void)state;
    check_attn(64, 64, 32, 4, 64, true, 0, 0);   /* a TinyLlama-shaped prompt */
    check_attn(1, 40, 8, 2, 64, true, 39, 0);    /* one decode step */
    check_attn(1, 77, 4, 1, 64, true, 76, 0);    /* decode past two groups of 32 keys */
    check_attn(4, 44, 8, 2, 64, true, 40, 0);    /* a few tokens after a cached prompt */
    check_attn(1, 37, 16, 2, 64, true, 36, 0);   /* decode, 8 heads per KV head */
    check_attn(1, 150, 32, 4, 64, true, 149, 0); /* TinyLlama decode past two blocks of keys */
    check_attn(1, 150, 12, 4, 40, true, 97, 0);  /* 3 heads per KV head, 98 of 150 keys seen */
    check_attn(9, 21, 16, 2, 32, true, -1, 0);   /* the last block of one query */
    check_attn(1, 6, 8, 1, 16, true, 5, 1);      /* NaN and infinite scores */
    check_attn(1, 6, 8, 2, 16, true, 5, 1);
    check_attn(1, 19, 6, 3, 16, true, 18, 0);  /* decode, 2 heads per KV head */
    check_attn(13, 29, 6, 3, 12, true, -1, 0); /* odd sizes: the last 13 of 29 positions */
    check_attn(17, 17, 4, 1, 20, true, 0, 0);  /* a partial last block of queries */
    check_attn(9, 9, 4, 1, 6, true, 0, 0);     /* D % 8 != 0: the portable loops */
    check_attn(3, 11, 4, 2, 80, true, -1, 0);  /* D = 80: a dot's body and its tail */
    check_attn(5, 3, 2, 1, 8, true, -1, 0);    /* S > T: the first queries see nothing */
    check_attn(5, 3, 2, 1, 6, true, -1, 0);
    check_attn(7, 11, 4, 2, 20, false, -1, 0); /* not causal */
    check_attn(12, 12, 4, 2, 16, true, 0, 1);  /* NaN and infinite scores */
    check_attn(12, 12, 4, 2, 10, true, 0, 1);
    OK(tl_threadpool_set_threads(1));
}

/* rms_norm: sum of (double)(x * x) in order, mean and scale in float, (x * scale) * w;
** row counts around the four-row groups, with and without a weight, a 2-d weight. */
static void test_rms_norm(void **state) {
    (void)state;
    const int64_t cases[][3] = {{1, 7, 1},  {3, 2048, 1}, {4, 33, 1},
                                {5, 64, 0}, {9, 129, 1},  {6, 10, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t R = cases[c][0], n = cases[c][1];
        tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){R, n}, (uint32_t)c + 40), *w = NULL;
        if (cases[c][2] == 1) w = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){n}, (uint32_t)c + 50);
        if (cases[c][2] == 2) { /* a [2, 5] weight over rows of 10 (x seen as [6, 2, 5]) */
            tl_tensor *x3 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){R, 2, n / 2}, 77);
            tl_tensor_unref(x);
            x = x3;
            w = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, n / 2}, 78);
        }
        tl_tensor *y;
        OK(tl_op_rms_norm(x, w, 1e-5f, &y));
        const float *px = tl_tensor_data(x), *pw = w ? tl_tensor_data(w) : NULL,
                    *py = tl_tensor_data(y);
        for (int64_t r = 0; r < R; r++) {
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++)
                sum += (double)(px[r * n + i] * px[r * n + i]);
            float mean = (float)(sum / (double)n), scale = 1.0f / sqrtf(mean + 1e-5f);
            for (int64_t i = 0; i < n; i++) {
                float want = px[r * n + i] * scale;
                if (pw) want = want * pw[i];
                assert_true(same_bits(py[r * n + i], want));
            }
        }
        tl_tensor_unref(y);
        tl_tensor_unref(x);
        tl_tensor_unref(w);
    }
}

/* rope (both styles) against its formula: per position, theta = pos, then *= base^(-2/D)
** per pair; the input is left as it was. */
static void test_rope(void **state) {
    (void)state;
    int64_t S = 5, H = 3, D = 10, off = 3;
    for (int style = 0; style < 2; style++) {
        tl_rope_style rs = style ? TL_ROPE_NEOX : TL_ROPE_NORM;
        tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 91), *y;
        float *px = tl_tensor_data(x);
        float *keep = malloc((size_t)(S * H * D) * sizeof(float));
        memcpy(keep, px, (size_t)(S * H * D) * sizeof(float));
        OK(tl_op_rope(x, off, 10000.0f, rs, &y));
        assert_memory_equal(px, keep, (size_t)(S * H * D) * sizeof(float));
        const float *py = tl_tensor_data(y);
        float ts = powf(10000.0f, -2.0f / (float)D);
        for (int64_t s = 0; s < S; s++)
            for (int64_t h = 0; h < H; h++) {
                float theta = (float)(s + off);
                const float *in = px + (s * H + h) * D;
                const float *o = py + (s * H + h) * D;
                for (int64_t i = 0; i < D / 2; i++) {
                    int64_t a = style ? i : 2 * i, b = style ? i + D / 2 : 2 * i + 1;
                    float c = cosf(theta), sn = sinf(theta);
                    assert_true(same_bits(o[a], fmaf(in[a], c, -(in[b] * sn))));
                    assert_true(same_bits(o[b], fmaf(in[a], sn, in[b] * c)));
                    theta *= ts;
                }
            }
        free(keep);
        tl_tensor_unref(y);
        tl_tensor_unref(x);
    }
}

int main(void) {
#ifdef M_PERTURB
    mallopt(M_PERTURB, 0xa5);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expf_kernels), cmocka_unit_test(test_unary_ops),
        cmocka_unit_test(test_swiglu),       cmocka_unit_test(test_attention_reference),
        cmocka_unit_test(test_rms_norm),     cmocka_unit_test(test_rope),
        cmocka_unit_test(test_softmax),      cmocka_unit_test(test_softmax_special_rows),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
