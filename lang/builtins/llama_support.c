/* lang/builtins/llama_support.c -- small builtins the llama stdlib and its
** example scripts need that no other area provides yet:
**   write(s)                      prints s without a newline and flushes (streaming)
**   set_seed(n)                   reseeds the sampling generator (runtime/random.h)
** They belong to the core/io area in the long run; see docs/llama.md. */
#include "lang/builtin.h"
#include "runtime/random.h"

#include <stdio.h>

static tl_status bi_write(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a string, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    fwrite(argv[0].as.str->data, 1, argv[0].as.str->len, stdout);
    fflush(stdout);
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

const tl_builtin_def tl_builtins_llama_support[] = {
    {"write", 1, 1, bi_write, "write(s) -> void (no newline; flushes)", 0},
    {"set_seed", 1, 1, bi_set_seed, "set_seed(n) -> void (reseeds the sampler)", 0},
    {0},
};
