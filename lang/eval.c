/* lang/eval.c -- interpreter entry points: loading files and imports, top-level
** declarations, main/test/bench blocks, errors with call stacks (scopes and name tables:
** lang/eval_scope.c). */
#include "lang/equation.h"
#include "lang/eval_internal.h"
#include "lang/eval_logic.h"
#include "lang/ffi.h"
#include "lang/read_all.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t tl_interrupt_requested;

static void release_struct(tl_struct_value *s) {
    for (uint32_t i = 0; i < s->n; i++)
        tl_value_release(&s->fields[i]);
    free(s);
}
static void release_function(tl_function *f) {
    free(f);
}

/* ------------------------------------------------------------------ lifetime */

/* Definition epochs are unique across interpreters, so a node cache written
** by one interpreter is never taken as valid by another. */
uint32_t tl_new_defs_epoch(void) {
    static uint32_t last;
    uint32_t e = __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
    return e ? e : __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED); /* never 0 */
}

tl_interp *tl_interp_new(void) {
    static const tl_value_hooks hooks = {.release_struct = release_struct,
                                         .release_function = release_function};
    tl_value_set_hooks(&hooks);
    tl_interp *I = calloc(1, sizeof *I);
    if (!I) return NULL;
    I->defs_epoch = tl_new_defs_epoch();
    I->cur = &I->globals;
    I->max_depth = 1000;
    I->exit_code = -1;
    tl_context_init(&I->rt);
    if (tl_value_array(0, &I->args) != TL_OK) {
        free(I);
        return NULL;
    }
    struct rlimit rl;
    size_t lim = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
        lim = rl.rlim_cur;
    I->stack_limit = lim > (1u << 20) ? lim - (768u << 10) : lim / 2;
    return I;
}

void tl_scope_clear(tl_scope *s) {
    for (uint32_t i = 0; i < s->n; i++)
        tl_value_release(&s->vars[i].v);
    s->n = 0;
    free(s->index);
    s->index = NULL;
    s->index_cap = 0;
}

static void scope_free(tl_scope *s) {
    tl_scope_clear(s);
    tl_scope_free_vars(s);
}

void tl_interp_free(tl_interp *I) {
    if (!I) return;
    scope_free(&I->globals);
    tl_logic_free(I->logic);
    tl_eq_attn_drop(I);
    tl_value_release(&I->ret);
    tl_value_release(&I->args);
    for (size_t i = 0; i < I->n_chunks; i++)
        tl_chunk_free(I->chunks[i]);
    free(I->chunks);
    free(I->fns.items);
    free(I->structs.items);
    free(I->methods.items);
    free(I->fns.index);
    free(I->structs.index);
    free(I->methods.index);
    for (size_t i = 0; i < I->n_imports; i++) {
        free(I->imports[i].realpath);
        free(I->imports[i].display);
        free(I->imports[i].deps);
    }
    free(I->imports);
    for (size_t i = 0; i < I->n_owned; i++)
        free(I->owned_names[i]);
    free(I->owned_names);
    tl_strbuf_free(&I->err_msg);
    tl_strbuf_free(&I->err_stack);
    tl_strbuf_free(&I->err_text);
    tl_strbuf_free(&I->last_frame);
    free(I);
}

void tl_interp_set_max_depth(tl_interp *I, int depth) {
    I->max_depth = depth > 0 ? depth : 1;
}
void tl_interp_set_max_steps(tl_interp *I, int64_t steps) {
    I->max_steps = steps > 0 ? steps : 0;
}

void tl_interp_set_args(tl_interp *I, int argc, char **argv) {
    tl_value arr;
    if (tl_value_array((size_t)argc, &arr) != TL_OK) return;
    for (int i = 0; i < argc; i++) {
        tl_value s;
        if (tl_value_cstring(argv[i], &s) != TL_OK || tl_array_push(arr.as.arr, s) != TL_OK) break;
    }
    tl_value_release(&I->args);
    I->args = arr;
}

const tl_value *tl_interp_args(const tl_interp *I) {
    return &I->args;
}

void tl_interp_request_exit(tl_interp *I, int code) {
    I->exiting = true;
    I->exit_code = code;
}

