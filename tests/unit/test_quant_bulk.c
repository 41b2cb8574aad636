/* tests/unit/test_quant_bulk.c -- the weight quantizers on 1024 rows x 256
** values (8 kinds: bell-shaped, sparse, outliers, all-positive, .5 grids, zero
** sub-blocks, all-negative; 12 power-of-two scales) against llama.cpp's
** ggml_quantize_chunk.  The inputs come from an integer generator that
** tests/data/quant/record_bulk.mjs reproduces exactly; bulk.txt keeps FNV-1a
** hashes of every 64-row chunk of llama.cpp's output per type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/quant.h"

#define ROWS  1024
#define N     256
#define CHUNK 64

static uint32_t lcg;
static uint32_t next24(void) {
    lcg = lcg * 1664525u + 1013904223u;
    return lcg >> 8;
}

static void generate(float *x) {
    lcg = 2463534242u;
    for (int r = 0; r < ROWS; r++) {
        int kind = r % 8, sh = (r >> 3) % 12;
        double scale = ldexp(1.0, sh - 6);
        for (int i = 0; i < N; i++) {
            int64_t g = (int64_t)next24() + next24() + next24() + next24() - 33554432;
            double v = (double)g * ldexp(1.0, -24) * scale;
            switch (kind) {
            case 1:
                if ((next24() & 3) == 0) v = 0;
                break;
            case 2:
                if (i % 37 == 5) v = v * 64;
                break;
            case 3:
                v = fabs(v);
                break;
            case 4:
                v = ((double)(next24() & 15) - 8) * 0.5 * scale;
                break;
            case 5:
                if ((i >> 4) % 3 == 1) v = 0;
                break;
            case 6:
                v = -fabs(v);
                break;
            default:
                break;
            }
            x[r * N + i] = (float)v;
        }
    }
}

static uint64_t fnv1a(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void test_bulk_quantizers_match_llama_cpp(void **state) {
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/quant/bulk.txt", TL_TEST_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    float *x = malloc(sizeof(float) * ROWS * N);
    generate(x);
    char line[4096];
    int types = 0, bad_chunks = 0;
    while (fgets(line, sizeof line, f)) {
        char *tok = strtok(line, " \n");
        if (!tok) continue;
        if (strcmp(tok, "input") == 0) {
            char want[32];
            snprintf(want, sizeof want, "%016llx",
                     (unsigned long long)fnv1a(x, sizeof(float) * ROWS * N));
            assert_string_equal(strtok(NULL, " \n"), want); /* same generator as the recorder */
            continue;
        }
        tl_dtype dt;
        assert_true(tl_dtype_from_name(tok, &dt));
        size_t row = tl_dtype_row_size(dt, N);
        uint8_t *q = malloc(row * ROWS);
        assert_int_equal(tl_quantize_rows(dt, x, q, ROWS, N), TL_OK);
        for (int c = 0; c < ROWS / CHUNK; c++) {
            char *want = strtok(NULL, " \n"), got[32];
            assert_non_null(want);
            snprintf(got, sizeof got, "%016llx",
                     (unsigned long long)fnv1a(q + (size_t)c * CHUNK * row, CHUNK * row));
            if (strcmp(got, want) != 0) {
                print_message("%s: rows %d..%d differ from ggml_quantize_chunk\n", tok, c * CHUNK,
                              c * CHUNK + CHUNK - 1);
                bad_chunks++;
            }
        }
        free(q);
        types++;
    }
    fclose(f);
    free(x);
    assert_int_equal(types, 10);
    assert_int_equal(bad_chunks, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_quantizers_match_llama_cpp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
