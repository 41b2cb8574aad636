/* lang/cmd_quantize.h -- `tl quantize IN OUT TYPE`: convert a GGUF model's weights. */
#ifndef TL_LANG_CMD_QUANTIZE_H
#define TL_LANG_CMD_QUANTIZE_H

/* `tl quantize [--pure] [--allow-requantize] IN OUT TYPE`; argv[0] is the command name.
** Exit status: 0, 1 on an error (message on stderr), 2 for a usage error. */
int tl_cmd_quantize(int argc, char **argv);

#endif
