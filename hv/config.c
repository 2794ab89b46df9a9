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
 *
 * Partitions are checked as far as the text alone allows. What depends on
 * the machine (does CPU 5 exist, is there RAM for all) is checked by
 * config_check_machine() once the core has counted its CPUs and memory, and
 * by keel-cfgcheck --cpus N --memory SIZE for a machine described to it.
 */
#include <keel/config.h>
#include <keel/errno.h>
#include <keel/string.h>

#define DEFAULT_CONSOLE_PORT 0x3f8
#define DEFAULT_BAUD 115200

/* Longest piece of the user's text quoted back in a message, before "...". */
#define SNIP_MAX 40

/* What the "expected ..." part of a message says a section header can be. */
#define SECTIONS "[keel], [host] or [partition NAME]"

/* The longest keyword a value may be (with its NUL). */
#define KEYWORD_MAX 12

/* The most a cpus value may hold: "1, 2, 3, ..., 63" with room to spare. */
#define CPUS_TEXT_MAX 256

enum section { SECT_NONE, SECT_KEEL, SECT_HOST, SECT_PARTITION, SECT_COUNT };

/* The keys of a [partition] section are their own: each partition starts afresh. */
enum key {
	KEY_CONSOLE,
	KEY_BAUD,
	KEY_CI,
	KEY_CI_EXIT_PORT,
	KEY_CI_SUCCESS,
	KEY_KERNEL,
	KEY_INITRD,
	KEY_CMDLINE,
	KEY_P_CPUS,
	KEY_P_MEMORY,
	KEY_P_KIND,
	KEY_P_KERNEL,
	KEY_P_INITRD,
	KEY_P_CMDLINE,
	KEY_P_IMAGE,
	KEY_P_LOAD_ADDRESS,
	KEY_P_CONSOLE,
	KEY_P_REALTIME,
	KEY_P_MODULES,
	KEY_P_DEBUG_EXIT,
	KEY_COUNT
};
#define KEY_P_FIRST KEY_P_CPUS

/* Which partition kinds a partition key is valid for. */
#define KIND_LINUX (1u << CONFIG_PARTITION_LINUX)
#define KIND_RAW (1u << CONFIG_PARTITION_RAW)
#define KIND_MULTIBOOT (1u << CONFIG_PARTITION_MULTIBOOT)
#define KIND_ANY (KIND_LINUX | KIND_RAW | KIND_MULTIBOOT)

/* What size_parse() found wrong. */
enum size_error { SIZE_OK, SIZE_BAD, SIZE_NO_UNIT, SIZE_BAD_UNIT, SIZE_FRACTION, SIZE_OVERFLOW };

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
	char name[13];
	enum section section;
	enum key key;
	uint8_t kinds; /* partition keys: KIND_* */
};

static const char section_names[SECT_COUNT][10] = {
	[SECT_NONE] = "",
	[SECT_KEEL] = "keel",
	[SECT_HOST] = "host",
	[SECT_PARTITION] = "partition",
};

/* How a hint that a key "belongs in" a section writes the section. */
static const char section_headers[SECT_COUNT][17] = {
	[SECT_NONE] = "",
	[SECT_KEEL] = "[keel]",
	[SECT_HOST] = "[host]",
	[SECT_PARTITION] = "[partition NAME]",
};

/* The "expected ..." part of an unknown-key message. */
static const char section_keys[SECT_COUNT][112] = {
	[SECT_NONE] = "",
	[SECT_KEEL] = "console, baud, ci, ci_exit_port or ci_success",
	[SECT_HOST] = "kernel, initrd or cmdline",
	[SECT_PARTITION] = "cpus, memory, kind, kernel, initrd, cmdline, image, load_address, "
			   "modules, console, debug_exit or realtime",
};

/* Keywords, indexed by the enums of <keel/config.h>. */
static const char kind_names[][KEYWORD_MAX] = {
	[CONFIG_PARTITION_LINUX] = "linux",
	[CONFIG_PARTITION_RAW] = "raw",
	[CONFIG_PARTITION_MULTIBOOT] = "multiboot",
};

static const char console_kind_names[][KEYWORD_MAX] = {
	[CONFIG_CONSOLE_SERIAL] = "serial",
	[CONFIG_CONSOLE_DEBUG] = "debug",
	[CONFIG_CONSOLE_NONE] = "none",
};

/* Even entries mean no, odd ones yes. */
static const char bool_names[][KEYWORD_MAX] = { "no", "yes", "false", "true", "0", "1" };

