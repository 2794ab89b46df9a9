// SPDX-License-Identifier: MIT
/*
 * The C library's memory and string functions for the freestanding build.
 * The compiler may emit calls to memcpy/memset itself, so these keep their
 * standard names. Hosted unit tests use libc instead of this file.
 */
#include <keel/string.h>

/*
 * Eight bytes at a time where both pointers allow it: the exit path clears
 * and copies small structures on every VM exit (docs/performance.md).
 */
typedef uint64_t __attribute__((may_alias)) word_t;
#define WORD_MASK (sizeof(word_t) - 1)

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((size_t)d | (size_t)s) & WORD_MASK) == 0) {
		for (; n >= sizeof(word_t); n -= sizeof(word_t)) {
			*(word_t *)d = *(const word_t *)s;
			d += sizeof(word_t);
			s += sizeof(word_t);
		}
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		d += n;
		s += n;
		while (n--)
			*--d = *--s;
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	word_t w = (unsigned char)c * 0x0101010101010101ull;

	while (n && ((size_t)d & WORD_MASK)) {
		*d++ = (unsigned char)c;
		n--;
	}
	for (; n >= sizeof(word_t); n -= sizeof(word_t)) {
		*(word_t *)d = w;
		d += sizeof(word_t);
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return (char *)hay;
	return n ? NULL : (char *)hay;
}