int tl_interp_exit_code(const tl_interp *I) {
    return I->exiting ? I->exit_code : -1;
}

/* ------------------------------------------------------------------ errors */

tl_flow tl_err_at(tl_interp *I, const tl_node *n, tl_status code, const char *fmt, ...) {
    if (I->has_err) return TL_FLOW_ERR;
    I->has_err = true;
    I->err_code = code;
    tl_strbuf_reset(&I->err_msg);
    tl_strbuf_reset(&I->err_stack);
    tl_strbuf_reset(&I->last_frame);
    I->frame_repeats = I->n_frames = I->frames_omitted = 0;
    va_list ap;
    va_start(ap, fmt);
    char small[1024];
    vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    tl_strbuf_puts(&I->err_msg, small);
    I->err_chunk = n ? n->chunk : NULL;
    I->err_line = n ? n->line : 0;
    I->err_col = n ? n->col : 0;
    I->frame_chunk = I->err_chunk;
    I->frame_line = I->err_line;
    I->frame_col = I->err_col;
    tl_fail(code, "%s", small);
    return TL_FLOW_ERR;
}

tl_flow tl_err_status(tl_interp *I, const tl_node *n, tl_status st) {
    if (I->exiting) return TL_FLOW_ERR;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", tl_last_error());
    if (!msg[0]) snprintf(msg, sizeof msg, "%s", tl_status_name(st));
    return tl_err_at(I, n, st, "%s", msg);
}

static void flush_repeats(tl_interp *I) {
    if (I->frame_repeats > 0)
        tl_strbuf_printf(&I->err_stack, "    ... (the frame above repeats %d more time%s)\n",
                         I->frame_repeats, I->frame_repeats == 1 ? "" : "s");
    I->frame_repeats = 0;
}

void tl_push_frame(tl_interp *I, const char *fn_name, const char *type, const tl_node *site) {
    if (I->exiting || !I->has_err) return;
    if (I->frame_chunk) {
        char line[512];
        snprintf(line, sizeof line, "    at %s%s%s (%s:%u:%u)\n", type ? type : "",
                 type ? "::" : "", fn_name, I->frame_chunk->filename, I->frame_line, I->frame_col);
        if (I->last_frame.len && strcmp(tl_strbuf_cstr(&I->last_frame), line) == 0) {
            I->frame_repeats++;
        } else {
            flush_repeats(I);
            if (I->n_frames < 40) {
                tl_strbuf_puts(&I->err_stack, line);
                I->n_frames++;
            } else {
                I->frames_omitted++;
            }
            tl_strbuf_reset(&I->last_frame);
            tl_strbuf_puts(&I->last_frame, line);
        }
    }
    if (site) {
        I->frame_chunk = site->chunk;
        I->frame_line = site->line;
        I->frame_col = site->col;
    }
}

/* Turns the recorded error into the final text (once, at the outermost entry). */
static void finish_error(tl_interp *I) {
    tl_strbuf_reset(&I->err_text);
    if (I->err_chunk)
        tl_format_error(&I->err_text, I->err_chunk->filename, I->err_chunk->text, I->err_chunk->len,
                        I->err_line, I->err_col, tl_strbuf_cstr(&I->err_msg));
    else
        tl_strbuf_printf(&I->err_text, "error: %s\n", tl_strbuf_cstr(&I->err_msg));
    flush_repeats(I);
    if (I->frames_omitted)
        tl_strbuf_printf(&I->err_stack, "    ... (%d more frames)\n", I->frames_omitted);
    tl_strbuf_append(&I->err_text, I->err_stack.data ? I->err_stack.data : "", I->err_stack.len);
}

const char *tl_interp_error(const tl_interp *I) {
    return I->err_text.data ? I->err_text.data : "";
}

bool tl_interp_error_incomplete(const tl_interp *I) {
    return I->err_incomplete;
}

void tl_interp_clear_error(tl_interp *I) {
    I->has_err = false;
    I->err_incomplete = false;
    tl_strbuf_reset(&I->err_text);
    tl_strbuf_reset(&I->err_stack);
    tl_strbuf_reset(&I->err_msg);
}

