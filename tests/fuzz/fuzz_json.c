/* tests/fuzz/fuzz_json.c -- libFuzzer target: JSON input and output (lang/json_value.c).
**
** 1. The bytes are decoded as JSON text (parse_json).  When they decode, the
**    value is encoded (to_json), the text decoded again and encoded again: the
**    two encodings must be identical, and decoding to_json's text must succeed.
** 2. The bytes are also taken as a tl string (any bytes, invalid UTF-8 and NUL
**    included) and encoded: to_json must give valid JSON (it decodes) or an
**    error, never text a JSON reader refuses. */
#include "lang/json_value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encode(const tl_value *v, size_t *len) {
    tl_strbuf b = {0};
    if (tl_json_encode(&b, v, "to_json") != TL_OK || b.oom) {
        tl_strbuf_free(&b);
        return NULL;
    }
    tl_strbuf_putc(&b, '\0');
    if (b.oom) {
        tl_strbuf_free(&b);
        return NULL;
    }
    *len = b.len - 1;
    return b.data; /* owned by the caller */
}

static void round_trip(const tl_value *v) {
    size_t len1 = 0, len2 = 0;
    char *t1 = encode(v, &len1);
    if (!t1) return; /* a value to_json refuses (none come from parse_json but NaN) */
    tl_value v2 = {0};
    if (tl_json_decode(t1, len1, "parse_json", &v2) != TL_OK) abort();
    char *t2 = encode(&v2, &len2);
    if (!t2 || len1 != len2 || memcmp(t1, t2, len1) != 0) abort();
    tl_value_release(&v2);
    free(t1);
    free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_value v = {0};
    if (tl_json_decode((const char *)data, size, "parse_json", &v) == TL_OK) {
        round_trip(&v);
        tl_value_release(&v);
    }
    tl_value s = {0};
    if (tl_value_string((const char *)data, size, &s) == TL_OK) {
        size_t len = 0;
        char *t = encode(&s, &len);
        if (t) {
            tl_value back = {0};
            if (tl_json_decode(t, len, "parse_json", &back) != TL_OK) abort();
            tl_value_release(&back);
            free(t);
        }
        tl_value_release(&s);
    }
    return 0;
}
