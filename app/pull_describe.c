/* app/pull_describe.c -- what `tl pull` says about a model file: GGUF version, size,
** architecture, name and tensor type mix; and byte counts for humans. */
#include "app/pull.h"

#include "runtime/gguf.h"

#include <stdlib.h>

void tl_pull_format_bytes(uint64_t n, char *buf, size_t len) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
}

typedef struct type_use {
    int type_id;
    int64_t count;
    uint64_t bytes;
} type_use;

static int by_bytes_desc(const void *a, const void *b) {
    const type_use *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : x->type_id - y->type_id;
}

tl_status tl_pull_describe(FILE *out, const char *path) {
    tl_gguf *g = NULL;
    tl_status st = tl_gguf_open_ex(path, TL_GGUF_ANY_TENSOR_TYPE, &g);
    if (st) return st;
    const tl_gguf_kv *arch = tl_gguf_find(g, "general.architecture");
    const tl_gguf_kv *name = tl_gguf_find(g, "general.name");
    char size[32];
    tl_pull_format_bytes(tl_gguf_file_size(g), size, sizeof size);
    fprintf(out, "%s: GGUF v%u, %s (%zu bytes)\n", path, tl_gguf_version(g), size,
            tl_gguf_file_size(g));
    fprintf(out, "  architecture: %s", arch && arch->str ? arch->str : "(not set)");
    if (name && name->str) fprintf(out, ", name: %s", name->str);
    fputc('\n', out);
    type_use uses[64];
    int n_uses = 0;
    int64_t n = tl_gguf_n_tensors(g);
    for (int64_t i = 0; i < n; i++) {
        const tl_gguf_tensor_info *t = tl_gguf_tensor_at(g, i);
        int k = 0;
        while (k < n_uses && uses[k].type_id != t->type_id)
            k++;
        if (k == n_uses) {
            if (n_uses == (int)(sizeof uses / sizeof uses[0])) continue;
            uses[n_uses++] = (type_use){t->type_id, 0, 0};
        }
        uses[k].count++;
        uses[k].bytes += t->nbytes;
    }
    qsort(uses, (size_t)n_uses, sizeof uses[0], by_bytes_desc);
    fprintf(out, "  tensors: %lld", (long long)n);
    for (int k = 0; k < n_uses; k++) {
        const char *tn = tl_gguf_ggml_type_name(uses[k].type_id);
        char b[32];
        tl_pull_format_bytes(uses[k].bytes, b, sizeof b);
        fprintf(out, "%s %lld %s (%s)", k ? "," : ":", (long long)uses[k].count, tn ? tn : "?", b);
    }
    fputc('\n', out);
    tl_gguf_close(g);
    return TL_OK;
}
