/* tests/unit/test_vm_isolation.c -- two tl_vms on two threads keep their own
** runtime settings (include/tl.h): random generator, precision mode, thread
** count and output.  The threads run in lock step (a barrier between steps),
** so each one's settings are changed by the other between its own steps; with
** process-wide state the checks below fail.  Each vm's printed output must
** equal the output of the same script run alone on one vm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/tl.h"
#include "runtime/context.h"
#include "runtime/threadpool.h"

#define STEPS 6

typedef struct buf {
    char data[16384];
    size_t len;
} buf;

static void collect(void *user, const char *data, size_t len) {
    buf *b = user;
    if (b->len + len < sizeof b->data) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = 0;
    }
}

/* A C builtin: the thread count the calling vm's ops use. */
static int c_pool_threads(tl_vm *vm, int argc, const tl_val *const *argv, tl_val *result,
                          void *user) {
    (void)vm, (void)argc, (void)argv, (void)user;
    tl_val_set_int(result, tl_threadpool_threads());
    return 0;
}

typedef struct worker {
    uint64_t seed;
    const char *precision;
    int threads;
    pthread_barrier_t *barrier; /* NULL: run alone */
    buf out;
    int failures;
    char what[256];
} worker;

static void note_failure(worker *w, const char *what) {
    if (!w->failures++) snprintf(w->what, sizeof w->what, "%s", what);
}

/* One step: draws random numbers, multiplies (the pool at the vm's thread
** count), prints, and reports the settings the script sees. */
static const char *step_src = "main {\n"
                              "  let a = rand([48, 40])\n"
                              "  let b = randn([40, 24])\n"
                              "  let c = matmul(a, b)\n"
                              "  print(sum(c), c[3, 5], precision(), threads(), pool_threads())\n"
                              "}";

static void *run_worker(void *arg) {
    worker *w = arg;
    tl_vm *vm = tl_vm_new();
    if (!vm) {
        note_failure(w, "tl_vm_new");
        return NULL;
    }
    tl_vm_set_output(vm, collect, &w->out);
    if (tl_vm_register(vm, "pool_threads", c_pool_threads, 0, 0, NULL) != 0)
        note_failure(w, "register");
    for (int s = 0; s < STEPS; s++) {
        /* re-apply this vm's settings each step, then let the other thread change its own */
        if (s == 0) {
            tl_vm_set_seed(vm, w->seed);
            if (tl_vm_set_precision(vm, w->precision) != 0) note_failure(w, "set_precision");
            if (tl_vm_set_threads(vm, w->threads) != 0) note_failure(w, "set_threads");
        }
        if (w->barrier) pthread_barrier_wait(w->barrier);
        if (tl_vm_eval(vm, step_src, NULL) != 0) note_failure(w, tl_vm_error(vm));
        tl_val *r = tl_val_new();
        const char *p = NULL;
        if (tl_vm_eval(vm, "main { precision() }", r) != 0 || tl_val_get_string(r, &p, NULL) != 0 ||
            strcmp(p, w->precision) != 0)
            note_failure(w, "precision changed under the vm");
        int64_t n = 0;
        if (tl_vm_eval(vm, "main { threads() }", r) != 0 || tl_val_get_int(r, &n) != 0 ||
            n != w->threads)
            note_failure(w, "thread count changed under the vm");
        tl_val_free(r);
        if (w->barrier) pthread_barrier_wait(w->barrier);
    }
    tl_vm_free(vm);
    return NULL;
}

static void test_two_vms_two_threads(void **state) {
    (void)state;
    worker ref[2] = {{.seed = 11, .precision = "exact", .threads = 1},
                     {.seed = 22, .precision = "llama_row", .threads = 2}};
    for (int i = 0; i < 2; i++) {
        run_worker(&ref[i]); /* alone, on this thread */
        assert_int_equal(ref[i].failures, 0);
    }
    assert_string_not_equal(ref[0].out.data, ref[1].out.data);
    assert_non_null(strstr(ref[0].out.data, "exact 1 1\n"));
    assert_non_null(strstr(ref[1].out.data, "llama_row 2 2\n"));

    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    worker w[2] = {ref[0], ref[1]};
    pthread_t tid[2];
    for (int i = 0; i < 2; i++) {
        w[i].out.len = 0;
        w[i].out.data[0] = 0;
        w[i].barrier = &barrier;
        assert_int_equal(pthread_create(&tid[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++) {
        if (w[i].failures) fail_msg("vm %d: %s", i, w[i].what);
        assert_string_equal(w[i].out.data, ref[i].out.data);
    }
    /* the process default context was never touched */
    assert_int_equal(tl_get_precision(), TL_PRECISION_LLAMA);
    assert_int_equal(tl_context_current()->threads, 0);
}

/* print goes to the callback; without one, to stdout (not checked here). */
static void test_output_callback(void **state) {
    (void)state;
    tl_vm *vm = tl_vm_new();
    buf b = {0};
    tl_vm_set_output(vm, collect, &b);
    assert_int_equal(tl_vm_eval(vm, "main { print(\"a\", 1)\n write(\"b\")\n print(2.5) }", NULL),
                     0);
    assert_string_equal(b.data, "a 1\nb2.5\n");
    assert_int_not_equal(tl_vm_set_threads(vm, 999), 0);
    assert_int_not_equal(tl_vm_set_precision(vm, "fast"), 0);
    assert_non_null(strstr(tl_vm_error(vm), "\"fast\" is not"));
    tl_vm_free(vm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_vms_two_threads),
        cmocka_unit_test(test_output_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
