// SPDX-License-Identifier: MIT
/*
 * keel-cfgcheck FILE...: check keel.cfg files on the build host with the very
 * parser the hypervisor and the UEFI loader use (hv/config.c), so a config
 * that passes here is not rejected at boot for its syntax.
 *
 * Exit status: 0 if every file is valid, 1 if any is not, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

/* Far beyond any real keel.cfg; stops "keel-cfgcheck /dev/zero" from eating memory. */
#define MAX_FILE_SIZE (16u << 20)

static void usage(FILE *out)
{
	fprintf(out, "usage: keel-cfgcheck FILE...\n"
		     "Check Keel configuration files (see docs/config.md); '-' reads stdin.\n");
}

/* Whole file into a malloc'd buffer; NULL with a message printed on failure. */
static char *read_file(const char *name, FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *bigger = NULL;

			if (cap < MAX_FILE_SIZE)
				bigger = realloc(buf, cap * 2);
			if (!bigger) {
				fprintf(stderr, "%s: too large (more than %u bytes)\n", name,
					MAX_FILE_SIZE);
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", name);
		return NULL;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error: %s\n", name, strerror(errno));
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static const char *console_name(uint16_t port)
{
	switch (port) {
	case 0x3f8:
		return "com1";
	case 0x2f8:
		return "com2";
	case 0x3e8:
		return "com3";
	case 0x2e8:
		return "com4";
	default:
		return "?";
	}
}

/* Print s in the config's quoted-string syntax, so odd characters stay visible. */
static void print_quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_summary(const char *name, const struct keel_config *cfg)
{
	printf("%s: ok\n", name);
	if (cfg->console.port)
		printf("  console: %s (port 0x%x), %u baud\n", console_name(cfg->console.port),
		       cfg->console.port, cfg->console.baud);
	else
		printf("  console: none\n");
	printf("  kernel:  %s (line %d)\n", cfg->host.kernel.path, cfg->host.kernel.line);
	if (cfg->host.initrd.path[0])
		printf("  initrd:  %s (line %d)\n", cfg->host.initrd.path, cfg->host.initrd.line);
	else
		printf("  initrd:  none\n");
	fputs("  cmdline: ", stdout);
	if (cfg->host.cmdline[0])
		print_quoted(cfg->host.cmdline);
	else
		fputs("none", stdout);
	putchar('\n');
}

static int check(const char *name)
{
	struct keel_config cfg;
	struct config_error err;
	char msg[CONFIG_ERROR_MAX + 256];
	bool is_stdin = strcmp(name, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(name, "rb");
	size_t len = 0;
	char *text;
	int ret;

	if (is_stdin)
		name = "<stdin>";
	if (!f) {
		fprintf(stderr, "%s: %s\n", name, strerror(errno));
		return 1;
	}
	text = read_file(name, f, &len);
	if (!is_stdin)
		fclose(f);
	if (!text)
		return 1;

	ret = config_parse(text, len, &cfg, &err);
	free(text);
	if (ret) {
		config_format_error(msg, sizeof(msg), name, &err);
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	print_summary(name, &cfg);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (check(argv[i]))
			status = 1;
	}
	return status;
}
