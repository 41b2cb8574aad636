/* tests/unit/test_gguf_malformed.c -- the malformed-file corpus.
**
** A small generator builds a valid base file and one mutation of it per case
** (truncated at every section, bad magic/version, huge counts and lengths, bad
** value and tensor type ids, bad names and dims, out-of-range, misaligned and
** overlapping offsets, overflows).  Each case is written to a file and opened
** with tl_gguf_open (and from an exact-size heap copy, so the sanitizer build
** catches any read past the end); it must fail with the expected substring,
** or succeed for the few valid variants.  Then every prefix of the base file
** and every single-byte corruption of its header are opened: no crash, and
** every prefix that cuts into needed bytes must fail.
**
** `test_gguf_malformed DIR` also writes the corpus to DIR (for `tl gguf`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/gguf.h"

/* ---- a growable byte buffer ------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void u32(buf *b, uint32_t v) {
    put(b, &v, 4);
}
static void i32(buf *b, int32_t v) {
    put(b, &v, 4);
}
static void u64(buf *b, uint64_t v) {
    put(b, &v, 8);
}
static void i64(buf *b, int64_t v) {
    put(b, &v, 8);
}
static void str(buf *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static void zeros(buf *b, size_t n) {
    static const uint8_t z[256];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        put(b, z, k);
        n -= k;
    }
}

/* ---- the cases -------------------------------------------------------------- */

enum {
    BASE_OK,
    V2_OK,
    ALIGN_64_OK,
    EMPTY_TENSOR_OK,
    NO_TENSORS_OK,
    BAD_MAGIC,
    V0,
    V1,
    V4,
    V_BIGENDIAN,
    NT_NEG,
    NKV_NEG,
    NT_HUGE,
    NKV_HUGE,
    KEY_HUGE,
    KEY_PAST_END,
    KEY_EMPTY,
    KEY_DUP,
    VTYPE_BAD,
    VTYPE_NEG,
    STR_HUGE,
    STR_PAST_END,
    ARR_ELEM_BAD,
    ARR_NESTED,
    ARR_HUGE,
    ARR_PAST_END,
    SARR_PAST_END,
    ALIGN_U64,
    ALIGN_48,
    ALIGN_0,
    TNAME_LONG,
    TNAME_DUP,
    TNAME_NUL,
    NDIMS_5,
    DIM_NEG,
    DIMS_OVERFLOW,
    BYTES_OVERFLOW,
    TYPE_IQ,
    TYPE_TQ,
    TYPE_REMOVED,
    TYPE_HUGE,
    TYPE_NEG,
    TYPE_40,
    IQ_LISTED,
    Q40_ROW,
    OFF_MISALIGNED,
    DATA_UNALIGNED,
    OFF_PAST_END,
    OFF_OVERLAP,
    OFF_OVERFLOW,
    DATA_TRUNC,
    /* truncated inside each section of the base file */
    TR_MAGIC,
    TR_VERSION,
    TR_NTENSORS,
    TR_NKV,
    TR_KEY_LEN,
    TR_KEY,
    TR_VTYPE,
    TR_STRVAL,
    TR_U32VAL,
    TR_ARR_HDR,
    TR_ARR_BODY,
    TR_TNAME,
    TR_NDIMS,
    TR_NE,
    TR_TTYPE,
    TR_TOFFSET,
    TR_PADDING,
    N_CASES
};

typedef struct expect {
    const char *name;
    const char *msg; /* NULL: the file is valid */
    tl_status status;
} expect;

