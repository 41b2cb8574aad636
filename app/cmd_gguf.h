/* app/cmd_gguf.h -- printing a GGUF file's metadata and tensor table (`tl gguf`). */
#ifndef TL_APP_CMD_GGUF_H
#define TL_APP_CMD_GGUF_H

#include "app/commands.h" /* tl_cmd_gguf */
#include "runtime/gguf.h"

#include <stdbool.h>
#include <stdio.h>

/* What the command prints.  full: do not elide long arrays and strings. */
typedef struct tl_gguf_dump_opts {
    bool full;
    bool meta;    /* print the header and metadata */
    bool tensors; /* print the tensor table        */
} tl_gguf_dump_opts;
void tl_gguf_dump(FILE *out, const tl_gguf *g, const tl_gguf_dump_opts *opts);

#endif
