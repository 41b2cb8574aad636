/* tests/unit/test_gguf_write.c -- the writer: every value type, tensors of several types and
** layouts, alignment, replace/remove, atomic save (and its temporary files); checked by reading
*back with our reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/gguf.h"
#include "runtime/temp_file.h"

static char tmp_path[256];

static void make_tmp(const char *tag) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/tl_test_gguf_write_%d_%s.gguf", (int)getpid(), tag);
}

static void test_all_value_types(void **state) {
    (void)state;
    make_tmp("kv");
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    assert_int_equal(tl_gguf_writer_set_scalar(w, "t.u8", TL_GGUF_UINT8, &u8), TL_OK);
    assert_int_equal(tl_gguf_writer_set_scalar(w, "t.i8", TL_GGUF_INT8, &i8), TL_OK);
    assert_int_equal(tl_gguf_writer_set_scalar(w, "t.u16", TL_GGUF_UINT16, &u16), TL_OK);
    assert_int_equal(tl_gguf_writer_set_scalar(w, "t.i16", TL_GGUF_INT16, &i16), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u32(w, "t.u32", 4000000000u), TL_OK);
    assert_int_equal(tl_gguf_writer_set_i32(w, "t.i32", -2000000000), TL_OK);
    assert_int_equal(tl_gguf_writer_set_f32(w, "t.f32", 1.5e-5f), TL_OK);
    assert_int_equal(tl_gguf_writer_set_bool(w, "t.bool", true), TL_OK);
    assert_int_equal(tl_gguf_writer_set_string(w, "t.str", "hi\0there", 8), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u64(w, "t.u64", UINT64_MAX), TL_OK);
    assert_int_equal(tl_gguf_writer_set_i64(w, "t.i64", INT64_MIN), TL_OK);
    assert_int_equal(tl_gguf_writer_set_f64(w, "t.f64", 0.1), TL_OK);
    int32_t arr[3] = {1, -2, 3};
    assert_int_equal(tl_gguf_writer_set_array(w, "t.arr", TL_GGUF_INT32, arr, 3), TL_OK);
    bool barr[2] = {true, false};
    assert_int_equal(tl_gguf_writer_set_array(w, "t.barr", TL_GGUF_BOOL, barr, 2), TL_OK);
    const char *strs[3] = {"a", "", "ccc"};
    assert_int_equal(tl_gguf_writer_set_string_array(w, "t.sarr", strs, NULL, 3), TL_OK);
    assert_int_equal(tl_gguf_writer_set_string_array(w, "t.empty", NULL, NULL, 0), TL_OK);
    /* Replace keeps the position; remove drops it. */
    assert_int_equal(tl_gguf_writer_set_u32(w, "t.u8", 7), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u32(w, "t.gone", 7), TL_OK);
    assert_true(tl_gguf_writer_remove(w, "t.gone"));
    assert_false(tl_gguf_writer_remove(w, "t.gone"));
    /* Bad alignment values are refused. */
    assert_int_equal(tl_gguf_writer_set_u32(w, "general.alignment", 48), TL_ERR_ARG);
    assert_int_equal(tl_gguf_writer_set_u64(w, "general.alignment", 64), TL_ERR_ARG);
    assert_int_equal(tl_gguf_writer_save(w, tmp_path), TL_OK);
    tl_gguf_writer_free(w);

    tl_gguf *g;
    assert_int_equal(tl_gguf_open(tmp_path, &g), TL_OK);
    assert_int_equal(tl_gguf_n_kv(g), 16);
    assert_string_equal(tl_gguf_kv_at(g, 0)->key, "t.u8");
    assert_int_equal(tl_gguf_kv_at(g, 0)->type, TL_GGUF_UINT32);
    int64_t v;
    assert_int_equal(tl_gguf_get_i64(g, "t.i8", &v), TL_OK);
    assert_int_equal(v, -100);
    assert_int_equal(tl_gguf_get_i64(g, "t.u16", &v), TL_OK);
    assert_int_equal(v, 60000);
    assert_int_equal(tl_gguf_get_i64(g, "t.i16", &v), TL_OK);
    assert_int_equal(v, -30000);
    uint32_t u;
    assert_int_equal(tl_gguf_get_u32(g, "t.u32", &u), TL_OK);
    assert_int_equal(u, 4000000000u);
    int32_t i;
    assert_int_equal(tl_gguf_get_i32(g, "t.i32", &i), TL_OK);
    assert_int_equal(i, -2000000000);
    assert_int_equal(tl_gguf_get_i32(g, "t.u32", &i), TL_ERR_RANGE); /* does not fit */
    float f;
    assert_int_equal(tl_gguf_get_f32(g, "t.f32", &f), TL_OK);
    assert_true(f == 1.5e-5f);
    bool b;
    assert_int_equal(tl_gguf_get_bool(g, "t.bool", &b), TL_OK);
    assert_true(b);
    const char *s;
    size_t len;
    assert_int_equal(tl_gguf_get_string(g, "t.str", &s, &len), TL_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(s, "hi\0there", 8);
    uint64_t u64;
    assert_int_equal(tl_gguf_get_u64(g, "t.u64", &u64), TL_OK);
    assert_true(u64 == UINT64_MAX);
    assert_int_equal(tl_gguf_get_i64(g, "t.u64", &v), TL_ERR_TYPE);
    assert_int_equal(tl_gguf_get_i64(g, "t.i64", &v), TL_OK);
    assert_true(v == INT64_MIN);
    double d;
    assert_int_equal(tl_gguf_get_f64(g, "t.f64", &d), TL_OK);
    assert_true(d == 0.1);
    const tl_gguf_kv *kv;
    assert_int_equal(tl_gguf_get_array(g, "t.arr", TL_GGUF_INT32, &kv), TL_OK);
    assert_int_equal(kv->count, 3);
    assert_true(tl_gguf_kv_int(kv, 1, &v));
    assert_int_equal(v, -2);
    assert_false(tl_gguf_kv_int(kv, 3, &v));
    assert_int_equal(tl_gguf_get_array(g, "t.barr", TL_GGUF_BOOL, &kv), TL_OK);
    assert_true(tl_gguf_kv_bool(kv, 0, &b) && b);
    assert_true(tl_gguf_kv_bool(kv, 1, &b) && !b);
    assert_int_equal(tl_gguf_get_array(g, "t.sarr", TL_GGUF_STRING, &kv), TL_OK);
    assert_true(tl_gguf_kv_string(kv, 1, &s, &len));
    assert_int_equal(len, 0);
    assert_true(tl_gguf_kv_string(kv, 2, &s, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(s, "ccc", 3);
    assert_int_equal(tl_gguf_get_array(g, "t.empty", TL_GGUF_STRING, &kv), TL_OK);
    assert_int_equal(kv->count, 0);
    tl_gguf_close(g);
    unlink(tmp_path);
}

static void fill(tl_tensor *t) {
    uint8_t *p = tl_tensor_data(t);
    size_t n = tl_tensor_nbytes(t);
    for (size_t k = 0; k < n; k++)
        p[k] = (uint8_t)(k * 131 + 7);
}

static void test_tensors_and_alignment(void **state) {
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        make_tmp(pass ? "t64" : "t32");
        tl_gguf_writer *w;
        assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
        if (pass) assert_int_equal(tl_gguf_writer_set_u32(w, "general.alignment", 64), TL_OK);
        int64_t ne_q[2] = {64, 3}, ne_f[3] = {5, 3, 2}, ne_h[1] = {7};
        tl_tensor *q, *f, *h, *tr;
        assert_int_equal(tl_tensor_new(TL_DTYPE_Q4_0, 2, ne_q, &q), TL_OK);
        assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 3, ne_f, &f), TL_OK);
        assert_int_equal(tl_tensor_new(TL_DTYPE_F16, 1, ne_h, &h), TL_OK);
        fill(q);
        fill(f);
        fill(h);
        /* A transposed view of f's first matrix: ne {3, 5}, strided. */
        int64_t ne_t[2] = {3, 5};
        size_t nb_t[2] = {f->nb[1], f->nb[0]};
        assert_int_equal(tl_tensor_view(f, 2, ne_t, nb_t, 0, &tr), TL_OK);
        assert_int_equal(tl_gguf_writer_add_tensor(w, "q", q), TL_OK);
        assert_int_equal(tl_gguf_writer_add_tensor(w, "f", f), TL_OK);
        assert_int_equal(tl_gguf_writer_add_tensor(w, "h", h), TL_OK);
        assert_int_equal(tl_gguf_writer_add_tensor(w, "tr", tr), TL_OK);
        assert_int_equal(tl_gguf_writer_add_tensor(w, "q", q), TL_ERR_ARG);
        char longname[80];
        memset(longname, 'x', 64);
        longname[64] = '\0';
        assert_int_equal(tl_gguf_writer_add_tensor(w, longname, q), TL_ERR_ARG);
        assert_int_equal(tl_gguf_writer_save(w, tmp_path), TL_OK);
        tl_gguf_writer_free(w);

        tl_gguf *g;
        assert_int_equal(tl_gguf_open(tmp_path, &g), TL_OK);
        assert_int_equal(tl_gguf_alignment(g), pass ? 64 : 32);
        assert_int_equal(tl_gguf_n_tensors(g), 4);
        uint64_t expect_off = 0;
        for (int k = 0; k < 4; k++) {
            const tl_gguf_tensor_info *ti = tl_gguf_tensor_at(g, k);
            /* ggml's layout: tensors in order, each padded to the alignment. */
            assert_int_equal(ti->offset, expect_off);
            expect_off += (ti->nbytes + tl_gguf_alignment(g) - 1) & ~(tl_gguf_alignment(g) - 1);
            assert_int_equal(ti->file_offset % tl_gguf_alignment(g), 0);
        }
        assert_int_equal(tl_gguf_data_offset(g) + expect_off, tl_gguf_file_size(g));
        const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(g, "q");
        assert_int_equal(ti->dtype, TL_DTYPE_Q4_0);
        assert_int_equal(ti->ne[1], 3);
        assert_memory_equal(ti->data, tl_tensor_data(q), tl_tensor_nbytes(q));
        ti = tl_gguf_find_tensor(g, "f");
        assert_int_equal(ti->n_dims, 3);
        assert_int_equal(ti->ne[2], 2);
        assert_memory_equal(ti->data, tl_tensor_data(f), tl_tensor_nbytes(f));
        ti = tl_gguf_find_tensor(g, "h");
        assert_memory_equal(ti->data, tl_tensor_data(h), tl_tensor_nbytes(h));
        ti = tl_gguf_find_tensor(g, "tr");
        assert_int_equal(ti->ne[0], 3);
        assert_int_equal(ti->ne[1], 5);
        const float *src = tl_tensor_data(f), *got = ti->data;
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++)
                assert_memory_equal(&got[r * 3 + c], &src[c * 5 + r], 4);
        tl_gguf_close(g);
        tl_tensor_unref(q);
        tl_tensor_unref(f);
        tl_tensor_unref(h);
        tl_tensor_unref(tr);
        unlink(tmp_path);
    }
}