static const struct {
	char name[4];
	uint8_t shift;
} size_units[] = {
	{ "K", 10 },   { "M", 20 },   { "G", 30 },   { "T", 40 },
	{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
};

static const struct {
	char name[5];
	uint16_t port;
} consoles[] = {
	{ "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 }, { "none", 0 },
};

static const uint32_t bauds[] = { 9600, 19200, 38400, 57600, 115200 };

static int fail(struct parser *ps, const char *fmt, ...) __printf(2, 3);
static int fail_at(struct config_error *err, int line, const char *fmt, ...) __printf(3, 4);

static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	ps->err->line = ps->line;
	return -EINVAL;
}

/* An error found after parsing, about the given line. */
static int fail_at(struct config_error *err, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->line = line;
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

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

static uint32_t cpu_count(uint64_t mask)
{
	uint32_t n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/* Index of the lowest set bit of a nonzero mask. */
static int lowest_cpu(uint64_t mask)
{
	int cpu = 0;

	while (!(mask & 1)) {
		mask >>= 1;
		cpu++;
	}
	return cpu;
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

/* v in decimal, for messages (which use %s and %d only). */
static const char *u64_str(char (*buf)[24], uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		(*buf)[i] = tmp[n - 1 - i];
	(*buf)[n] = '\0';
	return *buf;
}

/* A size the way keel.cfg writes it, in the largest unit that divides it: "1536M", "2G". */
static const char *size_str(char (*buf)[24], uint64_t bytes)
{
	static const char units[] = "KMGT";
	size_t u = 0, n;

	while (u < 4 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	u64_str(buf, bytes);
	if (u) {
		n = strlen(*buf);
		(*buf)[n] = units[u - 1];
		(*buf)[n + 1] = '\0';
	}
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

static int set_cmdline(struct parser *ps, const struct value *val, char *cmdline, size_t size)
{
	size_t n = value_decode(val, cmdline, size);

	if (n >= size) {
		cmdline[0] = '\0';
		return fail(ps, "cmdline is too long (%d bytes, at most %d)", clamp_int(n),
			    (int)size - 1);
	}
	return 0;
}

/* The partition whose section is being parsed. */
static struct config_partition *cur_part(struct parser *ps)
{
	return &ps->cfg->partitions[ps->cfg->nr_partitions - 1];
}

/* Index of the keyword val spells in words[0 .. n), or -1. */
static int keyword(const struct value *val, const char (*words)[KEYWORD_MAX], int n)
{
	char buf[KEYWORD_MAX];

	if (value_decode(val, buf, sizeof(buf)) < sizeof(buf)) {
		for (int i = 0; i < n; i++) {
			if (strcmp(buf, words[i]) == 0)
				return i;
		}
	}
	return -1;
}

/* The decoded value, trimmed, in buf; false if it does not fit. */
static bool decode_trimmed(const struct value *val, char *buf, size_t size, struct span *out)
{
	size_t n = value_decode(val, buf, size);
	struct span s = { buf, MIN(n, size - 1) };

	*out = trim(s);
	return n < size;
}

static int cpus_syntax(struct parser *ps, const struct value *val, const char *why)
{
	char snipbuf[SNIP_MAX + 4];

	return fail(ps, "invalid cpus '%s' (%s)", snip(&snipbuf, val->raw), why);
}

/*
 * One CPU number of a list at s[*i] (a digit), into *cpu; *i moves past it.
 * CPU 0 is refused by the caller, which knows whether it starts a range.
 */
static int read_cpu(struct parser *ps, struct span s, size_t *i, int *cpu)
{
	char snipbuf[SNIP_MAX + 4];
	size_t start = *i;
	uint64_t v;

	while (*i < s.n && is_digit(s.p[*i]))
		(*i)++;
	if (keel_parse_u64(s.p + start, *i - start, &v) || v >= CONFIG_PARTITION_CPUS)
		return fail(ps, "CPU %s is out of range (partitions can use CPUs 1 to %d)",
			    snip(&snipbuf, span_of(s, start, *i)), CONFIG_PARTITION_CPUS - 1);
	*cpu = (int)v;
	return 0;
}

static int cpu0_error(struct parser *ps)
{
	return fail(ps, "CPU 0 cannot be given to a partition "
			"(it is Keel's boot CPU and runs the host; use CPUs 1 and up)");
}

static int cpus_count(struct parser *ps, const struct value *val, struct span s)
{
	struct config_partition *part = cur_part(ps);
	char snipbuf[SNIP_MAX + 4];
	uint64_t count;

	if (keel_parse_u64(s.p, s.n, &count) || count >= CONFIG_PARTITION_CPUS)
		return fail(ps, "cpus = %s is too many (a partition can have at most %d CPUs)",
			    snip(&snipbuf, s), CONFIG_PARTITION_CPUS - 1);
	if (count == 0)
		return fail(ps, "cpus = %s gives the partition no CPU (expected at least 1)",
			    snip(&snipbuf, s));
	part->nr_cpus = (uint32_t)count;
	part->cpu_mask = 0;
	return 0;
}

/* "1,3-5": entries separated by commas, each a CPU or a range; spaces around both are fine. */
static int cpus_list(struct parser *ps, const struct value *val, struct span s)
{
	static const char range[] = "a range needs a first and a last CPU, such as 2-3";
	struct config_partition *part = cur_part(ps);
	uint64_t mask = 0;
	size_t i = 0;

	for (;;) {
		int first, last, ret;

		i = skip_space(s, i);
		if (i == s.n || s.p[i] == ',')
			return cpus_syntax(ps, val, "empty entry in the list");
		if (s.p[i] == '-')
			return cpus_syntax(ps, val, range);
		if (!is_digit(s.p[i]))
			break;
		ret = read_cpu(ps, s, &i, &first);
		if (ret)
			return ret;
		last = first;
		i = skip_space(s, i);
		if (i < s.n && s.p[i] == '-') {
			i = skip_space(s, i + 1);
			if (i == s.n || !is_digit(s.p[i]))
				return cpus_syntax(ps, val, range);
			ret = read_cpu(ps, s, &i, &last);
			if (ret)
				return ret;
			if (first == 0 || last == 0)
				return cpu0_error(ps);
			if (last < first)
				return fail(ps, "CPU range %d-%d is backwards (write %d-%d)", first,
					    last, last, first);
			i = skip_space(s, i);
		}
		if (i < s.n && s.p[i] != ',')
			return cpus_syntax(ps, val,
					   is_digit(s.p[i]) ? "expected ',' between CPUs"
							    : "expected a count such as 2, or CPUs "
							      "such as 2-3 or 1,3-5");
		if (first == 0)
			return cpu0_error(ps);
		for (int cpu = first; cpu <= last; cpu++) {
			if (mask & (1ull << cpu))
				return fail(ps, "CPU %d is listed twice in cpus", cpu);
			mask |= 1ull << cpu;
		}
		if (i == s.n) {
			part->cpu_mask = mask;
			part->nr_cpus = cpu_count(mask);
			return 0;
		}
		i++;
	}
	return cpus_syntax(ps, val, "expected a count such as 2, or CPUs such as 2-3 or 1,3-5");
}

static int set_cpus(struct parser *ps, const struct value *val)
{
	struct keel_config *cfg = ps->cfg;
	struct config_partition *part = cur_part(ps);
	char buf[CPUS_TEXT_MAX];
	struct span s;
	size_t i = 0;
	int ret;

	if (!decode_trimmed(val, buf, sizeof(buf), &s))
		return cpus_syntax(ps, val, "too long");
	if (s.n == 0)
		return cpus_syntax(ps, val,
				   "expected a count such as 2, or CPUs such as 2-3 or 1,3-5");
	while (i < s.n && is_digit(s.p[i]))
		i++;
	ret = i == s.n ? cpus_count(ps, val, s) : cpus_list(ps, val, s);
	if (ret)
		return ret;
	part->cpus_line = ps->line;

	/* Lists may not share a CPU; counts are placed around them at boot. */
	for (uint32_t j = 0; j + 1 < cfg->nr_partitions; j++) {
		const struct config_partition *other = &cfg->partitions[j];
		uint64_t both = part->cpu_mask & other->cpu_mask;

		if (both)
			return fail(ps,
				    "CPU %d is already given to [partition %s] (cpus on line %d)",
				    lowest_cpu(both), other->name, other->cpus_line);
	}
	return 0;
}

/*
 * A decimal number, optional spaces, a unit. Separate from the range checks
 * so that keel-cfgcheck reads its --memory option the same way.
 */
static enum size_error size_parse(struct span s, uint64_t *out)
{
	size_t i = 0, u;
	struct span unit;
	uint64_t v;
	int ret;

	while (i < s.n && is_digit(s.p[i]))
		i++;
	if (i == 0)
		return SIZE_BAD;
	if (i + 1 < s.n && s.p[i] == '.' && is_digit(s.p[i + 1]))
		return SIZE_FRACTION;
	ret = keel_parse_u64(s.p, i, &v);
	unit = span_of(s, skip_space(s, i), s.n);
	if (unit.n == 0)
		return SIZE_NO_UNIT;
	for (u = 0; u < ARRAY_SIZE(size_units); u++) {
		if (span_eq(unit, size_units[u].name))
			break;
	}
	if (u == ARRAY_SIZE(size_units))
		return (unit.p[0] >= 'a' && unit.p[0] <= 'z') ||
				       (unit.p[0] >= 'A' && unit.p[0] <= 'Z')
			       ? SIZE_BAD_UNIT
			       : SIZE_BAD;
	if (ret || v > UINT64_MAX >> size_units[u].shift)
		return SIZE_OVERFLOW;
	*out = v << size_units[u].shift;
	return SIZE_OK;
}

static int set_memory(struct parser *ps, const struct value *val)
{
	char buf[32], snipbuf[SNIP_MAX + 4];
	const char *shown = snip(&snipbuf, val->raw);
	enum size_error why = SIZE_BAD;
	uint64_t bytes = 0;
	struct span s;

	if (decode_trimmed(val, buf, sizeof(buf), &s))
		why = size_parse(s, &bytes);
	switch (why) {
	case SIZE_OK:
		break;
	case SIZE_BAD:
		return fail(ps, "invalid memory '%s' (expected a size such as 256M or 2G)", shown);
	case SIZE_NO_UNIT:
		return fail(ps,
			    "invalid memory '%s' (a size needs a unit: K, M, G or T, such as 256M)",
			    shown);
	case SIZE_BAD_UNIT:
		return fail(ps, "invalid memory '%s' (expected a unit K, M, G or T, such as 256M)",
			    shown);
	case SIZE_FRACTION:
		return fail(ps,
			    "invalid memory '%s' (expected a whole number: use a smaller unit, "
			    "such as 1536M for 1.5G)",
			    shown);
	case SIZE_OVERFLOW:
		return fail(ps, "memory '%s' is too large (at most 1T)", shown);
	}
	if (bytes > CONFIG_MEMORY_MAX)
		return fail(ps, "memory '%s' is too large (at most 1T)", shown);
	if (bytes < CONFIG_MEMORY_MIN)
		return fail(ps, "memory '%s' is too small (at least 1M)", shown);
	if (bytes % PAGE_SIZE)
		return fail(ps, "memory '%s' is not a multiple of 4K (the page size)", shown);
	cur_part(ps)->memory = bytes;
	cur_part(ps)->memory_line = ps->line;
	return 0;
}

static int set_kind(struct parser *ps, const struct value *val)
{
	char snipbuf[SNIP_MAX + 4];
	int kind = keyword(val, kind_names, ARRAY_SIZE(kind_names));

	if (kind < 0)
		return fail(ps, "invalid kind '%s' (expected linux, raw or multiboot)",
			    snip(&snipbuf, val->raw));
	cur_part(ps)->kind = (enum config_partition_kind)kind;
	return 0;
}

static int set_load_address(struct parser *ps, const struct value *val)
{
	char buf[24], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf));
	uint64_t addr;

	if (n >= sizeof(buf) || keel_parse_u64(buf, n, &addr))
		return fail(ps, "invalid load_address '%s' (expected an address such as 0x7c00)",
			    snip(&snipbuf, val->raw));
	if (addr >= CONFIG_LOAD_ADDRESS_LIMIT)
		return fail(ps,
			    "load_address '%s' is too high (a raw image starts in real mode: "
			    "at most 0xfffff)",
			    snip(&snipbuf, val->raw));
	cur_part(ps)->load_address = addr;
	return 0;
}

static int set_partition_console(struct parser *ps, const struct value *val)
{
	char snipbuf[SNIP_MAX + 4];
	int kind = keyword(val, console_kind_names, ARRAY_SIZE(console_kind_names));

	if (kind < 0)
		return fail(ps, "invalid console '%s' (expected serial, debug or none)",
			    snip(&snipbuf, val->raw));
	cur_part(ps)->console = (enum config_console_kind)kind;
	return 0;
}

static int set_realtime(struct parser *ps, const struct value *val)
{
	char snipbuf[SNIP_MAX + 4];
	int i = keyword(val, bool_names, ARRAY_SIZE(bool_names));

	if (i < 0)
		return fail(ps, "invalid realtime '%s' (expected yes or no)",
			    snip(&snipbuf, val->raw));
	cur_part(ps)->realtime = i & 1;
	return 0;
}

static int set_ci(struct parser *ps, const struct value *val)
{
	char snipbuf[SNIP_MAX + 4];
	int i = keyword(val, bool_names, ARRAY_SIZE(bool_names));

	if (i < 0)
		return fail(ps, "invalid ci '%s' (expected yes or no)", snip(&snipbuf, val->raw));
	ps->cfg->ci.enabled = i & 1;
	ps->cfg->ci.line = ps->line;
	return 0;
}

static int set_ci_success(struct parser *ps, const struct value *val)
{
	char buf[24], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf));
	uint64_t v;

	if (n >= sizeof(buf) || keel_parse_u64(buf, n, &v) || v > 0xffffffffull)
		return fail(ps,
			    "invalid ci_success '%s' (expected the value a partition writes to "
			    "its debug-exit port, 0 to 0xffffffff)",
			    snip(&snipbuf, val->raw));
	ps->cfg->ci.success = (uint32_t)v;
	return 0;
}

/*
 * The ports of Keel's emulated devices in a partition (docs/guest-devices.md):
 * a debug-exit port may not hide one.
 */
static const struct {
	uint16_t first, last;
	char name[24];
} device_ports[] = {
	{ 0x3f8, 0x3ff, "the UART (COM1)" },
	{ 0x70, 0x71, "the RTC" },
	{ 0x60, 0x60, "port 0x60" },
	{ 0x61, 0x61, "port 0x61" },
	{ 0x64, 0x64, "port 0x64" },
	{ 0x80, 0x80, "the POST port" },
	{ 0xe9, 0xe9, "the debug console" },
	{ 0xcf9, 0xcf9, "the reset register" },
	{ 0x600, 0x600, "the sleep register" },
	{ 0x510, 0x511, "fw_cfg" },
};

/* An I/O port ("0xf4") or none: the debug-exit device and the CI exit port. */
static int set_port(struct parser *ps, const struct key_def *def, const struct value *val,
		    uint16_t *out)
{
	char buf[24], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf));
	uint64_t port;

	if (n < sizeof(buf) && strcmp(buf, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (n >= sizeof(buf) || keel_parse_u64(buf, n, &port) || port == 0 ||
	    port > 0x10000 - CONFIG_DEBUG_EXIT_SIZE)
		return fail(ps, "invalid %s '%s' (expected an I/O port such as 0xf4, or none)",
			    def->name, snip(&snipbuf, val->raw));
	if (def->key == KEY_P_DEBUG_EXIT) {
		for (size_t i = 0; i < ARRAY_SIZE(device_ports); i++) {
			if (port <= device_ports[i].last &&
			    port + CONFIG_DEBUG_EXIT_SIZE - 1 >= device_ports[i].first)
				return fail(ps,
					    "debug_exit '%s' overlaps %s (the device decodes 4 "
					    "ports, PORT to PORT+3)",
					    snip(&snipbuf, val->raw), device_ports[i].name);
		}
	}
	*out = (uint16_t)port;
	return 0;
}

/* "a.bin, b.txt": the multiboot modules, in order. */
static int set_modules(struct parser *ps, const struct key_def *def, const struct value *val)
{
	struct config_partition *part = cur_part(ps);
	char buf[CONFIG_MODULES_MAX * CONFIG_PATH_MAX], snipbuf[SNIP_MAX + 4];
	size_t n = value_decode(val, buf, sizeof(buf)), start = 0;

	if (n >= sizeof(buf))
		return fail(ps, "modules is too long (%d bytes, at most %d)", clamp_int(n),
			    (int)sizeof(buf) - 1);
	part->nr_modules = 0;
	while (start <= n) {
		size_t end = start;
		struct span item;

		while (end < n && buf[end] != ',')
			end++;
		item = trim((struct span){ buf + start, end - start });
		if (item.n == 0)
			return fail(ps,
				    "invalid modules '%s' (empty entry: expected file names "
				    "separated by ',')",
				    snip(&snipbuf, val->raw));
		if (part->nr_modules == CONFIG_MODULES_MAX)
			return fail(ps, "too many modules (at most %d)", CONFIG_MODULES_MAX);
		if (item.n >= CONFIG_PATH_MAX)
			return fail(ps, "module path '%s' is too long (%d bytes, at most %d)",
				    snip(&snipbuf, item), clamp_int(item.n), CONFIG_PATH_MAX - 1);
		for (size_t i = 0; i < item.n; i++) {
			if (is_control((unsigned char)item.p[i]))
				return fail(ps, "path for 'modules' contains a tab or newline");
		}
		memcpy(part->modules[part->nr_modules].path, item.p, item.n);
		part->modules[part->nr_modules].path[item.n] = '\0';
		part->modules[part->nr_modules].line = ps->line;
		part->nr_modules++;
		start = end + 1;
	}
	return 0;
}

static const struct key_def key_defs[] = {
	{ "console", SECT_KEEL, KEY_CONSOLE, 0 },
	{ "baud", SECT_KEEL, KEY_BAUD, 0 },
	{ "ci", SECT_KEEL, KEY_CI, 0 },
	{ "ci_exit_port", SECT_KEEL, KEY_CI_EXIT_PORT, 0 },
	{ "ci_success", SECT_KEEL, KEY_CI_SUCCESS, 0 },
	{ "kernel", SECT_HOST, KEY_KERNEL, 0 },
	{ "initrd", SECT_HOST, KEY_INITRD, 0 },
	{ "cmdline", SECT_HOST, KEY_CMDLINE, 0 },
	{ "cpus", SECT_PARTITION, KEY_P_CPUS, KIND_ANY },
	{ "memory", SECT_PARTITION, KEY_P_MEMORY, KIND_ANY },
	{ "kind", SECT_PARTITION, KEY_P_KIND, KIND_ANY },
	{ "kernel", SECT_PARTITION, KEY_P_KERNEL, KIND_LINUX | KIND_MULTIBOOT },
	{ "initrd", SECT_PARTITION, KEY_P_INITRD, KIND_LINUX },
	{ "cmdline", SECT_PARTITION, KEY_P_CMDLINE, KIND_LINUX | KIND_MULTIBOOT },
	{ "image", SECT_PARTITION, KEY_P_IMAGE, KIND_RAW },
	{ "load_address", SECT_PARTITION, KEY_P_LOAD_ADDRESS, KIND_RAW },
	{ "console", SECT_PARTITION, KEY_P_CONSOLE, KIND_ANY },
	{ "realtime", SECT_PARTITION, KEY_P_REALTIME, KIND_ANY },
	{ "modules", SECT_PARTITION, KEY_P_MODULES, KIND_MULTIBOOT },
	{ "debug_exit", SECT_PARTITION, KEY_P_DEBUG_EXIT, KIND_ANY },
};

static int set_value(struct parser *ps, const struct key_def *def, const struct value *val)
{
	struct config_host *host = &ps->cfg->host;

	switch (def->key) {
	case KEY_CONSOLE:
		return set_console(ps, def, val);
	case KEY_BAUD:
		return set_baud(ps, def, val);
	case KEY_CI:
		return set_ci(ps, val);
	case KEY_CI_EXIT_PORT:
		return set_port(ps, def, val, &ps->cfg->ci.exit_port);
	case KEY_CI_SUCCESS:
		return set_ci_success(ps, val);
	case KEY_KERNEL:
		return set_path(ps, def, val, &host->kernel);
	case KEY_INITRD:
		return set_path(ps, def, val, &host->initrd);
	case KEY_CMDLINE:
		return set_cmdline(ps, val, host->cmdline, sizeof(host->cmdline));
	case KEY_P_CPUS:
		return set_cpus(ps, val);
	case KEY_P_MEMORY:
		return set_memory(ps, val);
	case KEY_P_KIND:
		return set_kind(ps, val);
	case KEY_P_KERNEL:
		return set_path(ps, def, val, &cur_part(ps)->kernel);
	case KEY_P_INITRD:
		return set_path(ps, def, val, &cur_part(ps)->initrd);
	case KEY_P_CMDLINE:
		return set_cmdline(ps, val, cur_part(ps)->cmdline, sizeof(cur_part(ps)->cmdline));
	case KEY_P_IMAGE:
		return set_path(ps, def, val, &cur_part(ps)->image);
	case KEY_P_LOAD_ADDRESS:
		return set_load_address(ps, val);
	case KEY_P_CONSOLE:
		return set_partition_console(ps, val);
	case KEY_P_REALTIME:
		return set_realtime(ps, val);
	case KEY_P_MODULES:
		return set_modules(ps, def, val);
	case KEY_P_DEBUG_EXIT:
		return set_port(ps, def, val, &cur_part(ps)->debug_exit_port);
	case KEY_COUNT:
		break;
	}
	return -EINVAL;
}

/*
 * The definition of key in section, or failing that in another section (for
 * a hint; the first in the table, so "kernel" in [keel] points at [host]).
 */
static const struct key_def *find_key(enum section section, struct span key)
{
	const struct key_def *other = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(key_defs); i++) {
		if (!span_eq(key, key_defs[i].name))
			continue;
		if (key_defs[i].section == section)
			return &key_defs[i];
		if (!other)
			other = &key_defs[i];
	}
	return other;
}

/*
 * [partition NAME] opens a new partition. Its keys start afresh, and what
 * depends on the whole section is checked by finish_partition().
 */
static int begin_partition(struct parser *ps, struct span name)
{
	struct keel_config *cfg = ps->cfg;
	char snipbuf[SNIP_MAX + 4];
	struct config_partition *part;

	if (name.n == 0)
		return fail(ps, "missing partition name (expected [partition NAME])");
	for (size_t i = 0; i < name.n; i++) {
		if (!is_name_char(name.p[i]))
			return fail(ps,
				    "invalid partition name '%s' "
				    "(expected 1 to %d characters: a-z, 0-9, '_' or '-')",
				    snip(&snipbuf, name), CONFIG_NAME_MAX - 1);
	}
	if (name.n >= CONFIG_NAME_MAX)
		return fail(ps, "partition name '%s' is too long (%d characters, at most %d)",
			    snip(&snipbuf, name), clamp_int(name.n), CONFIG_NAME_MAX - 1);
	if (span_eq(name, "host") || span_eq(name, "keel"))
		return fail(ps, "partition name '%s' is reserved (choose another name)",
			    snip(&snipbuf, name));
	for (uint32_t i = 0; i < cfg->nr_partitions; i++) {
		if (span_eq(name, cfg->partitions[i].name))
			return fail(ps, "duplicate partition '%s' (first defined on line %d)",
				    cfg->partitions[i].name, cfg->partitions[i].line);
	}
	if (cfg->nr_partitions == CONFIG_MAX_PARTITIONS)
		return fail(ps, "too many partitions (at most %d)", CONFIG_MAX_PARTITIONS);

	part = &cfg->partitions[cfg->nr_partitions++];
	memcpy(part->name, name.p, name.n);
	part->name[name.n] = '\0';
	part->line = ps->line;
	part->load_address = CONFIG_DEFAULT_LOAD_ADDRESS;
	part->debug_exit_port = CONFIG_DEBUG_EXIT_PORT;
	for (int k = KEY_P_FIRST; k < KEY_COUNT; k++)
		ps->key_line[k] = 0;
	ps->section = SECT_PARTITION;
	return 0;
}

/* "linux or multiboot": the kinds in a KIND_* mask, for messages. */
static const char *kinds_str(char (*buf)[40], uint8_t kinds)
{
	int n = 0, total = 0;

	for (int k = 0; k < (int)ARRAY_SIZE(kind_names); k++)
		total += (kinds >> k) & 1;
	(*buf)[0] = '\0';
	for (int k = 0; k < (int)ARRAY_SIZE(kind_names); k++) {
		size_t len = strlen(*buf);

		if (!((kinds >> k) & 1))
			continue;
		snprintf(*buf + len, sizeof(*buf) - len, "%s%s",
			 n == 0		  ? ""
			 : n == total - 1 ? " or "
					  : ", ",
			 kind_names[k]);
		n++;
	}
	return *buf;
}

/*
 * The checks a partition needs its whole section for: keys of the other kind
 * (kind may come last) and missing keys.
 */
static int finish_partition(struct parser *ps)
{
	const struct config_partition *part = cur_part(ps);
	const struct key_def *bad = NULL;
	char kinds[40];

	for (size_t i = 0; i < ARRAY_SIZE(key_defs); i++) {
		const struct key_def *def = &key_defs[i];

		if (def->section != SECT_PARTITION || !ps->key_line[def->key] ||
		    (def->kinds & (1u << part->kind)))
			continue;
		if (!bad || ps->key_line[def->key] < ps->key_line[bad->key])
			bad = def;
	}
	if (bad) {
		ps->line = ps->key_line[bad->key];
		if (!ps->key_line[KEY_P_KIND])
			return fail(ps,
				    "'%s' is not valid in a linux partition, the default kind "
				    "(add 'kind = %s' for a %s)",
				    bad->name, (bad->kinds & KIND_RAW) ? "raw" : "multiboot",
				    (bad->kinds & KIND_RAW) ? "raw image" : "multiboot kernel");
		return fail(ps, "'%s' is not valid in a %s partition (it is for kind = %s)",
			    bad->name, kind_names[part->kind], kinds_str(&kinds, bad->kinds));
	}

	ps->line = part->line;
	if (!ps->key_line[KEY_P_CPUS])
		return fail(ps,
			    "[partition %s] has no 'cpus = ...' "
			    "(expected a count such as 2, or CPUs such as 2-3)",
			    part->name);
	if (!ps->key_line[KEY_P_MEMORY])
		return fail(ps,
			    "[partition %s] has no 'memory = ...' (expected a size such as 256M)",
			    part->name);
	if (part->kind != CONFIG_PARTITION_RAW && !ps->key_line[KEY_P_KERNEL])
		return fail(ps,
			    "[partition %s] has no 'kernel = ...' (a %s partition needs a kernel)",
			    part->name, kind_names[part->kind]);
	if (part->kind == CONFIG_PARTITION_RAW && !ps->key_line[KEY_P_IMAGE])
		return fail(ps,
			    "[partition %s] has no 'image = ...' (a raw partition needs an image)",
			    part->name);
	return 0;
}

/* The end of a section, at the next header or the end of the file. */
static int end_section(struct parser *ps)
{
	int line = ps->line, ret = 0;

	if (ps->section == SECT_PARTITION)
		ret = finish_partition(ps);
	if (!ret)
		ps->line = line;
	ps->section = SECT_NONE;
	return ret;
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
		return fail(ps, "empty section name (expected " SECTIONS ")");

	while (word < name.n && !is_space(name.p[word]))
		word++;
	if (span_eq(span_of(name, 0, word), "partition"))
		return begin_partition(ps, trim(span_of(name, word, name.n)));

	for (sect = SECT_NONE + 1; sect < SECT_COUNT; sect++) {
		if (sect != SECT_PARTITION && span_eq(name, section_names[sect]))
			break;
	}
	if (sect == SECT_COUNT)
		return fail(ps, "unknown section '%s' (expected " SECTIONS ")",
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

/* "keel", "host" or "partition NAME", for messages. */
static void section_label(struct parser *ps, char (*buf)[CONFIG_NAME_MAX + 12])
{
	if (ps->section == SECT_PARTITION)
		snprintf(*buf, sizeof(*buf), "partition %s", cur_part(ps)->name);
	else
		keel_strlcpy(*buf, section_names[ps->section], sizeof(*buf));
}

static int parse_assignment(struct parser *ps, struct span line, size_t start)
{
	char snipbuf[SNIP_MAX + 4], label[CONFIG_NAME_MAX + 12];
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
		return fail(ps, "key '%s' is outside any section (expected " SECTIONS " first)",
			    snip(&snipbuf, key));

	section_label(ps, &label);
	def = find_key(ps->section, key);
	if (!def)
		return fail(ps, "unknown key '%s' in [%s] (expected %s)", snip(&snipbuf, key),
			    label, section_keys[ps->section]);
	if (ps->section == SECT_HOST && def->section == SECT_PARTITION &&
	    (def->key == KEY_P_CPUS || def->key == KEY_P_MEMORY))
		return fail(ps,
			    "unknown key '%s' in [host] (the host gets the CPUs and memory "
			    "that partitions leave)",
			    def->name);
	if (def->section != ps->section)
		return fail(ps, "unknown key '%s' in [%s] ('%s' belongs in %s)", def->name, label,
			    def->name, section_headers[def->section]);
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
	if (line.p[i] == '[') {
		ret = end_section(ps);
		return ret ? ret : parse_header(ps, line, i);
	}
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
	cfg->ci.exit_port = CONFIG_DEBUG_EXIT_PORT;
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

	ret = end_section(&ps);
	if (ret)
		return ret;
	ps.line = 0;
	/* Without [host], guest partitions alone run; CPU 0 stays idle in Keel. */
	if (!ps.section_line[SECT_HOST] && !cfg->nr_partitions)
		return fail(&ps, "no [host] section: the host partition needs at least "
				 "'kernel = ...'");
	cfg->host.present = ps.section_line[SECT_HOST] != 0;
	if (!cfg->host.present)
		return 0;
	if (!ps.key_line[KEY_KERNEL]) {
		ps.line = ps.section_line[SECT_HOST];
		return fail(&ps,
			    "[host] has no 'kernel = ...' (the host partition needs a kernel)");
	}
	if (cfg->ci.enabled && !cfg->nr_partitions) {
		ps.line = cfg->ci.line;
		return fail(&ps, "ci = yes, but there is no [partition NAME] to wait for");
	}
	return 0;
}

int config_parse_size(const char *s, size_t len, uint64_t *bytes)
{
	struct span text = { s, len };

	switch (size_parse(trim(text), bytes)) {
	case SIZE_OK:
		return 0;
	case SIZE_OVERFLOW:
		return -ERANGE;
	default:
		return -EINVAL;
	}
}

/* "4 CPUs: 0-3", for messages about the machine. */
static const char *machine_cpus(char (*buf)[64], uint32_t nr_cpus_online)
{
	if (nr_cpus_online == 0)
		keel_strlcpy(*buf, "no CPUs", sizeof(*buf));
	else if (nr_cpus_online == 1)
		keel_strlcpy(*buf, "1 CPU: 0", sizeof(*buf));
	else if (nr_cpus_online <= CONFIG_PARTITION_CPUS)
		snprintf(*buf, sizeof(*buf), "%d CPUs: 0-%d", clamp_int(nr_cpus_online),
			 clamp_int(nr_cpus_online) - 1);
	else
		snprintf(*buf, sizeof(*buf), "%d CPUs, of which partitions can use 1-%d",
			 clamp_int(nr_cpus_online), CONFIG_PARTITION_CPUS - 1);
	return *buf;
}

int config_assign_cpus(const struct keel_config *cfg, uint32_t nr_cpus_online,
		       uint64_t masks_out[CONFIG_MAX_PARTITIONS], struct config_error *err)
{
	uint32_t limit = MIN(nr_cpus_online, (uint32_t)CONFIG_PARTITION_CPUS), total = 0, i;
	/* CPU 0 runs the host; without one, a count may take it too (the highest CPUs go first). */
	uint64_t used = cfg->host.present ? 1 : 0;
	uint32_t first = cfg->host.present ? 1 : 0;
	char what[64];

	err->line = 0;
	err->msg[0] = '\0';
	for (i = 0; i < CONFIG_MAX_PARTITIONS; i++)
		masks_out[i] = 0;
	for (i = 0; i < cfg->nr_partitions; i++)
		total += cfg->partitions[i].nr_cpus;

	/* Lists first: a count takes what they leave. */
	for (i = 0; i < cfg->nr_partitions; i++) {
		const struct config_partition *p = &cfg->partitions[i];
		uint64_t taken = p->cpu_mask & used;
		uint64_t missing =
			limit < CONFIG_PARTITION_CPUS ? p->cpu_mask >> limit << limit : 0;

		if (!p->cpu_mask)
			continue;
		if (missing)
			return fail_at(err, p->cpus_line,
				       "[partition %s] cpus: CPU %d does not exist "
				       "(this machine has %s)",
				       p->name, lowest_cpu(missing),
				       machine_cpus(&what, nr_cpus_online));
		/* config_parse() rules these out; a config built by other means may not. */
		if (taken)
			return fail_at(err, p->cpus_line,
				       "[partition %s] cpus: CPU %d is not free (the host or "
				       "another partition has it)",
				       p->name, lowest_cpu(taken));
		used |= p->cpu_mask;
		masks_out[i] = p->cpu_mask;
	}

	/* Counts, in file order, from the top down: deterministic, and clear of the lists. */
	for (i = 0; i < cfg->nr_partitions; i++) {
		const struct config_partition *p = &cfg->partitions[i];
		uint32_t need = p->nr_cpus, cpu = limit;
		uint64_t mask = 0;

		if (p->cpu_mask)
			continue;
		while (need && cpu-- > first) {
			if (!(used & (1ull << cpu))) {
				mask |= 1ull << cpu;
				need--;
			}
		}
		if (need)
			return fail_at(
				err, p->cpus_line,
				"[partition %s] cpus: not enough CPUs (partitions ask for %d "
				"in all; this machine has %s%s)",
				p->name, clamp_int(total), machine_cpus(&what, nr_cpus_online),
				cfg->host.present ? ", and CPU 0 runs the host" : "");
		used |= mask;
		masks_out[i] = mask;
	}
	return 0;
}

int config_check_machine(const struct keel_config *cfg, uint32_t nr_cpus_online,
			 uint64_t free_ram_bytes, struct config_error *err)
{
	uint64_t masks[CONFIG_MAX_PARTITIONS], total = 0, sum = 0, left;
	char total_s[24], left_s[24], free_s[24], host_s[24];
	int ret = config_assign_cpus(cfg, nr_cpus_online, masks, err);

	if (ret)
		return ret;
	left = !cfg->host.present		      ? free_ram_bytes
	       : free_ram_bytes > CONFIG_HOST_MIN_RAM ? free_ram_bytes - CONFIG_HOST_MIN_RAM
						      : 0;
	for (uint32_t i = 0; i < cfg->nr_partitions; i++)
		total += cfg->partitions[i].memory;
	for (uint32_t i = 0; i < cfg->nr_partitions; i++) {
		const struct config_partition *p = &cfg->partitions[i];

		sum += p->memory;
		if (sum <= left)
			continue;
		/* The machine's sizes are rarely round: whole MiB, rounded down, read better. */
		size_str(&total_s, total);
		size_str(&free_s,
			 free_ram_bytes < MiB ? free_ram_bytes : ALIGN_DOWN(free_ram_bytes, MiB));
		size_str(&host_s, CONFIG_HOST_MIN_RAM);
		if (!cfg->host.present)
			return fail_at(err, p->memory_line,
				       "[partition %s] memory: partitions ask for %s in all, but "
				       "this machine has only %s of free RAM",
				       p->name, total_s, free_s);
		if (!left)
			return fail_at(
				err, p->memory_line,
				"[partition %s] memory: partitions ask for %s in all, but none "
				"is left for them (%s of free RAM; the host keeps at least %s)",
				p->name, total_s, free_s, host_s);
		return fail_at(err, p->memory_line,
			       "[partition %s] memory: partitions ask for %s in all, but only %s "
			       "is left for them (%s of free RAM; the host keeps at least %s)",
			       p->name, total_s,
			       size_str(&left_s, left < MiB ? left : ALIGN_DOWN(left, MiB)), free_s,
			       host_s);
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
