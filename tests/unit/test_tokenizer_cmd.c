/* tests/unit/test_tokenizer_cmd.c -- `tl tokenize MODEL "text"` (tl_cmd_tokenize):
** ids and pieces on stdout, --ids to decode, errors on stderr with exit 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/commands.h"

static char g_vocab[4096];

/* Runs the command with stdout captured into buf. */
static int run(char *buf, size_t cap, int argc, char **argv) {
    fflush(stdout);
    int saved = dup(1);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 1);
    int rc = tl_cmd_tokenize(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    return rc;
}

static void test_tokenize_command(void **state) {
    (void)state;
    char out[8192];
    char *argv[] = {"tokenize", g_vocab, "Hello world", NULL};
    assert_int_equal(run(out, sizeof out, 3, argv), 0);
    assert_non_null(strstr(out, "[1, 15043, 3186]\n"));
    assert_non_null(strstr(out, " 15043  \xE2\x96\x81Hello  \" Hello\"\n"));

    char *argv2[] = {"tokenize", g_vocab, "a\n<s>", "--no-bos", "--special", "--ids-only", NULL};
    assert_int_equal(run(out, sizeof out, 6, argv2), 0);
    assert_string_equal(out, "[263, 13, 1]\n");

    char *argv3[] = {"tokenize", g_vocab, "--ids", "1,15043,3186", NULL};
    assert_int_equal(run(out, sizeof out, 4, argv3), 0);
    assert_string_equal(out, "<s> Hello world\n");

    char *argv4[] = {"tokenize", g_vocab, "--ids", "15043,32000", NULL};
    assert_int_equal(run(out, sizeof out, 4, argv4), 1);

    char *argv5[] = {"tokenize", "/nonexistent.gguf", "x", NULL};
    assert_int_equal(run(out, sizeof out, 3, argv5), 1);
    char *argv6[] = {"tokenize", NULL};
    assert_int_equal(run(out, sizeof out, 1, argv6), 2);
}

int main(void) {
    const char *models = getenv("TL_TEST_MODELS");
    snprintf(g_vocab, sizeof g_vocab, "%s/ggml-vocab-llama-spm.gguf",
             models ? models : TL_TEST_SOURCE_DIR "/../shared/models");
    FILE *f = fopen(g_vocab, "rb");
    if (!f) {
        printf("SKIPPED: %s not found (set TL_TEST_MODELS)\n", g_vocab);
        return 77;
    }
    fclose(f);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tokenize_command)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