#define F TL_ERR_FORMAT
#define U TL_ERR_UNSUPPORTED
static const expect cases[N_CASES] = {
    [BASE_OK] = {"base_ok", NULL, TL_OK},
    [V2_OK] = {"v2_ok", NULL, TL_OK},
    [ALIGN_64_OK] = {"align_64_ok", NULL, TL_OK},
    [EMPTY_TENSOR_OK] = {"empty_tensor_ok", NULL, TL_OK},
    [NO_TENSORS_OK] = {"no_tensors_ok", NULL, TL_OK},
    [BAD_MAGIC] = {"bad_magic", "not a GGUF file (bad magic 47 47 55 58)", F},
    [V0] = {"version_0", "unsupported GGUF version 0", F},
    [V1] = {"version_1", "GGUF version 1 is no longer supported", F},
    [V4] = {"version_4", "unsupported GGUF version 4", F},
    [V_BIGENDIAN] = {"version_big_endian", "big-endian", F},
    [NT_NEG] = {"n_tensors_negative", "negative tensor count -1", F},
    [NKV_NEG] = {"n_kv_negative", "negative key/value count -1", F},
    [NT_HUGE] = {"n_tensors_huge", "absurd tensor count 4611686018427387904", F},
    [NKV_HUGE] = {"n_kv_huge", "absurd key/value count 1152921504606846976", F},
    [KEY_HUGE] = {"key_len_huge", "key 0 has absurd length 1099511627776", F},
    [KEY_PAST_END] = {"key_len_past_end", "truncated file: key 0 of length 100000", F},
    [KEY_EMPTY] = {"key_empty", "key 0 is empty", F},
    [KEY_DUP] = {"key_duplicate", "key 'general.architecture' appears twice", F},
    [VTYPE_BAD] = {"value_type_13", "key 'general.architecture': invalid value type 13", F},
    [VTYPE_NEG] = {"value_type_negative", "invalid value type -1", F},
    [STR_HUGE] = {"string_len_huge", "string value has absurd length 2147483648", F},
    [STR_PAST_END] = {"string_len_past_end",
                      "truncated file: key 'general.architecture': string value of length 100000",
                      F},
    [ARR_ELEM_BAD] = {"array_elem_type_13", "key 'llama.scores': invalid array element type 13", F},
    [ARR_NESTED] = {"array_nested", "key 'llama.scores': arrays of arrays are not supported", F},
    [ARR_HUGE] = {"array_count_huge", "key 'llama.scores': array has absurd length 2147483648", F},
    [ARR_PAST_END] = {"array_count_past_end", "array of 1000000 float32", F},
    [SARR_PAST_END] = {"string_array_past_end", "key 'tokenizer.ggml.tokens': string 1 of length",
                       F},
    [ALIGN_U64] = {"alignment_u64", "key 'general.alignment' is uint64, must be uint32", F},
    [ALIGN_48] = {"alignment_48", "key 'general.alignment' is 48, must be a power of two", F},
    [ALIGN_0] = {"alignment_0", "key 'general.alignment' is 0, must be a power of two", F},
    [TNAME_LONG] = {"tensor_name_64", "is 64 bytes (limit 63)", F},
    [TNAME_DUP] = {"tensor_name_duplicate", "tensor 'a' appears twice", F},
    [TNAME_NUL] = {"tensor_name_nul", "tensor 1: name contains a NUL byte", F},
    [NDIMS_5] = {"n_dims_5", "tensor 'a': 5 dims (at most 4)", F},
    [DIM_NEG] = {"dim_negative", "tensor 'a': dim 1 is negative (-2)", F},
    [DIMS_OVERFLOW] = {"dims_overflow", "tensor 'a': dims [4294967296, 4294967296, 1, 1] overflow",
                       F},
    [BYTES_OVERFLOW] = {"bytes_overflow", "tensor 'a': byte size overflows", F},
    [TYPE_IQ] = {"type_iq2_xxs", "tensor 'blk.0.b': unsupported tensor type iq2_xxs (16)", U},
    [TYPE_TQ] = {"type_tq1_0", "tensor 'blk.0.b': unsupported tensor type tq1_0 (34)", U},
    [TYPE_REMOVED] = {"type_removed_4", "tensor 'blk.0.b': unsupported tensor type 4", F},
    [TYPE_HUGE] = {"type_1000", "tensor 'blk.0.b': unsupported tensor type 1000", F},
    [TYPE_NEG] = {"type_negative", "tensor 'blk.0.b': unsupported tensor type -3", F},
    [TYPE_40] = {"type_40", "tensor 'blk.0.b': unsupported tensor type nvfp4 (40)", U},
    [IQ_LISTED] = {"type_iq4_xs_256", "tensor 'blk.0.b': unsupported tensor type iq4_xs (23)", U},
    [Q40_ROW] = {"q4_0_row_48", "row length 48 is not a multiple of the q4_0 block size 32", F},
    [DATA_UNALIGNED] = {"data_unaligned_for_type",
                        "tensor 'a': data at byte 305 is not aligned to 4 bytes as f32 requires "
                        "(general.alignment is 1)",
                        F},
    [OFF_MISALIGNED] = {"offset_misaligned",
                        "tensor 'blk.0.b': offset 72 is not a multiple of the alignment 32", F},
    [OFF_PAST_END] = {"offset_past_end", "tensor 'blk.0.b': data [", F},
    [OFF_OVERLAP] = {"offset_overlap", "overlaps tensor 'a'", F},
    [OFF_OVERFLOW] = {"offset_overflow", "tensor 'blk.0.b': data offset", F},
    [DATA_TRUNC] = {"data_truncated", "ends past end of file (size", F},
    [TR_MAGIC] = {"trunc_magic", "truncated file: magic", F},
    [TR_VERSION] = {"trunc_version", "truncated file: version", F},
    [TR_NTENSORS] = {"trunc_n_tensors", "truncated file: tensor count", F},
    [TR_NKV] = {"trunc_n_kv", "truncated file: key/value count", F},
    [TR_KEY_LEN] = {"trunc_key_len", "truncated file: key 0 at byte 24", F},
    [TR_KEY] = {"trunc_key", "truncated file: key 0 of length 20", F},
    [TR_VTYPE] = {"trunc_value_type", "truncated file: key 'general.architecture': value type", F},
    [TR_STRVAL] = {"trunc_string_value", "truncated file: key 'general.architecture': string", F},
    [TR_U32VAL] = {"trunc_u32_value", "truncated file: key 'general.alignment': uint32 value", F},
    [TR_ARR_HDR] = {"trunc_array_header", "truncated file: key 'tokenizer.ggml.tokens': array", F},
    [TR_ARR_BODY] = {"trunc_array_body", "truncated file: key 'llama.scores': array of 3", F},
    [TR_TNAME] = {"trunc_tensor_name", "truncated file: name of tensor 0", F},
    [TR_NDIMS] = {"trunc_n_dims", "truncated file: tensor 'a': dims", F},
    [TR_NE] = {"trunc_ne", "truncated file: tensor 'a': dims", F},
    [TR_TTYPE] = {"trunc_tensor_type", "truncated file: tensor 'a': type and offset", F},
    [TR_TOFFSET] = {"trunc_tensor_offset", "truncated file: tensor 'blk.0.b': type and offset", F},
    [TR_PADDING] = {"trunc_padding", "tensor 'a': data [", F},
};
#undef F
#undef U