tl_flow tl_guard(tl_interp *I, const tl_node *n) {
    char probe;
    if (I->stack_base && (size_t)(I->stack_base - &probe) > I->stack_limit)
        return tl_err_at(I, n, TL_ERR_RANGE, "expression or call nesting is too deep");
    if (tl_interrupt_requested) {
        tl_interrupt_requested = 0;
        return tl_err_at(I, n, TL_ERR_INTERRUPTED, "interrupted");
    }
    return TL_FLOW_OK;
}

void tl_interp_set_output(tl_interp *I, tl_output_fn fn, void *user) {
    I->out_fn = fn;
    I->out_user = user;
}

void tl_interp_write(tl_interp *I, const char *data, size_t len, bool flush) {
    if (I && I->out_fn) {
        if (len) I->out_fn(I->out_user, data, len);
        return;
    }
    if (len) fwrite(data, 1, len, stdout);
    if (flush) fflush(stdout);
}

tl_context *tl_interp_context(tl_interp *I) {
    return &I->rt;
}

/* Marks entry into the interpreter from C; returns true for the outermost,
** which makes the interpreter's runtime context current on this thread. */
static bool enter(tl_interp *I) {
    char probe;
    if (I->entry_depth++ > 0) return false;
    I->outer_rt = tl_context_enter(&I->rt);
    I->stack_base = &probe;
    tl_interrupt_requested = 0;
    tl_interp_clear_error(I);
    I->exiting = false;
    I->exit_code = -1;
    I->steps = 0;
    I->depth = 0;
    return true;
}

/* Undoes enter() (restoring the thread's previous context after the outermost). */
static void exit_entry(tl_interp *I) {
    if (--I->entry_depth == 0) tl_context_enter(I->outer_rt);
}

static tl_status leave(tl_interp *I, bool outer, tl_flow fl) {
    exit_entry(I);
    if (fl == TL_FLOW_OK) return TL_OK;
    if (I->exiting) {
        if (outer) tl_strbuf_reset(&I->err_text);
        return tl_fail(TL_ERR_INTERRUPTED, "exit(%d)", I->exit_code);
    }
    if (outer) {
        I->stack_base = NULL;
        finish_error(I);
    }
    return tl_fail(I->err_code ? I->err_code : TL_ERR_INTERNAL, "%s", tl_strbuf_cstr(&I->err_msg));
}

static tl_status add_chunk(tl_interp *I, tl_chunk *c) {
    if (I->n_chunks == I->cap_chunks) {
        size_t cap = I->cap_chunks ? I->cap_chunks * 2 : 8;
        tl_chunk **p = realloc(I->chunks, cap * sizeof *p);
        if (!p) {
            tl_chunk_free(c);
            return tl_fail(TL_ERR_NOMEM, "out of memory");
        }
        I->chunks = p;
        I->cap_chunks = cap;
    }
    I->chunks[I->n_chunks++] = c;
    return TL_OK;
}

