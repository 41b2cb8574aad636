/* app/cli.c -- the `tl` command line: dispatch, `tl run`, `tl test`, help, version. */
#include "app/commands.h"
#include "app/options.h"
#include "app/term_signals.h"
#include "runtime/temp_file.h"
#include "lang/suggest.h"
#include "lang/eval.h"
#include "runtime/context.h"
#include "runtime/random.h"
#include "runtime/threadpool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const tl_command tl_commands[] = {
    {"run", tl_cmd_run,
     "run FILE.tl [-m MODEL] [-t N] [-s SEED] [options] [ARGS]   run a script (tl run --help)"},
    {"test", tl_cmd_test,
     "test FILE.tl     run the file's `test NAME { }` blocks (tl test --help)"},
    {"tokenize", tl_cmd_tokenize,
     "tokenize ...     tokenize text with a model's tokenizer (tl tokenize --help)"},
    {"pull", tl_cmd_pull,
     "pull NAME|URL [--to PATH]   download a GGUF model (tl pull --help, --list)"},
    {"list", tl_cmd_list,
     "list [--verify]  the models on this machine: size, type, checksum state"},
    {"repl", tl_cmd_repl, "repl [FILE.tl]   interactive prompt (also `tl` alone on a terminal)"},
    {"gguf", tl_cmd_gguf,
     "gguf [--all] [--meta|--tensors] FILE   metadata and tensor table of a GGUF file"},
    {"quantize", tl_cmd_quantize,
     "quantize [--pure] IN.gguf OUT.gguf TYPE   convert a model's weights (q4_0, q8_0, q4_k, f16, "
     "...)"},
    {"help", tl_cmd_help, "help             this text"},
    {"version", tl_cmd_version, "version          print the version (also tl -v, tl --version)"},
    {0},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tl <command> [arguments]\n\ncommands:\n");
    for (const tl_command *c = tl_commands; c->name; c++)
        fprintf(f, "  tl %s\n", c->summary);
}

/* tl help [CMD]: CMD's own --help (tl help run = tl run --help), else the command list. */
int tl_cmd_help(int argc, char **argv) {
    if (argc > 1) {
        for (const tl_command *c = tl_commands; c->name; c++) {
            if (strcmp(c->name, argv[1]) != 0 || c->fn == tl_cmd_help) continue;
            char help[] = "--help";
            char *sub[] = {argv[1], help, NULL};
            return c->fn(2, sub);
        }
    }
    usage(stdout);
    return 0;
}

int tl_cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("tl %s\n", TL_VERSION);
    return 0;
}

static void on_sigint(int sig) {
    (void)sig;
    if (tl_interrupt_requested) { /* second Ctrl-C: give up, leaving no temporary file */
        tl_temp_remove_all();
        _exit(130);
    }
    tl_interrupt_requested = 1;
}

typedef struct run_opts {
    const char *file;
    bool test, bench, verbose, time;
    long long max_steps;
    long long threads; /* 0: the runtime's default */
    int n_args;
    char **args;
} run_opts;

static int parse_int_opt(const char *name, const char *v, long long *out) {
    char *end;
    if (!v) {
        fprintf(stderr, "tl: %s needs a value\n", name);
        return -1;
    }
    errno = 0;
    *out = strtoll(v, &end, 10);
    if (*end || end == v || *out < 0 || errno == ERANGE) {
        fprintf(stderr, "tl: %s: '%s' is not a non-negative integer\n", name, v);
        return -1;
    }
    return 0;
}

enum {
    O_HELP,
    O_TEST,
    O_BENCH,
    O_TIME,
    O_HUGE,
    O_VERBOSE,
    O_MAX_STEPS,
    O_THREADS,
    O_SEED,
    O_MODEL,
    O_QUIET,
};