/* Offsets inside the base file where each truncation case cuts. */
typedef struct marks {
    size_t version, n_tensors, n_kv, key0, key0_bytes, vtype0, value0, value1, arr_hdr, arr2_body,
        tname0, ndims0, ne0, type0, offset1, data;
} marks;

/* Builds the base file with case c's mutation applied. */
static void build(int c, buf *b, marks *mk) {
    marks m = {0};
    b->n = 0;
    put(b, c == BAD_MAGIC ? "GGUX" : "GGUF", 4);
    m.version = b->n;
    uint32_t version = 3;
    if (c == V2_OK) version = 2;
    if (c == V0) version = 0;
    if (c == V1) version = 1;
    if (c == V4) version = 4;
    if (c == V_BIGENDIAN) version = 0x03000000;
    u32(b, version);
    bool no_tensors = c == NO_TENSORS_OK;
    m.n_tensors = b->n;
    i64(b, c == NT_NEG ? -1 : c == NT_HUGE ? (int64_t)1 << 62 : no_tensors ? 0 : 2);
    m.n_kv = b->n;
    i64(b, c == NKV_NEG ? -1 : c == NKV_HUGE ? (int64_t)1 << 60 : 4);

    /* kv 0: general.architecture = "llama" */
    m.key0 = b->n;
    if (c == KEY_HUGE)
        u64(b, (uint64_t)1 << 40);
    else if (c == KEY_PAST_END)
        u64(b, 100000);
    else if (c == KEY_EMPTY)
        u64(b, 0);
    else
        u64(b, 20);
    m.key0_bytes = b->n;
    if (c != KEY_EMPTY) put(b, "general.architecture", 20);
    m.vtype0 = b->n;
    i32(b, c == VTYPE_BAD ? 13 : c == VTYPE_NEG ? -1 : TL_GGUF_STRING);
    m.value0 = b->n;
    u64(b, c == STR_HUGE ? (uint64_t)1 << 31 : c == STR_PAST_END ? 100000 : 5);
    put(b, "llama", 5);

    /* kv 1: general.alignment */
    str(b, "general.alignment");
    if (c == ALIGN_U64) {
        i32(b, TL_GGUF_UINT64);
        m.value1 = b->n;
        u64(b, 32);
    } else {
        i32(b, TL_GGUF_UINT32);
        m.value1 = b->n;
        u32(b, c == ALIGN_48         ? 48
               : c == ALIGN_0        ? 0
               : c == ALIGN_64_OK    ? 64
               : c == DATA_UNALIGNED ? 1
                                     : 32);
    }
    size_t align = c == ALIGN_64_OK ? 64 : c == DATA_UNALIGNED ? 1 : 32;

    /* kv 2: tokenizer.ggml.tokens = ["a", "bb", "ccc"] */
    str(b, "tokenizer.ggml.tokens");
    i32(b, TL_GGUF_ARRAY);
    m.arr_hdr = b->n;
    i32(b, TL_GGUF_STRING);
    u64(b, 3);
    str(b, "a");
    if (c == SARR_PAST_END) {
        u64(b, 100000);
        put(b, "bb", 2);
    } else {
        str(b, "bb");
    }
    str(b, "ccc");

    /* kv 3: llama.scores = [1, 2, 3] (or the duplicate key case) */
    str(b, c == KEY_DUP ? "general.architecture" : "llama.scores");
    i32(b, TL_GGUF_ARRAY);
    i32(b, c == ARR_ELEM_BAD ? 13 : c == ARR_NESTED ? TL_GGUF_ARRAY : TL_GGUF_FLOAT32);
    u64(b, c == ARR_HUGE ? (uint64_t)1 << 31 : c == ARR_PAST_END ? 1000000 : 3);
    m.arr2_body = b->n;
    float sc[3] = {1, 2, 3};
    put(b, sc, sizeof sc);

    if (!no_tensors) {
        /* tensor 0: "a", f32, ne {8, 2} (64 bytes) at offset 0 */
        m.tname0 = b->n;
        if (c == TNAME_LONG) {
            char name[65];
            memset(name, 'n', 64);
            name[64] = '\0';
            str(b, name);
        } else {
            str(b, "a");
        }
        m.ndims0 = b->n;
        u32(b, c == NDIMS_5 ? 5 : 2);
        m.ne0 = b->n;
        if (c == DIMS_OVERFLOW) {
            i64(b, (int64_t)1 << 32);
            i64(b, (int64_t)1 << 32);
        } else if (c == BYTES_OVERFLOW) {
            i64(b, (int64_t)1 << 31);
            i64(b, (int64_t)1 << 31);
        } else {
            i64(b, c == EMPTY_TENSOR_OK ? 0 : 8);
            i64(b, c == DIM_NEG ? -2 : 2);
        }
        if (c == NDIMS_5) {
            i64(b, 1);
            i64(b, 1);
            i64(b, 1);
        }
        m.type0 = b->n;
        i32(b, 0);
        u64(b, 0);

        /* tensor 1: "blk.0.b", q4_0, ne {32} (18 bytes) at offset 64 */
        if (c == TNAME_DUP)
            str(b, "a");
        else if (c == TNAME_NUL) {
            u64(b, 3);
            put(b, "b\0c", 3);
        } else
            str(b, "blk.0.b");
        u32(b, 1);
        i64(b, c == Q40_ROW ? 48 : c == IQ_LISTED ? 256 : 32);
        int32_t type = 2;
        if (c == TYPE_IQ) type = 16;
        if (c == TYPE_TQ) type = 34;
        if (c == TYPE_REMOVED) type = 4;
        if (c == TYPE_HUGE) type = 1000;
        if (c == TYPE_NEG) type = -3;
        if (c == TYPE_40) type = 40;
        if (c == IQ_LISTED) type = 23;
        m.offset1 = b->n;
        i32(b, type);
        uint64_t off = 64;
        if (c == EMPTY_TENSOR_OK) off = 0;
        if (c == OFF_MISALIGNED) off = 72;
        if (c == OFF_PAST_END) off = 4096;
        if (c == OFF_OVERLAP) off = 32;
        if (c == OFF_OVERFLOW) off = UINT64_MAX - 31;
        u64(b, off);
        zeros(b, ((b->n + align - 1) & ~(align - 1)) - b->n);
        m.data = b->n;
        for (int k = 0; k < 64 + 18; k++) {
            uint8_t v = (uint8_t)(k * 7);
            put(b, &v, 1);
        }
        zeros(b, 14);
        if (c == IQ_LISTED) zeros(b, 128); /* iq4_xs: 136 bytes for 256 elements */
    }
    if (mk) *mk = m;

    /* The truncation cases cut the base file inside one field. */
    size_t cut = 0;
    switch (c) {
    case TR_MAGIC:
        cut = 2;
        break;
    case TR_VERSION:
        cut = m.version + 2;
        break;
    case TR_NTENSORS:
        cut = m.n_tensors + 5;
        break;
    case TR_NKV:
        cut = m.n_kv + 7;
        break;
    case TR_KEY_LEN:
        cut = m.key0 + 3;
        break;
    case TR_KEY:
        cut = m.key0_bytes + 10;
        break;
    case TR_VTYPE:
        cut = m.vtype0 + 1;
        break;
    case TR_STRVAL:
        cut = m.value0 + 9;
        break;
    case TR_U32VAL:
        cut = m.value1 + 2;
        break;
    case TR_ARR_HDR:
        cut = m.arr_hdr + 6;
        break;
    case TR_ARR_BODY:
        cut = m.arr2_body + 5;
        break;
    case TR_TNAME:
        cut = m.tname0 + 4;
        break;
    case TR_NDIMS:
        cut = m.ndims0 + 2;
        break;
    case TR_NE:
        cut = m.ne0 + 11;
        break;
    case TR_TTYPE:
        cut = m.type0 + 3;
        break;
    case TR_TOFFSET:
        cut = m.offset1 + 6;
        break;
    case TR_PADDING:
        cut = m.data - 3;
        break;
    case DATA_TRUNC:
        cut = m.data + 64 + 10;
        break;
    default:
        break;
    }
    if (cut) b->n = cut;
}

