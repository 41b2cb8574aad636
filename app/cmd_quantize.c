/* app/cmd_quantize.c -- `tl quantize IN OUT TYPE` (the work is tl_model_quantize in runtime/). */
#include "app/commands.h"
#include "app/options.h"
#include "app/term_signals.h"

#include "runtime/model.h"

#include <stdio.h>
#include <string.h>

static int usage_to(FILE *f) {
    fputs("usage: tl quantize [--pure] [--allow-requantize] [--quiet] IN.gguf OUT.gguf TYPE\n"
          "  TYPE: q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k_s q3_k_m q3_k_l q4_k_s q4_k_m\n"
          "        q5_k_s q5_k_m q6_k f16 bf16 f32 (q3_k, q4_k, q5_k = the _m mixes)\n"
          "  as llama-quantize: matrices get TYPE, output.weight q6_k and the k-quant\n"
          "  mixes' choices unless --pure; norms and 1-D tensors are kept as they are\n"
          "  each tensor converted is listed on stderr as it is written (--quiet: not)\n",
          f);
    return 2;
}

static int usage(void) {
    return usage_to(stderr);
}

static const char *const quantize_options[] = {"--pure", "--allow-requantize", "--quiet", "--help",
                                               NULL};

/* "[ 12/201] blk.0.attn_q.weight  f32 -> q4_0" for each converted tensor. */
static void show_progress(void *user, int64_t index, int64_t count, const char *name, tl_dtype from,
                          tl_dtype to) {
    (void)user;
    int w = count >= 1000 ? 4 : count >= 100 ? 3 : 2;
    fprintf(stderr, "[%*lld/%lld] %-32s %s -> %s\n", w, (long long)index, (long long)count, name,
            tl_dtype_name(from), tl_dtype_name(to));
}

int tl_cmd_quantize(int argc, char **argv) {
    tl_quantize_opts opts = {0};
    bool quiet = false;
    const char *pos[3];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pure") == 0)
            opts.pure = true;
        else if (strcmp(argv[i], "--allow-requantize") == 0)
            opts.allow_requantize = true;
        else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage_to(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            tl_options_unknown("quantize", argv[i], quantize_options);
            return usage();
        } else if (n == 3)
            return usage();
        else
            pos[n++] = argv[i];
    }
    if (n != 3) return usage();
    tl_ftype ftype;
    if (!tl_ftype_from_name(pos[2], &ftype)) {
        fprintf(stderr, "tl quantize: unknown or unsupported type '%s'\n", pos[2]);
        return usage();
    }
    if (!quiet) opts.progress = show_progress;
    tl_app_catch_stop_signals(true); /* Ctrl-C, kill, a closed pipe: no temporary file left */
    tl_quantize_report r;
    if (tl_model_quantize(pos[0], pos[1], ftype, &opts, &r) != TL_OK) {
        fprintf(stderr, "tl quantize: %s\n", tl_last_error());
        return 1;
    }
    fprintf(stderr, "tl quantize: %s -> %s (%s): %lld tensors converted, %.2f MiB -> %.2f MiB\n",
            pos[0], pos[1], tl_ftype_name(ftype), (long long)r.n_converted,
            (double)r.bytes_in / (1 << 20), (double)r.bytes_out / (1 << 20));
    return 0;
}
