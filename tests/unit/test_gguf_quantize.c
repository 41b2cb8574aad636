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

static void test_type_choice(void **state) {
    (void)state;
    tl_tensor *m256 = matrix(2048, 4), *m64 = matrix(64, 4), *m172 = matrix(172, 4);
    int64_t ne1[1] = {2048};
    tl_tensor *v;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 1, ne1, &v), TL_OK);
    /* matrices get the target, norms and vectors keep theirs */
    assert_int_equal(
        tl_quantize_tensor_type(m256, "blk.0.attn_q.weight", TL_DTYPE_Q4_0, false, false),
        TL_DTYPE_Q4_0);
    assert_int_equal(
        tl_quantize_tensor_type(v, "blk.0.attn_norm.weight", TL_DTYPE_Q4_0, false, false),
        TL_DTYPE_F32);
    assert_int_equal(
        tl_quantize_tensor_type(m256, "blk.0.attn_q.bias", TL_DTYPE_Q4_0, false, false),
        TL_DTYPE_F32);
    /* output.weight: q6_K, or q8_0 when rows are not multiples of 256; --pure keeps target */
    assert_int_equal(tl_quantize_tensor_type(m256, "output.weight", TL_DTYPE_Q4_0, false, false),
                     TL_DTYPE_Q6_K);
    assert_int_equal(tl_quantize_tensor_type(m64, "output.weight", TL_DTYPE_Q4_0, false, false),
                     TL_DTYPE_Q8_0);
    assert_int_equal(tl_quantize_tensor_type(m256, "output.weight", TL_DTYPE_Q4_0, true, false),
                     TL_DTYPE_Q4_0);
    assert_int_equal(tl_quantize_tensor_type(m256, "output.weight", TL_DTYPE_Q8_0, false, false),
                     TL_DTYPE_Q8_0);
    assert_int_equal(tl_quantize_tensor_type(m256, "output.weight", TL_DTYPE_F16, false, false),
                     TL_DTYPE_F16);
    /* tied embeddings: token_embd plays output's role */
    assert_int_equal(tl_quantize_tensor_type(m256, "token_embd.weight", TL_DTYPE_Q4_0, false, true),
                     TL_DTYPE_Q6_K);
    assert_int_equal(
        tl_quantize_tensor_type(m256, "token_embd.weight", TL_DTYPE_Q4_0, false, false),
        TL_DTYPE_Q4_0);
    /* fallbacks for rows that do not split into blocks */
    assert_int_equal(tl_quantize_tensor_type(m64, "a.weight", TL_DTYPE_Q4_K, false, false),
                     TL_DTYPE_Q5_0);
    assert_int_equal(tl_quantize_tensor_type(m64, "a.weight", TL_DTYPE_Q5_K, false, false),
                     TL_DTYPE_Q5_1);
    assert_int_equal(tl_quantize_tensor_type(m64, "a.weight", TL_DTYPE_Q6_K, false, false),
                     TL_DTYPE_Q8_0);
    assert_int_equal(tl_quantize_tensor_type(m64, "a.weight", TL_DTYPE_Q2_K, true, false),
                     TL_DTYPE_Q4_0);
    assert_int_equal(tl_quantize_tensor_type(m172, "a.weight", TL_DTYPE_Q4_0, true, false),
                     TL_DTYPE_F16);
    assert_int_equal(tl_quantize_tensor_type(m172, "a.weight", TL_DTYPE_Q4_K, false, false),
                     TL_DTYPE_F16);
    uint32_t ft;
    assert_int_equal(tl_quantize_ftype(TL_DTYPE_Q4_0, &ft), TL_OK);
    assert_int_equal(ft, 2);
    assert_int_equal(tl_quantize_ftype(TL_DTYPE_I32, &ft), TL_ERR_UNSUPPORTED);
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

static void test_matches_llama_quantize(void **state) {
    (void)state;
    const char *dir = getenv("TL_TEST_MODELS");
    char in[1024];
    snprintf(in, sizeof in, "%s/stories260K.gguf", dir ? dir : "../shared/models");
    if (access(in, R_OK) != 0) {
        printf("SKIPPED: %s not found\n", in);
        skip();
    }
    FILE *f = fopen(TL_TEST_SOURCE_DIR "/tests/data/gguf/quantize_stories260K.sha256", "r");
    assert_non_null(f);
    char line[256], out[256];
    snprintf(out, sizeof out, "/tmp/tl_test_quantize_%d.gguf", (int)getpid());
    int checked = 0, skipped = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char want[65], type_name[16];
        int pure;
        assert_int_equal(sscanf(line, "%64s %15s %d", want, type_name, &pure), 3);
        tl_dtype type;
        assert_true(tl_dtype_from_name(type_name, &type));
        if (!tl_dtype_traits(type)->from_f32) {
            printf("  skipped %s%s: no %s quantizer registered\n", type_name, pure ? " --pure" : "",
                   type_name);
            skipped++;
            continue;
        }
        tl_quantize_opts o = {.pure = pure != 0};
        tl_quantize_report r;
        if (tl_model_quantize(in, out, type, &o, &r) != TL_OK) {
            /* a fallback type (e.g. q8_0 for q6_k) may lack its quantizer */
            printf("  skipped %s%s: %s\n", type_name, pure ? " --pure" : "", tl_last_error());
            skipped++;
            continue;
        }
        char got[65];
        sha256_of(out, got);
        if (strcmp(got, want) != 0) {
            print_error("%s%s: sha256 %s, llama-quantize gives %s\n", type_name,
                        pure ? " --pure" : "", got, want);
            fail();
        }
        checked++;
    }
    fclose(f);
    unlink(out);
    printf("  %d outputs byte-identical to llama-quantize, %d skipped\n", checked, skipped);
    assert_true(checked >= 3); /* f32, f16 and bf16 need no quantizer */
}

static void test_requantize_refused(void **state) {
    (void)state;
    const char *dir = getenv("TL_TEST_MODELS");
    char in[1024], out[256];
    snprintf(in, sizeof in, "%s/stories260K-q4_0.gguf", dir ? dir : "../shared/models");
    if (access(in, R_OK) != 0) skip();
    snprintf(out, sizeof out, "/tmp/tl_test_requant_%d.gguf", (int)getpid());
    tl_quantize_opts o = {0};
    assert_int_equal(tl_model_quantize(in, out, TL_DTYPE_F16, &o, NULL), TL_ERR_ARG);
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
