// SPDX-License-Identifier: MIT
#include "test.h"

#include <keel/config.h>
#include <keel/errno.h>

static struct keel_config cfg;
static struct config_error err;

/* Parse a copy with nothing after it, so ASan catches any read past len. */
static int parse_n(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, text, len);
	ret = config_parse(copy, len, &cfg, &err);
	free(copy);
	return ret;
}

static int parse(const char *text)
{
	return parse_n(text, strlen(text));
}

#define HOST "[host]\nkernel = vmlinuz\n"

/* text must fail on exactly line want_line with exactly want_msg. */
#define CHECK_ERROR(text, want_line, want_msg)                                                     \
	do {                                                                                       \
		CHECK_EQ(parse(text), -EINVAL);                                                    \
		CHECK_EQ(err.line, want_line);                                                     \
		CHECK_STR(err.msg, want_msg);                                                      \
	} while (0)

#define CHECK_OK(text)                                                                             \
	do {                                                                                       \
		int _ret = parse(text);                                                            \
		CHECK_EQ(_ret, 0);                                                                 \
		if (_ret)                                                                          \
			printf("    line %d: %s\n", err.line, err.msg);                            \
	} while (0)

/* A string of n copies of c, in a buffer the caller frees. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

TEST(full_config)
{
	CHECK_OK("# Keel configuration\n"
		 "[keel]\n"
		 "console = com2   # second UART\n"
		 "baud = 57600\n"
		 "\n"
		 "[host]\n"
		 "kernel = /boot/vmlinuz-6.1\n"
		 "initrd = \"/boot/initrd.img-6.1\"\n"
		 "cmdline = \"console=ttyS0,115200 root=/dev/vda1 quiet # not a comment\"\n");
	CHECK_EQ(cfg.console.port, 0x2f8);
	CHECK_EQ(cfg.console.baud, 57600);
	CHECK_STR(cfg.host.kernel.path, "/boot/vmlinuz-6.1");
	CHECK_EQ(cfg.host.kernel.line, 7);
	CHECK_STR(cfg.host.initrd.path, "/boot/initrd.img-6.1");
	CHECK_EQ(cfg.host.initrd.line, 8);
	CHECK_STR(cfg.host.cmdline, "console=ttyS0,115200 root=/dev/vda1 quiet # not a comment");
	CHECK_EQ(err.line, 0);
	CHECK_STR(err.msg, "");
}

TEST(defaults)
{
	CHECK_OK(HOST);
	CHECK_EQ(cfg.console.port, 0x3f8);
	CHECK_EQ(cfg.console.baud, 115200);
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_EQ(cfg.host.kernel.line, 2);
	CHECK_STR(cfg.host.initrd.path, "");
	CHECK_EQ(cfg.host.initrd.line, 0);
	CHECK_STR(cfg.host.cmdline, "");
}

TEST(sections_in_any_order)
{
	CHECK_OK("[host]\nkernel = k\n[keel]\nbaud = 9600\n");
	CHECK_EQ(cfg.console.baud, 9600);
	CHECK_STR(cfg.host.kernel.path, "k");
	CHECK_OK("[keel]\n" HOST);
}

TEST(reparse_starts_from_defaults)
{
	CHECK_OK("[keel]\nconsole = none\nbaud = 9600\n"
		 "[host]\nkernel = a\ninitrd = b\ncmdline = c\n");
	CHECK_OK(HOST);
	CHECK_EQ(cfg.console.port, 0x3f8);
	CHECK_EQ(cfg.console.baud, 115200);
	CHECK_STR(cfg.host.initrd.path, "");
	CHECK_EQ(cfg.host.initrd.line, 0);
	CHECK_STR(cfg.host.cmdline, "");
}

TEST(error_cleared_on_success)
{
	err.line = 7;
	strcpy(err.msg, "stale");
	CHECK_OK(HOST);
	CHECK_EQ(err.line, 0);
	CHECK_STR(err.msg, "");
}

TEST(console_values)
{
	static const struct {
		const char *value;
		uint16_t port;
	} cases[] = {
		{ "com1", 0x3f8 },  { "com2", 0x2f8 },	{ "com3", 0x3e8 },     { "com4", 0x2e8 },
		{ "none", 0 },	    { "0x3f8", 0x3f8 }, { "0x2F8", 0x2f8 },    { "0x3e8", 0x3e8 },
		{ "0x2e8", 0x2e8 }, { "1016", 0x3f8 },	{ "\"com3\"", 0x3e8 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[keel]\nconsole = %s\n" HOST, cases[i].value);
		CHECK_OK(text);
		CHECK_EQ(cfg.console.port, cases[i].port);
		CHECK_EQ(cfg.console.baud, 115200);
	}
}

TEST(console_errors)
{
	CHECK_ERROR("[keel]\nconsole = COM1\n" HOST, 2,
		    "invalid console 'COM1' (expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR("[keel]\nconsole = com5\n" HOST, 2,
		    "invalid console 'com5' (expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR("[keel]\nconsole =\n" HOST, 2,
		    "invalid console '' (expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR("[keel]\nconsole = com1com1com1com1com1\n" HOST, 2,
		    "invalid console 'com1com1com1com1com1' "
		    "(expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR("[keel]\nconsole = 0x3f9\n" HOST, 2,
		    "unsupported console port '0x3f9' (expected 0x3f8, 0x2f8, 0x3e8 or 0x2e8)");
	CHECK_ERROR("[keel]\nconsole = 0\n" HOST, 2,
		    "unsupported console port '0' (expected 0x3f8, 0x2f8, 0x3e8 or 0x2e8)");
	CHECK_ERROR("[keel]\nconsole = 0x\n" HOST, 2,
		    "invalid console '0x' (expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR(
		"[keel]\nconsole = 0x3f8 0x2f8\n" HOST, 2,
		"invalid console '0x3f8 0x2f8' (expected com1, com2, com3, com4, none or 0xPORT)");
	CHECK_ERROR("[keel]\nconsole = 0x10000000000000000\n" HOST, 2,
		    "invalid console '0x10000000000000000' "
		    "(expected com1, com2, com3, com4, none or 0xPORT)");
}

TEST(baud_values)
{
	static const uint32_t good[] = { 9600, 19200, 38400, 57600, 115200 };
	char text[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[keel]\nbaud = %u\n" HOST, good[i]);
		CHECK_OK(text);
		CHECK_EQ(cfg.console.baud, good[i]);
		CHECK_EQ(cfg.console.port, 0x3f8);
	}
	CHECK_OK("[keel]\nbaud = \"38400\"\n" HOST);
	CHECK_EQ(cfg.console.baud, 38400);
}

TEST(baud_errors)
{
	static const char *const bad[] = {
		"9601", "0", "fast", "", "-9600", "115200 8N1", "99999999999999999999999"
	};
	char text[128], want[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[keel]\nbaud = %s\n" HOST, bad[i]);
		snprintf(want, sizeof(want),
			 "invalid baud rate '%s' (expected 9600, 19200, 38400, 57600 or 115200)",
			 bad[i]);
		CHECK_ERROR(text, 2, want);
	}
}

TEST(console_none_keeps_baud)
{
	CHECK_OK("[keel]\nconsole = none\nbaud = 19200\n" HOST);
	CHECK_EQ(cfg.console.port, 0);
	CHECK_EQ(cfg.console.baud, 19200);
}

TEST(whole_file_errors)
{
	static const char no_host[] =
		"no [host] section: the host partition needs at least 'kernel = ...'";

	CHECK_ERROR("", 0, no_host);
	CHECK_ERROR("\n\n\n", 0, no_host);
	CHECK_ERROR("# just a comment\n", 0, no_host);
	CHECK_ERROR("[keel]\nconsole = com1\n", 0, no_host);
	CHECK_ERROR("\xef\xbb\xbf", 0, no_host);
	CHECK_ERROR("[keel]\n\n[host]\n", 3,
		    "[host] has no 'kernel = ...' (the host partition needs a kernel)");
	CHECK_ERROR("# c\n[host]\ninitrd = initrd.img\ncmdline = quiet\n", 2,
		    "[host] has no 'kernel = ...' (the host partition needs a kernel)");
}

TEST(section_headers)
{
	CHECK_OK("  [ host ]  # the Linux host\nkernel = k\n");
	CHECK_OK("[host]#comment\nkernel = k\n");
	CHECK_OK("\t[keel]\t\n" HOST);
}

TEST(section_errors)
{
	CHECK_ERROR("[foo]\n" HOST, 1,
		    "unknown section 'foo' (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR(HOST "[Host]\n", 3,
		    "unknown section 'Host' (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR("[host keel]\n", 1,
		    "unknown section 'host keel' (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR("[partitions]\n", 1,
		    "unknown section 'partitions' (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR("[partition]\n", 1, "missing partition name (expected [partition NAME])");
	CHECK_ERROR("[]\n", 1, "empty section name (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR("[  ]\n", 1,
		    "empty section name (expected [keel], [host] or [partition NAME])");
	CHECK_ERROR("[host\nkernel = k\n", 1, "expected ']' to close section header '[host'");
	CHECK_ERROR("[host # ]\n", 1, "expected ']' to close section header '[host'");
	CHECK_ERROR("[\n", 1, "expected ']' to close section header '['");
	CHECK_ERROR("[host] kernel = k\n", 1,
		    "unexpected 'kernel = k' after section header (expected end of line)");
	CHECK_ERROR("[host]]\n", 1, "unexpected ']' after section header (expected end of line)");
	CHECK_ERROR(HOST "\n[host]\n", 4, "duplicate section [host] (first defined on line 1)");
	CHECK_ERROR("[keel]\n" HOST "[keel]\n", 4,
		    "duplicate section [keel] (first defined on line 1)");
}

TEST(line_syntax_errors)
{
	CHECK_ERROR("[host]\nfoo\n", 2, "expected 'key = value', got 'foo'");
	CHECK_ERROR("[host]\n  kernel vmlinuz  # no equals\n", 2,
		    "expected 'key = value', got 'kernel vmlinuz'");
	CHECK_ERROR("[host]\nkernel # = vmlinuz\n", 2, "expected 'key = value', got 'kernel'");
	CHECK_ERROR("[host]\n= vmlinuz\n", 2, "missing key before '='");
	CHECK_ERROR("[host]\n  \t= vmlinuz\n", 2, "missing key before '='");
	CHECK_ERROR("[host]\nker nel = vmlinuz\n", 2,
		    "invalid key 'ker nel' (expected letters, digits, '_' and '-', then '=')");
	CHECK_ERROR("[host]\n\"kernel\" = vmlinuz\n", 2,
		    "invalid key '\"kernel\"' (expected letters, digits, '_' and '-', then '=')");
	CHECK_ERROR("kernel = vmlinuz\n" HOST, 1,
		    "key 'kernel' is outside any section (expected [keel], [host] or [partition "
		    "NAME] first)");
	CHECK_ERROR("# comment\n\nbaud = 9600\n", 3,
		    "key 'baud' is outside any section (expected [keel], [host] or [partition "
		    "NAME] first)");
}

TEST(unknown_and_duplicate_keys)
{
	CHECK_ERROR("[keel]\nfoo = 1\n", 2,
		    "unknown key 'foo' in [keel] (expected console, baud, ci, ci_exit_port or "
		    "ci_success)");
	CHECK_ERROR(HOST "memory = 1G\n", 3,
		    "unknown key 'memory' in [host] (the host gets the CPUs and memory that "
		    "partitions leave)");
	CHECK_ERROR(HOST "cpus = 2\n", 3,
		    "unknown key 'cpus' in [host] (the host gets the CPUs and memory that "
		    "partitions leave)");
	CHECK_ERROR(HOST "image = x\n", 3,
		    "unknown key 'image' in [host] ('image' belongs in [partition NAME])");
	CHECK_ERROR("[keel]\nrealtime = yes\n", 2,
		    "unknown key 'realtime' in [keel] ('realtime' belongs in [partition NAME])");
	CHECK_ERROR(HOST "Kernel = k\n", 3,
		    "unknown key 'Kernel' in [host] (expected kernel, initrd or cmdline)");
	CHECK_ERROR("[keel]\nkernel = vmlinuz\n", 2,
		    "unknown key 'kernel' in [keel] ('kernel' belongs in [host])");
	CHECK_ERROR(HOST "baud = 9600\n", 3,
		    "unknown key 'baud' in [host] ('baud' belongs in [keel])");
	CHECK_ERROR("[host]\nkernel = a\n# x\n\nkernel = b\n", 5,
		    "duplicate key 'kernel' (first set on line 2)");
	CHECK_ERROR("[keel]\nbaud = 9600\n" HOST "[keel]\n", 5,
		    "duplicate section [keel] (first defined on line 1)");
	CHECK_ERROR("[keel]\nconsole = com1\nconsole = com2\n", 3,
		    "duplicate key 'console' (first set on line 2)");
	CHECK_ERROR(HOST "cmdline = a\ncmdline = b\n", 4,
		    "duplicate key 'cmdline' (first set on line 3)");
	/* The first definition counts even when empty. */
	CHECK_ERROR(HOST "cmdline =\ncmdline = b\n", 4,
		    "duplicate key 'cmdline' (first set on line 3)");
}