/* Reads a whole file; "-" is standard input.  Bounded by the source read
** limit and interruptible by Ctrl-C (lang/read_all.h). */
static tl_status read_file(const char *path, char **text, size_t *len) {
    *text = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return tl_fail(TL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (!is_stdin && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        return tl_fail(TL_ERR_IO, "cannot read %s: %s", path, strerror(EISDIR));
    }
    tl_strbuf b = {0};
    tl_status st =
        tl_read_fd(fd, "tl", is_stdin ? "<stdin>" : path, tl_read_limit(TL_READ_SOURCE), &b);
    if (!is_stdin) close(fd);
    if (st != TL_OK) {
        tl_strbuf_free(&b);
        return st;
    }
    *len = b.len;
    *text = b.data ? b.data : strdup("");
    return *text ? TL_OK : tl_fail(TL_ERR_NOMEM, "out of memory");
}

/* Parses text into a chunk owned by the interpreter; on a syntax error records it. */
static tl_flow parse_chunk(tl_interp *I, const char *text, size_t len, const char *name,
                           tl_chunk **out) {
    tl_diag d;
    *out = NULL;
    tl_status st = tl_parse(text, len, name, out, &d);
    if (st != TL_OK) {
        if (st == TL_ERR_FORMAT) {
            I->has_err = true;
            I->err_code = st;
            I->err_incomplete = d.incomplete;
            I->err_chunk = NULL;
            tl_strbuf_reset(&I->err_msg);
            tl_strbuf_puts(&I->err_msg, d.msg);
            tl_strbuf_reset(&I->err_text);
            tl_format_error(&I->err_text, name, text, len, d.line, d.col, d.msg);
            return TL_FLOW_ERR;
        }
        return tl_err_status(I, NULL, st);
    }
    if (add_chunk(I, *out) != TL_OK) {
        *out = NULL;
        return tl_err_status(I, NULL, TL_ERR_NOMEM);
    }
    return TL_FLOW_OK;
}

static tl_flow load_items(tl_interp *I, const tl_chunk *c);

static bool file_exists(const char *p) {
    return access(p, R_OK) == 0;
}

/* Finds an import: next to the importing file, then TL_PATH, then the stdlib dirs. */
/* PREFIX/share/tl/stdlib for the PREFIX/bin/tl or PREFIX/lib/libtl.so this code
** runs from, so an installed tree can be moved (cmake --install --prefix). */
static const char *installed_stdlib_dir(char *buf, size_t cap) {
    Dl_info info;
    char exe[PATH_MAX];
    const char *file = NULL;
    if (dladdr((void *)installed_stdlib_dir, &info) && info.dli_fname &&
        strstr(info.dli_fname, "libtl"))
        file = info.dli_fname; /* the shared library */
    else if (realpath("/proc/self/exe", exe))
        file = exe; /* linked into the executable */
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (!slash) return "";
    snprintf(buf, cap, "%.*s/../share/tl/stdlib", (int)(slash - file), file);
    return buf;
}

static bool resolve_import(const char *from, const char *spec, tl_strbuf *out) {
    char name[PATH_MAX];
    size_t sl = strlen(spec);
    snprintf(name, sizeof name, "%s%s", spec,
             (sl >= 3 && strcmp(spec + sl - 3, ".tl") == 0) ? "" : ".tl");
    if (name[0] == '/') {
        tl_strbuf_puts(out, name);
        return file_exists(name);
    }
    const char *slash = strrchr(from, '/');
    tl_strbuf_reset(out);
    if (slash) tl_strbuf_append(out, from, (size_t)(slash - from) + 1);
    tl_strbuf_puts(out, name);
    if (file_exists(tl_strbuf_cstr(out))) return true;
    const char *path = getenv("TL_PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n) {
            tl_strbuf_reset(out);
            tl_strbuf_append(out, path, n);
            tl_strbuf_printf(out, "/%s", name);
            if (file_exists(tl_strbuf_cstr(out))) return true;
        }
        path = colon ? colon + 1 : NULL;
    }
    char near[PATH_MAX];
    const char *dirs[] = {TL_SOURCE_STDLIB_DIR, installed_stdlib_dir(near, sizeof near),
                          TL_STDLIB_DIR};
    for (size_t i = 0; i < 3; i++) {
        tl_strbuf_reset(out);
        tl_strbuf_printf(out, "%s/%s", dirs[i], name);
        if (file_exists(tl_strbuf_cstr(out))) return true;
    }
    return false;
}

static tl_import_rec *find_import(tl_interp *I, const char *real) {
    for (size_t i = 0; i < I->n_imports; i++)
        if (strcmp(I->imports[i].realpath, real) == 0) return &I->imports[i];
    return NULL;
}

