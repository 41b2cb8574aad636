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
#include "runtime/model.h"

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

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Reading a llama.cpp-written file and writing it back through the model object gives the
** same bytes: our writer lays files out exactly as ggml's does. */
static void test_round_trip_is_byte_identical(void **state) {
    (void)state;
    const char *names[] = {"stories260K.gguf", "stories260K-q4_0.gguf", "stories260K-q8_0.gguf",
                           "synthetic-small-q4_0.gguf"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[1200], out[256];
        model_path(path, sizeof path, names[k]);
        if (access(path, R_OK) != 0) continue;
        snprintf(out, sizeof out, "/tmp/tl_test_roundtrip_%d.gguf", (int)getpid());
        tl_model *m;
        assert_int_equal(tl_model_load(path, &m), TL_OK);
        const tl_gguf *g = tl_model_gguf(m);
        tl_gguf_writer *w;
        assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
        for (int64_t i = 0; i < tl_gguf_n_kv(g); i++)
            assert_int_equal(tl_gguf_writer_copy_kv(w, tl_gguf_kv_at(g, i)), TL_OK);
        for (int64_t i = 0; i < tl_model_n_tensors(m); i++) {
            tl_tensor *t = tl_model_tensor_at(m, i);
            assert_int_equal(tl_gguf_writer_add_tensor(w, t->name, t), TL_OK);
        }
        tl_model_unref(m); /* the writer's tensor references keep the mapping alive */
        assert_int_equal(tl_gguf_writer_save(w, out), TL_OK);
        tl_gguf_writer_free(w);
        size_t na, nb;
        unsigned char *a = slurp(path, &na), *b = slurp(out, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        free(a);
        free(b);
        unlink(out);
    }
}

static void test_model_object(void **state) {
    (void)state;
    char path[1200];
    model_path(path, sizeof path, "stories260K-q4_0.gguf");
    tl_model *m;
    assert_int_equal(tl_model_load(path, &m), TL_OK);
    assert_string_equal(tl_model_arch(m), "llama");
    tl_llama_config c;
    assert_int_equal(tl_model_llama_config(m, &c), TL_OK);
    assert_int_equal(c.n_layer, 5);
    assert_int_equal(c.n_embd, 64);
    assert_int_equal(c.n_ff, 172);
    assert_int_equal(c.n_head, 8);
    assert_int_equal(c.n_head_kv, 4);
    assert_int_equal(c.head_dim, 8);
    assert_int_equal(c.n_vocab, 512);
    assert_true(c.rope_base == 10000.0); /* absent in this file: the default */
    assert_false(c.tied_output);
    tl_tensor *t;
    assert_int_equal(tl_model_tensor(m, "blk.1.attn_k.weight", &t), TL_OK);
    assert_int_equal(t->dtype, TL_DTYPE_Q4_0);
    assert_int_equal(t->ne[0], 64);
    assert_int_equal(t->ne[1], 32);
    assert_string_equal(t->name, "blk.1.attn_k.weight");
    const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(tl_model_gguf(m), "blk.1.attn_k.weight");
    assert_ptr_equal(tl_tensor_data(t), ti->data); /* a view, not a copy */
    char buf[64];
    assert_string_equal(tl_tensor_shape_str(t, buf, sizeof buf), "[32, 64]");
    tl_tensor_unref(t);
    assert_int_equal(tl_model_tensor(m, "nope", &t), TL_ERR_RANGE);
    assert_null(t);
    assert_non_null(strstr(tl_last_error(), "no tensor named 'nope'"));
    /* The tensor outlives the model. */
    t = tl_tensor_ref(tl_model_find_tensor(m, "output_norm.weight"));
    tl_model_unref(m);
    const float *w = tl_tensor_data(t);
    assert_true(w[0] == w[0]);
    tl_tensor_unref(t);
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The TinyLlama-shaped Q4_0 model (637 MB, output.weight Q6_K; built by the
** reference harness's make_models.sh --big, docs/reference.md):
** opening it maps the file but reads only the header. Looked for in $TL_BIG_MODELS, then
** $TL_TEST_MODELS, then $TL_TEST_MODELS/../../models. */
static void test_tinyllama_open_is_lazy(void **state) {
    (void)state;
    const char *big = getenv("TL_BIG_MODELS");
    char path[1200];
    const char *cands[3][2] = {{big, ""}, {model_dir, ""}, {model_dir, "/../../models"}};
    bool found = false;
    for (int i = 0; i < 3 && !found; i++) {
        if (!cands[i][0]) continue;
        snprintf(path, sizeof path, "%s%s/tinyllama-syn-q4_0.gguf", cands[i][0], cands[i][1]);
        found = access(path, R_OK) == 0;
    }
    if (!found) {
        printf("SKIPPED: tinyllama-syn-q4_0.gguf not found (set TL_BIG_MODELS)\n");
        skip();
    }
    long before = rss_kib();
    tl_model *m;
    /* the plain mapping (by default the pages then move into huge pages in the
    ** background: runtime/gguf_migrate.c, tested in test_gguf_migrate) */
    assert_int_equal(tl_model_load_ex(path, 0, &m), TL_OK);
    tl_llama_config c;
    assert_int_equal(tl_model_llama_config(m, &c), TL_OK);
    assert_int_equal(c.n_layer, 22);
    assert_int_equal(c.n_embd, 2048);
    assert_int_equal(c.n_head, 32);
    assert_int_equal(c.n_head_kv, 4);
    assert_int_equal(c.head_dim, 64);
    assert_int_equal(c.n_ff, 5632);
    assert_int_equal(c.n_vocab, 32000);
    assert_true(c.eps == (double)1e-5f);
    tl_tensor *out = tl_model_find_tensor(m, "output.weight");
    assert_int_equal(out->dtype, TL_DTYPE_Q6_K);
    char buf[64];
    assert_string_equal(tl_tensor_shape_str(out, buf, sizeof buf), "[32000, 2048]");
    assert_int_equal(tl_model_find_tensor(m, "token_embd.weight")->dtype, TL_DTYPE_Q4_0);
    assert_int_equal(tl_model_n_tensors(m), 201);
    long grown = rss_kib() - before;
    printf("  opened %zu MB, resident grew by %ld KiB\n", tl_gguf_file_size(tl_model_gguf(m)) >> 20,
           grown);
    assert_true(grown < 32 * 1024); /* the weights (606 MiB) are not read */
    tl_model_unref(m);
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
        cmocka_unit_test(test_round_trip_is_byte_identical),
        cmocka_unit_test(test_model_object),
        cmocka_unit_test(test_tinyllama_open_is_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
