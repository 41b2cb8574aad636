/* bench/tokenize.c -- how fast tl tokenizes (and detokenizes) a large English text.
**
**   bench_tokenize VOCAB.gguf|tokenizer.json [TEXT_FILE] [--mb N] [--reps R]
**
** Without TEXT_FILE the text is Debian's license texts (every file in /usr/share/common-licenses,
** plain English) repeated up to N MB (default 1).  Prints the best and median of R
** runs (default 5).  The target (issue 5): 1 MB in under 0.5 s. */
#include "runtime/tokenizer.h"

#include "bench_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int append_file(const char *path, char **buf, size_t *len, size_t *cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (*len + got > *cap) {
            *cap = (*len + got) * 2;
            *buf = realloc(*buf, *cap);
            if (!*buf) {
                fclose(f);
                return -1;
            }
        }
        memcpy(*buf + *len, chunk, got);
        *len += got;
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    const char *vocab = NULL, *file = NULL;
    double mb = 1.0;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
            mb = atof(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!vocab)
            vocab = argv[i];
        else
            file = argv[i];
    }
    if (!vocab || reps < 1 || mb <= 0) {
        fprintf(stderr,
                "usage: bench_tokenize VOCAB.gguf|tokenizer.json [TEXT] [--mb N] [--reps R]\n");
        return 2;
    }
    char *src = NULL;
    size_t src_len = 0, cap = 0;
    if (file) {
        if (append_file(file, &src, &src_len, &cap)) {
            fprintf(stderr, "cannot read %s\n", file);
            return 1;
        }
    } else {
        const char *dir = "/usr/share/common-licenses";
        DIR *d = opendir(dir);
        struct dirent *e;
        char *names[64];
        int n_names = 0;
        while (d && (e = readdir(d)) && n_names < 64)
            if (e->d_name[0] != '.') names[n_names++] = strdup(e->d_name);
        if (d) closedir(d);
        for (int i = 0; i < n_names; i++) { /* sorted: the same text every run */
            for (int j = i + 1; j < n_names; j++)
                if (strcmp(names[j], names[i]) < 0) {
                    char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        }
        for (int i = 0; i < n_names; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            append_file(path, &src, &src_len, &cap);
            free(names[i]);
        }
        if (!src_len) {
            fprintf(stderr, "no text: pass a TEXT file\n");
            return 1;
        }
    }
    size_t want = (size_t)(mb * 1024 * 1024);
    char *text = malloc(want);
    for (size_t k = 0; k < want; k++)
        text[k] = src[k % src_len];
    free(src);

    tl_tokenizer *tok;
    double t0 = bench_now();
    if (tl_tokenizer_load(vocab, &tok)) {
        fprintf(stderr, "%s\n", tl_last_error());
        return 1;
    }
    double t_load = bench_now() - t0;

    double *tt = malloc(sizeof(double) * (size_t)reps), *td = malloc(sizeof(double) * (size_t)reps);
    size_t n_ids = 0;
    for (int r = 0; r < reps; r++) {
        int32_t *ids;
        double a = bench_now();
        if (tl_tokenize(tok, text, want, true, false, &ids, &n_ids)) {
            fprintf(stderr, "%s\n", tl_last_error());
            return 1;
        }
        double b = bench_now();
        char *back;
        size_t back_len;
        tl_detokenize(tok, ids, n_ids, true, false, &back, &back_len);
        double c = bench_now();
        tt[r] = b - a;
        td[r] = c - b;
        free(back);
        free(ids);
    }
    qsort(tt, (size_t)reps, sizeof *tt, bench_cmp_double);
    qsort(td, (size_t)reps, sizeof *td, bench_cmp_double);
    printf("vocab %s (%d tokens, %s), load %.1f ms\n", vocab, tl_tokenizer_n_vocab(tok),
           tl_tokenizer_kind(tok), t_load * 1e3);
    printf("text %.2f MB -> %zu tokens (%.2f bytes/token)\n", (double)want / 1048576.0, n_ids,
           (double)want / (double)n_ids);
    printf("tokenize:   best %.3f s, median %.3f s  (%.2f MB/s, %.0f tokens/s)\n", tt[0],
           tt[reps / 2], (double)want / 1048576.0 / tt[reps / 2], (double)n_ids / tt[reps / 2]);
    printf("detokenize: best %.3f s, median %.3f s\n", td[0], td[reps / 2]);
    free(tt);
    free(td);
    free(text);
    tl_tokenizer_free(tok);
    return 0;
}
