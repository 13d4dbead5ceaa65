/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the Prometheus text writer (control/metrics.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void test_family_and_labels(void **state)
{
	(void)state;
	struct metrics_writer *w = metrics_writer_new();
	metrics_family(w, "tidal_x_total", METRICS_COUNTER, "help with \\ and\nnewline");
	metrics_sample(w, 3, "a", "plain", "b", "q\"uo\\te\nnl", NULL);
	metrics_sample(w, 1.5, NULL);
	metrics_family(w, "tidal_y", METRICS_GAUGE, "g");
	metrics_sample(w, NAN, NULL);
	metrics_sample(w, INFINITY, "k", "v", NULL);
	metrics_sample(w, 1e20, NULL);
	metrics_family(w, "tidal_z", METRICS_UNTYPED, "u");
	metrics_sample(w, 2, "quantile", "0.5", NULL);
	size_t len;
	const char *t = metrics_writer_text(w, &len);
	assert_string_equal(t, "# HELP tidal_x_total help with \\\\ and\\nnewline\n"
			       "# TYPE tidal_x_total counter\n"
			       "tidal_x_total{a=\"plain\",b=\"q\\\"uo\\\\te\\nnl\"} 3\n"
			       "tidal_x_total 1.5\n"
			       "# HELP tidal_y g\n"
			       "# TYPE tidal_y gauge\n"
			       "tidal_y NaN\n"
			       "tidal_y{k=\"v\"} +Inf\n"
			       "tidal_y 1e+20\n"
			       "# HELP tidal_z u\n"
			       "# TYPE tidal_z untyped\n"
			       "tidal_z{quantile=\"0.5\"} 2\n");
	assert_int_equal(len, strlen(t));
	metrics_writer_free(w);
	metrics_writer_free(NULL);
}

static void test_empty(void **state)
{
	(void)state;
	struct metrics_writer *w = metrics_writer_new();
	size_t len = 99;
	assert_string_equal(metrics_writer_text(w, &len), "");
	assert_int_equal(len, 0);
	metrics_writer_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_labels),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
