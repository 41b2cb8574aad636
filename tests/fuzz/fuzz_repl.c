/* tests/fuzz/fuzz_repl.c -- libFuzzer target: the REPL's line handler (app/repl_session.c).
**
** The input is split into lines; each is given to one REPL session as the
** terminal loop would: a line starting with ':' to tl_repl_command, anything else
** classified (tl_repl_classify) and, once complete, evaluated with
** tl_repl_session_eval; completion is asked for at the end of every line.
** Inputs naming the outside world are skipped as in fuzz_eval; budgets: 20000
** steps, call depth 200, strings up to 64 MiB; output goes to /dev/null. */
#include "app/repl.h"
#include "lang/eval.h"
#include "fuzz_sink.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    setenv("TL_THREADS", "1", 1);
    tl_value_set_max_string((size_t)64 << 20);
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
                                    "mkdir",  "read",   "write_",   "csv",  "ptr",  "history"};
    if (size > 4096) return 0;
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++)
        if (mentions(data, size, outside[i])) return -1;
    tl_repl_session s;
    if (tl_repl_session_init(&s, fuzz_sink(), fuzz_sink()) != TL_OK) return 0;
    tl_interp_set_max_steps(s.interp, 20000);
    tl_interp_set_max_depth(s.interp, 200);
    char *pending = malloc(size + 2);
    if (!pending) abort();
    size_t plen = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && !s.quit) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (plen == 0 && n > 0 && p[0] == ':') {
            char *line = strndup(p, n);
            if (!line) abort();
            (void)tl_repl_command(&s, line);
            free(line);
        } else {
            memcpy(pending + plen, p, n);
            plen += n;
            pending[plen++] = '\n';
            pending[plen] = 0;
            size_t ws;
            char **c = tl_repl_completions(s.interp, pending, plen - 1, &ws);
            tl_repl_free_completions(c);
            if (tl_repl_classify(pending, plen) != TL_INPUT_INCOMPLETE || !nl) {
                (void)tl_repl_session_eval(&s, pending, plen);
                plen = 0;
            }
        }
        p = nl ? nl + 1 : end;
    }
    free(pending);
    tl_repl_session_free(&s);
    return 0;
}
