/* app/repl_session.c -- one REPL input at a time against a persistent
** interpreter: running statements inside `main { }` (so variables become
** globals), showing values, reporting errors with the user's line numbers,
** and the `:` commands. */
#include "lang/builtin.h"
#include "lang/display.h"
#include "lang/parse.h"
#include "app/repl_internal.h"
#include "lang/read_all.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const tl_repl_cmd tl_repl_cmds[] = {
    {":help", "[NAME]", "this text, or the signature of a builtin or function"},
    {":vars", "", "list variables, functions and structs"},
    {":type", "EXPR", "evaluate EXPR and show its type (tensors: dtype and shape)"},
    {":time", "EXPR", "evaluate EXPR (or statements) and show how long it took"},
    {":load", "FILE", "run a .tl file here: its functions, structs and main block"},
    {":reset", "", "forget everything (variables, functions, loaded models)"},
    {":quit", "", "leave (also Ctrl-D)"},
    {0},
};

tl_status tl_repl_session_init(tl_repl_session *s, FILE *out, FILE *err) {
    memset(s, 0, sizeof *s);
    s->out = out;
    s->err = err;
    s->exit_code = 0;
    s->interp = tl_interp_new();
    if (!s->interp) return tl_fail(TL_ERR_NOMEM, "out of memory");
    return TL_OK;
}

void tl_repl_session_free(tl_repl_session *s) {
    tl_interp_free(s->interp);
    s->interp = NULL;
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Rewrites the interpreter's error text for an input that ran wrapped in
** "main {\n...\n}": line numbers in chunk `name` drop by one and the
** "at main" frame of the wrapper goes. */
static void fix_wrapped_error(tl_strbuf *out, const char *err, const char *name) {
    size_t name_len = strlen(name);
    bool site_in_input = false;
    long site_line = -1, site_col = -1; /* the error's own position in the input */
    for (const char *line = err; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line + 1) : strlen(line);
        const char *p = line;
        while (*p == ' ')
            p++;
        if (strncmp(p, "at main (", 9) == 0 && strncmp(p + 9, name, name_len) == 0 &&
            p[9 + name_len] == ':') {
            /* the wrapper's frame: "at main (<input 3>:2:1)" -> "at <input 3>:1:1" */
            char *end;
            long ln = strtol(p + 10 + name_len, &end, 10);
            const char *close = strchr(end, ')');
            long col = *end == ':' ? strtol(end + 1, NULL, 10) : -1;
            if (site_in_input && ln == site_line && col == site_col) {
                line += len; /* the error is right in the input: the frame adds nothing */
                continue;
            }
            tl_strbuf_append(out, line, (size_t)(p - line));
            tl_strbuf_printf(out, "at %s:%ld", name, ln > 1 ? ln - 1 : ln);
            if (close) tl_strbuf_append(out, end, (size_t)(close - end));
            tl_strbuf_putc(out, '\n');
            line += len;
            continue;
        }
        if (p != line || !is_digit(*p)) {
            /* a gutter line " 3 | source" of the error site */
            const char *q = p;
            while (is_digit(*q))
                q++;
            if (site_in_input && q > p && strncmp(q, " | ", 3) == 0) {
                long n = strtol(p, NULL, 10);
                tl_strbuf_printf(out, "%*ld", (int)(q - line), n - 1);
                tl_strbuf_append(out, q, len - (size_t)(q - line));
                line += len;
                continue;
            }
        }
        if (strstr(line, ": error: ") && (size_t)(strstr(line, ": error: ") - line) < len) {
            site_in_input = strncmp(line, name, name_len) == 0 && line[name_len] == ':';
            if (site_in_input) {
                char *end;
                site_line = strtol(line + name_len + 1, &end, 10);
                site_col = *end == ':' ? strtol(end + 1, NULL, 10) : -1;
            }
        }
        for (size_t i = 0; i < len;) {
            if (strncmp(line + i, name, name_len) == 0 && line[i + name_len] == ':' &&
                is_digit(line[i + name_len + 1])) {
                char *end;
                long n = strtol(line + i + name_len + 1, &end, 10);
                tl_strbuf_append(out, line + i, name_len + 1);
                tl_strbuf_printf(out, "%ld", n > 1 ? n - 1 : n);
                i = (size_t)(end - line);
                continue;
            }
            tl_strbuf_putc(out, line[i++]);
        }
        line += len;
    }
}

