/* examples/embed/embed.c -- a complete C program that embeds tl through
** libtl.so and include/tl.h:
**   1. hands the script a tensor and a C function (`now_ms`, `say`),
**   2. runs .tl code that defines a function and computes with the tensor,
**   3. reads results back (a number, a tensor) and calls the .tl function,
**   4. shows an error with its file, line and column.
** Usage: tl_embed_example [script.tl]   (with a path: runs that file instead) */
#include <tl.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* say(x, ...): prints its arguments from C, prefixed by the user pointer. */
static int c_say(tl_vm *vm, int argc, const tl_val *const *argv, tl_val *result, void *user) {
    (void)vm;
    printf("%s", (const char *)user);
    for (int i = 0; i < argc; i++) {
        const char *s;
        double d;
        int64_t n;
        if (tl_val_get_string(argv[i], &s, NULL) == 0)
            printf(" %s", s);
        else if (tl_val_get_int(argv[i], &n) == 0)
            printf(" %lld", (long long)n);
        else if (tl_val_get_float(argv[i], &d) == 0)
            printf(" %g", d);
        else
            printf(" <%s>", tl_val_type_name(argv[i]));
    }
    printf("\n");
    tl_val_set_void(result);
    return 0;
}

/* now_ms(): a monotonic clock in milliseconds. */
static int c_now_ms(tl_vm *vm, int argc, const tl_val *const *argv, tl_val *result, void *user) {
    (void)vm, (void)argc, (void)argv, (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    tl_val_set_float(result, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
    return 0;
}

static const char *program = "fn normalize(t) { softmax(t, -1) }\n"
                             "main {\n"
                             "    let t0 = now_ms()\n"
                             "    let probs = normalize(scores)\n"
                             "    say(\"shape\", shape(probs)[0], shape(probs)[1])\n"
                             "    let best = argmax(probs, -1)\n"
                             "    let elapsed = now_ms() - t0\n"
                             "    sum(probs)\n"
                             "}\n";

static int fail(tl_vm *vm) {
    fprintf(stderr, "%s", tl_vm_error(vm));
    tl_vm_free(vm);
    return 1;
}

int main(int argc, char **argv) {
    tl_vm *vm = tl_vm_new();
    if (!vm) return 1;
    if (tl_vm_register(vm, "say", c_say, 0, -1, "[C]") != 0 ||
        tl_vm_register(vm, "now_ms", c_now_ms, 0, 0, NULL) != 0)
        return fail(vm);
    if (argc > 1) { /* run a script file with these builtins available */
        int rc = tl_vm_eval_file(vm, argv[1]) == 0 ? 0 : fail(vm);
        if (rc == 0) tl_vm_free(vm);
        return rc;
    }

    /* 1. a [2, 4] tensor from C */
    const float scores[8] = {1, 2, 3, 4, 0, 0, 0, 10};
    const int64_t shape[2] = {2, 4};
    if (tl_vm_set_tensor_f32(vm, "scores", scores, 2, shape) != 0) return fail(vm);

    /* 2. run the program; its last expression is the result */
    tl_val *result = tl_val_new();
    if (tl_vm_eval_named(vm, program, (size_t)-1, "program.tl", result) != 0) {
        tl_val_free(result);
        return fail(vm);
    }
    double total;
    tl_val_get_float(result, &total);
    printf("sum of probabilities: %.4f\n", total);

    /* 3. globals back into C, and a call into .tl */
    float probs[8];
    size_t n;
    if (tl_vm_get_tensor_f32(vm, "probs", probs, 8, &n) != 0) return fail(vm);
    for (size_t i = 0; i < n; i++)
        printf("%s%.4f%s", i % 4 ? " " : "row: ", probs[i], i % 4 == 3 ? "\n" : "");
    tl_val *row = tl_val_new();
    const float logits[3] = {0, 0, 0};
    const int64_t three[1] = {3};
    tl_val_set_tensor_f32(row, logits, 1, three);
    const tl_val *args[1] = {row};
    if (tl_vm_call(vm, "normalize", 1, args, result) != 0) return fail(vm);
    tl_val_tensor_to_f32(result, probs, 8, &n);
    printf("normalize([0, 0, 0]) = [%.4f, %.4f, %.4f]\n", probs[0], probs[1], probs[2]);

    /* 4. an error: message and position */
    if (tl_vm_eval_named(vm, "main {\n    normalize(\"not a tensor\")\n}", (size_t)-1, "bad.tl",
                         NULL) != 0) {
        tl_error_info e;
        tl_vm_last_error(vm, &e);
        /* the position is where it failed (inside normalize); e.text has the call stack */
        printf("error at %s:%d:%d: %s\n", e.file, e.line, e.col, e.message);
    }
    tl_val_free(row);
    tl_val_free(result);
    tl_vm_free(vm);
    return 0;
}
