/* tests/repl/pty_drive.c -- drives `tl` through a pseudo-terminal from a small script.
**
** Usage: pty_drive TL_BINARY SCRIPT.pty
**
** The script is one command per line ('#' starts a comment line):
**   spawn [ARGS...]      start TL_BINARY ARGS in a new pty (80x24); HOME is a fresh
**                        temporary directory shared by every spawn of the script
**   send "TEXT"          write TEXT to the terminal (escapes: \r \n \t \e \\ \" \xHH)
**   expect "TEXT"        wait until TEXT appears in the output after the last match
**   wait_exit CODE       wait for the child to exit with status CODE
**   sleep MS             pause
**   home_file NAME "TEXT"  the file $HOME/NAME exists and contains TEXT
**   need_model NAME      skip (print SKIPPED, exit 77) unless $TL_TEST_MODELS/NAME exists
** Terminal escape sequences, carriage returns, backspaces and bells are removed
** from the output before matching.  The timeout per expect is 10 s (TL_PTY_TIMEOUT
** overrides, in seconds).  On failure the output seen so far is printed and the
** exit status is 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char out[1 << 20]; /* cleaned output */
static size_t out_len, out_pos;
static int esc_state; /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC */
static int master_fd = -1;
static pid_t child = -1;
static char home[256];
static double timeout_s = 10;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void add_byte(unsigned char c) {
    switch (esc_state) {
    case 1:
        esc_state = c == '[' ? 2 : c == ']' ? 3 : 0;
        return;
    case 2:
        if (c >= 0x40 && c <= 0x7e) esc_state = 0;
        return;
    case 3:
        if (c == 7) esc_state = 0;
        return;
    default:
        break;
    }
    if (c == 0x1b) {
        esc_state = 1;
        return;
    }
    if (c == '\r' || c == '\b' || c == 7) return;
    if (out_len + 1 < sizeof out) out[out_len++] = (char)c;
    out[out_len] = 0;
}

/* Reads what is available within ms milliseconds; returns -1 at EOF. */
static int pump(int ms) {
    if (master_fd < 0) return -1;
    struct pollfd p = {master_fd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    if (r <= 0) return 0;
    unsigned char buf[4096];
    ssize_t n = read(master_fd, buf, sizeof buf);
    if (n <= 0) return -1;
    for (ssize_t i = 0; i < n; i++)
        add_byte(buf[i]);
    return 1;
}

static void fail(int lineno, const char *fmt, const char *arg) {
    fprintf(stderr, "pty_drive: line %d: ", lineno);
    fprintf(stderr, fmt, arg);
    fprintf(stderr,
            "\n---- output (cleaned) ----\n%s\n---- unmatched part starts at offset %zu ----\n%s\n",
            out, out_pos, out + out_pos);
    if (child > 0) kill(child, SIGKILL);
    exit(1);
}

/* Parses a "quoted" argument with escapes into dst; returns its length or -1. */
static int unquote(const char *s, char *dst, size_t cap) {
    while (*s == ' ')
        s++;
    if (*s++ != '"') return -1;
    size_t n = 0;
    for (; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            switch (*s) {
            case 'r':
                c = '\r';
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'e':
                c = 0x1b;
                break;
            case 'x': {
                char hex[3] = {s[1], s[2], 0};
                c = (char)strtol(hex, NULL, 16);
                s += 2;
                break;
            }
            default:
                c = *s;
                break;
            }
        }
        if (n + 1 >= cap) return -1;
        dst[n++] = c;
    }
    if (*s != '"') return -1;
    dst[n] = 0;
    return (int)n;
}

