/* tests/unit/test_gguf_builtins.c -- the model builtins and property views, called the way the
** evaluator calls them (tl_builtin_resolve + tl_builtin_call, class get_property/call_method).
** Needs the shared test models (skipped when absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/builtin.h"
#include "lang/builtins/model.h"
#include "runtime/gguf.h"

static char model_dir[1024];

static tl_status call(const char *name, int argc, const tl_value *argv, tl_value *out) {
    const tl_builtin_def *d = tl_builtin_resolve(name, argc, argv);
    assert_non_null(d);
    return tl_builtin_call(d, NULL, argc, argv, out);
}

static tl_value str(const char *s) {
    tl_value v;
    assert_int_equal(tl_value_cstring(s, &v), TL_OK);
    return v;
}

static tl_value load(const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", model_dir, file);
    tl_value p = str(path), m;
    assert_int_equal(call("load_model", 1, &p, &m), TL_OK);
    tl_value_release(&p);
    assert_int_equal(m.kind, TL_VAL_OBJECT);
    assert_string_equal(tl_value_type_name(&m), "Model");
    return m;
}

static tl_status prop(const tl_value *obj, const char *name, tl_value *out) {
    assert_int_equal(obj->kind, TL_VAL_OBJECT);
    return obj->as.obj->cls->get_property(obj->as.obj, name, out);
}

static void test_get_tensor_and_properties(void **state) {
    (void)state;
    tl_value m = load("stories260K-q4_0.gguf");
    tl_value args[2] = {m, str("blk.2.attn_q.weight")}, t;
    assert_int_equal(call("get_tensor", 2, args, &t), TL_OK);
    assert_int_equal(t.kind, TL_VAL_TENSOR);
    assert_int_equal(t.as.tensor->dtype, TL_DTYPE_Q4_0);
    char buf[64];
    assert_string_equal(tl_tensor_shape_str(t.as.tensor, buf, sizeof buf), "[64, 64]");

    /* model.blk[2].attn_q.weight is the same view */
    tl_value blk, layer, feat, w;
    assert_int_equal(prop(&m, "blk", &blk), TL_OK);
    assert_int_equal(blk.kind, TL_VAL_ARRAY);
    assert_int_equal(blk.as.arr->len, 5);
    layer = tl_value_retain(blk.as.arr->items[2]);
    assert_string_equal(tl_value_type_name(&layer), "ModelLayer");
    assert_int_equal(prop(&layer, "attn_q", &feat), TL_OK);
    assert_string_equal(tl_value_type_name(&feat), "ModelFeature");
    assert_int_equal(prop(&feat, "weight", &w), TL_OK);
    assert_int_equal(w.kind, TL_VAL_TENSOR);
    assert_ptr_equal(tl_tensor_data(w.as.tensor), tl_tensor_data(t.as.tensor));
    /* asked again (every token asks each layer the same): the same feature and tensor */
    tl_value feat2, w2;
    assert_int_equal(prop(&layer, "attn_q", &feat2), TL_OK);
    assert_ptr_equal(feat2.as.obj, feat.as.obj);
    assert_int_equal(prop(&feat2, "weight", &w2), TL_OK);
    assert_ptr_equal(w2.as.tensor, w.as.tensor);
    tl_value_release(&w2);
    tl_value_release(&feat2);
    tl_value_release(&w);
    assert_int_equal(prop(&feat, "bias", &w), TL_ERR_RANGE);
    assert_int_equal(prop(&feat, "bias", &w), TL_ERR_RANGE); /* a miss is not remembered */
    assert_non_null(strstr(tl_last_error(), "no tensor named 'blk.2.attn_q.bias'"));
    tl_value_release(&feat);
    tl_value_release(&layer);
    tl_value_release(&blk);

    assert_int_equal(prop(&m, "output_norm", &feat), TL_OK);
    assert_int_equal(prop(&feat, "weight", &w), TL_OK);
    assert_string_equal(tl_tensor_shape_str(w.as.tensor, buf, sizeof buf), "[64]");
    tl_value_release(&w);
    tl_value_release(&feat);
    assert_int_equal(prop(&m, "token_embd", &feat), TL_OK);
    assert_int_equal(prop(&feat, "weight", &w), TL_OK);
    assert_string_equal(tl_tensor_shape_str(w.as.tensor, buf, sizeof buf), "[512, 64]");
    tl_value_release(&w);
    tl_value_release(&feat);
    assert_int_equal(prop(&m, "nonexistent", &feat), TL_ERR_RANGE);

    /* errors */
    tl_value_release(&args[1]);
    args[1] = str("nope.weight");
    assert_int_equal(call("get_tensor", 2, args, &w), TL_ERR_RANGE);
    assert_non_null(strstr(tl_last_error(), "no tensor named 'nope.weight'"));
    tl_value bad[2] = {tl_value_int(3), str("x")};
    assert_null(tl_builtin_resolve("get_tensor", 2, bad)); /* first arg must be an object */
    tl_value_release(&bad[1]);

    /* The C side: the tl_model behind a Model value, and back. */
    tl_model *tm = tl_model_from_value(&m);
    assert_non_null(tm);
    assert_null(tl_model_from_value(&t));
    tl_value m2;
    assert_int_equal(tl_model_to_value(tm, &m2), TL_OK);
    assert_ptr_equal(tl_model_from_value(&m2), tm);
    tl_value_release(&m2);

    tl_value_release(&t);
    tl_value_release(&args[1]);
    tl_value_release(&m); /* tensors taken earlier would stay valid */
}

