// SPDX-License-Identifier: MIT
/* Lookups in struct boot_info (include/keel/bootinfo.h). */
#include <keel/types.h>
#include <keel/string.h>
#include <keel/bootinfo.h>

/* The last path component of s[0..len): what follows the last '/' or '\\' (UEFI paths). */
static const char *last_component(const char *s, size_t len, size_t *out_len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/' || s[i] == '\\')
			start = i + 1;
	}
	*out_len = len - start;
	return s + start;
}

static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
	size_t nlen, nbase_len;
	const char *nbase;
	uint32_t nr;

	if (!bi || !name)
		return NULL;
	nr = MIN(bi->nr_modules, (uint32_t)BOOT_MODULES_MAX);
	nlen = strlen(name);
	if (nlen == 0)
		return NULL;
	nbase = last_component(name, nlen, &nbase_len);

	/* An exact match wins over a match of the file name alone, wherever it is. */
	for (uint32_t i = 0; i < nr; i++) {
		const struct boot_module *m = &bi->modules[i];

		if (same(m->name, strnlen(m->name, sizeof(m->name)), name, nlen))
			return m;
	}
	if (nbase_len == 0)
		return NULL; /* "dir/" names no file */
	for (uint32_t i = 0; i < nr; i++) {
		const struct boot_module *m = &bi->modules[i];
		size_t mbase_len;
		const char *mbase =
			last_component(m->name, strnlen(m->name, sizeof(m->name)), &mbase_len);

		if (same(mbase, mbase_len, nbase, nbase_len))
			return m;
	}
	return NULL;
}
