/* tests/fuzz/fuzz_model.c -- libFuzzer target: the Model object over mutated GGUF files.
**
** The bytes are written to a temporary file, which a .tl program then opens as
** a Model and walks the way scripts do: m.blk (the layer count from the tensor
** names), one layer's weights, m.config, llama_config, llama_load (the config
** checked against the tensors, the tokenizer), an empty cache and a two-token
** forward pass.  Budgets: 20000 steps, call depth 200, the fuzz build's 256 MiB
** tensor limit.  Every lie must end in an error message, never a crash, a
** sanitizer report, a leak or a huge allocation.  The seed
** (corpus/model/tiny-llama.gguf) is made by make_model_seed.tl. */
#include "lang/eval.h"
#include "fuzz_sink.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void cleanup(void) {
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fuzz_sink_stdout();
    setenv("TL_THREADS", "1", 1);
    setenv("TL_PATH", TL_SOURCE_DIR "/stdlib", 1);
    tl_value_set_max_string((size_t)64 << 20);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.40s/fuzz_model.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    atexit(cleanup);
    return 0;
}

static const char prog[] = "import \"llama\"\n"
                           "main {\n"
                           "    let m = load_model(fuzz_path)\n"
                           "    let layers = m.blk\n"
                           "    if len(layers) > 0 {\n"
                           "        let w = layers[0].attn_q.weight\n"
                           "        print(shape(w))\n"
                           "    }\n"
                           "    print(m.config)\n"
                           "    let c = llama_config(m)\n"
                           "    print(c.n_layer, c.n_vocab, c.head_dim)\n"
                           "    let lm = llama_load(fuzz_path)\n"
                           "    let cache = llama_cache(lm)\n"
                           "    print(shape(forward(lm, cache, [1, 2])))\n"
                           "}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_sink_reset();
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    tl_interp *I = tl_interp_new();
    if (!I) return 0;
    tl_interp_set_max_steps(I, 20000);
    tl_interp_set_max_depth(I, 200);
    tl_value p = {0};
    if (tl_value_cstring(path, &p) != TL_OK || tl_interp_set_global(I, "fuzz_path", &p) != TL_OK)
        abort();
    tl_value_release(&p);
    tl_value result = {0};
    if (tl_interp_eval_string(I, prog, sizeof prog - 1, "fuzz_model.tl", &result) == TL_OK)
        tl_value_release(&result);
    else
        (void)tl_interp_error(I);
    tl_interp_free(I);
    return 0;
}
