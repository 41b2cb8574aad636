/* runtime/gguf.h -- GGUF files: a validating mmap reader and a writer.
**
** Reader.  tl_gguf_open() maps the file read-only and validates everything
** before returning: magic, version (2 or 3), counts against the file size,
** string and array lengths, value and tensor type ids, dims, overflow-safe
** sizes, general.alignment, each tensor's alignment and data range, and that
** no two tensors' data overlap.  After a successful open every pointer this
** API hands out lies inside the mapping, so callers never need bounds checks.
** Errors (TL_ERR_FORMAT, TL_ERR_UNSUPPORTED, TL_ERR_IO, TL_ERR_NOMEM) name the
** file and the key or tensor, e.g.
**     "m.gguf: tensor 'blk.3.attn_q.weight': data [a, b) ends past end of file (size n)".
**
** A tl_gguf is refcounted: tl_gguf_ref()/tl_gguf_close() (close = unref).
** Tensors that view its data (runtime/model.h) hold a reference so the
** mapping outlives the model object that made them.  Refcounts are atomic.
**
** Metadata values stay in the mapping (little-endian, unaligned); read them
** with the accessors below, never by casting kv->data.  Keys and scalar string
** values are also copied out NUL-terminated.  String array elements are
** (pointer, length) pairs into the mapping and are NOT NUL-terminated.
**
** Writer.  tl_gguf_writer collects key/values (any type, arrays, string
** arrays) and tensors (any tl_tensor, copied at save time), then writes a
** GGUF v3 file the way ggml does: tensors in order, each padded to the
** alignment with zeros.  It writes a hidden ".PATH.tmp-PID-N" beside PATH and
** renames it over PATH when complete (runtime/temp_file.h), so a failed or
** interrupted save never leaves a half-written PATH, never replaces another
** file, and (unless killed by SIGKILL) leaves no temporary file. */
#ifndef TL_RUNTIME_GGUF_H
#define TL_RUNTIME_GGUF_H

#include "runtime/dtype.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types, numbered as in the file. */
typedef enum tl_gguf_type {
    TL_GGUF_UINT8 = 0,
    TL_GGUF_INT8 = 1,
    TL_GGUF_UINT16 = 2,
    TL_GGUF_INT16 = 3,
    TL_GGUF_UINT32 = 4,
    TL_GGUF_INT32 = 5,
    TL_GGUF_FLOAT32 = 6,
    TL_GGUF_BOOL = 7,
    TL_GGUF_STRING = 8,
    TL_GGUF_ARRAY = 9,
    TL_GGUF_UINT64 = 10,
    TL_GGUF_INT64 = 11,
    TL_GGUF_FLOAT64 = 12,
    TL_GGUF_TYPE_COUNT
} tl_gguf_type;

#define TL_GGUF_DEFAULT_ALIGNMENT 32
#define TL_GGUF_MAX_DIMS          4
#define TL_GGUF_MAX_NAME          63 /* bytes in a tensor name (ggml: 64 with NUL) */
#define TL_GGUF_MAX_STRING        ((uint64_t)1 << 30) /* longest string / largest array count */

/* "uint32", "string", "array", ... ("?" for an invalid id). */
const char *tl_gguf_type_name(tl_gguf_type t);
/* Bytes of one scalar of type t; 0 for STRING, ARRAY and invalid ids. */
size_t tl_gguf_type_size(tl_gguf_type t);
/* The ggml name of any ggml tensor type id, including the ones tl does not
** support ("iq2_xxs", "tq1_0", ...); NULL for ids ggml never had or removed. */
const char *tl_gguf_ggml_type_name(int ggml_type);

typedef struct tl_gguf tl_gguf;

/* One key/value pair.  Owned by the tl_gguf; valid until it is closed. */
typedef struct tl_gguf_kv {
    const char *key; /* NUL-terminated copy                                    */
    size_t key_len;
    tl_gguf_type type;       /* the value's type                                        */
    tl_gguf_type elem_type;  /* for ARRAY: the element type; else == type                */
    uint64_t count;          /* ARRAY: element count; scalars and STRING: 1              */
    const uint8_t *data;     /* in the mapping: the scalar, the string's bytes, or the
                                first array element (strings: its u64 length field)     */
    const char *str;         /* STRING: NUL-terminated copy of the value; else NULL      */
    uint64_t str_len;        /* STRING: its length                                       */
    const uint64_t *str_pos; /* ARRAY of STRING: byte offset of element i from data      */
} tl_gguf_kv;

typedef struct tl_gguf_tensor_info {
    const char *name; /* NUL-terminated copy                                */
    int type_id;      /* as in the file (== dtype here)                     */
    tl_dtype dtype;
    int n_dims;                   /* 0..4                                               */
    int64_t ne[TL_GGUF_MAX_DIMS]; /* ggml order: ne[0] contiguous; unused dims are 1    */
    uint64_t offset;              /* relative to the data section                       */
    uint64_t file_offset;         /* absolute offset in the file                        */
    size_t nbytes;                /* bytes of data                                      */
    const void *data;             /* in the mapping (nbytes readable)                   */
} tl_gguf_tensor_info;

