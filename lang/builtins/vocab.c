/* lang/builtins/vocab.c -- learn_vocab(text, size[, min_char_count]): a llama SPM
** vocabulary learned from a text by byte-pair merging (runtime/vocab_train.h), returned as
** [tokens, scores, token_types], the values of the GGUF keys tokenizer.ggml.tokens,
** tokenizer.ggml.scores and tokenizer.ggml.token_type (save_gguf stores them; load_tokenizer
** reads the file back).  examples/train/tiny_llama.tl uses it. */
#include "lang/builtin.h"
#include "runtime/vocab_train.h"

static tl_status bi_learn_vocab(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    if (argv[0].kind != TL_VAL_STRING)
        return tl_fail(TL_ERR_TYPE, "%s: argument 1 must be a string, got %s", c->name,
                       tl_value_type_name(&argv[0]));
    int64_t size, min_count = 1;
    tl_status st = tl_arg_int(c, argv, 1, &size);
    if (!st && argc > 2) st = tl_arg_int(c, argv, 2, &min_count);
    if (st) return st;
    if (size < 260 || size > (1 << 24))
        return tl_fail(TL_ERR_ARG, "%s: a vocabulary of %lld pieces (must be 260..%d)", c->name,
                       (long long)size, 1 << 24);
    tl_trained_vocab v;
    if ((st = tl_vocab_train(argv[0].as.str->data, argv[0].as.str->len, (int32_t)size, min_count,
                             &v)))
        return st;
    tl_value toks = {0}, scores = {0}, types = {0};
    if (!(st = tl_value_array((size_t)v.n, &toks)) &&
        !(st = tl_value_array((size_t)v.n, &scores)) &&
        !(st = tl_value_array((size_t)v.n, &types))) {
        for (int32_t i = 0; !st && i < v.n; i++) {
            tl_value s;
            st = tl_value_string(v.texts[i], v.lens[i], &s);
            if (!st) st = tl_array_push(toks.as.arr, s);
            if (!st) st = tl_array_push(scores.as.arr, tl_value_float(v.scores[i]));
            if (!st) st = tl_array_push(types.as.arr, tl_value_int(v.types[i]));
        }
    }
    if (!st && !(st = tl_value_array(3, out))) {
        st = tl_array_push(out->as.arr, toks);
        toks = (tl_value){0};
        if (!st) st = tl_array_push(out->as.arr, scores);
        scores = (tl_value){0};
        if (!st) st = tl_array_push(out->as.arr, types);
        types = (tl_value){0};
        if (st) tl_value_release(out);
    }
    tl_value_release(&toks);
    tl_value_release(&scores);
    tl_value_release(&types);
    tl_trained_vocab_free(&v);
    return st;
}

const tl_builtin_def tl_builtins_vocab[] = {
    {"learn_vocab", 2, 3, bi_learn_vocab,
     "learn_vocab(text, size[, min_char_count]) -> [tokens, scores, token_types]",
     TL_KIND_BIT(TL_VAL_STRING)},
    {0},
};
