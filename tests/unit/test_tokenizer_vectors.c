/* tests/unit/test_tokenizer_vectors.c -- llama.cpp's own tokenizer test vectors
** (ggml-vocab-llama-spm.gguf.inp/.out: cases separated by
** "\n__ggml_vocab_test__\n", expected ids without BOS, one line per case) and
** the detokenize round trip on each of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/tokenizer.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static char g_vocab[4096], g_inp[4096], g_out[4096];

static void test_official_vectors(void **state) {
    (void)state;
    tl_tokenizer *tok;
    assert_int_equal(tl_tokenizer_from_gguf(g_vocab, &tok), TL_OK);
    size_t inp_len, out_len;
    char *inp = slurp(g_inp, &inp_len), *out = slurp(g_out, &out_len);
    assert_non_null(inp);
    assert_non_null(out);
    const char *sep = "\n__ggml_vocab_test__\n";
    char *cur = inp, *line = out;
    int cases = 0, round_trips = 0;
    for (;;) {
        char *end = strstr(cur, sep);
        if (!end) break;
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = 0;
        int32_t want[512];
        size_t n_want = 0;
        for (char *p = line; *p;) {
            char *e;
            long v = strtol(p, &e, 10);
            if (e == p) break;
            want[n_want++] = (int32_t)v;
            p = e;
        }
        int32_t *ids;
        size_t n;
        assert_int_equal(tl_tokenize(tok, cur, (size_t)(end - cur), false, false, &ids, &n), TL_OK);
        if (n != n_want || memcmp(ids, want, n * sizeof *ids) != 0) {
            fprintf(stderr, "case %d \"%.*s\": got", cases, (int)(end - cur), cur);
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, " %d", ids[k]);
            fprintf(stderr, "\n  want %s\n", line);
        }
        assert_int_equal(n, n_want);
        assert_memory_equal(ids, want, n * sizeof *ids);
        /* the text comes back whole (the decoder drops the dummy-prefix space) */
        char *text;
        size_t len;
        assert_int_equal(tl_detokenize(tok, ids, n, false, false, &text, &len), TL_OK);
        if (len == (size_t)(end - cur) && memcmp(text, cur, len) == 0)
            round_trips++;
        else
            fprintf(stderr, "no round trip: \"%.*s\" -> \"%s\"\n", (int)(end - cur), cur, text);
        free(text);
        free(ids);
        cases++;
        cur = end + strlen(sep);
        line = nl + 1;
    }
    assert_int_equal(cases, 46);
    assert_int_equal(round_trips, 46);
    free(inp);
    free(out);
    tl_tokenizer_free(tok);
}

int main(void) {
    const char *models = getenv("TL_TEST_MODELS");
    if (!models) models = TL_TEST_SOURCE_DIR "/../shared/models";
    snprintf(g_vocab, sizeof g_vocab, "%s/ggml-vocab-llama-spm.gguf", models);
    snprintf(g_inp, sizeof g_inp, "%s/ggml-vocab-llama-spm.gguf.inp", models);
    snprintf(g_out, sizeof g_out, "%s/ggml-vocab-llama-spm.gguf.out", models);
    FILE *f = fopen(g_vocab, "rb");
    FILE *g = fopen(g_inp, "rb");
    if (!f || !g) {
        printf("SKIPPED: %s or its .inp/.out not found (set TL_TEST_MODELS)\n", g_vocab);
        if (f) fclose(f);
        if (g) fclose(g);
        return 77;
    }
    fclose(f);
    fclose(g);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
