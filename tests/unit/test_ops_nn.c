/* tests/unit/test_ops_nn.c -- rms_norm, layer_norm, rope (NORM and NEOX),
** attention (GQA, causal, offsets), embedding, masks; against reference loops
** written from the formulas in ops.h and docs/llama.md. */
#include "ggml_ref.h"
#include "test_ops_util.h"

#include "runtime/status.h"

static void test_rms_norm(void **state) {
    (void)state;
    int64_t n = 48;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, n}, 1);
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){n}, 2), *o;
    float eps = 1e-5f;
    OK(tl_op_rms_norm(x, w, eps, &o));
    for (int r = 0; r < 3; r++) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = (float)at(x, r * n + i);
            sum += (double)(v * v);
        }
        float mean = (float)(sum / n), scale = 1.0f / sqrtf(mean + eps);
        for (int i = 0; i < n; i++)
            assert_true((float)at(o, r * n + i) ==
                        ((float)at(x, r * n + i) * scale) * (float)at(w, i));
    }
    tl_tensor_unref(o);
    /* w covering two trailing dims */
    tl_tensor *w2 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){3, n}, 3);
    OK(tl_op_rms_norm(x, w2, eps, &o));
    double sum = 0;
    for (int i = 0; i < 3 * n; i++)
        sum += (double)((float)at(x, i) * (float)at(x, i));
    float scale = 1.0f / sqrtf((float)(sum / (3 * n)) + eps);
    assert_true((float)at(o, 100) == ((float)at(x, 100) * scale) * (float)at(w2, 100));
    tl_tensor_unref(o);
    tl_tensor *bad = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){5}, 4);
    assert_int_equal(tl_op_rms_norm(x, bad, eps, &o), TL_ERR_SHAPE);
    assert_string_equal(tl_last_error(),
                        "rms_norm: weight [5] does not match the trailing dims of [3, 48]");
    tl_tensor_unref(bad);
    tl_tensor_unref(w2);
    tl_tensor_unref(x);
    tl_tensor_unref(w);
}

static void test_layer_norm(void **state) {
    (void)state;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, 6}, 5);
    tl_tensor *w = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){6}, 6);
    tl_tensor *b = mk_rand(TL_DTYPE_F32, 1, (int64_t[]){6}, 7), *o;
    OK(tl_op_layer_norm(x, w, b, 1e-5f, &o));
    for (int r = 0; r < 2; r++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < 6; i++)
            s += (float)at(x, r * 6 + i);
        float mean = (float)(s / 6);
        for (int i = 0; i < 6; i++) {
            float v = (float)at(x, r * 6 + i) - mean;
            s2 += (double)(v * v);
        }
        float scale = 1.0f / sqrtf((float)(s2 / 6) + 1e-5f);
        for (int i = 0; i < 6; i++) {
            float v = ((float)at(x, r * 6 + i) - mean) * scale;
            assert_true((float)at(o, r * 6 + i) == v * (float)at(w, i) + (float)at(b, i));
        }
    }
    tl_tensor_unref(o);
    tl_tensor_unref(x);
    tl_tensor_unref(w);
    tl_tensor_unref(b);
}

