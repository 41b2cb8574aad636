/* tests/unit/test_ops_llama.c -- a llama forward pass built from the ops
** (embedding, rms_norm, linear, rope, attention, silu, mul, add) on the test
** models, against llama.cpp's recorded logits ($TL_TEST_MODELS/refs, docs/reference.md):
** max |diff| <= 1e-4 and the same top-1 at every position
** (docs/llama.md).  Skips (77) when the models are absent. */
#include "test_ops_util.h"

#include "runtime/model.h"
#include "runtime/status.h"

#include <stdio.h>

typedef struct ref_case {
    const char *model, *logits;
    int64_t tokens[5];
} ref_case;

static const ref_case cases[] = {
    {"stories260K.gguf", "refs/stories260K.once.all.f32", {1, 403, 407, 261, 378}},
    {"stories260K-q8_0.gguf", "refs/stories260K-q8_0.once.all.f32", {1, 403, 407, 261, 378}},
    {"stories260K-q4_0.gguf", "refs/stories260K-q4_0.once.all.f32", {1, 403, 407, 261, 378}},
    {"synthetic-small-q4_0.gguf",
     "refs/synthetic-small-q4_0.once.all.f32",
     {1, 9038, 2501, 263, 931}},
};

static char models_dir[1024];

static bool have(const char *rel) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", models_dir, rel);
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static tl_tensor *W(const tl_model *m, const char *fmt, int layer) {
    char name[128];
    snprintf(name, sizeof name, fmt, layer);
    tl_tensor *t;
    OK(tl_model_tensor(m, name, &t));
    return t;
}

/* *x = *nx (the op's result), dropping the old x; nx is a pointer so that it is
** read after the op in `step(&x, op(x, &tmp), &tmp)` has run */
static void step(tl_tensor **x, tl_status st, tl_tensor **nx) {
    OK(st);
    tl_tensor_unref(*x);
    *x = *nx;
}

static tl_tensor *forward(const tl_model *m, const tl_llama_config *c, const int64_t *toks, int S) {
    tl_tensor *ids = mk(TL_DTYPE_I64, 1, (int64_t[]){S}, NULL), *x, *tmp;
    for (int i = 0; i < S; i++)
        ((int64_t *)tl_tensor_data(ids))[i] = toks[i];
    tl_tensor *emb = W(m, "token_embd.weight", 0);
    OK(tl_op_embedding(emb, ids, &x));
    float eps = (float)c->eps, base = (float)c->rope_base;
    int64_t H = c->n_head, Hkv = c->n_head_kv, D = c->head_dim;
    for (int l = 0; l < c->n_layer; l++) {
        tl_tensor *an = W(m, "blk.%d.attn_norm.weight", l), *n, *q, *k, *v, *a, *o;
        OK(tl_op_rms_norm(x, an, eps, &n));
        tl_tensor *wq = W(m, "blk.%d.attn_q.weight", l), *wk = W(m, "blk.%d.attn_k.weight", l),
                  *wv = W(m, "blk.%d.attn_v.weight", l), *wo = W(m, "blk.%d.attn_output.weight", l);
        OK(tl_op_linear(n, wq, NULL, &q));
        OK(tl_op_linear(n, wk, NULL, &k));
        OK(tl_op_linear(n, wv, NULL, &v));
        step(&q, tl_op_reshape(q, 3, (int64_t[]){S, H, D}, &tmp), &tmp);
        step(&k, tl_op_reshape(k, 3, (int64_t[]){S, Hkv, D}, &tmp), &tmp);
        step(&v, tl_op_reshape(v, 3, (int64_t[]){S, Hkv, D}, &tmp), &tmp);
        step(&q, tl_op_rope(q, 0, base, TL_ROPE_NORM, &tmp), &tmp);
        step(&k, tl_op_rope(k, 0, base, TL_ROPE_NORM, &tmp), &tmp);
        OK(tl_op_attention(q, k, v, true, 0.0f, 0, &a));
        step(&a, tl_op_reshape(a, 2, (int64_t[]){S, H * D}, &tmp), &tmp);
        OK(tl_op_linear(a, wo, NULL, &o));
        step(&x, tl_op_binary(TL_BIN_ADD, x, o, &tmp), &tmp);
        tl_tensor *fn = W(m, "blk.%d.ffn_norm.weight", l), *wg = W(m, "blk.%d.ffn_gate.weight", l),
                  *wu = W(m, "blk.%d.ffn_up.weight", l), *wd = W(m, "blk.%d.ffn_down.weight", l);
        tl_tensor *mm, *g, *u, *h, *d;
        OK(tl_op_rms_norm(x, fn, eps, &mm));
        OK(tl_op_linear(mm, wg, NULL, &g));
        OK(tl_op_linear(mm, wu, NULL, &u));
        step(&g, tl_op_unary(TL_UN_SILU, g, &tmp), &tmp);
        OK(tl_op_binary(TL_BIN_MUL, g, u, &h));
        OK(tl_op_linear(h, wd, NULL, &d));
        step(&x, tl_op_binary(TL_BIN_ADD, x, d, &tmp), &tmp);
        tl_tensor *all[] = {an, n, wq, wk, wv, wo, q, k, v, a, o, fn, wg, wu, wd, mm, g, u, h, d};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            tl_tensor_unref(all[i]);
    }
    tl_tensor *on = W(m, "output_norm.weight", 0), *out_w, *logits;
    if (tl_model_find_tensor(m, "output.weight"))
        out_w = W(m, "output.weight", 0);
    else
        out_w = tl_tensor_ref(emb);
    step(&x, tl_op_rms_norm(x, on, eps, &tmp), &tmp);
    OK(tl_op_linear(x, out_w, NULL, &logits));
    tl_tensor_unref(x);
    tl_tensor_unref(on);
    tl_tensor_unref(out_w);
    tl_tensor_unref(emb);
    tl_tensor_unref(ids);
    return logits;
}

