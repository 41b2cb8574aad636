/* lang/atomic_file.c -- temp file + fsync + rename, or a direct write to a
** device or FIFO (see lang/atomic_file.h). */
#include "lang/atomic_file.h"

#include "lang/eval.h"
#include "lang/read_all.h"
#include "runtime/temp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tl_status io_fail(const tl_atomic_file *af, const char *what, int err) {
    return tl_fail(TL_ERR_IO, "%s: cannot %s '%s': %s", af->who, what, af->path, strerror(err));
}

static void clear(tl_atomic_file *af) {
    if (af->tmp) tl_temp_forget(af->tmp);
    free(af->path);
    free(af->target);
    free(af->tmp);
    free(af->mem);
    if (af->fd >= 0) close(af->fd);
    af->path = af->target = af->tmp = af->mem = NULL;
    af->fd = -1;
    af->f = NULL;
}

/* Follows symlinks at path (at most 40) to the file they name, which may not
** exist yet (a dangling link is written through, as the shell does). */
static tl_status resolve(tl_atomic_file *af, char **out) {
    char *cur = strdup(af->path);
    for (int hops = 0; cur; hops++) {
        struct stat lsb;
        if (lstat(cur, &lsb) != 0 || !S_ISLNK(lsb.st_mode)) {
            *out = cur;
            return TL_OK;
        }
        if (hops == 40) {
            free(cur);
            return io_fail(af, "write", ELOOP);
        }
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) {
            int err = errno;
            free(cur);
            return io_fail(af, "write", err);
        }
        link[n] = 0;
        const char *slash = strrchr(cur, '/');
        char *next;
        if (link[0] == '/' || !slash) {
            next = strdup(link);
        } else {
            size_t dl = (size_t)(slash - cur) + 1;
            next = malloc(dl + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, dl);
                memcpy(next + dl, link, (size_t)n + 1);
            }
        }
        free(cur);
        cur = next;
    }
    return tl_fail(TL_ERR_NOMEM, "%s: out of memory", af->who);
}

/* Copies the first `size` bytes of the existing target into the temporary file
** (for appends): bounded by the size seen at open and the data read limit, so
** a file that grows while it is copied cannot make this endless; Ctrl-C stops it. */
static tl_status copy_existing(tl_atomic_file *af, int src, off_t size) {
    size_t limit = tl_read_limit(TL_READ_DATA);
    if ((uint64_t)size > limit)
        return tl_fail(TL_ERR_NOMEM,
                       "%s: '%s' is larger than the read limit of %zu bytes (set "
                       "TL_MAX_READ_BYTES to change it)",
                       af->who, af->path, limit);
    char buf[1 << 16];
    size_t left = (size_t)size;
    while (left) {
        if (tl_interrupt_requested) {
            tl_interrupt_requested = 0;
            return tl_fail(TL_ERR_INTERRUPTED, "interrupted");
        }
        ssize_t n = read(src, buf, left < sizeof buf ? left : sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_fail(af, "read", errno);
        }
        if (n == 0) break; /* the file shrank: append to what is there */
        if (fwrite(buf, 1, (size_t)n, af->f) != (size_t)n) return io_fail(af, "write", errno);
        left -= (size_t)n;
    }
    return TL_OK;
}

/* A character device or a FIFO (or a regular file that cannot be replaced
** without changing its owner) is opened and written in place at commit. */
static tl_status open_direct(tl_atomic_file *af, bool append, bool is_fifo) {
    /* a regular file is truncated at commit, not here: an error before then
    ** must leave it as it was */
    int flags = O_WRONLY | O_CLOEXEC | O_NONBLOCK | (append ? O_APPEND : 0);
    af->fd = open(af->target, flags);
    if (af->fd < 0) {
        if (is_fifo && errno == ENXIO)
            return tl_fail(TL_ERR_IO, "%s: cannot write '%s': no process is reading the FIFO",
                           af->who, af->path);
        return io_fail(af, "open", errno);
    }
    af->f = open_memstream(&af->mem, &af->mem_len);
    if (!af->f) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", af->who);
    return TL_OK;
}

/* Writes the buffered bytes to the device / FIFO: non-blocking with poll, so a
** reader that stops reading cannot hang the program beyond Ctrl-C. */
static tl_status write_direct(tl_atomic_file *af) {
    size_t done = 0;
    struct stat sb;
    if (!(fcntl(af->fd, F_GETFL) & O_APPEND) && fstat(af->fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        ftruncate(af->fd, 0) != 0)
        return io_fail(af, "write", errno);
    while (done < af->mem_len) {
        if (tl_interrupt_requested) {
            tl_interrupt_requested = 0;
            return tl_fail(TL_ERR_INTERRUPTED, "interrupted");
        }
        ssize_t n = write(af->fd, af->mem + done, af->mem_len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = af->fd, .events = POLLOUT};
                (void)poll(&p, 1, 100);
                continue;
            }
            return io_fail(af, "write", errno);
        }
        done += (size_t)n;
    }
    return TL_OK;
}

