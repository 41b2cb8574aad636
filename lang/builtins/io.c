/* lang/builtins/io.c -- builtins for scripted experiments: files (read_file,
** write_file, append_file, read_lines, file_exists, mkdir), structured output
** (to_json, parse_json, write_csv), tensors as .npy (save, load), timing (now,
** elapsed) and a terminal progress bar (progress).
**
** Every write goes through lang/atomic_file.h (temp file, fsync, rename), so an
** interrupted run never leaves a half-written result.  Errors name the builtin,
** the path and the OS reason: "read_file: cannot open 'x.txt': No such file or
** directory".  args() and env() are core builtins (lang/builtins/core.c). */
#include "lang/atomic_file.h"
#include "lang/read_all.h"
#include "lang/builtin.h"
#include "lang/json_value.h"
#include "lang/strbuf.h"
#include "runtime/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STR TL_KIND_BIT(TL_VAL_STRING)

/* ------------------------------------------------------------------ reading */

/* Reads the whole file into b (bounded and interruptible: lang/read_all.h). */
static tl_status slurp(const char *who, const char *path, tl_strbuf *b) {
    return tl_read_path(path, who, TL_READ_DATA, b);
}

static tl_status b_read_file(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    tl_strbuf b = {0};
    st = slurp(c->name, path, &b);
    if (st != TL_OK) {
        tl_strbuf_free(&b);
        return st;
    }
    return tl_strbuf_take_value(&b, out);
}

static tl_status b_read_lines(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    tl_strbuf b = {0};
    st = slurp(c->name, path, &b);
    if (st == TL_OK) st = tl_value_array(16, out);
    const char *p = b.data, *end = b.data + b.len;
    while (st == TL_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        if (n && p[n - 1] == '\r') n--;
        tl_value line;
        st = tl_value_string(p, n, &line);
        if (st == TL_OK) st = tl_array_push(out->as.arr, line);
        p = nl ? nl + 1 : end;
    }
    if (st != TL_OK) tl_value_release(out);
    tl_strbuf_free(&b);
    return st;
}

static tl_status b_file_exists(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    char buf[4096];
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home) { /* "~/" is $HOME, as load_model does */
        int n = snprintf(buf, sizeof buf, "%s/%s", home, path + 2);
        if (n < 0 || (size_t)n >= sizeof buf) {
            *out = tl_value_bool(false);
            return TL_OK;
        }
        path = buf;
    }
    struct stat sb;
    *out = tl_value_bool(stat(path, &sb) == 0);
    return TL_OK;
}

/* ------------------------------------------------------------------ writing */

static tl_status write_text(tl_call *c, const tl_value *argv, bool append) {
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    if (argv[1].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE,
                       "%s: argument 2 must be a string, got %s (use str() or "
                       "to_json())",
                       c->name, tl_value_type_name(&argv[1]));
    return tl_atomic_write(path, argv[1].as.str->data, argv[1].as.str->len, c->name, append);
}

static tl_status b_write_file(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    return write_text(c, argv, false);
}

static tl_status b_append_file(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    return write_text(c, argv, true);
}

/* mkdir -p: creates missing parents; an existing directory is fine. */
static tl_status b_mkdir(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    if (!*path) return tl_fail(TL_ERR_IO, "%s: cannot create '': %s", c->name, strerror(ENOENT));
    char *p = strdup(path);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (i < n && p[i] != '/') continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            st = tl_fail(TL_ERR_IO, "%s: cannot create '%s': %s", c->name, p, strerror(errno));
            break;
        }
        p[i] = saved;
    }
    free(p);
    if (st != TL_OK) return st;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return tl_fail(TL_ERR_IO, "%s: cannot create '%s': %s", c->name, path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return tl_fail(TL_ERR_IO, "%s: cannot create '%s': %s", c->name, path, strerror(EEXIST));
    return TL_OK;
}

/* ------------------------------------------------------------------ JSON */

