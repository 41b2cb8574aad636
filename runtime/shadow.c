/* runtime/shadow.c -- the weight shadow thread (runtime/shadow.h). */
#include "runtime/shadow.h"

#include "runtime/dtype.h"
#include "runtime/quant/q4_0x16.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)
typedef struct shadow_item {
    tl_tensor *t; /* one reference, held until its shadow is made */
    struct shadow_item *next;
} shadow_item;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, idle = PTHREAD_COND_INITIALIZER;
static shadow_item *head, *tail;
static int pending; /* asked for and not yet finished */
static bool started;

/* bytes copied between drops of file pages (tl_shadow_set_piece for tests) */
static size_t piece_bytes = (size_t)16 << 20;

void tl_shadow_set_piece(size_t bytes) {
    pthread_mutex_lock(&mu);
    piece_bytes = bytes ? bytes : (size_t)16 << 20;
    pthread_mutex_unlock(&mu);
}

bool tl_shadow_wanted(void) {
    const char *e = getenv("TL_WEIGHT_SHADOWS");
    return !(e && strcmp(e, "0") == 0);
}

static void unmap_cb(void *ctx) {
    size_t *hdr = ctx; /* the mapping's length sits in front of it */
    munmap(hdr, hdr[0]);
}

/* bytes of anonymous memory, 2 MiB-aligned and advised for huge pages (unless
** TL_HUGE_PAGES=0), in a storage that unmaps it; NULL on failure */
static tl_storage *shadow_storage(size_t bytes) {
    size_t len = HUGE_PAGE + bytes + HUGE_PAGE;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    /* data at the first 2 MiB boundary past one header page; the rest unmapped */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *data = (char *)(((uintptr_t)raw + page + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    char *hdr = data - page;
    if (hdr > raw) munmap(raw, (size_t)(hdr - raw));
    size_t keep = page + (bytes + page - 1) / page * page;
    if (hdr + keep < raw + len) munmap(hdr + keep, (size_t)(raw + len - (hdr + keep)));
    ((size_t *)hdr)[0] = keep;
    const char *hp = getenv("TL_HUGE_PAGES");
    if (!(hp && strcmp(hp, "0") == 0)) madvise(data, bytes, MADV_HUGEPAGE);
    tl_storage *s;
    if (tl_storage_wrap(data, bytes, unmap_cb, hdr, &s) != TL_OK) {
        munmap(hdr, keep);
        return NULL;
    }
    return s;
}

/* The file pages under t's shadow, again: a linear that started before the shadow
** was published may have read some back in (sweep, below). */
static void drop_again(const tl_tensor *t) {
    const tl_storage *s = __atomic_load_n(&t->shadow, __ATOMIC_ACQUIRE);
    if (!s || t->shadow_allow != 2) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t src = (uintptr_t)tl_tensor_data(t);
    uintptr_t a = (src + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t b = (src + (size_t)t->shadow_rows * t->nb[1]) & ~(uintptr_t)(page - 1);
    if (b > a) madvise((void *)a, (size_t)(b - a), MADV_DONTNEED);
}

/* Makes and publishes t's shadow; on any failure t simply keeps none. */
static void make_shadow(tl_tensor *t) {
    const char *src = tl_tensor_data(t);
    int64_t n = t->ne[0], rows = t->ne[1];
    size_t rs = t->nb[1];
    int kind = TL_SHADOW_COPY;
    int64_t shadow_rows = rows;
    if (t->dtype == TL_DTYPE_Q4_0 && tl_q4_0x16_gemv_available() && tl_q4_0x16_gemm_available() &&
        n <= 32 * 1024) {
        kind = TL_SHADOW_Q4_0X16;
        shadow_rows = rows / 16 * 16;
    }
    size_t bytes = rs * (size_t)shadow_rows;
    if (bytes == 0) return;
    tl_storage *s = shadow_storage(bytes);
    if (!s) return;
    pthread_mutex_lock(&mu);
    size_t piece = piece_bytes;
    pthread_mutex_unlock(&mu);
    /* in pieces of about `piece` bytes, each piece's file pages dropped once it is
    ** copied (when allowed): the process never holds two copies of more than a
    ** piece; a reader of the view meanwhile reads dropped pages from the file */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t dropped = ((uintptr_t)src + page - 1) & ~(uintptr_t)(page - 1);
    int64_t step = (int64_t)(piece / rs) / 16 * 16;
    if (step < 16) step = 16;
    for (int64_t r = 0; r < shadow_rows; r += step) {
        int64_t m = shadow_rows - r < step ? shadow_rows - r : step;
        size_t off = (size_t)r * rs, len = (size_t)m * rs;
        if (kind == TL_SHADOW_Q4_0X16) /* group g sits at 16 g rs bytes, as its rows do */
            tl_q4_0x16_pack(src + off, rs, m, n, s->data + off);
        else
            memcpy(s->data + off, src + off, len);
        uintptr_t end = ((uintptr_t)src + off + len) & ~(uintptr_t)(page - 1);
        if (t->shadow_allow == 2 && end > dropped) {
            madvise((void *)dropped, (size_t)(end - dropped), MADV_DONTNEED);
            dropped = end;
        }
    }
    t->shadow_kind = (uint8_t)kind;
    t->shadow_rows = shadow_rows;
    __atomic_store_n(&t->shadow, s, __ATOMIC_RELEASE);
    drop_again(t); /* what linears read back in meanwhile (the sweep catches the rest) */
}

/* Made shadows wait in `done` (their tensors held) until the queue has been
** empty for SWEEP_MS: by then every linear that read a view instead has ended,
** and the pages they read back in are dropped once more. */
#define SWEEP_MS 100

static void *shadow_main(void *arg) {
    (void)arg;
    shadow_item *done = NULL;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (!head && !done)
            pthread_cond_wait(&work, &mu);
        if (!head) { /* only made shadows left: sweep once the queue stays empty */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += SWEEP_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            while (!head && pthread_cond_timedwait(&work, &mu, &until) == 0) {
            }
            if (!head) {
                pthread_mutex_unlock(&mu);
                int n = 0;
                while (done) {
                    shadow_item *it = done;
                    done = it->next;
                    drop_again(it->t);
                    tl_tensor_unref(it->t);
                    free(it);
                    n++;
                }
                pthread_mutex_lock(&mu);
                pending -= n;
                if (pending == 0) pthread_cond_broadcast(&idle);
                pthread_mutex_unlock(&mu);
                continue;
            }
        }
        shadow_item *it = head;
        head = it->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&mu);
        make_shadow(it->t);
        __atomic_store_n(&it->t->shadow_state, 2, __ATOMIC_RELEASE);
        it->next = done;
        done = it;
    }
    return NULL;
}

void tl_shadow_request(tl_tensor *w) {
    if (!w->shadow_allow || __atomic_load_n(&w->shadow_state, __ATOMIC_RELAXED)) return;
    uint8_t none = 0;
    if (!__atomic_compare_exchange_n(&w->shadow_state, &none, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    shadow_item *it = malloc(sizeof *it);
    if (!it) return; /* stays "asked": never retried, the view serves */
    it->t = tl_tensor_ref(w);
    it->next = NULL;
    pthread_mutex_lock(&mu);
    if (!started) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&th, &at, shadow_main, NULL) == 0;
        pthread_attr_destroy(&at);
        if (!started) {
            pthread_mutex_unlock(&mu);
            tl_tensor_unref(it->t);
            free(it);
            return;
        }
    }
    if (tail)
        tail->next = it;
    else
        head = it;
    tail = it;
    pending++;
    pthread_cond_signal(&work);
    pthread_mutex_unlock(&mu);
}

void tl_shadow_wait(void) {
    pthread_mutex_lock(&mu);
    while (pending > 0)
        pthread_cond_wait(&idle, &mu);
    pthread_mutex_unlock(&mu);
}
