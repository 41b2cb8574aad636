/* lang/builtins/llama_support.c -- small builtins the llama stdlib and its
** example scripts need that no other area provides yet:
**   write(s)                      prints s without a newline and flushes (streaming)
**   set_seed(n)                   reseeds the sampling generator (runtime/random.h)
** They belong to the core/io area in the long run; see docs/llama.md. */
#include "lang/builtin.h"
#include "lang/eval.h"
#include "runtime/context.h"
#include "runtime/random.h"
#include "runtime/threadpool.h"

#include <stdio.h>

static tl_status bi_write(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a string, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    tl_interp_write(c->interp, argv[0].as.str->data, argv[0].as.str->len, true);
    return TL_OK;
}

static tl_status bi_set_seed(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    int64_t seed;
    tl_status st = tl_arg_int(c, argv, 0, &seed);
    if (st == TL_OK) tl_random_seed((uint64_t)seed);
    return st;
}

/* set_threads(n): this interpreter's thread count for tensor ops (0: the process
** default); threads(): the count in effect.  Results never depend on it. */
static tl_status bi_set_threads(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    *out = TL_VOID;
    int64_t n;
    tl_status st = tl_arg_int(c, argv, 0, &n);
    if (st != TL_OK) return st;
    if (n < 0 || n > TL_MAX_THREADS)
        return tl_fail(TL_ERR_RANGE, "set_threads: %lld is out of range (1..%d, 0: default)",
                       (long long)n, TL_MAX_THREADS);
    return tl_context_set_threads(tl_interp_context(c->interp), (int)n);
}

static tl_status bi_threads(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    *out = tl_value_int(tl_threadpool_threads());
    return TL_OK;
}

const tl_builtin_def tl_builtins_llama_support[] = {
    {"write", 1, 1, bi_write, "write(s) -> void (no newline; flushes)", 0},
    {"set_seed", 1, 1, bi_set_seed, "set_seed(n) -> void (reseeds the sampler)", 0},
    {"set_threads", 1, 1, bi_set_threads,
     "set_threads(n) -> void (threads for tensor ops; 0: default)", 0},
    {"threads", 0, 0, bi_threads, "threads() -> int (threads the tensor ops use)", 0},
    {0},
};
