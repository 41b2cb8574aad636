/* tests/unit/test_tokenizer_corpus.c -- the 442-line corpus (tests/data/tokenizer/
** corpus.txt: unicode, emoji, CJK, whitespace runs, digits, code, special tokens
** in text, invalid UTF-8) against ids, detokenized texts and pieces recorded
** from llama.cpp (record.mjs), on the LLaMA vocab and on stories260K's. */
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

static char g_models[4096];

static size_t unhex(const char *hex, char *out) {
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    return n;
}

static void check_ids(const char *what, size_t line, const int32_t *ids, size_t n, json_t *want) {
    size_t nw = json_array_size(want);
    bool same = n == nw;
    for (size_t k = 0; same && k < n; k++)
        same = ids[k] == (int32_t)json_integer_value(json_array_get(want, k));
    if (!same) {
        fprintf(stderr, "line %zu %s: got", line, what);
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, " %d", ids[k]);
        char *w = json_dumps(want, JSON_COMPACT);
        fprintf(stderr, ", want %s\n", w);
        free(w);
    }
    assert_true(same);
}

static void check_bytes(const char *what, size_t line, const char *got, size_t n, const char *hex) {
    char want[8192];
    size_t nw = unhex(hex, want);
    if (n != nw || memcmp(got, want, n) != 0)
        fprintf(stderr, "line %zu %s: got \"%.*s\" want \"%.*s\"\n", line, what, (int)n, got,
                (int)nw, want);
    assert_int_equal(n, nw);
    assert_memory_equal(got, want, n);
}

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!l || i + l > n) return false;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
        i += l;
    }
    return true;
}

/* Streams ids one by one; the pieces joined must equal the whole decode, and
** when that is valid UTF-8 every chunk must be too. */
static void check_stream(const tl_tokenizer *tok, size_t line, const int32_t *ids, size_t n,
                         const char *whole, size_t whole_len) {
    tl_detok_stream s;
    tl_detok_stream_init(&s, tok, false, false);
    char *acc = malloc(whole_len + 16);
    size_t m = 0;
    bool valid = valid_utf8(whole, whole_len);
    for (size_t k = 0; k < n; k++) {
        char *chunk;
        size_t len;
        assert_int_equal(tl_detok_stream_push_alloc(&s, ids[k], &chunk, &len), TL_OK);
        assert_true(m + len <= whole_len);
        if (valid && !valid_utf8(chunk, len))
            fprintf(stderr, "line %zu: stream chunk %zu is not whole UTF-8\n", line, k);
        assert_true(!valid || valid_utf8(chunk, len));
        memcpy(acc + m, chunk, len);
        m += len;
        free(chunk);
    }
    m += tl_detok_stream_flush(&s, acc + m);
    assert_int_equal(m, whole_len);
    assert_memory_equal(acc, whole, m);
    free(acc);
}

static void run_corpus(const char *vocab_file, const char *expected_file, int *round_trips) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", g_models, vocab_file);
    tl_tokenizer *tok;
    if (tl_tokenizer_from_gguf(path, &tok)) fail_msg("%s", tl_last_error());
    snprintf(path, sizeof path, "%s/tests/data/tokenizer/%s", TL_TEST_SOURCE_DIR, expected_file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, lineno = 0, cases = 0;
    ssize_t got;
    *round_trips = 0;
    char text[8192];
    while ((got = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        assert_non_null(o);
        json_t *pieces = json_object_get(o, "pieces");
        if (pieces) { /* the last line: pieces of many ids */
            assert_int_equal(json_integer_value(json_object_get(o, "n_vocab")),
                             tl_tokenizer_n_vocab(tok));
            size_t i;
            json_t *p;
            json_array_foreach(pieces, i, p) {
                int32_t id = (int32_t)json_integer_value(json_array_get(p, 0));
                const char *s;
                size_t n;
                assert_int_equal(tl_token_piece(tok, id, false, &s, &n), TL_OK);
                check_bytes("piece", lineno, s, n, json_string_value(json_array_get(p, 1)));
                assert_int_equal(tl_token_piece(tok, id, true, &s, &n), TL_OK);
                check_bytes("piece(special)", lineno, s, n,
                            json_string_value(json_array_get(p, 2)));
            }
            json_decref(o);
            continue;
        }
        size_t len = unhex(json_string_value(json_object_get(o, "hex")), text);
        static const struct {
            const char *key;
            bool add, sp;
        } modes[] = {{"ids", false, false},
                     {"ids_sp", false, true},
                     {"ids_bos", true, false},
                     {"ids_bos_sp", true, true}};
        for (size_t m = 0; m < 4; m++) {
            int32_t *ids;
            size_t n;
            assert_int_equal(tl_tokenize(tok, text, len, modes[m].add, modes[m].sp, &ids, &n),
                             TL_OK);
            check_ids(modes[m].key, lineno, ids, n, json_object_get(o, modes[m].key));
            char *out;
            size_t out_len;
            if (m == 0) {
                assert_int_equal(tl_detokenize(tok, ids, n, false, false, &out, &out_len), TL_OK);
                check_bytes("detok_plain", lineno, out, out_len,
                            json_string_value(json_object_get(o, "detok_plain")));
                if (out_len == len && memcmp(out, text, len) == 0) (*round_trips)++;
                free(out);
            }
            if (m == 3) {
                assert_int_equal(tl_detokenize(tok, ids, n, false, false, &out, &out_len), TL_OK);
                check_bytes("detok", lineno, out, out_len,
                            json_string_value(json_object_get(o, "detok")));
                check_stream(tok, lineno, ids, n, out, out_len);
                free(out);
                assert_int_equal(tl_detokenize(tok, ids, n, true, false, &out, &out_len), TL_OK);
                check_bytes("detok_rs", lineno, out, out_len,
                            json_string_value(json_object_get(o, "detok_rs")));
                free(out);
                assert_int_equal(tl_detokenize(tok, ids, n, false, true, &out, &out_len), TL_OK);
                check_bytes("detok_us", lineno, out, out_len,
                            json_string_value(json_object_get(o, "detok_us")));
                free(out);
            }
            free(ids);
        }
        cases++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    tl_tokenizer_free(tok);
    assert_true(cases >= 300);
    printf("%s: %zu corpus lines agree with llama.cpp; %d round-trip exactly\n", vocab_file, cases,
           *round_trips);
}

static void test_llama_vocab(void **state) {
    (void)state;
    int rt;
    run_corpus("ggml-vocab-llama-spm.gguf", "llama-spm.expected.jsonl", &rt);
    assert_true(rt > 300);
}

static void test_stories260k_vocab(void **state) {
    (void)state;
    int rt;
    run_corpus("stories260K.gguf", "stories260K.expected.jsonl", &rt);
    assert_true(rt > 300);
}

int main(void) {
    const char *models = getenv("TL_TEST_MODELS");
    snprintf(g_models, sizeof g_models, "%s",
             models ? models : TL_TEST_SOURCE_DIR "/../shared/models");
    const char *need[] = {"ggml-vocab-llama-spm.gguf", "stories260K.gguf"};
    for (size_t i = 0; i < 2; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", g_models, need[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            printf("SKIPPED: %s not found (set TL_TEST_MODELS)\n", path);
            return 77;
        }
        fclose(f);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_vocab),
        cmocka_unit_test(test_stories260k_vocab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