/* ---- reader --------------------------------------------------------------- */

/* Maps and validates a file.  *out is NULL on failure. */
tl_status tl_gguf_open(const char *path, tl_gguf **out);
/* The same over bytes in memory (not copied: keep them alive until the last
** unref).  name is used in messages. */
tl_status tl_gguf_open_memory(const void *data, size_t size, const char *name, tl_gguf **out);
/* Flags for the _ex variants. */
enum {
    /* Accept every tensor type ggml knows (IQ*, TQ*, ...) with dtype TL_DTYPE_COUNT, for
    ** listing files (`tl gguf`); loaders must not use it. */
    TL_GGUF_ANY_TENSOR_TYPE = 1u << 0,
    /* Read the file into anonymous memory backed by 2 MiB pages (transparent huge
    ** pages, MADV_HUGEPAGE) instead of mapping it: one copy of the file, no file
    ** pages kept mapped, and a 2 MiB page per TLB entry.  The one-token matmuls
    ** stream 8 rows at a time; with 4 KiB file pages they pay a page walk and a
    ** restarted hardware prefetch every 4 KiB (TinyLlama-shaped Q4_0 at 2
    ** threads: 40 -> 48 tok/s).  Costs a read of the whole file at open (about
    ** 0.1-0.4 s for 637 MB from the page cache).  Falls back to the mapping when
    ** the memory cannot be had. */
    TL_GGUF_HUGE_PAGES = 1u << 1,
    /* Map the file (load costs nothing) and move it into 2 MiB pages in the
    ** background, 32 MiB at a time, each piece swapped in place with mremap:
    ** the addresses and bytes never change, so readers need no switch (see
    ** runtime/gguf_migrate.c).  Generation then reaches TL_GGUF_HUGE_PAGES's
    ** speed once the walk is done.  Ignored for files under 64 MiB, when the
    ** kernel has transparent huge pages off, or with TL_HUGE_PAGES=0;
    ** TL_GGUF_HUGE_PAGES takes precedence. */
    TL_GGUF_MIGRATE = 1u << 2,
};
tl_status tl_gguf_open_ex(const char *path, unsigned flags, tl_gguf **out);
tl_status tl_gguf_open_memory_ex(const void *data, size_t size, const char *name, unsigned flags,
                                 tl_gguf **out);
/* TL_GGUF_MIGRATE: bytes moved into huge pages so far (0 without it), and a
** wait for the walk to finish (tests, benchmarks; not concurrently). */
size_t tl_gguf_migrated_bytes(const tl_gguf *g);
void tl_gguf_migrate_wait(const tl_gguf *g);
tl_gguf *tl_gguf_ref(tl_gguf *g);
void tl_gguf_close(tl_gguf *g); /* drops one reference; accepts NULL */
/* The same as tl_gguf_close, typed for a tl_storage release callback. */
void tl_gguf_release_cb(void *g);

const char *tl_gguf_path(const tl_gguf *g);
uint32_t tl_gguf_version(const tl_gguf *g);
size_t tl_gguf_alignment(const tl_gguf *g);
size_t tl_gguf_data_offset(const tl_gguf *g); /* where the data section starts */
size_t tl_gguf_file_size(const tl_gguf *g);
const void *tl_gguf_base(const tl_gguf *g); /* the whole mapping */

/* ---- metadata ------------------------------------------------------------- */
int64_t tl_gguf_n_kv(const tl_gguf *g);
const tl_gguf_kv *tl_gguf_kv_at(const tl_gguf *g, int64_t i);
/* NULL when the key is absent (no error recorded). */
const tl_gguf_kv *tl_gguf_find(const tl_gguf *g, const char *key);

/* Element i of a value (i = 0 for a scalar), converted.  False when the type
** does not convert (e.g. a string as an int, a u64 above INT64_MAX, i out of
** range); nothing is recorded with tl_fail. */
bool tl_gguf_kv_int(const tl_gguf_kv *kv, uint64_t i, int64_t *out);   /* any integer type, bool */
bool tl_gguf_kv_uint(const tl_gguf_kv *kv, uint64_t i, uint64_t *out); /* non-negative integers */
bool tl_gguf_kv_float(const tl_gguf_kv *kv, uint64_t i, double *out);  /* any number           */
bool tl_gguf_kv_bool(const tl_gguf_kv *kv, uint64_t i, bool *out);     /* BOOL only            */
/* A string value (i = 0) or element i of a string array; not NUL-terminated
** for array elements (use len). */
bool tl_gguf_kv_string(const tl_gguf_kv *kv, uint64_t i, const char **s, size_t *len);

