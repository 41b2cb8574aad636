/* tests/unit/test_npy.c -- runtime/npy: write/parse round trips for every
** writable type, views, bf16, 0-d and empty arrays; reading Fortran order,
** big-endian and unsigned files; malformed and unsupported headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "runtime/npy.h"
#include "runtime/ops.h"

/* Writes t with tl_npy_write into a memory buffer. */
static char *write_mem(const tl_tensor *t, size_t *len, tl_status *st) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    *st = tl_npy_write(f, t);
    fclose(f);
    return buf;
}

/* A header + data buffer built by hand, as NumPy would write it. */
static size_t make_npy(uint8_t *out, const char *dict, const void *data, size_t n) {
    size_t dl = strlen(dict);
    size_t total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (uint8_t)((total - 10) & 0xff);
    out[9] = (uint8_t)((total - 10) >> 8);
    memcpy(out + 10, dict, dl);
    memset(out + 10 + dl, ' ', total - 10 - dl - 1);
    out[total - 1] = '\n';
    if (n) memcpy(out + total, data, n);
    return total + n;
}

static tl_tensor *filled(tl_dtype dt, int n_dims, const int64_t *shape) {
    tl_tensor *t;
    assert_int_equal(tl_tensor_new_shape(dt, n_dims, shape, &t), TL_OK);
    uint8_t *p = tl_tensor_data(t);
    size_t n = tl_tensor_nbytes(t);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 37 + 11);
    if (dt == TL_DTYPE_BOOL)
        for (size_t i = 0; i < n; i++)
            p[i] &= 1;
    if (dt == TL_DTYPE_F16) /* keep halves finite: clear the top exponent bit */
        for (size_t i = 1; i < n; i += 2)
            p[i] &= 0xbf;
    return t;
}

static void test_round_trip_types(void **state) {
    (void)state;
    const tl_dtype types[] = {TL_DTYPE_F32, TL_DTYPE_F16, TL_DTYPE_F64, TL_DTYPE_I8,
                              TL_DTYPE_I16, TL_DTYPE_I32, TL_DTYPE_I64, TL_DTYPE_BOOL};
    const int64_t shape[3] = {2, 3, 5};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        for (int nd = 0; nd <= 3; nd++) {
            tl_tensor *t = filled(types[k], nd, shape);
            size_t len;
            tl_status st;
            char *buf = write_mem(t, &len, &st);
            assert_int_equal(st, TL_OK);
            assert_int_equal((10 + (size_t)((uint8_t)buf[8] | (uint8_t)buf[9] << 8)) % 64, 0);
            tl_tensor *u;
            assert_int_equal(tl_npy_parse(buf, len, &u), TL_OK);
            assert_int_equal(u->dtype, t->dtype);
            assert_int_equal(u->n_dims, nd);
            assert_true(tl_tensor_same_shape(t, u));
            assert_memory_equal(tl_tensor_data(t), tl_tensor_data(u), tl_tensor_nbytes(t));
            free(buf);
            tl_tensor_unref(t);
            tl_tensor_unref(u);
        }
    }
}

static void test_header_text(void **state) {
    (void)state;
    const int64_t shape[2] = {2, 3};
    tl_tensor *t = filled(TL_DTYPE_F32, 2, shape);
    size_t len;
    tl_status st;
    char *buf = write_mem(t, &len, &st);
    assert_int_equal(st, TL_OK);
    assert_int_equal(len, 128 + 24);
    const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    assert_memory_equal(buf + 10, want, strlen(want));
    assert_int_equal(buf[127], '\n');
    free(buf);
    tl_tensor_unref(t);
    const int64_t n5 = 5;
    t = filled(TL_DTYPE_I8, 1, &n5);
    buf = write_mem(t, &len, &st);
    assert_non_null(strstr(buf + 10, "'descr': '|i1'"));
    assert_non_null(strstr(buf + 10, "'shape': (5,)"));
    free(buf);
    tl_tensor_unref(t);
}