static void spawn(const char *tl, char *args, int lineno) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)tl;
    for (char *w = strtok(args, " \t\n"); w && argc < 63; w = strtok(NULL, " \t\n"))
        argv[argc++] = w;
    argv[argc] = NULL;
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    out_len = out_pos = 0;
    out[0] = 0;
    esc_state = 0;
    child = forkpty(&master_fd, NULL, NULL, &ws);
    if (child < 0) fail(lineno, "forkpty failed%s", "");
    if (child == 0) {
        setenv("HOME", home, 1);
        setenv("TERM", "xterm", 1);
        unsetenv("TL_PATH_UNUSED");
        execv(tl, argv);
        _exit(127);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: pty_drive TL_BINARY SCRIPT.pty\n");
        return 2;
    }
    const char *t = getenv("TL_PTY_TIMEOUT");
    if (t && atof(t) > 0) timeout_s = atof(t);
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    snprintf(home, sizeof home, "/tmp/tl_pty_XXXXXX");
    if (!mkdtemp(home)) {
        perror("mkdtemp");
        return 2;
    }
    char line[4096], arg[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || !*s) continue;
        if (strncmp(s, "spawn", 5) == 0) {
            spawn(argv[1], s + 5, lineno);
        } else if (strncmp(s, "send ", 5) == 0) {
            int n = unquote(s + 5, arg, sizeof arg);
            if (n < 0) fail(lineno, "bad quoted text%s", "");
            if (write(master_fd, arg, (size_t)n) != n) fail(lineno, "write failed%s", "");
        } else if (strncmp(s, "expect ", 7) == 0) {
            if (unquote(s + 7, arg, sizeof arg) < 0) fail(lineno, "bad quoted text%s", "");
            double end = now() + timeout_s;
            for (;;) {
                char *hit = strstr(out + out_pos, arg);
                if (hit) {
                    out_pos = (size_t)(hit - out) + strlen(arg);
                    break;
                }
                if (now() > end) fail(lineno, "timed out waiting for \"%s\"", arg);
                if (pump(100) < 0) {
                    hit = strstr(out + out_pos, arg);
                    if (!hit) fail(lineno, "output ended while waiting for \"%s\"", arg);
                }
            }
        } else if (strncmp(s, "wait_exit", 9) == 0) {
            int want = atoi(s + 9), status = 0;
            double end = now() + timeout_s;
            for (;;) {
                pid_t r = waitpid(child, &status, WNOHANG);
                if (r == child) break;
                if (now() > end) fail(lineno, "timed out waiting for exit%s", "");
                if (pump(50) < 0) usleep(20000);
            }
            while (pump(0) > 0) {
            }
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (code != want) {
                snprintf(arg, sizeof arg, "%d", code);
                fail(lineno, "exit status %s", arg);
            }
            close(master_fd);
            master_fd = -1;
            child = -1;
        } else if (strncmp(s, "sleep", 5) == 0) {
            double end = now() + atoi(s + 5) / 1000.0;
            while (now() < end)
                pump(10);
        } else if (strncmp(s, "need_model ", 11) == 0) {
            char name[256], path[600];
            const char *dir = getenv("TL_TEST_MODELS");
            if (sscanf(s + 11, "%255s", name) != 1) fail(lineno, "bad need_model%s", "");
            snprintf(path, sizeof path, "%s/%s", dir ? dir : "", name);
            if (!dir || access(path, R_OK) != 0) {
                printf("SKIPPED: %s not found (TL_TEST_MODELS)\n", path);
                rmdir(home);
                return 77;
            }
        } else if (strncmp(s, "home_file ", 10) == 0) {
            char name[256];
            if (sscanf(s + 10, "%255s", name) != 1) fail(lineno, "bad home_file%s", "");
            if (unquote(s + 10 + strlen(name), arg, sizeof arg) < 0)
                fail(lineno, "bad quoted text%s", "");
            char path[600], content[1 << 16];
            snprintf(path, sizeof path, "%s/%s", home, name);
            FILE *h = fopen(path, "r");
            if (!h) fail(lineno, "no file %s", path);
            size_t n = fread(content, 1, sizeof content - 1, h);
            content[n] = 0;
            fclose(h);
            if (!strstr(content, arg)) fail(lineno, "home file lacks \"%s\"", arg);
        } else {
            fail(lineno, "unknown command: %s", s);
        }
    }
    fclose(f);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    /* remove the temporary HOME (only files we know of) */
    char path[600];
    snprintf(path, sizeof path, "%s/.tl_history", home);
    unlink(path);
    rmdir(home);
    return 0;
}