TEST(long_snippets_are_shortened)
{
	char *key = repeat('k', 60);
	char text[256], want[256];

	snprintf(text, sizeof(text), HOST "%s = 1\n", key);
	key[40] = '\0';
	snprintf(want, sizeof(want),
		 "unknown key '%s...' in [host] (expected kernel, initrd or cmdline)", key);
	CHECK_ERROR(text, 3, want);
	free(key);
}

TEST(bare_values)
{
	CHECK_OK("[host]\nkernel=vmlinuz\ninitrd\t=\tinitrd.img\t\t\n"
		 "cmdline = root=/dev/sda1 console=ttyS0 foo=\"a b\"   # trailing\n");
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_STR(cfg.host.initrd.path, "initrd.img");
	CHECK_STR(cfg.host.cmdline, "root=/dev/sda1 console=ttyS0 foo=\"a b\"");

	/* Backslashes in bare values are literal, so UEFI paths need no escaping. */
	CHECK_OK("[host]\nkernel = \\EFI\\keel\\vmlinuz\n");
	CHECK_STR(cfg.host.kernel.path, "\\EFI\\keel\\vmlinuz");

	CHECK_OK("[host]\nkernel = my kernel.efi\ncmdline =   # nothing\n");
	CHECK_STR(cfg.host.kernel.path, "my kernel.efi");
	CHECK_STR(cfg.host.cmdline, "");
}

TEST(quoted_values)
{
	CHECK_OK("[host]\nkernel = \"a \\\"b\\\" \\\\c\"  # comment\n"
		 "cmdline = \"x\\ty\\nz # still in the string\"\n");
	CHECK_STR(cfg.host.kernel.path, "a \"b\" \\c");
	CHECK_STR(cfg.host.cmdline, "x\ty\nz # still in the string");

	CHECK_OK("[host]\nkernel = \"  spaced  \"\ncmdline = \"\"\n");
	CHECK_STR(cfg.host.kernel.path, "  spaced  ");
	CHECK_STR(cfg.host.cmdline, "");

	CHECK_OK("[host]\nkernel=\"k\"#comment\n");
	CHECK_STR(cfg.host.kernel.path, "k");
	CHECK_OK("[host]\nkernel = \"#k\"\n");
	CHECK_STR(cfg.host.kernel.path, "#k");
}

TEST(quote_errors)
{
	CHECK_ERROR("[host]\nkernel = \"vmlinuz\n", 2,
		    "unterminated string (missing closing '\"')");
	CHECK_ERROR("[host]\nkernel = \"vmlinuz # \"\"\n", 2,
		    "unexpected '\"' after closing quote (expected end of line)");
	CHECK_ERROR("[host]\nkernel = \"vmlinuz\\\"\n", 2,
		    "unterminated string (missing closing '\"')");
	CHECK_ERROR("[host]\nkernel = \"vmlinuz\\", 2,
		    "unterminated string (missing closing '\"')");
	CHECK_ERROR("[host]\nkernel = \"vmlinuz\" extra # c\n", 2,
		    "unexpected 'extra' after closing quote (expected end of line)");
	CHECK_ERROR("[host]\nkernel = \"a\" \"b\"\n", 2,
		    "unexpected '\"b\"' after closing quote (expected end of line)");
	CHECK_ERROR("[host]\nkernel = \"C:\\EFI\"\n", 2,
		    "unknown escape '\\E' in string (expected \\\", \\\\, \\n or \\t)");
	CHECK_ERROR("[host]\nkernel = \"a\\ b\"\n", 2,
		    "unknown escape '\\ ' in string (expected \\\", \\\\, \\n or \\t)");
	/* Syntax is checked before the key is looked up. */
	CHECK_ERROR("[host]\nnosuchkey = \"x\n", 2, "unterminated string (missing closing '\"')");
}

TEST(path_errors)
{
	CHECK_ERROR("[host]\nkernel =\n", 2, "empty path for 'kernel' (expected a file name)");
	CHECK_ERROR("[host]\nkernel = \"\"\n", 2, "empty path for 'kernel' (expected a file name)");
	CHECK_ERROR(HOST "initrd = # none\n", 3, "empty path for 'initrd' (expected a file name)");
	CHECK_ERROR("[host]\nkernel = \"a\\nb\"\n", 2,
		    "path for 'kernel' contains a tab or newline");
	CHECK_ERROR(HOST "initrd = \"a\\tb\"\n", 3, "path for 'initrd' contains a tab or newline");
}

TEST(path_length_limits)
{
	char *path = repeat('p', CONFIG_PATH_MAX - 1);
	char *text = malloc(CONFIG_PATH_MAX * 4);

	snprintf(text, CONFIG_PATH_MAX * 4, "[host]\nkernel = %s\ninitrd = \"%s\"\n", path, path);
	CHECK_OK(text);
	CHECK_EQ(strlen(cfg.host.kernel.path), CONFIG_PATH_MAX - 1);
	CHECK_STR(cfg.host.kernel.path, path);
	CHECK_STR(cfg.host.initrd.path, path);
	free(path);

	path = repeat('p', CONFIG_PATH_MAX);
	snprintf(text, CONFIG_PATH_MAX * 4, "[host]\nkernel = %s\n", path);
	CHECK_ERROR(text, 2, "path for 'kernel' is too long (128 bytes, at most 127)");
	snprintf(text, CONFIG_PATH_MAX * 4, HOST "initrd = \"%s\"\n", path);
	CHECK_ERROR(text, 3, "path for 'initrd' is too long (128 bytes, at most 127)");

	/* The limit applies to the decoded path: 126 + an escaped quote fits. */
	path[CONFIG_PATH_MAX - 2] = '\0';
	snprintf(text, CONFIG_PATH_MAX * 4, "[host]\nkernel = \"%s\\\"\"\n", path);
	CHECK_OK(text);
	CHECK_EQ(strlen(cfg.host.kernel.path), CONFIG_PATH_MAX - 1);
	CHECK_EQ(cfg.host.kernel.path[CONFIG_PATH_MAX - 2], '"');
	snprintf(text, CONFIG_PATH_MAX * 4, "[host]\nkernel = \"%s\\\"\\\\\"\n", path);
	CHECK_ERROR(text, 2, "path for 'kernel' is too long (128 bytes, at most 127)");
	free(path);
	free(text);
}

TEST(cmdline_length_limits)
{
	char *cmd = repeat('c', CONFIG_CMDLINE_MAX - 1);
	char *text = malloc(CONFIG_CMDLINE_MAX * 2);

	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST "cmdline = %s\n", cmd);
	CHECK_OK(text);
	CHECK_STR(cfg.host.cmdline, cmd);
	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST "cmdline = \"%s\"\n", cmd);
	CHECK_OK(text);
	CHECK_STR(cfg.host.cmdline, cmd);
	free(cmd);

	cmd = repeat('c', CONFIG_CMDLINE_MAX);
	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST "cmdline = %s\n", cmd);
	CHECK_ERROR(text, 3, "cmdline is too long (1024 bytes, at most 1023)");
	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST "\ncmdline = \"%s\"\n", cmd);
	CHECK_ERROR(text, 4, "cmdline is too long (1024 bytes, at most 1023)");
	free(cmd);
	free(text);
}

