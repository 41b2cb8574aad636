/* tests/unit/test_shadow.c -- weight shadows (runtime/shadow.h) on the shared
** test models (skipped when absent): which models get them, which layout each
** weight gets, linears bit-identical before and after a shadow exists (one
** token and several, one weight and several at once), and the weight's view
** still reading the file's bytes after its pages were dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/model.h"
#include "runtime/ops.h"
#include "runtime/quant/q4_0x16.h"
#include "runtime/shadow.h"
#include "runtime/tensor.h"

static char model_dir[1024];

/* shadows are made where the Q4_0x16 kernels run (not on other CPUs) */
static bool x16(void) {
    return tl_q4_0x16_gemv_available() && tl_q4_0x16_gemm_available();
}

static tl_model *load(const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", model_dir, name);
    tl_model *m;
    assert_int_equal(tl_model_load(path, &m), TL_OK);
    return m;
}

static tl_tensor *rand_x(int64_t rows, int64_t n, uint32_t seed) {
    tl_tensor *x;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 2, (int64_t[]){n, rows}, &x), TL_OK);
    float *d = tl_tensor_data(x);
    for (int64_t i = 0; i < rows * n; i++) {
        seed = seed * 1664525u + 1013904223u;
        d[i] = (float)((int32_t)(seed >> 8) % 2001) / 500.0f;
    }
    return x;
}

static void assert_same(const tl_tensor *a, const tl_tensor *b) {
    assert_int_equal(tl_tensor_nbytes(a), tl_tensor_nbytes(b));
    assert_memory_equal(tl_tensor_data(a), tl_tensor_data(b), tl_tensor_nbytes(a));
}

/* linear(x, w) for 1 and 5 rows, and linear_many over ws for 1 and 5 rows (5:
** the weights' shadows share one layout of the activations), before any shadow
** and after every shadow: the same bits */
static void test_linears_same_with_shadows(void **state) {
    (void)state;
    tl_model *m = load("synthetic-small-q4_0.gguf");
    assert_int_equal(tl_model_has_shadows(m), x16());
    if (!x16()) {
        tl_model_unref(m);
        skip();
    }
    tl_tensor *wq = tl_model_find_tensor(m, "blk.0.attn_q.weight");
    tl_tensor *wk = tl_model_find_tensor(m, "blk.0.attn_k.weight");
    tl_tensor *head = tl_model_find_tensor(m, "output.weight"); /* q6_K */
    assert_non_null(wq);
    assert_non_null(wk);
    assert_non_null(head);
    assert_null(wq->shadow);
    size_t row_bytes = wq->nb[1];
    char *row0 = malloc(row_bytes);
    memcpy(row0, tl_tensor_data(wq), row_bytes);

    tl_tensor *x1 = rand_x(1, 256, 7), *x5 = rand_x(5, 256, 11);
    const tl_tensor *ws[2] = {wq, wk};
    tl_tensor *before[8], *after[8];
    assert_int_equal(tl_op_linear(x1, wq, NULL, &before[0]), TL_OK); /* asks for wq's shadow */
    assert_int_equal(tl_op_linear(x5, wq, NULL, &before[1]), TL_OK);
    assert_int_equal(tl_op_linear(x1, head, NULL, &before[2]), TL_OK);
    assert_int_equal(tl_op_linear(x5, head, NULL, &before[3]), TL_OK);
    assert_int_equal(tl_op_linear_many(x1, ws, 2, &before[4]), TL_OK); /* two outputs */
    assert_int_equal(tl_op_linear_many(x5, ws, 2, &before[6]), TL_OK);
    tl_shadow_wait();
    assert_non_null(wq->shadow);
    assert_non_null(wk->shadow);
    assert_non_null(head->shadow);
    int want = tl_q4_0x16_gemv_available() && tl_q4_0x16_gemm_available() ? TL_SHADOW_Q4_0X16
                                                                          : TL_SHADOW_COPY;
    assert_int_equal(wq->shadow_kind, want);
    assert_int_equal(wq->shadow_rows, 256);
    assert_int_equal(wk->shadow_rows, 64);
    assert_int_equal(head->shadow_kind, TL_SHADOW_COPY);
    assert_int_equal(tl_op_linear(x1, wq, NULL, &after[0]), TL_OK);
    assert_int_equal(tl_op_linear(x5, wq, NULL, &after[1]), TL_OK);
    assert_int_equal(tl_op_linear(x1, head, NULL, &after[2]), TL_OK);
    assert_int_equal(tl_op_linear(x5, head, NULL, &after[3]), TL_OK);
    assert_int_equal(tl_op_linear_many(x1, ws, 2, &after[4]), TL_OK);
    assert_int_equal(tl_op_linear_many(x5, ws, 2, &after[6]), TL_OK);
    for (int i = 0; i < 8; i++) {
        assert_same(before[i], after[i]);
        tl_tensor_unref(before[i]);
        tl_tensor_unref(after[i]);
    }
    /* the view reads the file's bytes again after its pages left the process */
    assert_memory_equal(tl_tensor_data(wq), row0, row_bytes);
    /* a weight the caller keeps outlives its model, shadow and all */
    tl_tensor *keep = tl_tensor_ref(wq);
    tl_model_unref(m);
    tl_tensor *again;
    assert_int_equal(tl_op_linear(x1, keep, NULL, &again), TL_OK);
    tl_tensor_unref(again);
    tl_tensor_unref(keep);
    tl_tensor_unref(x1);
    tl_tensor_unref(x5);
    free(row0);
}