static tl_status b_to_json(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    tl_strbuf b = {0};
    tl_status st = tl_json_encode(&b, &argv[0], c->name);
    if (st != TL_OK) {
        tl_strbuf_free(&b);
        return st;
    }
    return tl_strbuf_take_value(&b, out);
}

static tl_status b_parse_json(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a string, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    return tl_json_decode(argv[0].as.str->data, argv[0].as.str->len, c->name, out);
}

/* ------------------------------------------------------------------ CSV */

static void csv_field_text(tl_strbuf *b, const char *s, size_t len) {
    bool quote = len && (s[0] == ' ' || s[len - 1] == ' ');
    for (size_t i = 0; i < len && !quote; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = true;
    if (!quote) {
        tl_strbuf_append(b, s, len);
        return;
    }
    tl_strbuf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') tl_strbuf_putc(b, '"');
        tl_strbuf_putc(b, s[i]);
    }
    tl_strbuf_putc(b, '"');
}

static tl_status csv_field(tl_call *c, tl_strbuf *b, const tl_value *v, size_t row, size_t col) {
    char buf[48];
    switch (v->kind) {
    case TL_VAL_VOID:
        return TL_OK; /* empty cell */
    case TL_VAL_STRING:
        csv_field_text(b, v->as.str->data, v->as.str->len);
        return TL_OK;
    case TL_VAL_INT:
        tl_strbuf_printf(b, "%lld", (long long)v->as.i);
        return TL_OK;
    case TL_VAL_BOOL:
        tl_strbuf_puts(b, v->as.b ? "true" : "false");
        return TL_OK;
    case TL_VAL_FLOAT:
        tl_json_format_double(buf, sizeof buf, v->as.f, false);
        tl_strbuf_puts(b, buf);
        return TL_OK;
    case TL_VAL_TENSOR:
        if (tl_tensor_nelements(v->as.tensor) == 1) {
            tl_strbuf tmp = {0};
            tl_status st = tl_json_encode(&tmp, v, c->name);
            if (st == TL_OK) {
                const char *s = tl_strbuf_cstr(&tmp);
                while (*s == '[')
                    s++; /* a one-element tensor is one cell */
                tl_strbuf_append(b, s, strcspn(s, "]"));
            }
            tl_strbuf_free(&tmp);
            return st;
        }
        break;
    default:
        break;
    }
    return tl_fail(TL_ERR_TYPE, "%s: row %zu column %zu: a %s cannot be a CSV cell", c->name, row,
                   col, tl_value_type_name(v));
}

/* A 1-D (one row) or 2-D tensor as CSV lines: its JSON text with the row
** brackets turned into line breaks (numbers never contain brackets). */
static tl_status csv_tensor_rows(tl_call *c, tl_strbuf *b, const tl_tensor *t, size_t r0,
                                 size_t want) {
    if (want && (size_t)t->ne[0] != want)
        return tl_fail(TL_ERR_SHAPE, "%s: row %zu has %lld values, the header has %zu", c->name, r0,
                       (long long)t->ne[0], want);
    tl_strbuf tmp = {0};
    tl_value v = tl_value_tensor((tl_tensor *)t);
    tl_status st = tl_json_encode(&tmp, &v, c->name);
    if (st == TL_OK) {
        const char *s = tl_strbuf_cstr(&tmp);
        size_t n = strlen(s), d = (size_t)t->n_dims;
        for (size_t i = d; i + d < n; i++) {
            if (s[i] == ']') { /* "],[" between rows */
                tl_strbuf_putc(b, '\n');
                i += 2;
            } else {
                tl_strbuf_putc(b, s[i]);
            }
        }
        tl_strbuf_putc(b, '\n');
    }
    tl_strbuf_free(&tmp);
    return st;
}

