/* SPDX-License-Identifier: MIT */
/*
 * A tiny hosted unit-test framework. Each test_*.c defines TEST(name)
 * functions and ends with TEST_MAIN(list of names). The binary prints one
 * line per failed check and a closing "N passed, N failed" line; its exit
 * status is 0 only if every test passed.
 */
#ifndef KEEL_TEST_H
#define KEEL_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <inttypes.h>

static int test_failed_checks;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b);     \
		if (_a != _b) {                                                                    \
			printf("  %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", __FILE__, __LINE__, \
			       #a, #b, _a, _b);                                                    \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (strcmp(_a, _b) != 0) {                                                         \
			printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			       #a, #b, _a, _b);                                                    \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

/* CHECK that haystack contains needle. */
#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *_h = (hay), *_n = (needle);                                            \
		if (!strstr(_h, _n)) {                                                             \
			printf("  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,    \
			       _h, _n);                                                            \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

typedef void (*test_fn)(void);
struct test_case {
	const char *name;
	test_fn fn;
};

static inline int test_run_all(const char *file, const struct test_case *cases, int n)
{
	int passed = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		int before = test_failed_checks;
		cases[i].fn();
		if (test_failed_checks == before) {
			passed++;
			printf("PASS %s: %s\n", file, cases[i].name);
		} else {
			failed++;
			printf("FAIL %s: %s\n", file, cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_CASE(fn)                                                                              \
	{                                                                                          \
#fn, fn                                                                            \
	}
#define TEST_MAIN(...)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct test_case cases[] = { __VA_ARGS__ };                           \
		return test_run_all(__FILE__, cases, (int)(sizeof(cases) / sizeof(cases[0])));     \
	}

#endif
