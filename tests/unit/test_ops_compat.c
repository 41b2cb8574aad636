/* tests/unit/test_ops_compat.c -- runtime/ops/compat.c against plain loops:
** the rope cos/sin tables and the cos/sin rope (and its agreement with
** tl_op_rope), attention_with_cache, batch_norm, dropout and apply_mask. */
#include "test_ops_util.h"

#include "runtime/random.h"

/* ---- rope tables and rope(x, cos, sin) ----------------------------------------------- */

static void test_rope_tables(void **state) {
    (void)state;
    const int64_t D = 8, N = 6;
    const float base = 10000.0f;
    tl_tensor *c, *s;
    OK(tl_op_rope_table(D, N, base, false, &c));
    OK(tl_op_rope_table(D, N, base, true, &s));
    assert_string_equal(shp(c), "[6, 8]");
    assert_int_equal(c->dtype, TL_DTYPE_F32);
    for (int64_t p = 0; p < N; p++)
        for (int64_t i = 0; i < D / 2; i++) {
            /* the angle in double; the table goes through float steps */
            double ang = (double)p * pow(10000.0, -2.0 * (double)i / (double)D);
            for (int k = 0; k < 2; k++) {
                assert_true(fabs(at(c, p * D + 2 * i + k) - cos(ang)) < 1e-5);
                assert_true(fabs(at(s, p * D + 2 * i + k) - sin(ang)) < 1e-5);
            }
            assert_true(at(c, p * D + 2 * i) == at(c, p * D + 2 * i + 1));
        }
    tl_tensor_unref(c);
    tl_tensor_unref(s);
    tl_tensor *o = NULL;
    assert_int_equal(tl_op_rope_table(7, 4, base, false, &o), TL_ERR_ARG);
    assert_null(o);
    assert_int_equal(tl_op_rope_table(8, -1, base, true, &o), TL_ERR_ARG);
}

/* The cos/sin form equals rope(x, 0) NORM on the same positions, bit for bit,
** for several layouts and dtypes, and with a longer table than S. */
static void test_rope_cs_equals_rope(void **state) {
    (void)state;
    const int64_t shapes[3][4] = {{5, 3, 8, 0}, {2, 4, 2, 16}, {7, 1, 64, 0}};
    const int nd[3] = {3, 4, 3};
    const tl_dtype dts[2] = {TL_DTYPE_F32, TL_DTYPE_F16};
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 2; t++) {
            tl_tensor *x = mk_rand(dts[t], nd[k], shapes[k], 11u + (uint32_t)k);
            int64_t D = shapes[k][nd[k] - 1], S = shapes[k][nd[k] - 3];
            tl_tensor *c, *s, *a, *b;
            OK(tl_op_rope_table(D, S + 9, 10000.0f, false, &c));
            OK(tl_op_rope_table(D, S + 9, 10000.0f, true, &s));
            OK(tl_op_rope_cs(x, c, s, &a));
            OK(tl_op_rope(x, 0, 10000.0f, TL_ROPE_NORM, &b));
            assert_same_bytes(a, b);
            tl_tensor_unref(a);
            tl_tensor_unref(b);
            /* another base too */
            tl_tensor_unref(c);
            tl_tensor_unref(s);
            OK(tl_op_rope_table(D, S, 500000.0f, false, &c));
            OK(tl_op_rope_table(D, S, 500000.0f, true, &s));
            OK(tl_op_rope_cs(x, c, s, &a));
            OK(tl_op_rope(x, 0, 500000.0f, TL_ROPE_NORM, &b));
            assert_same_bytes(a, b);
            tl_tensor_unref(a);
            tl_tensor_unref(b);
            tl_tensor_unref(c);
            tl_tensor_unref(s);
            tl_tensor_unref(x);
        }
}