/* Loads one file (the main file or an import). site: the import node or NULL. */
static tl_flow load_file(tl_interp *I, const char *path, const tl_node *site,
                         const tl_chunk **out) {
    /* the import key: the real path; "-" (standard input) and readable paths
    ** that do not resolve to a file name (/dev/stdin on a pipe) stand for
    ** themselves */
    char *real = strcmp(path, "-") == 0 ? strdup("-") : realpath(path, NULL);
    if (!real && access(path, R_OK) == 0) real = strdup(path);
    if (!real) return tl_err_at(I, site, TL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    tl_import_rec *rec = find_import(I, real);
    if (rec && rec->done) {
        free(real);
        if (site && tl_module_add_dep(I, site->chunk, (size_t)(rec - I->imports)) != TL_OK)
            return tl_err_status(I, site, tl_fail(TL_ERR_NOMEM, "out of memory"));
        if (out) *out = NULL;
        return TL_FLOW_OK;
    }
    if (rec) { /* still loading: a cycle */
        tl_strbuf cyc = {0};
        bool on = false;
        for (size_t i = 0; i < I->n_imports; i++) {
            if (&I->imports[i] == rec) on = true;
            if (on && !I->imports[i].done) tl_strbuf_printf(&cyc, "%s -> ", I->imports[i].display);
        }
        tl_strbuf_puts(&cyc, path);
        free(real);
        tl_flow fl = tl_err_at(I, site, TL_ERR_ARG, "import cycle: %s", tl_strbuf_cstr(&cyc));
        tl_strbuf_free(&cyc);
        return fl;
    }
    if (I->n_imports == I->cap_imports) {
        size_t cap = I->cap_imports ? I->cap_imports * 2 : 8;
        tl_import_rec *p = realloc(I->imports, cap * sizeof *p);
        if (!p) {
            free(real);
            return tl_err_status(I, site, tl_fail(TL_ERR_NOMEM, "out of memory"));
        }
        I->imports = p;
        I->cap_imports = cap;
    }
    size_t idx = I->n_imports++;
    I->imports[idx] =
        (tl_import_rec){.realpath = real, .display = strdup(path), .imported = site != NULL};
    if (site && tl_module_add_dep(I, site->chunk, idx) != TL_OK)
        return tl_err_status(I, site, tl_fail(TL_ERR_NOMEM, "out of memory"));
    char *text;
    size_t len = 0;
    tl_status st = read_file(path, &text, &len);
    if (st != TL_OK) return tl_err_status(I, site, st);
    tl_chunk *c;
    tl_flow fl = parse_chunk(I, text, len, path, &c);
    free(text);
    if (fl == TL_FLOW_OK) I->imports[idx].chunk = c;
    if (fl == TL_FLOW_OK) fl = load_items(I, c);
    if (fl == TL_FLOW_OK) {
        I->imports[idx].done = true;
        if (out) *out = c;
    }
    return fl;
}

static tl_flow do_import(tl_interp *I, const tl_node *n) {
    tl_strbuf path = {0};
    tl_flow fl;
    if (!resolve_import(n->chunk->filename, n->name, &path))
        fl = tl_err_at(I, n, TL_ERR_IO,
                       "cannot find import \"%s\" (looked next to %s, in TL_PATH and the stdlib)",
                       n->name, n->chunk->filename);
    else
        fl = load_file(I, tl_strbuf_cstr(&path), n, NULL);
    tl_strbuf_free(&path);
    return fl;
}

/* Imports first, then fn/struct/impl registration, then tensor declarations and
** the not-yet-supported declarations, in order. */
static tl_flow load_items(tl_interp *I, const tl_chunk *c) {
    for (const tl_node *n = c->items; n; n = n->next)
        if (n->kind == TL_D_IMPORT) {
            tl_flow fl = do_import(I, n);
            if (fl != TL_FLOW_OK) return fl;
        }
    for (const tl_node *n = c->items; n; n = n->next) {
        tl_status st = TL_OK;
        I->defs_epoch = tl_new_defs_epoch();
        if (n->kind == TL_D_FN) st = tl_named_put(&I->fns, n->name, NULL, n);
        if (n->kind == TL_D_STRUCT) st = tl_named_put(&I->structs, n->name, NULL, n);
        if (n->kind == TL_D_EXTERN) st = tl_ffi_declare(I, n); /* lang/ffi.c */
        if (n->kind == TL_D_IMPL)
            for (const tl_node *m = n->a; m && st == TL_OK; m = m->next)
                st = tl_named_put(&I->methods, m->name, n->name, m);
        if (st != TL_OK) return tl_err_status(I, n, st);
    }
    for (const tl_node *n = c->items; n; n = n->next) {
        if (n->kind == TL_S_TENSOR) {
            tl_scope *saved = I->cur;
            I->cur = &I->globals;
            tl_flow fl = tl_tensor_decl(I, n);
            I->cur = saved;
            if (fl != TL_FLOW_OK) {
                if (I->n_frames > 0) tl_push_frame(I, "<top level>", NULL, NULL);
                return fl;
            }
        } else if (n->kind == TL_D_ENTITY || n->kind == TL_D_RELATION || n->kind == TL_D_RULE ||
                   n->kind == TL_D_EMBEDDING) {
            tl_flow fl = tl_logic_declare(I, n); /* lang/eval_logic.c */
            if (fl != TL_FLOW_OK) return fl;
        } else if (n->kind == TL_D_UNSUPPORTED) {
            return tl_err_at(I, n, TL_ERR_UNSUPPORTED, "%s are not supported yet", n->name);
        }
    }
    return TL_FLOW_OK;
}

tl_status tl_interp_load_file(tl_interp *I, const char *path) {
    bool outer = enter(I);
    const tl_chunk *c = NULL;
    tl_flow fl = load_file(I, path, NULL, &c);
    if (fl == TL_FLOW_OK && c) I->last_file = c;
    if (fl != TL_FLOW_OK && I->err_text.len && !I->err_chunk && outer) {
        /* syntax error: the text is already formatted */
        exit_entry(I);
        return tl_fail(TL_ERR_FORMAT, "%s", tl_strbuf_cstr(&I->err_msg));
    }
    return leave(I, outer, fl);
}

/* ------------------------------------------------------------------ main, tests, benches */

static const tl_node *find_item(const tl_chunk *c, tl_node_kind kind) {
    if (!c) return NULL;
    for (const tl_node *n = c->items; n; n = n->next)
        if (n->kind == kind) return n;
    return NULL;
}

bool tl_interp_has_main(const tl_interp *I) {
    return find_item(I->last_file, TL_D_MAIN) != NULL;
}

void tl_interp_set_timing(tl_interp *I, FILE *out) {
    I->time_out = out;
}

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* tl_exec_list for tl run --time: reports each statement's wall time. */
static tl_flow exec_list_timed(tl_interp *I, const tl_node *stmts, tl_value *last) {
    for (const tl_node *s = stmts; s; s = s->next) {
        tl_value *want = (last && !s->next) ? last : NULL;
        double t0 = mono_seconds();
        tl_flow fl = tl_exec_stmt(I, s, want);
        double ms = (mono_seconds() - t0) * 1e3;
        const char *src = "", *file = "?";
        int n = 0;
        if (s->chunk) {
            file = s->chunk->filename;
            src = s->chunk->text;
            for (uint32_t l = 1; l < s->line && *src; src++)
                if (*src == '\n') l++;
            while (*src == ' ' || *src == '\t')
                src++;
            while (src[n] && src[n] != '\n' && n < 40)
                n++;
        }
        fflush(stdout);
        fprintf(I->time_out, "time: %s:%u  %-40.*s %10.3f ms\n", file, (unsigned)s->line, n, src,
                ms);
        if (fl != TL_FLOW_OK) return fl;
    }
    return TL_FLOW_OK;
}

/* Runs a main/test/bench body in `scope` (NULL: a fresh child of the globals). */
static tl_flow run_body(tl_interp *I, const tl_node *item, const char *frame, bool global_scope,
                        tl_value *last) {
    tl_scope local = {.parent = &I->globals};
    tl_scope *saved = I->cur;
    I->cur = global_scope ? &I->globals : &local;
    tl_flow fl = I->time_out && strcmp(frame, "main") == 0 ? exec_list_timed(I, item->b->a, last)
                                                           : tl_exec_list(I, item->b->a, last);
    I->cur = saved;
    scope_free(&local);
    if (fl == TL_FLOW_RETURN) {
        if (last) {
            tl_value_release(last);
            *last = I->ret;
            I->ret = TL_VOID;
        }
        tl_value_release(&I->ret);
        fl = TL_FLOW_OK;
    } else if (fl == TL_FLOW_BREAK || fl == TL_FLOW_CONTINUE) {
        fl = tl_err_at(I, I->flow_node, TL_ERR_ARG, "%s outside of a loop",
                       fl == TL_FLOW_BREAK ? "break" : "continue");
    }
    if (fl == TL_FLOW_ERR) tl_push_frame(I, frame, NULL, NULL);
    return fl;
}

tl_status tl_interp_run_main(tl_interp *I) {
    const tl_node *m = find_item(I->last_file, TL_D_MAIN);
    if (!m) return TL_OK;
    bool outer = enter(I);
    tl_flow fl = run_body(I, m, "main", false, NULL);
    return leave(I, outer, fl);
}

tl_status tl_interp_eval_file(tl_interp *I, const char *path) {
    tl_status st = tl_interp_load_file(I, path);
    if (st != TL_OK) return st;
    return tl_interp_run_main(I);
}

tl_status tl_interp_eval_string(tl_interp *I, const char *src, size_t len, const char *name,
                                tl_value *result) {
    if (result) *result = TL_VOID;
    bool outer = enter(I);
    tl_chunk *c = NULL;
    tl_flow fl = parse_chunk(I, src, len, name ? name : "<input>", &c);
    if (fl != TL_FLOW_OK && !I->err_chunk && I->err_text.len) {
        exit_entry(I);
        return tl_fail(TL_ERR_FORMAT, "%s", tl_strbuf_cstr(&I->err_msg));
    }
    if (fl == TL_FLOW_OK) fl = load_items(I, c);
    if (fl == TL_FLOW_OK) {
        I->last_file = c;
        for (const tl_node *n = c->items; n && fl == TL_FLOW_OK; n = n->next)
            if (n->kind == TL_D_MAIN) {
                if (result) tl_value_release(result);
                fl = run_body(I, n, "main", true, result);
            }
    }
    return leave(I, outer, fl);
}

tl_status tl_interp_run_tests(tl_interp *I, FILE *out, FILE *err, int *n_run, int *n_failed) {
    int run = 0, failed = 0;
    tl_status result = TL_OK;
    if (I->last_file)
        for (const tl_node *n = I->last_file->items; n; n = n->next) {
            if (n->kind != TL_D_TEST) continue;
            run++;
            bool outer = enter(I);
            char frame[160];
            snprintf(frame, sizeof frame, "test %s", n->name);
            tl_flow fl = run_body(I, n, frame, false, NULL);
            tl_status st = leave(I, outer, fl);
            if (I->exiting) {
                result = st;
                break;
            }
            if (st == TL_OK) {
                fprintf(out, "test %s ... ok\n", n->name);
            } else {
                failed++;
                fprintf(out, "test %s ... FAILED\n", n->name);
                fflush(out);
                fputs(tl_interp_error(I), err);
                fflush(err);
                result = st;
            }
        }
    if (!I->exiting)
        fprintf(out, "\ntest result: %s. %d passed; %d failed\n", failed ? "FAILED" : "ok",
                run - failed, failed);
    if (n_run) *n_run = run;
    if (n_failed) *n_failed = failed;
    if (failed && result == TL_OK) result = TL_ERR_ARG;
    return result;
}

tl_status tl_interp_run_benches(tl_interp *I, FILE *out) {
    if (!I->last_file) return TL_OK;
    for (const tl_node *n = I->last_file->items; n; n = n->next) {
        if (n->kind != TL_D_BENCH) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bool outer = enter(I);
        char frame[160];
        snprintf(frame, sizeof frame, "bench %s", n->name);
        tl_flow fl = run_body(I, n, frame, false, NULL);
        tl_status st = leave(I, outer, fl);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (st != TL_OK) return st;
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        fprintf(out, "bench %s ... %.3f ms\n", n->name, ms);
    }
    return TL_OK;
}

tl_status tl_interp_call(tl_interp *I, const tl_value *fn, int argc, const tl_value *argv,
                         tl_value *out) {
    *out = TL_VOID;
    bool outer = enter(I);
    tl_flow fl = tl_call_value(I, fn, NULL, argc, argv, out);
    return leave(I, outer, fl);
}
