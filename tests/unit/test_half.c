/* tests/unit/test_half.c -- f16/bf16 conversions against known values and
** an exhaustive round trip of every half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "runtime/half.h"

static void test_known_values(void **state) {
    (void)state;
    assert_int_equal(tl_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(tl_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(tl_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(tl_f32_to_f16(65520.0f), 0x7c00); /* rounds up to inf */
    assert_int_equal(tl_f32_to_f16(65519.996f), 0x7bff);
    assert_int_equal(tl_f32_to_f16(5.9604644775390625e-8f), 0x0001);  /* smallest subnormal */
    assert_int_equal(tl_f32_to_f16(2.98023223876953125e-8f), 0x0000); /* tie -> even (0) */
    assert_int_equal(tl_f32_to_f16(8.940696716308594e-8f), 0x0002);   /* 1.5 ulp tie -> 2 */
    assert_int_equal(tl_f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3c00);   /* tie -> even */
    assert_int_equal(tl_f32_to_f16(1.0f + 3.0f / 2048.0f), 0x3c02);   /* tie -> even (up) */
    assert_int_equal(tl_f32_to_f16(INFINITY), 0x7c00);
    assert_true((tl_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (tl_f32_to_f16(NAN) & 0x3ff) != 0);
    assert_true(tl_f16_to_f32(0x3555) > 0.333f && tl_f16_to_f32(0x3555) < 0.334f);
    assert_int_equal(tl_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(tl_f32_to_bf16(1.00390625f), 0x3f80); /* tie -> even */
    assert_int_equal(tl_f32_to_bf16(1.01171875f), 0x3f82); /* tie -> even (up) */
}

static void test_every_half_round_trips(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = tl_f16_to_f32((tl_f16)h);
        if (isnan(f)) continue;
        assert_int_equal(tl_f32_to_f16(f), h);
    }
}

/* Every f32 halfway between two adjacent halves rounds to the even one. */
static void test_midpoints_round_to_even(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        double lo = tl_f16_to_f32((tl_f16)h), hi = tl_f16_to_f32((tl_f16)(h + 1));
        float mid = (float)((lo + hi) / 2.0);
        uint16_t want = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        assert_int_equal(tl_f32_to_f16(mid), want);
        assert_int_equal(tl_f32_to_f16(-mid), want | 0x8000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_every_half_round_trips),
        cmocka_unit_test(test_midpoints_round_to_even),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