/* The entries of dir other than "." and "..". */
static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* A fresh temporary dir (its template in dir) and the paths a = dir/na and
** b = dir/nb (300 bytes each); file a is created holding text. */
static void dir_with_file(char *dir, char *a, const char *na, const char *text, char *b,
                          const char *nb) {
    assert_non_null(mkdtemp(dir));
    snprintf(a, 300, "%s/%s", dir, na);
    snprintf(b, 300, "%s/%s", dir, nb);
    FILE *f = fopen(a, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Checks dir holds exactly the two files a and b, then removes them and dir. */
static void remove_two_and_dir(const char *dir, const char *a, const char *b) {
    assert_int_equal(dir_entries(dir), 2);
    assert_int_equal(unlink(a), 0);
    assert_int_equal(unlink(b), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_failed_save_leaves_nothing(void **state) {
    (void)state;
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u32(w, "a", 1), TL_OK);
    assert_int_equal(tl_gguf_writer_save(w, "/nonexistent-dir/x.gguf"), TL_ERR_IO);
    assert_non_null(strstr(tl_last_error(), "/nonexistent-dir/x.gguf: cannot create"));
    tl_gguf_writer_free(w);
    /* A file-size limit makes the writes fail part-way (EFBIG): neither the
    ** target nor the temporary file may be left in the directory. */
    char dir[] = "/tmp/tl_test_gguf_write_XXXXXX", path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/x.gguf", dir);
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    int64_t ne[1] = {1 << 20};
    tl_tensor *t;
    assert_int_equal(tl_tensor_new(TL_DTYPE_F32, 1, ne, &t), TL_OK);
    assert_int_equal(tl_gguf_writer_add_tensor(w, "big", t), TL_OK);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 << 10;
    void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    tl_status st = tl_gguf_writer_save(w, path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_xfsz);
    assert_int_equal(st, TL_ERR_IO);
    assert_non_null(strstr(tl_last_error(), "x.gguf: write failed"));
    assert_int_equal(dir_entries(dir), 0);
    /* the same save without the limit succeeds and leaves only the target */
    assert_int_equal(tl_gguf_writer_save(w, path), TL_OK);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    tl_tensor_unref(t);
    tl_gguf_writer_free(w);
}

/* A file that happens to be named like a temporary file (the writer used
** PATH.tmp before) is never replaced or removed by a save. */
static void test_save_replaces_nothing_else(void **state) {
    (void)state;
    char dir[] = "/tmp/tl_test_gguf_write_XXXXXX", path[300], other[300];
    dir_with_file(dir, other, "m.gguf.tmp", "mine", path, "m.gguf");
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u32(w, "a", 1), TL_OK);
    assert_int_equal(tl_gguf_writer_save(w, path), TL_OK);
    tl_gguf_writer_free(w);
    char buf[8] = {0};
    FILE *f = fopen(other, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf, f), 4);
    fclose(f);
    assert_string_equal(buf, "mine");
    remove_two_and_dir(dir, path, other);
}

/* A save through a symlink replaces the file it names and keeps the link; an
** existing file keeps its permission bits. */
static void test_save_through_symlink_keeps_mode(void **state) {
    (void)state;
    char dir[] = "/tmp/tl_test_gguf_write_XXXXXX", real[300], link[300];
    dir_with_file(dir, real, "real.gguf", "", link, "link.gguf");
    assert_int_equal(chmod(real, 0640), 0);
    assert_int_equal(symlink("real.gguf", link), 0);
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    assert_int_equal(tl_gguf_writer_set_u32(w, "a", 7), TL_OK);
    assert_int_equal(tl_gguf_writer_save(w, link), TL_OK);
    tl_gguf_writer_free(w);
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(stat(real, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0640);
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(real, &g), TL_OK);
    assert_int_equal(tl_gguf_n_kv(g), 1);
    tl_gguf_close(g);
    remove_two_and_dir(dir, link, real);
}

/* A temporary file still being written is removed by tl_temp_remove_all (what
** the CLI's signal handlers call); one that was forgotten (renamed) is not. */
static void test_temp_files_removed_on_signal(void **state) {
    (void)state;
    char dir[] = "/tmp/tl_test_gguf_write_XXXXXX", target[300];
    assert_non_null(mkdtemp(dir));
    snprintf(target, sizeof target, "%s/out.gguf", dir);
    char *a, *b;
    int fa, fb;
    assert_int_equal(tl_temp_create(target, &a, &fa), 0);
    assert_int_equal(tl_temp_create(target, &b, &fb), 0);
    assert_string_not_equal(a, b);
    assert_non_null(strstr(a, "/.out.gguf.tmp-"));
    close(fa);
    close(fb);
    assert_int_equal(rename(b, target), 0);
    tl_temp_forget(b);
    assert_int_equal(dir_entries(dir), 2);
    tl_temp_remove_all();
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(target, F_OK), 0);
    assert_int_equal(dir_entries(dir), 1);
    tl_temp_forget(a);
    free(a);
    free(b);
    assert_int_equal(unlink(target), 0);
    assert_int_equal(rmdir(dir), 0);
}

