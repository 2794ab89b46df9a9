// SPDX-License-Identifier: MIT
#include "test.h"

#include <keel/errno.h>
#include <keel/string.h>

/* Parse a copy that has no NUL after it, so ASan catches reads past len. */
static int parse(const char *s, size_t len, uint64_t *out)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, s, len);
	ret = keel_parse_u64(copy, len, out);
	free(copy);
	return ret;
}

static int parse_str(const char *s, uint64_t *out)
{
	return parse(s, strlen(s), out);
}

TEST(strlcpy_fits)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(keel_strlcpy(buf, "abc", sizeof(buf)), 3);
	CHECK_STR(buf, "abc");
}

TEST(strlcpy_exact_fit)
{
	char buf[4];

	CHECK_EQ(keel_strlcpy(buf, "abc", sizeof(buf)), 3);
	CHECK_STR(buf, "abc");
}

TEST(strlcpy_truncates)
{
	char buf[4];

	CHECK_EQ(keel_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	CHECK_STR(buf, "abc");
}

TEST(strlcpy_size_one_and_zero)
{
	char buf[2] = { 'x', 'y' };

	CHECK_EQ(keel_strlcpy(buf, "abc", 1), 3);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(buf[1], 'y');

	buf[0] = 'x';
	CHECK_EQ(keel_strlcpy(buf, "abc", 0), 3);
	CHECK_EQ(buf[0], 'x');
}

TEST(strlcpy_empty)
{
	char buf[4] = "zzz";

	CHECK_EQ(keel_strlcpy(buf, "", sizeof(buf)), 0);
	CHECK_STR(buf, "");
}

TEST(parse_decimal)
{
	uint64_t v = 1;

	CHECK_EQ(parse_str("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_str("115200", &v), 0);
	CHECK_EQ(v, 115200);
	/* Leading zeros are decimal, not octal. */
	CHECK_EQ(parse_str("0800", &v), 0);
	CHECK_EQ(v, 800);
}

TEST(parse_hex)
{
	uint64_t v = 0;

	CHECK_EQ(parse_str("0x3f8", &v), 0);
	CHECK_EQ(v, 0x3f8);
	CHECK_EQ(parse_str("0X3F8", &v), 0);
	CHECK_EQ(v, 0x3f8);
	CHECK_EQ(parse_str("0xDeadBeef", &v), 0);
	CHECK_EQ(v, 0xdeadbeef);
	CHECK_EQ(parse_str("0x0", &v), 0);
	CHECK_EQ(v, 0);
}

TEST(parse_limits)
{
	uint64_t v = 0;

	CHECK_EQ(parse_str("18446744073709551615", &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(parse_str("0xffffffffffffffff", &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(parse_str("0x0000000000000000000000001", &v), 0);
	CHECK_EQ(v, 1);
}

TEST(parse_overflow)
{
	uint64_t v = 42;

	CHECK_EQ(parse_str("18446744073709551616", &v), -ERANGE);
	CHECK_EQ(parse_str("99999999999999999999", &v), -ERANGE);
	CHECK_EQ(parse_str("0x10000000000000000", &v), -ERANGE);
	/* *out is left alone on failure. */
	CHECK_EQ(v, 42);
}

TEST(parse_junk)
{
	uint64_t v = 42;

	CHECK_EQ(parse("", 0, &v), -EINVAL);
	CHECK_EQ(parse_str("0x", &v), -EINVAL);
	CHECK_EQ(parse_str("x10", &v), -EINVAL);
	CHECK_EQ(parse_str("-1", &v), -EINVAL);
	CHECK_EQ(parse_str("+1", &v), -EINVAL);
	CHECK_EQ(parse_str(" 1", &v), -EINVAL);
	CHECK_EQ(parse_str("1 ", &v), -EINVAL);
	CHECK_EQ(parse_str("12a", &v), -EINVAL);
	CHECK_EQ(parse_str("0x12g", &v), -EINVAL);
	CHECK_EQ(parse_str("0x-1", &v), -EINVAL);
	CHECK_EQ(parse_str("1.5", &v), -EINVAL);
	CHECK_EQ(parse_str("99999999999999999999x", &v), -EINVAL);
	CHECK_EQ(v, 42);
}

TEST(parse_uses_exactly_len)
{
	uint64_t v = 0;

	/* Only the first len characters count, whatever follows them. */
	CHECK_EQ(keel_parse_u64("1234", 2, &v), 0);
	CHECK_EQ(v, 12);
	CHECK_EQ(keel_parse_u64("0x10zz", 4, &v), 0);
	CHECK_EQ(v, 0x10);
	CHECK_EQ(keel_parse_u64("0x10", 1, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(keel_parse_u64("5\0", 2, &v), -EINVAL);
}

TEST_MAIN(TEST_CASE(strlcpy_fits), TEST_CASE(strlcpy_exact_fit), TEST_CASE(strlcpy_truncates),
	  TEST_CASE(strlcpy_size_one_and_zero), TEST_CASE(strlcpy_empty), TEST_CASE(parse_decimal),
	  TEST_CASE(parse_hex), TEST_CASE(parse_limits), TEST_CASE(parse_overflow),
	  TEST_CASE(parse_junk), TEST_CASE(parse_uses_exactly_len))
