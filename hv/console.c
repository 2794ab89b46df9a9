// SPDX-License-Identifier: MIT
/*
 * Keel's console. Lines are formatted into a per-call buffer, then written
 * whole under one ticket lock, each prefixed with "[cpuN] ".
 *
 * A CPU that faults while it holds the lock (an exception inside printk)
 * would deadlock on itself: the lock records its holder, and that CPU
 * writes through without taking it again.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/partition.h>
#include <keel/percpu.h>
#include <keel/spinlock.h>
#include <keel/string.h>

static struct spinlock console_lock = SPINLOCK_INIT;
static volatile int console_holder = -1;
static bool at_line_start = true;
/* Who wrote the current, unfinished line: Keel (-1) or a partition's id. */
static int line_owner = -1;

void console_init(uint16_t port, uint32_t baud)
{
	uart_init(port, baud);
}

static void emit(const char *s)
{
	/* A partition's unfinished line is ended first: lines never mix. */
	if (!at_line_start && line_owner != -1) {
		uart_putc('\r');
		uart_putc('\n');
		at_line_start = true;
	}
	line_owner = -1;
	for (; *s; s++) {
		if (at_line_start) {
			char prefix[16];

			snprintf(prefix, sizeof(prefix), "[cpu%u] ", this_cpu_id());
			for (const char *p = prefix; *p; p++)
				uart_putc(*p);
			at_line_start = false;
		}
		if (*s == '\n') {
			uart_putc('\r');
			at_line_start = true;
		}
		uart_putc(*s);
	}
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int me = (int)this_cpu_id();
	bool nested = console_holder == me;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!uart_port)
		return;
	if (!nested) {
		spin_lock(&console_lock);
		console_holder = me;
	}
	emit(buf);
	if (!nested) {
		console_holder = -1;
		spin_unlock(&console_lock);
	}
}

/*
 * Partitions write their serial ports byte by byte. The one with the
 * console focus (hv/console_input.c; the host at boot) is written through,
 * so an interactive shell's prompt and echo show at once; each of its lines
 * starts with "[name] ", and a Keel line in between ends its line first.
 * The others are collected and printed a whole line at a time, so lines of
 * different partitions never mix even when they all print at once. A
 * collected line waits a little (at most CONSOLE_LINE_WAIT_US) for the
 * focused partition to end an unfinished line while it is still writing it;
 * a line idle for CONSOLE_LINE_IDLE_US (a prompt waiting for input) is cut
 * at once.
 */
#define CONSOLE_LINE_WAIT_US 20000
#define CONSOLE_LINE_IDLE_US 5000

/* When the focused partition last wrote a byte through. */
static volatile uint64_t last_through_us;

static void put_prefix(const struct partition *p)
{
	uart_putc('[');
	for (const char *n = p->name; *n; n++)
		uart_putc(*n);
	uart_putc(']');
	uart_putc(' ');
}

static void put_prefixed_line(struct partition *p, const char *s, uint32_t len)
{
	if (!at_line_start) {
		uart_putc('\r');
		uart_putc('\n');
	}
	put_prefix(p);
	for (uint32_t i = 0; i < len; i++)
		uart_putc(s[i]);
	uart_putc('\r');
	uart_putc('\n');
	at_line_start = true;
	line_owner = -1;
}

static void lock_console(bool *nested)
{
	int me = (int)this_cpu_id();

	*nested = console_holder == me;
	if (!*nested) {
		spin_lock(&console_lock);
		console_holder = me;
	}
}

static void unlock_console(bool nested)
{
	if (!nested) {
		console_holder = -1;
		spin_unlock(&console_lock);
	}
}

void console_partition_flush(struct partition *p)
{
	uint64_t start = arch_time_us();
	bool nested;

	if (!p->console_line_len || !uart_port)
		return;
	for (;;) {
		lock_console(&nested);
		uint64_t now = arch_time_us();

		if (nested || at_line_start || line_owner == -1 ||
		    now - last_through_us >= CONSOLE_LINE_IDLE_US ||
		    now - start >= CONSOLE_LINE_WAIT_US)
			break;
		unlock_console(nested);
		arch_cpu_relax();
	}
	put_prefixed_line(p, p->console_line, p->console_line_len);
	p->console_line_len = 0;
	unlock_console(nested);
}

/* Write c through for p, the focused partition. Under the console lock. */
static void put_through(struct partition *p, char c)
{
	if (!at_line_start && line_owner != (int)p->id) {
		uart_putc('\r');
		uart_putc('\n');
		at_line_start = true;
	}
	if (at_line_start && c != '\r') {
		put_prefix(p);
		at_line_start = false;
	}
	line_owner = (int)p->id;
	uart_putc(c);
	if (c == '\n')
		at_line_start = true;
	last_through_us = arch_time_us();
}

void console_partition_putc(struct partition *p, char c)
{
	bool nested;

	p->console_ring[p->console_head++ % CONSOLE_RING_SIZE] = c;
	if (!uart_port)
		return;
	if (p != console_input_focus()) {
		/* Collected: only this partition's vCPUs write its line (its devices' lock). */
		if (c == '\r')
			return;
		if (c != '\n' && p->console_line_len < sizeof(p->console_line)) {
			p->console_line[p->console_line_len++] = c;
			if (p->console_line_len < sizeof(p->console_line))
				return;
		}
		console_partition_flush(p);
		return;
	}
	lock_console(&nested);
	/* It just got the focus: what it collected so far starts its line. */
	for (uint32_t i = 0; i < p->console_line_len; i++)
		put_through(p, p->console_line[i]);
	p->console_line_len = 0;
	put_through(p, c);
	unlock_console(nested);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void keel_fatal(const char *fmt, ...)
{
	va_list ap;

	printk("keel: error: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\nkeel: boot stopped\n");
	cpu_halt_forever();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	printk("keel: PANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\nkeel: cpu %u stopped\n", this_cpu_id());
	cpu_halt_forever();
}
