/* tests/unit/test_tokenizer.c -- the SPM tokenizer built from plain arrays: a
** tiny hand-made vocab (merge order, ties, byte fallback, special tokens), the
** LLaMA vocab retyped from llama.cpp's test vocab (results verified there against
** llama.cpp), streaming decode, and the errors for bad ids and bad vocabs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gguf.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_internal.h" /* no_cut, to check the cut */

#define U2581 "\xE2\x96\x81"

static char g_llama[4096];

static void expect_tokens(tl_tokenizer *tok, const char *text, size_t len, bool add, bool sp,
                          const int32_t *want, size_t n_want) {
    int32_t *ids;
    size_t n;
    assert_int_equal(tl_tokenize(tok, text, len, add, sp, &ids, &n), TL_OK);
    if (n != n_want || (n && memcmp(ids, want, n * sizeof *ids) != 0)) {
        fprintf(stderr, "\"%.*s\": got", (int)len, text);
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, " %d", ids[k]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(n, n_want);
    if (n) assert_memory_equal(ids, want, n * sizeof *ids);
    free(ids);
}
#define EXPECT(tok, text, add, sp, ...)                                                            \
    do {                                                                                           \
        const int32_t want_[] = {__VA_ARGS__};                                                     \
        expect_tokens(tok, text, sizeof(text) - 1, add, sp, want_, sizeof want_ / sizeof *want_);  \
    } while (0)

static void expect_detok(tl_tokenizer *tok, const int32_t *ids, size_t n, bool rs, bool us,
                         const char *want) {
    char *text;
    size_t len;
    assert_int_equal(tl_detokenize(tok, ids, n, rs, us, &text, &len), TL_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    free(text);
}

/* ids: 0 <unk> 1 <s> 2 </s> 3..6 <0x41>.. bytes for A, B, 0xC3, 0xA9; then pieces */
static tl_tokenizer *tiny(void) {
    static const char *texts[] = {"<unk>",    "<s>", "</s>",      "<0x41>", "<0x42>", "<0xC3>",
                                  "<0xA9>",   U2581, "a",         "b",      "ab",     U2581 "a",
                                  U2581 "ab", "bb",  U2581 U2581, "<tool>"};
    static const float scores[] = {0, 0, 0, 0, 0, 0, 0, -1e9f, -5, -5, -1, -2, -3, -1, -1e9f, 0};
    static const int32_t types[] = {2, 3, 3, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 4};
    tl_spm_vocab v = tl_spm_vocab_defaults();
    v.n_tokens = 16;
    v.texts = texts;
    v.scores = scores;
    v.types = types;
    tl_tokenizer *tok;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_OK);
    return tok;
}

static void test_tiny_vocab(void **state) {
    (void)state;
    tl_tokenizer *tok = tiny();
    assert_int_equal(tl_tokenizer_n_vocab(tok), 16);
    assert_int_equal(tl_tokenizer_bos(tok), 1);
    assert_int_equal(tl_tokenizer_eos(tok), 2);
    /* "▁ab" (-3) loses to "ab" (-1): ▁ + ab, then ▁ab */
    EXPECT(tok, "ab", false, false, 12);
    /* "ab" and "bb" tie at -1: the leftmost ("ab") merges first, then "▁ab" */
    EXPECT(tok, "abb", false, false, 12, 9);
    /* "bb" (-1) beats "▁a" (-2) */
    EXPECT(tok, "bba", false, false, 7, 13, 8);
    /* equal scores: the leftmost pair merges first: ab|ab, not a|bb */
    EXPECT(tok, "abab", false, false, 12, 10);
    /* byte fallback: A and B have byte tokens, é is 2 byte tokens */
    EXPECT(tok, "A", false, false, 7, 3);
    EXPECT(tok, "\xC3\xA9", false, false, 7, 5, 6);
    /* BOS only with add_special; <s> only with parse_special; <tool> always */
    EXPECT(tok, "a", true, false, 1, 11);
    EXPECT(tok, "<s>a", false, true, 1, 11);
    EXPECT(tok, "a<tool>a", false, false, 11, 15, 11);
    EXPECT(tok, "", true, false, 1);
    /* a character without any token or byte token is an error, not a crash */
    int32_t *ids;
    size_t n;
    assert_int_equal(tl_tokenize(tok, "z", 1, false, false, &ids, &n), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "0x7A"));
    assert_null(ids);
    /* pieces */
    const char *p;
    size_t pl;
    assert_int_equal(tl_token_piece(tok, 12, false, &p, &pl), TL_OK);
    assert_int_equal(pl, 3);
    assert_memory_equal(p, " ab", 3);
    assert_int_equal(tl_token_piece(tok, 1, false, &p, &pl), TL_OK);
    assert_int_equal(pl, 0);
    assert_int_equal(tl_token_piece(tok, 1, true, &p, &pl), TL_OK);
    assert_int_equal(pl, 3);
    assert_int_equal(tl_token_piece(tok, 5, false, &p, &pl), TL_OK);
    assert_int_equal(pl, 1);
    assert_int_equal((unsigned char)p[0], 0xC3);
    tl_tokenizer_free(tok);
}