TEST(crlf)
{
	CHECK_OK("# keel\r\n[keel]\r\nconsole = com3\r\n\r\n[host]\r\n"
		 "kernel = vmlinuz\r\ncmdline = \"quiet\"   \r\n");
	CHECK_EQ(cfg.console.port, 0x3e8);
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_EQ(cfg.host.kernel.line, 6);
	CHECK_STR(cfg.host.cmdline, "quiet");

	/* A last line with CR but no LF. */
	CHECK_OK("[host]\r\nkernel = vmlinuz\r");
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");

	CHECK_ERROR("[host]\r\n\r\nfoo\r\n", 3, "expected 'key = value', got 'foo'");
	CHECK_ERROR("[host]\r\nkernel = a\rb\r\n", 2,
		    "invalid character 0x0d (a carriage return must be followed by a line feed)");
	CHECK_ERROR("[host]\rkernel = a\n", 1,
		    "invalid character 0x0d (a carriage return must be followed by a line feed)");
}

TEST(bom)
{
	CHECK_OK("\xef\xbb\xbf[host]\nkernel = vmlinuz\n");
	CHECK_EQ(cfg.host.kernel.line, 2);
	CHECK_OK("\xef\xbb\xbf# comment\r\n[host]\r\nkernel = vmlinuz\r\n");
	CHECK_EQ(cfg.host.kernel.line, 3);
	/* Only at the very start. */
	CHECK_EQ(parse("\n\xef\xbb\xbf[host]\nkernel = vmlinuz\n"), -EINVAL);
	CHECK_EQ(err.line, 2);
	CHECK_EQ(parse("\xef\xbb\xbf\xef\xbb\xbf[host]\nkernel = vmlinuz\n"), -EINVAL);
	CHECK_EQ(err.line, 1);
}

TEST(utf8_allowed)
{
	CHECK_OK("# Konfiguration für Keel\n[host]\nkernel = vmlinuz-\xc3\xa9t\xc3\xa9\n"
		 "cmdline = \"h\xc3\xb4te\"\n");
	CHECK_STR(cfg.host.kernel.path, "vmlinuz-\xc3\xa9t\xc3\xa9");
	CHECK_STR(cfg.host.cmdline, "h\xc3\xb4te");
}

TEST(control_characters)
{
	static const char nul[] = "[host]\nkernel = vm\0linuz\n";

	CHECK_EQ(parse_n(nul, sizeof(nul) - 1), -EINVAL);
	CHECK_EQ(err.line, 2);
	CHECK_STR(err.msg, "invalid character 0x00 (control characters are not allowed)");

	CHECK_ERROR(HOST "# comment \x01 here\n", 3,
		    "invalid character 0x01 (control characters are not allowed)");
	CHECK_ERROR(HOST "cmdline = \"a\x1b[0m\"\n", 3,
		    "invalid character 0x1b (control characters are not allowed)");
	CHECK_ERROR(HOST "\x7f\n", 3,
		    "invalid character 0x7f (control characters are not allowed)");
	CHECK_ERROR("\x0c[host]\n", 1,
		    "invalid character 0x0c (control characters are not allowed)");
	/* Control characters win over syntax errors on the same line. */
	CHECK_ERROR("[host]\nfoo \x02\n", 2,
		    "invalid character 0x02 (control characters are not allowed)");
	/* Tabs are whitespace. */
	CHECK_OK("[host]\n\tkernel\t=\tvmlinuz\t# tab\n");
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
}

TEST(text_need_not_be_terminated)
{
	static const char text[] = "[host]\nkernel = vmlinuzXYZ";

	CHECK_EQ(parse_n(text, sizeof(text) - 4), 0);
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_EQ(parse_n(text, 0), -EINVAL);
	CHECK_EQ(config_parse(NULL, 0, &cfg, &err), -EINVAL);
	CHECK_EQ(err.line, 0);
}

TEST(first_error_wins)
{
	CHECK_ERROR("[keel]\nbaud = 1\nconsole = com9\n[bogus]\n", 2,
		    "invalid baud rate '1' (expected 9600, 19200, 38400, 57600 or 115200)");
}

TEST(line_numbers)
{
	CHECK_ERROR("\n\n# 3\n\n[host]\n\n\nkernel = k\n\n\n\n\nfoo\n", 13,
		    "expected 'key = value', got 'foo'");
	CHECK_ERROR("[host]\nkernel = k\nbar", 3, "expected 'key = value', got 'bar'");
}

TEST(format_error)
{
	struct config_error e = { .line = 12 };
	char buf[CONFIG_ERROR_MAX + 64];

	strcpy(e.msg, "unknown key 'foo' in [host] (expected kernel, initrd or cmdline)");
	config_format_error(buf, sizeof(buf), "keel.cfg", &e);
	CHECK_STR(buf,
		  "keel.cfg:12: unknown key 'foo' in [host] (expected kernel, initrd or cmdline)");

	e.line = 0;
	strcpy(e.msg, "no [host] section");
	config_format_error(buf, sizeof(buf), "/boot/keel.cfg", &e);
	CHECK_STR(buf, "/boot/keel.cfg: no [host] section");

	config_format_error(buf, 9, "keel.cfg", &e);
	CHECK_STR(buf, "keel.cfg");

	memset(buf, 'x', sizeof(buf));
	config_format_error(buf, 0, "keel.cfg", &e);
	CHECK_EQ(buf[0], 'x');

	config_format_error(buf, sizeof(buf), NULL, &e);
	CHECK_STR(buf, "keel.cfg: no [host] section");

	/* Straight from the parser. */
	CHECK_EQ(parse("[host]\nkernel = k\nfoo\n"), -EINVAL);
	config_format_error(buf, sizeof(buf), "keel.cfg", &err);
	CHECK_STR(buf, "keel.cfg:3: expected 'key = value', got 'foo'");
}

/* A minimal valid partition, to which tests add keys. */
#define PART(name) "[partition " name "]\ncpus = 1\nmemory = 16M\nkernel = bzImage\n"

TEST(partitions_full)
{
	CHECK_OK("[host]\n"				  /* 1 */
		 "kernel = vmlinuz\n"			  /* 2 */
		 "\n"					  /* 3 */
		 "[partition linux1]\n"			  /* 4 */
		 "cpus = 2\n"				  /* 5 */
		 "memory = 256M\n"			  /* 6 */
		 "kernel = guest/bzImage\n"		  /* 7 */
		 "initrd = guest/initrd.img\n"		  /* 8 */
		 "cmdline = console=ttyS0 quiet\n"	  /* 9 */
		 "realtime = yes\n"			  /* 10 */
		 "\n"					  /* 11 */
		 "[partition boot-test_2]  # a payload\n" /* 12 */
		 "kind = raw\n"				  /* 13 */
		 "cpus = 1,3-5\n"			  /* 14 */
		 "memory = 1M\n"			  /* 15 */
		 "image = payload.bin\n"		  /* 16 */
		 "load_address = 0x10000\n"		  /* 17 */
		 "console = debug\n");			  /* 18 */
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_EQ(cfg.nr_partitions, 2);

	CHECK_STR(cfg.partitions[0].name, "linux1");
	CHECK_EQ(cfg.partitions[0].line, 4);
	CHECK_EQ(cfg.partitions[0].kind, CONFIG_PARTITION_LINUX);
	CHECK_EQ(cfg.partitions[0].nr_cpus, 2);
	CHECK_EQ(cfg.partitions[0].cpu_mask, 0);
	CHECK_EQ(cfg.partitions[0].cpus_line, 5);
	CHECK_EQ(cfg.partitions[0].memory, 256 << 20);
	CHECK_EQ(cfg.partitions[0].memory_line, 6);
	CHECK_STR(cfg.partitions[0].kernel.path, "guest/bzImage");
	CHECK_EQ(cfg.partitions[0].kernel.line, 7);
	CHECK_STR(cfg.partitions[0].initrd.path, "guest/initrd.img");
	CHECK_EQ(cfg.partitions[0].initrd.line, 8);
	CHECK_STR(cfg.partitions[0].cmdline, "console=ttyS0 quiet");
	CHECK_STR(cfg.partitions[0].image.path, "");
	CHECK_EQ(cfg.partitions[0].image.line, 0);
	CHECK_EQ(cfg.partitions[0].console, CONFIG_CONSOLE_SERIAL);
	CHECK(cfg.partitions[0].realtime);

	CHECK_STR(cfg.partitions[1].name, "boot-test_2");
	CHECK_EQ(cfg.partitions[1].line, 12);
	CHECK_EQ(cfg.partitions[1].kind, CONFIG_PARTITION_RAW);
	CHECK_EQ(cfg.partitions[1].nr_cpus, 4);
	CHECK_EQ(cfg.partitions[1].cpu_mask, 0x3a);
	CHECK_EQ(cfg.partitions[1].cpus_line, 14);
	CHECK_EQ(cfg.partitions[1].memory, 1 << 20);
	CHECK_EQ(cfg.partitions[1].memory_line, 15);
	CHECK_STR(cfg.partitions[1].image.path, "payload.bin");
	CHECK_EQ(cfg.partitions[1].image.line, 16);
	CHECK_EQ(cfg.partitions[1].load_address, 0x10000);
	CHECK_EQ(cfg.partitions[1].console, CONFIG_CONSOLE_DEBUG);
	CHECK(!cfg.partitions[1].realtime);
	CHECK_STR(cfg.partitions[1].kernel.path, "");
	CHECK_STR(cfg.partitions[1].cmdline, "");
}