/* Shadows follow the weights' types, the CPU and TL_WEIGHT_SHADOWS; a file
** without Q4_0 matrices keeps the background move instead. */
static void test_which_models(void **state) {
    (void)state;
    tl_model *f32 = load("stories260K.gguf"); /* no quantized 2-D weight */
    assert_false(tl_model_has_shadows(f32));
    tl_tensor *w = tl_model_find_tensor(f32, "blk.0.attn_q.weight");
    assert_int_equal(w->shadow_allow, 0);
    tl_model_unref(f32);
    tl_model *mixed = load("stories260K-q4_0.gguf"); /* q4_0, q8_0 and f16 weights */
    assert_int_equal(tl_model_has_shadows(mixed), x16());
    assert_int_equal(tl_model_find_tensor(mixed, "blk.0.attn_q.weight")->shadow_allow,
                     x16() ? 2 : 0);
    assert_int_equal(tl_model_find_tensor(mixed, "output.weight")->shadow_allow, x16() ? 2 : 0);
    assert_int_equal(tl_model_find_tensor(mixed, "blk.0.ffn_down.weight")->shadow_allow, 0);
    assert_int_equal(tl_model_find_tensor(mixed, "blk.0.attn_norm.weight")->shadow_allow, 0);
    tl_model_unref(mixed);
    tl_model *q8 = load("stories260K-q8_0.gguf"); /* no q4_0 matrix */
    assert_false(tl_model_has_shadows(q8));
    tl_model_unref(q8);
    setenv("TL_WEIGHT_SHADOWS", "0", 1);
    tl_model *off = load("synthetic-small-q4_0.gguf");
    unsetenv("TL_WEIGHT_SHADOWS");
    assert_false(tl_model_has_shadows(off));
    tl_tensor *x = rand_x(1, 256, 3), *y;
    tl_tensor *wq = tl_model_find_tensor(off, "blk.0.attn_q.weight");
    assert_int_equal(tl_op_linear(x, wq, NULL, &y), TL_OK);
    tl_shadow_wait();
    assert_null(wq->shadow);
    tl_tensor_unref(y);
    tl_tensor_unref(x);
    tl_model_unref(off);
}

/* Shadows copied in many small pieces (the file pages dropped piece by piece)
** give the same shadows and the same linears. */
static void test_small_pieces(void **state) {
    (void)state;
    if (!x16()) skip();
    tl_model *a = load("synthetic-small-q4_0.gguf");
    tl_shadow_set_piece(4096); /* 16 rows a piece: every weight in several */
    tl_model *b = load("synthetic-small-q4_0.gguf");
    const char *names[] = {"blk.1.attn_q.weight", "blk.1.ffn_down.weight", "output.weight"};
    tl_tensor *x = rand_x(3, 256, 5);
    for (size_t i = 0; i < 3; i++) {
        tl_tensor *wa = tl_model_find_tensor(a, names[i]), *wb = tl_model_find_tensor(b, names[i]);
        if (wa->ne[0] != 256) continue; /* ffn_down reads 704 */
        tl_tensor *ya, *yb;
        assert_int_equal(tl_op_linear(x, wa, NULL, &ya), TL_OK);
        assert_int_equal(tl_op_linear(x, wb, NULL, &yb), TL_OK);
        tl_tensor_unref(ya);
        tl_tensor_unref(yb);
    }
    tl_tensor *w704 = tl_model_find_tensor(b, "blk.1.ffn_down.weight");
    tl_tensor *x704 = rand_x(1, 704, 9), *y0, *y1;
    assert_int_equal(tl_op_linear(x704, w704, NULL, &y0), TL_OK);
    tl_tensor *ya704;
    assert_int_equal(
        tl_op_linear(x704, tl_model_find_tensor(a, "blk.1.ffn_down.weight"), NULL, &ya704), TL_OK);
    tl_tensor_unref(ya704);
    tl_shadow_wait();
    tl_shadow_set_piece(0);
    for (size_t i = 0; i < 3; i++) {
        tl_tensor *wa = tl_model_find_tensor(a, names[i]), *wb = tl_model_find_tensor(b, names[i]);
        assert_non_null(wa->shadow);
        assert_non_null(wb->shadow);
        assert_int_equal(wa->shadow_rows, wb->shadow_rows);
        assert_memory_equal(wa->shadow->data, wb->shadow->data,
                            (size_t)wb->shadow_rows * wb->nb[1]);
    }
    assert_non_null(w704->shadow);
    assert_int_equal(tl_op_linear(x704, w704, NULL, &y1), TL_OK);
    assert_same(y0, y1);
    tl_tensor_unref(y0);
    tl_tensor_unref(y1);
    tl_tensor_unref(x704);
    tl_tensor_unref(x);
    tl_model_unref(a);
    tl_model_unref(b);
}

int main(void) {
    const char *dir = getenv("TL_TEST_MODELS");
    snprintf(model_dir, sizeof model_dir, "%s", dir ? dir : "../shared/models");
    const char *need[] = {"synthetic-small-q4_0.gguf", "stories260K.gguf", "stories260K-q4_0.gguf",
                          "stories260K-q8_0.gguf"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", model_dir, need[i]);
        if (access(p, R_OK) != 0) {
            printf("SKIPPED: test model %s not found in %s\n", need[i], model_dir);
            return 77;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linears_same_with_shadows),
        cmocka_unit_test(test_which_models),
        cmocka_unit_test(test_small_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