static void test_bad_ids(void **state) {
    (void)state;
    tl_tokenizer *tok = tiny();
    const char *p;
    size_t pl;
    assert_int_equal(tl_token_piece(tok, 16, false, &p, &pl), TL_ERR_RANGE);
    assert_string_equal(tl_last_error(), "token id 16 out of range (vocab 16)");
    assert_int_equal(tl_token_piece(tok, -1, false, &p, &pl), TL_ERR_RANGE);
    int32_t ids[] = {11, 40000};
    char *text;
    size_t len;
    assert_int_equal(tl_detokenize(tok, ids, 2, false, false, &text, &len), TL_ERR_RANGE);
    assert_string_equal(tl_last_error(), "token id 40000 out of range (vocab 16)");
    assert_null(text);
    tl_detok_stream s;
    tl_detok_stream_init(&s, tok, false, false);
    assert_int_equal(tl_detok_stream_push_alloc(&s, 99, &text, &len), TL_ERR_RANGE);
    tl_tokenizer_free(tok);
}

static void test_bad_vocabs(void **state) {
    (void)state;
    tl_tokenizer *tok;
    const char *dup[] = {"a", "b", "a"};
    tl_spm_vocab v = tl_spm_vocab_defaults();
    v.n_tokens = 3;
    v.texts = dup;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "same text"));
    v.n_tokens = 0;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_ERR_FORMAT);
    v.n_tokens = 2;
    v.texts = NULL;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_ERR_FORMAT);
    /* the default BOS/EOS ids do not fit a 1-token vocab: they become "none" */
    const char *one[] = {"x"};
    v.n_tokens = 1;
    v.texts = one;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_OK);
    assert_int_equal(tl_tokenizer_bos(tok), -1);
    int32_t *ids;
    size_t n;
    assert_int_equal(tl_tokenize(tok, "x", 1, true, false, &ids, &n), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "no BOS"));
    tl_tokenizer_free(tok);
    /* an explicit id out of range is an error */
    v.n_tokens = 2;
    v.eos_id = 7;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "EOS id 7"));
    /* an empty text is named [EMPTY_i], as llama.cpp does */
    const char *empty[] = {"x", ""};
    v.eos_id = -1;
    v.texts = empty;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_OK);
    size_t len;
    assert_string_equal(tl_tokenizer_text(tok, 1, &len), "[EMPTY_1]");
    tl_tokenizer_free(tok);
}

/* ---- the LLaMA vocab, retyped (from llama.cpp's test vocab) ------------------------------ */

typedef struct llama_arrays {
    tl_gguf *g;
    int32_t n;
    const char **texts;
    size_t *lens;
    float *scores;
    int32_t *types;
} llama_arrays;

static void llama_load(llama_arrays *a) {
    assert_int_equal(tl_gguf_open(g_llama, &a->g), TL_OK);
    const tl_gguf_kv *t = tl_gguf_find(a->g, "tokenizer.ggml.tokens");
    const tl_gguf_kv *s = tl_gguf_find(a->g, "tokenizer.ggml.scores");
    const tl_gguf_kv *y = tl_gguf_find(a->g, "tokenizer.ggml.token_type");
    a->n = (int32_t)t->count;
    a->texts = malloc(sizeof(char *) * (size_t)a->n);
    a->lens = malloc(sizeof(size_t) * (size_t)a->n);
    a->scores = malloc(sizeof(float) * (size_t)a->n);
    a->types = malloc(sizeof(int32_t) * (size_t)a->n);
    for (int32_t i = 0; i < a->n; i++) {
        double d;
        int64_t k;
        tl_gguf_kv_string(t, (uint64_t)i, &a->texts[i], &a->lens[i]);
        tl_gguf_kv_float(s, (uint64_t)i, &d);
        tl_gguf_kv_int(y, (uint64_t)i, &k);
        a->scores[i] = (float)d;
        a->types[i] = (int32_t)k;
    }
}

