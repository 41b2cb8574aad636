/* tests/unit/test_tokenizer_json.c -- the tokenizer.json (Hugging Face BPE, Llama
** kind) loader: stories260K's vocab as a tokenizer.json (made by
** gguf_to_tokenizer_json.py) against ids and decodes recorded from the Rust
** tokenizers library (record_hf.mjs), and the loader's error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/tokenizer.h"

#define DATA TL_TEST_SOURCE_DIR "/tests/data/tokenizer/"

static size_t unhex(const char *hex, char *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    return n;
}

static void expect_ids(size_t line, const char *what, const int32_t *ids, size_t n, json_t *want) {
    bool same = n == json_array_size(want);
    for (size_t k = 0; same && k < n; k++)
        same = ids[k] == (int32_t)json_integer_value(json_array_get(want, k));
    if (!same) {
        char *w = json_dumps(want, JSON_COMPACT);
        fprintf(stderr, "line %zu %s: got", line, what);
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, " %d", ids[k]);
        fprintf(stderr, ", want %s\n", w);
        free(w);
    }
    assert_true(same);
}

static void expect_text(size_t line, const char *what, const char *got, size_t n, const char *hex) {
    char want[8192];
    size_t nw = unhex(hex, want);
    if (n != nw || memcmp(got, want, n) != 0)
        fprintf(stderr, "line %zu %s: got \"%.*s\", want \"%.*s\"\n", line, what, (int)n, got,
                (int)nw, want);
    assert_int_equal(n, nw);
    assert_memory_equal(got, want, n);
}

/* Every line of an expected file made by record_hf.mjs. */
static int run_hf(const char *json_path, const char *expected_path) {
    tl_tokenizer *tok;
    if (tl_tokenizer_from_json(json_path, &tok)) fail_msg("%s", tl_last_error());
    assert_string_equal(tl_tokenizer_kind(tok), "bpe");
    FILE *f = fopen(expected_path, "r");
    assert_non_null(f);
    char *line = NULL, text[8192];
    size_t cap = 0, lineno = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        assert_non_null(o);
        size_t len = unhex(json_string_value(json_object_get(o, "hex")), text);
        int32_t *ids;
        size_t n;
        assert_int_equal(tl_tokenize(tok, text, len, false, true, &ids, &n), TL_OK);
        expect_ids(lineno, "ids", ids, n, json_object_get(o, "ids"));
        free(ids);
        assert_int_equal(tl_tokenize(tok, text, len, true, true, &ids, &n), TL_OK);
        expect_ids(lineno, "ids_bos", ids, n, json_object_get(o, "ids_bos"));
        char *out;
        size_t out_len;
        assert_int_equal(tl_detokenize(tok, ids, n, false, true, &out, &out_len), TL_OK);
        expect_text(lineno, "decode", out, out_len,
                    json_string_value(json_object_get(o, "decode")));
        free(out);
        assert_int_equal(tl_detokenize(tok, ids, n, true, false, &out, &out_len), TL_OK);
        expect_text(lineno, "decode_skip", out, out_len,
                    json_string_value(json_object_get(o, "decode_skip")));
        /* streaming gives the same text */
        tl_detok_stream s;
        tl_detok_stream_init(&s, tok, true, false);
        char *acc = malloc(out_len + 16);
        size_t m = 0;
        for (size_t k = 0; k < n; k++) {
            char *chunk;
            size_t cl;
            assert_int_equal(tl_detok_stream_push_alloc(&s, ids[k], &chunk, &cl), TL_OK);
            assert_true(m + cl <= out_len);
            memcpy(acc + m, chunk, cl);
            m += cl;
            free(chunk);
        }
        m += tl_detok_stream_flush(&s, acc + m);
        expect_text(lineno, "stream", acc, m, json_string_value(json_object_get(o, "decode_skip")));
        free(acc);
        free(out);
        free(ids);
        json_decref(o);
    }
    free(line);
    fclose(f);
    tl_tokenizer_free(tok);
    return (int)lineno;
}

static void test_stories260k_json_matches_hf(void **state) {
    (void)state;
    int lines = run_hf(DATA "stories260K.tokenizer.json", DATA "stories260K.hf.jsonl");
    assert_true(lines >= 300);
    printf("stories260K.tokenizer.json: %d lines agree with Hugging Face tokenizers\n", lines);
}