static tl_status csv_row(tl_call *c, tl_strbuf *b, const tl_value *row, size_t r, size_t want) {
    if (row->kind == TL_VAL_TENSOR && row->as.tensor->n_dims == 1)
        return csv_tensor_rows(c, b, row->as.tensor, r, want);
    if (row->kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "%s: row %zu must be an array, got %s", c->name, r,
                       tl_value_type_name(row));
    const tl_array *a = row->as.arr;
    if (want && a->len != want)
        return tl_fail(TL_ERR_SHAPE, "%s: row %zu has %zu values, the header has %zu", c->name, r,
                       a->len, want);
    for (size_t i = 0; i < a->len; i++) {
        if (i) tl_strbuf_putc(b, ',');
        tl_status st = csv_field(c, b, &a->items[i], r, i);
        if (st != TL_OK) return st;
    }
    tl_strbuf_putc(b, '\n');
    return TL_OK;
}

/* write_csv(path, header, rows): header an array of strings (or [] for none),
** rows an array of arrays of scalars.  RFC 4180 quoting, "\n" line ends. */
static tl_status b_write_csv(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    if (argv[1].kind != TL_VAL_ARRAY)
        return tl_fail(TL_ERR_TYPE, "%s: the header must be an array of strings, got %s", c->name,
                       tl_value_type_name(&argv[1]));
    if (argv[2].kind != TL_VAL_ARRAY && argv[2].kind != TL_VAL_TENSOR)
        return tl_fail(TL_ERR_TYPE, "%s: rows must be an array of arrays or a 2-D tensor, got %s",
                       c->name, tl_value_type_name(&argv[2]));
    const tl_array *h = argv[1].as.arr;
    tl_strbuf b = {0};
    for (size_t i = 0; i < h->len; i++) {
        if (h->items[i].kind != TL_VAL_STRING) {
            tl_strbuf_free(&b);
            return tl_fail(TL_ERR_TYPE, "%s: header column %zu must be a string, got %s", c->name,
                           i, tl_value_type_name(&h->items[i]));
        }
        if (i) tl_strbuf_putc(&b, ',');
        csv_field_text(&b, h->items[i].as.str->data, h->items[i].as.str->len);
    }
    if (h->len) tl_strbuf_putc(&b, '\n');
    if (argv[2].kind == TL_VAL_TENSOR) {
        const tl_tensor *t = argv[2].as.tensor;
        if (t->n_dims != 2)
            st = tl_fail(TL_ERR_SHAPE, "%s: rows given as a tensor must be 2-D, got %d dims",
                         c->name, (int)t->n_dims);
        else if (tl_tensor_nelements(t) > 0)
            st = csv_tensor_rows(c, &b, t, 0, h->len);
    } else {
        const tl_array *rows = argv[2].as.arr;
        for (size_t r = 0; st == TL_OK && r < rows->len; r++)
            st = csv_row(c, &b, &rows->items[r], r, h->len);
    }
    if (st == TL_OK && b.oom) st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", c->name);
    if (st == TL_OK) st = tl_atomic_write(path, b.data ? b.data : "", b.len, c->name, false);
    tl_strbuf_free(&b);
    return st;
}

/* ------------------------------------------------------------------ tensors */

static tl_status b_save(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)out;
    tl_tensor *t;
    const char *path;
    tl_status st = tl_arg_tensor(c, argv, 0, &t);
    if (st == TL_OK) st = tl_arg_path(c, argv, 1, &path);
    if (st != TL_OK) return st;
    tl_atomic_file af;
    st = tl_atomic_open(&af, path, c->name, false);
    if (st != TL_OK) return st;
    st = tl_npy_write(af.f, t);
    if (st != TL_OK) {
        tl_error_prefix("%s: '%s'", c->name, path);
        tl_atomic_abort(&af);
        return st;
    }
    return tl_atomic_commit(&af);
}

static tl_status b_load(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    const char *path;
    tl_status st = tl_arg_path(c, argv, 0, &path);
    if (st != TL_OK) return st;
    tl_tensor *t;
    st = tl_npy_load(path, &t);
    if (st != TL_OK) {
        tl_error_prefix("%s", c->name);
        return st;
    }
    *out = tl_value_tensor(t);
    return TL_OK;
}

/* ------------------------------------------------------------------ time */

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tl_status b_now(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)c;
    (void)argc;
    (void)argv;
    *out = tl_value_float(wall_seconds());
    return TL_OK;
}

