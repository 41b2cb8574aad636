/* app/repl.c -- the terminal side of the REPL: libedit (readline-compatible
** callback interface driven by poll(), so Ctrl-C at the prompt cancels the
** line at once), prompts and continuation prompts, history in ~/.tl_history,
** tab completion, Ctrl-C during a computation, Ctrl-D; plus the non-terminal
** modes (`tl repl < file` shows values without prompts; `tl < file` runs a
** script). */
#include "app/repl_internal.h"
#include "runtime/temp_file.h"
#include "runtime/threadpool.h"

#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROMPT      "tl> "
#define PROMPT_MORE "... "
#define HISTORY_MAX 1000

static volatile sig_atomic_t busy; /* evaluating: Ctrl-C interrupts it      */
static volatile sig_atomic_t sigint_at_prompt;
static volatile sig_atomic_t busy_presses; /* Ctrl-C presses during one evaluation */
static int wake_pipe[2] = {-1, -1};        /* the handler writes here to wake poll() */

static void on_sigint(int sig) {
    (void)sig;
    if (busy) {
        tl_interrupt_requested = 1;
        if (++busy_presses >= 3) {
            static const char msg[] = "\ntl: interrupted 3 times, giving up\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            tl_temp_remove_all(); /* no half-written temporary file is left */
            _exit(130);
        }
    } else {
        sigint_at_prompt = 1;
        if (wake_pipe[1] >= 0) (void)!write(wake_pipe[1], "", 1);
    }
}

/* ---------------------------------------------------------------- input lines */

static bool blank_line(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
    return true;
}

/* Accumulates lines until the input is complete.  Returns true when `pending`
** holds a whole input to evaluate (a complete input, a syntax error, or a
** blank line ending an unfinished one). */
static bool take_line(tl_strbuf *pending, const char *line, bool blank_ends) {
    bool blank = blank_line(line);
    if (pending->len == 0 && blank) return false;
    if (pending->len && blank && blank_ends) return true;
    tl_strbuf_puts(pending, line);
    tl_strbuf_putc(pending, '\n');
    const char *t = pending->data;
    size_t i = 0;
    while (t[i] == ' ' || t[i] == '\t')
        i++;
    if (t[i] == ':' && t[i + 1] != ':') return true; /* commands are one line */
    return tl_repl_classify(pending->data, pending->len) != TL_INPUT_INCOMPLETE;
}

/* A whole input is one history entry: Up recalls a multi-line fn definition
** whole (its lines joined by newlines, which libedit shows as ^J and the history
** file keeps), and Enter runs it again. */
static void add_entry_to_history(const tl_strbuf *pending, const char *hist) {
    if (!pending->len) return;
    size_t n = pending->len;
    while (n > 0 && pending->data[n - 1] == '\n')
        n--;
    char *entry = strndup(pending->data, n);
    if (!entry) return;
    if (!blank_line(entry)) {
        add_history(entry);
        if (hist) write_history(hist);
    }
    free(entry);
}

/* ---------------------------------------------------------------- completion */

static tl_repl_session *g_session;

static char **complete(const char *text, int start, int end) {
    (void)text;
    (void)start;
    rl_attempted_completion_over = 1;
    size_t ws = 0;
    /* Tab right after `name(` (or between arguments): show the signature */
    size_t at = (size_t)end;
    while (at > 0 && rl_line_buffer[at - 1] == ' ')
        at--;
    if (at > 0 && (rl_line_buffer[at - 1] == '(' || rl_line_buffer[at - 1] == ',')) {
        tl_strbuf sig = {0};
        if (tl_repl_call_signature(g_session->interp, rl_line_buffer, (size_t)end, &sig)) {
            fprintf(rl_outstream ? rl_outstream : stdout, "\n%s\n", tl_strbuf_cstr(&sig));
            rl_forced_update_display();
        }
        tl_strbuf_free(&sig);
        return NULL;
    }
    char **list = tl_repl_completions(g_session->interp, rl_line_buffer, (size_t)end, &ws);
    if (!list) {
        /* `:load <TAB>` completes file names */
        const char *p = rl_line_buffer;
        while (*p == ' ')
            p++;
        if (strncmp(p, ":load", 5) == 0) rl_attempted_completion_over = 0;
        return NULL;
    }
    size_t n = 0;
    while (list[n])
        n++;
    /* readline format: [0] = the text to insert (longest common prefix), then the matches */
    char **m = calloc(n + 2, sizeof *m);
    if (!m) {
        tl_repl_free_completions(list);
        return NULL;
    }
    size_t common = strlen(list[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && list[i][k] == list[0][k])
            k++;
        common = k;
    }
    m[0] = strndup(list[0], common);
    if (n == 1) {
        m[1] = NULL;
        free(list[0]);
    } else {
        for (size_t i = 0; i < n; i++)
            m[i + 1] = list[i];
        m[n + 1] = NULL;
    }
    free(list);
    if (!m[0]) {
        for (size_t i = 1; m[i]; i++)
            free(m[i]);
        free(m);
        return NULL;
    }
    return m;
}

