/* tests/unit/test_quant_models.c -- the kernels on the shared test models,
** against llama.cpp (needs TL_TEST_MODELS; exits 77 when the models are absent).
**   - every tensor of every model dequantizes to exactly ggml's floats
**     (tests/data/quant/models.txt: FNV-1a 64 hashes recorded with ggml's
**     to_float by record_models.py);
**   - the LM head: llama.cpp's final normed hidden states (result_norm, from
**     `oracle layers --dump`), quantized to the weight's dot_type and dotted
**     with every row of output.weight, give llama.cpp's logits
**     (tests/data/quant/lm_head/);
**   - llama.cpp's Q4_0 matmul (blk.0.ffn_up) with repack on and off, both
**     float orders (tests/data/quant/matmul/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/gguf.h"
#include "runtime/quant.h"

static const char *models_dir(void) {
    const char *d = getenv("TL_TEST_MODELS");
    return d && *d ? d : NULL;
}

static bool have_model(const char *name) {
    char path[1024];
    struct stat st;
    if (!models_dir()) return false;
    snprintf(path, sizeof path, "%s/%s", models_dir(), name);
    return stat(path, &st) == 0;
}

static tl_gguf *open_model(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", models_dir(), name);
    tl_gguf *g = NULL;
    if (tl_gguf_open(path, &g) != TL_OK) fail_msg("%s: %s", path, tl_last_error());
    return g;
}

static void *load_data(const char *rel, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/quant/%s", TL_TEST_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    ((char *)p)[n] = 0;
    fclose(f);
    if (size) *size = (size_t)n;
    return p;
}

static uint64_t fnv1a(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void test_dequantized_tensors_match_llama_cpp(void **state) {
    (void)state;
    char *list = load_data("models.txt", NULL);
    assert_non_null(list);
    char cur[256] = "";
    tl_gguf *g = NULL;
    int checked = 0, bad = 0, types_seen[TL_DTYPE_COUNT] = {0};
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char model[256], tensor[128], hash[32];
        int type;
        long long n;
        if (sscanf(line, "%255s %127s %d %lld %31s", model, tensor, &type, &n, hash) != 5) continue;
        if (!have_model(model)) continue;
        if (strcmp(model, cur) != 0) {
            tl_gguf_close(g);
            g = open_model(model);
            snprintf(cur, sizeof cur, "%s", model);
        }
        const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(g, tensor);
        assert_non_null(ti);
        assert_int_equal(ti->type_id, type);
        float *out = malloc(sizeof(float) * (size_t)n);
        assert_int_equal(tl_dequantize_rows(ti->dtype, ti->data, out, n / ti->ne[0], ti->ne[0]),
                         TL_OK);
        char got[32];
        snprintf(got, sizeof got, "%016llx",
                 (unsigned long long)fnv1a(out, sizeof(float) * (size_t)n));
        if (strcmp(got, hash) != 0) {
            print_message("%s %s (%s): dequantized floats differ from ggml's\n", model, tensor,
                          tl_dtype_name(ti->dtype));
            bad++;
        }
        types_seen[ti->dtype]++;
        checked++;
        free(out);
    }
    tl_gguf_close(g);
    free(list);
    if (!checked) skip();
    print_message("checked %d tensors (q4_0 %d, q8_0 %d, q6_K %d, f16 %d, f32 %d)\n", checked,
                  types_seen[TL_DTYPE_Q4_0], types_seen[TL_DTYPE_Q8_0], types_seen[TL_DTYPE_Q6_K],
                  types_seen[TL_DTYPE_F16], types_seen[TL_DTYPE_F32]);
    assert_int_equal(bad, 0);
}

/* Logits of llama.cpp's final hidden states through our kernels. */
static void check_lm_head(const char *model, double tol) {
    char gguf[256], rel[256];
    snprintf(gguf, sizeof gguf, "%s.gguf", model);
    if (!have_model(gguf)) {
        print_message("SKIPPED: %s absent\n", gguf);
        return;
    }
    tl_gguf *g = open_model(gguf);
    const tl_gguf_tensor_info *w = tl_gguf_find_tensor(g, "output.weight");
    if (!w) w = tl_gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(w);
    int64_t n_embd = w->ne[0], n_vocab = w->ne[1];
    size_t nn, no;
    snprintf(rel, sizeof rel, "lm_head/%s.norm.f32", model);
    float *norm = load_data(rel, &nn);
    snprintf(rel, sizeof rel, "lm_head/%s.out.f32", model);
    float *ref = load_data(rel, &no);
    assert_non_null(norm);
    assert_non_null(ref);
    int64_t n_pos = (int64_t)(nn / sizeof(float)) / n_embd;
    assert_int_equal(no, sizeof(float) * (size_t)(n_pos * n_vocab));
    const tl_type_traits *t = tl_dtype_traits(w->dtype);
    const tl_type_traits *at = tl_dtype_traits(t->dot_type);
    size_t wrow = tl_dtype_row_size(w->dtype, n_embd),
           arow = tl_dtype_row_size(t->dot_type, n_embd);
    void *act = malloc(arow);
    /* F32/F16: llama.cpp's sgemm order for a call of two or more rows (quant.h) */
    tl_vec_dot_fn dot = t->vec_dot;
    if ((w->dtype == TL_DTYPE_F32 || w->dtype == TL_DTYPE_F16) && n_pos >= 2 && n_embd % 8 == 0)
        dot = tl_quant_vec_dot_order(w->dtype, TL_DOT_ORDER_REPACK_GEMM);
    double worst = 0;
    int64_t exact = 0;
    for (int64_t p = 0; p < n_pos; p++) {
        at->from_f32(norm + p * n_embd, act, n_embd);
        for (int64_t r = 0; r < n_vocab; r++) {
            float got;
            dot(n_embd, &got, (const char *)w->data + r * wrow, act);
            float want = ref[p * n_vocab + r];
            double diff = fabs((double)got - want);
            if (diff > worst) worst = diff;
            exact += memcmp(&got, &want, 4) == 0;
        }
    }
    print_message("%s: output.weight %s, %lld logits, %lld bit-identical, max |diff| %.3g\n", model,
                  t->name, (long long)(n_pos * n_vocab), (long long)exact, worst);
    free(act);
    free(norm);
    free(ref);
    tl_gguf_close(g);
    assert_true(worst <= tol);
}

