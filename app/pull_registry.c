/* app/pull_registry.c -- the model registry: tab-separated name, file, size,
** sha256, url, source (see models/registry.tsv). */
#include "app/pull.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N_COLS 6

static void entry_free(tl_pull_entry *e) {
    free(e->name);
    free(e->file);
    free(e->sha256);
    free(e->url);
    free(e->source);
}

void tl_pull_registry_free(tl_pull_registry *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++)
        entry_free(&r->items[i]);
    free(r->items);
    r->items = NULL;
    r->n = 0;
}

static bool is_hex64(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n])) return false;
    return n == 64;
}

/* Splits line (modified in place) at tabs into at most N_COLS fields. */
static int split(char *line, char **f) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p != '\t') continue;
        *p = '\0';
        if (n == N_COLS) return N_COLS + 1;
        f[n++] = p + 1;
    }
    return n;
}

static tl_status parse_line(char *line, const char *origin, int lineno, tl_pull_entry *e) {
    char *f[N_COLS];
    int n = split(line, f);
    if (n < N_COLS - 1 || n > N_COLS)
        return tl_fail(TL_ERR_FORMAT, "%s:%d: expected %d tab-separated columns, found %d", origin,
                       lineno, N_COLS, n);
    for (int i = 0; i < 5; i++)
        if (!f[i][0])
            return tl_fail(TL_ERR_FORMAT, "%s:%d: column %d is empty", origin, lineno, i + 1);
    if (strchr(f[1], '/'))
        return tl_fail(TL_ERR_FORMAT, "%s:%d: file name '%s' must not contain '/'", origin, lineno,
                       f[1]);
    uint64_t size = 0;
    if (strcmp(f[2], "-") != 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(f[2], &end, 10);
        if (*end || errno || v == 0 || f[2][0] == '-')
            return tl_fail(TL_ERR_FORMAT, "%s:%d: size '%s' is not a positive byte count or '-'",
                           origin, lineno, f[2]);
        size = v;
    }
    bool have_sha = strcmp(f[3], "-") != 0;
    if (have_sha && !is_hex64(f[3]))
        return tl_fail(TL_ERR_FORMAT, "%s:%d: sha256 '%s' is not 64 hex digits or '-'", origin,
                       lineno, f[3]);
    if (!strstr(f[4], "://"))
        return tl_fail(TL_ERR_FORMAT, "%s:%d: url '%s' has no scheme", origin, lineno, f[4]);
    e->name = strdup(f[0]);
    e->file = strdup(f[1]);
    e->size = size;
    e->sha256 = have_sha ? strdup(f[3]) : NULL;
    e->url = strdup(f[4]);
    e->source = strdup(n == N_COLS ? f[5] : "");
    if (!e->name || !e->file || (have_sha && !e->sha256) || !e->url || !e->source) {
        entry_free(e);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", origin);
    }
    if (e->sha256)
        for (char *p = e->sha256; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return TL_OK;
}

tl_status tl_pull_registry_parse(const char *text, const char *origin, tl_pull_registry *out) {
    out->items = NULL;
    out->n = 0;
    size_t cap = 0;
    int lineno = 0;
    tl_status st = TL_OK;
    const char *p = text;
    while (*p && st == TL_OK) {
        lineno++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        p += len + (nl ? 1 : 0);
        if (!line) {
            st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", origin);
            break;
        }
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        if (len == 0 || line[0] == '#') {
            free(line);
            continue;
        }
        if (out->n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            tl_pull_entry *items = realloc(out->items, ncap * sizeof *items);
            if (!items) {
                free(line);
                st = tl_fail(TL_ERR_NOMEM, "%s: out of memory", origin);
                break;
            }
            out->items = items;
            cap = ncap;
        }
        tl_pull_entry e = {0};
        st = parse_line(line, origin, lineno, &e);
        free(line);
        if (st) break;
        if (tl_pull_registry_find(out, e.name)) {
            st = tl_fail(TL_ERR_FORMAT, "%s:%d: name '%s' appears twice", origin, lineno, e.name);
            entry_free(&e);
            break;
        }
        out->items[out->n++] = e;
    }
    if (st) tl_pull_registry_free(out);
    return st;
}

tl_status tl_pull_registry_load(tl_pull_registry *out) {
    const char *path = getenv("TL_REGISTRY");
    if (!path || !*path)
        return tl_pull_registry_parse(tl_pull_registry_builtin, "registry.tsv", out);
    FILE *f = fopen(path, "rb");
    if (!f) return tl_fail(TL_ERR_IO, "TL_REGISTRY=%s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? 2 * cap : 8192;
            if (ncap > ((size_t)1 << 24)) {
                free(text);
                fclose(f);
                return tl_fail(TL_ERR_FORMAT, "TL_REGISTRY=%s: larger than 16 MiB", path);
            }
            char *t = realloc(text, ncap);
            if (!t) {
                free(text);
                fclose(f);
                return tl_fail(TL_ERR_NOMEM, "TL_REGISTRY=%s: out of memory", path);
            }
            text = t;
            cap = ncap;
        }
        size_t got = fread(text + len, 1, 4096, f);
        len += got;
        if (got < 4096) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return tl_fail(TL_ERR_IO, "TL_REGISTRY=%s: read error", path);
    }
    text[len] = '\0';
    tl_status st = tl_pull_registry_parse(text, path, out);
    free(text);
    return st;
}

const tl_pull_entry *tl_pull_registry_find(const tl_pull_registry *r, const char *name) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, name) == 0) return &r->items[i];
    return NULL;
}