static void test_views_and_bf16(void **state) {
    (void)state;
    const int64_t shape[2] = {3, 4};
    tl_tensor *t = filled(TL_DTYPE_F32, 2, shape), *tt, *u;
    assert_int_equal(tl_op_transpose(t, 0, 1, &tt), TL_OK);
    assert_false(tl_tensor_is_contiguous(tt));
    size_t len;
    tl_status st;
    char *buf = write_mem(tt, &len, &st);
    assert_int_equal(st, TL_OK);
    assert_int_equal(tl_npy_parse(buf, len, &u), TL_OK);
    int64_t us[2];
    tl_tensor_shape(u, us);
    assert_int_equal(us[0], 4);
    assert_int_equal(us[1], 3);
    const float *a = tl_tensor_data(t), *b = tl_tensor_data(u);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            assert_memory_equal(&a[i * 4 + j], &b[j * 3 + i], 4);
    free(buf);
    tl_tensor_unref(u);
    tl_tensor_unref(tt);
    tl_tensor_unref(t);

    /* bf16 is written as f32 with the same values */
    tl_tensor *h;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_BF16, 2, shape, &h), TL_OK);
    uint16_t *hp = tl_tensor_data(h);
    for (int i = 0; i < 12; i++)
        hp[i] = tl_f32_to_bf16((float)i * 0.37f - 1.0f);
    buf = write_mem(h, &len, &st);
    assert_int_equal(st, TL_OK);
    assert_int_equal(tl_npy_parse(buf, len, &u), TL_OK);
    assert_int_equal(u->dtype, TL_DTYPE_F32);
    const float *up = tl_tensor_data(u);
    for (int i = 0; i < 12; i++)
        assert_true(up[i] == tl_bf16_to_f32(hp[i]));
    free(buf);
    tl_tensor_unref(u);
    tl_tensor_unref(h);

    /* quantized tensors are refused with a hint */
    const int64_t q[1] = {32};
    tl_tensor *qt;
    assert_int_equal(tl_tensor_new_shape(TL_DTYPE_Q8_0, 1, q, &qt), TL_OK);
    buf = write_mem(qt, &len, &st);
    assert_int_equal(st, TL_ERR_UNSUPPORTED);
    assert_non_null(strstr(tl_last_error(), "dequantize"));
    free(buf);
    tl_tensor_unref(qt);
}

