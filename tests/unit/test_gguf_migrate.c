/* tests/unit/test_gguf_migrate.c -- TL_GGUF_MIGRATE (runtime/gguf_migrate.c): a
** mapped file moved into huge pages in the background while other threads read
** it.  The file is made here (an 84 MB I32 tensor with a known pattern, in a
** temp dir): every read during and after the move must see the file's bytes,
** and the walk must cover every whole 2 MiB of the file when the kernel offers
** transparent huge pages (otherwise nothing moves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/gguf.h"
#include "runtime/tensor.h"

#define N_ELEM ((int64_t)21 << 20) /* 84 MiB of int32 */

static char dir[256], path[300];

static uint32_t pattern(int64_t i) {
    return (uint32_t)i * 2654435761u + 12345u;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tl_test_migrate_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/big.gguf", dir);
    tl_tensor *t;
    int64_t ne[1] = {N_ELEM};
    if (tl_tensor_new_uninit(TL_DTYPE_I32, 1, ne, &t)) return -1;
    uint32_t *d = tl_tensor_data(t);
    for (int64_t i = 0; i < N_ELEM; i++)
        d[i] = pattern(i);
    tl_gguf_writer *w;
    tl_status st = tl_gguf_writer_new(&w);
    if (!st) st = tl_gguf_writer_add_tensor(w, "big", t);
    if (!st) st = tl_gguf_writer_save(w, path);
    tl_gguf_writer_free(w);
    tl_tensor_unref(t);
    return st ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static bool thp_on(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char buf[128] = {0};
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n > 0 && !strstr(buf, "[never]");
}

typedef struct reader {
    const uint32_t *d;
    int passes, bad;
} reader;

/* Reads the whole tensor over and over while the move runs. */
static void *read_loop(void *arg) {
    reader *r = arg;
    for (int p = 0; p < r->passes; p++)
        for (int64_t i = 0; i < N_ELEM; i += 7)
            if (r->d[i] != pattern(i)) r->bad++;
    return NULL;
}

static void test_moves_while_read(void **state) {
    (void)state;
    unsetenv("TL_HUGE_PAGES");
    tl_gguf *g;
    assert_int_equal(tl_gguf_open_ex(path, TL_GGUF_MIGRATE, &g), TL_OK);
    const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(g, "big");
    assert_non_null(ti);
    const uint32_t *d = (const uint32_t *)((const char *)tl_gguf_base(g) + ti->file_offset);
    reader r[2] = {{d, 3, 0}, {d, 3, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, read_loop, &r[i]), 0);
    tl_gguf_migrate_wait(g);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    size_t size = tl_gguf_file_size(g), whole = size / ((size_t)2 << 20) * ((size_t)2 << 20);
    assert_int_equal(tl_gguf_migrated_bytes(g), thp_on() ? whole : 0);
    /* every byte after the move, the tail too */
    for (int64_t i = 0; i < N_ELEM; i++)
        if (d[i] != pattern(i)) fail_msg("element %lld differs after the move", (long long)i);
    tl_gguf_close(g);
}

static void test_off_switches(void **state) {
    (void)state;
    tl_gguf *g;
    /* without the flag, and with TL_HUGE_PAGES=0, nothing moves */
    assert_int_equal(tl_gguf_open_ex(path, 0, &g), TL_OK);
    tl_gguf_migrate_wait(g);
    assert_int_equal(tl_gguf_migrated_bytes(g), 0);
    tl_gguf_close(g);
    setenv("TL_HUGE_PAGES", "0", 1);
    assert_int_equal(tl_gguf_open_ex(path, TL_GGUF_MIGRATE, &g), TL_OK);
    tl_gguf_migrate_wait(g);
    assert_int_equal(tl_gguf_migrated_bytes(g), 0);
    tl_gguf_close(g);
    unsetenv("TL_HUGE_PAGES");
}

static void test_close_during_move(void **state) {
    (void)state;
    /* closing right after opening stops the walk and unmaps everything (ASan/valgrind: no leak) */
    for (int i = 0; i < 3; i++) {
        tl_gguf *g;
        assert_int_equal(tl_gguf_open_ex(path, TL_GGUF_MIGRATE, &g), TL_OK);
        tl_gguf_close(g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves_while_read),
        cmocka_unit_test(test_off_switches),
        cmocka_unit_test(test_close_during_move),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
