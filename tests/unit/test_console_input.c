// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/console_input.c: the console focus and where typed bytes
 * go. The UART, the guests' UARTs and printk are fakes that record.
 */
#include "test.h"

#include <stdarg.h>
#include <keel/arch.h>
#include <keel/config.h>
#include <keel/console.h>
#include <keel/partition.h>

/* Fakes of what console_input.c uses. */
struct partition host_partition = {
	.name = "host", .id = 0, .kind = PARTITION_HOST, .nr_vcpus = 1
};
struct partition g1 = {
	.name = "g1", .id = 1, .kind = PARTITION_LINUX, .console = CONFIG_CONSOLE_SERIAL
};
struct partition g2 = {
	.name = "g2", .id = 2, .kind = PARTITION_RAW, .console = CONFIG_CONSOLE_DEBUG
};
struct partition g3 = {
	.name = "g3", .id = 3, .kind = PARTITION_RAW, .console = CONFIG_CONSOLE_SERIAL
};
struct partition *partitions[MAX_PARTITIONS] = { &host_partition, &g1, &g2, &g3 };
uint32_t nr_partitions = 4;
uint16_t uart_port = 0x3f8;

static char typed[64]; /* the real UART's receiver */
static unsigned int typed_head, typed_len;
static char got[4][64]; /* what each guest's UART received, by id */
static unsigned int got_len[4];
static char last_msg[256];

uint8_t uart_lsr(void)
{
	return 0x60 | (typed_head < typed_len ? UART_LSR_DR : 0);
}

int uart_getc(void)
{
	return typed_head < typed_len ? (uint8_t)typed[typed_head++] : -1;
}

void arch_partition_console_rx(struct partition *p, uint8_t c)
{
	got[p->id][got_len[p->id]++] = (char)c;
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
}

static void type(const char *s)
{
	typed_head = 0;
	typed_len = (unsigned int)strlen(s);
	memcpy(typed, s, typed_len);
}

/* The host's 8250 driver: read LSR, and RBR while LSR shows data. */
static unsigned int host_reads(char *out)
{
	unsigned int n = 0;

	while (console_input_host_lsr() & UART_LSR_DR)
		out[n++] = (char)console_input_host_rbr();
	return n;
}

TEST(host_has_focus_at_boot)
{
	char out[64];

	CHECK(console_input_focus() == &host_partition);
	type("ls\r");
	CHECK_EQ(host_reads(out), 3);
	CHECK(memcmp(out, "ls\r", 3) == 0);
	CHECK_EQ(got_len[1], 0);
	CHECK_EQ(console_input_host_rbr(), 0); /* nothing left: an empty receiver */
}

TEST(held_ctrl_a_are_released_by_the_next_byte)
{
	char out[64];

	type("\x01\x01");
	CHECK_EQ(host_reads(out), 0); /* held back: maybe a switch */
	type("x\x01y");
	CHECK_EQ(host_reads(out), 5);
	CHECK(memcmp(out, "\x01\x01x\x01y", 5) == 0);
	CHECK(console_input_focus() == &host_partition);
}

TEST(three_ctrl_a_switch_to_next_serial_guest)
{
	char out[64];

	type("\x01\x01\x01"
	     "ab");
	CHECK_EQ(host_reads(out), 0); /* swallowed, and the rest is g1's */
	CHECK(console_input_focus() == &g1);
	CHECK_STR(last_msg, "keel: console input now goes to partition g1 (Ctrl-A three times "
			    "to switch)\n");
	CHECK_EQ(got_len[1], 2);
	CHECK(memcmp(got[1], "ab", 2) == 0);
}

TEST(guest_focus_hides_input_from_host)
{
	type("echo hi\r");
	/* The guest's own UART read routes what was typed; the host sees nothing. */
	console_input_poll();
	CHECK_EQ(console_input_host_lsr() & UART_LSR_DR, 0);
	CHECK_EQ(got_len[1], 10);
	CHECK(memcmp(got[1] + 2, "echo hi\r", 8) == 0);
	CHECK_EQ(console_input_host_lsr() & 0x60, 0x60); /* the transmitter bits pass through */
}

TEST(switch_skips_debug_console_and_wraps)
{
	char out[64];

	type("\x01\x01\x01");
	console_input_poll();
	CHECK(console_input_focus() == &g3); /* g2 has no serial console */
	CHECK_EQ(got_len[1], 10);	     /* nothing of the sequence reached g1 */
	g1.stopped = true;
	type("\x01\x01\x01z");
	CHECK_EQ(host_reads(out), 1); /* the wrap: back to the host, which reads 'z' */
	CHECK_EQ(out[0], 'z');
	CHECK(console_input_focus() == &host_partition);
	CHECK_EQ(got_len[3], 0);
	type("\x01\x01\x01");
	host_reads(out);
	CHECK(console_input_focus() == &g3); /* g1 stopped: skipped */
}

TEST(host_queue_keeps_the_oldest_bytes)
{
	static char out[300];

	type("\x01\x01\x01"); /* g3 to the host */
	console_input_poll();
	CHECK(console_input_focus() == &host_partition);
	/* 300 bytes typed in five parts of 60 (the fake UART holds 64), none read yet. */
	for (int i = 0; i < 5; i++) {
		memset(typed, 'q', 60);
		typed[0] = i == 0 ? 'a' : 'q';
		typed_head = 0;
		typed_len = 60;
		console_input_poll();
	}
	/* 300 typed, 256 kept: the first ones. */
	CHECK_EQ(host_reads(out), 256);
	CHECK_EQ(out[0], 'a');
}

TEST(stopped_guest_gives_the_focus_back)
{
	char out[8];

	type("\x01\x01\x01");
	host_reads(out);
	CHECK(console_input_focus() == &g3);
	g3.stopped = true; /* it faulted: what is typed goes to the host again */
	CHECK(console_input_focus() == &host_partition);
	type("k");
	CHECK_EQ(host_reads(out), 1);
	CHECK_EQ(out[0], 'k');
	g3.stopped = false;
}

TEST(no_console_looks_idle)
{
	uart_port = 0;
	type("x");
	CHECK_EQ(console_input_host_lsr(), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(console_input_host_rbr(), 0);
	uart_port = 0x3f8;
}

TEST_MAIN(TEST_CASE(host_has_focus_at_boot), TEST_CASE(held_ctrl_a_are_released_by_the_next_byte),
	  TEST_CASE(three_ctrl_a_switch_to_next_serial_guest),
	  TEST_CASE(guest_focus_hides_input_from_host),
	  TEST_CASE(switch_skips_debug_console_and_wraps),
	  TEST_CASE(host_queue_keeps_the_oldest_bytes),
	  TEST_CASE(stopped_guest_gives_the_focus_back), TEST_CASE(no_console_looks_idle))
