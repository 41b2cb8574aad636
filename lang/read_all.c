/* lang/read_all.c -- bounded, interruptible whole-file reads (see lang/read_all.h). */
#include "lang/read_all.h"

#include "lang/eval.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t tl_read_limit(tl_read_kind kind) {
    const char *e = getenv("TL_MAX_READ_BYTES");
    if (e && *e) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(e, &end, 10);
        if (!*end && !errno && v > 0 && e[0] != '-' && v <= SIZE_MAX / 2) return (size_t)v;
    }
    return kind == TL_READ_SOURCE ? TL_READ_SOURCE_LIMIT : TL_READ_DATA_LIMIT;
}

static tl_status interrupted(void) {
    tl_interrupt_requested = 0;
    return tl_fail(TL_ERR_INTERRUPTED, "interrupted");
}

tl_status tl_read_fd(int fd, const char *who, const char *path, size_t limit, tl_strbuf *b) {
    char buf[1 << 16];
    size_t total = 0;
    for (;;) {
        if (tl_interrupt_requested) return interrupted();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            return tl_fail(TL_ERR_IO, "%s: cannot read '%s': %s", who, path, strerror(errno));
        if (r <= 0) continue; /* timeout or a signal: check Ctrl-C again */
        size_t want = sizeof buf;
        if (limit - total < want) want = limit - total + 1; /* one byte past shows "too large" */
        ssize_t n = read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return tl_fail(TL_ERR_IO, "%s: cannot read '%s': %s", who, path,
                           strerror(errno == EISDIR ? EISDIR : errno));
        }
        if (n == 0) break;
        if ((size_t)n > limit - total)
            return tl_fail(TL_ERR_NOMEM,
                           "%s: '%s' is larger than the read limit of %zu bytes (set "
                           "TL_MAX_READ_BYTES to change it)",
                           who, path, limit);
        total += (size_t)n;
        tl_strbuf_append(b, buf, (size_t)n);
        if (b->oom) return tl_fail(TL_ERR_NOMEM, "%s: '%s' does not fit in memory", who, path);
    }
    return TL_OK;
}

tl_status tl_read_path(const char *path, const char *who, tl_read_kind kind, tl_strbuf *b) {
    /* O_NONBLOCK: open() of a FIFO without a writer would block beyond Ctrl-C's
    ** reach; the polling loop waits for the writer instead. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return tl_fail(TL_ERR_IO, "%s: cannot open '%s': %s", who, path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        int err = S_ISDIR(sb.st_mode) ? EISDIR : errno;
        close(fd);
        return tl_fail(TL_ERR_IO, "%s: cannot read '%s': %s", who, path, strerror(err));
    }
    tl_status st = tl_read_fd(fd, who, path, tl_read_limit(kind), b);
    close(fd);
    return st;
}

tl_status tl_check_path_bytes(const char *path, size_t len, const char *who) {
    const char *nul = memchr(path, '\0', len);
    if (nul)
        return tl_fail(TL_ERR_ARG, "%s: a path cannot contain a NUL byte (at offset %zu)", who,
                       (size_t)(nul - path));
    return TL_OK;
}
