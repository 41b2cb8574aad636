/* tests/fuzz/fuzz_eval.c -- libFuzzer target: evaluating small .tl programs.
**
** The input is run as a chunk with a step budget (20000 statements), a call
** depth budget (200) and a memory budget: LLVMFuzzerInitialize lowers the
** runtime's tensor allocation limit to 256 MiB (tl_set_alloc_limit), so the
** libFuzzer build and the corpus replay under ctest (gcc, ASan, valgrind) stay
** small even for inputs such as f32::ones([2055555555]); strings are capped at
** 64 MiB (tl_value_set_max_string).
** Whatever the program does it must end with a value or an error message,
** never a signal, a sanitizer report or a leak.
** Programs that name something touching the outside world (imports, files,
** models, stdin, FFI, directories) are skipped, and stdout goes to /dev/null. */
#include "lang/eval.h"
#include "runtime/tensor.h"
#include "fuzz_sink.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fuzz_sink_stdout();
    setenv("TL_THREADS", "1", 1);
    tl_set_alloc_limit((size_t)256 << 20);
    tl_value_set_max_string((size_t)64 << 20); /* s = s + s stops at 64 MiB */
    return 0;
}

static bool mentions(const uint8_t *data, size_t size, const char *word) {
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, word, n) == 0) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_sink_reset();
    static const char *outside[] = {"import", "extern", "input",    "load", "save", "gguf",
                                    "model",  "token",  "quantize", "file", "open", "env",
                                    "mkdir",  "read",   "write_",   "csv",  "ptr"};
    if (size > 4096) return 0;
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++)
        if (mentions(data, size, outside[i])) return -1; /* not added to the corpus */
    tl_interp *I = tl_interp_new();
    if (!I) return 0;
    tl_interp_set_max_steps(I, 20000);
    tl_interp_set_max_depth(I, 200);
    tl_value result = {0};
    if (tl_interp_eval_string(I, (const char *)data, size, "fuzz.tl", &result) == TL_OK)
        tl_value_release(&result);
    else
        (void)tl_interp_error(I);
    tl_interp_free(I);
    return 0;
}
