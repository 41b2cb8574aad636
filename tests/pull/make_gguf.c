/* tests/pull/make_gguf.c -- writes the small GGUF the `tl pull` tests serve:
** architecture "llama", an f32 and a q8_0 tensor with deterministic
** pseudo-random values (~1.6 MB).  Usage: make_gguf OUT.gguf */
#include "runtime/gguf.h"
#include "runtime/quant.h"

#include <stdio.h>

static uint32_t rng = 12345;
static float next_value(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / (float)(1u << 24) - 0.5f;
}

static tl_status random_f32(int64_t cols, int64_t rows, tl_tensor **out) {
    int64_t ne[2] = {cols, rows};
    tl_status st = tl_tensor_new(TL_DTYPE_F32, 2, ne, out);
    if (st) return st;
    float *p = tl_tensor_data(*out);
    for (int64_t i = 0; i < cols * rows; i++)
        p[i] = next_value();
    return TL_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_gguf OUT.gguf\n");
        return 2;
    }
    tl_gguf_writer *w = NULL;
    tl_tensor *a = NULL, *b = NULL, *bq = NULL;
    tl_status st = tl_gguf_writer_new(&w);
    if (!st) st = tl_gguf_writer_set_string(w, "general.architecture", "llama", 5);
    if (!st) st = tl_gguf_writer_set_string(w, "general.name", "pull-test", 9);
    if (!st) st = tl_gguf_writer_set_u32(w, "llama.block_count", 1);
    if (!st) st = random_f32(512, 512, &a);
    if (!st) st = tl_gguf_writer_add_tensor(w, "token_embd.weight", a);
    if (!st) st = random_f32(1024, 512, &b);
    if (!st) st = tl_tensor_quantize(b, TL_DTYPE_Q8_0, &bq);
    if (!st) st = tl_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", bq);
    if (!st) st = tl_gguf_writer_save(w, argv[1]);
    tl_tensor_unref(a);
    tl_tensor_unref(b);
    tl_tensor_unref(bq);
    tl_gguf_writer_free(w);
    if (st) {
        fprintf(stderr, "make_gguf: %s\n", tl_last_error());
        return 1;
    }
    return 0;
}
