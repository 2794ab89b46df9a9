// SPDX-License-Identifier: MIT
/*
 * keel.cfg parser; the format is specified in docs/config.md.
 *
 * The same object code runs in the hypervisor, in the UEFI loader and in the
 * hosted keel-cfgcheck, so it relies only on the <keel/string.h> functions,
 * keeps all state in the caller's frame (no static data: it is reentrant and
 * needs no .bss) and never trusts the text to be NUL-terminated. Messages are formatted with %s and %d only, the subset that
 * every vsnprintf we link against is sure to handle.
 *
 * The whole file is parsed in one pass and the first error wins: a person
 * fixes one line, runs keel-cfgcheck again, and is never shown errors that
 * were caused by an earlier one.
 */
#include <keel/config.h>
#include <keel/errno.h>
#include <keel/string.h>

#define DEFAULT_CONSOLE_PORT 0x3f8
#define DEFAULT_BAUD 115200

/* Longest piece of the user's text quoted back in a message, before "...". */
#define SNIP_MAX 40

enum section { SECT_NONE, SECT_KEEL, SECT_HOST, SECT_COUNT };
enum key { KEY_CONSOLE, KEY_BAUD, KEY_KERNEL, KEY_INITRD, KEY_CMDLINE, KEY_COUNT };

/* A piece of the input; the input need not be NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* A value as written: for a quoted string, the text between the quotes, escapes undecoded. */
struct value {
	struct span raw;
	bool quoted;
};

struct parser {
	struct keel_config *cfg;
	struct config_error *err;
	int line;
	enum section section;
	int section_line[SECT_COUNT]; /* 0 = not seen yet */
	int key_line[KEY_COUNT];
};

/*
 * The tables hold arrays, not pointers, and keys are dispatched with a
 * switch: the UEFI loader is position-independent, and this way the parser
 * needs no load-time relocations however the loader is linked.
 */
struct key_def {
	char name[8];
	enum section section;
	enum key key;
};

static const char section_names[SECT_COUNT][5] = {
	[SECT_NONE] = "",
	[SECT_KEEL] = "keel",
	[SECT_HOST] = "host",
};

/* The "expected ..." part of an unknown-key message. */
static const char section_keys[SECT_COUNT][26] = {
	[SECT_NONE] = "",
	[SECT_KEEL] = "console or baud",
	[SECT_HOST] = "kernel, initrd or cmdline",
};

static const struct {
	char name[5];
	uint16_t port;
} consoles[] = {
	{ "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 }, { "none", 0 },
};

static const uint32_t bauds[] = { 9600, 19200, 38400, 57600, 115200 };

static int fail(struct parser *ps, const char *fmt, ...) __printf(2, 3);

static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	ps->err->line = ps->line;
	return -EINVAL;
}

