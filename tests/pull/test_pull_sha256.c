/* tests/pull/test_pull_sha256.c -- lang/sha256 against the FIPS 180-2 / NIST example
** vectors, incremental hashing at every split point, and the `tl pull` registry parser
** (the compiled-in models/registry.tsv included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/pull.h"
#include "app/sha256.h"

#include <stdlib.h>
#include <string.h>

static void hex_of(const void *data, size_t n, char out[TL_SHA256_HEX]) {
    uint8_t d[TL_SHA256_BYTES];
    tl_sha256_digest(data, n, d);
    tl_sha256_hex(d, out);
}

/* FIPS 180-2 appendix B (one block, two blocks, a million 'a'), and the empty message. */
static void test_fips_vectors(void **state) {
    (void)state;
    char h[TL_SHA256_HEX];
    hex_of("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    hex_of(a, 1000000, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same fed in 1000-byte pieces */
    tl_sha256 s;
    tl_sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        tl_sha256_update(&s, a + 1000 * i, 1000);
    uint8_t d[TL_SHA256_BYTES];
    tl_sha256_final(&s, d);
    tl_sha256_hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Any split of any message (lengths around the 55/56/64-byte padding edges) gives the
** one-shot digest. */
static void test_incremental_splits(void **state) {
    (void)state;
    uint8_t msg[200];
    for (int i = 0; i < 200; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= 200; n++) {
        uint8_t whole[TL_SHA256_BYTES];
        tl_sha256_digest(msg, n, whole);
        for (size_t cut = 0; cut <= n; cut += (n < 130 ? 1 : 7)) {
            tl_sha256 s;
            uint8_t parts[TL_SHA256_BYTES];
            tl_sha256_init(&s);
            tl_sha256_update(&s, msg, cut);
            tl_sha256_update(&s, msg + cut, n - cut);
            tl_sha256_final(&s, parts);
            assert_memory_equal(whole, parts, TL_SHA256_BYTES);
        }
    }
}

/* The compiled-in registry parses and carries the published TinyLlama Q4_0 facts
** (docs/llama.md); Q8_0 is listed with no invented hash. */
static void test_builtin_registry(void **state) {
    (void)state;
    unsetenv("TL_REGISTRY");
    tl_pull_registry r;
    assert_int_equal(tl_pull_registry_load(&r), TL_OK);
    const tl_pull_entry *e = tl_pull_registry_find(&r, "tinyllama");
    assert_non_null(e);
    assert_string_equal(e->file, "tinyllama-1.1b-chat-q4_0.gguf");
    assert_true(e->size == 637699456);
    assert_string_equal(e->sha256,
                        "da3087fb14aede55fde6eb81a0e55e886810e43509ec82ecdc7aa5d62a03b556");
    assert_non_null(strstr(e->url, "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF"));
    assert_non_null(strstr(e->url, "tinyllama-1.1b-chat-v1.0.Q4_0.gguf"));
    const tl_pull_entry *q8 = tl_pull_registry_find(&r, "tinyllama-q8_0");
    assert_non_null(q8);
    assert_non_null(strstr(q8->url, "tinyllama-1.1b-chat-v1.0.Q8_0.gguf"));
    assert_null(q8->sha256);
    assert_true(q8->source[0] != '\0');
    assert_null(tl_pull_registry_find(&r, "nope"));
    tl_pull_registry_free(&r);
}

static void test_registry_errors(void **state) {
    (void)state;
    tl_pull_registry r;
    const char *ok =
        "# c\n\nm\tm.gguf\t12\t-\thttp://h/m.gguf\r\nn\tn.gguf\t-\t"
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\thttp://h/n\n";
    assert_int_equal(tl_pull_registry_parse(ok, "t", &r), TL_OK);
    assert_int_equal((int)r.n, 2);
    assert_true(r.items[0].size == 12);
    assert_null(r.items[0].sha256);
    assert_string_equal(r.items[0].url, "http://h/m.gguf");
    assert_string_equal(r.items[1].sha256,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tl_pull_registry_free(&r);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"a\tb\n", "t:1: expected 6 tab-separated columns, found 2"},
        {"#\na\ta.gguf\tx\t-\thttp://h/a\n", "t:2: size 'x' is not a positive byte count"},
        {"a\ta.gguf\t-1\t-\thttp://h/a\n", "size '-1'"},
        {"a\ta.gguf\t-\tabc\thttp://h/a\n", "sha256 'abc' is not 64 hex digits"},
        {"a\tdir/a.gguf\t-\t-\thttp://h/a\n", "must not contain '/'"},
        {"a\ta.gguf\t-\t-\tnourl\n", "url 'nourl' has no scheme"},
        {"a\ta.gguf\t-\t-\thttp://h/a\na\tb.gguf\t-\t-\thttp://h/b\n",
         "t:2: name 'a' appears twice"},
        {"a\ta.gguf\t-\t-\thttp://h/a\tsrc\textra\n", "expected 6"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tl_pull_registry_parse(bad[i].text, "t", &r), TL_ERR_FORMAT);
        if (!strstr(tl_last_error(), bad[i].msg))
            fail_msg("%s: got '%s'", bad[i].msg, tl_last_error());
        assert_int_equal((int)r.n, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_incremental_splits),
        cmocka_unit_test(test_builtin_registry),
        cmocka_unit_test(test_registry_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
