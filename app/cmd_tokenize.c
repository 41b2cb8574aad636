/* app/cmd_tokenize.c -- `tl tokenize MODEL "text"`: prints the ids, then one
** line per token with its id, its vocab text and the piece it decodes to.
**
**   tl tokenize MODEL.gguf|tokenizer.json "text" [--no-bos] [--special] [--ids-only]
**   tl tokenize MODEL --file PATH|-          (the text from a file or stdin)
**   tl tokenize MODEL --ids 1,15043,3186     (detokenize: prints the text) */
#include "app/commands.h"
#include "app/options.h"

#include "runtime/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: tl tokenize MODEL.gguf|tokenizer.json \"text\" [--no-bos] [--special] "
               "[--ids-only]\n"
               "       tl tokenize MODEL --file PATH|-\n"
               "       tl tokenize MODEL --ids 1,15043,3186\n");
}

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!l || i + l > n) return false;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
        i += l;
    }
    return true;
}

/* Prints bytes with non-printable ones escaped (\n, \t, \xNN; bytes of
** invalid UTF-8, such as a lone byte token's, as \xNN too). */
static void print_escaped(const char *s, size_t n) {
    bool raw_ok = valid_utf8(s, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\\')
            fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !raw_ok))
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tl tokenize: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    int err = ferror(f) ? errno : 0; /* e.g. a directory: it opens, then fails to read */
    if (f != stdin) fclose(f);
    if (buf && err) {
        fprintf(stderr, "tl tokenize: %s: %s\n", path, strerror(err));
        free(buf);
        return NULL;
    }
    if (!buf) fprintf(stderr, "tl tokenize: out of memory\n");
    *len = n;
    return buf;
}

static int detok(const tl_tokenizer *tok, const char *list) {
    size_t cap = 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    const char *p = list;
    while (ids && *p) {
        while (*p == ',' || *p == ' ' || *p == '[' || *p == ']')
            p++;
        if (!*p) break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            fprintf(stderr, "tl tokenize: --ids: not a number at \"%s\"\n", p);
            free(ids);
            return 2;
        }
        if (tl_tokenizer_check_id(tok, v)) {
            fprintf(stderr, "tl tokenize: %s\n", tl_last_error());
            free(ids);
            return 1;
        }
        if (n == cap) {
            int32_t *ni = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!ni) free(ids);
            ids = ni;
            if (!ids) break;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    char *text;
    size_t len;
    if (!ids || tl_detokenize(tok, ids, n, false, true, &text, &len)) {
        fprintf(stderr, "tl tokenize: %s\n", ids ? tl_last_error() : "out of memory");
        free(ids);
        return 1;
    }
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text);
    free(ids);
    return 0;
}

int tl_cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *file = NULL, *ids_arg = NULL;
    bool bos = true, special = false, ids_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-bos") == 0)
            bos = false;
        else if (strcmp(a, "--special") == 0)
            special = true;
        else if (strcmp(a, "--ids-only") == 0)
            ids_only = true;
        else if (strcmp(a, "--file") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(a, "--ids") == 0 && i + 1 < argc)
            ids_arg = argv[++i];
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strncmp(a, "--", 2) == 0 && a[2]) {
            static const char *const names[] = {"--no-bos", "--special", "--ids-only", "--file",
                                                "--ids",    "--help",    NULL};
            tl_options_unknown("tokenize", a, names);
            usage(stderr);
            return 2;
        } else if (!model)
            model = a;
        else if (!text)
            text = a;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!model || (!text && !file && !ids_arg)) {
        usage(stderr);
        return 2;
    }
    tl_tokenizer *tok;
    if (tl_tokenizer_load(model, &tok)) {
        fprintf(stderr, "tl tokenize: %s\n", tl_last_error());
        return 1;
    }
    int rc = 0;
    if (ids_arg) {
        rc = detok(tok, ids_arg);
        tl_tokenizer_free(tok);
        return rc;
    }
    size_t len = 0;
    char *owned = NULL;
    if (file) {
        owned = read_all(file, &len);
        if (!owned) {
            tl_tokenizer_free(tok);
            return 1;
        }
        text = owned;
    } else {
        len = strlen(text);
    }
    int32_t *ids;
    size_t n;
    if (tl_tokenize(tok, text, len, bos, special, &ids, &n)) {
        fprintf(stderr, "tl tokenize: %s\n", tl_last_error());
        free(owned);
        tl_tokenizer_free(tok);
        return 1;
    }
    putchar('[');
    for (size_t i = 0; i < n; i++)
        printf(i ? ", %d" : "%d", ids[i]);
    puts("]");
    if (!ids_only)
        for (size_t i = 0; i < n; i++) {
            size_t tl, pl;
            const char *t = tl_tokenizer_text(tok, ids[i], &tl);
            const char *p;
            tl_token_piece(tok, ids[i], true, &p, &pl);
            printf("%6d  ", ids[i]);
            print_escaped(t, tl);
            fputs("  \"", stdout);
            print_escaped(p, pl);
            puts("\"");
        }
    free(ids);
    free(owned);
    tl_tokenizer_free(tok);
    return rc;
}
