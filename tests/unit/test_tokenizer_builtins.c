/* tests/unit/test_tokenizer_builtins.c -- the tokenizer builtins and the Tokenizer
** class, called the way the evaluator calls them (tl_builtin_resolve +
** tl_builtin_call, class get_property/call_method).  Needs the shared test
** models (skipped when absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/builtin.h"

static char g_vocab[4096], g_stories[4096];

static tl_status call(const char *name, int argc, const tl_value *argv, tl_value *out) {
    const tl_builtin_def *d = tl_builtin_resolve(name, argc, argv);
    assert_non_null(d);
    return tl_builtin_call(d, NULL, argc, argv, out);
}

static tl_value str(const char *s) {
    tl_value v;
    assert_int_equal(tl_value_cstring(s, &v), TL_OK);
    return v;
}

static tl_value load(const char *path) {
    tl_value p = str(path), t;
    assert_int_equal(call("load_tokenizer", 1, &p, &t), TL_OK);
    tl_value_release(&p);
    assert_string_equal(tl_value_type_name(&t), "Tokenizer");
    return t;
}

static void expect_ids(const tl_value *v, const int64_t *want, size_t n) {
    assert_int_equal(v->kind, TL_VAL_ARRAY);
    assert_int_equal(v->as.arr->len, n);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(v->as.arr->items[k].kind, TL_VAL_INT);
        assert_int_equal(v->as.arr->items[k].as.i, want[k]);
    }
}

static void test_tokenize_detokenize(void **state) {
    (void)state;
    tl_value tok = load(g_vocab);
    tl_value args[4] = {tok, str("Hello world"), tl_value_bool(true)}, ids, text;
    assert_int_equal(call("tokenize", 3, args, &ids), TL_OK);
    const int64_t want[] = {1, 15043, 3186};
    expect_ids(&ids, want, 3);
    /* detokenize(tok, ids, skip_special) */
    tl_value d[3] = {tok, ids, tl_value_bool(true)};
    assert_int_equal(call("detokenize", 3, d, &text), TL_OK);
    assert_string_equal(text.as.str->data, " Hello world");
    tl_value_release(&text);
    assert_int_equal(call("detokenize", 2, d, &text), TL_OK);
    assert_string_equal(text.as.str->data, "<s> Hello world");
    tl_value_release(&text);
    tl_value_release(&ids);
    /* the default is add_special = true; parse_special as the 4th argument */
    tl_value_release(&args[1]);
    args[1] = str("<s>Hi</s>");
    args[2] = tl_value_bool(false);
    args[3] = tl_value_bool(true);
    assert_int_equal(call("tokenize", 4, args, &ids), TL_OK);
    const int64_t want2[] = {1, 6324, 2};
    expect_ids(&ids, want2, 3);
    tl_value_release(&ids);
    assert_int_equal(call("tokenize", 2, args, &ids), TL_OK);
    assert_int_equal(ids.as.arr->items[0].as.i, 1);
    assert_true(ids.as.arr->len > 3);
    tl_value_release(&ids);
    tl_value_release(&args[1]);
    /* ids as a 1-D i32 tensor */
    tl_tensor *t;
    int64_t ne = 3;
    assert_int_equal(tl_tensor_new(TL_DTYPE_I32, 1, &ne, &t), TL_OK);
    int32_t *td = tl_tensor_data(t);
    td[0] = 1;
    td[1] = 15043;
    td[2] = 3186;
    tl_value dt[3] = {tok, tl_value_tensor(t), tl_value_bool(true)};
    assert_int_equal(call("detokenize", 3, dt, &text), TL_OK);
    assert_string_equal(text.as.str->data, " Hello world");
    tl_value_release(&text);
    tl_value_release(&dt[1]);
    /* the method form */
    tl_value m[2] = {str("Hello"), tl_value_bool(false)};
    assert_int_equal(tok.as.obj->cls->call_method(tok.as.obj, "tokenize", 2, m, &ids), TL_OK);
    const int64_t want3[] = {15043};
    expect_ids(&ids, want3, 1);
    tl_value_release(&ids);
    tl_value_release(&m[0]);
    tl_value_release(&tok);
}

