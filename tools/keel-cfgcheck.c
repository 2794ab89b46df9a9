// SPDX-License-Identifier: MIT
/*
 * keel-cfgcheck [--cpus N --memory SIZE] FILE...: check keel.cfg files on the
 * build host with the very parser the hypervisor and the UEFI loader use
 * (hv/config.c), so a config that passes here is not rejected at boot for its
 * syntax. With --cpus and --memory it also runs the core's check against the
 * machine (config_check_machine) for a machine with N CPUs and SIZE of free
 * RAM, and shows which CPUs each partition would get.
 *
 * Exit status: 0 if every file is valid, 1 if any is not, 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

/* Far beyond any real keel.cfg; stops "keel-cfgcheck /dev/zero" from eating memory. */
#define MAX_FILE_SIZE (16u << 20)

/* Far beyond any machine Keel runs on; catches a size typed as a CPU count. */
#define MAX_MACHINE_CPUS 4096

/* The machine described by --cpus and --memory; nr_cpus 0 when not given. */
struct machine {
	uint32_t nr_cpus;
	uint64_t free_ram;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: keel-cfgcheck [--cpus N --memory SIZE] FILE...\n"
		"Check Keel configuration files (see docs/config.md); '-' reads stdin.\n"
		"  --cpus N       also check against a machine with N CPUs (Keel's CPU 0 runs\n"
		"                 the host)\n"
		"  --memory SIZE  ... and SIZE of RAM free for the host and the partitions\n"
		"                 (such as 16G; Keel's own memory not counted)\n");
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

/* A size the way keel.cfg writes it, in the largest unit that divides it. */
static const char *size_str(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int u = 0;

	while (u < 4 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, size, "%" PRIu64 "%c", bytes, units[u - 1]);
	else
		snprintf(buf, size, "%" PRIu64 " bytes", bytes);
	return buf;
}

/* "CPU 3" or "CPUs 1,3-5"; CPUs from 64 up (the host's only) are given as first_high-last. */
static const char *cpus_str(char *buf, size_t size, uint64_t mask, uint32_t first_high,
			    uint32_t last_high)
{
	size_t n = 0;
	int count = 0;

	buf[0] = '\0';
	for (int cpu = 0; cpu < 64; cpu++) {
		int last = cpu;

		if (!(mask & (1ull << cpu)))
			continue;
		while (last < 63 && (mask & (1ull << (last + 1))))
			last++;
		count += last - cpu + 1;
		if (last == cpu)
			n += snprintf(buf + n, size - n, "%s%d", n ? "," : "", cpu);
		else
			n += snprintf(buf + n, size - n, "%s%d-%d", n ? "," : "", cpu, last);
		cpu = last;
		if (n >= size)
			return buf;
	}
	if (first_high <= last_high) {
		count += (int)(last_high - first_high + 1);
		if (first_high == last_high)
			snprintf(buf + n, size - n, "%s%u", n ? "," : "", first_high);
		else
			snprintf(buf + n, size - n, "%s%u-%u", n ? "," : "", first_high, last_high);
	}
	/* Put "CPU "/"CPUs " in front. */
	n = strlen(buf);
	if (n + 6 < size) {
		const char *word = count == 1 ? "CPU " : "CPUs ";

		memmove(buf + strlen(word), buf, n + 1);
		memcpy(buf, word, strlen(word));
	}
	return buf;
}

static void print_path(const char *label, const struct config_file *f)
{
	if (f->path[0])
		printf("%s%s (line %d)\n", label, f->path, f->line);
	else
		printf("%snone\n", label);
}

static void print_cmdline(const char *label, const char *cmdline)
{
	fputs(label, stdout);
	if (cmdline[0])
		print_quoted(cmdline);
	else
		fputs("none", stdout);
	putchar('\n');
}

