// SPDX-License-Identifier: MIT
/*
 * mbtest: a multiboot v1 test kernel (tests/guest/mb/README.md). It checks
 * what its loader promised (EAX, the information structure, the memory map,
 * its command line and modules), reads the CPU count and RAM size through
 * fw_cfg, starts every AP with INIT and a STARTUP IPI with vector 0, prints
 * on COM1 and ends with a write to the debug-exit port: the `pass` value
 * when every check passed, the `fail` value otherwise.
 *
 * Command line (after the kernel's name): pass=V fail=V (default 0 and 1),
 * exit_port=P (default 0xf4), module=TEXT (module 1 must start with TEXT),
 * cpus=N (fw_cfg must say N CPUs).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define COM1 0x3f8
#define LAPIC 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_INIT 0x00004500u	/* INIT, level assert */
#define ICR_STARTUP 0x00004600u /* STARTUP, vector in bits 7:0 */
#define ICR_BUSY (1u << 12)
#define MAX_APS 16

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct mb_mod {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

extern char ap_trampoline[], ap_trampoline_end[], __load_start[], __bss_end[];
extern volatile uint32_t ap_count;

void kmain(uint32_t magic, const struct mb_info *info);
void ap_main(uint32_t n);

static volatile uint32_t print_lock;
static volatile uint32_t ap_apic_id[MAX_APS];
/*
 * APs that have printed their line. ap_count (entry.asm) counts arrivals;
 * the BSP waits for this one, so it never ends the partition while an AP's
 * line is still unprinted (a slow AP vCPU would lose it).
 */
static volatile uint32_t ap_reported;
static unsigned int passed, failed;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint32_t mmio_read(uint32_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static void putc_serial(char c)
{
	if (c == '\n')
		putc_serial('\r');
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_u(uint32_t v, unsigned int base, int width)
{
	char buf[12];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width)
		buf[n++] = '0';
	while (n)
		putc_serial(buf[--n]);
}

/* %s %u %x %c, and %0Nx: all this kernel needs. */
static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0;

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 's':
			for (const char *s = va_arg(ap, const char *); *s; s++)
				putc_serial(*s);
			break;
		case 'u':
			put_u(va_arg(ap, uint32_t), 10, width);
			break;
		case 'x':
			put_u(va_arg(ap, uint32_t), 16, width);
			break;
		case 'c':
			putc_serial((char)va_arg(ap, int));
			break;
		default:
			putc_serial('?');
		}
	}
}

static void print(const char *fmt, ...)
{
	va_list ap;

	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	if (ok) {
		passed++;
		puts_serial("mbtest: PASS ");
		puts_serial(name);
		putc_serial('\n');
	} else {
		failed++;
		puts_serial("mbtest: FAIL ");
		puts_serial(name);
		puts_serial(": ");
		va_start(ap, fmt);
		vprint(fmt, ap);
		va_end(ap);
		putc_serial('\n');
	}
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static bool str_starts(const char *s, const char *prefix, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != prefix[i])
			return false;
	return true;
}

static uint32_t parse_num(const char *s, size_t n)
{
	uint32_t v = 0, base = 10;

	if (n > 2 && s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		uint32_t d = c >= 'a' ? (uint32_t)(c - 'a' + 10) : (uint32_t)(c - '0');

		v = v * base + d;
	}
	return v;
}

struct options {
	uint32_t pass, fail, cpus;
	uint16_t exit_port;
	const char *module;
	size_t module_len;
};

/* "name pass=0x10 module=hello": the first word is the kernel's name. */
static void parse_cmdline(const char *c, struct options *o)
{
	while (*c && *c != ' ')
		c++;
	while (*c) {
		const char *w;
		size_t n = 0;

		while (*c == ' ')
			c++;
		w = c;
		while (c[n] && c[n] != ' ')
			n++;
		if (n > 5 && str_starts(w, "pass=", 5))
			o->pass = parse_num(w + 5, n - 5);
		else if (n > 5 && str_starts(w, "fail=", 5))
			o->fail = parse_num(w + 5, n - 5);
		else if (n > 5 && str_starts(w, "cpus=", 5))
			o->cpus = parse_num(w + 5, n - 5);
		else if (n > 10 && str_starts(w, "exit_port=", 10))
			o->exit_port = (uint16_t)parse_num(w + 10, n - 10);
		else if (n > 7 && str_starts(w, "module=", 7)) {
			o->module = w + 7;
			o->module_len = n - 7;
		}
		c += n;
	}
}

