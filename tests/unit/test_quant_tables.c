/* tests/unit/test_quant_tables.c -- the kernel tables are constant and agree
** (runtime/dtype.h, runtime/quant.h): the two traits tables (scalar, AVX2)
** name the same kernels as the quant module's per-variant table; the chosen
** variant is one of them and matches the CPU; the traits of one type are the
** same object from every thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "runtime/cpu.h"
#include "runtime/quant.h"

static const tl_dtype block_types[] = {
    TL_DTYPE_F16,  TL_DTYPE_Q4_0, TL_DTYPE_Q4_1, TL_DTYPE_Q5_0, TL_DTYPE_Q5_1,
    TL_DTYPE_Q8_0, TL_DTYPE_Q8_1, TL_DTYPE_Q2_K, TL_DTYPE_Q3_K, TL_DTYPE_Q4_K,
    TL_DTYPE_Q5_K, TL_DTYPE_Q6_K, TL_DTYPE_Q8_K,
};
#define NB (sizeof block_types / sizeof block_types[0])

/* Each traits table holds, for every block type, the kernels tl_quant_kernels_of
** gives for its variant; plain types have the same entries in both. */
static void test_traits_agree_with_quant_table(void **state) {
    (void)state;
    for (int v = 0; v < 2; v++) {
        const tl_type_traits *tab = tl_dtype_traits_table(v == 1);
        for (size_t i = 0; i < NB; i++) {
            tl_quant_kernels k;
            assert_true(tl_quant_kernels_of(block_types[i], v == 1, &k));
            const tl_type_traits *t = &tab[block_types[i]];
            assert_true(t->supported);
            assert_ptr_equal(t->to_f32, k.to_f32);
            assert_ptr_equal(t->from_f32, k.from_f32);
            assert_ptr_equal(t->vec_dot, k.vec_dot);
            assert_int_equal(t->dot_type, k.dot_type);
            assert_ptr_equal(t->vec_dot,
                             tl_quant_vec_dot_order_of(block_types[i], TL_DOT_ORDER_ROW, v == 1));
        }
    }
    const tl_type_traits *s = tl_dtype_traits_table(false), *a = tl_dtype_traits_table(true);
    const tl_dtype plain[] = {TL_DTYPE_F32, TL_DTYPE_BF16, TL_DTYPE_I8,  TL_DTYPE_I16,
                              TL_DTYPE_I32, TL_DTYPE_I64,  TL_DTYPE_F64, TL_DTYPE_BOOL};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        assert_ptr_equal(s[plain[i]].to_f32, a[plain[i]].to_f32);
        assert_ptr_equal(s[plain[i]].from_f32, a[plain[i]].from_f32);
        if (plain[i] != TL_DTYPE_F32) /* F32's dot has an AVX2 version (quant/f32.c) */
            assert_ptr_equal(s[plain[i]].vec_dot, a[plain[i]].vec_dot);
        assert_string_equal(s[plain[i]].name, a[plain[i]].name);
    }
    assert_ptr_equal(s[TL_DTYPE_F32].vec_dot,
                     tl_quant_vec_dot_order_of(TL_DTYPE_F32, TL_DOT_ORDER_ROW, false));
    assert_ptr_equal(a[TL_DTYPE_F32].vec_dot,
                     tl_quant_vec_dot_order_of(TL_DTYPE_F32, TL_DOT_ORDER_ROW, true));
    for (int d = 0; d < TL_DTYPE_COUNT; d++) {
        assert_int_equal(s[d].size, a[d].size);
        assert_int_equal(s[d].blck, a[d].blck);
        if (s[d].name) assert_string_equal(s[d].name, a[d].name);
    }
}

/* The chosen variant is one of the two tables, the one the CPU allows. */
static void test_selected_variant(void **state) {
    (void)state;
    const tl_type_traits *sel = tl_kernels_selected();
    assert_ptr_equal(sel, tl_dtype_traits_table(tl_cpu_use_avx2()));
    assert_int_equal(tl_kernels_use_avx2(), tl_cpu_use_avx2());
    assert_ptr_equal(tl_dtype_traits(TL_DTYPE_Q4_0), &sel[TL_DTYPE_Q4_0]);
    assert_null(tl_dtype_traits((tl_dtype)5)); /* a gap in ggml's numbering */
}

static void *traits_from_thread(void *arg) {
    (void)arg;
    return (void *)tl_dtype_traits(TL_DTYPE_Q4_K);
}

/* Many threads asking first at once all get the same entry. */
static void test_threads_see_one_table(void **state) {
    (void)state;
    pthread_t tid[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, traits_from_thread, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *r = NULL;
        pthread_join(tid[i], &r);
        assert_ptr_equal(r, tl_dtype_traits(TL_DTYPE_Q4_K));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_see_one_table),
        cmocka_unit_test(test_traits_agree_with_quant_table),
        cmocka_unit_test(test_selected_variant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
