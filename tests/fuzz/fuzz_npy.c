/* tests/fuzz/fuzz_npy.c -- libFuzzer target: the .npy reader (runtime/npy.c).
**
** Any bytes are parsed as an in-memory .npy file.  When they parse, the tensor
** is written back with tl_npy_write and parsed again: the second tensor must
** have the same dtype, shape and bytes (the writer and reader agree), and the
** second write must be byte-identical to the first. */
#include "runtime/npy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_npy(const tl_tensor *t, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    tl_status st = tl_npy_write(f, t);
    fclose(f);
    if (st != TL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_tensor *t = NULL;
    if (tl_npy_parse(data, size, &t) != TL_OK) {
        if (t) abort(); /* a failure leaves *out NULL */
        return 0;
    }
    size_t len1 = 0, len2 = 0;
    char *w1 = write_npy(t, &len1);
    if (!w1) abort(); /* everything the reader makes can be written */
    tl_tensor *t2 = NULL;
    if (tl_npy_parse(w1, len1, &t2) != TL_OK) abort();
    if (t2->dtype != t->dtype || t2->n_dims != t->n_dims) abort();
    for (int d = 0; d < t->n_dims; d++)
        if (t2->ne[d] != t->ne[d]) abort();
    size_t bytes = tl_tensor_nbytes(t);
    if (tl_tensor_nbytes(t2) != bytes || memcmp(tl_tensor_data(t), tl_tensor_data(t2), bytes) != 0)
        abort();
    char *w2 = write_npy(t2, &len2);
    if (!w2 || len2 != len1 || memcmp(w1, w2, len1) != 0) abort();
    free(w1);
    free(w2);
    tl_tensor_unref(t);
    tl_tensor_unref(t2);
    return 0;
}
