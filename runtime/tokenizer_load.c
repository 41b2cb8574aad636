/* runtime/tokenizer_load.c -- picks the loader for a file: GGUF (by its magic)
** or a Hugging Face tokenizer.json (anything else). */
#include "runtime/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

tl_status tl_tokenizer_load(const char *path, tl_tokenizer **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return tl_fail(TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    int err = n < 4 && ferror(f) ? errno : 0; /* a directory opens, then fails to read */
    fclose(f);
    if (err) return tl_fail(TL_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    if (n == 4 && memcmp(magic, "GGUF", 4) == 0) return tl_tokenizer_from_gguf(path, out);
    return tl_tokenizer_from_json(path, out);
}
