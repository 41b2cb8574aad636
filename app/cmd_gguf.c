/* app/cmd_gguf.c -- `tl gguf FILE`: metadata (long arrays elided) and the tensor table. */
#include "app/cmd_gguf.h"
#include "app/options.h"

#include <stdlib.h>
#include <string.h>

#define ARRAY_PREVIEW  8  /* array elements shown before eliding  */
#define STRING_PREVIEW 80 /* string bytes shown before eliding    */

/* A key or tensor name from the file, for a table cell: control bytes and DEL
** become '?' so a hostile name cannot drive the terminal; cut at cap - 1 bytes. */
static const char *safe_name(const char *s, char *buf, size_t cap) {
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[i] = (ch < 32 || ch == 127) ? '?' : (char)ch;
    }
    buf[i] = 0;
    return buf;
}

/* A string with C-style escapes, cut at max bytes (0 = no limit). */
static void put_string(FILE *out, const char *s, size_t len, size_t max) {
    size_t n = (max && len > max) ? max : len;
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            if (ch < 32 || ch == 127)
                fprintf(out, "\\x%02x", ch);
            else
                fputc(ch, out); /* UTF-8 bytes pass through */
        }
    }
    fputc('"', out);
    if (n < len) fprintf(out, "... (%zu bytes)", len);
}

/* The shortest decimal that reads back as the same float32 / float64. */
static void put_float(FILE *out, double d, bool single) {
    char buf[40];
    for (int prec = single ? 6 : 15; prec <= (single ? 9 : 17); prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (single ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    fputs(buf, out);
}

static void put_elem(FILE *out, const tl_gguf_kv *kv, uint64_t i, bool full) {
    switch (kv->elem_type) {
    case TL_GGUF_STRING: {
        const char *s;
        size_t len;
        if (tl_gguf_kv_string(kv, i, &s, &len)) put_string(out, s, len, full ? 0 : STRING_PREVIEW);
        break;
    }
    case TL_GGUF_BOOL: {
        bool b = false;
        tl_gguf_kv_bool(kv, i, &b);
        fputs(b ? "true" : "false", out);
        break;
    }
    case TL_GGUF_FLOAT32:
    case TL_GGUF_FLOAT64: {
        double d = 0;
        tl_gguf_kv_float(kv, i, &d);
        put_float(out, d, kv->elem_type == TL_GGUF_FLOAT32);
        break;
    }
    case TL_GGUF_UINT64: {
        uint64_t u = 0;
        tl_gguf_kv_uint(kv, i, &u);
        fprintf(out, "%llu", (unsigned long long)u);
        break;
    }
    default: {
        int64_t v = 0;
        tl_gguf_kv_int(kv, i, &v);
        fprintf(out, "%lld", (long long)v);
    }
    }
}

static void put_value(FILE *out, const tl_gguf_kv *kv, bool full) {
    if (kv->type != TL_GGUF_ARRAY) {
        put_elem(out, kv, 0, full);
        return;
    }
    uint64_t shown = (full || kv->count <= ARRAY_PREVIEW) ? kv->count : ARRAY_PREVIEW;
    fputc('[', out);
    for (uint64_t i = 0; i < shown; i++) {
        if (i) fputs(", ", out);
        put_elem(out, kv, i, full);
    }
    if (shown < kv->count) fputs(", ...", out);
    fputc(']', out);
    if (shown < kv->count) fprintf(out, " (%llu items)", (unsigned long long)kv->count);
}

void tl_gguf_dump(FILE *out, const tl_gguf *g, const tl_gguf_dump_opts *opts) {
    if (opts->meta) {
        fprintf(out, "%s: GGUF v%u, %zu bytes, alignment %zu, data at offset %zu\n",
                tl_gguf_path(g), tl_gguf_version(g), tl_gguf_file_size(g), tl_gguf_alignment(g),
                tl_gguf_data_offset(g));
        fprintf(out, "\nmetadata (%lld keys):\n", (long long)tl_gguf_n_kv(g));
        for (int64_t i = 0; i < tl_gguf_n_kv(g); i++) {
            const tl_gguf_kv *kv = tl_gguf_kv_at(g, i);
            char type[32];
            if (kv->type == TL_GGUF_ARRAY)
                snprintf(type, sizeof type, "%s[]", tl_gguf_type_name(kv->elem_type));
            else
                snprintf(type, sizeof type, "%s", tl_gguf_type_name(kv->type));
            char name[512];
            fprintf(out, "  %-44s %-10s ", safe_name(kv->key, name, sizeof name), type);
            put_value(out, kv, opts->full);
            fputc('\n', out);
        }
    }
    if (opts->tensors) {
        if (opts->meta) fputc('\n', out);
        int64_t n = tl_gguf_n_tensors(g);
        size_t total = 0;
        for (int64_t i = 0; i < n; i++)
            total += tl_gguf_tensor_at(g, i)->nbytes;
        fprintf(out, "tensors (%lld, %zu bytes; shape in .tl order = ne reversed):\n", (long long)n,
                total);
        if (n) {
            fprintf(out, "  %5s  %-36s %-6s %-20s %12s %12s\n", "#", "name", "type", "shape",
                    "offset", "bytes");
        }
        for (int64_t i = 0; i < n; i++) {
            const tl_gguf_tensor_info *t = tl_gguf_tensor_at(g, i);
            char shape[96];
            size_t used = (size_t)snprintf(shape, sizeof shape, "[");
            for (int d = t->n_dims - 1; d >= 0; d--)
                used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld",
                                         d == t->n_dims - 1 ? "" : ", ", (long long)t->ne[d]);
            snprintf(shape + used, sizeof shape - used, "]");
            char name[512];
            fprintf(out, "  %5lld  %-36s %-6s %-20s %12llu %12zu\n", (long long)i,
                    safe_name(t->name, name, sizeof name), tl_gguf_ggml_type_name(t->type_id),
                    shape, (unsigned long long)t->offset, t->nbytes);
        }
    }
}

static int usage_to(FILE *f) {
    fputs("usage: tl gguf [--all] [--meta | --tensors] FILE\n"
          "  print a GGUF file's metadata and tensor table\n"
          "  --all      do not elide long arrays and strings\n"
          "  --meta     only the header and metadata\n"
          "  --tensors  only the tensor table\n",
          f);
    return 2;
}

static int usage(void) {
    return usage_to(stderr);
}

static const char *const gguf_options[] = {"--all", "--meta", "--tensors", "--help", NULL};

int tl_cmd_gguf(int argc, char **argv) {
    tl_gguf_dump_opts opts = {.full = false, .meta = true, .tensors = true};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            opts.full = true;
        else if (strcmp(argv[i], "--meta") == 0)
            opts.tensors = false;
        else if (strcmp(argv[i], "--tensors") == 0)
            opts.meta = false;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage_to(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            tl_options_unknown("gguf", argv[i], gguf_options);
            return usage();
        } else if (path)
            return usage();
        else
            path = argv[i];
    }
    if (!path || (!opts.meta && !opts.tensors)) return usage();
    tl_gguf *g;
    if (tl_gguf_open_ex(path, TL_GGUF_ANY_TENSOR_TYPE, &g) != TL_OK) {
        fprintf(stderr, "tl gguf: %s\n", tl_last_error());
        return 1;
    }
    tl_gguf_dump(stdout, g, &opts);
    tl_gguf_close(g);
    return fflush(stdout) == 0 ? 0 : 1;
}
