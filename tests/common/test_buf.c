/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the bounds-checked reader/writer (common/buf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_roundtrip(void **state)
{
	(void)state;
	struct tb_writer w;
	tb_writer_init(&w, 0);
	tb_put_u8(&w, 0xab);
	tb_put_u16(&w, 0x1234);
	tb_put_u32(&w, 0xdeadbeef);
	tb_put_u64(&w, 0x0102030405060708ull);
	tb_put_bytes(&w, "xyz", 3);
	assert_true(tb_writer_ok(&w));
	assert_int_equal(w.len, 1 + 2 + 4 + 8 + 3);
	static const uint8_t want[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2,
				       3,    4,    5,    6,    7,    8,    'x',  'y', 'z'};
	assert_memory_equal(w.data, want, sizeof(want));

	struct tb_reader r;
	tb_reader_init(&r, w.data, w.len);
	assert_int_equal(tb_get_u8(&r), 0xab);
	assert_int_equal(tb_get_u16(&r), 0x1234);
	assert_int_equal(tb_get_u32(&r), 0xdeadbeef);
	assert_true(tb_get_u64(&r) == 0x0102030405060708ull);
	char s[3];
	tb_get_bytes(&r, s, 3);
	assert_memory_equal(s, "xyz", 3);
	assert_true(tb_reader_ok(&r));
	assert_int_equal(tb_reader_left(&r), 0);
	tb_writer_free(&w);
}

static void test_overrun_is_sticky(void **state)
{
	(void)state;
	const uint8_t data[3] = {1, 2, 3};
	struct tb_reader r;
	tb_reader_init(&r, data, sizeof(data));
	assert_int_equal(tb_get_u16(&r), 0x0102);
	assert_int_equal(tb_get_u32(&r), 0); /* only 1 byte left */
	assert_false(tb_reader_ok(&r));
	assert_int_equal(tb_get_u8(&r), 0); /* stays failed although a byte is left */
	assert_int_equal(tb_reader_left(&r), 0);
	assert_null(tb_get_ptr(&r, 0));
}

static void test_sub_reader(void **state)
{
	(void)state;
	const uint8_t data[] = {0, 3, 'a', 'b', 'c', 0xff};
	struct tb_reader r, sub;
	tb_reader_init(&r, data, sizeof(data));
	uint16_t len = tb_get_u16(&r);
	tb_get_sub(&r, len, &sub);
	assert_true(tb_reader_ok(&sub));
	assert_int_equal(tb_reader_left(&sub), 3);
	tb_skip(&sub, 4);
	assert_false(tb_reader_ok(&sub));
	assert_true(tb_reader_ok(&r)); /* the parent is unaffected by the sub's overrun */
	assert_int_equal(tb_get_u8(&r), 0xff);

	tb_reader_init(&r, data, sizeof(data));
	tb_get_sub(&r, 100, &sub); /* longer than what is there */
	assert_false(tb_reader_ok(&r));
	assert_false(tb_reader_ok(&sub));
}

static void test_size_overflow_guard(void **state)
{
	(void)state;
	const uint8_t data[4] = {0};
	struct tb_reader r;
	tb_reader_init(&r, data, sizeof(data));
	tb_skip(&r, 2);
	tb_skip(&r, SIZE_MAX); /* pos + n would wrap */
	assert_false(tb_reader_ok(&r));
}

static void test_fixed_writer_limit(void **state)
{
	(void)state;
	uint8_t buf[5];
	struct tb_writer w;
	tb_writer_init_fixed(&w, buf, sizeof(buf));
	tb_put_u32(&w, 1);
	assert_true(tb_writer_ok(&w));
	tb_put_u16(&w, 2); /* does not fit */
	assert_false(tb_writer_ok(&w));
	assert_int_equal(w.len, 4);
	tb_put_u8(&w, 3); /* would fit, but errors are sticky */
	assert_int_equal(w.len, 4);
	tb_writer_free(&w); /* must not free the caller's buffer */
}

static void test_patch_and_limit(void **state)
{
	(void)state;
	struct tb_writer w;
	tb_writer_init(&w, 8);
	size_t off = tb_reserve(&w, 2);
	tb_put_u32(&w, 7);
	tb_patch_u16(&w, off, (uint16_t)(w.len - off - 2));
	assert_true(tb_writer_ok(&w));
	assert_int_equal(w.data[0], 0);
	assert_int_equal(w.data[1], 4);
	tb_patch_u32(&w, 5, 1); /* past the end */
	assert_false(tb_writer_ok(&w));
	tb_writer_reset(&w);
	assert_true(tb_writer_ok(&w));
	tb_put_bytes(&w, "123456789", 9); /* above max */
	assert_false(tb_writer_ok(&w));
	tb_writer_free(&w);
	tb_writer_free(NULL);
}

static void test_growth(void **state)
{
	(void)state;
	struct tb_writer w;
	tb_writer_init(&w, 0);
	for (uint32_t i = 0; i < 100000; i++)
		tb_put_u32(&w, i);
	assert_true(tb_writer_ok(&w));
	struct tb_reader r;
	tb_reader_init(&r, w.data, w.len);
	for (uint32_t i = 0; i < 100000; i++)
		if (tb_get_u32(&r) != i)
			fail_msg("value %u", i);
	tb_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_overrun_is_sticky),
		cmocka_unit_test(test_sub_reader),     cmocka_unit_test(test_size_overflow_guard),
		cmocka_unit_test(test_fixed_writer_limit), cmocka_unit_test(test_patch_and_limit),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