/* rope of a random [S, 2, D] against cos/sin computed here: positions offset ..
** offset + S - 1, or pos[s] (tl_op_rope_at) when pos is given; each pair turned
** with llama.cpp's fused multiply-adds (x0 c - x1 s = fma(x0, c, -(x1 s))). */
static void check_rope_at(tl_rope_style style, int64_t S, int64_t D, int64_t offset,
                          const int64_t *pos, float base) {
    int64_t H = 2;
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, (uint32_t)(9 + S + D)), *o;
    if (pos)
        OK(tl_op_rope_at(x, pos, S, base, style, &o));
    else
        OK(tl_op_rope(x, offset, base, style, &o));
    float theta_scale = powf(base, -2.0f / (float)D);
    for (int64_t s = 0; s < S; s++) {
        float theta = (float)(pos ? pos[s] : s + offset);
        for (int64_t i = 0; i < D / 2; i++) {
            float c = cosf(theta), sn = sinf(theta);
            for (int64_t h = 0; h < H; h++) {
                int64_t base_i = (s * H + h) * D;
                int64_t a = style == TL_ROPE_NEOX ? i : 2 * i;
                int64_t b = style == TL_ROPE_NEOX ? i + D / 2 : 2 * i + 1;
                float x0 = (float)at(x, base_i + a), x1 = (float)at(x, base_i + b);
                assert_true((float)at(o, base_i + a) == fmaf(x0, c, -(x1 * sn)));
                assert_true((float)at(o, base_i + b) == fmaf(x0, sn, x1 * c));
            }
            theta *= theta_scale;
        }
    }
    tl_tensor_unref(x);
    tl_tensor_unref(o);
}

static void check_rope(tl_rope_style style, int64_t offset, float base) {
    check_rope_at(style, 3, 8, offset, NULL, base);
}

/* The cos/sin table a thread keeps between rope calls (runtime/ops/rope_table.c):
** calls it covers, calls past its end, another head size, another base, another
** thread's calls, positions too far apart for a table, and scattered positions
** all give the values computed afresh. */
static void test_rope_table_reuse(void **state) {
    (void)state;
    check_rope_at(TL_ROPE_NORM, 3, 8, 5, NULL, 10000.0f);   /* table for 5 ..= 7 */
    check_rope_at(TL_ROPE_NORM, 1, 8, 6, NULL, 10000.0f);   /* inside it */
    check_rope_at(TL_ROPE_NORM, 3, 8, 7, NULL, 10000.0f);   /* past its end */
    check_rope_at(TL_ROPE_NORM, 3, 16, 7, NULL, 10000.0f);  /* another head size */
    check_rope_at(TL_ROPE_NEOX, 3, 16, 7, NULL, 500000.0f); /* another base */
    check_rope_at(TL_ROPE_NORM, 300, 64, 0, NULL, 10000.0f);
    check_rope_at(TL_ROPE_NORM, 2, 64, 298, NULL, 10000.0f);
    check_rope_at(TL_ROPE_NORM, 2, 64, 100000, NULL, 10000.0f);
    check_rope_at(TL_ROPE_NORM, 3, 64, 0, (const int64_t[]){4, 2, 3}, 10000.0f);
    check_rope_at(TL_ROPE_NORM, 3, 64, 0, (const int64_t[]){3, 9000, 5}, 10000.0f); /* no table */
    check_rope_at(TL_ROPE_NORM, 2, 64, 0, (const int64_t[]){3, 5}, 10000.0f);
    /* many rows at one position: the pool's threads read the caller's table */
    check_rope_at(TL_ROPE_NORM, 1, 4096, 12345, NULL, 10000.0f);
}

static void test_rope(void **state) {
    (void)state;
    check_rope(TL_ROPE_NORM, 0, 10000.0f);
    check_rope(TL_ROPE_NORM, 5, 10000.0f);
    check_rope(TL_ROPE_NEOX, 2, 500000.0f);
    /* position 0 is the identity */
    tl_tensor *x = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){1, 2, 4}, 1), *o;
    OK(tl_op_rope(x, 0, 10000.0f, TL_ROPE_NORM, &o));
    assert_same_bytes(x, o);
    tl_tensor_unref(o);
    tl_tensor *x2 = mk_rand(TL_DTYPE_F32, 2, (int64_t[]){2, 4}, 1);
    assert_int_equal(tl_op_rope(x2, 0, 10000.0f, TL_ROPE_NORM, &o), TL_ERR_SHAPE);
    assert_string_equal(tl_last_error(), "rope: x must be [.., S, H, D], got [2, 4]");
    tl_tensor_unref(x2);
    tl_tensor_unref(x);
}

