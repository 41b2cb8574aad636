/* lang/commands.h -- the tl subcommands the CLI dispatches to.
**
** Each subcommand is `int tl_cmd_<name>(int argc, char **argv)` (argv[0] is the
** subcommand name; the return value is the process exit status), defined in
** lang/cmd_<name>.c (or lang/cli.c for run/test/help/version).  To add one:
** declare it here and add a row to tl_commands in lang/cli.c. */
#ifndef TL_LANG_COMMANDS_H
#define TL_LANG_COMMANDS_H

typedef struct tl_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary; /* one line for `tl help` */
} tl_command;

int tl_cmd_run(int argc, char **argv);
int tl_cmd_test(int argc, char **argv);
int tl_cmd_help(int argc, char **argv);
int tl_cmd_version(int argc, char **argv);
int tl_cmd_gguf(int argc, char **argv);     /* lang/cmd_gguf.c     */
int tl_cmd_tokenize(int argc, char **argv); /* lang/cmd_tokenize.c */
int tl_cmd_quantize(int argc, char **argv); /* lang/cmd_quantize.c */
int tl_cmd_pull(int argc, char **argv);     /* lang/cmd_pull.c     */
int tl_cmd_repl(int argc, char **argv);     /* lang/cmd_repl.c     */
/* `tl` with no arguments: the REPL on a terminal, else stdin as a script. */
int tl_cmd_default(void); /* lang/cmd_repl.c */

/* The table, terminated by {0}. */
extern const tl_command tl_commands[];

/* Entry point used by main.c: dispatches argv[1]. */
int tl_cli_main(int argc, char **argv);

#endif
