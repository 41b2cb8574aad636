/* tests/fuzz/fuzz_quantize.c -- libFuzzer target: `tl quantize` input
** (tl_model_quantize in runtime/model_quantize.c).
**
** The bytes are written to a temporary GGUF file and converted to q8_0 (and, by
** the first byte's low bit, to q4_k_m with --pure) into a second temporary file.
** When the conversion succeeds, the output must load again as a model.  Anything else must be an
*error message: never a
** crash, a sanitizer report, a leak or a huge allocation. */
#include "runtime/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], in_path[96], out_path[96];

static void cleanup(void) {
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    setenv("TL_THREADS", "1", 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.40s/fuzz_quantize.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(in_path, sizeof in_path, "%s/in.gguf", dir);
    snprintf(out_path, sizeof out_path, "%s/out.gguf", dir);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(in_path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    unlink(out_path);
    bool k = size && (data[0] & 1);
    tl_quantize_opts opts = {.pure = k, .allow_requantize = size > 1 && (data[1] & 1)};
    tl_quantize_report rep;
    if (tl_model_quantize(in_path, out_path, k ? TL_FTYPE_Q4_K_M : TL_FTYPE_Q8_0, &opts, &rep) !=
        TL_OK)
        return 0;
    tl_model *out = NULL;
    if (tl_model_load(out_path, &out) != TL_OK) abort(); /* what it writes loads */
    tl_model_unref(out);
    return 0;
}