/* reference attention with explicit K/V head expansion, in llama.cpp's
** arithmetic (ggml_ref.h): the full row of scores, masked ones -inf */
static void ref_attention(const tl_tensor *q, const tl_tensor *k, const tl_tensor *v, bool causal,
                          float scale, int64_t off, float *out) {
    int64_t S = q->ne[2], H = q->ne[1], D = q->ne[0], T = k->ne[2], Hkv = k->ne[1];
    const float *qp = tl_tensor_data((tl_tensor *)q), *kp = tl_tensor_data((tl_tensor *)k);
    const float *vp = tl_tensor_data((tl_tensor *)v);
    float p[64];
    for (int64_t s = 0; s < S; s++)
        for (int64_t h = 0; h < H; h++) {
            int64_t kh = h / (H / Hkv);
            float mx = -INFINITY;
            for (int64_t t = 0; t < T; t++) {
                float dot = ref_ggml_dot(qp + (s * H + h) * D, kp + (t * Hkv + kh) * D, D);
                p[t] = (causal && t > s + off) ? -INFINITY : dot * scale;
                if (p[t] > mx) mx = p[t];
            }
            float inv = (float)(1.0 / ref_ggml_softmax_exp(p, T, mx));
            for (int64_t t = 0; t < T; t++)
                p[t] *= inv;
            ref_ggml_pv(p, vp + kh * D, Hkv * D, T, D, out + (s * H + h) * D);
        }
}

static void test_attention(void **state) {
    (void)state;
    int64_t S = 3, T = 5, H = 4, Hkv = 2, D = 8;
    tl_tensor *q = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){S, H, D}, 1);
    tl_tensor *k = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 2);
    tl_tensor *v = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, Hkv, D}, 3), *o;
    float want[3 * 4 * 8];
    /* causal, default offset T - S, default scale */
    OK(tl_op_attention(q, k, v, true, 0.0f, -1, &o));
    assert_string_equal(shp(o), "[3, 4, 8]");
    ref_attention(q, k, v, true, 1.0f / sqrtf(8.0f), T - S, want);
    for (int i = 0; i < 96; i++)
        assert_true((float)at(o, i) == want[i]);
    tl_tensor_unref(o);
    /* not causal, explicit scale */
    OK(tl_op_attention(q, k, v, false, 0.125f, 0, &o));
    ref_attention(q, k, v, false, 0.125f, 0, want);
    for (int i = 0; i < 96; i++)
        assert_true((float)at(o, i) == want[i]);
    tl_tensor_unref(o);
    /* causal with offset 0: query 0 sees key 0 only, so its output is v[0] of its kv head */
    OK(tl_op_attention(q, k, v, true, 0.0f, 0, &o));
    for (int h = 0; h < H; h++)
        for (int d = 0; d < D; d++)
            assert_true((float)at(o, h * D + d) == (float)at(v, (h / 2) * D + d));
    tl_tensor_unref(o);
    /* GQA mismatch */
    tl_tensor *k3 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){T, 3, D}, 4);
    assert_int_equal(tl_op_attention(q, k3, k3, true, 0.0f, -1, &o), TL_ERR_SHAPE);
    assert_non_null(
        strstr(tl_last_error(), "attention: shapes [3, 4, 8], [5, 3, 8] and [5, 3, 8]"));
    tl_tensor_unref(k3);
    /* attention_apply of attention's own probabilities gives its output, bytes and all */
    tl_tensor *o1, *pr, *sc2, *ap;
    OK(tl_op_attention_probs(q, k, v, true, 0.0f, -1, &o1, &sc2, &pr));
    OK(tl_op_attention_apply(pr, v, &ap));
    assert_same_bytes(ap, o1);
    assert_int_equal(tl_op_attention_apply(pr, q, &o), TL_ERR_SHAPE); /* T 3 != 5 */
    assert_null(o);
    assert_non_null(strstr(tl_last_error(), "attention_apply: shapes [4, 3, 5] and [3, 4, 8]"));
    tl_tensor_unref(o1), tl_tensor_unref(pr), tl_tensor_unref(sc2), tl_tensor_unref(ap);
    /* and for one query (a decode step, llama.cpp's other order) */
    tl_tensor *q1 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){1, H, D}, 9);
    OK(tl_op_attention_probs(q1, k, v, true, 0.0f, -1, &o1, &sc2, &pr));
    OK(tl_op_attention_apply(pr, v, &ap));
    assert_same_bytes(ap, o1);
    tl_tensor_unref(o1), tl_tensor_unref(pr), tl_tensor_unref(sc2), tl_tensor_unref(ap);
    tl_tensor_unref(q1);
    tl_tensor_unref(q);
    tl_tensor_unref(k);
    tl_tensor_unref(v);
    /* D = 40: a dot's 32-element body and its tail; 11 keys: a partial group */
    tl_tensor *q4 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){4, 4, 40}, 5);
    tl_tensor *k4 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){11, 2, 40}, 6);
    tl_tensor *v4 = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){11, 2, 40}, 7);
    float want4[4 * 4 * 40];
    OK(tl_op_attention(q4, k4, v4, true, 0.0f, -1, &o));
    ref_attention(q4, k4, v4, true, 1.0f / sqrtf(40.0f), 11 - 4, want4);
    for (int i = 0; i < 4 * 4 * 40; i++)
        assert_true((float)at(o, i) == want4[i]);
    tl_tensor_unref(o);
    tl_tensor_unref(q4);
    tl_tensor_unref(k4);
    tl_tensor_unref(v4);
}