static void test_read_numpy_variants(void **state) {
    (void)state;
    uint8_t file[256];
    tl_tensor *t;
    /* Fortran order: a 2x3 array [[0,1,2],[3,4,5]] stored column by column */
    const int32_t fdata[6] = {0, 3, 1, 4, 2, 5};
    size_t n = make_npy(file, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", fdata,
                        sizeof fdata);
    assert_int_equal(tl_npy_parse(file, n, &t), TL_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(((int32_t *)tl_tensor_data(t))[i], i);
    tl_tensor_unref(t);
    /* big-endian f4 */
    const uint8_t be[8] = {0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0}; /* 1.0, -2.5 */
    n = make_npy(file, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be, 8);
    assert_int_equal(tl_npy_parse(file, n, &t), TL_OK);
    assert_true(((float *)tl_tensor_data(t))[0] == 1.0f);
    assert_true(((float *)tl_tensor_data(t))[1] == -2.5f);
    tl_tensor_unref(t);
    /* unsigned bytes widen to i16; key order and spacing may differ */
    const uint8_t u8[3] = {0, 200, 255};
    n = make_npy(file, "{ 'shape':(3,),'fortran_order':False,'descr':'|u1' }", u8, 3);
    assert_int_equal(tl_npy_parse(file, n, &t), TL_OK);
    assert_int_equal(t->dtype, TL_DTYPE_I16);
    assert_int_equal(((int16_t *)tl_tensor_data(t))[1], 200);
    assert_int_equal(((int16_t *)tl_tensor_data(t))[2], 255);
    tl_tensor_unref(t);
    /* u4 widens to i64 */
    const uint32_t u32[1] = {4000000000u};
    n = make_npy(file, "{'descr': '<u4', 'fortran_order': False, 'shape': (1, 1), }", u32, 4);
    assert_int_equal(tl_npy_parse(file, n, &t), TL_OK);
    assert_int_equal(((int64_t *)tl_tensor_data(t))[0], 4000000000LL);
    tl_tensor_unref(t);
    /* an empty array */
    n = make_npy(file, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", NULL, 0);
    assert_int_equal(tl_npy_parse(file, n, &t), TL_OK);
    assert_int_equal(tl_tensor_nelements(t), 0);
    tl_tensor_unref(t);
}

static void expect_fail(const uint8_t *file, size_t n, tl_status want, const char *msg) {
    tl_tensor *t = (tl_tensor *)1;
    assert_int_equal(tl_npy_parse(file, n, &t), want);
    assert_null(t);
    if (!strstr(tl_last_error(), msg)) fail_msg("'%s' does not contain '%s'", tl_last_error(), msg);
}

static void test_malformed(void **state) {
    (void)state;
    uint8_t file[256];
    const float d[2] = {1, 2};
    size_t n = make_npy(file, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", d, 8);
    for (size_t cut = 0; cut < n; cut++) { /* every truncation fails cleanly */
        tl_tensor *t = NULL;
        assert_int_not_equal(tl_npy_parse(file, cut, &t), TL_OK);
        assert_null(t);
    }
    expect_fail(file, n - 1, TL_ERR_FORMAT, "expected 8 data bytes");
    uint8_t bad[256];
    memcpy(bad, file, n);
    bad[1] = 'X';
    expect_fail(bad, n, TL_ERR_FORMAT, "bad magic");
    memcpy(bad, file, n);
    bad[6] = 9;
    expect_fail(bad, n, TL_ERR_UNSUPPORTED, "version 9");
    struct {
        const char *dict;
        tl_status st;
        const char *msg;
    } cases[] = {
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", TL_ERR_UNSUPPORTED, "'<c8'"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", TL_ERR_UNSUPPORTED, "'|O'"},
        {"{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", TL_ERR_UNSUPPORTED, "'<u8'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", TL_ERR_UNSUPPORTED,
         "structured"},
        {"{'descr': '<f4', 'shape': (1,), }", TL_ERR_FORMAT, "required"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", TL_ERR_FORMAT,
         "fortran_order"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", TL_ERR_FORMAT, "shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [1], }", TL_ERR_FORMAT, "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", TL_ERR_FORMAT,
         "unknown key"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
         TL_ERR_UNSUPPORTED, "dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
         TL_ERR_NOMEM, "too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,) } junk", TL_ERR_FORMAT, "after"},
        {"['descr']", TL_ERR_FORMAT, "not a dict"},
    };
    const float one = 1;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        n = make_npy(bad, cases[k].dict, &one, 4);
        expect_fail(bad, n, cases[k].st, cases[k].msg);
    }
    /* a zero dim must not hide an overflowing product of the others (no data bytes) */
    n = make_npy(bad,
                 "{'descr': '<f4', 'fortran_order': True, 'shape': "
                 "(0, 4611686018427387904, 4611686018427387904), }",
                 NULL, 0);
    expect_fail(bad, n, TL_ERR_NOMEM, "too large");
    n = make_npy(bad,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 0, 3037000500), }",
                 NULL, 0);
    expect_fail(bad, n, TL_ERR_NOMEM, "too large");
}

static void test_load_file_errors(void **state) {
    (void)state;
    tl_tensor *t;
    assert_int_equal(tl_npy_load("/nonexistent/dir/x.npy", &t), TL_ERR_IO);
    assert_non_null(strstr(tl_last_error(), "'/nonexistent/dir/x.npy'"));
    assert_non_null(strstr(tl_last_error(), "No such file or directory"));
    assert_int_equal(tl_npy_load("/", &t), TL_ERR_IO);
    assert_non_null(strstr(tl_last_error(), "Is a directory"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_types), cmocka_unit_test(test_header_text),
        cmocka_unit_test(test_views_and_bf16),   cmocka_unit_test(test_read_numpy_variants),
        cmocka_unit_test(test_malformed),        cmocka_unit_test(test_load_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