static void print_partition(const struct config_partition *p)
{
	char buf[256];
	uint16_t cs, ip;

	printf("  partition %s (line %d): %s\n", p->name, p->line,
	       p->kind == CONFIG_PARTITION_RAW	       ? "raw"
	       : p->kind == CONFIG_PARTITION_MULTIBOOT ? "multiboot"
						       : "linux");
	if (p->cpu_mask)
		printf("    cpus:     %s (line %d)\n",
		       cpus_str(buf, sizeof(buf), p->cpu_mask, 1, 0), p->cpus_line);
	else
		printf("    cpus:     %u, the highest free CPU%s at boot (line %d)\n", p->nr_cpus,
		       p->nr_cpus == 1 ? "" : "s", p->cpus_line);
	printf("    memory:   %s (line %d)\n", size_str(buf, sizeof(buf), p->memory),
	       p->memory_line);
	if (p->kind == CONFIG_PARTITION_RAW) {
		config_raw_entry(p->load_address, &cs, &ip);
		print_path("    image:    ", &p->image);
		printf("    start:    loaded at 0x%" PRIx64 ", started in real mode at %04x:%04x\n",
		       p->load_address, cs, ip);
	} else if (p->kind == CONFIG_PARTITION_MULTIBOOT) {
		print_path("    kernel:   ", &p->kernel);
		print_cmdline("    cmdline:  ", p->cmdline);
		if (!p->nr_modules)
			printf("    modules:  none\n");
		for (uint32_t i = 0; i < p->nr_modules; i++)
			printf("    module %u: %s (line %d)\n", i + 1, p->modules[i].path,
			       p->modules[i].line);
	} else {
		print_path("    kernel:   ", &p->kernel);
		print_path("    initrd:   ", &p->initrd);
		print_cmdline("    cmdline:  ", p->cmdline);
	}
	switch (p->console) {
	case CONFIG_CONSOLE_SERIAL:
		printf("    console:  serial (16550 UART at 0x3f8, and port 0xe9)\n");
		break;
	case CONFIG_CONSOLE_DEBUG:
		printf("    console:  debug (port 0xe9)\n");
		break;
	case CONFIG_CONSOLE_NONE:
		printf("    console:  none\n");
		break;
	}
	printf("    realtime: %s\n", p->realtime ? "yes" : "no");
	if (p->debug_exit_port)
		printf("    debug_exit: ports 0x%x-0x%x\n", p->debug_exit_port,
		       p->debug_exit_port + CONFIG_DEBUG_EXIT_SIZE - 1);
	else
		printf("    debug_exit: none\n");
}

/* What each partition and the host get on the machine; config_check_machine() passed. */
static void print_machine(const struct keel_config *cfg, const struct machine *m)
{
	uint64_t masks[CONFIG_MAX_PARTITIONS], host = 0, used = 0, total = 0;
	uint32_t limit = m->nr_cpus < 64 ? m->nr_cpus : 64;
	struct config_error err;
	char buf[256], size[32];
	int width = 5; /* "host:" */

	if (config_assign_cpus(cfg, m->nr_cpus, masks, &err))
		return; /* cannot happen: the check passed */
	for (uint32_t i = 0; i < cfg->nr_partitions; i++) {
		int n = (int)strlen(cfg->partitions[i].name) + 1;

		used |= masks[i];
		total += cfg->partitions[i].memory;
		width = n > width ? n : width;
	}
	for (uint32_t cpu = 0; cpu < limit; cpu++) {
		if (!(used & (1ull << cpu)))
			host |= 1ull << cpu;
	}
	printf("  machine: %u CPU%s, %s of free RAM: ok\n", m->nr_cpus, m->nr_cpus == 1 ? "" : "s",
	       size_str(size, sizeof(size), m->free_ram));
	if (cfg->host.present)
		printf("    %-*s %s, %s\n", width,
		       "host:", cpus_str(buf, sizeof(buf), host, 64, m->nr_cpus - 1),
		       size_str(size, sizeof(size), m->free_ram - total));
	else if (host)
		printf("    %-*s %s (no host)\n", width,
		       "idle:", cpus_str(buf, sizeof(buf), host, 64, m->nr_cpus - 1));
	for (uint32_t i = 0; i < cfg->nr_partitions; i++) {
		char label[CONFIG_NAME_MAX + 1];

		snprintf(label, sizeof(label), "%s:", cfg->partitions[i].name);
		printf("    %-*s %s, %s\n", width, label,
		       cpus_str(buf, sizeof(buf), masks[i], 1, 0),
		       size_str(size, sizeof(size), cfg->partitions[i].memory));
	}
}

