/* app/cmd_list.c -- `tl list`: the GGUF models on this machine.
**
** Looks in $TL_MODELS_DIR if set, else in $XDG_CACHE_HOME/tl/models (default
** ~/.cache/tl/models) and ~/.llm/models (where `tl pull` puts them).  For each
** *.gguf file: its size, its type (llama.cpp's file type from general.file_type,
** as llama-quantize names it: q4_0, q4_k_m, ...; without one, the dtype holding
** the most bytes),
** and its checksum state against the registry (app/pull.h): "sha256 ok" /
** "SHA256 MISMATCH" with --verify (reads the whole file), otherwise whether the
** size matches the registry's; "-" for files the registry does not know.  A file
** that is not a valid GGUF says why (a partial download, an HTML page, ...). */
#include "app/commands.h"
#include "app/options.h"

#include "app/pull.h"
#include "app/sha256.h"
#include "runtime/gguf.h"
#include "runtime/model.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] = "usage: tl list [--verify] [DIR...]\n"
                                 "  the GGUF models in DIR, else in $TL_MODELS_DIR, else in\n"
                                 "  $XDG_CACHE_HOME/tl/models and ~/.llm/models\n"
                                 "  --verify   compute each known file's sha256 (reads it all)\n";

/* general.file_type by name (a model whose output.weight is q6_K is still a
** q4_0 model), else the dtype holding the most bytes of weights. */
static const char *main_type(const tl_gguf *g) {
    uint32_t ft;
    if (tl_gguf_n_tensors(g) == 0) return "-"; /* a vocabulary file */
    if (tl_gguf_get_u32(g, "general.file_type", &ft) == TL_OK) {
        const char *name = tl_ftype_name((tl_ftype)ft);
        if (strcmp(name, "?") != 0) return name;
    }
    uint64_t bytes[TL_DTYPE_COUNT + 1] = {0};
    for (int64_t i = 0; i < tl_gguf_n_tensors(g); i++) {
        const tl_gguf_tensor_info *t = tl_gguf_tensor_at(g, i);
        int d = t->dtype >= 0 && t->dtype < TL_DTYPE_COUNT ? (int)t->dtype : TL_DTYPE_COUNT;
        bytes[d] += t->nbytes;
    }
    int best = -1;
    for (int d = 0; d < TL_DTYPE_COUNT; d++)
        if (bytes[d] && (best < 0 || bytes[d] > bytes[best])) best = d;
    return best < 0 ? "-" : tl_dtype_name((tl_dtype)best);
}

static bool file_sha256(const char *path, char hex[TL_SHA256_HEX]) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    tl_sha256 s;
    tl_sha256_init(&s);
    static unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        tl_sha256_update(&s, buf, n);
    bool ok = !ferror(f);
    fclose(f);
    uint8_t d[TL_SHA256_BYTES];
    tl_sha256_final(&s, d);
    tl_sha256_hex(d, hex);
    return ok;
}

static const tl_pull_entry *known(const tl_pull_registry *r, const char *file) {
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->items[i].file, file) == 0) return &r->items[i];
    return NULL;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the models of one directory; returns how many. */
static int list_dir(const char *dir, const tl_pull_registry *reg, bool verify) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".gguf") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        if ((names[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    if (n) printf("%s:\n", dir);
    for (size_t i = 0; i < n; i++) {
        char path[4096], size[32] = "?", state[96] = "-";
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        uint64_t bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
        tl_pull_format_bytes(bytes, size, sizeof size);
        tl_gguf *g = NULL;
        const char *type = "invalid";
        if (tl_gguf_open(path, &g) == TL_OK) type = main_type(g);
        const tl_pull_entry *k = known(reg, names[i]);
        if (k) {
            if (k->size && k->size != bytes)
                snprintf(state, sizeof state, "SIZE MISMATCH (registry: %llu bytes)",
                         (unsigned long long)k->size);
            else if (verify && k->sha256) {
                char hex[TL_SHA256_HEX];
                bool ok = file_sha256(path, hex) && strcasecmp(hex, k->sha256) == 0;
                snprintf(state, sizeof state, "%s", ok ? "sha256 ok" : "SHA256 MISMATCH");
            } else if (k->sha256)
                snprintf(state, sizeof state, "size ok (--verify checks the sha256)");
            else
                snprintf(state, sizeof state, "size ok (no sha256 published)");
        }
        printf("  %-40s %10s  %-8s %s\n", names[i], size, type, state);
        if (!g) printf("    %s\n", tl_last_error());
        tl_gguf_close(g);
        free(names[i]);
    }
    free(names);
    return (int)n;
}

int tl_cmd_list(int argc, char **argv) {
    bool verify = false;
    const char *dirs[16];
    int nd = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0) {
            verify = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            static const char *const names[] = {"--verify", "--help", NULL};
            tl_options_unknown("list", argv[i], names);
            fputs(usage_text, stderr);
            return 2;
        } else if (nd < 16) {
            dirs[nd++] = argv[i];
        }
    }
    char xdg[4096] = "", llm[4096] = "";
    if (nd == 0) {
        const char *env = getenv("TL_MODELS_DIR"), *home = getenv("HOME"),
                   *cache = getenv("XDG_CACHE_HOME");
        if (env && *env) {
            dirs[nd++] = env;
        } else {
            if (cache && *cache)
                snprintf(xdg, sizeof xdg, "%s/tl/models", cache);
            else if (home)
                snprintf(xdg, sizeof xdg, "%s/.cache/tl/models", home);
            if (home) snprintf(llm, sizeof llm, "%s/.llm/models", home);
            if (xdg[0]) dirs[nd++] = xdg;
            if (llm[0]) dirs[nd++] = llm;
        }
    }
    tl_pull_registry reg = {0};
    bool have_reg = tl_pull_registry_load(&reg) == TL_OK;
    int total = 0;
    for (int i = 0; i < nd; i++)
        total += list_dir(dirs[i], have_reg ? &reg : NULL, verify);
    if (have_reg) tl_pull_registry_free(&reg);
    if (!total) {
        printf("no models in");
        for (int i = 0; i < nd; i++)
            printf(" %s", dirs[i]);
        printf(" (tl pull NAME downloads one; tl pull --list shows the names)\n");
    }
    return 0;
}
