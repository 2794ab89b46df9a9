// SPDX-License-Identifier: MIT
/* Unit tests for hv/ci_result.c: CI mode's verdict and the value handed on. */
#include "test.h"

#include <keel/ci.h>

#define EXITED(v)                                                                                  \
	{                                                                                          \
		PARTITION_EXITED, ((uint64_t)(v) << 1) | 1                                         \
	}
#define OFF                                                                                        \
	{                                                                                          \
		PARTITION_POWERED_OFF, 0                                                           \
	}
#define FAILED                                                                                     \
	{                                                                                          \
		PARTITION_FAILED, 0                                                                \
	}

TEST(passed)
{
	const struct ci_outcome ok = EXITED(0x10), bad = EXITED(0x11), off = OFF, f = FAILED;

	CHECK(ci_passed(&ok, 0x10));
	CHECK(!ci_passed(&ok, 0));
	CHECK(!ci_passed(&bad, 0x10));
	CHECK(ci_passed(&off, 0x10));
	CHECK(!ci_passed(&f, 0));
	CHECK_EQ(ci_qemu_exit_code(0x10), 33);
	CHECK_EQ(ci_qemu_exit_code(0), 1);
}

TEST(all_passed_hands_on_success)
{
	const struct ci_outcome o[3] = { EXITED(0x10), OFF, EXITED(0x10) };
	uint32_t failed = 99;

	CHECK_EQ(ci_result_value(o, 3, 0, 0x10, &failed), 0x10);
	CHECK_EQ(failed, 0);
}

TEST(first_failure_value)
{
	const struct ci_outcome o[3] = { EXITED(0), FAILED, EXITED(5) };
	const struct ci_outcome two[2] = { EXITED(7), EXITED(5) };
	uint32_t failed;

	CHECK_EQ(ci_result_value(o, 3, 0, 0, &failed), 5);
	CHECK_EQ(failed, 2);
	CHECK_EQ(ci_result_value(two, 2, 0, 0, &failed), 7);
	CHECK_EQ(failed, 2);
}

TEST(fallback_value)
{
	const struct ci_outcome f[2] = { EXITED(0x10), FAILED };
	/* 0x90 gives status 0x121: QEMU's exit code would be 0x21 = 33, success's. */
	const struct ci_outcome alias[1] = { EXITED(0x90) };
	uint32_t failed;

	CHECK_EQ(ci_result_value(f, 2, 0, 0x10, &failed), 0x11);
	CHECK_EQ(failed, 1);
	CHECK_EQ(ci_result_value(alias, 1, 0, 0x10, &failed), 0x11);
	CHECK_EQ(ci_qemu_exit_code(0x11), 35);
	/* Skipped partitions fail the run. */
	CHECK_EQ(ci_result_value(f, 1, 1, 0x10, &failed), 0x11);
	CHECK_EQ(failed, 1);
	CHECK_EQ(ci_result_value(f, 0, 2, 0, &failed), 1);
	CHECK_EQ(failed, 2);
}

TEST_MAIN(TEST_CASE(passed), TEST_CASE(all_passed_hands_on_success), TEST_CASE(first_failure_value),
	  TEST_CASE(fallback_value))
