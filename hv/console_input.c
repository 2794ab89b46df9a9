// SPDX-License-Identifier: MIT
/*
 * Console input: which partition Keel's console keyboard talks to.
 *
 * Keel is the only reader of the UART's receiver. The host reads the data
 * port and the line status register through Keel (both exit): each such
 * read first moves every received byte out of the UART and routes it, then
 * the host is shown the bytes routed to it (LSR.DR set while it has any).
 * A byte for a guest goes to the guest's emulated UART. Bytes are moved
 * when the host reads LSR (its serial interrupt handler does, for every
 * receive interrupt) and when the focused guest reads its own UART.
 *
 * The switch sequence (Ctrl-A three times) is swallowed: Ctrl-As are held
 * back until the next other byte, which releases them to the focus, or until
 * the third, which moves the focus instead.
 */
#include <keel/arch.h>
#include <keel/config.h>
#include <keel/console.h>
#include <keel/partition.h>
#include <keel/spinlock.h>

static struct spinlock input_lock = SPINLOCK_INIT;
static struct partition *focus; /* NULL: the host */
static uint32_t switch_run;	/* switch characters held back */
/* Bytes routed to the host, not read yet. */
static uint8_t host_rx[256];
static uint32_t host_rx_head, host_rx_count;

static bool takes_input(const struct partition *p)
{
	if (p->stopped)
		return false;
	if (p->id == 0)
		return p->nr_vcpus > 0; /* keel.cfg may have no [host] */
	return p->console == CONFIG_CONSOLE_SERIAL;
}

struct partition *console_input_focus(void)
{
	/* A guest that stopped (faulted, powered off, exited) gives the focus back. */
	if (focus && !focus->stopped)
		return focus;
	if (host_partition.nr_vcpus)
		return &host_partition;
	/* No host: the first guest with a serial console, once it exists. */
	for (uint32_t i = 1; i < nr_partitions; i++)
		if (takes_input(partitions[i]))
			return partitions[i];
	return &host_partition;
}

/* The next partition after the focus that takes input, in partition order; the host wraps. */
static void switch_focus(void)
{
	struct partition *cur = console_input_focus(), *next = &host_partition;
	uint32_t i;

	for (i = 0; i < nr_partitions && partitions[i] != cur; i++)
		;
	for (i = i + 1; i < nr_partitions; i++)
		if (partitions[i] != &host_partition && takes_input(partitions[i])) {
			next = partitions[i];
			break;
		}
	if (next == &host_partition && !takes_input(next))
		for (i = 1; i < nr_partitions; i++) /* no host: wrap to the first guest */
			if (takes_input(partitions[i])) {
				next = partitions[i];
				break;
			}
	if (!takes_input(next))
		return; /* nobody else takes input: the focus stays */
	focus = next == &host_partition ? NULL : next;
	printk("keel: console input now goes to partition %s (Ctrl-A three times to switch)\n",
	       next->name);
}

static void deliver(uint8_t c)
{
	struct partition *to = console_input_focus();

	if (to != &host_partition) {
		arch_partition_console_rx(to, c);
		return;
	}
	/* Typed faster than the host reads: the oldest byte is kept, as a UART's overrun. */
	if (host_rx_count < sizeof(host_rx))
		host_rx[(host_rx_head + host_rx_count++) % sizeof(host_rx)] = c;
}

/* One received byte. Under input_lock. */
static void route(uint8_t c)
{
	if (c == CONSOLE_SWITCH_CHAR) {
		if (++switch_run == CONSOLE_SWITCH_COUNT) {
			switch_run = 0;
			switch_focus();
		}
		return;
	}
	for (; switch_run; switch_run--)
		deliver(CONSOLE_SWITCH_CHAR);
	deliver(c);
}

/* Under input_lock: move every received byte out of the UART. */
static void drain(void)
{
	int c;

	while ((c = uart_getc()) >= 0)
		route((uint8_t)c);
}

void console_input_poll(void)
{
	if (!uart_port)
		return;
	spin_lock(&input_lock);
	drain();
	spin_unlock(&input_lock);
}

uint8_t console_input_host_lsr(void)
{
	uint8_t lsr;

	/* No console (none, or no UART): an idle transmitter, nothing received. */
	if (!uart_port)
		return UART_LSR_THRE | UART_LSR_TEMT;
	spin_lock(&input_lock);
	drain();
	lsr = uart_lsr() & (uint8_t)~UART_LSR_DR;
	if (host_rx_count)
		lsr |= UART_LSR_DR;
	spin_unlock(&input_lock);
	return lsr;
}

uint8_t console_input_host_rbr(void)
{
	uint8_t c = 0; /* an empty receiver's buffer */

	if (!uart_port)
		return c;
	spin_lock(&input_lock);
	drain();
	if (host_rx_count) {
		c = host_rx[host_rx_head];
		host_rx_head = (host_rx_head + 1) % sizeof(host_rx);
		host_rx_count--;
	}
	spin_unlock(&input_lock);
	return c;
}