static int produced;

static tl_status make_tensor(void *ctx, tl_tensor **out) {
    int64_t ne[2] = {4, 2};
    tl_status st = tl_tensor_new(TL_DTYPE_F32, 2, ne, out);
    if (st) return st;
    float *d = tl_tensor_data(*out);
    for (int i = 0; i < 8; i++)
        d[i] = (float)i * *(const float *)ctx;
    produced++;
    return TL_OK;
}

static tl_status fail_tensor(void *ctx, tl_tensor **out) {
    (void)ctx;
    *out = NULL;
    return tl_fail(TL_ERR_UNSUPPORTED, "no can do");
}

static tl_status wrong_shape(void *ctx, tl_tensor **out) {
    (void)ctx;
    int64_t ne[1] = {8};
    return tl_tensor_new(TL_DTYPE_F32, 1, ne, out);
}

static void test_lazy_tensors(void **state) {
    (void)state;
    make_tmp("lazy");
    tl_gguf_writer *w;
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    float scale = 0.5f;
    int64_t ne[2] = {4, 2};
    produced = 0;
    assert_int_equal(
        tl_gguf_writer_add_tensor_lazy(w, "lazy", TL_DTYPE_F32, 2, ne, make_tensor, &scale), TL_OK);
    assert_int_equal(produced, 0); /* nothing is made before the save */
    assert_int_equal(tl_gguf_writer_save(w, tmp_path), TL_OK);
    assert_int_equal(produced, 1);
    tl_gguf_writer_free(w);
    tl_gguf *g;
    assert_int_equal(tl_gguf_open(tmp_path, &g), TL_OK);
    const tl_gguf_tensor_info *ti = tl_gguf_find_tensor(g, "lazy");
    assert_non_null(ti);
    assert_int_equal(ti->ne[1], 2);
    const float *d = ti->data;
    assert_true(d[7] == 3.5f);
    tl_gguf_close(g);
    unlink(tmp_path);

    /* A failing producer aborts the save with its error; no file is left. */
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    assert_int_equal(
        tl_gguf_writer_add_tensor_lazy(w, "bad", TL_DTYPE_F32, 2, ne, fail_tensor, NULL), TL_OK);
    assert_int_equal(tl_gguf_writer_save(w, tmp_path), TL_ERR_UNSUPPORTED);
    assert_string_equal(tl_last_error(), "no can do");
    assert_int_equal(access(tmp_path, F_OK), -1);
    tl_gguf_writer_free(w);
    assert_int_equal(tl_gguf_writer_new(&w), TL_OK);
    assert_int_equal(
        tl_gguf_writer_add_tensor_lazy(w, "odd", TL_DTYPE_F32, 2, ne, wrong_shape, NULL), TL_OK);
    assert_int_equal(tl_gguf_writer_save(w, tmp_path), TL_ERR_INTERNAL);
    assert_int_equal(access(tmp_path, F_OK), -1);
    tl_gguf_writer_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_value_types),
        cmocka_unit_test(test_tensors_and_alignment),
        cmocka_unit_test(test_failed_save_leaves_nothing),
        cmocka_unit_test(test_save_replaces_nothing_else),
        cmocka_unit_test(test_save_through_symlink_keeps_mode),
        cmocka_unit_test(test_temp_files_removed_on_signal),
        cmocka_unit_test(test_lazy_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
