/* tests/fuzz/fuzz_tokenizer_json.c -- libFuzzer target: the tokenizer.json loader.
**
** The input is loaded as a Hugging Face tokenizer.json text.  When it loads,
** a short text (with a special-token spelling and bytes that need byte
** fallback) is tokenized and decoded, and every id's piece is read. */
#include "runtime/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_tokenizer *tok = NULL;
    if (tl_tokenizer_from_json_text((const char *)data, size, "fuzz.json", &tok) != TL_OK) {
        if (tok) abort();
        return 0;
    }
    static const char text[] = "Hello <s> w\xc3\xb6rld \xe2\x96\x81 \xff!";
    int32_t *ids = NULL;
    size_t n = 0;
    if (tl_tokenize(tok, text, sizeof text - 1, true, true, &ids, &n) == TL_OK) {
        char *out = NULL;
        size_t len = 0;
        if (tl_detokenize(tok, ids, n, false, true, &out, &len) == TL_OK) free(out);
    }
    free(ids);
    int32_t nv = tl_tokenizer_n_vocab(tok);
    for (int32_t id = 0; id < nv && id < 4096; id++) {
        const char *piece;
        size_t len;
        if (tl_token_piece(tok, id, true, &piece, &len) == TL_OK && len)
            sink += (unsigned char)piece[len - 1];
    }
    tl_tokenizer_free(tok);
    return 0;
}