/* A larger vocab when given (TL_TEST_TOKENIZER_JSON + TL_TEST_TOKENIZER_HF). */
static void test_extra_json(void **state) {
    (void)state;
    const char *json = getenv("TL_TEST_TOKENIZER_JSON"), *hf = getenv("TL_TEST_TOKENIZER_HF");
    if (!json || !hf) skip();
    printf("%s: %d lines agree\n", json, run_hf(json, hf));
}

static tl_status load_text(const char *text) {
    tl_tokenizer *tok = NULL;
    tl_status st = tl_tokenizer_from_json_text(text, strlen(text), "t.json", &tok);
    tl_tokenizer_free(tok);
    return st;
}

#define MINI_MODEL(vocab, merges)                                                                  \
    "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"unk_token\": \"<unk>\", "          \
    "\"vocab\": " vocab ", \"merges\": " merges "}}"

static void test_json_errors(void **state) {
    (void)state;
    assert_int_equal(load_text("{\"model\": {\"type\": \"BPE\",\n  \"vocab\": {\"a\": 0,}}}"),
                     TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "t.json:2:"));
    assert_non_null(strstr(tl_last_error(), "malformed JSON"));
    assert_int_equal(load_text("[1, 2]"), TL_ERR_FORMAT);
    assert_int_equal(load_text("{\"model\": {\"type\": \"BPE\", \"merges\": []}}"), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "model.vocab is missing"));
    assert_int_equal(load_text("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}"),
                     TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "model.merges"));
    assert_int_equal(load_text("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}"),
                     TL_ERR_UNSUPPORTED);
    assert_non_null(strstr(tl_last_error(), "WordPiece"));
    assert_int_equal(load_text(MINI_MODEL("{\"a\": 0, \"b\": 2}", "[]")), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "id 1 is missing"));
    assert_int_equal(load_text(MINI_MODEL("{\"a\": 0, \"b\": \"x\"}", "[]")), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "not an integer"));
    assert_int_equal(load_text(MINI_MODEL("{\"a\": 0, \"b\": 1}", "[\"a c\"]")), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "not in the vocab"));
    assert_int_equal(load_text(MINI_MODEL("{\"a\": 0, \"b\": 1}", "[\"ab\"]")), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "not two tokens"));
    tl_tokenizer *tok;
    assert_int_equal(tl_tokenizer_from_json("/nonexistent/tokenizer.json", &tok), TL_ERR_IO);
    assert_null(tok);
    assert_non_null(strstr(tl_last_error(), "/nonexistent/tokenizer.json"));
}

/* A hand-made tokenizer.json: merges by rank, pair merges as arrays, byte
** fallback, an unknown character without byte tokens, Metaspace "first". */
static void test_json_mini(void **state) {
    (void)state;
    const char *text =
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
        "  {\"id\": 1, \"content\": \"<s>\", \"special\": true},"
        "  {\"id\": 9, \"content\": \"<tool>\", \"special\": false}],"
        " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\xE2\x96\x81\","
        "  \"prepend_scheme\": \"first\", \"split\": false},"
        " \"model\": {\"type\": \"BPE\", \"byte_fallback\": false, \"fuse_unk\": true,"
        "  \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"\xE2\x96\x81\": 2,"
        "  \"a\": 3, \"b\": 4, \"ab\": 5, \"\xE2\x96\x81"
        "a\": 6, \"\xE2\x96\x81"
        "ab\": 7,"
        "  \"bb\": 8, \"<tool>\": 9},"
        "  \"merges\": [[\"a\", \"b\"], \"\xE2\x96\x81 a\", \"\xE2\x96\x81 ab\", \"b b\"]}}";
    tl_tokenizer *tok;
    if (tl_tokenizer_from_json_text(text, strlen(text), "mini.json", &tok))
        fail_msg("%s", tl_last_error());
    int32_t *ids;
    size_t n;
    /* "ab" ranks first, then "▁a" cannot apply, "▁ab" can */
    assert_int_equal(tl_tokenize(tok, "ab", 2, false, false, &ids, &n), TL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 7);
    free(ids);
    /* prefix only at the very start (scheme "first"); <tool> is always cut out;
    ** unknown characters fuse into one <unk> */
    assert_int_equal(tl_tokenize(tok, "bbb<tool>ab xyz", 15, true, false, &ids, &n), TL_OK);
    int32_t want[] = {1, 2, 8, 4, 9, 5, 2, 0};
    assert_int_equal(n, sizeof want / sizeof want[0]);
    assert_memory_equal(ids, want, sizeof want);
    free(ids);
    tl_tokenizer_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories260k_json_matches_hf),
        cmocka_unit_test(test_extra_json),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_mini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