static void llama_free(llama_arrays *a) {
    free(a->texts);
    free(a->lens);
    free(a->scores);
    free(a->types);
    tl_gguf_close(a->g);
}

static tl_tokenizer *llama_variant(llama_arrays *a, bool space_prefix, bool add_eos) {
    tl_spm_vocab v = tl_spm_vocab_defaults();
    v.n_tokens = a->n;
    v.texts = a->texts;
    v.text_lens = a->lens;
    v.scores = a->scores;
    v.types = a->types;
    v.add_space_prefix = space_prefix;
    v.add_eos = add_eos;
    tl_tokenizer *tok;
    assert_int_equal(tl_tokenizer_new_spm(&v, &tok), TL_OK);
    return tok;
}

static void test_llama_variants(void **state) {
    (void)state;
    FILE *f = fopen(g_llama, "rb");
    if (!f) skip();
    fclose(f);
    llama_arrays a;
    llama_load(&a);

    /* as shipped: llama.cpp's examples */
    tl_tokenizer *tok = llama_variant(&a, true, false);
    EXPECT(tok, "                    ", false, false, 462, 418);
    EXPECT(tok, "Hello </s> world", false, true, 15043, 29871, 2, 29871, 3186);
    EXPECT(tok, "<s>", true, true, 1, 1);
    const int32_t d1[] = {1, 15043, 3186}, d2[] = {2, 15043}, d3[] = {1, 2};
    expect_detok(tok, d1, 3, true, false, " Hello world");
    expect_detok(tok, d1, 3, false, true, "<s> Hello world");
    expect_detok(tok, d2, 2, false, false, " Hello");
    expect_detok(tok, d3, 2, true, true, "</s>");
    tl_tokenizer_free(tok);

    /* A: "Hello" and "▁world" USER_DEFINED, "▁the" UNUSED, "▁a" UNDEFINED */
    a.types[10994] = TL_TOKEN_USER_DEFINED;
    a.types[3186] = TL_TOKEN_USER_DEFINED;
    a.types[278] = TL_TOKEN_UNUSED;
    a.types[263] = TL_TOKEN_UNDEFINED;
    tok = llama_variant(&a, true, false);
    EXPECT(tok, "Hello world", false, false, 10994, 29871, 3186);
    EXPECT(tok, "Hello world", false, true, 10994, 29871, 3186);
    EXPECT(tok, "sayHello there", false, false, 1827, 10994, 29871, 727);
    EXPECT(tok, U2581 "world", false, false, 3186);
    EXPECT(tok, "the a", false, false, 278, 263);
    const int32_t da[] = {10994, 3186}, db[] = {278, 263, 15043};
    expect_detok(tok, da, 2, false, false, "Hello" U2581 "world");
    expect_detok(tok, db, 3, false, false, " Hello");
    tl_tokenizer_free(tok);
    a.types[10994] = a.types[3186] = a.types[278] = a.types[263] = TL_TOKEN_NORMAL;

    /* B: no space prefix, EOS added */
    tok = llama_variant(&a, false, true);
    EXPECT(tok, "Hello world", false, false, 10994, 3186);
    EXPECT(tok, "Hello world", true, false, 1, 10994, 3186, 2);
    EXPECT(tok, "", true, false, 1, 2);
    const int32_t dB1[] = {15043}, dB2[] = {1, 15043, 2};
    expect_detok(tok, dB1, 1, false, false, " Hello");
    expect_detok(tok, dB2, 3, true, false, " Hello");
    tl_tokenizer_free(tok);

    /* C: "ème" CONTROL */
    a.types[5000] = TL_TOKEN_CONTROL;
    tok = llama_variant(&a, true, false);
    EXPECT(tok, "th\xC3\xA8me", false, false, 266, 5000);
    EXPECT(tok, "th\xC3\xA8me", false, true, 266, 5000);
    EXPECT(tok, "\xC3\xA8me", false, true, 5000);
    const char *p;
    size_t pl;
    assert_int_equal(tl_token_piece(tok, 5000, false, &p, &pl), TL_OK);
    assert_int_equal(pl, 0);
    tl_tokenizer_free(tok);
    a.types[5000] = TL_TOKEN_NORMAL;

    /* streaming: a llama (4 byte tokens) prints once, when whole */
    tok = llama_variant(&a, true, false);
    const int32_t llama[] = {1, 29871, 243, 162, 169, 156, 15043};
    const char *want[] = {"", " ", "", "", "", "\xF0\x9F\xA6\x99", " Hello"};
    tl_detok_stream s;
    tl_detok_stream_init(&s, tok, true, false);
    for (size_t k = 0; k < 7; k++) {
        char *text;
        size_t len;
        assert_int_equal(tl_detok_stream_push_alloc(&s, llama[k], &text, &len), TL_OK);
        assert_string_equal(text, want[k]);
        free(text);
    }
    /* a character cut short is handed out by flush */
    char *text;
    size_t len;
    char rest[8];
    assert_int_equal(tl_detok_stream_push_alloc(&s, 243, &text, &len), TL_OK);
    assert_int_equal(len, 0);
    free(text);
    assert_int_equal(tl_detok_stream_flush(&s, rest), 1);
    assert_int_equal((unsigned char)rest[0], 0xF0);
    /* an invalid sequence is not held forever: F0 then "A" comes out at once */
    assert_int_equal(tl_detok_stream_push_alloc(&s, 243, &text, &len), TL_OK);
    free(text);
    assert_int_equal(tl_detok_stream_push_alloc(&s, 68, &text, &len), TL_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(text,
                        "\xF0"
                        "A",
                        2);
    free(text);
    tl_tokenizer_free(tok);
    llama_free(&a);
}

/* Random texts: merging word-sized pieces apart gives exactly what one merge
** over the whole fragment gives (SPM on the LLaMA vocab, BPE on stories260K's
** tokenizer.json); and streaming any byte soup joins up to detokenize. */
static void check_cut_is_exact(tl_tokenizer *cut, tl_tokenizer *whole, unsigned seed, int n_cases) {
    static const char *pieces[] = {"Hello",
                                   " world",
                                   "  ",
                                   " ",
                                   "\n",
                                   "\t",
                                   "<s>",
                                   "</s>",
                                   "\xF0\x9F\xA6\x99",
                                   "\xE4\xBD\xA0",
                                   "\xC3\xA9",
                                   "e\xCC\x81",
                                   "123",
                                   "the",
                                   " the",
                                   U2581,
                                   "\xFF",
                                   "\x80",
                                   "\xC3",
                                   "ing",
                                   "tion",
                                   " of",
                                   "'s",
                                   "...",
                                   "aaaa",
                                   "----",
                                   "\xE2\x96",
                                   "x"};
    srand(seed);
    char text[1024];
    for (int c = 0; c < n_cases; c++) {
        size_t len = 0;
        int n = 1 + rand() % 40;
        for (int k = 0; k < n; k++) {
            if (rand() % 8 == 0) {
                text[len++] = (char)(rand() % 256);
                continue;
            }
            const char *p = pieces[rand() % (int)(sizeof pieces / sizeof *pieces)];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        bool sp = rand() % 2;
        int32_t *a, *b;
        size_t na, nb;
        assert_int_equal(tl_tokenize(cut, text, len, true, sp, &a, &na), TL_OK);
        assert_int_equal(tl_tokenize(whole, text, len, true, sp, &b, &nb), TL_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
        /* stream == detokenize, whatever the bytes */
        char *ref;
        size_t ref_len;
        assert_int_equal(tl_detokenize(cut, a, na, false, true, &ref, &ref_len), TL_OK);
        tl_detok_stream st;
        tl_detok_stream_init(&st, cut, false, true);
        char *acc = malloc(ref_len + 16);
        size_t m = 0;
        for (size_t k = 0; k < na; k++) {
            char *chunk;
            size_t cl;
            assert_int_equal(tl_detok_stream_push_alloc(&st, a[k], &chunk, &cl), TL_OK);
            assert_true(m + cl <= ref_len);
            memcpy(acc + m, chunk, cl);
            m += cl;
            free(chunk);
        }
        m += tl_detok_stream_flush(&st, acc + m);
        assert_int_equal(m, ref_len);
        assert_memory_equal(acc, ref, m);
        free(acc);
        free(ref);
        free(a);
        free(b);
    }
}

static void test_cut_is_exact(void **state) {
    (void)state;
    FILE *f = fopen(g_llama, "rb");
    if (!f) skip();
    fclose(f);
    tl_tokenizer *cut, *whole;
    assert_int_equal(tl_tokenizer_from_gguf(g_llama, &cut), TL_OK);
    assert_int_equal(tl_tokenizer_from_gguf(g_llama, &whole), TL_OK);
    whole->no_cut = true;
    check_cut_is_exact(cut, whole, 1, 3000);
    tl_tokenizer_free(cut);
    tl_tokenizer_free(whole);
    const char *json = TL_TEST_SOURCE_DIR "/tests/data/tokenizer/stories260K.tokenizer.json";
    assert_int_equal(tl_tokenizer_from_json(json, &cut), TL_OK);
    assert_int_equal(tl_tokenizer_from_json(json, &whole), TL_OK);
    whole->no_cut = true;
    check_cut_is_exact(cut, whole, 2, 3000);
    tl_tokenizer_free(cut);
    tl_tokenizer_free(whole);
}

/* GGUF metadata with a missing or mistyped key gives a clear error. */
static void test_gguf_errors(void **state) {
    (void)state;
    const char *path = "/tmp/tl_test_tokenizer_bad.gguf";
    const char *toks[] = {"<unk>", "<s>", "</s>", "a"};
    struct {
        const char *what;
        const char *expect;
    } cases[] = {
        {"no model", "tokenizer.ggml.model"},
        {"gpt2", "not supported"},
        {"no tokens", "tokenizer.ggml.tokens"},
        {"short scores", "has 2 entries for 4 tokens"},
        {"u8 bos", "wrong type"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tl_gguf_writer *w;
        assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
        if (c != 0)
            tl_gguf_writer_set_string(w, "tokenizer.ggml.model", c == 1 ? "gpt2" : "llama",
                                      c == 1 ? 4 : 5);
        if (c != 2) tl_gguf_writer_set_string_array(w, "tokenizer.ggml.tokens", toks, NULL, 4);
        float sc[4] = {0};
        tl_gguf_writer_set_array(w, "tokenizer.ggml.scores", TL_GGUF_FLOAT32, sc, c == 3 ? 2 : 4);
        if (c == 4) {
            uint8_t one = 1;
            tl_gguf_writer_set_scalar(w, "tokenizer.ggml.bos_token_id", TL_GGUF_UINT8, &one);
        }
        assert_int_equal(tl_gguf_writer_save(w, path), TL_OK);
        tl_gguf_writer_free(w);
        tl_tokenizer *tok;
        tl_status st = tl_tokenizer_from_gguf(path, &tok);
        assert_int_not_equal(st, TL_OK);
        assert_null(tok);
        if (!strstr(tl_last_error(), cases[c].expect))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[c].what, tl_last_error(), cases[c].expect);
    }
    /* and the same file made right loads */
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    tl_gguf_writer_set_string(w, "tokenizer.ggml.model", "llama", 5);
    tl_gguf_writer_set_string_array(w, "tokenizer.ggml.tokens", toks, NULL, 4);
    tl_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    assert_int_equal(tl_gguf_writer_save(w, path), TL_OK);
    tl_gguf_writer_free(w);
    tl_tokenizer *tok;
    assert_int_equal(tl_tokenizer_from_gguf(path, &tok), TL_OK);
    assert_false(tl_tokenizer_add_bos(tok));
    assert_int_equal(tl_tokenizer_n_vocab(tok), 4);
    tl_tokenizer_free(tok);
    remove(path);
    assert_int_equal(tl_tokenizer_from_gguf("/nonexistent.gguf", &tok), TL_ERR_IO);
}

int main(void) {
    const char *models = getenv("TL_TEST_MODELS");
    snprintf(g_llama, sizeof g_llama, "%s/ggml-vocab-llama-spm.gguf",
             models ? models : TL_TEST_SOURCE_DIR "/../shared/models");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_vocab),  cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_vocabs),  cmocka_unit_test(test_llama_variants),
        cmocka_unit_test(test_gguf_errors), cmocka_unit_test(test_cut_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
