// SPDX-License-Identifier: MIT
#include "test.h"
#include <keel/wallclock.h>

TEST(epoch)
{
	CHECK_EQ(wallclock_date_to_unix(1970, 1, 1, 0, 0, 0), 0);
	CHECK_EQ(wallclock_date_to_unix(1970, 1, 2, 0, 0, 1), 86401);
}

TEST(known_dates)
{
	/* date -u -d '2000-03-01 00:00:00' +%s: 951868800 (after a leap day in a 400-year) */
	CHECK_EQ(wallclock_date_to_unix(2000, 3, 1, 0, 0, 0), 951868800ull);
	/* date -u -d '2026-11-21 14:05:09' +%s */
	CHECK_EQ(wallclock_date_to_unix(2026, 11, 21, 14, 5, 9), 1795269909ull);
	/* date -u -d '2024-02-29 23:59:59' +%s */
	CHECK_EQ(wallclock_date_to_unix(2024, 2, 29, 23, 59, 59), 1709251199ull);
	CHECK_EQ(wallclock_date_to_unix(2100, 3, 1, 0, 0, 0), 4107542400ull);
}

TEST(invalid)
{
	CHECK_EQ(wallclock_date_to_unix(1969, 12, 31, 0, 0, 0), 0);
	CHECK_EQ(wallclock_date_to_unix(2020, 13, 1, 0, 0, 0), 0);
}

TEST(tsc_progress)
{
	wallclock_set(1000, 5000, 2000000); /* 2 GHz */
	CHECK_EQ(wallclock_ns(5000), 1000000000000ull);
	CHECK_EQ(wallclock_ns(5000 + 2000000000ull), 1001000000000ull);
	CHECK_EQ(wallclock_ns(5000 + 3), 1000000000001ull); /* 1.5 ns rounds down */
	CHECK_EQ(wallclock_ns(4000), 1000000000000ull);	    /* before the base: no time */
	/* A day at 2 GHz does not overflow. */
	CHECK_EQ(wallclock_ns(5000 + 86400ull * 2000000000ull), (1000ull + 86400) * 1000000000ull);
}

TEST_MAIN(TEST_CASE(epoch), TEST_CASE(known_dates), TEST_CASE(invalid), TEST_CASE(tsc_progress))
