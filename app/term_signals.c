/* app/term_signals.c -- see app/term_signals.h. */
#include "app/term_signals.h"

#include "lang/atomic_file.h"

#include <signal.h>
#include <unistd.h>

static void on_term(int sig) {
    tl_atomic_remove_temps();
    _exit(128 + sig);
}

void tl_app_catch_term_signals(void) {
    static const int sigs[] = {SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa = {0};
        sa.sa_handler = on_term;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
