/* tests/unit/test_tokenizer_json.c -- the tokenizer.json (Hugging Face BPE, Llama
** kind) loader: stories260K's vocab as a tokenizer.json (made by
** gguf_to_tokenizer_json.py) and the LLaMA vocab as one (the same document,
** built here from the GGUF) against ids and decodes recorded from the Rust
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

/* Every line of an expected file made by record_hf.mjs (frees tok). */
static int run_hf_tok(tl_tokenizer *tok, const char *expected_path) {
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

static int run_hf(const char *json_path, const char *expected_path) {
    tl_tokenizer *tok;
    if (tl_tokenizer_from_json(json_path, &tok)) fail_msg("%s", tl_last_error());
    return run_hf_tok(tok, expected_path);
}

/* ---- a LLaMA-size tokenizer.json, made from the GGUF vocab here -------------------- */

typedef struct merge_rec {
    float score;
    int32_t tok, left, right;
} merge_rec;

/* Hugging Face's converter order: merged token's score (highest first), then its
** id, then the ids of the two halves. */
static int cmp_merge(const void *a, const void *b) {
    const merge_rec *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->tok != y->tok) return x->tok < y->tok ? -1 : 1;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return (x->right > y->right) - (x->right < y->right);
}

static size_t char_len(unsigned char c) {
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* The same document gguf_to_tokenizer_json.py writes, built with jansson. */
static char *llama_json_from_gguf(const char *gguf) {
    tl_tokenizer *spm;
    if (tl_tokenizer_from_gguf(gguf, &spm)) fail_msg("%s", tl_last_error());
    int32_t n = tl_tokenizer_n_vocab(spm);
    json_t *vocab = json_object(), *added = json_array(), *merges = json_array();
    size_t n_m = 0, cap_m = 1024;
    merge_rec *m = malloc(cap_m * sizeof *m);
    for (int32_t i = 0; i < n; i++) {
        size_t len;
        const char *t = tl_tokenizer_text(spm, i, &len);
        json_object_setn_new(vocab, t, len, json_integer(i));
        tl_token_type ty = tl_tokenizer_type(spm, i);
        if (ty == TL_TOKEN_UNKNOWN || ty == TL_TOKEN_CONTROL)
            json_array_append_new(
                added, json_pack("{s:i, s:s%, s:b}", "id", i, "content", t, len, "special", 1));
        if (ty != TL_TOKEN_NORMAL) continue;
        for (size_t k = char_len((unsigned char)t[0]); k < len;
             k += char_len((unsigned char)t[k])) {
            int32_t l = tl_tokenizer_find(spm, t, k), r = tl_tokenizer_find(spm, t + k, len - k);
            if (l < 0 || r < 0) continue;
            if (n_m == cap_m) m = realloc(m, (cap_m *= 2) * sizeof *m);
            m[n_m++] = (merge_rec){tl_tokenizer_score(spm, i), i, l, r};
        }
    }
    qsort(m, n_m, sizeof *m, cmp_merge);
    for (size_t k = 0; k < n_m; k++) {
        size_t ll, rl;
        const char *l = tl_tokenizer_text(spm, m[k].left, &ll);
        const char *r = tl_tokenizer_text(spm, m[k].right, &rl);
        char *both = malloc(ll + rl + 2);
        memcpy(both, l, ll);
        both[ll] = ' ';
        memcpy(both + ll + 1, r, rl);
        json_array_append_new(merges, json_stringn(both, ll + rl + 1));
        free(both);
    }
    free(m);
    json_t *doc = json_pack(
        "{s:o, s:{s:s, s:[{s:s, s:s}, {s:s, s:{s:s}, s:s}]}, s:n,"
        " s:{s:s, s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}], s:{s:{s:s, s:[i], s:[s]}}},"
        " s:{s:s, s:s, s:b, s:b, s:o, s:o}}",
        "added_tokens", added, "normalizer", "type", "Sequence", "normalizers", "type", "Prepend",
        "prepend", "\xE2\x96\x81", "type", "Replace", "pattern", "String", " ", "content",
        "\xE2\x96\x81", "pre_tokenizer", "post_processor", "type", "TemplateProcessing", "single",
        "SpecialToken", "id", "<s>", "type_id", 0, "Sequence", "id", "A", "type_id", 0,
        "special_tokens", "<s>", "id", "<s>", "ids", 1, "tokens", "<s>", "model", "type", "BPE",
        "unk_token", "<unk>", "fuse_unk", 1, "byte_fallback", 1, "vocab", vocab, "merges", merges);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    tl_tokenizer_free(spm);
    return text;
}

static void test_llama_json_matches_hf(void **state) {
    (void)state;
    const char *models = getenv("TL_TEST_MODELS");
    char gguf[4096];
    snprintf(gguf, sizeof gguf, "%s/ggml-vocab-llama-spm.gguf",
             models ? models : TL_TEST_SOURCE_DIR "/../shared/models");
    FILE *f = fopen(gguf, "rb");
    if (!f) skip();
    fclose(f);
    char *text = llama_json_from_gguf(gguf);
    tl_tokenizer *tok;
    if (tl_tokenizer_from_json_text(text, strlen(text), "llama tokenizer.json", &tok))
        fail_msg("%s", tl_last_error());
    free(text);
    int lines = run_hf_tok(tok, DATA "llama-spm.hf.jsonl");
    assert_true(lines >= 300);
    printf("LLaMA vocab as tokenizer.json: %d lines agree with Hugging Face tokenizers\n", lines);
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
    /* a flag that is not a bool is refused ("yes" was read as false) */
    assert_int_equal(load_text("{\"model\": {\"type\": \"BPE\", \"byte_fallback\": \"yes\", "
                               "\"vocab\": {\"a\": 0}, \"merges\": []}}"),
                     TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "model.byte_fallback must be true or false"));
    assert_int_equal(load_text("{\"model\": {\"type\": \"BPE\", \"fuse_unk\": 1, "
                               "\"vocab\": {\"a\": 0}, \"merges\": []}}"),
                     TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "model.fuse_unk must be true or false"));
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

