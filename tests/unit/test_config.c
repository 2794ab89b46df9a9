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
	CHECK_ERROR("[foo]\n" HOST, 1, "unknown section 'foo' (expected [keel] or [host])");
	CHECK_ERROR(HOST "[Host]\n", 3, "unknown section 'Host' (expected [keel] or [host])");
	CHECK_ERROR("[host keel]\n", 1, "unknown section 'host keel' (expected [keel] or [host])");
	CHECK_ERROR("[partitions]\n", 1,
		    "unknown section 'partitions' (expected [keel] or [host])");
	CHECK_ERROR(HOST "[partition linux2]\nkernel = k\n", 3,
		    "partitions are not supported yet (expected [keel] or [host])");
	CHECK_ERROR("[partition]\n", 1,
		    "partitions are not supported yet (expected [keel] or [host])");
	CHECK_ERROR("[ partition\tx ]\n", 1,
		    "partitions are not supported yet (expected [keel] or [host])");
	CHECK_ERROR("[]\n", 1, "empty section name (expected [keel] or [host])");
	CHECK_ERROR("[  ]\n", 1, "empty section name (expected [keel] or [host])");
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
		    "key 'kernel' is outside any section (expected [keel] or [host] first)");
	CHECK_ERROR("# comment\n\nbaud = 9600\n", 3,
		    "key 'baud' is outside any section (expected [keel] or [host] first)");
}

TEST(unknown_and_duplicate_keys)
{
	CHECK_ERROR("[keel]\nfoo = 1\n", 2,
		    "unknown key 'foo' in [keel] (expected console or baud)");
	CHECK_ERROR(HOST "memory = 1G\n", 3,
		    "unknown key 'memory' in [host] (expected kernel, initrd or cmdline)");
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
	  TEST_CASE(line_numbers), TEST_CASE(format_error))