/* With arbitrary tables: pair i of position s reads cos[s, 2i] and sin[s, 2i]. */
static void test_rope_cs_loop(void **state) {
    (void)state;
    const int64_t S = 3, H = 2, D = 6, R = 4;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 3);
    tl_tensor *c = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){R, D}, 4);
    tl_tensor *s = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){R, D}, 5);
    tl_tensor *o;
    OK(tl_op_rope_cs(x, c, s, &o));
    assert_string_equal(shp(o), "[3, 2, 6]");
    for (int64_t p = 0; p < S; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < D / 2; i++) {
                int64_t e = (p * H + h) * D + 2 * i;
                float x0 = (float)at(x, e), x1 = (float)at(x, e + 1);
                float cv = (float)at(c, p * D + 2 * i), sv = (float)at(s, p * D + 2 * i);
                assert_true((float)at(o, e) == fmaf(x0, cv, -(x1 * sv))); /* rope's FMAs */
                assert_true((float)at(o, e + 1) == fmaf(x0, sv, x1 * cv));
            }
    tl_tensor_unref(o);
    /* 2-d x [S, D] is one head */
    tl_tensor *x2 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){S, D}, 6), *x3, *o3;
    OK(tl_op_rope_cs(x2, c, s, &o));
    OK(tl_op_reshape(x2, 3, (int64_t[]){S, 1, D}, &x3));
    OK(tl_op_rope_cs(x3, c, s, &o3));
    assert_memory_equal(tl_tensor_data(o), tl_tensor_data(o3), (size_t)(S * D) * sizeof(float));
    tl_tensor_unref(o);
    tl_tensor_unref(o3);
    tl_tensor_unref(x3);
    tl_tensor_unref(x2);
    /* errors: table shorter than S, wrong width */
    tl_tensor *short_c = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, D}, 7);
    o = NULL;
    assert_int_equal(tl_op_rope_cs(x, short_c, short_c, &o), TL_ERR_SHAPE);
    assert_null(o);
    assert_string_equal(tl_last_error(),
                        "rope: cos [2, 6] and sin [2, 6] must both be [>= 3, 6] for x [3, 2, 6]");
    tl_tensor_unref(short_c);
    tl_tensor_unref(x);
    tl_tensor_unref(c);
    tl_tensor_unref(s);
}

/* ---- attention_with_cache ---------------------------------------------------------- */

/* Plain double loops: rope (NORM) on q at T-S+s, causal GQA attention, o·W_oᵀ. */
static void ref_attention_with_cache(const tl_tensor *q, const tl_tensor *kc, const tl_tensor *vc,
                                     const tl_tensor *wo, int64_t H, double base, double *y) {
    const int64_t S = q->ne[1], W = q->ne[0], T = kc->ne[1], D = W / H, Hkv = kc->ne[0] / D;
    const int64_t OUT = wo->ne[1];
    double *qr = calloc((size_t)(S * W), sizeof *qr), *o = calloc((size_t)(S * W), sizeof *o);
    double *sc = calloc((size_t)T, sizeof *sc);
    for (int64_t s = 0; s < S; s++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < D / 2; i++) {
                double ang = (double)(T - S + s) * pow(base, -2.0 * (double)i / (double)D);
                int64_t e = s * W + h * D + 2 * i;
                double x0 = at(q, e), x1 = at(q, e + 1);
                qr[e] = x0 * cos(ang) - x1 * sin(ang);
                qr[e + 1] = x0 * sin(ang) + x1 * cos(ang);
            }
    for (int64_t s = 0; s < S; s++)
        for (int64_t h = 0; h < H; h++) {
            int64_t kh = h / (H / Hkv), last = T - S + s;
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j <= last; j++) {
                double d = 0;
                for (int64_t i = 0; i < D; i++)
                    d += qr[s * W + h * D + i] * at(kc, j * Hkv * D + kh * D + i);
                sc[j] = d / sqrt((double)D);
                if (sc[j] > mx) mx = sc[j];
            }
            for (int64_t j = 0; j <= last; j++)
                sum += (sc[j] = exp(sc[j] - mx));
            for (int64_t i = 0; i < D; i++) {
                double acc = 0;
                for (int64_t j = 0; j <= last; j++)
                    acc += sc[j] / sum * at(vc, j * Hkv * D + kh * D + i);
                o[s * W + h * D + i] = acc;
            }
        }
    for (int64_t s = 0; s < S; s++)
        for (int64_t r = 0; r < OUT; r++) {
            double acc = 0;
            for (int64_t i = 0; i < W; i++)
                acc += o[s * W + i] * at(wo, r * W + i);
            y[s * OUT + r] = acc;
        }
    free(qr);
    free(o);
    free(sc);
}

static void check_awc(int64_t S, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t OUT,
                      int64_t pass_heads, float base) {
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){S, H * D}, 21);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){T, Hkv * D}, 22);
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){T, Hkv * D}, 23);
    tl_tensor *wo = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){OUT, H * D}, 24);
    tl_tensor *o;
    OK(tl_op_attention_with_cache(q, k, v, wo, pass_heads, base, &o));
    assert_int_equal(o->n_dims, 2);
    assert_int_equal(o->ne[1], S);
    assert_int_equal(o->ne[0], OUT);
    double *y = malloc((size_t)(S * OUT) * sizeof *y);
    ref_attention_with_cache(q, k, v, wo, H, base, y);
    double worst = 0;
    for (int64_t i = 0; i < S * OUT; i++) {
        double d = fabs(at(o, i) - y[i]) / (1.0 + fabs(y[i]));
        if (d > worst) worst = d;
    }
    assert_true(worst < 1e-4);
    free(y);
    tl_tensor_unref(o);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    tl_tensor_unref(wo);
}