/* Truncated and byte-corrupted versions of a real tokenizer.json either load or
** fail with a message; whatever loads still tokenizes and decodes. */
static void test_json_corrupted(void **state) {
    (void)state;
    FILE *f = fopen(DATA "stories260K.tokenizer.json", "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    char *orig = malloc(n), *buf = malloc(n);
    assert_int_equal(fread(orig, 1, n, f), n);
    fclose(f);
    srand(7);
    int loaded = 0, failed = 0;
    for (int c = 0; c < 1500; c++) {
        memcpy(buf, orig, n);
        size_t len = n;
        if (c < 300) {
            len = (size_t)rand() % n; /* truncated */
        } else {
            int flips = 1 + rand() % 4;
            for (int k = 0; k < flips; k++)
                buf[(size_t)rand() % n] = (char)(rand() % 256);
        }
        tl_tokenizer *tok;
        if (tl_tokenizer_from_json_text(buf, len, "x.json", &tok) != TL_OK) {
            assert_null(tok);
            assert_true(strlen(tl_last_error()) > 0);
            failed++;
            continue;
        }
        loaded++;
        int32_t *ids;
        size_t n_ids;
        if (tl_tokenize(tok, "Hello <s>world \xF0\x9F", 18, true, true, &ids, &n_ids) == TL_OK) {
            char *text;
            size_t tl;
            assert_int_equal(tl_detokenize(tok, ids, n_ids, false, true, &text, &tl), TL_OK);
            free(text);
            free(ids);
        }
        tl_tokenizer_free(tok);
    }
    printf("corrupted tokenizer.json: %d loaded, %d refused\n", loaded, failed);
    assert_true(failed > 300);
    free(orig);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories260k_json_matches_hf),
        cmocka_unit_test(test_llama_json_matches_hf),
        cmocka_unit_test(test_extra_json),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_mini),
        cmocka_unit_test(test_json_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
