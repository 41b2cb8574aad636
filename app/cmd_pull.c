/* app/cmd_pull.c -- `tl pull`: the command line around app/pull.h. */
#include "app/commands.h"
#include "app/options.h"

#include "app/pull.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
    "usage: tl pull NAME [--to PATH] [options]     a model from the registry (tl pull --list)\n"
    "       tl pull URL [--to PATH] [options]      any GGUF file over http(s), or file://\n"
    "       tl pull FILE.gguf [--to PATH]          copy a local file in, with the same checks\n"
    "\n"
    "Downloads into $XDG_CACHE_HOME/tl/models/ (default ~/.cache/tl/models/; a file already\n"
    "in ~/.llm/models/ is checked and kept there) or PATH (a directory or a file name) through\n"
    "PATH.part, resuming an interrupted download, and installs the file only after its size,\n"
    "sha256 and GGUF structure check out.\n"
    "\n"
    "options:\n"
    "  --to PATH        where to put the file\n"
    "  --sha256 HEX     expected sha256 (URL downloads; overrides the registry's)\n"
    "  --size BYTES     expected size in bytes (URL downloads)\n"
    "  --force          download again even if the file exists\n"
    "  --retries N      resume automatically up to N times after a dropped connection (3)\n"
    "  --quiet          no progress output\n"
    "  --progress MODE  bar, lines or none (default: bar on a terminal, else lines)\n"
    "  --list           list the registry's models\n";

static int usage_error(const char *fmt, const char *arg) {
    fputs("tl pull: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(usage_text, stderr);
    return 2;
}

static void list_models(const tl_pull_registry *reg) {
    printf("%-16s %-32s %10s  %s\n", "name", "file", "size", "sha256");
    for (size_t i = 0; i < reg->n; i++) {
        const tl_pull_entry *e = &reg->items[i];
        char size[32] = "unknown";
        if (e->size) tl_pull_format_bytes(e->size, size, sizeof size);
        printf("%-16s %-32s %10s  %s\n", e->name, e->file, size,
               e->sha256 ? e->sha256 : "(none published: size/GGUF check only)");
    }
}

/* The last path component of a URL, without query or fragment; NULL if empty. */
static char *url_file_name(const char *url) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *path = strchr(p, '/');
    if (!path) return NULL;
    size_t end = strcspn(path, "?#");
    const char *last = path;
    for (size_t i = 0; i < end; i++)
        if (path[i] == '/') last = path + i + 1;
    size_t len = (size_t)(path + end - last);
    if (len == 0 || (len == 1 && last[0] == '.') || (len == 2 && strncmp(last, "..", 2) == 0))
        return NULL;
    return strndup(last, len);
}