static const char *corpus_dir;
static char tmp_dir[256];

static void write_file(const char *dir, const char *name, const buf *b, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.gguf", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    assert_int_equal(fclose(f), 0);
}

/* Opens bytes from an exact-size heap block (ASan sees any overread). */
static tl_status open_exact(const buf *b, tl_gguf **g) {
    void *copy = malloc(b->n ? b->n : 1);
    assert_non_null(copy);
    memcpy(copy, b->p, b->n);
    tl_status st = tl_gguf_open_memory(copy, b->n, "mem.gguf", g);
    if (st == TL_OK) tl_gguf_close(*g);
    free(copy);
    return st;
}

static void test_corpus(void **state) {
    (void)state;
    buf b = {0};
    int n_bad = 0;
    for (int c = 0; c < N_CASES; c++) {
        const expect *e = &cases[c];
        assert_non_null(e->name);
        build(c, &b, NULL);
        char path[512];
        write_file(tmp_dir, e->name, &b, path, sizeof path);
        if (corpus_dir) {
            char p2[512];
            write_file(corpus_dir, e->name, &b, p2, sizeof p2);
        }
        tl_gguf *g = NULL;
        tl_status st = tl_gguf_open(path, &g);
        if (st != e->status || (e->msg && !strstr(tl_last_error(), e->msg)) ||
            (e->msg && !strstr(tl_last_error(), path))) {
            print_error("case %s: status %d (want %d), message: %s\n  want substring: %s\n",
                        e->name, st, e->status, st ? tl_last_error() : "(none)",
                        e->msg ? e->msg : "(success)");
            fail();
        }
        /* read into huge pages instead of mapped: the same verdict and bytes */
        tl_gguf *h = NULL;
        tl_status sh = tl_gguf_open_ex(path, TL_GGUF_HUGE_PAGES, &h);
        if (sh != st || (e->msg && !strstr(tl_last_error(), e->msg))) {
            print_error("case %s with TL_GGUF_HUGE_PAGES: status %d (want %d): %s\n", e->name, sh,
                        st, sh ? tl_last_error() : "(none)");
            fail();
        }
        if (st == TL_OK) {
            assert_non_null(g);
            assert_int_equal(tl_gguf_n_tensors(h), tl_gguf_n_tensors(g));
            for (int64_t i = 0; i < tl_gguf_n_tensors(g); i++) {
                const tl_gguf_tensor_info *a = tl_gguf_tensor_at(g, i),
                                          *x = tl_gguf_tensor_at(h, i);
                assert_int_equal(a->nbytes, x->nbytes);
                assert_true(a->data != x->data || a->nbytes == 0);
                if (a->nbytes) assert_memory_equal(a->data, x->data, a->nbytes);
            }
            tl_gguf_close(g);
            tl_gguf_close(h);
        } else {
            assert_null(g);
            assert_null(h);
            n_bad++;
        }
        assert_int_equal(open_exact(&b, &g), e->status);
        unlink(path);
    }
    assert_true(n_bad >= 30);
    free(b.p);
}