static void test_lm_head_matches_llama_cpp(void **state) {
    (void)state;
    if (!have_model("stories260K.gguf")) skip();
    check_lm_head("stories260K-q4_0", 0);
    check_lm_head("stories260K-q8_0", 0);
    check_lm_head("synthetic-small-q4_0", 0);
    check_lm_head("stories260K", 0); /* F32: tinyBLAS's order (quant/f32.c) */
}

/* llama.cpp's own Q4_0 matmul (blk.0.ffn_up) with repack on and off: our
** activation quantizer and the dot of tl_quant_llama_order (or ROW for
** --no-repack), per token with gemv_rows and for all tokens with gemm_rows,
** reproduce every output bit for bit. */
static void check_matmul(const char *model, const char *tag, bool repack) {
    char gguf[256], rel[256];
    snprintf(gguf, sizeof gguf, "%s.gguf", model);
    if (!have_model(gguf)) {
        print_message("SKIPPED: %s absent\n", gguf);
        return;
    }
    tl_gguf *g = open_model(gguf);
    const tl_gguf_tensor_info *w = tl_gguf_find_tensor(g, "blk.0.ffn_up.weight");
    assert_non_null(w);
    assert_int_equal(w->dtype, TL_DTYPE_Q4_0);
    int64_t n = w->ne[0], rows = w->ne[1];
    size_t ni, no;
    snprintf(rel, sizeof rel, "matmul/%s.%s.in.f32", model, tag);
    float *in = load_data(rel, &ni);
    snprintf(rel, sizeof rel, "matmul/%s.%s.out.f32", model, tag);
    float *ref = load_data(rel, &no);
    assert_non_null(in);
    assert_non_null(ref);
    int64_t toks = (int64_t)(ni / sizeof(float)) / n;
    assert_int_equal(no, sizeof(float) * (size_t)(toks * rows));
    tl_dot_order order = repack ? tl_quant_llama_order(w->dtype, rows) : TL_DOT_ORDER_ROW;
    const tl_type_traits *at = tl_dtype_traits(TL_DTYPE_Q8_0);
    size_t arow = tl_dtype_row_size(TL_DTYPE_Q8_0, n), wrow = tl_dtype_row_size(w->dtype, n);
    char *act = malloc(arow * (size_t)toks);
    float *out = malloc(sizeof(float) * (size_t)(toks * rows));
    for (int64_t k = 0; k < toks; k++)
        at->from_f32(in + k * n, act + k * arow, n);
    int64_t same_gemv = 0, same_gemm = 0;
    for (int64_t k = 0; k < toks; k++) {
        assert_int_equal(tl_quant_gemv_rows_order(w->dtype, order, n, w->data, wrow, 0, rows,
                                                  act + k * arow, out + k * rows),
                         TL_OK);
        for (int64_t r = 0; r < rows; r++)
            same_gemv += memcmp(&out[k * rows + r], &ref[k * rows + r], 4) == 0;
    }
    memset(out, 0, sizeof(float) * (size_t)(toks * rows));
    assert_int_equal(tl_quant_gemm_rows_order(w->dtype, order, n, w->data, wrow, 0, rows, act, arow,
                                              toks, out, (size_t)rows),
                     TL_OK);
    for (int64_t i = 0; i < toks * rows; i++)
        same_gemm += memcmp(&out[i], &ref[i], 4) == 0;
    print_message("%s %s (%lld rows, %s order): %lld/%lld (gemv) %lld/%lld (gemm) bit-identical\n",
                  model, tag, (long long)rows, order == TL_DOT_ORDER_REPACK ? "repack" : "row",
                  (long long)same_gemv, (long long)(toks * rows), (long long)same_gemm,
                  (long long)(toks * rows));
    assert_int_equal(same_gemv, toks * rows);
    assert_int_equal(same_gemm, toks * rows);
    free(act);
    free(out);
    free(in);
    free(ref);
    tl_gguf_close(g);
}

static void test_q4_0_matmul_matches_llama_cpp(void **state) {
    (void)state;
    check_matmul("synthetic-small-q4_0", "rep8", true);
    check_matmul("synthetic-small-q4_0", "rep1", true);
    check_matmul("synthetic-small-q4_0", "norep8", false);
    check_matmul("stories260K-q4_0", "rep5", true); /* 172 rows: llama.cpp does not repack */
}

int main(void) {
    if (!models_dir() || !have_model("stories260K.gguf")) {
        printf("SKIPPED: TL_TEST_MODELS (%s) has no stories260K.gguf\n",
               models_dir() ? models_dir() : "unset");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dequantized_tensors_match_llama_cpp),
        cmocka_unit_test(test_lm_head_matches_llama_cpp),
        cmocka_unit_test(test_q4_0_matmul_matches_llama_cpp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