/* dir + "/" + file */
static char *join(const char *dir, const char *file) {
    size_t n = strlen(dir);
    char *s = malloc(n + strlen(file) + 2);
    if (s) sprintf(s, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", file);
    return s;
}

/* The default destination of `file`: ~/.llm/models/FILE when that file exists
** (where older versions put models), else $XDG_CACHE_HOME/tl/models/FILE
** (default ~/.cache/tl/models/FILE). NULL with a message when HOME is unset. */
static char *default_dest(const char *file) {
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
    char *dir = NULL, *dest = NULL;
    if (home && *home && (dir = join(home, ".llm/models")) && (dest = join(dir, file))) {
        struct stat sb;
        if (stat(dest, &sb) == 0) {
            free(dir);
            return dest;
        }
    }
    free(dir);
    free(dest);
    if (xdg && *xdg)
        dir = join(xdg, "tl/models");
    else if (home && *home)
        dir = join(home, ".cache/tl/models");
    else {
        fprintf(stderr, "tl pull: neither XDG_CACHE_HOME nor HOME is set; give a destination "
                        "with --to PATH\n");
        return NULL;
    }
    dest = dir ? join(dir, file) : NULL;
    free(dir);
    if (!dest) fprintf(stderr, "tl pull: out of memory\n");
    return dest;
}

static void on_sigint(int sig) {
    (void)sig;
    tl_pull_stop = 1; /* the download stops at its next callback; a second Ctrl-C kills */
}

int tl_cmd_pull(int argc, char **argv) {
    const char *what = NULL, *to = NULL, *sha = NULL;
    unsigned long long size = 0;
    bool force = false, list = false;
    int retries = 3;
    tl_pull_progress progress = TL_PULL_PROGRESS_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--to") == 0 || strcmp(a, "--sha256") == 0 ||
                     strcmp(a, "--size") == 0 || strcmp(a, "--retries") == 0 ||
                     strcmp(a, "--progress") == 0;
        if (takes && !v) return usage_error("%s needs a value", a);
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--to") == 0 || strcmp(a, "-o") == 0) {
            to = v;
        } else if (strcmp(a, "--sha256") == 0) {
            sha = v;
        } else if (strcmp(a, "--size") == 0 || strcmp(a, "--retries") == 0) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || !*v || errno || v[0] == '-' || (a[2] == 'r' && n > 1000))
                return usage_error("bad number '%s'", v);
            if (a[2] == 's')
                size = n;
            else
                retries = (int)n;
        } else if (strcmp(a, "--progress") == 0) {
            if (strcmp(v, "bar") == 0)
                progress = TL_PULL_PROGRESS_BAR;
            else if (strcmp(v, "lines") == 0)
                progress = TL_PULL_PROGRESS_LINES;
            else if (strcmp(v, "none") == 0)
                progress = TL_PULL_PROGRESS_NONE;
            else
                return usage_error("--progress takes bar, lines or none, not '%s'", v);
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            progress = TL_PULL_PROGRESS_NONE;
        } else if (strcmp(a, "--list") == 0) {
            list = true;
        } else if (a[0] == '-' && a[1]) {
            static const char *const names[] = {"--to",       "--sha256", "--size",  "--retries",
                                                "--progress", "--force",  "--quiet", "--list",
                                                "--help",     NULL};
            tl_options_unknown("pull", a, names);
            fputs("\n", stderr);
            fputs(usage_text, stderr);
            return 2;
        } else if (!what) {
            what = a;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
        if (takes) i++;
    }
    if (to && !*to) return usage_error("%s", "--to needs a path");

    tl_pull_registry reg;
    if (tl_pull_registry_load(&reg) != TL_OK) {
        fprintf(stderr, "tl pull: %s\n", tl_last_error());
        return 1;
    }
    if (list) {
        list_models(&reg);
        tl_pull_registry_free(&reg);
        return 0;
    }
    if (!what) {
        tl_pull_registry_free(&reg);
        return usage_error("%s", "give a model name or a URL");
    }

    int code = 1;
    char *dest = NULL, *file_owned = NULL, *local_url = NULL;
    /* a local file (a path with a slash or ending in .gguf that exists): copied through
    ** file://, with the same checks as a download */
    struct stat lst;
    size_t wl = strlen(what);
    if (!strstr(what, "://") &&
        (strchr(what, '/') || (wl > 5 && !strcmp(what + wl - 5, ".gguf"))) &&
        stat(what, &lst) == 0) {
        char *real = realpath(what, NULL);
        local_url = real ? malloc(strlen(real) + 8) : NULL;
        if (local_url) sprintf(local_url, "file://%s", real);
        free(real);
        if (!local_url) {
            fprintf(stderr, "tl pull: %s: %s\n", what, strerror(errno));
            goto out;
        }
        what = local_url;
    }
    tl_pull_opts o = {.retries = retries, .progress = progress, .log = stderr, .force = force};
    const char *file;
    if (strstr(what, "://")) {
        o.url = what;
        o.size = size;
        o.sha256 = sha;
        file = file_owned = url_file_name(what);
        if (!file && !to) {
            fprintf(stderr, "tl pull: cannot tell a file name from %s; give one with --to PATH\n",
                    what);
            goto out;
        }
    } else {
        const tl_pull_entry *e = tl_pull_registry_find(&reg, what);
        if (!e) {
            fprintf(stderr, "tl pull: no model named '%s' in the registry; known names:", what);
            for (size_t i = 0; i < reg.n; i++)
                fprintf(stderr, " %s", reg.items[i].name);
            fprintf(stderr, "\n(or give a URL: tl pull https://.../model.gguf)\n");
            goto out;
        }
        o.url = e->url;
        o.size = size ? size : e->size;
        o.sha256 = sha ? sha : e->sha256;
        file = e->file;
        if (!o.sha256)
            fprintf(stderr,
                    "tl pull: warning: no published sha256 is known for '%s'; the download is "
                    "checked for %s and GGUF structure only\n",
                    e->name, o.size ? "size" : "the size the server announces");
    }
    struct stat sb;
    if (to && (stat(to, &sb) == 0 ? S_ISDIR(sb.st_mode) : to[strlen(to) - 1] == '/')) {
        if (!file) {
            fprintf(stderr, "tl pull: cannot tell a file name from %s; give one with --to PATH\n",
                    what);
            goto out;
        }
        dest = join(to, file);
    } else if (to) {
        dest = strdup(to);
    } else {
        if (!(dest = default_dest(file))) goto out;
    }
    if (!dest) {
        fprintf(stderr, "tl pull: out of memory\n");
        goto out;
    }
    o.dest = dest;

    tl_pull_result r;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    tl_status st = tl_pull(&o, &r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (st != TL_OK) {
        fprintf(stderr, "tl pull: %s\n", tl_last_error());
        if (st == TL_ERR_INTERRUPTED) code = 130;
        goto out;
    }
    if (r.already_present)
        printf("%s is already here%s\n", dest,
               r.sha256_checked ? " (sha256 verified)"
               : o.size         ? " (size matches; no sha256 to check)"
                                : " (not re-checked: nothing known to compare with)");
    else if (r.sha256_checked)
        printf("downloaded %s (size and sha256 verified)\n", dest);
    else
        printf("downloaded %s (sha256 %s; not verified: no expected sha256)\n", dest, r.sha256);
    if (tl_pull_describe(stdout, dest) != TL_OK) {
        fprintf(stderr, "tl pull: %s\n", tl_last_error());
        goto out;
    }
    printf("\nuse it with:  export TL_MODEL=%s\n", dest);
    code = 0;
out:
    free(local_url);
    free(dest);
    free(file_owned);
    tl_pull_registry_free(&reg);
    return code;
}