static void report_error(tl_repl_session *s, bool wrapped, const char *name) {
    const char *err = tl_interp_error(s->interp);
    if (!err || !*err) err = tl_last_error();
    tl_strbuf b = {0};
    if (wrapped)
        fix_wrapped_error(&b, err, name);
    else
        tl_strbuf_puts(&b, err);
    if (b.len && b.data[b.len - 1] != '\n') tl_strbuf_putc(&b, '\n');
    fflush(s->out);
    fputs(tl_strbuf_cstr(&b), s->err);
    fflush(s->err);
    tl_strbuf_free(&b);
}

/* True when the last statement of the wrapped text is an assignment (whose
** value the REPL does not echo, as for `let`). */
static bool ends_with_assignment(const char *wrapped, size_t len) {
    tl_chunk *c = NULL;
    tl_diag d = {0};
    if (tl_parse(wrapped, len, "<input>", &c, &d) != TL_OK) return false;
    const tl_node *last = NULL;
    for (const tl_node *it = c->items; it; it = it->next)
        if (it->kind == TL_D_MAIN && it->b)
            for (const tl_node *st = it->b->a; st; st = st->next)
                last = st;
    bool assign = last && last->kind == TL_S_ASSIGN;
    tl_chunk_free(c);
    return assign;
}

static bool starts_declaration(const char *text, size_t len) {
    static const char *const words[] = {"fn",   "struct", "impl",     "import",    "main",
                                        "test", "bench",  "relation", "embedding", "entity"};
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
        i++;
    size_t j = i;
    while (j < len && ((text[j] >= 'a' && text[j] <= 'z') || text[j] == '_'))
        j++;
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (strlen(words[k]) == j - i && strncmp(text + i, words[k], j - i) == 0) return true;
    return false;
}

/* Runs text; *result (optional) gets the value of its last expression. */
static tl_status run_input(tl_repl_session *s, const char *text, size_t len, tl_value *result) {
    if (result) *result = TL_VOID;
    tl_input_kind k = tl_repl_classify(text, len);
    if (k == TL_INPUT_EMPTY) return TL_OK;
    char name[32];
    snprintf(name, sizeof name, "<input %d>", ++s->n_inputs);
    if (s->chunk_name) snprintf(name, sizeof name, "%s", s->chunk_name);
    if (k == TL_INPUT_INCOMPLETE) /* point "unexpected end of input" at the last line */
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
            len--;
    /* a syntax error shows against the text as typed when it starts like a declaration */
    bool wrapped =
        k == TL_INPUT_STATEMENTS || (k != TL_INPUT_ITEMS && !starts_declaration(text, len));
    tl_status st;
    if (wrapped) {
        char *w = malloc(len + 16);
        if (!w) return tl_fail(TL_ERR_NOMEM, "out of memory");
        memcpy(w, "main {\n", 7);
        memcpy(w + 7, text, len);
        memcpy(w + 7 + len, "\n}", 3);
        /* an unfinished input (ended by a blank line or end of file) runs without the
        ** closing brace, so the error is "unexpected end of input" where it ends */
        st = tl_interp_eval_string(s->interp, w, k == TL_INPUT_INCOMPLETE ? len + 7 : len + 9, name,
                                   result);
        if (st == TL_OK && result && result->kind != TL_VAL_VOID &&
            ends_with_assignment(w, len + 9))
            tl_value_release(result);
        free(w);
    } else {
        st = tl_interp_eval_string(s->interp, text, len, name, result);
    }
    if (st != TL_OK) {
        if (result) tl_value_release(result);
        if (tl_interp_exit_code(s->interp) >= 0) {
            s->quit = true;
            s->exit_code = tl_interp_exit_code(s->interp);
            return TL_OK;
        }
        report_error(s, wrapped, name);
    }
    return st;
}

static void show_result(tl_repl_session *s, const tl_value *v) {
    if (v->kind == TL_VAL_VOID) return;
    tl_strbuf b = {0};
    tl_repl_show_value(&b, v);
    tl_strbuf_putc(&b, '\n');
    fputs(tl_strbuf_cstr(&b), s->out);
    fflush(s->out);
    tl_strbuf_free(&b);
}