static void test_meta_names_config(void **state) {
    (void)state;
    tl_value m = load("stories260K-q4_0.gguf");
    tl_value args[3] = {m, str("llama.block_count"), tl_value_int(-1)}, v;
    assert_int_equal(call("model_meta", 2, args, &v), TL_OK);
    assert_int_equal(v.kind, TL_VAL_INT);
    assert_int_equal(v.as.i, 5);
    tl_value_release(&args[1]);
    args[1] = str("llama.attention.layer_norm_rms_epsilon");
    assert_int_equal(call("model_meta", 2, args, &v), TL_OK);
    assert_int_equal(v.kind, TL_VAL_FLOAT);
    assert_true(v.as.f > 0 && v.as.f < 1e-3);
    tl_value_release(&args[1]);
    args[1] = str("general.architecture");
    assert_int_equal(call("model_meta", 2, args, &v), TL_OK);
    assert_int_equal(v.kind, TL_VAL_STRING);
    assert_string_equal(v.as.str->data, "llama");
    tl_value_release(&v);
    tl_value_release(&args[1]);
    args[1] = str("tokenizer.ggml.tokens");
    assert_int_equal(call("model_meta", 2, args, &v), TL_OK);
    assert_int_equal(v.kind, TL_VAL_ARRAY);
    assert_int_equal(v.as.arr->len, 512);
    assert_string_equal(v.as.arr->items[100].as.str->data, "<0x61>");
    tl_value_release(&v);
    tl_value_release(&args[1]);
    args[1] = str("llama.rope.freq_base"); /* absent: default or error */
    assert_int_equal(call("model_meta", 2, args, &v), TL_ERR_RANGE);
    assert_non_null(strstr(tl_last_error(), "no metadata key 'llama.rope.freq_base'"));
    assert_int_equal(call("model_meta", 3, args, &v), TL_OK);
    assert_int_equal(v.as.i, -1);

    assert_int_equal(call("tensor_names", 1, args, &v), TL_OK);
    assert_int_equal(v.as.arr->len, 48);
    assert_string_equal(v.as.arr->items[0].as.str->data, "output.weight");
    tl_value_release(&v);

    tl_value cfg, f;
    assert_int_equal(call("llama_config", 1, args, &cfg), TL_OK);
    assert_string_equal(tl_value_type_name(&cfg), "LlamaConfig");
    static const struct {
        const char *name;
        int64_t want;
    } ints[] = {{"n_layer", 5},  {"n_head", 8}, {"n_head_kv", 4}, {"n_embd", 64},
                {"head_dim", 8}, {"n_ff", 172}, {"n_vocab", 512}, {"rope_dim", 8}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        assert_int_equal(prop(&cfg, ints[i].name, &f), TL_OK);
        assert_int_equal(f.kind, TL_VAL_INT);
        assert_int_equal(f.as.i, ints[i].want);
    }
    assert_int_equal(prop(&cfg, "rope_base", &f), TL_OK);
    assert_true(f.as.f == 10000.0);
    assert_int_equal(prop(&cfg, "eps", &f), TL_OK);
    assert_int_equal(prop(&cfg, "nope", &f), TL_ERR_ARG);
    tl_value_release(&cfg);
    assert_int_equal(prop(&m, "config", &cfg), TL_OK);
    assert_int_equal(prop(&cfg, "n_ctx", &f), TL_OK);
    assert_true(f.as.i > 0);
    tl_value_release(&cfg);

    /* methods */
    tl_value key = str("llama.block_count");
    assert_int_equal(m.as.obj->cls->call_method(m.as.obj, "meta", 1, &key, &v), TL_OK);
    assert_int_equal(v.as.i, 5);
    tl_value_release(&key);
    assert_int_equal(m.as.obj->cls->call_method(m.as.obj, "frobnicate", 0, NULL, &v), TL_ERR_ARG);

    tl_value_release(&args[1]);
    tl_value_release(&m);
}

