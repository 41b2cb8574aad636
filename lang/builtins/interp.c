/* lang/builtins/interp.c -- terminal helpers for the interpretability stdlib
** (stdlib/interp.tl, docs/interp.md):
**   stdout_is_tty()   true when standard output is a terminal; the environment
**                     variable TL_COLOR=1 forces true, TL_COLOR=0 forces false
**   ansi(code)        the escape sequence ESC [ code m (colours: "48;5;21", reset: "0")
**   load_f32(path, shape)  a raw little-endian float32 file (llama.cpp's per-layer dumps,
**                     l_out-L.f32) as an f32 tensor of that shape; the size must match */
#include "lang/builtin.h"
#include "runtime/open_regular.h"
#include "runtime/tensor.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tl_status bi_stdout_is_tty(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    const char *force = getenv("TL_COLOR");
    if (force && *force)
        *out = tl_value_bool(strcmp(force, "0") != 0);
    else
        *out = tl_value_bool(isatty(fileno(stdout)) == 1);
    return TL_OK;
}

static tl_status bi_ansi(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE,
                       "%s: argument 1 must be a string such as \"0\" or \"48;5;21\", got %s",
                       c->name, tl_value_type_name(&argv[0]));
    size_t n = argv[0].as.str->len;
    const char *s = argv[0].as.str->data;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ';'))
            return tl_fail(TL_ERR_ARG, "%s: '%.*s' is not an SGR code (digits and ';')", c->name,
                           (int)n, s);
    char buf[80];
    if (n > sizeof buf - 4) return tl_fail(TL_ERR_ARG, "%s: code too long", c->name);
    int len = snprintf(buf, sizeof buf, "\x1b[%.*sm", (int)n, s);
    return tl_value_string(buf, (size_t)len, out);
}

static tl_status bi_load_f32(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    int64_t shape[TL_MAX_DIMS], ne[TL_MAX_DIMS];
    int nd;
    tl_status st = tl_arg_string(c, argv, 0, &path);
    if (st == TL_OK) st = tl_arg_shape(c, argv, 1, shape, &nd);
    if (st != TL_OK) return st;
    int64_t n = 1;
    for (int i = 0; i < nd; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > INT64_MAX / 4 / shape[i]))
            return tl_fail(TL_ERR_ARG, "%s: bad shape", c->name);
        n *= shape[i];
        ne[nd - 1 - i] = shape[i];
    }
    struct stat sb;
    int fd = tl_open_regular(path, &sb); /* a FIFO is refused, never waited for */
    if (fd < 0 && !errno)
        return tl_fail(TL_ERR_IO, "%s: cannot read '%s': not a regular file", c->name, path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        return tl_fail(TL_ERR_IO, "%s: cannot open '%s': %s", c->name, path, strerror(e));
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return tl_fail(TL_ERR_IO, "%s: cannot read '%s'", c->name, path);
    }
    if ((int64_t)size != n * 4) {
        fclose(f);
        return tl_fail(TL_ERR_SHAPE, "%s: '%s' has %ld bytes, the shape needs %lld (float32)",
                       c->name, path, size, (long long)(n * 4));
    }
    tl_tensor *t;
    st = tl_tensor_new(TL_DTYPE_F32, nd, ne, &t);
    if (st != TL_OK) {
        fclose(f);
        return st;
    }
    /* little-endian file, little-endian host (x86-64, the supported targets) */
    size_t got = n ? fread(tl_tensor_data(t), 4, (size_t)n, f) : 0;
    fclose(f);
    if (got != (size_t)n) {
        tl_tensor_unref(t);
        return tl_fail(TL_ERR_IO, "%s: short read from '%s'", c->name, path);
    }
    *out = tl_value_tensor(t);
    return TL_OK;
}

const tl_builtin_def tl_builtins_interp[] = {
    {"load_f32", 2, 2, bi_load_f32, "load_f32(path, shape) -> f32 tensor (raw little-endian)", 0},
    {"stdout_is_tty", 0, 0, bi_stdout_is_tty,
     "stdout_is_tty() -> bool (TL_COLOR=1/0 forces the answer)", 0},
    {"ansi", 1, 1, bi_ansi, "ansi(code) -> string: ESC [ code m", 0},
    {0},
};
