/* runtime/gguf_internal.h -- the reader's private state, shared by gguf.c and the writer. */
#ifndef TL_RUNTIME_GGUF_INTERNAL_H
#define TL_RUNTIME_GGUF_INTERNAL_H

#include "runtime/gguf.h"

struct tl_gguf {
    int32_t refcount;
    char *path;          /* for messages                              */
    const uint8_t *base; /* the mapping (or caller's memory)          */
    size_t size;
    bool mapped;    /* munmap on destroy                         */
    void *map_raw;  /* with TL_GGUF_HUGE_PAGES: the anonymous      */
    size_t map_len; /* region base lies in (munmap this instead)   */
    unsigned flags; /* TL_GGUF_* open flags                      */
    /* TL_GGUF_MIGRATE's thread, or NULL */
    struct tl_gguf_migration *migration;
    uint32_t version;
    int64_t n_tensors, n_kv;
    int64_t n_kv_parsed, n_tensors_parsed; /* entries whose strings are allocated */
    size_t alignment, data_offset;
    tl_gguf_kv *kvs;
    int64_t *kv_slots; /* hash table: index + 1, 0 = empty */
    size_t kv_cap;
    tl_gguf_tensor_info *tensors;
    int64_t *tensor_slots;
    size_t tensor_cap;
};

/* TL_GGUF_MIGRATE (gguf_migrate.c): whether to move a file of this size (env
** and kernel allow it); start the thread over the 2 MiB-aligned mapping base
** (fd is duplicated; NULL when the thread cannot be had); stop and join it
** (before the mapping goes; accepts NULL). */
bool tl_gguf_migrate_wanted(size_t file_size);
struct tl_gguf_migration *tl_gguf_migrate_start(int fd, void *base, size_t file_size);
void tl_gguf_migrate_stop(struct tl_gguf_migration *mg);

/* gguf.c for gguf_open.c: a zeroed handle named `name` (NULL when out of
** memory); parse g's bytes and hand it out, or destroy it and fail. */
tl_gguf *tl_gguf_alloc(const char *name);
tl_status tl_gguf_finish_open(tl_gguf *g, tl_gguf **out);

/* True for the ggml type ids tl loads as tensors (the tl_dtype ids below 31). */
bool tl_gguf_dtype_ok(int id);

#endif
