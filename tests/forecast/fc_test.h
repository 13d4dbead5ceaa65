/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fc_test: helpers shared by the forecast unit tests (cmocka 1.1 has no float asserts).
 */
#ifndef TIDAL_TESTS_FC_TEST_H
#define TIDAL_TESTS_FC_TEST_H

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

/* |a - b| <= tol, or relative to |b| when rel is set; prints both on failure. */
#define assert_near(a, b, tol)                                                                     \
	do {                                                                                       \
		double a_ = (a), b_ = (b), t_ = (tol);                                             \
		if (!(fabs(a_ - b_) <= t_))                                                        \
			fail_msg("%s = %.10g, expected %.10g (tolerance %g)", #a, a_, b_, t_);     \
	} while (0)
#define assert_rel(a, b, rtol) assert_near(a, b, (rtol)*fabs(b) + 1e-12)

#endif