static void test_valid_variants_read_back(void **state) {
    (void)state;
    buf b = {0};
    build(ALIGN_64_OK, &b, NULL);
    tl_gguf *g;
    assert_int_equal(tl_gguf_open_memory(b.p, b.n, "a64", &g), TL_OK);
    assert_int_equal(tl_gguf_alignment(g), 64);
    assert_int_equal(tl_gguf_data_offset(g) % 64, 0);
    tl_gguf_close(g);
    build(EMPTY_TENSOR_OK, &b, NULL);
    assert_int_equal(tl_gguf_open_memory(b.p, b.n, "empty", &g), TL_OK);
    assert_int_equal(tl_gguf_tensor_at(g, 0)->nbytes, 0);
    assert_int_equal(tl_gguf_tensor_at(g, 0)->ne[0], 0);
    tl_gguf_close(g);
    build(V2_OK, &b, NULL);
    assert_int_equal(tl_gguf_open_memory(b.p, b.n, "v2", &g), TL_OK);
    assert_int_equal(tl_gguf_version(g), 2);
    tl_gguf_close(g);
    build(NO_TENSORS_OK, &b, NULL);
    assert_int_equal(tl_gguf_open_memory(b.p, b.n, "none", &g), TL_OK);
    assert_int_equal(tl_gguf_n_tensors(g), 0);
    tl_gguf_close(g);
    free(b.p);
}