static void test_against_llama_cpp(void **state) {
    (void)state;
    int ran = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const ref_case *rc = &cases[ci];
        if (!have(rc->model) || !have(rc->logits)) {
            printf("skipping %s: not found under %s\n", rc->model, models_dir);
            continue;
        }
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", models_dir, rc->model);
        tl_model *m;
        OK(tl_model_load(path, &m));
        tl_llama_config c;
        OK(tl_model_llama_config(m, &c));
        tl_tensor *logits = forward(m, &c, rc->tokens, 5);
        int64_t V = logits->ne[0];
        assert_int_equal(V, c.n_vocab);
        snprintf(path, sizeof path, "%s/%s", models_dir, rc->logits);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        float *ref = malloc((size_t)(5 * V) * sizeof(float));
        assert_int_equal(fread(ref, sizeof(float), (size_t)(5 * V), f), (size_t)(5 * V));
        fclose(f);
        const float *got = tl_tensor_data(logits);
        double maxd = 0;
        for (int p = 0; p < 5; p++) {
            int64_t bg = 0, br = 0;
            for (int64_t i = 0; i < V; i++) {
                double d = fabs((double)got[p * V + i] - ref[p * V + i]);
                if (d > maxd) maxd = d;
                if (got[p * V + i] > got[p * V + bg]) bg = i;
                if (ref[p * V + i] > ref[p * V + br]) br = i;
            }
            assert_int_equal(bg, br);
        }
        printf("%s: max |logit - llama.cpp| = %.3g over 5 positions x %lld\n", rc->model, maxd,
               (long long)V);
        assert_true(maxd <= 1e-4);
        free(ref);
        tl_tensor_unref(logits);
        tl_model_unref(m);
        ran++;
    }
    if (ran == 0) skip();
}

int main(void) {
    const char *dir = getenv("TL_TEST_MODELS");
    snprintf(models_dir, sizeof models_dir, "%s", dir && *dir ? dir : "../shared/models");
    if (!have(cases[0].model)) {
        printf("SKIPPED: %s/%s not found (set TL_TEST_MODELS)\n", models_dir, cases[0].model);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_llama_cpp),
    };
    return cmocka_run_group_tests(tests, NULL, stop_pool);
}
