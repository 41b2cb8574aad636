/* tests/conformance/test_llama_refs.c -- the stdlib forward pass (stdlib/llama.tl)
** against llama.cpp's recorded outputs in $TL_TEST_MODELS/refs (see refs/README.md).
**
** For each model, a small .tl driver runs through the interpreter API and leaves
** its results in globals; this file compares them with the refs:
**   - prefill logits of "<s> Once upon a time" equal to refs/NAME.once.all.f32 at
**     every position, bit for bit, and the same argmax;
**   - token-by-token decoding (KV cache) within 1e-4 of the prefill logits (it
**     follows llama.cpp's one-token order, which differs in the last bits), and
**     equal to llama.cpp's own token-by-token logits where NAME.obo.all.f32 exists
**     (beside the refs, or in tests/data/conformance: README.md there);
**   - the logit-lens argmax after every layer equal to refs/NAME.layers.json;
**   - stories260K*: the greedy continuation equal to refs/NAME.once.json's "greedy".
** The measured figures are printed (they are quoted in docs/llama.md).  Models or
** refs that are absent make the test print SKIPPED and exit 77. */
#include "lang/eval.h"
#include "runtime/ops.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

typedef struct model_case {
    const char *name;  /* file NAME.gguf and refs/NAME.* */
    int greedy;        /* tokens of the greedy continuation to compare (0: none) */
    bool layers;       /* refs/NAME.layers.json exists */
    double tol;        /* max |logit diff| allowed in "llama" precision */
    double decode_tol; /* max |decode - prefill| allowed */
    const char *model_path, *refs_prefix; /* set: explicit paths (command-line mode) */
} model_case;

static const char *models_dir(void) {
    const char *d = getenv("TL_TEST_MODELS");
    return d && *d ? d : "../shared/models";
}

static bool file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* refs/NAME.once.all.f32: [n_pos][n_vocab] little-endian floats. */
static float *read_f32(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *data = malloc((size_t)size);
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *n = (size_t)size / sizeof(float);
    return data;
}

static tl_value global(tl_interp *I, const char *name) {
    tl_value v;
    if (tl_interp_get_global(I, name, &v) != TL_OK) fail_msg("no global '%s'", name);
    return v;
}

static double elem(const tl_tensor *t, int64_t i) {
    double v = 0;
    assert_int_equal(tl_tensor_get_f64(t, i, &v), TL_OK);
    return v;
}

static int64_t argmax_row(const tl_tensor *t, int64_t row, int64_t n) {
    int64_t best = 0;
    double bv = elem(t, row * n);
    for (int64_t j = 1; j < n; j++) {
        double v = elem(t, row * n + j);
        if (v > bv) bv = v, best = j;
    }
    return best;
}

