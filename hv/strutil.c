// SPDX-License-Identifier: MIT
/*
 * String helpers that the C library lacks. Kept apart from hv/string.c so the
 * hosted unit tests and tools can link them next to libc.
 */
#include <keel/errno.h>
#include <keel/string.h>

size_t keel_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = MIN(len, size - 1);

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Leading zeros are plain decimal (no octal): "0800" is 800, which is what a
 * person writing a config file means. Signs and whitespace are junk, because
 * callers hand over an exact token. Junk anywhere wins over overflow so that
 * "99999999999999999999x" is reported as malformed, not as too large.
 */
int keel_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned int base = 10;
	bool overflow = false;
	uint64_t v = 0;
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		int d = digit_value(s[i]);

		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			overflow = true;
		v = v * base + (unsigned int)d;
	}
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}
