/* lang/cmd_tokenize.h -- `tl tokenize MODEL "text"`: ids and pieces on stdout. */
#ifndef TL_LANG_CMD_TOKENIZE_H
#define TL_LANG_CMD_TOKENIZE_H

/* argv[0] is the subcommand name ("tokenize"); returns the process exit code. */
int tl_cmd_tokenize(int argc, char **argv);

#endif