static void print_summary(const char *name, const struct keel_config *cfg, const struct machine *m)
{
	printf("%s: ok\n", name);
	if (cfg->console.port)
		printf("  console: %s (port 0x%x), %u baud\n", console_name(cfg->console.port),
		       cfg->console.port, cfg->console.baud);
	else
		printf("  console: none\n");
	if (!cfg->host.present) {
		printf("  host:    none (only the partitions run)\n");
	} else {
		printf("  kernel:  %s (line %d)\n", cfg->host.kernel.path, cfg->host.kernel.line);
		if (cfg->host.initrd.path[0])
			printf("  initrd:  %s (line %d)\n", cfg->host.initrd.path,
			       cfg->host.initrd.line);
		else
			printf("  initrd:  none\n");
		print_cmdline("  cmdline: ", cfg->host.cmdline);
	}
	if (cfg->ci.enabled && cfg->ci.exit_port)
		printf("  ci:      yes (line %d): success is debug-exit value 0x%x; the result "
		       "goes "
		       "to port 0x%x\n",
		       cfg->ci.line, cfg->ci.success, cfg->ci.exit_port);
	else if (cfg->ci.enabled)
		printf("  ci:      yes (line %d): success is debug-exit value 0x%x; no exit port\n",
		       cfg->ci.line, cfg->ci.success);
	for (uint32_t i = 0; i < cfg->nr_partitions; i++)
		print_partition(&cfg->partitions[i]);
	if (m->nr_cpus)
		print_machine(cfg, m);
}

static int check(const char *name, const struct machine *m)
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
	if (!ret && m->nr_cpus)
		ret = config_check_machine(&cfg, m->nr_cpus, m->free_ram, &err);
	if (ret) {
		config_format_error(msg, sizeof(msg), name, &err);
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	print_summary(name, &cfg, m);
	return 0;
}

/* The value of option opt: "--opt=VALUE" or "--opt VALUE"; NULL if it is not opt. */
static const char *option_value(const char *opt, int argc, char **argv, int *i)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 == argc) {
		fprintf(stderr, "keel-cfgcheck: %s needs a value\n", opt);
		exit(2);
	}
	return argv[++*i];
}

static uint32_t parse_cpus_option(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < 1 ||
	    v > MAX_MACHINE_CPUS) {
		fprintf(stderr, "keel-cfgcheck: invalid --cpus '%s' (expected 1 to %d)\n", s,
			MAX_MACHINE_CPUS);
		exit(2);
	}
	return (uint32_t)v;
}

static uint64_t parse_memory_option(const char *s)
{
	uint64_t bytes;

	if (config_parse_size(s, strlen(s), &bytes) || bytes == 0) {
		fprintf(stderr,
			"keel-cfgcheck: invalid --memory '%s' (expected a size such as 16G: "
			"K, M, G or T)\n",
			s);
		exit(2);
	}
	return bytes;
}

int main(int argc, char **argv)
{
	struct machine m = { 0, 0 };
	bool have_memory = false;
	int status = 0, i;

	for (i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if ((v = option_value("--cpus", argc, argv, &i))) {
			m.nr_cpus = parse_cpus_option(v);
		} else if ((v = option_value("--memory", argc, argv, &i))) {
			m.free_ram = parse_memory_option(v);
			have_memory = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "keel-cfgcheck: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	if (!m.nr_cpus != !have_memory) {
		fprintf(stderr, "keel-cfgcheck: --cpus and --memory go together "
				"(they describe one machine)\n");
		return 2;
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (; i < argc; i++) {
		if (check(argv[i], &m))
			status = 1;
	}
	return status;
}
