/* lang/builtins/args.c -- parse_args: command-line options for scripts,
** declared once (docs/experiments.md, "Script options").
**
**   let o = parse_args("What the script does.", [
**       option("-m, --model PATH", default_model(), "the GGUF model"),
**       option("-n, --n-predict N", 64, "tokens to generate"),
**       option("--no-bos", false, "do not add the BOS token"),
**       option("[TEXT]", "", "the prompt"),
**       required("OUT", "", "where the output goes"),
**   ])
**   o.model  o.n_predict  o.no_bos  o.text  o.out
**
** A declaration is [spec, default, help, required] (option() and required()
** build one).  The spec names an option ("-m, --model PATH": a short and/or
** long name, then the value's name) or a positional argument ("OUT", "[TEXT]",
** "SHARD..." takes the rest).  The default's kind is the value's type: int,
** float, string, or bool for a flag (given, it is the opposite of the
** default); a rest argument's default is an array.  The result is a
** JsonObject whose keys are the long names (or short letter, or positional
** name in lower case) with '-' as '_'.  Short flags combine as in getopt
** ("-qv", "-qn5").  -h/--help prints the generated help
** and exits 0; a bad command line prints the error and the usage line to
** stderr and exits 2 (as `tl run` itself does).  Mistakes in the declarations
** are ordinary errors at the call. */
#include "lang/builtin.h"
#include "lang/eval_internal.h"
#include "lang/json_value.h"
#include "lang/strbuf.h"
#include "lang/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DECLS    64
#define NAME_MAX_LEN 64
#define MAX_WORDS    4096

typedef struct decl {
    char shortn[NAME_MAX_LEN]; /* "-m" or "" */
    char longn[NAME_MAX_LEN];  /* "--model" or "" */
    char meta[NAME_MAX_LEN];   /* "PATH"; a positional's name; "" for a flag */
    char key[NAME_MAX_LEN];    /* "model" */
    bool positional, rest, required, given;
    tl_value_kind type; /* INT, FLOAT, STRING or BOOL (flag); of the elements for rest */
    const tl_value *dflt;
    const char *help;
} decl;

typedef struct parser {
    tl_call *c;
    const char *prog;  /* the script as run: "examples/generate.tl" */
    const char *about; /* or NULL */
    decl d[MAX_DECLS];
    int n;
    bool own_help;              /* the script declared -h or --help itself */
    const char *pos[MAX_WORDS]; /* the positional words, in order */
} parser;

/* ---------------------------------------------------------------- declarations */

/* option(spec, default[, help]) and required(spec, default[, help]). */
static tl_status b_option(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    const char *spec;
    tl_status st = tl_arg_string(c, argv, 0, &spec);
    if (st != TL_OK) return st;
    if (argc > 2 && argv[2].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: the help text must be a string, got %s", c->name,
                       tl_value_type_name(&argv[2]));
    st = tl_value_array(4, out);
    if (st != TL_OK) return st;
    tl_value help = TL_VOID;
    if (argc > 2)
        help = tl_value_retain(argv[2]);
    else
        st = tl_value_cstring("", &help);
    if (st == TL_OK) st = tl_array_push(out->as.arr, tl_value_retain(argv[0]));
    if (st == TL_OK) st = tl_array_push(out->as.arr, tl_value_retain(argv[1]));
    if (st == TL_OK) st = tl_array_push(out->as.arr, help);
    if (st == TL_OK) st = tl_array_push(out->as.arr, tl_value_bool(c->op == 1));
    if (st != TL_OK) tl_value_release(out);
    return st;
}

static bool copy_name(char *dst, const char *s, size_t n) {
    if (n == 0 || n >= NAME_MAX_LEN) return false;
    memcpy(dst, s, n);
    dst[n] = 0;
    return true;
}

