/* runtime/tokenizer_load.c -- picks the loader for a file: GGUF (by its magic)
** or a Hugging Face tokenizer.json (anything else). */
#include "runtime/tokenizer.h"

#include "runtime/open_regular.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tl_status tl_tokenizer_load(const char *path, tl_tokenizer **out) {
    *out = NULL;
    struct stat sb;
    int fd = tl_open_regular(path, &sb); /* a FIFO is refused, never waited for */
    if (fd < 0 && errno) return tl_fail(TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fd < 0 && S_ISDIR(sb.st_mode))
        return tl_fail(TL_ERR_IO, "%s: cannot read: %s", path, strerror(EISDIR));
    if (fd < 0) return tl_fail(TL_ERR_IO, "%s: not a regular file", path);
    char magic[4] = {0};
    ssize_t n = read(fd, magic, 4);
    close(fd);
    if (n == 4 && memcmp(magic, "GGUF", 4) == 0) return tl_tokenizer_from_gguf(path, out);
    return tl_tokenizer_from_json(path, out);
}
