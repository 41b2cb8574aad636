/* runtime/gguf_open.c -- opening a GGUF file: mapped (2 MiB-aligned, so the
** background move into huge pages can follow, gguf_migrate.c) or read into huge
** pages at load (TL_GGUF_HUGE_PAGES); the parsing is gguf.c's. */
#include "runtime/gguf.h"

#include "runtime/gguf_internal.h"
#include "runtime/open_regular.h"
#include "runtime/threadpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

tl_status tl_gguf_open(const char *path, tl_gguf **out) {
    return tl_gguf_open_ex(path, 0, out);
}

/* TL_GGUF_HUGE_PAGES: the file read into a 2 MiB-aligned anonymous region
** advised for transparent huge pages, in 32 MiB pieces spread over the thread
** pool.  Each piece first touches one byte per 2 MiB (the kernel then zeroes
** whole huge pages: reading into untouched huge pages measured 5x slower),
** then preads its part of the file. */
#define HUGE_PAGE  ((size_t)2 << 20)
#define HUGE_PIECE ((size_t)32 << 20)

typedef struct huge_read {
    int fd;
    char *p;
    size_t size;
    int failed;
} huge_read;

static void read_pieces(void *ctx, int64_t begin, int64_t end) {
    huge_read *h = ctx;
    for (int64_t i = begin; i < end; i++) {
        size_t a = (size_t)i * HUGE_PIECE, b = a + HUGE_PIECE < h->size ? a + HUGE_PIECE : h->size;
        for (size_t t = a; t < b; t += HUGE_PAGE)
            h->p[t] = 0;
        for (size_t off = a; off < b;) {
            ssize_t got = pread(h->fd, h->p + off, b - off, (off_t)off);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                __atomic_store_n(&h->failed, 1, __ATOMIC_RELAXED);
                return;
            }
            off += (size_t)got;
        }
    }
}

/* Returns the file's first byte, or MAP_FAILED (nothing held) when the
** region cannot be had or a read fails (the caller then maps the file). */
static void *read_huge(int fd, size_t size, void **raw, size_t *raw_len) {
    size_t len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE + HUGE_PAGE;
    void *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return MAP_FAILED;
    char *p = (char *)(((uintptr_t)r + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    madvise(p, len - (size_t)(p - (char *)r), MADV_HUGEPAGE); /* a hint: 4 KiB pages also work */
    huge_read h = {fd, p, size, 0};
    tl_parallel_for((int64_t)((size + HUGE_PIECE - 1) / HUGE_PIECE), 1, read_pieces, &h);
    if (h.failed) {
        munmap(r, len);
        return MAP_FAILED;
    }
    *raw = r;
    *raw_len = len;
    return p;
}

/* TL_GGUF_MIGRATE: the file mapped at a 2 MiB-aligned address inside a
** reservation (*raw, *raw_len: munmap that), so the background copy can use
** 2 MiB pages at the same addresses.  MAP_FAILED (nothing held) on failure. */
static void *map_aligned(int fd, size_t size, void **raw, size_t *raw_len) {
    size_t len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE + HUGE_PAGE;
    void *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return MAP_FAILED;
    char *p = (char *)(((uintptr_t)r + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (mmap(p, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(r, len);
        return MAP_FAILED;
    }
    *raw = r;
    *raw_len = len;
    return p;
}

tl_status tl_gguf_open_ex(const char *path, unsigned flags, tl_gguf **out) {
    *out = NULL;
    struct stat sb;
    int fd = tl_open_regular(path, &sb); /* a FIFO is refused, never waited for */
    if (fd < 0 && errno) return tl_fail(TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fd < 0) return tl_fail(TL_ERR_IO, "%s: not a regular file", path);
    if (sb.st_size == 0) {
        close(fd);
        return tl_fail(TL_ERR_FORMAT, "%s: empty file (not a GGUF file)", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return tl_fail(TL_ERR_IO, "%s: file too large to map", path);
    }
    size_t size = (size_t)sb.st_size, raw_len = 0;
    void *raw = NULL, *m = MAP_FAILED;
    if (flags & TL_GGUF_HUGE_PAGES) m = read_huge(fd, size, &raw, &raw_len);
    bool migrate = m == MAP_FAILED && (flags & TL_GGUF_MIGRATE) && tl_gguf_migrate_wanted(size);
    if (migrate) m = map_aligned(fd, size, &raw, &raw_len);
    /* Private and writable: a stray write into a weight copies one page instead of crashing. */
    if (m == MAP_FAILED) m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int e = errno;
    struct tl_gguf_migration *mg = migrate && raw ? tl_gguf_migrate_start(fd, m, size) : NULL;
    close(fd);
    if (m == MAP_FAILED) return tl_fail(TL_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
    tl_gguf *g = tl_gguf_alloc(path);
    if (!g) {
        tl_gguf_migrate_stop(mg);
        if (raw)
            munmap(raw, raw_len);
        else
            munmap(m, size);
        return tl_fail(TL_ERR_NOMEM, "out of memory");
    }
    g->base = m;
    g->size = size;
    g->mapped = true;
    g->map_raw = raw;
    g->map_len = raw_len;
    g->flags = flags;
    g->migration = mg;
    return tl_gguf_finish_open(g, out);
}
