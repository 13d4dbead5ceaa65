/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the logger's levels and sink (common/log.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

struct capture {
	int n;
	enum tlog_level last_level;
	char last[256];
};

static void sink(enum tlog_level level, const char *msg, void *arg)
{
	struct capture *c = arg;
	c->n++;
	c->last_level = level;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void test_levels(void **state)
{
	(void)state;
	struct capture c = {0};
	tlog_set_sink(sink, &c);
	tlog_set_level(TLOG_WARN);
	log_info("hidden %d", 1);
	assert_int_equal(c.n, 0);
	log_warn("shown %d", 2);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.last, "shown 2");
	assert_int_equal(c.last_level, TLOG_WARN);
	log_err("error");
	assert_int_equal(c.n, 2);
	tlog_set_level(TLOG_DEBUG);
	log_debug("debug");
	assert_int_equal(c.n, 3);
	tlog_set_sink(NULL, NULL);
}

static void test_parse(void **state)
{
	(void)state;
	enum tlog_level l;
	assert_int_equal(tlog_parse_level("debug", &l), 0);
	assert_int_equal(l, TLOG_DEBUG);
	assert_int_equal(tlog_parse_level("WARNING", &l), 0);
	assert_int_equal(l, TLOG_WARN);
	assert_int_equal(tlog_parse_level("Error", &l), 0);
	assert_int_equal(l, TLOG_ERROR);
	assert_true(tlog_parse_level("loud", &l) < 0);
	assert_true(tlog_parse_level(NULL, &l) < 0);
	assert_string_equal(tlog_level_name(TLOG_INFO), "info");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
