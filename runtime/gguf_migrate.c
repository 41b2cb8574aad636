/* runtime/gguf_migrate.c -- TL_GGUF_MIGRATE: move a mapped file into huge pages
** in the background (declared in gguf_internal.h).
**
** The file is mapped at a 2 MiB-aligned address, so the model is usable at
** once (load stays a few milliseconds).  A thread then walks the file in
** 32 MiB pieces: it fills an anonymous, 2 MiB-aligned staging region advised
** for transparent huge pages (touch one byte per 2 MiB, then pread: the same
** order as TL_GGUF_HUGE_PAGES) and moves it over the same addresses of the
** mapping with mremap(MREMAP_FIXED).  mremap replaces the old pages by the
** new ones in one step under the address-space lock: a thread reading the
** weights meanwhile sees either the file page or the copy, never a hole
** (a fault during the move waits for the lock), and both hold the same
** bytes, so every pointer into the mapping stays valid and every result
** stays bit-identical; nothing in the forward pass has to switch or wait.
** The kernel moves whole page-table entries, so the 2 MiB pages survive the
** move.  The last partial 2 MiB of the file stay file pages.
**
** Left out (the mapping stays as it is) when the file is smaller than
** TL_MIGRATE_MIN (TL_HUGE_PAGES=background lowers that to 2 MiB), when
** transparent huge pages are off ("never"), or when TL_HUGE_PAGES=0.  Any failure simply stops the
*walk: the rest stays
** mapped from the file, which is correct, only slower. */
#include "runtime/gguf_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIG_PAGE       ((size_t)2 << 20)
#define MIG_PIECE      ((size_t)32 << 20)
#define TL_MIGRATE_MIN ((size_t)64 << 20)

struct tl_gguf_migration {
    pthread_t thread;
    int fd;
    char *base;  /* the mapping, 2 MiB-aligned */
    size_t size; /* whole 2 MiB pages to move  */
    int stop;    /* set by tl_gguf_migrate_stop */
    int done;    /* bytes moved / MIG_PAGE, read by tests and benchmarks */
    bool joined;
};

/* Whether transparent huge pages can be had with madvise at all. */
static bool thp_available(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return false;
    char buf[128] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, "[never]") == NULL && n > 0;
}

bool tl_gguf_migrate_wanted(size_t file_size) {
    const char *hp = getenv("TL_HUGE_PAGES");
    if (hp && strcmp(hp, "0") == 0) return false;
    /* TL_HUGE_PAGES=background: any file with a whole 2 MiB (tests use it on small models) */
    size_t min = hp && strcmp(hp, "background") == 0 ? MIG_PAGE : TL_MIGRATE_MIN;
    return file_size >= min && thp_available();
}

static bool read_all(int fd, char *dst, size_t n, size_t off) {
    while (n) {
        ssize_t got = pread(fd, dst, n, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        dst += got, off += (size_t)got, n -= (size_t)got;
    }
    return true;
}

static void *migrate_main(void *arg) {
    struct tl_gguf_migration *mg = arg;
    for (size_t off = 0; off < mg->size; off += MIG_PIECE) {
        if (__atomic_load_n(&mg->stop, __ATOMIC_ACQUIRE)) break;
        size_t n = mg->size - off < MIG_PIECE ? mg->size - off : MIG_PIECE;
        /* A fresh 2 MiB-aligned anonymous piece: only the aligned part of this
        ** reservation is ever written or moved; the rest is unmapped after. */
        char *raw =
            mmap(NULL, n + MIG_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) break;
        char *b = (char *)(((uintptr_t)raw + MIG_PAGE - 1) & ~(uintptr_t)(MIG_PAGE - 1));
        madvise(b, n, MADV_HUGEPAGE);
        for (size_t t = 0; t < n; t += MIG_PAGE)
            b[t] = 0;
        bool ok = read_all(mg->fd, b, n, off) &&
                  mremap(b, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, mg->base + off) != MAP_FAILED;
        if (!ok) {
            munmap(raw, n + MIG_PAGE);
            break;
        }
        if (b > raw) munmap(raw, (size_t)(b - raw));
        if (b + n < raw + n + MIG_PAGE) munmap(b + n, (size_t)(raw + n + MIG_PAGE - (b + n)));
        __atomic_store_n(&mg->done, (int)((off + n) / MIG_PAGE), __ATOMIC_RELEASE);
    }
    return NULL;
}

struct tl_gguf_migration *tl_gguf_migrate_start(int fd, void *base, size_t file_size) {
    struct tl_gguf_migration *mg = calloc(1, sizeof *mg);
    if (!mg) return NULL;
    mg->fd = dup(fd);
    mg->base = base;
    mg->size = file_size / MIG_PAGE * MIG_PAGE;
    if (mg->fd >= 0 && pthread_create(&mg->thread, NULL, migrate_main, mg) == 0) return mg;
    if (mg->fd >= 0) close(mg->fd);
    free(mg);
    return NULL;
}

void tl_gguf_migrate_stop(struct tl_gguf_migration *mg) {
    if (!mg) return;
    __atomic_store_n(&mg->stop, 1, __ATOMIC_RELEASE);
    if (!mg->joined) pthread_join(mg->thread, NULL);
    close(mg->fd);
    free(mg);
}

size_t tl_gguf_migrated_bytes(const tl_gguf *g) {
    return g->migration ? (size_t)__atomic_load_n(&g->migration->done, __ATOMIC_ACQUIRE) * MIG_PAGE
                        : 0;
}

void tl_gguf_migrate_wait(const tl_gguf *g) {
    if (!g->migration || g->migration->joined) return;
    pthread_join(g->migration->thread, NULL);
    g->migration->joined = true;
}
