/* dump_layers.c -- record llama.cpp's residual stream after every layer, in the
** directory format examples/tests/debug_layer_outputs.tl --compare DIR reads
** (docs/interp.md "Comparing with llama.cpp layer by layer").
**
** Build against your own llama.cpp checkout (after its cmake build):
**   cc -O2 dump_layers.c -I$LLAMA/include -I$LLAMA/ggml/include \
**      -L$LLAMA/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$LLAMA/build/bin -o dump_layers
** Run:
**   ./dump_layers MODEL.gguf OUT_DIR TOKEN_ID [TOKEN_ID ...]
** (token ids exactly as the .tl script sees them: `print(tokenize(lm.tok, prompt, bos))`).
**
** How it works: llama.cpp calls the context's eval callback (cb_eval) twice per graph
** tensor: first with ask = true ("do you want this one?"), then, for the tensors we
** said yes to, with ask = false once the values are computed.  We want l_out-L (the
** residual after block L) and result_norm (the final norm), copy each out with
** ggml_backend_tensor_get and write it as float32 [n_tokens][n_embd].  Every position
** asks for logits, because llama.cpp drops the rows nobody needs before the last
** block's residual add.  One thread, f32 KV cache, flash attention off, as in the
** recorded test dumps.
**
** Not built or tested by this repository's CI (it needs a llama.cpp build); the API
** used is llama.cpp's from 2025 (llama_model_load_from_file, llama_init_from_model). */
#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *dir;
    int n_tokens, n_embd, n_layer;
    int failed;
} dump_ctx;

static int wanted(const char *name) {
    return strncmp(name, "l_out-", 6) == 0 || strcmp(name, "result_norm") == 0;
}

static bool on_tensor(struct ggml_tensor *t, bool ask, void *user) {
    dump_ctx *d = user;
    if (ask) return wanted(t->name);
    if (!wanted(t->name) || t->type != GGML_TYPE_F32) return true;
    size_t n = ggml_nbytes(t);
    float *buf = malloc(n);
    if (!buf) {
        d->failed = 1;
        return false;
    }
    ggml_backend_tensor_get(t, buf, 0, n); /* ne[0] = n_embd, ne[1] = tokens: row-major rows */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.f32", d->dir, t->name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) d->failed = 1;
    if (f) fclose(f);
    free(buf);
    return true;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.gguf OUT_DIR TOKEN_ID...\n", argv[0]);
        return 2;
    }
    int n_tok = argc - 3;
    dump_ctx d = {.dir = argv[2], .n_tokens = n_tok};
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    d.n_embd = llama_model_n_embd(model);
    d.n_layer = llama_model_n_layer(model);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = cp.n_ubatch = (uint32_t)n_tok;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type =
        LLAMA_FLASH_ATTN_TYPE_DISABLED; /* older llama.cpp: cp.flash_attn = false */
    cp.cb_eval = on_tensor;
    cp.cb_eval_user_data = &d;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return 1;
    struct llama_batch b = llama_batch_init(n_tok, 0, 1);
    for (int i = 0; i < n_tok; i++) {
        b.token[i] = atoi(argv[3 + i]);
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1; /* every position: keeps every row of the last l_out */
    }
    b.n_tokens = n_tok;
    if (llama_decode(ctx, b) != 0 || d.failed) {
        fprintf(stderr, "decode or write failed\n");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", d.dir);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "{\"tokens\": [");
    for (int i = 0; i < n_tok; i++)
        fprintf(f, "%s%d", i ? "," : "", b.token[i]);
    fprintf(f, "], \"n_tokens\": %d, \"n_layer\": %d, \"n_embd\": %d}\n", n_tok, d.n_layer,
            d.n_embd);
    fclose(f);
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    printf("wrote %d l_out files and result_norm.f32 to %s\n", d.n_layer, d.dir);
    return 0;
}