TEST(partition_defaults)
{
	CHECK_OK(PART("a") HOST);
	CHECK_EQ(cfg.nr_partitions, 1);
	CHECK_EQ(cfg.partitions[0].kind, CONFIG_PARTITION_LINUX);
	CHECK_EQ(cfg.partitions[0].console, CONFIG_CONSOLE_SERIAL);
	CHECK(!cfg.partitions[0].realtime);
	CHECK_EQ(cfg.partitions[0].load_address, 0x7c00);
	CHECK_STR(cfg.partitions[0].initrd.path, "");
	CHECK_EQ(cfg.partitions[0].initrd.line, 0);
	CHECK_STR(cfg.partitions[0].cmdline, "");
	/* The host's keys are untouched by a partition's. */
	CHECK_STR(cfg.host.kernel.path, "vmlinuz");
	CHECK_EQ(cfg.host.kernel.line, 6);

	CHECK_OK("[partition r]\nkind = raw\ncpus = 1\nmemory = 1M\nimage = x\n" HOST);
	CHECK_EQ(cfg.partitions[0].load_address, 0x7c00);
	CHECK_EQ(cfg.partitions[0].console, CONFIG_CONSOLE_SERIAL);

	/* A config without partitions has none, even after one with. */
	CHECK_OK(HOST);
	CHECK_EQ(cfg.nr_partitions, 0);
	CHECK_STR(cfg.partitions[0].name, "");
	CHECK_EQ(cfg.partitions[0].cpus_line, 0);
}

TEST(partition_headers)
{
	char text[1024], want[1024];

	CHECK_OK("[ partition\tx ]  # tabs and spaces\ncpus = 1\nmemory = 1M\nkernel = k\n" HOST);
	CHECK_STR(cfg.partitions[0].name, "x");
	CHECK_OK(PART("0123456789abcdefghijklmnopqrstu") HOST);
	CHECK_STR(cfg.partitions[0].name, "0123456789abcdefghijklmnopqrstu");
	CHECK_OK(PART("-_-") HOST);

	CHECK_ERROR(HOST "[partition]\n", 3, "missing partition name (expected [partition NAME])");
	CHECK_ERROR(HOST "[partition   ]\n", 3,
		    "missing partition name (expected [partition NAME])");
	CHECK_ERROR(HOST "[partition Rt0]\n", 3,
		    "invalid partition name 'Rt0' "
		    "(expected 1 to 31 characters: a-z, 0-9, '_' or '-')");
	CHECK_ERROR(HOST "[partition rt 0]\n", 3,
		    "invalid partition name 'rt 0' "
		    "(expected 1 to 31 characters: a-z, 0-9, '_' or '-')");
	CHECK_ERROR(HOST "[partition a.b]\n", 3,
		    "invalid partition name 'a.b' "
		    "(expected 1 to 31 characters: a-z, 0-9, '_' or '-')");
	CHECK_ERROR(HOST "[partition \"a\"]\n", 3,
		    "invalid partition name '\"a\"' "
		    "(expected 1 to 31 characters: a-z, 0-9, '_' or '-')");
	CHECK_ERROR(HOST "[partition 0123456789abcdefghijklmnopqrstuv]\n", 3,
		    "partition name '0123456789abcdefghijklmnopqrstuv' is too long "
		    "(32 characters, at most 31)");
	CHECK_ERROR(HOST "[partition host]\n", 3,
		    "partition name 'host' is reserved (choose another name)");
	CHECK_ERROR(HOST "[partition keel]\n", 3,
		    "partition name 'keel' is reserved (choose another name)");
	CHECK_ERROR("[partitionx]\n", 1,
		    "unknown section 'partitionx' (expected [keel], [host] or [partition NAME])");
	/* [partition] alone is no way to name the section either. */
	CHECK_ERROR("[partition a]\n[partition a]\n", 1,
		    "[partition a] has no 'cpus = ...' "
		    "(expected a count such as 2, or CPUs such as 2-3)");
	CHECK_ERROR(PART("a") "\n" PART("b") "# c\n" PART("a") HOST, 11,
		    "duplicate partition 'a' (first defined on line 1)");

	/* Eight partitions fit, the ninth does not. */
	text[0] = '\0';
	for (int i = 0; i < 8; i++) {
		char one[64];

		snprintf(one, sizeof(one), "[partition p%d]\ncpus = 1\nmemory = 1M\nkernel = k\n",
			 i);
		strcat(text, one);
	}
	strcpy(want, text);
	strcat(text, HOST);
	CHECK_OK(text);
	CHECK_EQ(cfg.nr_partitions, 8);
	CHECK_STR(cfg.partitions[7].name, "p7");
	CHECK_EQ(cfg.partitions[7].line, 29);
	strcat(want, "[partition p8]\n");
	CHECK_ERROR(want, 33, "too many partitions (at most 8)");
}

/* text = HOST then a partition "p" (line 3) with cpus = value on line 4. */
static int parse_cpus(const char *value)
{
	char text[512];

	snprintf(text, sizeof(text), HOST "[partition p]\ncpus = %s\nmemory = 1M\nkernel = k\n",
		 value);
	return parse(text);
}

#define CHECK_CPUS(value, want_nr, want_mask)                                                      \
	do {                                                                                       \
		int _ret = parse_cpus(value);                                                      \
		CHECK_EQ(_ret, 0);                                                                 \
		if (_ret)                                                                          \
			printf("    cpus = %s: line %d: %s\n", value, err.line, err.msg);          \
		CHECK_EQ(cfg.partitions[0].nr_cpus, want_nr);                                      \
		CHECK_EQ(cfg.partitions[0].cpu_mask, want_mask);                                   \
		CHECK_EQ(cfg.partitions[0].cpus_line, 4);                                          \
	} while (0)

#define CHECK_CPUS_ERROR(value, want_msg)                                                          \
	do {                                                                                       \
		CHECK_EQ(parse_cpus(value), -EINVAL);                                              \
		CHECK_EQ(err.line, 4);                                                             \
		CHECK_STR(err.msg, want_msg);                                                      \
	} while (0)

TEST(cpus_counts)
{
	CHECK_CPUS("1", 1, 0);
	CHECK_CPUS("2", 2, 0);
	CHECK_CPUS("02", 2, 0);
	CHECK_CPUS("63", 63, 0);
	CHECK_CPUS("\" 2 \"", 2, 0);
	CHECK_CPUS("2   # two", 2, 0);

	CHECK_CPUS_ERROR("0", "cpus = 0 gives the partition no CPU (expected at least 1)");
	CHECK_CPUS_ERROR("00", "cpus = 00 gives the partition no CPU (expected at least 1)");
	CHECK_CPUS_ERROR("64", "cpus = 64 is too many (a partition can have at most 63 CPUs)");
	CHECK_CPUS_ERROR("99999999999999999999999", "cpus = 99999999999999999999999 is too many "
						    "(a partition can have at most 63 CPUs)");
}

TEST(cpus_lists)
{
	CHECK_CPUS("2,3", 2, 0xc);
	CHECK_CPUS("2-3", 2, 0xc);
	CHECK_CPUS("1,3-5", 4, 0x3a);
	CHECK_CPUS("3-5,1", 4, 0x3a);
	CHECK_CPUS(" 1 , 3 - 5 ", 4, 0x3a);
	CHECK_CPUS("1,\t3-5", 4, 0x3a);
	CHECK_CPUS("\"1, 3-5\"", 4, 0x3a);
	CHECK_CPUS("3-3", 1, 0x8);
	CHECK_CPUS("63-63", 1, 1ull << 63);
	CHECK_CPUS("1-63", 63, ~1ull);
	CHECK_CPUS("01-02", 2, 0x6);
	CHECK_CPUS("7,5,3", 3, 0xa8);
}