/* Typed getters by key.  They fail with TL_ERR_RANGE "F: key 'K' not found"
** or TL_ERR_TYPE "F: key 'K' is a string, expected uint32" (integer getters
** accept any integer type whose value fits; f32 accepts any number). */
tl_status tl_gguf_get_u32(const tl_gguf *g, const char *key, uint32_t *out);
tl_status tl_gguf_get_i32(const tl_gguf *g, const char *key, int32_t *out);
tl_status tl_gguf_get_u64(const tl_gguf *g, const char *key, uint64_t *out);
tl_status tl_gguf_get_i64(const tl_gguf *g, const char *key, int64_t *out);
tl_status tl_gguf_get_f32(const tl_gguf *g, const char *key, float *out);
tl_status tl_gguf_get_f64(const tl_gguf *g, const char *key, double *out);
tl_status tl_gguf_get_bool(const tl_gguf *g, const char *key, bool *out);
/* *s is NUL-terminated and owned by g; len may be NULL. */
tl_status tl_gguf_get_string(const tl_gguf *g, const char *key, const char **s, size_t *len);
/* An array whose elements have type elem_type (pass TL_GGUF_TYPE_COUNT for any). */
tl_status tl_gguf_get_array(const tl_gguf *g, const char *key, tl_gguf_type elem_type,
                            const tl_gguf_kv **out);

/* ---- tensors -------------------------------------------------------------- */
int64_t tl_gguf_n_tensors(const tl_gguf *g);
const tl_gguf_tensor_info *tl_gguf_tensor_at(const tl_gguf *g, int64_t i);
const tl_gguf_tensor_info *tl_gguf_find_tensor(const tl_gguf *g, const char *name); /* or NULL */

/* ---- writer --------------------------------------------------------------- */
typedef struct tl_gguf_writer tl_gguf_writer;

tl_status tl_gguf_writer_new(tl_gguf_writer **out);
void tl_gguf_writer_free(tl_gguf_writer *w); /* accepts NULL */

/* Setting a key that exists replaces its value in place (order is kept).
** "general.alignment" must be a UINT32 power of two; it sets the padding. */
tl_status tl_gguf_writer_set_scalar(tl_gguf_writer *w, const char *key, tl_gguf_type type,
                                    const void *value); /* value: a C scalar of that type */
tl_status tl_gguf_writer_set_u32(tl_gguf_writer *w, const char *key, uint32_t v);
tl_status tl_gguf_writer_set_i32(tl_gguf_writer *w, const char *key, int32_t v);
tl_status tl_gguf_writer_set_u64(tl_gguf_writer *w, const char *key, uint64_t v);
tl_status tl_gguf_writer_set_i64(tl_gguf_writer *w, const char *key, int64_t v);
tl_status tl_gguf_writer_set_f32(tl_gguf_writer *w, const char *key, float v);
tl_status tl_gguf_writer_set_f64(tl_gguf_writer *w, const char *key, double v);
tl_status tl_gguf_writer_set_bool(tl_gguf_writer *w, const char *key, bool v);
tl_status tl_gguf_writer_set_string(tl_gguf_writer *w, const char *key, const char *s, size_t len);
/* An array of scalars: count C values of elem_type packed in data. */
tl_status tl_gguf_writer_set_array(tl_gguf_writer *w, const char *key, tl_gguf_type elem_type,
                                   const void *data, uint64_t count);
/* An array of strings (lens may be NULL: NUL-terminated strings). */
tl_status tl_gguf_writer_set_string_array(tl_gguf_writer *w, const char *key,
                                          const char *const *strs, const size_t *lens,
                                          uint64_t count);
/* Copies a key/value read by tl_gguf (any type). */
tl_status tl_gguf_writer_copy_kv(tl_gguf_writer *w, const tl_gguf_kv *kv);
bool tl_gguf_writer_remove(tl_gguf_writer *w, const char *key);

/* Adds a tensor (a new reference is kept; its data is copied at save time).
** At most 4 dims; any layout (views are made contiguous).  Names must be
** unique and at most 63 bytes. */
tl_status tl_gguf_writer_add_tensor(tl_gguf_writer *w, const char *name, tl_tensor *t);

/* A tensor made only when the file is written (and dropped right after), so a
** converter never holds all converted tensors at once.  produce must return a
** new reference to a tensor of exactly dtype dt and dims ne; ctx must stay
** valid until save or free.  Its error aborts the save. */
typedef tl_status (*tl_gguf_tensor_producer)(void *ctx, tl_tensor **out);
tl_status tl_gguf_writer_add_tensor_lazy(tl_gguf_writer *w, const char *name, tl_dtype dt,
                                         int n_dims, const int64_t *ne,
                                         tl_gguf_tensor_producer produce, void *ctx);

/* Writes the file: a hidden temporary file beside PATH (runtime/temp_file.h),
** synced, then renamed over PATH; on failure PATH is unchanged. */
tl_status tl_gguf_writer_save(tl_gguf_writer *w, const char *path);

#endif