/* `tl run` and `tl test` options: parsing, --help and suggestions come from here. */
static const tl_option run_options[] = {
    {"--model", "-m", "PATH", "the model: sets TL_MODEL, which the examples read", O_MODEL},
    {"--threads", "-t", "N", "threads for tensor ops (default: TL_THREADS, else every core)",
     O_THREADS},
    {"--seed", "-s", "S", "seed of rand/randn and the samplers (also TL_SEED)", O_SEED},
    {"--test", NULL, NULL, "run the file's `test NAME { }` blocks instead of main", O_TEST},
    {"--bench", NULL, NULL, "run the file's `bench NAME { }` blocks instead of main", O_BENCH},
    {"--time", NULL, NULL, "print each top-level statement's time (stderr)", O_TIME},
    {"--max-steps", NULL, "N", "stop after N statements (0: no limit)", O_MAX_STEPS},
    {"--quiet", "-q", NULL, "no progress lines from learn { } blocks (TL_QUIET=1)", O_QUIET},
    {"--huge-pages", NULL, NULL, "read models into transparent huge pages (TL_HUGE_PAGES=1)",
     O_HUGE},
    {"--verbose", "-v", NULL, "say what happens (stderr)", O_VERBOSE},
    {"--debug", "-d", NULL, "the same as --verbose", O_VERBOSE},
    {"--help", "-h", NULL, "this text", O_HELP},
    {0},
};

static void run_help(FILE *f, const char *cmd) {
    fprintf(f,
            "usage: tl %s FILE.tl [options] [ARGS...] [-- ARGS...]\n"
            "       (FILE - reads the script from standard input; words after the file and\n"
            "       everything after -- go to the script: args())\n\noptions:\n",
            cmd);
    tl_options_help(f, run_options);
}

/* 0: parsed; 1: --help printed (exit 0); -1: a usage error (printed). */
static int parse_run(int argc, char **argv, run_opts *o) {
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (strcmp(a, "--") == 0) {
            o->n_args = argc - i - 1;
            o->args = argv + i + 1;
            break;
        }
        if (o->file) { /* every word after the file goes to the script */
            o->n_args = argc - i;
            o->args = argv + i;
            break;
        }
        if (a[0] != '-' || !a[1]) { /* the file ("-": standard input) */
            o->file = a;
            continue;
        }
        const char *val;
        const tl_option *opt = tl_options_find(run_options, a, &val);
        if (!opt) {
            const char *hint = tl_options_suggest(run_options, a);
            fprintf(stderr, "tl %s: unknown option %s", cmd, a);
            if (hint) fprintf(stderr, " (did you mean %s?)", hint);
            fprintf(stderr, "\n(tl %s --help lists the options)\n", cmd);
            return -1;
        }
        if (opt->value && !val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tl %s: %s needs a value (%s %s)\n", cmd, opt->name, opt->name,
                        opt->value);
                return -1;
            }
            val = argv[++i];
        } else if (!opt->value && val) {
            fprintf(stderr, "tl %s: %s takes no value\n", cmd, opt->name);
            return -1;
        }
        switch (opt->id) {
        case O_HELP:
            run_help(stdout, cmd);
            return 1;
        case O_TEST:
            o->test = true;
            break;
        case O_BENCH:
            o->bench = true;
            break;
        case O_TIME:
            o->time = true;
            break;
        case O_HUGE:
            setenv("TL_HUGE_PAGES", "1", 1); /* read by every model load (runtime/model.c) */
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case O_QUIET:
            setenv("TL_QUIET", "1", 1); /* learn { } prints no progress lines (lang/eval_learn.c) */
            break;
        case O_MODEL:
            setenv("TL_MODEL", val, 1); /* the scripts' model path */
            break;
        case O_MAX_STEPS:
            if (parse_int_opt(opt->name, val, &v)) return -1;
            o->max_steps = v;
            break;
        case O_THREADS:
            if (parse_int_opt(opt->name, val, &v)) return -1;
            if (v > TL_MAX_THREADS) {
                fprintf(stderr,
                        "tl: --threads: %lld is out of range (0 = every core, or 1 .. %d)\n", v,
                        TL_MAX_THREADS);
                return -1;
            }
            setenv("TL_THREADS", val, 1); /* exported for the runtime areas that read it */
            o->threads = v;
            break;
        case O_SEED:
            if (parse_int_opt(opt->name, val, &v)) return -1;
            setenv("TL_SEED", val, 1);
            tl_random_seed((uint64_t)v); /* every random builtin */
            break;
        }
    }
    if (!o->file) {
        fprintf(stderr, "usage: tl %s FILE.tl [options] [-- ARGS]   (tl %s --help)\n", cmd, cmd);
        return -1;
    }
    return 0;
}

