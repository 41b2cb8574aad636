/* lang/atomic_file.c -- temp file + fsync + rename (see lang/atomic_file.h). */
#include "lang/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned tmp_counter;

static tl_status io_fail(const tl_atomic_file *af, const char *what, int err) {
    return tl_fail(TL_ERR_IO, "%s: cannot %s '%s': %s", af->who, what, af->path, strerror(err));
}

static void clear(tl_atomic_file *af) {
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
    af->f = NULL;
}

/* Copies the existing target into the temp file (for appends). */
static tl_status copy_existing(tl_atomic_file *af, int src) {
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(src, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_fail(af, "read", errno);
        }
        if (n == 0) return TL_OK;
        if (fwrite(buf, 1, (size_t)n, af->f) != (size_t)n) return io_fail(af, "write", errno);
    }
}

tl_status tl_atomic_open(tl_atomic_file *af, const char *path, const char *who,
                         bool keep_contents) {
    memset(af, 0, sizeof *af);
    af->who = who;
    af->path = strdup(path);
    if (!af->path) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", who);
    if (!*path) {
        clear(af);
        return tl_fail(TL_ERR_IO, "%s: cannot open '': %s", who, strerror(ENOENT));
    }
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        tl_status st = io_fail(af, "write", EISDIR);
        clear(af);
        return st;
    }
    /* dir/.name.tmp-PID-N next to the target */
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    size_t cap = strlen(path) + 64;
    af->tmp = malloc(cap);
    if (!af->tmp) {
        clear(af);
        return tl_fail(TL_ERR_NOMEM, "%s: out of memory", who);
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(af->tmp, cap, "%.*s.%s.tmp-%ld-%u", (int)dir_len, path, base, (long)getpid(),
                 tmp_counter++);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        tl_status st = io_fail(af, "open", errno);
        clear(af);
        return st;
    }
    if (exists) (void)fchmod(fd, sb.st_mode & 07777);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        tl_status st = io_fail(af, "open", errno);
        close(fd);
        unlink(af->tmp);
        clear(af);
        return st;
    }
    if (keep_contents && exists) {
        int src = open(path, O_RDONLY | O_CLOEXEC);
        tl_status st = src < 0 ? io_fail(af, "read", errno) : copy_existing(af, src);
        if (src >= 0) close(src);
        if (st != TL_OK) {
            tl_atomic_abort(af);
            return st;
        }
    }
    return TL_OK;
}

void tl_atomic_abort(tl_atomic_file *af) {
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    clear(af);
}

tl_status tl_atomic_commit(tl_atomic_file *af) {
    int err = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(af->f)) != 0 && errno != EINVAL) err = errno;
    if (fclose(af->f) != 0 && !err) err = errno;
    af->f = NULL;
    if (!err && rename(af->tmp, af->path) != 0) err = errno;
    if (err) {
        tl_status st = io_fail(af, "write", err);
        unlink(af->tmp);
        clear(af);
        return st;
    }
    /* make the rename itself durable (best effort: not every fs allows it) */
    const char *slash = strrchr(af->path, '/');
    char *dir = slash ? strndup(af->path, (size_t)(slash - af->path) + 1) : strdup(".");
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    clear(af);
    return TL_OK;
}

tl_status tl_atomic_write(const char *path, const void *data, size_t len, const char *who,
                          bool append) {
    tl_atomic_file af;
    tl_status st = tl_atomic_open(&af, path, who, append);
    if (st != TL_OK) return st;
    if (len && fwrite(data, 1, len, af.f) != len) {
        st = io_fail(&af, "write", errno ? errno : EIO);
        tl_atomic_abort(&af);
        return st;
    }
    return tl_atomic_commit(&af);
}
