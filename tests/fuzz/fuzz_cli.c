/* tests/fuzz/fuzz_cli.c -- libFuzzer target: the command-line option parsers (app/cli.c,
** app/cmd_*.c) through tl_cli_main.
**
** The input is split at NUL and newline bytes into at most 16 words.  The first
** byte picks the subcommand (run, test, gguf, tokenize, version, help); the words
** follow, then the path of a one-line script.  Words with a '/' are dropped, so
** the options can name only files in the working directory (run_fuzz.sh runs in
** the target's work folder); stdout goes to /dev/null.  TL_THREADS, TL_SEED,
** TL_HUGE_PAGES, TL_MODEL and TL_QUIET, which options export, are cleared after each run.  Whatever
*the
** words, tl_cli_main must return an exit status: never crash, leak or report UB. */
#include "app/commands.h"
#include "fuzz_sink.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], script[96];

static void cleanup(void) {
    unlink(script);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.40s/fuzz_cli.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(script, sizeof script, "%s/s.tl", dir);
    FILE *f = fopen(script, "w");
    if (!f) abort();
    fputs("main { print(len(args())) }\n", f);
    fclose(f);
    atexit(cleanup);
    /* stdout only: libFuzzer reports on stderr (tl's messages go there too) */
    fuzz_sink_stdout();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_sink_reset();
    static const char *const cmds[] = {"run", "test", "gguf", "tokenize", "version", "help"};
    if (size == 0 || size > 1024) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char *argv[20];
    int argc = 0;
    argv[argc++] = "tl";
    argv[argc++] = (char *)cmds[data[0] % 6];
    char *p = text, *end = text + size - 1;
    while (p < end && argc < 18) {
        char *w = p;
        while (p < end && *p && *p != '\n')
            p++;
        *p++ = 0;
        if (strchr(w, '/') || strcmp(w, "-") == 0) continue;
        argv[argc++] = w;
    }
    argv[argc++] = script;
    argv[argc] = NULL;
    (void)tl_cli_main(argc, argv);
    unsetenv("TL_THREADS");
    unsetenv("TL_SEED");
    unsetenv("TL_HUGE_PAGES");
    unsetenv("TL_MODEL");
    unsetenv("TL_QUIET");
    free(text);
    return 0;
}
