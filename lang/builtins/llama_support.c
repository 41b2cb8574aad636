/* lang/builtins/llama_support.c -- three small builtins the llama stdlib and
** its example scripts need that no other area provides yet:
**   file_exists(path) -> bool     (a leading "~/" is $HOME, as load_model does)
**   write(s)                      prints s without a newline and flushes (streaming)
**   set_seed(n)                   reseeds the sampling generator (runtime/random.h)
** They belong to the core/io area in the long run; see docs/llama.md. */
#include "lang/builtin.h"
#include "runtime/random.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static tl_status bi_file_exists(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    tl_status st = tl_arg_string(c, argv, 0, &path);
    if (st != TL_OK) return st;
    char buf[4096];
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home) {
        int n = snprintf(buf, sizeof buf, "%s/%s", home, path + 2);
        if (n < 0 || (size_t)n >= sizeof buf) {
            *out = tl_value_bool(false);
            return TL_OK;
        }
        path = buf;
    }
    struct stat sb;
    *out = tl_value_bool(stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
    return TL_OK;
}

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
    {"file_exists", 1, 1, bi_file_exists, "file_exists(path) -> bool", 0},
    {"write", 1, 1, bi_write, "write(s) -> void (no newline; flushes)", 0},
    {"set_seed", 1, 1, bi_set_seed, "set_seed(n) -> void (reseeds the sampler)", 0},
    {0},
};
