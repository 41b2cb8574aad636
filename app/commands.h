/* app/commands.h -- the tl subcommands the CLI dispatches to.
**
** Each subcommand is `int tl_cmd_<name>(int argc, char **argv)` (argv[0] is the
** subcommand name; the return value is the process exit status), defined in
** app/cmd_<name>.c (or app/cli.c for run/test/help/version).  To add one:
** declare it here and add a row to tl_commands in app/cli.c. */
#ifndef TL_APP_COMMANDS_H
#define TL_APP_COMMANDS_H

typedef struct tl_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary; /* one line for `tl help` */
} tl_command;

int tl_cmd_run(int argc, char **argv);
int tl_cmd_test(int argc, char **argv);
int tl_cmd_help(int argc, char **argv);
int tl_cmd_version(int argc, char **argv);
/* `tl gguf [--all] [--meta|--tensors] FILE` (app/cmd_gguf.c): 0, 1 when the file
** cannot be opened or is malformed (the error on stderr), 2 for a usage error. */
int tl_cmd_gguf(int argc, char **argv);
/* `tl tokenize MODEL "text"` (app/cmd_tokenize.c): ids and pieces on stdout. */
int tl_cmd_tokenize(int argc, char **argv);
/* `tl quantize [--pure] [--allow-requantize] IN OUT TYPE` (app/cmd_quantize.c):
** 0, 1 on an error (message on stderr), 2 for a usage error. */
int tl_cmd_quantize(int argc, char **argv);
/* `tl pull NAME | URL [--to PATH]` (app/cmd_pull.c, app/pull.h): 0 (downloaded, or
** already present and verified), 1 (the download or a check failed), 2 (usage). */
int tl_cmd_pull(int argc, char **argv);
int tl_cmd_repl(int argc, char **argv); /* app/cmd_repl.c */
/* `tl list [--verify] [DIR...]` (app/cmd_list.c): local models with size, type, checksum. */
int tl_cmd_list(int argc, char **argv);
/* `tl` with no arguments: the REPL on a terminal, else stdin as a script. */
int tl_cmd_default(void); /* app/cmd_repl.c */

/* The table, terminated by {0}. */
extern const tl_command tl_commands[];

/* Entry point used by main.c: dispatches argv[1]. */
int tl_cli_main(int argc, char **argv);

#endif