/* Every prefix that cuts into the header or a tensor's bytes is rejected, without a crash. */
static void test_every_prefix(void **state) {
    (void)state;
    buf b = {0};
    marks m;
    build(BASE_OK, &b, &m);
    size_t full = b.n, needed = m.data + 64 + 18;
    for (size_t len = 0; len <= full; len++) {
        buf p = {.p = b.p, .n = len};
        tl_gguf *g;
        tl_status st = open_exact(&p, &g);
        if (len < needed)
            assert_int_not_equal(st, TL_OK);
        else
            assert_int_equal(st, TL_OK);
    }
    free(b.p);
}

/* Every single byte of the header set to 0xff, 0x80 or 0x00: an error or a valid file, never a
** crash or an overread (the sanitizer build checks the latter). */
static void test_byte_corruption(void **state) {
    (void)state;
    buf b = {0};
    marks m;
    build(BASE_OK, &b, &m);
    static const uint8_t vals[3] = {0xff, 0x80, 0x00};
    for (size_t at = 0; at < m.data; at++)
        for (int v = 0; v < 3; v++) {
            uint8_t save = b.p[at];
            b.p[at] = vals[v];
            tl_gguf *g;
            tl_status st = open_exact(&b, &g);
            assert_true(st == TL_OK || st == TL_ERR_FORMAT || st == TL_ERR_UNSUPPORTED ||
                        st == TL_ERR_NOMEM);
            b.p[at] = save;
        }
    free(b.p);
}

/* With TL_GGUF_ANY_TENSOR_TYPE (for `tl gguf`), types tl cannot load are listed with ggml's sizes.
 */
static void test_any_tensor_type_flag(void **state) {
    (void)state;
    buf b = {0};
    build(IQ_LISTED, &b, NULL);
    tl_gguf *g;
    assert_int_equal(tl_gguf_open_memory_ex(b.p, b.n, "iq", TL_GGUF_ANY_TENSOR_TYPE, &g), TL_OK);
    const tl_gguf_tensor_info *t = tl_gguf_find_tensor(g, "blk.0.b");
    assert_int_equal(t->type_id, 23);
    assert_int_equal(t->dtype, TL_DTYPE_COUNT);
    assert_int_equal(t->nbytes, 136);
    assert_string_equal(tl_gguf_ggml_type_name(t->type_id), "iq4_xs");
    tl_gguf_close(g);
    /* still validated: a row that does not split into blocks, an unknown id */
    build(TYPE_IQ, &b, NULL);
    assert_int_equal(tl_gguf_open_memory_ex(b.p, b.n, "iq", TL_GGUF_ANY_TENSOR_TYPE, &g),
                     TL_ERR_FORMAT);
    assert_non_null(strstr(tl_last_error(), "not a multiple of the iq2_xxs block size 256"));
    build(TYPE_REMOVED, &b, NULL);
    assert_int_equal(tl_gguf_open_memory_ex(b.p, b.n, "iq", TL_GGUF_ANY_TENSOR_TYPE, &g),
                     TL_ERR_FORMAT);
    free(b.p);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        corpus_dir = argv[1];
        mkdir(corpus_dir, 0755);
    }
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/tl_gguf_malformed_%d", (int)getpid());
    mkdir(tmp_dir, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_valid_variants_read_back),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_byte_corruption),
        cmocka_unit_test(test_any_tensor_type_flag),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmp_dir);
    return rc;
}