/* "-m, --model PATH" / "--temp T" / "--no-bos" / "OUT" / "[TEXT]" / "SHARD..." */
static tl_status parse_spec(parser *p, decl *d, const char *spec) {
    const char *s = spec;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s) break;
        size_t n = strcspn(s, " ");
        size_t len = n; /* "-m," -> "-m" */
        if (s[0] == '-' && s[n - 1] == ',') n--;
        char *dst = s[0] == '-' && s[1] == '-' ? d->longn : s[0] == '-' ? d->shortn : d->meta;
        if (*dst)
            return tl_fail(TL_ERR_ARG, "%s: option spec '%s' has two %s", p->c->name, spec,
                           dst == d->meta ? "value names" : "names of one kind");
        if (!copy_name(dst, s, n) || (dst == d->shortn && n != 2) || (dst == d->longn && n < 3))
            return tl_fail(TL_ERR_ARG,
                           "%s: cannot read option spec '%s' (write e.g. \"-m, --model PATH\", "
                           "\"--no-bos\", \"OUT\", \"[TEXT]\" or \"FILES...\")",
                           p->c->name, spec);
        s += len;
    }
    if (!*d->shortn && !*d->longn) {
        if (!*d->meta) return tl_fail(TL_ERR_ARG, "%s: an empty option spec", p->c->name);
        d->positional = true;
        char *m = d->meta;
        size_t n = strlen(m);
        if (m[0] == '[') { /* "[TEXT]": optional, which positionals are anyway */
            if (m[n - 1] != ']' || n < 3)
                return tl_fail(TL_ERR_ARG, "%s: cannot read option spec '%s'", p->c->name, spec);
            memmove(m, m + 1, n - 2);
            m[n -= 2] = 0;
        }
        if (n > 3 && strcmp(m + n - 3, "...") == 0) {
            d->rest = true;
            m[n -= 3] = 0;
        }
        for (size_t i = 0; i <= n; i++) /* "OUT-DIR" -> out_dir */
            d->key[i] =
                m[i] && !isalnum((unsigned char)m[i]) ? '_' : (char)tolower((unsigned char)m[i]);
    } else {
        const char *k = *d->longn ? d->longn + 2 : d->shortn + 1;
        for (size_t i = 0; i <= strlen(k); i++) /* "--top-k" -> top_k */
            d->key[i] = k[i] && !isalnum((unsigned char)k[i]) ? '_' : k[i];
    }
    return TL_OK;
}