static int64_t argmax_f32(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* Runs the driver for one model at one precision and checks everything; returns
** the max |logit - llama.cpp| over all positions. */
static double run_case(const model_case *mc, const char *precision, bool strict) {
    char model[1024], ref[1024], json_path[1024], layers_path[1024];
    char prefix[960];
    if (mc->model_path) {
        snprintf(model, sizeof model, "%s", mc->model_path);
        snprintf(prefix, sizeof prefix, "%s", mc->refs_prefix);
    } else {
        snprintf(model, sizeof model, "%s/%s.gguf", models_dir(), mc->name);
        snprintf(prefix, sizeof prefix, "%s/refs/%s", models_dir(), mc->name);
    }
    snprintf(ref, sizeof ref, "%s.once.all.f32", prefix);
    char obo_path[1100]; /* llama.cpp's token-by-token logits (logits --one-by-one), optional */
    snprintf(obo_path, sizeof obo_path, "%s.obo.all.f32", prefix);
    if (!mc->refs_prefix && access(obo_path, R_OK) != 0) /* the repo's own recordings */
        snprintf(obo_path, sizeof obo_path, "%s/tests/data/conformance/%s.obo.all.f32",
                 TL_TEST_SOURCE_DIR, mc->name);
    snprintf(json_path, sizeof json_path, "%s.once.json", prefix);
    snprintf(layers_path, sizeof layers_path, "%s.layers.json", prefix);

    json_error_t jerr;
    json_t *once = json_load_file(json_path, 0, &jerr);
    assert_non_null(once);
    json_t *tokens = json_object_get(once, "tokens");
    size_t n_pos = json_array_size(tokens);
    assert_true(n_pos > 0);

    /* the lens refs may use another prompt (synthetic-small: " Hello" only) */
    json_t *lj = mc->layers ? json_load_file(layers_path, 0, &jerr) : NULL;
    if (mc->layers) assert_non_null(lj);
    json_t *ltokens = lj ? json_object_get(lj, "tokens") : tokens;
    size_t n_lens_pos = json_array_size(ltokens);

    char src[4096];
    int off = snprintf(src, sizeof src,
                       "import \"llama\"\n"
                       "main {\n"
                       "  set_precision(\"%s\")\n"
                       "  let lm = llama_load(\"%s\")\n"
                       "  let ids = [",
                       precision, model);
    for (size_t i = 0; i < n_pos; i++)
        off += snprintf(src + off, sizeof src - (size_t)off, "%s%lld", i ? ", " : "",
                        (long long)json_integer_value(json_array_get(tokens, i)));
    off += snprintf(src + off, sizeof src - (size_t)off, "]\n  let lens_ids = [");
    for (size_t i = 0; i < n_lens_pos; i++)
        off += snprintf(src + off, sizeof src - (size_t)off, "%s%lld", i ? ", " : "",
                        (long long)json_integer_value(json_array_get(ltokens, i)));
    snprintf(src + off, sizeof src - (size_t)off,
             "]\n"
             "  let prefill = forward(lm, llama_cache(lm), ids)\n"
             "  let tr = forward_trace(lm, llama_cache(lm), lens_ids)\n"
             "  let lens = []\n"
             "  for h in tr.layers { lens.push(logit_lens(lm, h)) }\n"
             "  let cache = llama_cache(lm)\n"
             "  let steps = []\n"
             "  for id in ids { steps.push(forward(lm, cache, [id])) }\n"
             "  let greedy = generate(lm, llama_cache(lm), ids, %d, greedy_params(), false)\n"
             "  set_precision(\"llama\")\n"
             "}\n",
             mc->greedy);

    tl_interp *I = tl_interp_new();
    assert_non_null(I);
    tl_status st = tl_interp_eval_string(I, src, strlen(src), "conformance", NULL);
    if (st != TL_OK) fail_msg("%s", tl_interp_error(I));

    tl_value prefill = global(I, "prefill"), steps = global(I, "steps"), lens = global(I, "lens"),
             greedy = global(I, "greedy");
    assert_int_equal(prefill.kind, TL_VAL_TENSOR);
    const tl_tensor *P = prefill.as.tensor;
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(P, shape);
    assert_int_equal(P->n_dims, 2);
    assert_int_equal(shape[0], (int64_t)n_pos);
    int64_t n_vocab = shape[1];

    size_t n_ref;
    float *R = read_f32(ref, &n_ref);
    assert_non_null(R);
    assert_int_equal(n_ref, n_pos * (size_t)n_vocab);

    /* prefill vs llama.cpp */
    double max_ref = 0;
    int argmax_same = 0;
    for (size_t p = 0; p < n_pos; p++) {
        for (int64_t j = 0; j < n_vocab; j++) {
            double d = fabs(elem(P, (int64_t)p * n_vocab + j) - R[p * (size_t)n_vocab + (size_t)j]);
            if (d > max_ref) max_ref = d;
        }
        argmax_same +=
            argmax_row(P, (int64_t)p, n_vocab) == argmax_f32(R + p * (size_t)n_vocab, n_vocab);
    }

    /* top-10 overlap with llama.cpp's list at every position (the worst position) */
    int min_overlap = 10;
    json_t *positions = json_object_get(once, "positions");
    for (size_t p = 0; p < n_pos && p < json_array_size(positions); p++) {
        json_t *top = json_object_get(json_array_get(positions, p), "top");
        int64_t ours[10];
        size_t n_top = json_array_size(top) < 10 ? json_array_size(top) : 10;
        for (size_t r = 0; r < n_top; r++) { /* our top n_top ids by selection */
            int64_t best = -1;
            for (int64_t j = 0; j < n_vocab; j++) {
                bool taken = false;
                for (size_t q = 0; q < r; q++)
                    taken |= ours[q] == j;
                if (!taken && (best < 0 || elem(P, (int64_t)p * n_vocab + j) >
                                               elem(P, (int64_t)p * n_vocab + best)))
                    best = j;
            }
            ours[r] = best;
        }
        int overlap = 0;
        for (size_t r = 0; r < n_top; r++)
            for (size_t q = 0; q < n_top; q++)
                overlap += ours[q] == json_integer_value(json_array_get(json_array_get(top, r), 0));
        if (overlap < min_overlap) min_overlap = overlap;
    }

    /* token-by-token decode vs prefill, and vs llama.cpp's own decode when recorded */
    size_t n_obo = 0;
    float *O = access(obo_path, R_OK) == 0 ? read_f32(obo_path, &n_obo) : NULL;
    if (O) assert_int_equal(n_obo, n_pos * (size_t)n_vocab);
    double max_steps = 0, max_obo = 0;
    assert_int_equal(steps.kind, TL_VAL_ARRAY);
    assert_int_equal(steps.as.arr->len, n_pos);
    for (size_t p = 0; p < n_pos; p++) {
        const tl_tensor *S = steps.as.arr->items[p].as.tensor;
        assert_int_equal(tl_tensor_nelements(S), n_vocab);
        for (int64_t j = 0; j < n_vocab; j++) {
            double d = fabs(elem(S, j) - elem(P, (int64_t)p * n_vocab + j));
            if (d > max_steps) max_steps = d;
            if (O && fabs(elem(S, j) - O[p * (size_t)n_vocab + (size_t)j]) > max_obo)
                max_obo = fabs(elem(S, j) - O[p * (size_t)n_vocab + (size_t)j]);
        }
    }

    /* logit lens per layer vs llama.cpp's hidden states */
    int lens_total = 0, lens_same = 0;
    if (lj) {
        json_t *layers = json_object_get(lj, "layers");
        assert_int_equal(json_array_size(layers), lens.as.arr->len);
        for (size_t l = 0; l < json_array_size(layers); l++) {
            json_t *am = json_object_get(json_array_get(layers, l), "argmax_per_position");
            const tl_tensor *L = lens.as.arr->items[l].as.tensor;
            assert_int_equal(json_array_size(am), n_lens_pos);
            for (size_t p = 0; p < n_lens_pos; p++) {
                lens_total++;
                lens_same +=
                    argmax_row(L, (int64_t)p, n_vocab) == json_integer_value(json_array_get(am, p));
            }
        }
        json_decref(lj);
    }

    /* greedy continuation */
    int greedy_same = 0;
    if (mc->greedy > 0) {
        json_t *g = json_object_get(once, "greedy");
        assert_int_equal(greedy.kind, TL_VAL_ARRAY);
        for (int i = 0; i < mc->greedy && (size_t)i < greedy.as.arr->len; i++)
            greedy_same +=
                greedy.as.arr->items[i].as.i ==
                json_integer_value(json_object_get(json_array_get(g, (size_t)i), "token"));
    }

    printf("  %-22s %-5s max|diff| vs llama.cpp %.3g, argmax %d/%zu, top-10 overlap >= %d, "
           "decode vs prefill %.3g, lens %d/%d, greedy %d/%d\n",
           mc->name, precision, max_ref, argmax_same, n_pos, min_overlap, max_steps, lens_same,
           lens_total, greedy_same, mc->greedy);
    if (O) printf("  %-22s %-5s decode vs llama.cpp's decode %.3g\n", mc->name, precision, max_obo);
    if (strict) {
        assert_true(max_ref <= mc->tol);
        if (mc->tol > 1e-4) assert_true(min_overlap >= 9);
        assert_int_equal(argmax_same, (int)n_pos);
        assert_int_equal(lens_same, lens_total);
        assert_int_equal(greedy_same, mc->greedy);
    }
    /* a one-token step sums its attention output in llama.cpp's single-query order,
    ** the prompt in its batch order (docs/llama.md): on these small models the two
    ** agree to 1e-4; on the 22-layer model they part by ~0.04, as llama.cpp's do */
    assert_true(max_steps <= mc->decode_tol);
    if (O && strict) assert_true(max_obo <= mc->tol);

    free(O);
    free(R);
    json_decref(once);
    tl_value_release(&prefill);
    tl_value_release(&steps);
    tl_value_release(&lens);
    tl_value_release(&greedy);
    tl_interp_free(I);
    return max_ref;
}

static int need(const model_case *mc) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.gguf", models_dir(), mc->name);
    if (!file_exists(p)) return 0;
    snprintf(p, sizeof p, "%s/refs/%s.once.all.f32", models_dir(), mc->name);
    return file_exists(p);
}