static void test_save_gguf(void **state) {
    (void)state;
    char out[256];
    snprintf(out, sizeof out, "/tmp/tl_test_save_gguf_%d.gguf", (int)getpid());
    tl_value m = load("stories260K.gguf");
    /* The whole model. */
    tl_value args[3] = {str(out), m, TL_VOID}, v;
    assert_int_equal(call("save_gguf", 2, args, &v), TL_OK);
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(out, &g), TL_OK);
    assert_int_equal(tl_gguf_n_tensors(g), 48);
    tl_gguf_close(g);

    /* Two tensors (one named, one renamed) with metadata from the model plus overrides. */
    tl_value t1, t2, gname = str("output_norm.weight"), gargs[2] = {m, gname};
    assert_int_equal(call("get_tensor", 2, gargs, &t1), TL_OK);
    tl_value_release(&gargs[1]);
    gargs[1] = str("blk.0.attn_q.weight");
    assert_int_equal(call("get_tensor", 2, gargs, &t2), TL_OK);
    tl_value_release(&gargs[1]);
    tl_value list, pair, meta, kvp;
    assert_int_equal(tl_value_array(2, &list), TL_OK);
    assert_int_equal(tl_array_push(list.as.arr, t1), TL_OK);
    assert_int_equal(tl_value_array(2, &pair), TL_OK);
    assert_int_equal(tl_array_push(pair.as.arr, str("renamed")), TL_OK);
    assert_int_equal(tl_array_push(pair.as.arr, t2), TL_OK);
    assert_int_equal(tl_array_push(list.as.arr, pair), TL_OK);
    assert_int_equal(tl_value_array(2, &meta), TL_OK);
    assert_int_equal(tl_value_array(2, &kvp), TL_OK);
    assert_int_equal(tl_array_push(kvp.as.arr, str("my.answer")), TL_OK);
    assert_int_equal(tl_array_push(kvp.as.arr, tl_value_int(42)), TL_OK);
    assert_int_equal(tl_array_push(meta.as.arr, kvp), TL_OK);
    tl_value_release(&args[1]);
    args[1] = list;
    args[2] = meta;
    assert_int_equal(call("save_gguf", 3, args, &v), TL_OK);
    assert_int_equal(tl_gguf_open(out, &g), TL_OK);
    assert_int_equal(tl_gguf_n_tensors(g), 2);
    assert_non_null(tl_gguf_find_tensor(g, "output_norm.weight"));
    assert_non_null(tl_gguf_find_tensor(g, "renamed"));
    int32_t ans;
    assert_int_equal(tl_gguf_get_i32(g, "my.answer", &ans), TL_OK);
    assert_int_equal(ans, 42);
    tl_gguf_close(g);
    unlink(out);
    for (int i = 0; i < 3; i++)
        tl_value_release(&args[i]);
}