static tl_status b_elapsed(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    double t0;
    tl_status st = tl_arg_double(c, argv, 0, &t0);
    if (st != TL_OK) return st;
    *out = tl_value_float(wall_seconds() - t0);
    return TL_OK;
}

/* ------------------------------------------------------------------ progress */

static struct {
    double start, last_draw;
    int64_t last_n;
    char label[64];
} prog;

/* TL_PROGRESS=1 draws even when stderr is not a terminal, =0 never draws. */
static bool progress_enabled(void) {
    const char *e = getenv("TL_PROGRESS");
    if (e && *e) return strcmp(e, "0") != 0;
    return isatty(STDERR_FILENO);
}

static tl_status b_progress(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)out;
    int64_t i, n;
    const char *label = "";
    tl_status st = tl_arg_int(c, argv, 0, &i);
    if (st == TL_OK) st = tl_arg_int(c, argv, 1, &n);
    if (st == TL_OK && argc > 2) st = tl_arg_string(c, argv, 2, &label);
    if (st != TL_OK) return st;
    if (n <= 0)
        return tl_fail(TL_ERR_ARG, "%s: n must be positive, got %lld", c->name, (long long)n);
    if (i < 0) i = 0;
    if (i > n) i = n;
    double now = wall_seconds();
    bool fresh = i == 0 || n != prog.last_n || strncmp(label, prog.label, sizeof prog.label - 1);
    if (fresh) {
        prog.start = now;
        prog.last_draw = 0;
        prog.last_n = n;
        snprintf(prog.label, sizeof prog.label, "%s", label);
    }
    if (!progress_enabled()) return TL_OK;
    bool done = i == n;
    if (!done && !fresh && now - prog.last_draw < 0.1) return TL_OK; /* at most 10 redraws/s */
    prog.last_draw = now;
    enum { WIDTH = 30 };
    int fill = (int)(WIDTH * i / n);
    char bar[WIDTH + 1];
    for (int k = 0; k < WIDTH; k++)
        bar[k] = k < fill ? '#' : '-';
    bar[WIDTH] = '\0';
    double spent = now - prog.start;
    char eta[48] = "";
    if (done)
        snprintf(eta, sizeof eta, " %.1fs", spent);
    else if (i > 0)
        snprintf(eta, sizeof eta, " eta %.1fs", spent / (double)i * (double)(n - i));
    fprintf(stderr, "\r%s%s[%s] %lld/%lld %3d%%%s\x1b[K%s", label, *label ? " " : "", bar,
            (long long)i, (long long)n, (int)(100 * i / n), eta, done ? "\n" : "");
    fflush(stderr);
    return TL_OK;
}

const tl_builtin_def tl_builtins_io[] = {
    {"read_file", 1, 1, b_read_file, "read_file(path) -> string", 0},
    {"read_lines", 1, 1, b_read_lines, "read_lines(path) -> array of string", 0},
    {"file_exists", 1, 1, b_file_exists, "file_exists(path) -> bool", 0},
    {"write_file", 2, 2, b_write_file, "write_file(path, text)", 0},
    {"append_file", 2, 2, b_append_file, "append_file(path, text)", 0},
    {"mkdir", 1, 1, b_mkdir, "mkdir(path)  (creates parents; an existing dir is fine)", 0},
    {"to_json", 1, 1, b_to_json, "to_json(value) -> string", 0},
    {"parse_json", 1, 1, b_parse_json, "parse_json(text) -> value", 0},
    {"write_csv", 3, 3, b_write_csv, "write_csv(path, header, rows)", 0},
    {"save", 2, 2, b_save, "save(tensor, path)  (.npy)", TL_KIND_BIT(TL_VAL_TENSOR)},
    {"load", 1, 1, b_load, "load(path) -> tensor  (.npy)", STR},
    {"now", 0, 0, b_now, "now() -> float seconds since 1970", 0},
    {"elapsed", 1, 1, b_elapsed, "elapsed(t0) -> float seconds since t0 = now()", 0},
    {"progress", 2, 3, b_progress, "progress(i, n[, label])", 0},
    {0},
};
