/* tests/unit/test_gguf_cmd.c -- `tl gguf`: the dump format and the exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd_gguf.h"

static char path[256];

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/tl_test_gguf_cmd_%d.gguf", (int)getpid());
    tl_gguf_writer *w;
    if (tl_gguf_writer_new(&w)) return -1;
    tl_gguf_writer_set_string(w, "general.architecture", "llama", 5);
    tl_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    tl_gguf_writer_set_string(w, "tl.quote", "a\"b\n", 4);
    uint32_t ids[20];
    for (int i = 0; i < 20; i++)
        ids[i] = (uint32_t)i * 3;
    tl_gguf_writer_set_array(w, "tl.ids", TL_GGUF_UINT32, ids, 20);
    int64_t ne[2] = {64, 3};
    tl_tensor *t;
    if (tl_tensor_new(TL_DTYPE_Q8_0, 2, ne, &t)) return -1;
    tl_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", t);
    tl_tensor_unref(t);
    tl_status st = tl_gguf_writer_save(w, path);
    tl_gguf_writer_free(w);
    return st ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    return 0;
}

static char *dump(bool full) {
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(path, &g), TL_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tl_gguf_dump_opts o = {.full = full, .meta = true, .tensors = true};
    tl_gguf_dump(f, g, &o);
    fclose(f);
    tl_gguf_close(g);
    return text;
}

static void test_dump(void **state) {
    (void)state;
    char *s = dump(false);
    assert_non_null(strstr(s, "GGUF v3"));
    assert_non_null(strstr(s, "general.architecture"));
    assert_non_null(strstr(s, "\"llama\""));
    assert_non_null(strstr(s, "float32    1e-05")); /* shortest float32 repr */
    assert_non_null(strstr(s, "\"a\\\"b\\n\""));    /* escaped */
    assert_non_null(strstr(s, "uint32[]   [0, 3, 6, 9, 12, 15, 18, 21, ...] (20 items)"));
    assert_non_null(strstr(s, "blk.0.attn_q.weight"));
    assert_non_null(strstr(s, "q8_0   [3, 64]")); /* .tl order */
    assert_non_null(strstr(s, "204"));            /* 3 rows x 2 blocks x 34 bytes */
    free(s);
    s = dump(true);
    assert_non_null(strstr(s, "54, 57]"));
    assert_null(strstr(s, "(20 items)"));
    free(s);
}

static void test_exit_status(void **state) {
    (void)state;
    char *ok[] = {"gguf", "--meta", path};
    /* stdout goes to an unlinked temporary file for this one */
    fflush(stdout);
    FILE *saved = stdout;
    stdout = tmpfile();
    assert_non_null(stdout);
    assert_int_equal(tl_cmd_gguf(3, ok), 0);
    fclose(stdout);
    stdout = saved;
    char *bad[] = {"gguf", "/nonexistent.gguf"};
    assert_int_equal(tl_cmd_gguf(2, bad), 1);
    char *usage1[] = {"gguf"};
    assert_int_equal(tl_cmd_gguf(1, usage1), 2);
    char *usage2[] = {"gguf", "--bogus", path};
    assert_int_equal(tl_cmd_gguf(3, usage2), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_exit_status),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