static void test_queries_and_pieces(void **state) {
    (void)state;
    tl_value tok = load(g_vocab), v;
    assert_int_equal(call("bos_id", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.i, 1);
    assert_int_equal(call("eos_id", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.i, 2);
    assert_int_equal(call("vocab_size", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.i, 32000);
    assert_int_equal(tok.as.obj->cls->get_property(tok.as.obj, "kind", &v), TL_OK);
    assert_string_equal(v.as.str->data, "spm");
    tl_value_release(&v);
    tl_value args[3] = {tok, tl_value_int(15043)};
    assert_int_equal(call("token_to_piece", 2, args, &v), TL_OK);
    assert_string_equal(v.as.str->data, " Hello");
    tl_value_release(&v);
    args[1] = tl_value_int(2);
    args[2] = tl_value_bool(false);
    assert_int_equal(call("token_to_piece", 3, args, &v), TL_OK);
    assert_string_equal(v.as.str->data, "");
    tl_value_release(&v);
    /* bad ids: a clear error */
    args[1] = tl_value_int(40000);
    assert_int_equal(call("token_to_piece", 2, args, &v), TL_ERR_RANGE);
    assert_non_null(strstr(tl_last_error(), "token id 40000 out of range (vocab 32000)"));
    tl_value arr;
    assert_int_equal(tl_value_array(2, &arr), TL_OK);
    tl_array_push(arr.as.arr, tl_value_int(15043));
    tl_array_push(arr.as.arr, tl_value_int(-3));
    args[1] = arr;
    assert_int_equal(call("detokenize", 2, args, &v), TL_ERR_RANGE);
    assert_non_null(strstr(tl_last_error(), "token id -3 out of range"));
    tl_value_release(&arr);
    /* not a tokenizer */
    tl_value s = str("x");
    args[0] = s;
    args[1] = tl_value_int(1);
    const tl_builtin_def *d = tl_builtin_resolve("token_to_piece", 2, args);
    assert_true(d == NULL || tl_builtin_call(d, NULL, 2, args, &v) != TL_OK);
    tl_value_release(&s);
    tl_value_release(&tok);
}

static void test_incremental(void **state) {
    (void)state;
    tl_value tok = load(g_vocab), v;
    /* " 🦙!" as ids: ▁ <0xF0> <0x9F> <0xA6> <0x99> ! */
    const int64_t ids[] = {1, 29871, 243, 162, 169, 156, 29991};
    const char *want[] = {"", " ", "", "", "", "\xF0\x9F\xA6\x99", "!"};
    for (size_t k = 0; k < 7; k++) {
        tl_value args[3] = {tok, tl_value_int(ids[k]), tl_value_bool(true)};
        assert_int_equal(call("detokenize_incremental", 3, args, &v), TL_OK);
        assert_string_equal(v.as.str->data, want[k]);
        tl_value_release(&v);
    }
    assert_int_equal(call("detokenize_flush", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.str->len, 0);
    tl_value_release(&v);
    /* a cut-short character comes out of flush */
    tl_value args[2] = {tok, tl_value_int(243)};
    assert_int_equal(call("detokenize_incremental", 2, args, &v), TL_OK);
    assert_int_equal(v.as.str->len, 0);
    tl_value_release(&v);
    assert_int_equal(call("detokenize_flush", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.str->len, 1);
    tl_value_release(&v);
    tl_value_release(&tok);
}

static void test_load_sources(void **state) {
    (void)state;
    /* a tokenizer.json */
    tl_value tok = load(TL_TEST_SOURCE_DIR "/tests/data/tokenizer/stories260K.tokenizer.json"), v;
    assert_int_equal(tok.as.obj->cls->get_property(tok.as.obj, "kind", &v), TL_OK);
    assert_string_equal(v.as.str->data, "bpe");
    tl_value_release(&v);
    tl_value_release(&tok);
    /* a Model from load_model */
    tl_value p = str(g_stories), model;
    assert_int_equal(call("load_model", 1, &p, &model), TL_OK);
    assert_int_equal(call("load_tokenizer", 1, &model, &tok), TL_OK);
    assert_int_equal(call("vocab_size", 1, &tok, &v), TL_OK);
    assert_int_equal(v.as.i, 512);
    tl_value_release(&tok);
    tl_value_release(&model);
    tl_value_release(&p);
    /* "~/" is the home folder */
    setenv("HOME", TL_TEST_SOURCE_DIR "/tests/data", 1);
    p = str("~/tokenizer/stories260K.tokenizer.json");
    assert_int_equal(call("load_tokenizer", 1, &p, &tok), TL_OK);
    tl_value_release(&tok);
    tl_value_release(&p);
    /* errors */
    p = str("/nonexistent/tok.gguf");
    assert_int_not_equal(call("load_tokenizer", 1, &p, &tok), TL_OK);
    assert_non_null(strstr(tl_last_error(), "/nonexistent/tok.gguf"));
    tl_value_release(&p);
}

int main(void) {
    const char *models = getenv("TL_TEST_MODELS");
    if (!models) models = TL_TEST_SOURCE_DIR "/../shared/models";
    snprintf(g_vocab, sizeof g_vocab, "%s/ggml-vocab-llama-spm.gguf", models);
    snprintf(g_stories, sizeof g_stories, "%s/stories260K.gguf", models);
    FILE *f = fopen(g_vocab, "rb"), *g = fopen(g_stories, "rb");
    if (!f || !g) {
        printf("SKIPPED: %s or stories260K.gguf not found (set TL_TEST_MODELS)\n", g_vocab);
        if (f) fclose(f);
        if (g) fclose(g);
        return 77;
    }
    fclose(f);
    fclose(g);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_detokenize),
        cmocka_unit_test(test_queries_and_pieces),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_load_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