static const model_case cases[] = {
    /* every model bit for bit, the prompt and (tests/data/conformance) the decode */
    {"stories260K", 64, true, 0.0, 1e-4, NULL, NULL},
    {"stories260K-q8_0", 64, false, 0.0, 1e-4, NULL, NULL},
    {"stories260K-q4_0", 64, true, 0.0, 1e-4, NULL, NULL},
    {"synthetic-small-q4_0", 0, true, 0.0, 1e-4, NULL, NULL},
};

/* Command-line mode: test_llama_refs MODEL.gguf REFS_PREFIX [TOL [PRECISION]] checks
** one model (e.g. the TinyLlama-shaped one, too big for CI); PRECISION "exact" only
** measures. */
static model_case cli_case;
static const char *cli_precision = "llama";

static void test_cli_model(void **state) {
    (void)state;
    /* "exact" is measured only (it is not meant to match llama.cpp) */
    run_case(&cli_case, cli_precision, strcmp(cli_precision, "llama") == 0);
}

static void test_llama_mode(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], "llama", true);
}

/* "exact" math is measured, not held to 1e-4: the doc quotes the figures. */
static void test_exact_mode(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], "exact", false);
    assert_int_equal(tl_get_precision(), TL_PRECISION_LLAMA);
}

int main(int argc, char **argv) {
    if (argc >= 3) {
        cli_case =
            (model_case){argv[1], 0, false, argc > 3 ? atof(argv[3]) : 0.0, 0.25, argv[1], argv[2]};
        char p[1100];
        snprintf(p, sizeof p, "%s.layers.json", argv[2]);
        cli_case.layers = file_exists(p);
        if (argc > 4) cli_precision = argv[4];
        const struct CMUnitTest one[] = {cmocka_unit_test(test_cli_model)};
        return cmocka_run_group_tests(one, NULL, NULL);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!need(&cases[i])) {
            printf("SKIPPED: %s/%s.gguf or its refs not found (set TL_TEST_MODELS)\n", models_dir(),
                   cases[i].name);
            return 77;
        }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_mode),
        cmocka_unit_test(test_exact_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