static int run(run_opts *o) {
    tl_interp *I = tl_interp_new();
    if (!I) {
        fprintf(stderr, "tl: out of memory\n");
        return 1;
    }
    /* the runtime ignores a TL_THREADS it cannot read; the command line says so */
    const char *env_threads = getenv("TL_THREADS");
    if (!o->threads && env_threads && *env_threads) {
        char *end;
        errno = 0;
        long v = strtol(env_threads, &end, 10);
        if (*end || errno || v < 0 || v > TL_MAX_THREADS) {
            fprintf(stderr,
                    "tl run: TL_THREADS='%s' is not a thread count (0 = every core, or 1 .. %d)\n",
                    env_threads, TL_MAX_THREADS);
            tl_interp_free(I);
            return 2;
        }
    }
    if (o->threads && tl_threadpool_set_threads((int)o->threads) != TL_OK) {
        fprintf(stderr, "tl run: --threads: %s\n", tl_last_error());
        tl_interp_free(I);
        return 2;
    }
    signal(SIGINT, on_sigint);
    tl_app_catch_term_signals(); /* SIGTERM/SIGHUP: no temporary file left */
    if (o->max_steps) tl_interp_set_max_steps(I, o->max_steps);
    if (o->time) tl_interp_set_timing(I, stderr);
    struct timespec t_start, t_end;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    tl_interp_set_args(I, o->n_args, o->args);
    if (o->verbose) fprintf(stderr, "Parsing %s\n", o->file);
    tl_status st = tl_interp_load_file(I, o->file);
    bool loaded = st == TL_OK; /* a test run prints its tests' errors itself, not this one */
    if (st == TL_OK) {
        if (o->test)
            st = tl_interp_run_tests(I, stdout, stderr, NULL, NULL);
        else if (o->bench)
            st = tl_interp_run_benches(I, stdout);
        else
            st = tl_interp_run_main(I);
    }
    fflush(stdout);
    if (o->time) {
        clock_gettime(CLOCK_MONOTONIC, &t_end);
        double ms = (double)(t_end.tv_sec - t_start.tv_sec) * 1e3 +
                    (double)(t_end.tv_nsec - t_start.tv_nsec) * 1e-6;
        fprintf(stderr, "time: total %s %.3f ms\n", o->file, ms);
    }
    int code = 0;
    if (tl_interp_exit_code(I) >= 0) {
        code = tl_interp_exit_code(I);
    } else if (st != TL_OK) {
        if (!o->test || !loaded) fputs(tl_interp_error(I), stderr);
        /* Ctrl-C: the shell's convention (128 + SIGINT) */
        code = (st == TL_ERR_INTERRUPTED && strcmp(tl_last_error(), "interrupted") == 0) ? 130 : 1;
    } else if (o->verbose) {
        fprintf(stderr, "\xE2\x9C\x85 Program executed successfully!\n");
    }
    tl_interp_free(I);
    tl_threadpool_shutdown(); /* join the workers so nothing is left behind */
    return code;
}

int tl_cmd_run(int argc, char **argv) {
    run_opts o = {0};
    int rc = parse_run(argc, argv, &o);
    if (rc) return rc > 0 ? 0 : 2;
    return run(&o);
}

int tl_cmd_test(int argc, char **argv) {
    run_opts o = {0};
    int rc = parse_run(argc, argv, &o);
    if (rc) return rc > 0 ? 0 : 2;
    o.test = true;
    return run(&o);
}

int tl_cli_main(int argc, char **argv) {
    if (argc < 2) return tl_cmd_default();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "-v") == 0)
        return tl_cmd_version(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return tl_cmd_help(argc - 1, argv + 1);
    for (const tl_command *c = tl_commands; c->name; c++)
        if (strcmp(c->name, cmd) == 0) return c->fn(argc - 1, argv + 1);
    /* `tl FILE.tl` runs the file */
    size_t n = strlen(cmd);
    if (n > 3 && strcmp(cmd + n - 3, ".tl") == 0) return tl_cmd_run(argc, argv);
    const char *names[64];
    size_t n_names = 0;
    for (const tl_command *c = tl_commands; c->name && n_names < 64; c++)
        names[n_names++] = c->name;
    const char *hint = tl_suggest(cmd, names, n_names);
    if (hint) {
        fprintf(stderr, "tl: unknown command '%s' (did you mean 'tl %s'?)\n", cmd, hint);
        return 1;
    }
    fprintf(stderr, "tl: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 1;
}