/* fw_cfg (QEMU's docs/specs/fw_cfg.rst): select with a 16-bit write, read bytes. */
static void fw_cfg_read(uint16_t key, void *buf, size_t n)
{
	outw(0x510, key);
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = inb(0x511);
}

void ap_main(uint32_t n)
{
	uint32_t id = mmio_read(LAPIC + LAPIC_ID) >> 24;

	if (n < MAX_APS)
		ap_apic_id[n] = id + 1;
	print("mbtest: AP %u up (apic id %u, cr0 0x%x)\n", n + 1, id, read_cr0());
	__atomic_add_fetch(&ap_reported, 1, __ATOMIC_RELEASE);
}

static void send_ipi(uint32_t apic_id, uint32_t icr)
{
	mmio_write(LAPIC + LAPIC_ICR_HI, apic_id << 24);
	mmio_write(LAPIC + LAPIC_ICR_LO, icr);
	for (int i = 0; i < 1000000 && (mmio_read(LAPIC + LAPIC_ICR_LO) & ICR_BUSY); i++)
		__asm__ volatile("pause");
}

static bool wait_aps(uint32_t want, uint32_t spins)
{
	for (uint32_t i = 0; i < spins; i++) {
		if (__atomic_load_n(&ap_reported, __ATOMIC_ACQUIRE) >= want)
			return true;
		__asm__ volatile("pause");
	}
	return __atomic_load_n(&ap_reported, __ATOMIC_ACQUIRE) >= want;
}

/* INIT, then STARTUP with vector 0 (the trampoline at 0000:0000), to each AP in turn. */
static void start_aps(uint32_t nr_cpus, uint32_t bsp_id)
{
	volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)0;
	size_t len = (size_t)(ap_trampoline_end - ap_trampoline);
	uint32_t want = 0;
	bool seen[MAX_APS + 1] = { false };
	bool ok = true;

	for (size_t i = 0; i < len; i++)
		dst[i] = (uint8_t)ap_trampoline[i];
	for (uint32_t id = 0; id < nr_cpus && want < MAX_APS; id++) {
		if (id == bsp_id)
			continue;
		want++;
		send_ipi(id, ICR_INIT);
		send_ipi(id, ICR_STARTUP | 0);
		if (!wait_aps(want, 20000000)) {
			send_ipi(id, ICR_STARTUP | 0); /* a second STARTUP, as the MP spec says */
			wait_aps(want, 500000000);
		}
	}
	check(ap_count == want, "aps_started", "%u of %u APs reported in", ap_count, want);
	for (uint32_t i = 0; i < ap_count && i < MAX_APS; i++) {
		uint32_t id = ap_apic_id[i] - 1;

		if (!ap_apic_id[i] || id >= nr_cpus || id == bsp_id || seen[id])
			ok = false;
		else
			seen[id] = true;
	}
	check(ok, "ap_apic_ids", "APIC IDs not distinct or out of range");
}

static bool in_usable_ram(const struct mb_info *info, uint32_t start, uint32_t end)
{
	for (uint32_t off = 0; off < info->mmap_length;) {
		const struct mb_mmap *e = (const struct mb_mmap *)(info->mmap_addr + off);

		if (e->type == 1 && e->addr <= start && end <= e->addr + e->len)
			return true;
		off += e->size + 4;
	}
	return false;
}

