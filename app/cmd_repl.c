/* app/cmd_repl.c -- `tl repl [--history FILE] [--no-history]`, and what `tl`
** with no arguments does: the REPL on a terminal, else stdin as a script. */
#include "app/commands.h"
#include "app/options.h"
#include "app/repl.h"
#include "app/term_signals.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: tl repl [--history FILE | --no-history] [FILE.tl ...]\n"
               "  Interactive TensorLogic: :help inside lists the commands.\n"
               "  Each FILE.tl is run first (as by :load), then the prompt appears.\n"
               "  On a non-terminal stdin, reads inputs without prompts and shows values.\n");
}

int tl_cmd_repl(int argc, char **argv) {
    const char *history = NULL;
    char *load[64];
    int n_load = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
            history = argv[++i];
        } else if (strcmp(argv[i], "--no-history") == 0) {
            history =
                ""; /* no history file (never write_history on /dev/null: libedit chmods it) */
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && n_load < 64) {
            load[n_load++] = argv[i];
        } else {
            static const char *const names[] = {"--history", "--no-history", "--help", NULL};
            tl_options_unknown("repl", argv[i], names);
            usage(stderr);
            return 2;
        }
    }
    tl_app_catch_term_signals();
    if (!isatty(STDIN_FILENO)) return tl_repl_run_piped(stdin, n_load, load);
    return tl_repl_interactive(history, n_load, load);
}

int tl_cmd_default(void) {
    tl_app_catch_term_signals();
    if (isatty(STDIN_FILENO)) return tl_repl_interactive(NULL, 0, NULL);
    return tl_repl_run_stream(stdin, "<stdin>");
}
