/* tests/fuzz/fuzz_tokenize.c -- libFuzzer target: tokenizing text.
**
** Two tokenizers are loaded once: the llama SPM vocab of
** $TL_TEST_MODELS/ggml-vocab-llama-spm.gguf and the BPE tokenizer.json of
** tests/data/tokenizer/stories260K.tokenizer.json.  The first input byte picks
** the tokenizer (bit 0), add_special (bit 1), parse_special (bit 2) and the
** decode flags (bits 3-4); the rest is the text.  The ids are checked to be in
** range, decoded with tl_detokenize and with the streaming decoder, and the
** two decodings must be byte-identical (the streaming API promises that). */
#include "runtime/tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tl_tokenizer *toks[2];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *models = getenv("TL_TEST_MODELS");
    char path[4096];
    snprintf(path, sizeof path, "%s/ggml-vocab-llama-spm.gguf",
             models ? models : TL_SOURCE_DIR "/../shared/models");
    if (access(path, R_OK) != 0) {
        printf("SKIPPED: %s not found (set TL_TEST_MODELS)\n", path);
        exit(77);
    }
    if (tl_tokenizer_from_gguf(path, &toks[0]) != TL_OK) {
        fprintf(stderr, "fuzz_tokenize: cannot load %s: %s\n", path, tl_last_error());
        exit(1);
    }
    const char *json = TL_SOURCE_DIR "/tests/data/tokenizer/stories260K.tokenizer.json";
    if (tl_tokenizer_from_json(json, &toks[1]) != TL_OK) {
        fprintf(stderr, "fuzz_tokenize: cannot load %s: %s\n", json, tl_last_error());
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const tl_tokenizer *tok = toks[data[0] & 1];
    bool add_special = data[0] & 2, parse_special = data[0] & 4;
    bool remove_special = data[0] & 8, unparse_special = data[0] & 16;
    int32_t *ids = NULL;
    size_t n = 0;
    if (tl_tokenize(tok, (const char *)data + 1, size - 1, add_special, parse_special, &ids, &n) !=
        TL_OK) {
        free(ids);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (tl_tokenizer_check_id(tok, ids[i]) != TL_OK) abort();
    char *text = NULL;
    size_t len = 0;
    if (tl_detokenize(tok, ids, n, remove_special, unparse_special, &text, &len) != TL_OK) abort();
    /* the streaming decoder must produce the same bytes */
    tl_detok_stream s;
    tl_detok_stream_init(&s, tok, remove_special, unparse_special);
    char *acc = malloc(len + 16);
    size_t acc_len = 0;
    bool same = acc != NULL;
    for (size_t i = 0; same && i < n; i++) {
        char *piece = NULL;
        size_t plen = 0;
        if (tl_detok_stream_push_alloc(&s, ids[i], &piece, &plen) != TL_OK) abort();
        if (acc_len + plen > len)
            same = false;
        else
            memcpy(acc + acc_len, piece, plen), acc_len += plen;
        free(piece);
    }
    if (same) {
        char tail[8];
        size_t tlen = tl_detok_stream_flush(&s, tail);
        if (acc_len + tlen > len)
            same = false;
        else
            memcpy(acc + acc_len, tail, tlen), acc_len += tlen;
    }
    if (!same || acc_len != len || memcmp(acc, text, len) != 0) {
        fprintf(stderr, "streaming decode differs from tl_detokenize (%zu vs %zu bytes)\n", acc_len,
                len);
        abort();
    }
    free(acc);
    free(text);
    free(ids);
    return 0;
}