static tl_status add_decl(parser *p, const tl_value *v, int idx) {
    const char *who = p->c->name;
    if (v->kind != TL_VAL_ARRAY || v->as.arr->len < 2 || v->as.arr->len > 4 ||
        v->as.arr->items[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_ARG,
                       "%s: declaration %d is not an option(spec, default, help) (got %s)", who,
                       idx + 1, tl_value_type_name(v));
    if (p->n == MAX_DECLS) return tl_fail(TL_ERR_RANGE, "%s: more than %d options", who, MAX_DECLS);
    const tl_value *it = v->as.arr->items;
    size_t len = v->as.arr->len;
    decl *d = &p->d[p->n];
    memset(d, 0, sizeof *d);
    const char *spec = it[0].as.str->data;
    tl_status st = parse_spec(p, d, spec);
    if (st != TL_OK) return st;
    d->dflt = &it[1];
    d->help = len > 2 && it[2].kind == TL_VAL_STRING ? it[2].as.str->data : "";
    d->required = len > 3 && it[3].kind == TL_VAL_BOOL && it[3].as.b;
    const tl_value *ty = d->dflt;
    if (d->rest) {
        if (ty->kind != TL_VAL_ARRAY)
            return tl_fail(TL_ERR_TYPE,
                           "%s: '%s' takes the rest of the arguments: its default "
                           "must be an array, got %s",
                           who, spec, tl_value_type_name(ty));
        ty = ty->as.arr->len ? &ty->as.arr->items[0] : NULL;
    }
    d->type = ty ? ty->kind : TL_VAL_STRING;
    if (d->type != TL_VAL_INT && d->type != TL_VAL_FLOAT && d->type != TL_VAL_STRING &&
        d->type != TL_VAL_BOOL)
        return tl_fail(TL_ERR_TYPE,
                       "%s: the default of '%s' must be an int, float, string or "
                       "bool (a flag), got %s",
                       who, spec, tl_value_type_name(ty));
    if (d->type == TL_VAL_BOOL && (d->positional || *d->meta))
        return tl_fail(TL_ERR_ARG,
                       "%s: '%s' has a bool default, which makes a flag: a flag "
                       "takes no value (write \"--name\")",
                       who, spec);
    if (!d->positional && d->type != TL_VAL_BOOL && !*d->meta) { /* "--temp" -> TEMP */
        for (size_t i = 0; i <= strlen(d->key); i++)
            d->meta[i] = (char)toupper((unsigned char)d->key[i]);
    }
    for (int j = 0; j < p->n; j++) {
        const decl *e = &p->d[j];
        if (strcmp(e->key, d->key) == 0 || (*d->shortn && strcmp(e->shortn, d->shortn) == 0))
            return tl_fail(TL_ERR_ARG, "%s: '%s' is declared twice", who,
                           strcmp(e->key, d->key) == 0 ? d->key : d->shortn);
        if (d->positional && e->rest)
            return tl_fail(TL_ERR_ARG, "%s: '%s' comes after '%s...', which takes the rest", who,
                           spec, e->meta);
    }
    if (strcmp(d->shortn, "-h") == 0 || strcmp(d->longn, "--help") == 0) p->own_help = true;
    p->n++;
    return TL_OK;
}

/* ---------------------------------------------------------------- help and usage */

static void put_default(tl_strbuf *b, const tl_value *v) {
    char num[64];
    switch (v->kind) {
    case TL_VAL_INT:
        tl_strbuf_printf(b, "%lld", (long long)v->as.i);
        break;
    case TL_VAL_FLOAT:
        tl_json_format_double(num, sizeof num, v->as.f, true);
        tl_strbuf_puts(b, num);
        break;
    case TL_VAL_STRING:
        tl_strbuf_putc(b, '"');
        tl_strbuf_append(b, v->as.str->data, v->as.str->len);
        tl_strbuf_putc(b, '"');
        break;
    default:
        break;
    }
}

static void put_usage(parser *p, tl_strbuf *b) {
    tl_strbuf_printf(b, "usage: tl run %s", p->prog);
    bool any_opt = false;
    for (int i = 0; i < p->n; i++) {
        const decl *d = &p->d[i];
        if (!d->positional && d->required) {
            tl_strbuf_printf(b, " %s %s", *d->longn ? d->longn : d->shortn, d->meta);
        } else if (!d->positional) {
            any_opt = true;
        }
    }
    if (any_opt || !p->own_help) tl_strbuf_puts(b, " [options]");
    for (int i = 0; i < p->n; i++) {
        const decl *d = &p->d[i];
        if (!d->positional) continue;
        tl_strbuf_printf(b, d->required ? " %s%s" : " [%s%s]", d->meta, d->rest ? "..." : "");
    }
    tl_strbuf_putc(b, '\n');
}

static void left_column(const decl *d, tl_strbuf *b) {
    if (d->positional) {
        tl_strbuf_printf(b, "%s%s", d->meta, d->rest ? "..." : "");
        return;
    }
    tl_strbuf_puts(b, *d->shortn ? d->shortn : "    ");
    if (*d->shortn && *d->longn) tl_strbuf_puts(b, ", ");
    tl_strbuf_puts(b, d->longn);
    if (*d->meta) tl_strbuf_printf(b, " %s", d->meta);
}

/* text from column `indent` on, wrapped at HELP_WIDTH columns (at spaces). */
#define HELP_WIDTH 80
static void put_wrapped(tl_strbuf *b, const char *text, size_t indent) {
    size_t avail = HELP_WIDTH > indent + 20 ? HELP_WIDTH - indent : 20;
    const char *s = text;
    while (*s) {
        size_t n = strlen(s);
        if (n > avail) { /* the last space that fits, else the first one */
            n = avail;
            while (n > 0 && s[n] != ' ')
                n--;
            if (n == 0) n = strcspn(s, " ");
        }
        tl_strbuf_append(b, s, n);
        s += n;
        while (*s == ' ')
            s++;
        if (*s) tl_strbuf_printf(b, "\n%*s", (int)indent, "");
    }
}

static void put_section(parser *p, tl_strbuf *b, bool positional, size_t width) {
    tl_strbuf col = {0}, text = {0};
    for (int i = 0; i < p->n; i++) {
        const decl *d = &p->d[i];
        if (d->positional != positional) continue;
        tl_strbuf_reset(&col);
        tl_strbuf_reset(&text);
        left_column(d, &col);
        tl_strbuf_puts(&text, d->help);
        bool shown = d->dflt->kind == TL_VAL_INT || d->dflt->kind == TL_VAL_FLOAT ||
                     (d->dflt->kind == TL_VAL_STRING && d->dflt->as.str->len > 0);
        if (d->required)
            tl_strbuf_puts(&text, *d->help ? " (required)" : "(required)");
        else if (shown) {
            tl_strbuf_puts(&text, *d->help ? " (default: " : "(default: ");
            put_default(&text, d->dflt);
            tl_strbuf_putc(&text, ')');
        }
        if (!text.len)
            tl_strbuf_printf(b, "  %s", tl_strbuf_cstr(&col));
        else if (col.len > width) /* the help goes on the next line */
            tl_strbuf_printf(b, "  %s\n%*s", tl_strbuf_cstr(&col), (int)width + 4, "");
        else
            tl_strbuf_printf(b, "  %-*s  ", (int)width, tl_strbuf_cstr(&col));
        put_wrapped(b, tl_strbuf_cstr(&text), width + 4);
        tl_strbuf_putc(b, '\n');
    }
    tl_strbuf_free(&col);
    tl_strbuf_free(&text);
}

static void put_help(parser *p, tl_strbuf *b) {
    put_usage(p, b);
    if (p->about && *p->about) {
        tl_strbuf_putc(b, '\n');
        put_wrapped(b, p->about, 0);
        tl_strbuf_putc(b, '\n');
    }
    size_t width = 10;
    bool any_pos = false;
    tl_strbuf col = {0};
    for (int i = 0; i < p->n; i++) {
        tl_strbuf_reset(&col);
        left_column(&p->d[i], &col);
        if (col.len > width) width = col.len;
        any_pos |= p->d[i].positional;
    }
    tl_strbuf_free(&col);
    if (width > 28) width = 28; /* longer ones push their help to the right */
    if (any_pos) {
        tl_strbuf_puts(b, "\narguments:\n");
        put_section(p, b, true, width);
    }
    tl_strbuf_puts(b, "\noptions:\n");
    put_section(p, b, false, width);
    if (!p->own_help) tl_strbuf_printf(b, "  %-*s  %s\n", (int)width, "-h, --help", "this text");
}

/* The command line is wrong: the message, the usage line, exit status 2. */
static tl_status usage_error(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tl_status usage_error(parser *p, const char *fmt, ...) {
    tl_strbuf b = {0};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tl_strbuf_printf(&b, "%s: %s\n", p->prog, msg);
    put_usage(p, &b);
    if (!p->own_help) tl_strbuf_printf(&b, "(tl run %s --help lists the options)\n", p->prog);
    fflush(stdout);
    fwrite(b.data, 1, b.len, stderr);
    tl_strbuf_free(&b);
    tl_interp_request_exit(p->c->interp, 2);
    return tl_fail(TL_ERR_INTERRUPTED, "exit(2)");
}

/* ---------------------------------------------------------------- parsing */

/* "-n, --n-predict" as errors name an option. */
static const char *display_name(const decl *d, char *buf, size_t cap) {
    if (d->positional)
        snprintf(buf, cap, "%s%s", d->meta, d->rest ? "..." : "");
    else if (*d->shortn && *d->longn)
        snprintf(buf, cap, "%s/%s", d->shortn, d->longn);
    else
        snprintf(buf, cap, "%s", *d->longn ? d->longn : d->shortn);
    return buf;
}

static tl_status convert(parser *p, const decl *d, const char *text, tl_value *out) {
    char name[2 * NAME_MAX_LEN + 2];
    char *end;
    errno = 0;
    switch (d->type) {
    case TL_VAL_INT: {
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno)
            return usage_error(p, "%s: '%s' is not an integer", display_name(d, name, sizeof name),
                               text);
        *out = tl_value_int(v);
        return TL_OK;
    }
    case TL_VAL_FLOAT: {
        double v = strtod(text, &end);
        if (!*text || *end || isspace((unsigned char)*text) || (errno && !isfinite(v)))
            return usage_error(p, "%s: '%s' is not a number", display_name(d, name, sizeof name),
                               text);
        *out = tl_value_float(v);
        return TL_OK;
    }
    default:
        return tl_value_cstring(text, out);
    }
}

static const decl *find_option(const parser *p, const char *name) {
    for (int i = 0; i < p->n; i++) {
        const decl *d = &p->d[i];
        if (!d->positional && (strcmp(d->longn, name) == 0 || strcmp(d->shortn, name) == 0))
            return d;
    }
    return NULL;
}

static tl_status unknown_option(parser *p, const char *arg, size_t len) {
    const char *names[2 * MAX_DECLS + 2];
    size_t n = 0;
    for (int i = 0; i < p->n; i++) {
        if (*p->d[i].longn) names[n++] = p->d[i].longn;
        if (*p->d[i].shortn) names[n++] = p->d[i].shortn;
    }
    if (!p->own_help) names[n++] = "--help";
    char word[256];
    snprintf(word, sizeof word, "%.*s", (int)(len < 255 ? len : 255), arg);
    const char *near = tl_suggest(word, names, n);
    if (near) return usage_error(p, "unknown option %s (did you mean %s?)", word, near);
    return usage_error(p, "unknown option %s", word);
}

/* A word that reads as a negative number is a value, not an option, unless some
** option is spelt like one (none are: short names are letters in practice). */
static bool is_number(const char *s) {
    char *end;
    errno = 0;
    (void)strtod(s, &end);
    return *s && !*end;
}

static tl_status set_value(parser *p, tl_value *res, decl *d, const char *text) {
    tl_value v;
    tl_status st = convert(p, d, text, &v);
    if (st != TL_OK) return st;
    d->given = true;
    return tl_json_object_set(res, d->key, v);
}

static tl_status parse(parser *p, const tl_value *words, tl_value *res) {
    size_t n = words->as.arr->len;
    const tl_value *w = words->as.arr->items;
    bool only_positional = false;
    const char **pos = p->pos;
    int n_pos = 0;
    tl_value rest = TL_VOID;
    tl_status st = TL_OK;
    for (size_t i = 0; i < n && st == TL_OK; i++) {
        if (w[i].kind != TL_VAL_STRING)
            return tl_fail(TL_ERR_TYPE, "%s: argument %zu is %s, not a string", p->c->name, i + 1,
                           tl_value_type_name(&w[i]));
        const char *a = w[i].as.str->data;
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1] && !is_number(a)) {
            if (!p->own_help && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
                tl_strbuf b = {0};
                put_help(p, &b);
                tl_interp_write(p->c->interp, b.data, b.len, true);
                tl_strbuf_free(&b);
                tl_interp_request_exit(p->c->interp, 0);
                return tl_fail(TL_ERR_INTERRUPTED, "exit(0)");
            }
            const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            char name[NAME_MAX_LEN];
            const char *inline_val = eq ? eq + 1 : NULL;
            if (a[1] != '-' && len > 2) { /* "-n5": a short option with its value */
                len = 2;
                inline_val = a + 2;
            }
            decl *d =
                len < NAME_MAX_LEN && copy_name(name, a, len) ? (decl *)find_option(p, name) : NULL;
            if (!d) return unknown_option(p, a, eq ? len : strlen(a));
            char dn[2 * NAME_MAX_LEN + 2];
            /* "-qv", "-qn5": short flags together, as getopt reads them; the first
            ** one that takes a value takes the rest of the word (or the next word) */
            while (d->type == TL_VAL_BOOL && inline_val && !eq && *inline_val) {
                d->given = true;
                st = tl_json_object_set(res, d->key, tl_value_bool(!d->dflt->as.b));
                if (st != TL_OK) return st;
                char sn[3] = {'-', *inline_val, 0};
                d = (decl *)find_option(p, sn);
                if (!d) return unknown_option(p, a, strlen(a));
                memcpy(name, sn, 3);
                inline_val = inline_val[1] ? inline_val + 1 : NULL;
            }
            if (d->type == TL_VAL_BOOL) {
                if (inline_val)
                    return usage_error(p, "%s takes no value (given '%s')",
                                       display_name(d, dn, sizeof dn), inline_val);
                d->given = true;
                st = tl_json_object_set(res, d->key, tl_value_bool(!d->dflt->as.b));
                continue;
            }
            if (!inline_val) {
                if (i + 1 >= n || w[i + 1].kind != TL_VAL_STRING)
                    return usage_error(p, "%s needs a value (%s %s)",
                                       display_name(d, dn, sizeof dn), name, d->meta);
                inline_val = w[++i].as.str->data;
            }
            st = set_value(p, res, d, inline_val);
            continue;
        }
        if (n_pos == MAX_WORDS) return usage_error(p, "more than %d arguments", MAX_WORDS);
        pos[n_pos++] = a; /* a positional argument: placed below */
    }
    if (st != TL_OK) return st;
    /* Positionals in order; an optional one takes a word only when enough are
    ** left for the required ones after it (so "[TEXT] OUT" reads "x" as OUT). */
    int left_required = 0;
    for (int i = 0; i < p->n; i++)
        left_required += p->d[i].positional && p->d[i].required;
    int wi = 0;
    for (int i = 0; i < p->n && st == TL_OK; i++) {
        decl *d = &p->d[i];
        if (!d->positional) continue;
        if (d->rest) {
            st = tl_value_array(4, &rest);
            for (; st == TL_OK && wi < n_pos; wi++) {
                tl_value v;
                st = convert(p, d, pos[wi], &v);
                if (st == TL_OK) st = tl_array_push(rest.as.arr, v);
                d->given = true;
            }
            if (st == TL_OK) st = tl_json_object_set(res, d->key, tl_value_retain(rest));
            break;
        }
        if (d->required) left_required--;
        if (wi < n_pos && (d->required || n_pos - wi > left_required))
            st = set_value(p, res, d, pos[wi++]);
    }
    if (st == TL_OK && wi < n_pos) st = usage_error(p, "unexpected argument '%s'", pos[wi]);
    tl_value_release(&rest);
    if (st != TL_OK) return st;
    for (int i = 0; i < p->n; i++) {
        const decl *d = &p->d[i];
        char dn[2 * NAME_MAX_LEN + 2];
        if (d->required && !d->given)
            return usage_error(p, "%s is required", display_name(d, dn, sizeof dn));
    }
    return TL_OK;
}