static void test_attention_with_cache(void **state) {
    (void)state;
    check_awc(3, 5, 4, 2, 4, 6, 4, 10000.0f);  /* GQA 2:1, decode after a prefix */
    check_awc(4, 4, 6, 3, 8, 5, 6, 10000.0f);  /* prefill: S == T, causal */
    check_awc(1, 7, 8, 1, 6, 3, 8, 500000.0f); /* one query, MQA, other base */
    check_awc(2, 3, 2, 1, 64, 4, 0, 10000.0f); /* n_head inferred: width 128 / 64 */
    check_awc(2, 2, 4, 4, 2, 4, 4, 10000.0f);  /* MHA */

    tl_tensor *q = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, 96}, 1);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, 48}, 2);
    tl_tensor *wo = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){4, 96}, 3);
    tl_tensor *o = NULL;
    assert_int_equal(tl_op_attention_with_cache(q, k, k, wo, 0, 10000.0f, &o), TL_ERR_ARG);
    assert_string_equal(tl_last_error(), "attention_with_cache: Q width 96 is not a multiple of "
                                         "64; pass n_head explicitly");
    /* 96 = 4 heads of 24; Kc 48 = 2 KV heads: fine.  5 heads do not divide 96. */
    OK(tl_op_attention_with_cache(q, k, k, wo, 4, 10000.0f, &o));
    tl_tensor_unref(o);
    o = NULL;
    assert_int_equal(tl_op_attention_with_cache(q, k, k, wo, 5, 10000.0f, &o), TL_ERR_SHAPE);
    /* 8 heads of 12: Kc 48 = 4 KV heads, 8 % 4 == 0 fine; 3 heads of 32: 48 % 32 != 0 */
    assert_int_equal(tl_op_attention_with_cache(q, k, k, wo, 3, 10000.0f, &o), TL_ERR_SHAPE);
    /* cache shorter than the queries */
    tl_tensor *k1 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){1, 48}, 4);
    assert_int_equal(tl_op_attention_with_cache(q, k1, k1, wo, 4, 10000.0f, &o), TL_ERR_SHAPE);
    assert_null(o);
    tl_tensor_unref(k1);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(wo);
}

/* ---- batch_norm ------------------------------------------------------------------------ */

static void test_batch_norm(void **state) {
    (void)state;
    const int64_t N = 2, C = 3, L = 4;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){N, C, L}, 31);
    tl_tensor *mean = mk(TL_DTYPE_F32, 1, (int64_t[]){C}, (double[]){0.5, -1.0, 0.25});
    tl_tensor *var = mk(TL_DTYPE_F32, 1, (int64_t[]){C}, (double[]){1.0, 4.0, 0.5});
    tl_tensor *g = mk(TL_DTYPE_F32, 1, (int64_t[]){C}, (double[]){2.0, 0.5, -1.0});
    tl_tensor *b = mk(TL_DTYPE_F32, 1, (int64_t[]){C}, (double[]){0.0, 1.0, 3.0});
    tl_tensor *o;
    const double eps = 1e-5;
    OK(tl_op_batch_norm(x, mean, var, g, b, eps, &o));
    assert_string_equal(shp(o), "[2, 3, 4]");
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t l = 0; l < L; l++) {
                int64_t e = (n * C + c) * L + l;
                double want =
                    (at(x, e) - at(mean, c)) / sqrt(at(var, c) + eps) * at(g, c) + at(b, c);
                assert_true((float)at(o, e) == (float)want);
            }
    tl_tensor_unref(o);
    /* [N, C] and [C] layouts, single-value parameters */
    tl_tensor *x2 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){4, C}, 32), *one, *zero;
    OK(tl_tensor_scalar(TL_DTYPE_F32, 1.0, &one));
    OK(tl_tensor_scalar(TL_DTYPE_F32, 0.0, &zero));
    OK(tl_op_batch_norm(x2, mean, var, one, zero, 0.0, &o));
    for (int64_t e = 0; e < 4 * C; e++) {
        int64_t c = e % C;
        assert_true((float)at(o, e) == (float)((at(x2, e) - at(mean, c)) / sqrt(at(var, c))));
    }
    tl_tensor_unref(o);
    tl_tensor *x1 = mk(TL_DTYPE_F32, 1, (int64_t[]){C}, (double[]){1.0, 2.0, 3.0});
    OK(tl_op_batch_norm(x1, mean, var, g, b, eps, &o));
    for (int64_t c = 0; c < C; c++)
        assert_true(
            (float)at(o, c) ==
            (float)((at(x1, c) - at(mean, c)) / sqrt(at(var, c) + eps) * at(g, c) + at(b, c)));
    tl_tensor_unref(o);
    /* f16 in, f16 out */
    tl_tensor *xh = mk_rand(TL_DTYPE_F16, 2, (int64_t[]){2, C}, 33);
    OK(tl_op_batch_norm(xh, mean, var, g, b, eps, &o));
    assert_int_equal(o->dtype, TL_DTYPE_F16);
    tl_tensor_unref(o);
    /* wrong channel count */
    tl_tensor *bad = mk(TL_DTYPE_F32, 1, (int64_t[]){2}, (double[]){1, 2});
    o = NULL;
    assert_int_equal(tl_op_batch_norm(x, bad, var, g, b, eps, &o), TL_ERR_SHAPE);
    assert_null(o);
    assert_string_equal(tl_last_error(), "batch_norm: mean [2] must be [3] or a single value");
    tl_tensor *list[] = {x, mean, var, g, b, x2, one, zero, x1, xh, bad};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        tl_tensor_unref(list[i]);
}

