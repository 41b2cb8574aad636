/* runtime/tokenizer_load.c -- picks the loader for a file: GGUF (by its magic)
** or a Hugging Face tokenizer.json (anything else). */
#include "runtime/tokenizer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tl_status tl_tokenizer_load(const char *path, tl_tokenizer **out) {
    *out = NULL;
    /* O_NONBLOCK: a FIFO with no writer is refused, not waited for */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return tl_fail(TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    int err = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
    if (err || !S_ISREG(sb.st_mode)) {
        close(fd);
        if (err) return tl_fail(TL_ERR_IO, "%s: cannot read: %s", path, strerror(err));
        return tl_fail(TL_ERR_IO, "%s: not a regular file", path);
    }
    char magic[4] = {0};
    ssize_t n = read(fd, magic, 4);
    close(fd);
    if (n == 4 && memcmp(magic, "GGUF", 4) == 0) return tl_tokenizer_from_gguf(path, out);
    return tl_tokenizer_from_json(path, out);
}