TEST(cpus_list_errors)
{
	static const char any[] = "expected a count such as 2, or CPUs such as 2-3 or 1,3-5";
	static const char range[] = "a range needs a first and a last CPU, such as 2-3";
	char want[256];
	char *longv;

#define CHECK_CPUS_SYNTAX(value, why)                                                              \
	do {                                                                                       \
		snprintf(want, sizeof(want), "invalid cpus '%s' (%s)", value, why);                \
		CHECK_CPUS_ERROR(value, want);                                                     \
	} while (0)

	CHECK_CPUS_SYNTAX("", any);
	CHECK_CPUS_SYNTAX("two", any);
	CHECK_CPUS_SYNTAX("2x", any);
	CHECK_CPUS_SYNTAX("1,a", any);
	CHECK_CPUS_SYNTAX("0x2", any);
	CHECK_CPUS_SYNTAX("1;2", any);
	CHECK_CPUS_SYNTAX("+2", any);
	CHECK_CPUS_SYNTAX("2-", range);
	CHECK_CPUS_SYNTAX("2 -", range);
	CHECK_CPUS_SYNTAX("-3", range);
	CHECK_CPUS_SYNTAX("-", range);
	CHECK_CPUS_SYNTAX("1,-3", range);
	CHECK_CPUS_SYNTAX("2-x", range);
	CHECK_CPUS_SYNTAX("2--3", range);
	CHECK_CPUS_SYNTAX("1,,2", "empty entry in the list");
	CHECK_CPUS_SYNTAX("1,", "empty entry in the list");
	CHECK_CPUS_SYNTAX(",1", "empty entry in the list");
	CHECK_CPUS_SYNTAX("1, ,2", "empty entry in the list");
	CHECK_CPUS_SYNTAX(",", "empty entry in the list");
	CHECK_CPUS_SYNTAX("1 2", "expected ',' between CPUs");
	CHECK_CPUS_SYNTAX("1-2 3", "expected ',' between CPUs");
	CHECK_CPUS_SYNTAX("1-2-3", any);

	CHECK_CPUS_ERROR("3-2", "CPU range 3-2 is backwards (write 2-3)");
	CHECK_CPUS_ERROR("1,5 - 4", "CPU range 5-4 is backwards (write 4-5)");
	CHECK_CPUS_ERROR("0-2", "CPU 0 cannot be given to a partition "
				"(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
	CHECK_CPUS_ERROR("1,0", "CPU 0 cannot be given to a partition "
				"(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
	CHECK_CPUS_ERROR("3-0", "CPU 0 cannot be given to a partition "
				"(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
	CHECK_CPUS_ERROR("0-0", "CPU 0 cannot be given to a partition "
				"(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
	CHECK_CPUS_ERROR("1-64", "CPU 64 is out of range (partitions can use CPUs 1 to 63)");
	CHECK_CPUS_ERROR("64,1", "CPU 64 is out of range (partitions can use CPUs 1 to 63)");
	CHECK_CPUS_ERROR("1,99999999999999999999999", "CPU 99999999999999999999999 is out of range "
						      "(partitions can use CPUs 1 to 63)");
	CHECK_CPUS_ERROR("1,1", "CPU 1 is listed twice in cpus");
	CHECK_CPUS_ERROR("1-3,2", "CPU 2 is listed twice in cpus");
	CHECK_CPUS_ERROR("4,2-5", "CPU 4 is listed twice in cpus");

	/* Longer than any sensible list. */
	longv = repeat('1', 300);
	longv[1] = ',';
	snprintf(want, sizeof(want), "invalid cpus '%.40s...' (too long)", longv);
	CHECK_CPUS_ERROR(longv, want);
	free(longv);
#undef CHECK_CPUS_SYNTAX
}

TEST(cpus_overlap)
{
	CHECK_OK(HOST "[partition a]\ncpus = 1-2\nmemory = 1M\nkernel = k\n"
		      "[partition b]\ncpus = 3,4\nmemory = 1M\nkernel = k\n"
		      "[partition c]\ncpus = 5\nmemory = 1M\nkernel = k\n");
	CHECK_EQ(cfg.partitions[0].cpu_mask, 0x6);
	CHECK_EQ(cfg.partitions[1].cpu_mask, 0x18);
	CHECK_EQ(cfg.partitions[2].cpu_mask, 0);
	CHECK_EQ(cfg.partitions[2].nr_cpus, 5);

	CHECK_ERROR(HOST "[partition a]\n\ncpus = 1-3\nmemory = 1M\nkernel = k\n"
			 "[partition b]\ncpus = 4\nmemory = 1M\nkernel = k\n"
			 "[partition c]\ncpus = 5,6,2-3\nmemory = 1M\nkernel = k\n",
		    13, "CPU 2 is already given to [partition a] (cpus on line 5)");
	CHECK_ERROR(HOST "[partition a]\ncpus = 7-9\nmemory = 1M\nkernel = k\n"
			 "[partition b]\ncpus = 1-6\nmemory = 1M\nkernel = k\n"
			 "[partition c]\ncpus = 6-7\nmemory = 1M\nkernel = k\n",
		    12, "CPU 7 is already given to [partition a] (cpus on line 4)");
}

/* text = HOST then a partition "p" (line 3) with memory = value on line 5. */
static int parse_memory(const char *value)
{
	char text[512];

	snprintf(text, sizeof(text), HOST "[partition p]\ncpus = 1\nmemory = %s\nkernel = k\n",
		 value);
	return parse(text);
}

TEST(memory_values)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} cases[] = {
		{ "256M", 256ull << 20 },
		{ "1G", 1ull << 30 },
		{ "1M", 1ull << 20 },
		{ "1024K", 1ull << 20 },
		{ "1028K", 1028ull << 10 },
		{ "1536M", 1536ull << 20 },
		{ "1T", 1ull << 40 },
		{ "1024G", 1ull << 40 },
		{ "256 M", 256ull << 20 },
		{ "2GiB", 2ull << 30 },
		{ "512MiB", 512ull << 20 },
		{ "4096KiB", 4ull << 20 },
		{ "1TiB", 1ull << 40 },
		{ "0256M", 256ull << 20 },
		{ "\"64M\"", 64ull << 20 },
		{ "\" 64M \"", 64ull << 20 },
		{ "64M # comment", 64ull << 20 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse_memory(cases[i].value);

		CHECK_EQ(ret, 0);
		if (ret)
			printf("    memory = %s: %s\n", cases[i].value, err.msg);
		CHECK_EQ(cfg.partitions[0].memory, cases[i].bytes);
		CHECK_EQ(cfg.partitions[0].memory_line, 5);
	}
}

TEST(memory_errors)
{
	static const struct {
		const char *value, *msg;
	} cases[] = {
		{ "", "invalid memory '' (expected a size such as 256M or 2G)" },
		{ "M", "invalid memory 'M' (expected a size such as 256M or 2G)" },
		{ "lots", "invalid memory 'lots' (expected a size such as 256M or 2G)" },
		{ "-1G", "invalid memory '-1G' (expected a size such as 256M or 2G)" },
		{ "1.G", "invalid memory '1.G' (expected a size such as 256M or 2G)" },
		{ "1,5G", "invalid memory '1,5G' (expected a size such as 256M or 2G)" },
		{ "268435456",
		  "invalid memory '268435456' (a size needs a unit: K, M, G or T, such as 256M)" },
		{ "256m", "invalid memory '256m' (expected a unit K, M, G or T, such as 256M)" },
		{ "256MB", "invalid memory '256MB' (expected a unit K, M, G or T, such as 256M)" },
		{ "256 M B",
		  "invalid memory '256 M B' (expected a unit K, M, G or T, such as 256M)" },
		{ "256Mi", "invalid memory '256Mi' (expected a unit K, M, G or T, such as 256M)" },
		{ "0x100M",
		  "invalid memory '0x100M' (expected a unit K, M, G or T, such as 256M)" },
		{ "1.5G", "invalid memory '1.5G' (expected a whole number: use a smaller unit, "
			  "such as 1536M for 1.5G)" },
		{ "2T", "memory '2T' is too large (at most 1T)" },
		{ "1025G", "memory '1025G' is too large (at most 1T)" },
		{ "99999999999999999999G",
		  "memory '99999999999999999999G' is too large (at most 1T)" },
		{ "18014398509481984K", "memory '18014398509481984K' is too large (at most 1T)" },
		{ "512K", "memory '512K' is too small (at least 1M)" },
		{ "0M", "memory '0M' is too small (at least 1M)" },
		{ "1026K", "memory '1026K' is not a multiple of 4K (the page size)" },
		{ "\"1026 KiB\"", "memory '1026 KiB' is not a multiple of 4K (the page size)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(parse_memory(cases[i].value), -EINVAL);
		CHECK_EQ(err.line, 5);
		CHECK_STR(err.msg, cases[i].msg);
	}
}

TEST(parse_size)
{
	uint64_t v = 0;

	CHECK_EQ(config_parse_size("2G", 2, &v), 0);
	CHECK_EQ(v, 2ull << 30);
	CHECK_EQ(config_parse_size(" 512 MiB ", 9, &v), 0);
	CHECK_EQ(v, 512ull << 20);
	CHECK_EQ(config_parse_size("3KXYZ", 2, &v), 0);
	CHECK_EQ(v, 3ull << 10);
	/* No range check: 16T is a machine, not a partition. */
	CHECK_EQ(config_parse_size("16T", 3, &v), 0);
	CHECK_EQ(v, 16ull << 40);
	CHECK_EQ(config_parse_size("0K", 2, &v), 0);
	CHECK_EQ(v, 0);
	v = 7;
	CHECK_EQ(config_parse_size("", 0, &v), -EINVAL);
	CHECK_EQ(config_parse_size("2", 1, &v), -EINVAL);
	CHECK_EQ(config_parse_size("2g", 2, &v), -EINVAL);
	CHECK_EQ(config_parse_size("1.5G", 4, &v), -EINVAL);
	CHECK_EQ(config_parse_size("16777216T", 9, &v), -ERANGE);
	CHECK_EQ(config_parse_size("99999999999999999999K", 21, &v), -ERANGE);
	CHECK_EQ(v, 7);
}

TEST(partition_keywords)
{
	static const struct {
		const char *key, *value;
		int want;
	} good[] = {
		{ "console", "serial", CONFIG_CONSOLE_SERIAL },
		{ "console", "debug", CONFIG_CONSOLE_DEBUG },
		{ "console", "none", CONFIG_CONSOLE_NONE },
		{ "console", "\"debug\"", CONFIG_CONSOLE_DEBUG },
		{ "realtime", "yes", 1 },
		{ "realtime", "no", 0 },
		{ "realtime", "true", 1 },
		{ "realtime", "false", 0 },
		{ "realtime", "1", 1 },
		{ "realtime", "0", 0 },
		{ "kind", "linux", CONFIG_PARTITION_LINUX },
	};
	static const struct {
		const char *key, *value, *msg;
	} bad[] = {
		{ "console", "com1", "invalid console 'com1' (expected serial, debug or none)" },
		{ "console", "Serial",
		  "invalid console 'Serial' (expected serial, debug or none)" },
		{ "console", "", "invalid console '' (expected serial, debug or none)" },
		{ "console", "serialserial",
		  "invalid console 'serialserial' (expected serial, debug or none)" },
		{ "realtime", "on", "invalid realtime 'on' (expected yes or no)" },
		{ "realtime", "YES", "invalid realtime 'YES' (expected yes or no)" },
		{ "realtime", "", "invalid realtime '' (expected yes or no)" },
		{ "realtime", "2", "invalid realtime '2' (expected yes or no)" },
		{ "kind", "windows", "invalid kind 'windows' (expected linux, raw or multiboot)" },
		{ "kind", "Linux", "invalid kind 'Linux' (expected linux, raw or multiboot)" },
		{ "kind", "", "invalid kind '' (expected linux, raw or multiboot)" },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct config_partition *p = &cfg.partitions[0];

		snprintf(text, sizeof(text), HOST PART("p") "%s = %s\n", good[i].key,
			 good[i].value);
		CHECK_OK(text);
		if (strcmp(good[i].key, "console") == 0)
			CHECK_EQ(p->console, good[i].want);
		else if (strcmp(good[i].key, "realtime") == 0)
			CHECK_EQ(p->realtime, good[i].want);
		else
			CHECK_EQ(p->kind, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HOST PART("p") "%s = %s\n", bad[i].key, bad[i].value);
		CHECK_ERROR(text, 7, bad[i].msg);
	}
}

TEST(load_address)
{
	static const struct {
		const char *value;
		uint64_t addr;
	} good[] = {
		{ "0x7c00", 0x7c00 },	{ "31744", 0x7c00 },	{ "0", 0 },
		{ "0x10000", 0x10000 }, { "0xFFFFF", 0xfffff }, { "\"0x8000\"", 0x8000 },
	};
	static const struct {
		const char *value, *msg;
	} bad[] = {
		{ "0x100000", "load_address '0x100000' is too high "
			      "(a raw image starts in real mode: at most 0xfffff)" },
		{ "0xffffffffffffffff", "load_address '0xffffffffffffffff' is too high "
					"(a raw image starts in real mode: at most 0xfffff)" },
		{ "", "invalid load_address '' (expected an address such as 0x7c00)" },
		{ "7c00", "invalid load_address '7c00' (expected an address such as 0x7c00)" },
		{ "0x", "invalid load_address '0x' (expected an address such as 0x7c00)" },
		{ "0x10000000000000000", "invalid load_address '0x10000000000000000' (expected an "
					 "address such as 0x7c00)" },
		{ "0000:7c00",
		  "invalid load_address '0000:7c00' (expected an address such as 0x7c00)" },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text),
			 HOST "[partition r]\nkind = raw\ncpus = 1\nmemory = 1M\nimage = x\n"
			      "load_address = %s\n",
			 good[i].value);
		CHECK_OK(text);
		CHECK_EQ(cfg.partitions[0].load_address, good[i].addr);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 HOST "[partition r]\nkind = raw\ncpus = 1\nmemory = 1M\nimage = x\n"
			      "load_address = %s\n",
			 bad[i].value);
		CHECK_ERROR(text, 8, bad[i].msg);
	}
}

TEST(raw_entry)
{
	uint16_t cs = 1, ip = 1;

	config_raw_entry(0x7c00, &cs, &ip);
	CHECK_EQ(cs, 0);
	CHECK_EQ(ip, 0x7c00);
	config_raw_entry(0xffff, &cs, &ip);
	CHECK_EQ(cs, 0);
	CHECK_EQ(ip, 0xffff);
	config_raw_entry(0x10000, &cs, &ip);
	CHECK_EQ(cs, 0x1000);
	CHECK_EQ(ip, 0);
	config_raw_entry(0x9abcd, &cs, &ip);
	CHECK_EQ(cs, 0x9abc);
	CHECK_EQ(ip, 0xd);
	config_raw_entry(0xfffff, &cs, &ip);
	CHECK_EQ(cs, 0xffff);
	CHECK_EQ(ip, 0xf);
}

TEST(keys_of_the_other_kind)
{
	/* kind may come after the keys it allows. */
	CHECK_OK(HOST "[partition r]\nimage = x\nload_address = 0x8000\ncpus = 1\nmemory = 1M\n"
		      "kind = raw\n");
	CHECK_EQ(cfg.partitions[0].kind, CONFIG_PARTITION_RAW);
	CHECK_OK(HOST "[partition l]\ncpus = 1\nmemory = 1M\nkernel = k\nkind = linux\n");

	CHECK_ERROR(HOST "[partition r]\ncpus = 1\nmemory = 1M\nimage = x\n", 6,
		    "'image' is not valid in a linux partition, the default kind "
		    "(add 'kind = raw' for a raw image)");
	CHECK_ERROR(HOST PART("l") "load_address = 0x8000\n", 7,
		    "'load_address' is not valid in a linux partition, the default kind "
		    "(add 'kind = raw' for a raw image)");
	CHECK_ERROR(HOST PART("l") "kind = linux\nimage = x\n", 8,
		    "'image' is not valid in a linux partition (it is for kind = raw)");
	CHECK_ERROR(
		HOST "[partition r]\nkind = raw\ncpus = 1\nmemory = 1M\nimage = x\n"
		     "cmdline = quiet\n",
		8,
		"'cmdline' is not valid in a raw partition (it is for kind = linux or multiboot)");
	/* The first such key in the file is reported, wherever kind is. */
	CHECK_ERROR(HOST "[partition r]\ncpus = 1\nmemory = 1M\nimage = x\ninitrd = i\n"
			 "kernel = k\nkind = raw\n",
		    7, "'initrd' is not valid in a raw partition (it is for kind = linux)");
	/* ... and it wins over a missing key. */
	CHECK_ERROR(
		HOST "[partition r]\nkind = raw\nkernel = k\n", 5,
		"'kernel' is not valid in a raw partition (it is for kind = linux or multiboot)");
}

TEST(missing_partition_keys)
{
	CHECK_ERROR(HOST "\n[partition a]\nmemory = 1M\nkernel = k\n", 4,
		    "[partition a] has no 'cpus = ...' "
		    "(expected a count such as 2, or CPUs such as 2-3)");
	CHECK_ERROR(HOST "[partition a]\ncpus = 1\nkernel = k\n[keel]\n", 3,
		    "[partition a] has no 'memory = ...' (expected a size such as 256M)");
	CHECK_ERROR(HOST "[partition a]\ncpus = 1\nmemory = 1M\ninitrd = i\n", 3,
		    "[partition a] has no 'kernel = ...' (a linux partition needs a kernel)");
	CHECK_ERROR(HOST "[partition a]\nkind = raw\ncpus = 1\nmemory = 1M\n# no image\n", 3,
		    "[partition a] has no 'image = ...' (a raw partition needs an image)");
	/* The section ends at the next header, however bad. */
	CHECK_ERROR(HOST "[partition a]\ncpus = 1\nmemory = 1M\n[bogus\n", 3,
		    "[partition a] has no 'kernel = ...' (a linux partition needs a kernel)");
	/* A partition's error comes before the host's missing kernel. */
	CHECK_ERROR("[partition a]\ncpus = 1\n", 1,
		    "[partition a] has no 'memory = ...' (expected a size such as 256M)");
	/* Partitions alone are a valid config: no host, CPU 0 idles. */
	CHECK_OK(PART("a"));
	CHECK_EQ(cfg.host.present, false);
	CHECK_EQ(cfg.nr_partitions, 1);
	/* An error inside the section wins over what the section lacks. */
	CHECK_ERROR(
		HOST "[partition a]\nfoo = 1\n", 4,
		"unknown key 'foo' in [partition a] (expected cpus, memory, kind, kernel, "
		"initrd, cmdline, image, load_address, modules, console, debug_exit or realtime)");
}

TEST(partition_keys)
{
	CHECK_ERROR(HOST PART("a") "cpus = 2\n", 7, "duplicate key 'cpus' (first set on line 4)");
	CHECK_ERROR(HOST PART("a") "\nkernel = k2\n", 8,
		    "duplicate key 'kernel' (first set on line 6)");
	/* Each partition has its own keys, apart from the host's. */
	CHECK_OK("[host]\nkernel = k\ncmdline = a\n" PART("a") "cmdline = b\n" PART(
		"b") "cmdline = c\n");
	CHECK_STR(cfg.host.cmdline, "a");
	CHECK_STR(cfg.partitions[0].cmdline, "b");
	CHECK_STR(cfg.partitions[1].cmdline, "c");
	CHECK_STR(cfg.partitions[1].kernel.path, "bzImage");
	CHECK_EQ(cfg.partitions[1].kernel.line, 12);

	CHECK_ERROR(HOST PART("a") "baud = 9600\n", 7,
		    "unknown key 'baud' in [partition a] ('baud' belongs in [keel])");
	CHECK_ERROR(
		HOST PART("rt-0") "Cpus = 1\n", 7,
		"unknown key 'Cpus' in [partition rt-0] (expected cpus, memory, kind, kernel, "
		"initrd, cmdline, image, load_address, modules, console, debug_exit or realtime)");
	CHECK_ERROR(HOST "[partition a]\nkernel =\n", 4,
		    "empty path for 'kernel' (expected a file name)");
	CHECK_ERROR(HOST "[partition a]\nimage = \"a\\tb\"\n", 4,
		    "path for 'image' contains a tab or newline");
	CHECK_ERROR(HOST "[partition a]\ninitrd = \"\"\n", 4,
		    "empty path for 'initrd' (expected a file name)");
}

TEST(partition_length_limits)
{
	char *path = repeat('p', CONFIG_PATH_MAX);
	char *cmd = repeat('c', CONFIG_CMDLINE_MAX);
	char *text = malloc(CONFIG_CMDLINE_MAX * 2);

	snprintf(text, CONFIG_CMDLINE_MAX * 2,
		 HOST "[partition r]\nkind = raw\ncpus = 1\nmemory = 1M\nimage = %s\n", path);
	CHECK_ERROR(text, 7, "path for 'image' is too long (128 bytes, at most 127)");
	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST PART("a") "cmdline = %s\n", cmd);
	CHECK_ERROR(text, 7, "cmdline is too long (1024 bytes, at most 1023)");
	cmd[CONFIG_CMDLINE_MAX - 1] = '\0';
	snprintf(text, CONFIG_CMDLINE_MAX * 2, HOST PART("a") "cmdline = %s\n", cmd);
	CHECK_OK(text);
	CHECK_STR(cfg.partitions[0].cmdline, cmd);
	CHECK_STR(cfg.host.cmdline, "");
	free(path);
	free(cmd);
	free(text);
}

