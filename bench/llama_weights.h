/* bench/llama_weights.h -- a llama model's weights looked up once by name, for the
** C replays of the stdlib forward pass (bench_forward_c, bench_batch_c), which
** read them where the .tl code reads lm.model.blk[i].* and lm.out_w.
** Header-only: each bench is its own program. */
#ifndef TL_BENCH_LLAMA_WEIGHTS_H
#define TL_BENCH_LLAMA_WEIGHTS_H

#include "runtime/model.h"

#include <stdio.h>
#include <stdlib.h>

/* One layer's weights. */
typedef struct layer_w {
    const tl_tensor *attn_norm, *qkv[3], *attn_out, *ffn_norm, *gate_up[2], *down;
} layer_w;

typedef struct llama_w {
    tl_llama_config cfg;
    layer_w *blk; /* cfg.n_layer */
    const tl_tensor *tok_embd, *out_norm, *out_w;
    double bytes, head_bytes; /* what a one-token forward's matmuls read */
} llama_w;

static inline const tl_tensor *llama_w_find(tl_model *m, const char *fmt, int i) {
    char name[96];
    snprintf(name, sizeof name, fmt, i);
    const tl_tensor *t = tl_model_find_tensor(m, name);
    if (!t) {
        fprintf(stderr, "bench: the model has no tensor %s\n", name);
        exit(1);
    }
    return t;
}

/* Fills w from m; exits with a message when something is missing. */
static inline void llama_w_init(llama_w *w, tl_model *m) {
    if (tl_model_llama_config(m, &w->cfg) != TL_OK) {
        fprintf(stderr, "bench: %s\n", tl_last_error());
        exit(1);
    }
    w->blk = calloc((size_t)w->cfg.n_layer, sizeof *w->blk);
    if (!w->blk) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    w->bytes = 0;
    for (int i = 0; i < w->cfg.n_layer; i++) {
        layer_w *b = &w->blk[i];
        b->attn_norm = llama_w_find(m, "blk.%d.attn_norm.weight", i);
        b->qkv[0] = llama_w_find(m, "blk.%d.attn_q.weight", i);
        b->qkv[1] = llama_w_find(m, "blk.%d.attn_k.weight", i);
        b->qkv[2] = llama_w_find(m, "blk.%d.attn_v.weight", i);
        b->attn_out = llama_w_find(m, "blk.%d.attn_output.weight", i);
        b->ffn_norm = llama_w_find(m, "blk.%d.ffn_norm.weight", i);
        b->gate_up[0] = llama_w_find(m, "blk.%d.ffn_gate.weight", i);
        b->gate_up[1] = llama_w_find(m, "blk.%d.ffn_up.weight", i);
        b->down = llama_w_find(m, "blk.%d.ffn_down.weight", i);
        const tl_tensor *mats[7] = {b->qkv[0],     b->qkv[1],     b->qkv[2], b->attn_out,
                                    b->gate_up[0], b->gate_up[1], b->down};
        for (int k = 0; k < 7; k++)
            w->bytes += (double)tl_tensor_nbytes(mats[k]);
    }
    w->tok_embd = llama_w_find(m, "token_embd.weight", 0);
    w->out_norm = llama_w_find(m, "output_norm.weight", 0);
    w->out_w = w->cfg.tied_output ? w->tok_embd : llama_w_find(m, "output.weight", 0);
    w->head_bytes = (double)tl_tensor_nbytes(w->out_w);
    w->bytes += w->head_bytes;
}

#endif