static void test_embedding_and_masks(void **state) {
    (void)state;
    tl_tensor *tab = mk_rand(TL_DTYPE_F16, 2, (int64_t[]){10, 4}, 1);
    tl_tensor *ids = mk(TL_DTYPE_I64, 2, (int64_t[]){2, 2}, (double[]){3, 0, 9, 3}), *o;
    OK(tl_op_embedding(tab, ids, &o));
    assert_string_equal(shp(o), "[2, 2, 4]");
    assert_int_equal(o->dtype, TL_DTYPE_F32);
    int want_rows[4] = {3, 0, 9, 3};
    for (int r = 0; r < 4; r++)
        for (int d = 0; d < 4; d++)
            assert_true(at(o, r * 4 + d) == at(tab, want_rows[r] * 4 + d));
    tl_tensor_unref(o);
    tl_tensor *bad = mk(TL_DTYPE_I32, 1, (int64_t[]){2}, (double[]){1, 10});
    assert_int_equal(tl_op_embedding(tab, bad, &o), TL_ERR_RANGE);
    assert_string_equal(tl_last_error(), "embedding: id 10 is out of range for a table of 10 rows");
    tl_tensor_unref(bad);
    tl_tensor *m;
    OK(tl_op_causal_mask(3, &m));
    double wm[9] = {1, 0, 0, 1, 1, 0, 1, 1, 1};
    for (int i = 0; i < 9; i++)
        assert_true(at(m, i) == wm[i]);
    tl_tensor *sc = mk_rand(TL_DTYPE_F32, 3, (int64_t[]){2, 3, 3}, 2);
    OK(tl_op_apply_attention_mask(sc, m, &o));
    assert_string_equal(shp(o), "[2, 3, 3]");
    for (int i = 0; i < 18; i++)
        assert_true((float)at(o, i) == (wm[i % 9] ? (float)at(sc, i) : -1e9f));
    tl_tensor_unref(o);
    tl_tensor_unref(sc);
    tl_tensor_unref(m);
    tl_tensor_unref(tab);
    tl_tensor_unref(ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rms_norm),  cmocka_unit_test(test_layer_norm),
        cmocka_unit_test(test_rope),      cmocka_unit_test(test_rope_table_reuse),
        cmocka_unit_test(test_attention), cmocka_unit_test(test_embedding_and_masks),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
