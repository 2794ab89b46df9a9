// SPDX-License-Identifier: MIT
/*
 * Keel's console. Lines are formatted into a per-call buffer, then written
 * whole under one ticket lock, each prefixed with "[cpuN] ".
 *
 * A CPU that faults while it holds the lock (an exception inside printk)
 * would deadlock on itself: the lock records its holder, and that CPU
 * writes through without taking it again.
 */
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
 * A partition writes its serial port byte by byte (an interactive shell's
 * prompt has no newline, so nothing is held back). Each of its lines starts
 * with "[name] "; a Keel line in between ends the partition's line first.
 */
void console_partition_putc(struct partition *p, char c)
{
	int me = (int)this_cpu_id();
	bool nested = console_holder == me;

	p->console_ring[p->console_head++ % CONSOLE_RING_SIZE] = c;
	if (!uart_port)
		return;
	if (!nested) {
		spin_lock(&console_lock);
		console_holder = me;
	}
	if (!at_line_start && line_owner != (int)p->id) {
		uart_putc('\r');
		uart_putc('\n');
		at_line_start = true;
	}
	if (at_line_start && c != '\r') {
		uart_putc('[');
		for (const char *n = p->name; *n; n++)
			uart_putc(*n);
		uart_putc(']');
		uart_putc(' ');
		at_line_start = false;
	}
	line_owner = (int)p->id;
	uart_putc(c);
	if (c == '\n')
		at_line_start = true;
	if (!nested) {
		console_holder = -1;
		spin_unlock(&console_lock);
	}
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
