/* lang/builtins/compat_generate.c -- generate(model, tok, prompt, max_tokens[,
** temperature]): text generation in one call, a builtin the original named (a
** stub there).  It runs the llama forward pass of stdlib/llama.tl in a private
** interpreter, so the script's own names (and stdlib's `generate`, which takes a
** Llama and a cache) are not touched: the model is re-opened by its path (an
** mmap, no copy), the prompt tokenized with BOS and special tokens, up to
** max_tokens ids sampled (temperature 0: greedy, the default) until the
** end-of-sequence token, and the new text returned. */
#include "lang/builtin.h"
#include "lang/eval.h"

#include <string.h>

static const char generate_src[] =
    "import \"llama\"\n"
    "main {\n"
    "    let lm = llama_load(__tl_generate_path)\n"
    "    lm.tok = __tl_generate_tok\n"
    "    let ids = tokenize(lm.tok, __tl_generate_prompt, true)\n"
    "    let p = sampler_params(__tl_generate_temp, 0, 1.0, 0.0)\n"
    "    let out = generate(lm, llama_cache(lm), ids, __tl_generate_n, p, false)\n"
    "    detokenize(lm.tok, out, true)\n"
    "}\n";

static bool is_object(const tl_value *v, const char *cls) {
    return v->kind == TL_VAL_OBJECT && strcmp(v->as.obj->cls->name, cls) == 0;
}

static tl_status b_generate(tl_call *c, int argc, const tl_value *argv, tl_value *out) {
    if (!is_object(&argv[0], "Model") || !argv[0].as.obj->cls->get_property)
        return tl_fail(TL_ERR_TYPE, "generate: argument 1 must be a Model (load_model), got %s",
                       tl_value_type_name(&argv[0]));
    if (!is_object(&argv[1], "Tokenizer"))
        return tl_fail(TL_ERR_TYPE, "generate: argument 2 must be a Tokenizer, got %s",
                       tl_value_type_name(&argv[1]));
    const char *prompt;
    int64_t n;
    double temp = 0.0;
    tl_status st = tl_arg_string(c, argv, 2, &prompt);
    if (st == TL_OK) st = tl_arg_int(c, argv, 3, &n);
    if (st == TL_OK && argc > 4) st = tl_arg_double(c, argv, 4, &temp);
    if (st != TL_OK) return st;
    if (n < 0 || n > 1000000) return tl_fail(TL_ERR_ARG, "generate: max_tokens must be 0..1000000");
    if (!(temp >= 0.0)) return tl_fail(TL_ERR_ARG, "generate: temperature must be >= 0");
    tl_value path = TL_VOID;
    tl_object *m = argv[0].as.obj;
    if ((st = m->cls->get_property(m, "path", &path)) != TL_OK) return st;
    if (path.kind != TL_VAL_STRING) {
        tl_value_release(&path);
        return tl_fail(TL_ERR_TYPE, "generate: the model has no file path");
    }
    tl_interp *sub = tl_interp_new();
    if (!sub) {
        tl_value_release(&path);
        return tl_fail(TL_ERR_NOMEM, "generate: out of memory");
    }
    tl_value vn = tl_value_int(n), vt = tl_value_float(temp);
    st = tl_interp_set_global(sub, "__tl_generate_path", &path);
    if (st == TL_OK) st = tl_interp_set_global(sub, "__tl_generate_tok", &argv[1]);
    if (st == TL_OK) st = tl_interp_set_global(sub, "__tl_generate_prompt", &argv[2]);
    if (st == TL_OK) st = tl_interp_set_global(sub, "__tl_generate_n", &vn);
    if (st == TL_OK) st = tl_interp_set_global(sub, "__tl_generate_temp", &vt);
    tl_value_release(&path);
    if (st == TL_OK) {
        st = tl_interp_eval_string(sub, generate_src, sizeof generate_src - 1, "<generate>", out);
        if (st != TL_OK) {
            st = tl_fail(st, "generate: %s", tl_interp_error(sub));
        } else if (out->kind != TL_VAL_STRING) {
            tl_value_release(out);
            st = tl_fail(TL_ERR_TYPE, "generate: the forward pass gave no text");
        }
    }
    tl_interp_free(sub);
    return st;
}

const tl_builtin_def tl_builtins_compat_generate[] = {
    {"generate", 4, 5, b_generate,
     "generate(model, tok, prompt, max_tokens[, temperature = 0]) -> string (the new text)",
     TL_KIND_BIT(TL_VAL_OBJECT)},
    {0},
};