static int clamp_int(size_t n)
{
	return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static struct span span_of(struct span line, size_t start, size_t end)
{
	struct span s = { line.p + start, end - start };

	return s;
}

static struct span trim(struct span s)
{
	while (s.n && is_space(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

static size_t skip_space(struct span line, size_t i)
{
	while (i < line.n && is_space(line.p[i]))
		i++;
	return i;
}

/* Index of the first '#' at or after i, or line.n. */
static size_t find_comment(struct span line, size_t i)
{
	while (i < line.n && line.p[i] != '#')
		i++;
	return i;
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* NUL-terminated copy of s for a message, shortened with "..." when long. */
static const char *snip(char (*buf)[SNIP_MAX + 4], struct span s)
{
	size_t n = MIN(s.n, (size_t)SNIP_MAX);

	memcpy(*buf, s.p, n);
	if (n < s.n) {
		memcpy(*buf + n, "...", 3);
		n += 3;
	}
	(*buf)[n] = '\0';
	return *buf;
}

/*
 * Copy val into dst (size bytes, always NUL-terminated, truncated if need
 * be), resolving escapes. Returns the full decoded length so callers can
 * tell truncation apart.
 */
static size_t value_decode(const struct value *val, char *dst, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < val->raw.n; i++) {
		char c = val->raw.p[i];

		/* parse_value() has checked that every backslash starts a complete escape. */
		if (val->quoted && c == '\\') {
			c = val->raw.p[++i];
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
		}
		if (n + 1 < size)
			dst[n] = c;
		n++;
	}
	if (size)
		dst[MIN(n, size - 1)] = '\0';
	return n;
}

static int set_console(struct parser *ps, const struct key_def *def, const struct value *val)
{
	char buf[16], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf));
	uint64_t port;

	if (n < sizeof(buf)) {
		for (size_t i = 0; i < ARRAY_SIZE(consoles); i++) {
			if (strcmp(buf, consoles[i].name) == 0) {
				ps->cfg->console.port = consoles[i].port;
				return 0;
			}
		}
		if (keel_parse_u64(buf, n, &port) == 0) {
			for (size_t i = 0; i < ARRAY_SIZE(consoles); i++) {
				if (consoles[i].port && consoles[i].port == port) {
					ps->cfg->console.port = consoles[i].port;
					return 0;
				}
			}
			return fail(ps,
				    "unsupported console port '%s' "
				    "(expected 0x3f8, 0x2f8, 0x3e8 or 0x2e8)",
				    snip(&snipbuf, val->raw));
		}
	}
	return fail(ps, "invalid console '%s' (expected com1, com2, com3, com4, none or 0xPORT)",
		    snip(&snipbuf, val->raw));
}

static int set_baud(struct parser *ps, const struct key_def *def, const struct value *val)
{
	char buf[16], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf));
	uint64_t baud;

	if (n < sizeof(buf) && keel_parse_u64(buf, n, &baud) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(bauds); i++) {
			if (bauds[i] == baud) {
				ps->cfg->console.baud = bauds[i];
				return 0;
			}
		}
	}
	return fail(ps, "invalid baud rate '%s' (expected 9600, 19200, 38400, 57600 or 115200)",
		    snip(&snipbuf, val->raw));
}

static int set_path(struct parser *ps, const struct key_def *def, const struct value *val,
		    struct config_file *file)
{
	size_t n = value_decode(val, file->path, sizeof(file->path));

	if (n == 0)
		return fail(ps, "empty path for '%s' (expected a file name)", def->name);
	if (n >= sizeof(file->path))
		return fail(ps, "path for '%s' is too long (%d bytes, at most %d)", def->name,
			    clamp_int(n), (int)sizeof(file->path) - 1);
	/* Only escapes can get here: raw control characters were rejected per line. */
	for (size_t i = 0; i < n; i++) {
		if (is_control((unsigned char)file->path[i]))
			return fail(ps, "path for '%s' contains a tab or newline", def->name);
	}
	file->line = ps->line;
	return 0;
}

static int set_cmdline(struct parser *ps, const struct key_def *def, const struct value *val)
{
	char *cmdline = ps->cfg->host.cmdline;
	size_t n = value_decode(val, cmdline, sizeof(ps->cfg->host.cmdline));

	if (n >= sizeof(ps->cfg->host.cmdline)) {
		cmdline[0] = '\0';
		return fail(ps, "cmdline is too long (%d bytes, at most %d)", clamp_int(n),
			    (int)sizeof(ps->cfg->host.cmdline) - 1);
	}
	return 0;
}

static const struct key_def key_defs[] = {
	{ "console", SECT_KEEL, KEY_CONSOLE }, { "baud", SECT_KEEL, KEY_BAUD },
	{ "kernel", SECT_HOST, KEY_KERNEL },   { "initrd", SECT_HOST, KEY_INITRD },
	{ "cmdline", SECT_HOST, KEY_CMDLINE },
};

static int set_value(struct parser *ps, const struct key_def *def, const struct value *val)
{
	switch (def->key) {
	case KEY_CONSOLE:
		return set_console(ps, def, val);
	case KEY_BAUD:
		return set_baud(ps, def, val);
	case KEY_KERNEL:
		return set_path(ps, def, val, &ps->cfg->host.kernel);
	case KEY_INITRD:
		return set_path(ps, def, val, &ps->cfg->host.initrd);
	case KEY_CMDLINE:
		return set_cmdline(ps, def, val);
	case KEY_COUNT:
		break;
	}
	return -EINVAL;
}

