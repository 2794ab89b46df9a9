/* SPDX-License-Identifier: MIT */
/*
 * String and memory helpers. The prototypes are the C library's, so hosted
 * unit tests use libc and the hypervisor uses hv/string.c.
 */
#ifndef KEEL_STRING_H
#define KEEL_STRING_H

#include <keel/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);

/* Keel's own: copy with truncation, always NUL-terminates; returns strlen(src). */
size_t keel_strlcpy(char *dst, const char *src, size_t size);
/* Parse an unsigned number (decimal, or 0x-prefixed hex); 0 on success, -EINVAL/-ERANGE. */
int keel_parse_u64(const char *s, size_t len, uint64_t *out);

int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