static tl_status open_temp(tl_atomic_file *af, const struct stat *sb, bool exists) {
    /* dir/.name.tmp-PID-N next to the target (runtime/temp_file.h) */
    char *tmp;
    int fd, err = tl_temp_create(af->target, &tmp, &fd);
    if (err == ENOMEM) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", af->who);
    if (err) return io_fail(af, "open", err);
    af->tmp = tmp;
    if (exists) {
        /* the new file keeps the old one's permission bits and group */
        (void)fchmod(fd, sb->st_mode & 07777);
        if (sb->st_gid != getegid()) (void)fchown(fd, (uid_t)-1, sb->st_gid);
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        err = errno;
        close(fd);
        unlink(af->tmp);
        return io_fail(af, "open", err);
    }
    return TL_OK;
}

tl_status tl_atomic_open(tl_atomic_file *af, const char *path, const char *who,
                         bool keep_contents) {
    memset(af, 0, sizeof *af);
    af->fd = -1;
    af->who = who;
    af->path = strdup(path);
    if (!af->path) return tl_fail(TL_ERR_NOMEM, "%s: out of memory", who);
    if (!*path) {
        clear(af);
        return tl_fail(TL_ERR_IO, "%s: cannot open '': %s", who, strerror(ENOENT));
    }
    tl_status st = resolve(af, &af->target);
    if (st != TL_OK) {
        clear(af);
        return st;
    }
    struct stat sb;
    bool exists = stat(af->target, &sb) == 0;
    int werr = 0;
    if (!exists && errno != ENOENT) {
        st = io_fail(af, "open", errno);
    } else if (exists && S_ISDIR(sb.st_mode)) {
        st = io_fail(af, "write", EISDIR);
    } else if (exists && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
        st = open_direct(af, keep_contents, S_ISFIFO(sb.st_mode));
        af->direct = true;
    } else if (exists && !S_ISREG(sb.st_mode)) {
        st = tl_fail(TL_ERR_IO,
                     "%s: cannot write '%s': it is not a regular file, a character device or "
                     "a FIFO",
                     who, path);
    } else if (exists && (werr = access(af->target, W_OK) == 0 ? 0 : errno,
                          werr || !(sb.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))) {
        /* a read-only file (or /proc/version) is not replaced behind its back,
        ** not even by root, whom access() always lets write */
        st = io_fail(af, "write", werr ? werr : EACCES);
    } else if (exists && sb.st_uid != geteuid()) {
        /* replacing it would make it ours: write it in place instead */
        st = open_direct(af, keep_contents, false);
        af->direct = true;
    } else {
        st = open_temp(af, &sb, exists);
        if (st == TL_OK && keep_contents && exists) {
            int src = open(af->target, O_RDONLY | O_CLOEXEC);
            st = src < 0 ? io_fail(af, "read", errno) : copy_existing(af, src, sb.st_size);
            if (src >= 0) close(src);
        }
    }
    if (st != TL_OK) {
        tl_atomic_abort(af);
        return st;
    }
    return TL_OK;
}

void tl_atomic_abort(tl_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp) unlink(af->tmp);
    clear(af);
}

static tl_status commit_direct(tl_atomic_file *af) {
    int err = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) err = errno ? errno : EIO;
    fclose(af->f);
    af->f = NULL;
    tl_status st = err ? tl_fail(TL_ERR_NOMEM, "%s: out of memory", af->who) : write_direct(af);
    clear(af);
    return st;
}

tl_status tl_atomic_commit(tl_atomic_file *af) {
    if (af->direct) return commit_direct(af);
    int err = 0;
    if (fflush(af->f) != 0 || ferror(af->f)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(af->f)) != 0 && errno != EINVAL) err = errno;
    if (fclose(af->f) != 0 && !err) err = errno;
    af->f = NULL;
    if (!err && rename(af->tmp, af->target) != 0) err = errno;
    if (err) {
        tl_status st = io_fail(af, "write", err);
        unlink(af->tmp);
        clear(af);
        return st;
    }
    /* make the rename itself durable (best effort: not every fs allows it) */
    const char *slash = strrchr(af->target, '/');
    char *dir = slash ? strndup(af->target, (size_t)(slash - af->target) + 1) : strdup(".");
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
