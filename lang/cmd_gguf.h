/* lang/cmd_gguf.h -- `tl gguf FILE`: print a GGUF file's metadata and tensor table. */
#ifndef TL_LANG_CMD_GGUF_H
#define TL_LANG_CMD_GGUF_H

#include "runtime/gguf.h"

#include <stdbool.h>
#include <stdio.h>

/* `tl gguf [--all] [--meta|--tensors] FILE`; argv[0] is the command name ("gguf").
** Exit status: 0, 1 when the file cannot be opened or is malformed (the error on
** stderr), 2 for a usage error. */
int tl_cmd_gguf(int argc, char **argv);

/* What the command prints.  full: do not elide long arrays and strings. */
typedef struct tl_gguf_dump_opts {
    bool full;
    bool meta;    /* print the header and metadata */
    bool tensors; /* print the tensor table        */
} tl_gguf_dump_opts;
void tl_gguf_dump(FILE *out, const tl_gguf *g, const tl_gguf_dump_opts *opts);

#endif
