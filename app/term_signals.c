/* app/term_signals.c -- see app/term_signals.h. */
#include "app/term_signals.h"

#include "runtime/temp_file.h"

#include <signal.h>
#include <unistd.h>

static void on_stop(int sig) {
    tl_temp_remove_all();
    _exit(128 + sig);
}

void tl_app_catch_stop_signals(bool with_sigint) {
    static const int sigs[] = {SIGTERM, SIGHUP, SIGPIPE, SIGINT};
    size_t n = sizeof sigs / sizeof sigs[0] - (with_sigint ? 0 : 1);
    for (size_t i = 0; i < n; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa = {0};
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

void tl_app_catch_term_signals(void) {
    tl_app_catch_stop_signals(false);
}
