/* lang/builtins/default_model.c -- default_model(): the model the example scripts use.
**
** TL_MODEL when set; else TinyLlama (tinyllama-1.1b-chat-q4_0.gguf) where `tl pull` puts it,
** ${XDG_CACHE_HOME:-~/.cache}/tl/models/, or where older versions did, ~/.llm/models/, when it
** exists there; else the tiny llama trained in .tl (models/tiny_llama_q8_0.gguf, docs/learning.md),
** which is compiled into the binary: it is written (when absent or different) to
** ${XDG_CACHE_HOME:-~/.cache}/tl/tiny_llama_q8_0.gguf (atomically) and that path is returned,
** with one line on stderr saying so.  So the examples run on a machine with no network. */
#include "lang/atomic_file.h"
#include "lang/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TL_DEFAULT_MODEL_FILE
#error "TL_DEFAULT_MODEL_FILE (the GGUF to embed) is set by lang/CMakeLists.txt"
#endif

/* The file's bytes, placed in .rodata by the assembler.  The labels are global
** but hidden, and declared hidden below, so the compiler addresses them
** PC-relative: through the GOT, references to two local labels of one section
** became one GOT slot on aarch64 (the section's, the offsets lost), which made
** the length 0 (docs/platforms.md). */
__asm__(".pushsection .rodata\n"
        ".balign 32\n"
        ".globl tl_default_model_bytes\n"
        ".hidden tl_default_model_bytes\n"
        ".globl tl_default_model_bytes_end\n"
        ".hidden tl_default_model_bytes_end\n"
        "tl_default_model_bytes:\n"
        ".incbin \"" TL_DEFAULT_MODEL_FILE "\"\n"
        "tl_default_model_bytes_end:\n"
        ".popsection\n");
__attribute__((visibility("hidden"))) extern const unsigned char
    tl_default_model_bytes[] __asm__("tl_default_model_bytes");
__attribute__((visibility("hidden"))) extern const unsigned char
    tl_default_model_bytes_end[] __asm__("tl_default_model_bytes_end");

#define TINYLLAMA_FILE "tinyllama-1.1b-chat-q4_0.gguf"
#define TINYLLAMA      "~/.llm/models/" TINYLLAMA_FILE

/* Does the file at path hold exactly these bytes?  (A cache written by an older tl holds
** another model of the same size.) */
static bool same_bytes(const char *path, const unsigned char *want, size_t len) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char buf[65536];
    size_t at = 0, n;
    bool same = true;
    while (same && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        same = at + n <= len && memcmp(buf, want + at, n) == 0;
        at += n;
    }
    fclose(f);
    return same && at == len;
}

static bool exists(const char *path, long long *size) {
    char buf[4096];
    const char *home = getenv("HOME");
    if (path[0] == '~' && path[1] == '/' && home) {
        int len = snprintf(buf, sizeof buf, "%s%s", home, path + 1);
        if (len < 0 || (size_t)len >= sizeof buf) return false; /* no such path */
        path = buf;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return false;
    if (size) *size = (long long)sb.st_size;
    return true;
}

static tl_status b_default_model(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    (void)argc;
    (void)argv;
    const char *env = getenv("TL_MODEL");
    if (env && *env) return tl_value_cstring(env, out);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096], path[4200];
    /* where `tl pull` puts it, then where older versions did */
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/tl/models/" TINYLLAMA_FILE, xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.cache/tl/models/" TINYLLAMA_FILE, home);
    else
        path[0] = '\0';
    if (path[0] && exists(path, NULL)) return tl_value_cstring(path, out);
    if (exists(TINYLLAMA, NULL)) return tl_value_cstring(TINYLLAMA, out);
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/tl", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/tl", home);
    else
        return tl_fail(TL_ERR_IO,
                       "%s: no TL_MODEL, no TinyLlama, and no HOME to unpack the "
                       "built-in model into",
                       c->name);
    snprintf(path, sizeof path, "%s/tiny_llama_q8_0.gguf", dir);
    size_t len = (size_t)(tl_default_model_bytes_end - tl_default_model_bytes);
    long long have = -1;
    if (!exists(path, &have) || have != (long long)len ||
        !same_bytes(path, tl_default_model_bytes, len)) {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            mkdir(parent, 0777); /* ~/.cache */
        }
        mkdir(dir, 0777);
        tl_status st = tl_atomic_write(path, tl_default_model_bytes, len, c->name, false);
        if (st != TL_OK) return st;
    }
    fprintf(stderr, "tl: no TinyLlama and TL_MODEL unset: using the built-in tiny llama "
                    "(docs/learning.md)\n");
    return tl_value_cstring(path, out);
}

const tl_builtin_def tl_builtins_default_model[] = {
    {"default_model", 0, 0, b_default_model,
     "default_model() -> string (TL_MODEL, else TinyLlama, else the built-in tiny llama)", 0},
    {0},
};