/* parse_args([about,] declarations[, words]) */
static tl_status b_parse_args(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    parser *p = calloc(1, sizeof *p);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    p->c = c;
    *out = TL_VOID;
    const tl_interp *I = c->interp;
    p->prog = I->last_file && I->last_file->filename ? I->last_file->filename : "SCRIPT";
    int k = 0;
    if (argv[0].kind == TL_VAL_STRING) p->about = argv[k++].as.str->data;
    tl_status st = TL_OK;
    if (k >= argc || argv[k].kind != TL_VAL_ARRAY)
        st = tl_fail(TL_ERR_TYPE, "parse_args: expected an array of option(...) declarations%s",
                     k < argc ? ", got something else" : "");
    const tl_value *decls = st == TL_OK ? &argv[k++] : NULL;
    const tl_value *words = k < argc ? &argv[k++] : tl_interp_args(c->interp);
    if (st == TL_OK && (k < argc || words->kind != TL_VAL_ARRAY))
        st = tl_fail(TL_ERR_TYPE, "parse_args: the words to parse must be an array of strings "
                                  "(args() when left out)");
    for (size_t i = 0; st == TL_OK && i < decls->as.arr->len; i++)
        st = add_decl(p, &decls->as.arr->items[i], (int)i);
    if (st == TL_OK) st = tl_json_object_new(out);
    for (int i = 0; st == TL_OK && i < p->n; i++) { /* defaults first: keys in declaration order */
        const tl_value *dv = p->d[i].dflt;
        tl_value v = TL_VOID;
        if (!p->d[i].rest) {
            v = tl_value_retain(*dv);
        } else { /* a fresh array: the script's default stays as it was */
            st = tl_value_array(dv->as.arr->len, &v);
            for (size_t j = 0; st == TL_OK && j < dv->as.arr->len; j++)
                st = tl_array_push(v.as.arr, tl_value_retain(dv->as.arr->items[j]));
        }
        if (st == TL_OK)
            st = tl_json_object_set(out, p->d[i].key, v);
        else
            tl_value_release(&v);
    }
    if (st == TL_OK) st = parse(p, words, out);
    if (st != TL_OK) tl_value_release(out);
    free(p);
    return st;
}

const tl_builtin_def tl_builtins_args[] = {
    {"parse_args", 1, 3, b_parse_args,
     "parse_args([about,] [option(...), ...][, words]) -> JsonObject (words: args())", 0},
    {"option", 2, 3, b_option,
     "option(spec, default[, help]) e.g. option(\"-n, --n-predict N\", 64, \"tokens\")",
     TL_KIND_BIT(TL_VAL_STRING), 0},
    {"required", 2, 3, b_option,
     "required(spec, default[, help]) (an option or argument that must be given)",
     TL_KIND_BIT(TL_VAL_STRING), 1},
    {0},
};