/* load_model_f32 / load_model_f16 (the original's loaders): tensors converted when asked for. */
static void test_load_model_f32_f16(void **state) {
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/stories260K-q4_0.gguf", model_dir);
    tl_value p = str(path), m32, m16, q;
    assert_int_equal(call("load_model_f32", 1, &p, &m32), TL_OK);
    assert_int_equal(call("load_model_f16", 1, &p, &m16), TL_OK);
    tl_value_release(&p);
    q = load("stories260K-q4_0.gguf");
    tl_value a[2] = {m32, str("blk.0.attn_q.weight")}, t32, t16, tq;
    assert_int_equal(call("get_tensor", 2, a, &t32), TL_OK);
    a[0] = m16;
    assert_int_equal(call("get_tensor", 2, a, &t16), TL_OK);
    a[0] = q;
    assert_int_equal(call("get_tensor", 2, a, &tq), TL_OK);
    assert_int_equal(t32.as.tensor->dtype, TL_DTYPE_F32);
    assert_int_equal(t16.as.tensor->dtype, TL_DTYPE_F16);
    assert_int_equal(tq.as.tensor->dtype, TL_DTYPE_Q4_0);
    assert_string_equal(t32.as.tensor->name, "blk.0.attn_q.weight");
    assert_true(tl_tensor_same_shape(t32.as.tensor, tq.as.tensor));
    /* the f32 values are the q4_0 blocks dequantized */
    float row[64];
    tl_dtype_traits(TL_DTYPE_Q4_0)->to_f32(tl_tensor_data(tq.as.tensor), row, 64);
    assert_memory_equal(row, tl_tensor_data(t32.as.tensor), sizeof row);
    /* the property form converts too; f32 tensors (norms) stay as they are */
    tl_value feat, w;
    assert_int_equal(prop(&m16, "output", &feat), TL_OK);
    assert_int_equal(prop(&feat, "weight", &w), TL_OK);
    assert_int_equal(w.as.tensor->dtype, TL_DTYPE_F16);
    tl_value w2; /* a converting model converts afresh each time: nothing kept */
    assert_int_equal(prop(&feat, "weight", &w2), TL_OK);
    assert_ptr_not_equal(w2.as.tensor, w.as.tensor);
    assert_memory_equal(tl_tensor_data(w2.as.tensor), tl_tensor_data(w.as.tensor),
                        tl_tensor_nbytes(w.as.tensor));
    tl_value_release(&w2);
    tl_value_release(&w);
    tl_value_release(&feat);
    tl_value_release(&a[1]);
    tl_value_release(&t32);
    tl_value_release(&t16);
    tl_value_release(&tq);
    tl_value_release(&m32);
    tl_value_release(&m16);
    tl_value_release(&q);
}

int main(void) {
    const char *dir = getenv("TL_TEST_MODELS");
    snprintf(model_dir, sizeof model_dir, "%s", dir ? dir : "../shared/models");
    char p1[1200], p2[1200];
    snprintf(p1, sizeof p1, "%s/stories260K-q4_0.gguf", model_dir);
    snprintf(p2, sizeof p2, "%s/stories260K.gguf", model_dir);
    if (access(p1, R_OK) != 0 || access(p2, R_OK) != 0) {
        printf("SKIPPED: test models not found in %s\n", model_dir);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_tensor_and_properties),
        cmocka_unit_test(test_meta_names_config),
        cmocka_unit_test(test_save_gguf),
        cmocka_unit_test(test_load_model_f32_f16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
