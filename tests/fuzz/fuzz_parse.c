/* tests/fuzz/fuzz_parse.c -- libFuzzer target: the re2c lexer + Lemon parser.
**
** Any byte string is parsed as a .tl chunk.  It must either produce a chunk
** or a syntax diagnostic with a sane position; on failure the formatted error
** (source line + caret) is also built, since that path indexes into the text. */
#include "lang/parse.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tl_chunk *chunk = NULL;
    tl_diag diag = {0};
    tl_status st = tl_parse((const char *)data, size, "fuzz.tl", &chunk, &diag);
    if (st == TL_OK) {
        if (!chunk) abort();
        tl_chunk_free(chunk);
        return 0;
    }
    if (chunk) abort();
    if (st != TL_ERR_FORMAT) return 0; /* e.g. out of memory: no position to show */
    /* A syntax error points inside (or just past) the text. */
    if (diag.line > size + 1) abort();
    tl_strbuf sb = {0};
    tl_format_error(&sb, "fuzz.tl", (const char *)data, size, diag.line, diag.col, diag.msg);
    tl_strbuf_free(&sb);
    return 0;
}