/* ---------------------------------------------------------------- terminal loop */

static char *g_line; /* the line the callback handed over */
static bool g_line_ready, g_eof;

static void on_line(char *line) {
    if (!line) {
        g_eof = true;
    } else {
        g_line = line;
    }
    g_line_ready = true;
}

static char *default_history_path(void) {
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + 16;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/.tl_history", home);
    return p;
}

/* Runs `:load FILE` for each file; false when the session should end (exit()). */
static bool load_files(tl_repl_session *s, int n, char **files) {
    for (int i = 0; i < n && !s->quit; i++) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, ":load %s", files[i]);
        tl_repl_command(s, cmd);
    }
    return !s->quit;
}

int tl_repl_interactive(const char *history_path, int n_load, char **load) {
    tl_repl_session s;
    if (tl_repl_session_init(&s, stdout, stderr) != TL_OK) {
        fprintf(stderr, "tl: out of memory\n");
        return 1;
    }
    g_session = &s;
    /* "" = no history file */
    char *hist = !history_path   ? default_history_path()
                 : *history_path ? strdup(history_path)
                                 : NULL;

    rl_readline_name = "tl";
    rl_catch_signals = 0;
    rl_attempted_completion_function = complete;
    /* words are identifiers and `a::b` names; libedit reads the basic set */
    static char breaks[] = " \t\n\"\\'`@$><=;|&{(,)}[].+-*/%!^~?#";
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = breaks;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(HISTORY_MAX);
    if (hist) read_history(hist);

    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, &old_sa);

    printf("tl %s -- :help for help, Ctrl-D to leave\n", TL_VERSION);
    fflush(stdout);
    busy = 1;
    load_files(&s, n_load, load);
    busy = 0;
    tl_interrupt_requested = 0;

    tl_strbuf pending = {0};
    if (!s.quit && pipe(wake_pipe) == 0) {
        fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
    }
    if (!s.quit) rl_callback_handler_install(PROMPT, on_line);
    while (!s.quit) {
        /* a Ctrl-C that lands before poll() still wakes it through the pipe */
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
        int r = poll(p, wake_pipe[0] >= 0 ? 2 : 1, -1);
        if (r > 0 && (p[1].revents & POLLIN)) {
            char drain[16];
            while (read(wake_pipe[0], drain, sizeof drain) > 0) {
            }
        }
        if (sigint_at_prompt) {
            /* Ctrl-C at the prompt: drop the line and any unfinished input */
            sigint_at_prompt = 0;
            rl_callback_handler_remove();
            rl_replace_line("", 0);
            tl_strbuf_reset(&pending);
            fputs("^C\n", stdout);
            fflush(stdout);
            rl_callback_handler_install(PROMPT, on_line);
            continue;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (!(p[0].revents & POLLIN)) {
            if (p[0].revents & (POLLHUP | POLLERR)) break;
            continue;
        }
        rl_callback_read_char();
        if (!g_line_ready) continue;
        g_line_ready = false;
        if (g_eof) break;
        char *line = g_line;
        g_line = NULL;
        bool run = take_line(&pending, line, true);
        free(line);
        if (run) add_entry_to_history(&pending, hist);
        if (!run) {
            rl_callback_handler_remove();
            rl_callback_handler_install(pending.len ? PROMPT_MORE : PROMPT, on_line);
            continue;
        }
        rl_callback_handler_remove();
        busy_presses = 0;
        busy = 1;
        tl_repl_session_eval(&s, pending.data, pending.len);
        busy = 0;
        tl_interrupt_requested = 0;
        tl_strbuf_reset(&pending);
        if (!s.quit) rl_callback_handler_install(PROMPT, on_line);
    }
    if (!s.quit) {
        rl_callback_handler_remove();
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (hist) write_history(hist);
    free(hist);
    tl_strbuf_free(&pending);
    sigaction(SIGINT, &old_sa, NULL);
    for (int i = 0; i < 2; i++) {
        if (wake_pipe[i] >= 0) close(wake_pipe[i]);
        wake_pipe[i] = -1;
    }
    int code = s.exit_code;
    tl_repl_session_free(&s);
    g_session = NULL;
    tl_threadpool_shutdown();
    return code;
}

/* ---------------------------------------------------------------- non-terminal modes */

/* Feeds lines from `in` as REPL inputs.  Returns 0, 1 after an error when
** stop_on_error, or the exit(n) code. */
static int feed(tl_repl_session *s, FILE *in, bool stop_on_error) {
    tl_strbuf pending = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int code = 0;
    busy = 1;
    while (!s->quit && (n = getline(&line, &cap, in)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[n - 1] = 0;
        if (!take_line(&pending, line, stop_on_error ? false : true)) continue;
        tl_status st = tl_repl_session_eval(s, pending.data, pending.len);
        tl_strbuf_reset(&pending);
        if (st != TL_OK && stop_on_error) {
            code = st == TL_ERR_INTERRUPTED ? 130 : 1; /* as `tl run` after Ctrl-C */
            break;
        }
    }
    if (!code && !s->quit && pending.len) {
        /* input ended inside a construct: evaluate it to report the error */
        if (tl_repl_session_eval(s, pending.data, pending.len) != TL_OK && stop_on_error) code = 1;
    }
    busy = 0;
    if (s->quit) code = s->exit_code;
    free(line);
    tl_strbuf_free(&pending);
    return code;
}

int tl_repl_run_piped(FILE *in, int n_load, char **load) {
    tl_repl_session s;
    if (tl_repl_session_init(&s, stdout, stderr) != TL_OK) return 1;
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    busy = 1;
    int code = load_files(&s, n_load, load) ? feed(&s, in, false) : s.exit_code;
    busy = 0;
    tl_repl_session_free(&s);
    tl_threadpool_shutdown();
    return code;
}

int tl_repl_run_stream(FILE *in, const char *name) {
    tl_strbuf text = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        tl_strbuf_append(&text, buf, n);
    tl_repl_session s;
    if (tl_repl_session_init(&s, stdout, stderr) != TL_OK) {
        tl_strbuf_free(&text);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    int code = 0;
    s.quiet = true; /* a script prints only what it prints */
    const char *src = text.data ? text.data : "";
    tl_input_kind k = tl_repl_classify(src, text.len);
    if (k == TL_INPUT_ITEMS || k == TL_INPUT_STATEMENTS || k == TL_INPUT_EMPTY) {
        /* the whole text at once: errors point into it */
        s.chunk_name = name;
        busy = 1;
        tl_status st = tl_repl_session_eval(&s, src, text.len);
        busy = 0;
        code = s.quit ? s.exit_code : st == TL_ERR_INTERRUPTED ? 130 : st != TL_OK;
    } else {
        /* declarations mixed with statements: one input at a time */
        FILE *m = fmemopen((void *)src, text.len, "r");
        if (m) {
            code = feed(&s, m, true);
            fclose(m);
        } else {
            code = 1;
        }
    }
    fflush(stdout);
    tl_repl_session_free(&s);
    tl_strbuf_free(&text);
    tl_threadpool_shutdown();
    return code;
}
