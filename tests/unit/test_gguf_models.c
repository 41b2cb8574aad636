/* tests/unit/test_gguf_models.c -- the reader on the shared test models (skipped when absent).
** Expected values are the ones `oracle dump` prints for these files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/gguf.h"

static char model_dir[1024];

static void model_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", model_dir, name);
}

static void test_stories_q4_0(void **state) {
    (void)state;
    char path[1200];
    model_path(path, sizeof path, "stories260K-q4_0.gguf");
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(path, &g), TL_OK);
    assert_int_equal(tl_gguf_version(g), 3);
    assert_int_equal(tl_gguf_alignment(g), 32);
    assert_int_equal(tl_gguf_n_tensors(g), 48);
    uint32_t u;
    assert_int_equal(tl_gguf_get_u32(g, "llama.block_count", &u), TL_OK);
    assert_int_equal(u, 5);
    assert_int_equal(tl_gguf_get_u32(g, "llama.embedding_length", &u), TL_OK);
    assert_int_equal(u, 64);
    float eps;
    assert_int_equal(tl_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps), TL_OK);
    assert_true(eps > 0 && eps < 1e-3f);
    const char *arch;
    size_t len;
    assert_int_equal(tl_gguf_get_string(g, "general.architecture", &arch, &len), TL_OK);
    assert_string_equal(arch, "llama");
    assert_int_equal(len, 5);

    /* Errors name the file and the key. */
    assert_int_equal(tl_gguf_get_u32(g, "no.such.key", &u), TL_ERR_RANGE);
    assert_non_null(strstr(tl_last_error(), "key 'no.such.key' not found"));
    assert_non_null(strstr(tl_last_error(), "stories260K-q4_0.gguf"));
    assert_int_equal(tl_gguf_get_u32(g, "general.architecture", &u), TL_ERR_TYPE);
    assert_non_null(strstr(tl_last_error(), "is string, expected uint32"));
    assert_int_equal(tl_gguf_get_array(g, "tokenizer.ggml.scores", TL_GGUF_STRING, NULL),
                     TL_ERR_TYPE);

    const tl_gguf_kv *toks;
    assert_int_equal(tl_gguf_get_array(g, "tokenizer.ggml.tokens", TL_GGUF_STRING, &toks), TL_OK);
    assert_int_equal(toks->count, 512);
    const char *s;
    assert_true(tl_gguf_kv_string(toks, 100, &s, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(s, "<0x61>", 6);
    assert_true(tl_gguf_kv_string(toks, 511, &s, &len));
    assert_false(tl_gguf_kv_string(toks, 512, &s, &len));
    const tl_gguf_kv *scores;
    assert_int_equal(tl_gguf_get_array(g, "tokenizer.ggml.scores", TL_GGUF_FLOAT32, &scores),
                     TL_OK);
    double d;
    assert_true(tl_gguf_kv_float(scores, 511, &d));
    const tl_gguf_kv *tt;
    assert_int_equal(tl_gguf_get_array(g, "tokenizer.ggml.token_type", TL_GGUF_INT32, &tt), TL_OK);
    int64_t ty;
    assert_true(tl_gguf_kv_int(tt, 0, &ty));
    assert_int_equal(ty, 2); /* <unk> is UNKNOWN */

    const tl_gguf_tensor_info *t = tl_gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, TL_DTYPE_Q4_0);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->ne[0], 64);
    assert_int_equal(t->ne[1], 512);
    assert_int_equal(t->nbytes, 512 * 2 * 18);
    assert_int_equal(t->file_offset, tl_gguf_data_offset(g) + t->offset);
    assert_ptr_equal(t->data, (const char *)tl_gguf_base(g) + t->file_offset);
    t = tl_gguf_find_tensor(g, "output.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, TL_DTYPE_Q8_0);
    assert_null(tl_gguf_find_tensor(g, "blk.99.attn_q.weight"));
    for (int64_t i = 0; i < tl_gguf_n_tensors(g); i++) {
        const tl_gguf_tensor_info *ti = tl_gguf_tensor_at(g, i);
        assert_ptr_equal(tl_gguf_find_tensor(g, ti->name), ti);
        assert_true(ti->file_offset + ti->nbytes <= tl_gguf_file_size(g));
    }
    tl_gguf_close(g);
}

static void test_vocab_only(void **state) {
    (void)state;
    char path[1200];
    model_path(path, sizeof path, "ggml-vocab-llama-spm.gguf");
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(path, &g), TL_OK);
    assert_int_equal(tl_gguf_n_tensors(g), 0);
    const tl_gguf_kv *toks;
    assert_int_equal(tl_gguf_get_array(g, "tokenizer.ggml.tokens", TL_GGUF_STRING, &toks), TL_OK);
    assert_int_equal(toks->count, 32000);
    bool b;
    assert_int_equal(tl_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b), TL_OK);
    assert_true(b);
    /* The mapping outlives a close while another reference is held. */
    tl_gguf *again = tl_gguf_ref(g);
    tl_gguf_close(g);
    assert_int_equal(tl_gguf_n_kv(again), 22);
    tl_gguf_close(again);
}

int main(void) {
    const char *dir = getenv("TL_TEST_MODELS");
    snprintf(model_dir, sizeof model_dir, "%s", dir ? dir : "../shared/models");
    char probe[1200];
    model_path(probe, sizeof probe, "stories260K-q4_0.gguf");
    char probe2[1200];
    model_path(probe2, sizeof probe2, "ggml-vocab-llama-spm.gguf");
    if (access(probe, R_OK) != 0 || access(probe2, R_OK) != 0) {
        printf("SKIPPED: test models not found in %s\n", model_dir);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories_q4_0),
        cmocka_unit_test(test_vocab_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