/* The longest messages fit in CONFIG_ERROR_MAX without being cut. */
TEST(long_messages_fit)
{
	static const char name[] = "0123456789abcdefghijklmnopqrstu"; /* 31 */
	char *key = repeat('k', 60);
	char text[512];
	uint64_t masks[CONFIG_MAX_PARTITIONS];

	snprintf(text, sizeof(text), HOST "[partition %s]\n%s = 1\n", name, key);
	CHECK_EQ(parse(text), -EINVAL);
	CHECK_CONTAINS(err.msg, "debug_exit or realtime)");
	CHECK(strlen(err.msg) < CONFIG_ERROR_MAX - 1);

	snprintf(text, sizeof(text),
		 HOST "[partition %s]\ncpus = 9\nmemory = 1T\nkernel = k\n"
		      "[partition b]\ncpus = 60\nmemory = 1T\nkernel = k\n",
		 name);
	CHECK_OK(text);
	CHECK_EQ(config_assign_cpus(&cfg, 100000000, masks, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "runs the host)");
	CHECK(strlen(err.msg) < CONFIG_ERROR_MAX - 1);
	CHECK_EQ(config_check_machine(&cfg, 64, 1000000000000000ull, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "runs the host)");
	cfg.partitions[1].nr_cpus = 1;
	CHECK_EQ(config_check_machine(&cfg, 64, 1500000000000ull, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "at least 256M)");
	CHECK(strlen(err.msg) < CONFIG_ERROR_MAX - 1);
	free(key);
}

/*
 * A config with partitions a (line 3), b (line 7) and c (line 11): cpus on
 * lines 4, 8 and 12, memory on lines 5, 9 and 13.
 */
static void parse_three(const char *a_cpus, const char *b_cpus, const char *c_cpus,
			const char *a_mem, const char *b_mem, const char *c_mem)
{
	char text[512];
	int ret;

	snprintf(text, sizeof(text),
		 HOST "[partition a]\ncpus = %s\nmemory = %s\nkernel = k\n"
		      "[partition b]\ncpus = %s\nmemory = %s\nkernel = k\n"
		      "[partition c]\ncpus = %s\nmemory = %s\nkernel = k\n",
		 a_cpus, a_mem, b_cpus, b_mem, c_cpus, c_mem);
	ret = parse(text);
	CHECK_EQ(ret, 0);
	if (ret)
		printf("    line %d: %s\n", err.line, err.msg);
}

TEST(assign_cpus)
{
	uint64_t masks[CONFIG_MAX_PARTITIONS];

	/* Counts take the highest free CPUs, the first partition the highest. */
	parse_three("2", "1", "2", "1M", "1M", "1M");
	memset(masks, 0xff, sizeof(masks));
	CHECK_EQ(config_assign_cpus(&cfg, 8, masks, &err), 0);
	CHECK_EQ(masks[0], 0xc0);
	CHECK_EQ(masks[1], 0x20);
	CHECK_EQ(masks[2], 0x18);
	for (int i = 3; i < CONFIG_MAX_PARTITIONS; i++)
		CHECK_EQ(masks[i], 0);
	CHECK_EQ(err.line, 0);
	CHECK_STR(err.msg, "");
	/* The same again: deterministic. */
	CHECK_EQ(config_assign_cpus(&cfg, 8, masks, &err), 0);
	CHECK_EQ(masks[0], 0xc0);
	/* Exactly enough. */
	CHECK_EQ(config_assign_cpus(&cfg, 6, masks, &err), 0);
	CHECK_EQ(masks[0], 0x30);
	CHECK_EQ(masks[1], 0x08);
	CHECK_EQ(masks[2], 0x06);
	CHECK_EQ(config_assign_cpus(&cfg, 5, masks, &err), -EINVAL);
	CHECK_EQ(err.line, 12);
	CHECK_STR(err.msg, "[partition c] cpus: not enough CPUs (partitions ask for 5 in all; "
			   "this machine has 5 CPUs: 0-4, and CPU 0 runs the host)");

	/* Lists are kept; counts go around them, whatever their order in the file. */
	parse_three("2", "7-7", "5,2", "1M", "1M", "1M");
	CHECK_EQ(config_assign_cpus(&cfg, 8, masks, &err), 0);
	CHECK_EQ(masks[0], 0x50);
	CHECK_EQ(masks[1], 0x80);
	CHECK_EQ(masks[2], 0x24);
	CHECK_EQ(config_assign_cpus(&cfg, 6, masks, &err), -EINVAL);
	CHECK_EQ(err.line, 8);
	CHECK_STR(err.msg,
		  "[partition b] cpus: CPU 7 does not exist (this machine has 6 CPUs: 0-5)");

	/* Only CPUs 1 to 63 go to partitions, however many the machine has. */
	parse_three("40", "20", "3", "1M", "1M", "1M");
	CHECK_EQ(config_assign_cpus(&cfg, 256, masks, &err), 0);
	CHECK_EQ(masks[0], 0xffffffffff000000ull);
	CHECK_EQ(masks[1], 0x0000000000fffff0ull);
	CHECK_EQ(masks[2], 0x000000000000000eull);
	parse_three("40", "20", "4", "1M", "1M", "1M");
	CHECK_EQ(config_assign_cpus(&cfg, 256, masks, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition c] cpus: not enough CPUs (partitions ask for 64 in all; "
			   "this machine has 256 CPUs, of which partitions can use 1-63, "
			   "and CPU 0 runs the host)");

	/* No partitions: nothing to do. */
	CHECK_OK(HOST);
	masks[0] = 1;
	CHECK_EQ(config_assign_cpus(&cfg, 1, masks, &err), 0);
	CHECK_EQ(masks[0], 0);
}

TEST(assign_cpus_hand_built)
{
	/* Configs from elsewhere than config_parse() are checked too. */
	uint64_t masks[CONFIG_MAX_PARTITIONS];

	parse_three("1-2", "3", "4", "1M", "1M", "1M");
	cfg.partitions[1].cpu_mask = 0x4;
	CHECK_EQ(config_assign_cpus(&cfg, 8, masks, &err), -EINVAL);
	CHECK_EQ(err.line, 8);
	CHECK_STR(err.msg, "[partition b] cpus: CPU 2 is not free "
			   "(the host or another partition has it)");
	cfg.partitions[1].cpu_mask = 0x1;
	CHECK_EQ(config_assign_cpus(&cfg, 8, masks, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition b] cpus: CPU 0 is not free "
			   "(the host or another partition has it)");
}

TEST(check_machine)
{
	parse_three("2", "3-3", "1,2", "256M", "1G", "512M");
	CHECK_EQ(config_check_machine(&cfg, 6, 2 * GiB + 256 * MiB, &err), 0);
	CHECK_EQ(err.line, 0);
	CHECK_STR(err.msg, "");

	/* A list naming a CPU the machine lacks. */
	parse_three("2", "4-5", "1", "1M", "1M", "1M");
	CHECK_EQ(config_check_machine(&cfg, 4, 1 * GiB, &err), -EINVAL);
	CHECK_EQ(err.line, 8);
	CHECK_STR(err.msg,
		  "[partition b] cpus: CPU 4 does not exist (this machine has 4 CPUs: 0-3)");
	CHECK_EQ(config_check_machine(&cfg, 1, 1 * GiB, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition b] cpus: CPU 4 does not exist (this machine has 1 CPU: 0)");
	CHECK_EQ(config_check_machine(&cfg, 0, 1 * GiB, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition b] cpus: CPU 4 does not exist (this machine has no CPUs)");

	/* More CPUs than the machine has besides CPU 0. */
	parse_three("2", "2", "1", "1M", "1M", "1M");
	CHECK_EQ(config_check_machine(&cfg, 6, 1 * GiB, &err), 0);
	CHECK_EQ(config_check_machine(&cfg, 5, 1 * GiB, &err), -EINVAL);
	CHECK_EQ(err.line, 12);
	CHECK_STR(err.msg, "[partition c] cpus: not enough CPUs (partitions ask for 5 in all; "
			   "this machine has 5 CPUs: 0-4, and CPU 0 runs the host)");
}

TEST(check_machine_memory)
{
	parse_three("1", "1", "1", "256M", "1G", "512M");
	CHECK_EQ(config_check_machine(&cfg, 4, 2 * GiB, &err), 0);
	CHECK_EQ(config_check_machine(&cfg, 4, 2 * GiB - 4096, &err), -EINVAL);
	CHECK_EQ(err.line, 13);
	CHECK_STR(err.msg, "[partition c] memory: partitions ask for 1792M in all, but only 1791M "
			   "is left for them (2047M of free RAM; the host keeps at least 256M)");
	CHECK_EQ(config_check_machine(&cfg, 4, 1 * GiB, &err), -EINVAL);
	CHECK_EQ(err.line, 9);
	CHECK_STR(err.msg, "[partition b] memory: partitions ask for 1792M in all, but only 768M "
			   "is left for them (1G of free RAM; the host keeps at least 256M)");
	CHECK_EQ(config_check_machine(&cfg, 4, 256 * MiB, &err), -EINVAL);
	CHECK_EQ(err.line, 5);
	CHECK_STR(err.msg, "[partition a] memory: partitions ask for 1792M in all, but none is "
			   "left for them (256M of free RAM; the host keeps at least 256M)");
	CHECK_EQ(config_check_machine(&cfg, 4, 0, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition a] memory: partitions ask for 1792M in all, but none is "
			   "left for them (0 of free RAM; the host keeps at least 256M)");

	/* CPUs are checked first. */
	CHECK_EQ(config_check_machine(&cfg, 2, 0, &err), -EINVAL);
	CHECK_CONTAINS(err.msg, "[partition b] cpus: not enough CPUs");

	/* Sizes are shown in the largest whole unit. */
	parse_three("1", "1", "1", "1T", "1T", "1028K");
	CHECK_EQ(config_check_machine(&cfg, 4, 2 * 1024 * GiB, &err), -EINVAL);
	CHECK_EQ(err.line, 9);
	CHECK_STR(err.msg,
		  "[partition b] memory: partitions ask for 2147484676K in all, but only "
		  "2096896M is left for them (2T of free RAM; the host keeps at least 256M)");

	/* No partitions: any machine will do. */
	CHECK_OK(HOST);
	CHECK_EQ(cfg.host.present, true);
	CHECK_EQ(config_check_machine(&cfg, 1, 0, &err), 0);
}

#define MB(name) "[partition " name "]\nkind = multiboot\ncpus = 1\nmemory = 16M\nkernel = k.elf\n"

TEST(multiboot_partitions)
{
	const struct config_partition *p;

	CHECK_OK(HOST MB("t") "cmdline = \"pass=0x10\"\nmodules = a.txt, dir/b.bin ,c\n");
	p = &cfg.partitions[0];
	CHECK_EQ(p->kind, CONFIG_PARTITION_MULTIBOOT);
	CHECK_STR(p->kernel.path, "k.elf");
	CHECK_STR(p->cmdline, "pass=0x10");
	CHECK_EQ(p->nr_modules, 3);
	CHECK_STR(p->modules[0].path, "a.txt");
	CHECK_STR(p->modules[1].path, "dir/b.bin");
	CHECK_STR(p->modules[2].path, "c");
	CHECK_EQ(p->modules[2].line, 9);
	CHECK_EQ(p->debug_exit_port, CONFIG_DEBUG_EXIT_PORT);
	CHECK_OK(HOST MB("t") "modules = \"one file.bin\"\n");
	CHECK_EQ(cfg.partitions[0].nr_modules, 1);
	CHECK_STR(cfg.partitions[0].modules[0].path, "one file.bin");

	CHECK_ERROR(HOST "[partition t]\nkind = multiboot\ncpus = 1\nmemory = 16M\n", 3,
		    "[partition t] has no 'kernel = ...' (a multiboot partition needs a kernel)");
	CHECK_ERROR(HOST MB("t") "initrd = i\n", 8,
		    "'initrd' is not valid in a multiboot partition (it is for kind = linux)");
	CHECK_ERROR(HOST MB("t") "image = i\n", 8,
		    "'image' is not valid in a multiboot partition (it is for kind = raw)");
	CHECK_ERROR(HOST PART("l") "modules = m\n", 7,
		    "'modules' is not valid in a linux partition, the default kind "
		    "(add 'kind = multiboot' for a multiboot kernel)");
	CHECK_ERROR(HOST MB("t") "modules = a,,b\n", 8,
		    "invalid modules 'a,,b' (empty entry: expected file names separated by ',')");
	CHECK_ERROR(HOST MB("t") "modules = a,\n", 8,
		    "invalid modules 'a,' (empty entry: expected file names separated by ',')");
	CHECK_ERROR(HOST MB("t") "modules = 1,2,3,4,5,6,7,8,9\n", 8,
		    "too many modules (at most 8)");
	CHECK_ERROR(HOST MB("t") "modules = \"a\\tb\"\n", 8,
		    "path for 'modules' contains a tab or newline");
}

TEST(debug_exit_ports)
{
	CHECK_OK(HOST MB("t") "debug_exit = 0x501\n");
	CHECK_EQ(cfg.partitions[0].debug_exit_port, 0x501);
	CHECK_OK(HOST MB("t") "debug_exit = none\n");
	CHECK_EQ(cfg.partitions[0].debug_exit_port, 0);
	CHECK_OK(HOST PART("l") "debug_exit = 0xf0\n");
	CHECK_EQ(cfg.partitions[0].debug_exit_port, 0xf0);
	CHECK_ERROR(HOST MB("t") "debug_exit = port\n", 6 + 2,
		    "invalid debug_exit 'port' (expected an I/O port such as 0xf4, or none)");
	CHECK_ERROR(HOST MB("t") "debug_exit = 0\n", 8,
		    "invalid debug_exit '0' (expected an I/O port such as 0xf4, or none)");
	CHECK_ERROR(HOST MB("t") "debug_exit = 0xfffd\n", 8,
		    "invalid debug_exit '0xfffd' (expected an I/O port such as 0xf4, or none)");
	CHECK_ERROR(HOST MB("t") "debug_exit = 0x3f5\n", 8,
		    "debug_exit '0x3f5' overlaps the UART (COM1) (the device decodes 4 ports, "
		    "PORT to PORT+3)");
	CHECK_ERROR(HOST MB("t") "debug_exit = 0x50e\n", 8,
		    "debug_exit '0x50e' overlaps fw_cfg (the device decodes 4 ports, PORT to "
		    "PORT+3)");
	CHECK_OK(HOST MB("t") "debug_exit = 0x50a\n");
}

TEST(ci_keys)
{
	CHECK_OK(HOST MB("t"));
	CHECK(!cfg.ci.enabled);
	CHECK_EQ(cfg.ci.exit_port, 0xf4);
	CHECK_EQ(cfg.ci.success, 0);
	CHECK_OK("[keel]\nci = yes\nci_exit_port = 0x501\nci_success = 0x10\n" HOST MB("t"));
	CHECK(cfg.ci.enabled);
	CHECK_EQ(cfg.ci.line, 2);
	CHECK_EQ(cfg.ci.exit_port, 0x501);
	CHECK_EQ(cfg.ci.success, 0x10);
	CHECK_OK("[keel]\nci = no\nci_exit_port = none\n" HOST);
	CHECK(!cfg.ci.enabled);
	CHECK_EQ(cfg.ci.exit_port, 0);
	CHECK_ERROR("[keel]\nci = yes\n" HOST, 2,
		    "ci = yes, but there is no [partition NAME] to wait for");
	CHECK_ERROR("[keel]\nci = maybe\n" HOST, 2, "invalid ci 'maybe' (expected yes or no)");
	CHECK_ERROR("[keel]\nci_success = -1\n" HOST, 2,
		    "invalid ci_success '-1' (expected the value a partition writes to its "
		    "debug-exit port, 0 to 0xffffffff)");
	CHECK_ERROR("[keel]\nci_success = 0x100000000\n" HOST, 2,
		    "invalid ci_success '0x100000000' (expected the value a partition writes to "
		    "its debug-exit port, 0 to 0xffffffff)");
	CHECK_ERROR("[keel]\nci_exit_port = com1\n" HOST, 2,
		    "invalid ci_exit_port 'com1' (expected an I/O port such as 0xf4, or none)");
	CHECK_ERROR(HOST MB("t") "ci = yes\n", 8,
		    "unknown key 'ci' in [partition t] ('ci' belongs in [keel])");
}

TEST(check_machine_without_host)
{
	uint64_t masks[CONFIG_MAX_PARTITIONS];

	/* No [host]: the partitions may take all the free RAM, but still not CPU 0. */
	CHECK_OK("[partition a]\nkind = raw\nimage = a.bin\ncpus = 1\nmemory = 16M\n");
	CHECK_EQ(cfg.host.present, false);
	CHECK_EQ(config_check_machine(&cfg, 2, 16 * MiB, &err), 0);
	CHECK_EQ(config_check_machine(&cfg, 2, 16 * MiB - 4096, &err), -EINVAL);
	CHECK_EQ(err.line, 5);
	CHECK_STR(err.msg, "[partition a] memory: partitions ask for 16M in all, but this "
			   "machine has only 15M of free RAM");
	/* A count may take CPU 0 then: highest CPUs first, CPU 0 last. */
	CHECK_EQ(config_assign_cpus(&cfg, 2, masks, &err), 0);
	CHECK_EQ(masks[0], 0x2);
	CHECK_EQ(config_assign_cpus(&cfg, 1, masks, &err), 0);
	CHECK_EQ(masks[0], 0x1);
	CHECK_EQ(config_check_machine(&cfg, 1, 1 * GiB, &err), 0);
	CHECK_OK("[partition a]\nkind = raw\nimage = a.bin\ncpus = 2\nmemory = 16M\n");
	CHECK_EQ(config_check_machine(&cfg, 1, 1 * GiB, &err), -EINVAL);
	CHECK_STR(err.msg, "[partition a] cpus: not enough CPUs (partitions ask for 2 in all; "
			   "this machine has 1 CPU: 0)");
	/* A list still may not name CPU 0. */
	CHECK_ERROR("[partition a]\nkind = raw\nimage = a.bin\ncpus = 0-1\nmemory = 16M\n", 4,
		    "CPU 0 cannot be given to a partition "
		    "(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
}

TEST_MAIN(TEST_CASE(full_config), TEST_CASE(defaults), TEST_CASE(sections_in_any_order),
	  TEST_CASE(reparse_starts_from_defaults), TEST_CASE(error_cleared_on_success),
	  TEST_CASE(console_values), TEST_CASE(console_errors), TEST_CASE(baud_values),
	  TEST_CASE(baud_errors), TEST_CASE(console_none_keeps_baud), TEST_CASE(whole_file_errors),
	  TEST_CASE(section_headers), TEST_CASE(section_errors), TEST_CASE(line_syntax_errors),
	  TEST_CASE(unknown_and_duplicate_keys), TEST_CASE(long_snippets_are_shortened),
	  TEST_CASE(bare_values), TEST_CASE(quoted_values), TEST_CASE(quote_errors),
	  TEST_CASE(path_errors), TEST_CASE(path_length_limits), TEST_CASE(cmdline_length_limits),
	  TEST_CASE(crlf), TEST_CASE(bom), TEST_CASE(utf8_allowed), TEST_CASE(control_characters),
	  TEST_CASE(text_need_not_be_terminated), TEST_CASE(first_error_wins),
	  TEST_CASE(line_numbers), TEST_CASE(format_error), TEST_CASE(partitions_full),
	  TEST_CASE(partition_defaults), TEST_CASE(partition_headers), TEST_CASE(cpus_counts),
	  TEST_CASE(cpus_lists), TEST_CASE(cpus_list_errors), TEST_CASE(cpus_overlap),
	  TEST_CASE(memory_values), TEST_CASE(memory_errors), TEST_CASE(parse_size),
	  TEST_CASE(partition_keywords), TEST_CASE(load_address), TEST_CASE(raw_entry),
	  TEST_CASE(keys_of_the_other_kind), TEST_CASE(missing_partition_keys),
	  TEST_CASE(partition_keys), TEST_CASE(partition_length_limits),
	  TEST_CASE(long_messages_fit), TEST_CASE(assign_cpus), TEST_CASE(assign_cpus_hand_built),
	  TEST_CASE(check_machine), TEST_CASE(check_machine_memory),
	  TEST_CASE(multiboot_partitions), TEST_CASE(debug_exit_ports), TEST_CASE(ci_keys),
	  TEST_CASE(check_machine_without_host))
