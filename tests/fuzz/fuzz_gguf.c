/* tests/fuzz/fuzz_gguf.c -- libFuzzer target: the GGUF reader.
**
** The input is opened as an in-memory GGUF file (the fuzzer's buffer is
** exactly `size` bytes, so AddressSanitizer catches any read past it).  On a
** successful open every key/value is read back through the typed accessors,
** every tensor's first and last data byte is touched and small tensors are
** converted to f32, and the tokenizer loader runs over the metadata: after a
** successful open the API promises every pointer lies inside the mapping. */
#include "runtime/dtype.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void read_kv(const tl_gguf_kv *kv) {
    uint64_t n = kv->count < 64 ? kv->count : 64; /* first elements ... */
    for (uint64_t k = 0; k < n + 1; k++) {        /* ... and one past a short end */
        uint64_t i = k < n ? k : kv->count - 1;
        if (kv->count == 0) i = 0;
        int64_t iv;
        uint64_t uv;
        double dv;
        bool bv;
        const char *s;
        size_t len;
        if (tl_gguf_kv_int(kv, i, &iv)) sink += (uint64_t)iv;
        if (tl_gguf_kv_uint(kv, i, &uv)) sink += uv;
        if (tl_gguf_kv_float(kv, i, &dv)) sink += (uint64_t)(dv == dv);
        if (tl_gguf_kv_bool(kv, i, &bv)) sink += bv;
        if (tl_gguf_kv_string(kv, i, &s, &len) && len > 0)
            sink += (uint8_t)s[0] + (uint8_t)s[len - 1];
    }
    if (kv->type == TL_GGUF_STRING && kv->str) sink += strlen(kv->str);
}

static void read_tensor(const tl_gguf_tensor_info *t) {
    const uint8_t *p = t->data;
    if (t->nbytes > 0) sink += p[0] + p[t->nbytes - 1];
    if (t->dtype >= TL_DTYPE_COUNT) return;
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    int64_t n = t->ne[0];
    /* a tensor with a zero dim has no rows (nbytes 0) */
    if (!tr || !tr->to_f32 || n <= 0 || n > 4096 || n % tr->blck ||
        tl_dtype_row_size(t->dtype, n) > t->nbytes)
        return;
    float *row = malloc((size_t)n * sizeof *row);
    if (!row) return;
    tr->to_f32(t->data, row, n); /* the first row */
    sink += (uint64_t)(row[0] == row[0]);
    free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *keys[] = {"general.architecture", "general.alignment",
                                 "tokenizer.ggml.model", "llama.block_count"};
    tl_gguf *g = NULL;
    unsigned flags = size > 0 && (data[size - 1] & 1) ? TL_GGUF_ANY_TENSOR_TYPE : 0;
    if (tl_gguf_open_memory_ex(data, size, "fuzz.gguf", flags, &g) != TL_OK) {
        if (g) abort();
        return 0;
    }
    for (int64_t i = 0; i < tl_gguf_n_kv(g); i++)
        read_kv(tl_gguf_kv_at(g, i));
    for (int64_t i = 0; i < tl_gguf_n_tensors(g); i++)
        read_tensor(tl_gguf_tensor_at(g, i));
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        uint32_t u;
        const char *s;
        (void)tl_gguf_get_u32(g, keys[k], &u);
        (void)tl_gguf_get_string(g, keys[k], &s, NULL);
    }
    if (!flags) {
        tl_tokenizer *tok = NULL;
        if (tl_tokenizer_from_gguf_file(g, &tok) == TL_OK) {
            int32_t *ids = NULL;
            size_t n = 0;
            if (tl_tokenize(tok, "Hello world <s>", 15, true, true, &ids, &n) == TL_OK) {
                char *text = NULL;
                size_t len = 0;
                if (tl_detokenize(tok, ids, n, false, true, &text, &len) == TL_OK) free(text);
            }
            free(ids);
            tl_tokenizer_free(tok);
        }
    }
    tl_gguf_close(g);
    return 0;
}