static void cmd_help(tl_repl_session *s, const char *arg);

/* text is `help(NAME)` or `help("word")` (blanks around): NAME into out. */
static bool help_call(const char *text, size_t len, char *out, size_t cap) {
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\t'))
        len--;
    if (len < 7 || strncmp(text, "help(", 5) != 0 || text[len - 1] != ')') return false;
    const char *a = text + 5, *b = text + len - 1;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    if (b - a >= 2 && *a == '"' && b[-1] == '"') a++, b--;
    if (a == b || (size_t)(b - a) >= cap) return false;
    for (const char *p = a; p < b; p++)
        if (!(*p == '_' || *p == ':' || *p == ' ' || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = 0;
    return true;
}

tl_status tl_repl_session_eval(tl_repl_session *s, const char *text, size_t len) {
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == ':' && (i + 1 >= len || text[i + 1] != ':')) {
        char *line = strndup(text + i, len - i);
        if (!line) return tl_fail(TL_ERR_NOMEM, "out of memory");
        tl_status st = tl_repl_command(s, line);
        free(line);
        return st;
    }
    /* help(NAME) and help("word") are :help NAME */
    char name[128];
    if (help_call(text + i, len - i, name, sizeof name)) {
        cmd_help(s, name);
        return TL_OK;
    }
    tl_value v;
    tl_status st = run_input(s, text, len, &v);
    if (st == TL_OK && !s->quiet) show_result(s, &v);
    /* `_` is the last value shown, as in Python's REPL */
    if (st == TL_OK && v.kind != TL_VAL_VOID && tl_interp_set_global(s->interp, "_", &v) != TL_OK)
        st = TL_ERR_NOMEM;
    tl_value_release(&v);
    return st;
}

/* ------------------------------------------------------------------ commands */

typedef struct search_ctx {
    tl_repl_session *s;
    const char *word;
    int hits;
} search_ctx;

static void search_fn(void *ctx, const char *name) {
    search_ctx *c = ctx;
    tl_strbuf doc = {0};
    bool doc_hit =
        tl_repl_fn_doc(c->s->interp, name, &doc) && strstr(tl_strbuf_cstr(&doc), c->word);
    if (strstr(name, c->word) || doc_hit) {
        tl_strbuf sig = {0};
        tl_repl_fn_signature(c->s->interp, name, &sig);
        const char *first = doc.len ? tl_strbuf_cstr(&doc) : "";
        if (*first) /* no padding without a doc line after it */
            fprintf(c->s->out, "  %-40s %.*s\n", tl_strbuf_cstr(&sig), (int)strcspn(first, "\n"),
                    first);
        else
            fprintf(c->s->out, "  %s\n", tl_strbuf_cstr(&sig));
        tl_strbuf_free(&sig);
        c->hits++;
    }
    tl_strbuf_free(&doc);
}

/* :help WORD with no exact match: builtins whose name or signature contains WORD,
** and functions whose name or doc comment does. */
static void help_search(tl_repl_session *s, const char *word) {
    search_ctx c = {s, word, 0};
    for (size_t i = 0;; i++) {
        const tl_builtin_def *d = tl_builtin_at(i);
        if (!d) break;
        if (strstr(d->name, word) || (d->signature && strstr(d->signature, word))) {
            if (!c.hits++)
                fprintf(s->out, "no builtin, function or variable named '%s'; about it:\n", word);
            fprintf(s->out, "  builtin %s\n", d->signature ? d->signature : d->name);
        }
    }
    int before = c.hits;
    if (!before) c.hits = 0;
    tl_repl_each_fn(s->interp, search_fn, &c);
    if (!c.hits)
        fprintf(s->out, "no builtin, function or variable named '%s', and none mentions it\n",
                word);
}

static void cmd_help(tl_repl_session *s, const char *arg) {
    if (*arg) {
        bool any = false;
        for (size_t i = 0;; i++) {
            const tl_builtin_def *d = tl_builtin_at(i);
            if (!d) break;
            if (strcmp(d->name, arg) == 0) {
                fprintf(s->out, "builtin %s\n", d->signature ? d->signature : d->name);
                any = true;
            }
        }
        tl_strbuf sig = {0};
        if (tl_repl_fn_signature(s->interp, arg, &sig)) {
            uint32_t line = 0;
            const char *file = tl_repl_fn_file(s->interp, arg, &line);
            fprintf(s->out, "%s", tl_strbuf_cstr(&sig));
            if (file && file[0] != '<') /* not for a REPL input */
                fprintf(s->out, "    (%s:%u)", file, (unsigned)line);
            fputc('\n', s->out);
            tl_strbuf doc = {0};
            if (tl_repl_fn_doc(s->interp, arg, &doc)) fputs(tl_strbuf_cstr(&doc), s->out);
            tl_strbuf_free(&doc);
            any = true;
        }
        tl_strbuf_free(&sig);
        tl_value v;
        if (tl_interp_get_global(s->interp, arg, &v) == TL_OK) {
            tl_strbuf b = {0};
            tl_repl_describe_type(&b, &v);
            fprintf(s->out, "variable %s: %s\n", arg, tl_strbuf_cstr(&b));
            tl_strbuf_free(&b);
            tl_value_release(&v);
            any = true;
        }
        if (!any) help_search(s, arg);
        return;
    }
    fputs("Type statements or expressions; an expression's value is shown.\n"
          "Variables, functions, structs and loaded models persist between inputs.\n"
          "An unfinished input (open bracket, string, trailing operator) continues on\n"
          "the next line; a blank line ends it.  Tab completes names, Up/Down recall\n"
          "history (~/.tl_history), Ctrl-C cancels the line or interrupts a running\n"
          "computation, Ctrl-D leaves.\n\nCommands:\n",
          s->out);
    for (const tl_repl_cmd *c = tl_repl_cmds; c->name; c++) {
        char head[40];
        snprintf(head, sizeof head, "%s %s", c->name, c->args);
        fprintf(s->out, "  %-14s %s\n", head, c->help);
    }
}

static void var_line(void *ctx, const char *name, const tl_value *v) {
    tl_repl_session *s = ctx;
    tl_strbuf b = {0};
    tl_strbuf_printf(&b, "  %-12s ", name);
    tl_repl_describe_type(&b, v);
    if (v->kind == TL_VAL_INT || v->kind == TL_VAL_FLOAT || v->kind == TL_VAL_BOOL ||
        v->kind == TL_VAL_STRING) {
        tl_strbuf small = {0};
        tl_repl_show_value(&small, v);
        if (small.len > 50) {
            small.len = 47;
            tl_strbuf_puts(&small, "...");
        }
        tl_strbuf_printf(&b, " = %s", tl_strbuf_cstr(&small));
        tl_strbuf_free(&small);
    }
    fprintf(s->out, "%s\n", tl_strbuf_cstr(&b));
    tl_strbuf_free(&b);
}

static void fn_line(void *ctx, const char *name) {
    fprintf(((tl_repl_session *)ctx)->out, "  fn %s\n", name);
}

static void struct_line(void *ctx, const char *name, const char *const *fields, int n) {
    tl_repl_session *s = ctx;
    fprintf(s->out, "  struct %s {", name);
    for (int i = 0; i < n; i++)
        fprintf(s->out, "%s %s", i ? "," : "", fields[i]);
    fprintf(s->out, "%s}\n", n ? " " : "");
}

/* Counters for an empty :vars. */
static void count_var(void *ctx, const char *name, const tl_value *v) {
    (void)name;
    (void)v;
    ++*(int *)ctx;
}

static void count_fn(void *ctx, const char *name) {
    (void)name;
    ++*(int *)ctx;
}

static void count_struct(void *ctx, const char *name, const char *const *fields, int n) {
    (void)name;
    (void)fields;
    (void)n;
    ++*(int *)ctx;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tl_status cmd_load(tl_repl_session *s, const char *path) {
    /* bounded, interruptible, a directory is an error (lang/read_all.h) */
    tl_strbuf b = {0};
    tl_status st = tl_read_path(path, ":load", TL_READ_SOURCE, &b);
    if (st != TL_OK) {
        fprintf(s->err, "error: %s\n", tl_last_error());
        tl_strbuf_free(&b);
        return st;
    }
    st = tl_interp_eval_string(s->interp, b.data ? b.data : "", b.len, path, NULL);
    tl_strbuf_free(&b);
    if (st != TL_OK) {
        if (tl_interp_exit_code(s->interp) >= 0) {
            s->quit = true;
            s->exit_code = tl_interp_exit_code(s->interp);
            return TL_OK;
        }
        report_error(s, false, path);
        return st;
    }
    fprintf(s->out, "loaded %s\n", path);
    return TL_OK;
}

tl_status tl_repl_command(tl_repl_session *s, const char *line) {
    char cmd[32];
    size_t n = strcspn(line, " \t\n");
    if (n >= sizeof cmd) n = sizeof cmd - 1;
    memcpy(cmd, line, n);
    cmd[n] = 0;
    const char *arg = line + n;
    while (*arg == ' ' || *arg == '\t' || *arg == '\n')
        arg++;
    /* trim trailing blanks */
    char *a = strdup(arg);
    if (!a) return tl_fail(TL_ERR_NOMEM, "out of memory");
    for (size_t k = strlen(a); k > 0 && (a[k - 1] == ' ' || a[k - 1] == '\n' || a[k - 1] == '\t');)
        a[--k] = 0;
    /* unique prefixes work: :h, :v, :ty, :ti, :l, :r, :q */
    const tl_repl_cmd *hit = NULL;
    int hits = 0;
    for (const tl_repl_cmd *c = tl_repl_cmds; c->name; c++) {
        if (strcmp(c->name, cmd) == 0) {
            hit = c;
            hits = 1;
            break;
        }
        if (n > 1 && strncmp(c->name, cmd, n) == 0) {
            hit = c;
            hits++;
        }
    }
    tl_status st = TL_OK;
    if (hits != 1) {
        fprintf(s->err, "error: %s command '%s' (:help lists them)\n",
                hits ? "ambiguous" : "unknown", cmd);
        st = TL_ERR_ARG;
    } else if (strcmp(hit->name, ":help") == 0) {
        cmd_help(s, a);
    } else if (strcmp(hit->name, ":quit") == 0) {
        s->quit = true;
    } else if (strcmp(hit->name, ":reset") == 0) {
        tl_interp *fresh = tl_interp_new();
        if (!fresh) {
            st = TL_ERR_NOMEM;
        } else {
            tl_interp_free(s->interp);
            s->interp = fresh;
            fprintf(s->out, "state cleared\n");
        }
    } else if (strcmp(hit->name, ":vars") == 0) {
        int count = 0;
        tl_repl_each_global(s->interp, count_var, &count);
        tl_repl_each_fn(s->interp, count_fn, &count);
        tl_repl_each_struct(s->interp, count_struct, &count);
        if (count == 0) fprintf(s->out, "nothing defined yet (let, fn and struct add here)\n");
        tl_repl_each_global(s->interp, var_line, s);
        tl_repl_each_fn(s->interp, fn_line, s);
        tl_repl_each_struct(s->interp, struct_line, s);
    } else if (!*a) {
        fprintf(s->err, "error: %s needs %s\n", hit->name, hit->args);
        st = TL_ERR_ARG;
    } else if (strcmp(hit->name, ":load") == 0) {
        st = cmd_load(s, a);
    } else if (strcmp(hit->name, ":type") == 0 || strcmp(hit->name, ":time") == 0) {
        bool timing = strcmp(hit->name, ":time") == 0;
        tl_value v;
        double t0 = now_s();
        st = run_input(s, a, strlen(a), &v);
        double dt = now_s() - t0;
        if (st == TL_OK && !s->quit) {
            if (timing) {
                show_result(s, &v);
                if (dt < 1e-3)
                    fprintf(s->out, "time: %.1f us\n", dt * 1e6);
                else if (dt < 1)
                    fprintf(s->out, "time: %.3f ms\n", dt * 1e3);
                else
                    fprintf(s->out, "time: %.3f s\n", dt);
            } else {
                tl_strbuf b = {0};
                tl_repl_describe_type(&b, &v);
                fprintf(s->out, "%s\n", tl_strbuf_cstr(&b));
                tl_strbuf_free(&b);
            }
        }
        tl_value_release(&v);
    }
    fflush(s->out);
    fflush(s->err);
    free(a);
    return st;
}
