/* tests/unit/test_gguf_quantize.c -- `tl quantize`: per-tensor type choice and byte identity with
** llama-quantize on stories260K (sha256 recorded in tests/data/gguf/quantize_stories260K.sha256).
** Types whose quantizer is not registered yet (runtime/quant/) are reported and skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/model.h"

static tl_tensor *matrix(int64_t ne0, int64_t ne1) {
    int64_t ne[2] = {ne0, ne1};
    tl_tensor *t;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 2, ne, &t), TL_OK);
    return t;
}

/* The type a fresh context (a 22-layer model with GQA 8 and an output.weight) gives. */
static tl_dtype ty(tl_ftype f, bool pure, const tl_tensor *t, const char *name) {
    tl_quantize_ctx q;
    tl_quantize_ctx_init(&q, f, pure, true, 22, 8, 22);
    return tl_quantize_tensor_type(&q, t, name);
}

static void test_type_choice(void **state) {
    (void)state;
    tl_tensor *m256 = matrix(2048, 4), *m64 = matrix(64, 4), *m172 = matrix(172, 4);
    int64_t ne1[1] = {2048};
    tl_tensor *v;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 1, ne1, &v), TL_OK);
    /* matrices get the target, norms and vectors keep theirs */
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, m256, "blk.0.attn_q.weight"), TL_DTYPE_Q4_0);
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, v, "blk.0.attn_norm.weight"), TL_DTYPE_F32);
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, m256, "blk.0.attn_q.bias"), TL_DTYPE_F32);
    /* output.weight: q6_K, or q8_0 when rows are not multiples of the block; --pure keeps target */
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, m256, "output.weight"), TL_DTYPE_Q6_K);
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, m64, "output.weight"), TL_DTYPE_Q8_0);
    assert_int_equal(ty(TL_FTYPE_Q4_0, true, m256, "output.weight"), TL_DTYPE_Q4_0);
    assert_int_equal(ty(TL_FTYPE_Q8_0, false, m256, "output.weight"), TL_DTYPE_Q8_0);
    assert_int_equal(ty(TL_FTYPE_F16, false, m256, "output.weight"), TL_DTYPE_F16);
    /* tied embeddings: token_embd plays output's role */
    tl_quantize_ctx q;
    tl_quantize_ctx_init(&q, TL_FTYPE_Q4_0, false, false, 22, 8, 22);
    assert_int_equal(tl_quantize_tensor_type(&q, m256, "token_embd.weight"), TL_DTYPE_Q6_K);
    assert_int_equal(ty(TL_FTYPE_Q4_0, false, m256, "token_embd.weight"), TL_DTYPE_Q4_0);
    /* fallbacks for rows that do not split into blocks */
    assert_int_equal(ty(TL_FTYPE_Q4_K_M, false, m64, "a.weight"), TL_DTYPE_Q5_0);
    assert_int_equal(ty(TL_FTYPE_Q5_K_S, false, m64, "a.weight"), TL_DTYPE_Q5_1);
    assert_int_equal(ty(TL_FTYPE_Q6_K, false, m64, "a.weight"), TL_DTYPE_Q8_0);
    assert_int_equal(ty(TL_FTYPE_Q2_K, true, m64, "a.weight"), TL_DTYPE_Q4_0);
    assert_int_equal(ty(TL_FTYPE_Q4_0, true, m172, "a.weight"), TL_DTYPE_F16);
    assert_int_equal(ty(TL_FTYPE_Q4_K_M, false, m172, "a.weight"), TL_DTYPE_F16);
    /* mixes: Q2_K and Q3_K_M raise attn_output; Q2_K's attn_v with GQA >= 4 is q4_K */
    assert_int_equal(ty(TL_FTYPE_Q2_K, false, m256, "blk.3.attn_output.weight"), TL_DTYPE_Q3_K);
    assert_int_equal(ty(TL_FTYPE_Q3_K_M, false, m256, "blk.3.attn_output.weight"), TL_DTYPE_Q4_K);
    assert_int_equal(ty(TL_FTYPE_Q2_K, false, m256, "blk.0.attn_v.weight"), TL_DTYPE_Q4_K);
    assert_int_equal(ty(TL_FTYPE_Q3_K_S, false, m256, "blk.0.attn_v.weight"), TL_DTYPE_Q3_K);
    assert_int_equal(ty(TL_FTYPE_Q4_K_M, false, m256, "blk.0.ffn_gate.weight"), TL_DTYPE_Q4_K);
    /* Q4_K_M over 22 layers: attn_v and ffn_down get q6_K where use_more_bits(i, 22) holds,
    ** i.e. i < 22/8, i >= 7*22/8, or (i - 22/8) % 3 == 2. */
    tl_quantize_ctx_init(&q, TL_FTYPE_Q4_K_M, false, true, 22, 8, 22);
    static const int more[22] = {1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1};
    for (int i = 0; i < 22; i++) {
        tl_dtype want = more[i] ? TL_DTYPE_Q6_K : TL_DTYPE_Q4_K;
        assert_int_equal(tl_quantize_tensor_type(&q, m256, "blk.N.attn_v.weight"), want);
        assert_int_equal(tl_quantize_tensor_type(&q, m256, "blk.N.ffn_down.weight"), want);
        assert_int_equal(tl_quantize_tensor_type(&q, m256, "blk.N.attn_q.weight"), TL_DTYPE_Q4_K);
    }
    /* names */
    tl_ftype f;
    assert_true(tl_ftype_from_name("Q4_K", &f));
    assert_int_equal(f, TL_FTYPE_Q4_K_M);
    assert_true(tl_ftype_from_name("q3_k_l", &f));
    assert_int_equal(tl_ftype_default_type(f), TL_DTYPE_Q3_K);
    assert_false(tl_ftype_from_name("iq2_xxs", &f));
    assert_string_equal(tl_ftype_name(TL_FTYPE_Q5_K_S), "q5_k_s");
    tl_tensor_unref(m256);
    tl_tensor_unref(m64);
    tl_tensor_unref(m172);
    tl_tensor_unref(v);
}