/* ---- dropout and apply_mask -------------------------------------------------------------- */

static void test_dropout(void **state) {
    (void)state;
    const int64_t n = 1000;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){10, 100}, 41), *o;
    tl_rng rng;
    tl_rng_seed(&rng, 42);
    OK(tl_op_dropout(x, 0.5, false, &rng, &o));
    assert_ptr_equal(o, x); /* identity, no draws */
    tl_tensor_unref(o);
    OK(tl_op_dropout(x, 0.3, true, &rng, &o));
    assert_string_equal(shp(o), "[10, 100]");
    tl_rng ref;
    tl_rng_seed(&ref, 42);
    int dropped = 0;
    for (int64_t e = 0; e < n; e++) {
        float u = tl_rng_uniform_f32(&ref);
        float want = (double)u >= 0.3 ? (float)at(x, e) * (float)(1.0 / 0.7) : 0.0f;
        assert_true((float)at(o, e) == want);
        dropped += (double)u < 0.3;
    }
    assert_true(dropped > 230 && dropped < 370); /* about 300 of 1000 */
    tl_tensor_unref(o);
    OK(tl_op_dropout(x, 0.0, true, &rng, &o));
    for (int64_t e = 0; e < n; e++)
        assert_true(at(o, e) == at(x, e));
    tl_tensor_unref(o);
    OK(tl_op_dropout(x, 1.0, true, &rng, &o));
    for (int64_t e = 0; e < n; e++)
        assert_true(at(o, e) == 0.0);
    tl_tensor_unref(o);
    o = NULL;
    assert_int_equal(tl_op_dropout(x, 1.5, true, &rng, &o), TL_ERR_ARG);
    assert_null(o);
    assert_string_equal(tl_last_error(), "dropout: p = 1.5 is not in [0, 1]");
    tl_tensor_unref(x);
}

static void test_apply_mask(void **state) {
    (void)state;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, 4}, 51);
    tl_tensor *m = mk(TL_DTYPE_F32, 2, (int64_t[]){1, 4}, (double[]){1, 0, 2, 0});
    tl_tensor *o;
    OK(tl_op_apply_mask(x, m, &o));
    assert_string_equal(shp(o), "[3, 4]");
    assert_int_equal(o->dtype, TL_DTYPE_F32);
    for (int64_t e = 0; e < 12; e++)
        assert_true(at(o, e) == (at(m, e % 4) != 0 ? at(x, e) : 0.0));
    tl_tensor_unref(o);
    tl_tensor *bm = mk(TL_DTYPE_BOOL, 2, (int64_t[]){3, 1}, (double[]){0, 1, 1});
    OK(tl_op_apply_mask(x, bm, &o));
    for (int64_t e = 0; e < 12; e++)
        assert_true(at(o, e) == (e / 4 != 0 ? at(x, e) : 0.0));
    tl_tensor_unref(o);
    tl_tensor *bad = mk(TL_DTYPE_F32, 1, (int64_t[]){3}, (double[]){1, 1, 1});
    o = NULL;
    assert_int_equal(tl_op_apply_mask(x, bad, &o), TL_ERR_SHAPE);
    assert_null(o);
    tl_tensor_unref(bad);
    tl_tensor_unref(bm);
    tl_tensor_unref(x);
    tl_tensor_unref(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rope_tables),  cmocka_unit_test(test_rope_cs_equals_rope),
        cmocka_unit_test(test_rope_cs_loop), cmocka_unit_test(test_attention_with_cache),
        cmocka_unit_test(test_batch_norm),   cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_apply_mask),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