/* The definition of key in section, or failing that in any section (for a hint). */
static const struct key_def *find_key(enum section section, struct span key)
{
	const struct key_def *other = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(key_defs); i++) {
		if (!span_eq(key, key_defs[i].name))
			continue;
		if (key_defs[i].section == section)
			return &key_defs[i];
		other = &key_defs[i];
	}
	return other;
}

static int parse_header(struct parser *ps, struct span line, size_t open)
{
	char snipbuf[SNIP_MAX + 4];
	size_t close = open + 1, i, word = 0;
	struct span name;
	int sect;

	while (close < line.n && line.p[close] != ']' && line.p[close] != '#')
		close++;
	if (close == line.n || line.p[close] != ']')
		return fail(ps, "expected ']' to close section header '%s'",
			    snip(&snipbuf, trim(span_of(line, open, close))));

	i = skip_space(line, close + 1);
	if (i < line.n && line.p[i] != '#')
		return fail(ps, "unexpected '%s' after section header (expected end of line)",
			    snip(&snipbuf, trim(span_of(line, i, find_comment(line, i)))));

	name = trim(span_of(line, open + 1, close));
	if (name.n == 0)
		return fail(ps, "empty section name (expected [keel] or [host])");

	/* [partition NAME] is reserved: say so rather than calling it unknown. */
	while (word < name.n && !is_space(name.p[word]))
		word++;
	if (span_eq(span_of(name, 0, word), "partition"))
		return fail(ps, "partitions are not supported yet (expected [keel] or [host])");

	for (sect = SECT_NONE + 1; sect < SECT_COUNT; sect++) {
		if (span_eq(name, section_names[sect]))
			break;
	}
	if (sect == SECT_COUNT)
		return fail(ps, "unknown section '%s' (expected [keel] or [host])",
			    snip(&snipbuf, name));
	if (ps->section_line[sect])
		return fail(ps, "duplicate section [%s] (first defined on line %d)",
			    section_names[sect], ps->section_line[sect]);
	ps->section_line[sect] = ps->line;
	ps->section = (enum section)sect;
	return 0;
}

/* Split the value that starts at line[i] (just after the '='). */
static int parse_value(struct parser *ps, struct span line, size_t i, struct value *val)
{
	char snipbuf[SNIP_MAX + 4];
	size_t start;

	i = skip_space(line, i);
	if (i == line.n || line.p[i] != '"') {
		val->raw = trim(span_of(line, i, find_comment(line, i)));
		val->quoted = false;
		return 0;
	}

	start = ++i;
	while (i < line.n && line.p[i] != '"') {
		if (line.p[i] == '\\' && i + 1 < line.n) {
			char c = line.p[i + 1];

			if (c != '"' && c != '\\' && c != 'n' && c != 't') {
				char esc[2] = { c, '\0' };

				return fail(ps,
					    "unknown escape '\\%s' in string "
					    "(expected \\\", \\\\, \\n or \\t)",
					    esc);
			}
			i++;
		}
		i++;
	}
	if (i >= line.n)
		return fail(ps, "unterminated string (missing closing '\"')");
	val->raw = span_of(line, start, i);
	val->quoted = true;

	i = skip_space(line, i + 1);
	if (i < line.n && line.p[i] != '#')
		return fail(ps, "unexpected '%s' after closing quote (expected end of line)",
			    snip(&snipbuf, trim(span_of(line, i, find_comment(line, i)))));
	return 0;
}