static void sha256_of(const char *path, char *hex) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%64s", hex), 1);
    pclose(p);
}

/* Finds a model in $TL_BIG_MODELS, $TL_TEST_MODELS or $TL_TEST_MODELS/../../models. */
static bool find_model(const char *file, char *path, size_t cap) {
    const char *big = getenv("TL_BIG_MODELS"), *dir = getenv("TL_TEST_MODELS");
    if (!dir) dir = "../shared/models";
    const char *cands[3][2] = {{big, ""}, {dir, ""}, {dir, "/../../models"}};
    for (int i = 0; i < 3; i++) {
        if (!cands[i][0]) continue;
        snprintf(path, cap, "%s%s/%s", cands[i][0], cands[i][1], file);
        if (access(path, R_OK) == 0) return true;
    }
    return false;
}

/* Quantizes `model` as each line of the sha256 file says and compares the output's sha256. */
static int check_against(const char *model, const char *sums) {
    char in[1200];
    if (!find_model(model, in, sizeof in)) {
        printf("  SKIPPED: %s not found (set TL_BIG_MODELS)\n", model);
        return -1;
    }
    FILE *f = fopen(sums, "r");
    assert_non_null(f);
    char line[256], out[256];
    snprintf(out, sizeof out, "/tmp/tl_test_quantize_%d.gguf", (int)getpid());
    int checked = 0, skipped = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char want[65], type_name[16];
        int pure;
        assert_int_equal(sscanf(line, "%64s %15s %d", want, type_name, &pure), 3);
        tl_ftype type;
        assert_true(tl_ftype_from_name(type_name, &type));
        tl_quantize_opts o = {.pure = pure != 0};
        tl_quantize_report r;
        if (tl_model_quantize(in, out, type, &o, &r) != TL_OK) {
            /* a type (or its fallback) whose quantizer is not registered */
            printf("  skipped %s %s%s: %s\n", model, type_name, pure ? " --pure" : "",
                   tl_last_error());
            skipped++;
            continue;
        }
        char got[65];
        sha256_of(out, got);
        if (strcmp(got, want) != 0) {
            print_error("%s %s%s: sha256 %s, llama-quantize gives %s\n", model, type_name,
                        pure ? " --pure" : "", got, want);
            fail();
        }
        checked++;
    }
    fclose(f);
    unlink(out);
    printf("  %s: %d outputs byte-identical to llama-quantize, %d skipped\n", model, checked,
           skipped);
    return checked;
}

static void test_matches_llama_quantize(void **state) {
    (void)state;
    int a = check_against("stories260K.gguf",
                          TL_TEST_SOURCE_DIR "/tests/data/gguf/quantize_stories260K.sha256");
    int b = check_against("synthetic-small-f32.gguf",
                          TL_TEST_SOURCE_DIR "/tests/data/gguf/quantize_synthetic-small.sha256");
    if (a < 0 && b < 0) skip();
    if (a >= 0) assert_true(a >= 3); /* f32, f16 and bf16 need no quantizer */
}

static void test_requantize_refused(void **state) {
    (void)state;
    char in[1200], out[256];
    if (!find_model("stories260K-q4_0.gguf", in, sizeof in)) skip();
    snprintf(out, sizeof out, "/tmp/tl_test_requant_%d.gguf", (int)getpid());
    tl_quantize_opts o = {0};
    assert_int_equal(tl_model_quantize(in, out, TL_FTYPE_F16, &o, NULL), TL_ERR_ARG);
    assert_non_null(strstr(tl_last_error(), "--allow-requantize"));
    assert_int_equal(access(out, F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_choice),
        cmocka_unit_test(test_matches_llama_quantize),
        cmocka_unit_test(test_requantize_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