static void check_modules(const struct mb_info *info, const struct options *o)
{
	const struct mb_mod *m = (const struct mb_mod *)info->mods_addr;

	if (!o->module) {
		check(!(info->flags & (1u << 3)) || info->mods_count == 0 || m[0].start, "modules",
		      "bad module list");
		return;
	}
	if (!(info->flags & (1u << 3)) || info->mods_count < 1) {
		check(false, "module_present", "no module (flags 0x%x, count %u)", info->flags,
		      info->mods_count);
		return;
	}
	check(true, "module_present", "");
	print("mbtest: module 1: '%s' at 0x%x-0x%x\n", (const char *)m[0].string, m[0].start,
	      m[0].end);
	check((m[0].start & 0xfff) == 0, "module_page_aligned", "start 0x%x", m[0].start);
	check(in_usable_ram(info, m[0].start, m[0].end), "module_in_ram", "0x%x-0x%x", m[0].start,
	      m[0].end);
	check(m[0].end - m[0].start >= o->module_len &&
		      str_starts((const char *)m[0].start, o->module, o->module_len),
	      "module_contents", "module 1 does not start with the text on the command line");
}

void kmain(uint32_t magic, const struct mb_info *info)
{
	struct options o = { .pass = 0, .fail = 1, .exit_port = 0xf4 };
	char sig[5] = { 0 };
	uint64_t ram = 0;
	uint16_t cpus = 0;
	uint32_t cr0 = read_cr0(), bsp_id, value;

	print("mbtest: multiboot v1 test kernel, eax 0x%x, ebx 0x%x\n", magic, (uint32_t)info);
	check(magic == 0x2badb002, "magic", "eax 0x%x", magic);
	check((cr0 & 1) && !(cr0 & 0x80000000u), "protected_mode_paging_off", "cr0 0x%x", cr0);
	if (magic != 0x2badb002) {
		outl(o.exit_port, o.fail);
		return;
	}
	if (info->flags & (1u << 2)) {
		print("mbtest: command line: '%s'\n", (const char *)info->cmdline);
		parse_cmdline((const char *)info->cmdline, &o);
	}
	if (info->flags & (1u << 9))
		print("mbtest: loaded by %s\n", (const char *)info->boot_loader_name);
	check((info->flags & 0x41) == 0x41, "info_flags", "flags 0x%x lack memory or mmap",
	      info->flags);
	check(info->mem_lower == 639, "mem_lower", "%u KiB", info->mem_lower);
	check(in_usable_ram(info, (uint32_t)__load_start, (uint32_t)__bss_end), "kernel_in_ram",
	      "0x%x-0x%x not in a usable mmap entry", (uint32_t)__load_start, (uint32_t)__bss_end);
	check(in_usable_ram(info, 0, 0x1000), "page0_in_ram", "no RAM at 0 for the trampoline");

	fw_cfg_read(0x0000, sig, 4);
	fw_cfg_read(0x0005, &cpus, 2);
	fw_cfg_read(0x0003, &ram, 8);
	check(sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U', "fw_cfg_signature",
	      "'%s'", sig);
	print("mbtest: fw_cfg: %u CPUs, %u MiB of RAM; mem_upper %u KiB\n", cpus,
	      (uint32_t)(ram >> 20), info->mem_upper);
	check(cpus >= 1 && cpus <= MAX_APS + 1, "fw_cfg_cpus", "%u", cpus);
	if (o.cpus)
		check(cpus == o.cpus, "cpus_as_expected", "fw_cfg says %u, cmdline %u", cpus,
		      o.cpus);
	/* Loaders may keep the top of RAM for firmware (QEMU's does): allow 1/8 of it. */
	check((uint64_t)info->mem_upper * 1024 + 0x100000 <= ram &&
		      (uint64_t)info->mem_upper * 1024 + 0x100000 >= ram - ram / 8,
	      "fw_cfg_ram_matches_mem_upper", "fw_cfg 0x%x, mem_upper %u KiB", (uint32_t)ram,
	      info->mem_upper);

	check_modules(info, &o);
	bsp_id = mmio_read(LAPIC + LAPIC_ID) >> 24;
	if (cpus >= 1 && cpus <= MAX_APS + 1)
		start_aps(cpus, bsp_id);

	value = failed ? o.fail : o.pass;
	print("mbtest: done %u passed, %u failed; exiting with 0x%x on port 0x%x\n", passed, failed,
	      value, o.exit_port);
	outl(o.exit_port, value);
	print("mbtest: FAIL still running after the debug-exit write\n");
}