static int parse_assignment(struct parser *ps, struct span line, size_t start)
{
	char snipbuf[SNIP_MAX + 4];
	const struct key_def *def;
	struct value val;
	struct span key;
	size_t eq = start;
	int ret;

	while (eq < line.n && line.p[eq] != '=' && line.p[eq] != '#')
		eq++;
	if (eq == line.n || line.p[eq] != '=')
		return fail(ps, "expected 'key = value', got '%s'",
			    snip(&snipbuf, trim(span_of(line, start, eq))));

	key = trim(span_of(line, start, eq));
	if (key.n == 0)
		return fail(ps, "missing key before '='");
	for (size_t i = 0; i < key.n; i++) {
		if (!is_key_char(key.p[i]))
			return fail(ps,
				    "invalid key '%s' (expected letters, digits, '_' and '-', "
				    "then '=')",
				    snip(&snipbuf, key));
	}

	ret = parse_value(ps, line, eq + 1, &val);
	if (ret)
		return ret;

	if (ps->section == SECT_NONE)
		return fail(ps, "key '%s' is outside any section (expected [keel] or [host] first)",
			    snip(&snipbuf, key));

	def = find_key(ps->section, key);
	if (!def)
		return fail(ps, "unknown key '%s' in [%s] (expected %s)", snip(&snipbuf, key),
			    section_names[ps->section], section_keys[ps->section]);
	if (def->section != ps->section)
		return fail(ps, "unknown key '%s' in [%s] ('%s' belongs in [%s])", def->name,
			    section_names[ps->section], def->name, section_names[def->section]);
	if (ps->key_line[def->key])
		return fail(ps, "duplicate key '%s' (first set on line %d)", def->name,
			    ps->key_line[def->key]);
	ps->key_line[def->key] = ps->line;
	return set_value(ps, def, &val);
}

/*
 * Reject control characters anywhere on the line, comments included: they
 * are invisible in an editor and usually mean a binary or mangled file. A CR
 * is only accepted as the first half of a CRLF and is dropped from *line.
 */
static int check_line(struct parser *ps, struct span *line)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < line->n; i++) {
		unsigned char c = (unsigned char)line->p[i];

		if (c == '\r' && i + 1 == line->n) {
			line->n--;
			break;
		}
		if (c == '\r')
			return fail(ps, "invalid character 0x0d (a carriage return must be "
					"followed by a line feed)");
		if (is_control(c) && c != '\t') {
			char code[3] = { hex[c >> 4], hex[c & 0xf], '\0' };

			return fail(ps,
				    "invalid character 0x%s (control characters are not allowed)",
				    code);
		}
	}
	return 0;
}

static int parse_line(struct parser *ps, struct span line)
{
	int ret = check_line(ps, &line);
	size_t i;

	if (ret)
		return ret;
	i = skip_space(line, 0);
	if (i == line.n || line.p[i] == '#')
		return 0;
	if (line.p[i] == '[')
		return parse_header(ps, line, i);
	return parse_assignment(ps, line, i);
}

int config_parse(const char *text, size_t len, struct keel_config *cfg, struct config_error *err)
{
	struct parser ps = { .cfg = cfg, .err = err };
	size_t pos = 0;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->console.port = DEFAULT_CONSOLE_PORT;
	cfg->console.baud = DEFAULT_BAUD;
	err->line = 0;
	err->msg[0] = '\0';

	/* Some Windows editors start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;

	while (pos < len) {
		struct span line = { text + pos, 0 };

		while (pos + line.n < len && line.p[line.n] != '\n')
			line.n++;
		ps.line++;
		ret = parse_line(&ps, line);
		if (ret)
			return ret;
		pos += line.n + 1;
	}

	ps.line = 0;
	if (!ps.section_line[SECT_HOST])
		return fail(&ps, "no [host] section: the host partition needs at least "
				 "'kernel = ...'");
	if (!ps.key_line[KEY_KERNEL]) {
		ps.line = ps.section_line[SECT_HOST];
		return fail(&ps,
			    "[host] has no 'kernel = ...' (the host partition needs a kernel)");
	}
	return 0;
}

void config_format_error(char *buf, size_t size, const char *file, const struct config_error *err)
{
	if (!file)
		file = "keel.cfg";
	if (err->line > 0)
		snprintf(buf, size, "%s:%d: %s", file, err->line, err->msg);
	else
		snprintf(buf, size, "%s: %s", file, err->msg);
}
