/* lang/cmd_pull.h -- `tl pull NAME | URL [--to PATH]`: download a GGUF model (lang/pull.h). */
#ifndef TL_LANG_CMD_PULL_H
#define TL_LANG_CMD_PULL_H

/* argv[0] is "pull".  Exit status 0 (downloaded or already present and
** verified), 1 (the download or a check failed), 2 (usage). */
int tl_cmd_pull(int argc, char **argv);

#endif
