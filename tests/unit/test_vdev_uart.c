// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/vdev/uart16550.c: the 16550A's registers, interrupt
 * priorities and the THRE rules, loopback, and the probes Linux's 8250
 * driver runs (drivers/tty/serial/8250/8250_port.c: autoconfig(),
 * autoconfig_16550a(), size_fifo(), and the THRE and TXEN tests of
 * serial8250_do_startup()).
 */
#include "test.h"

#include <keel/errno.h>
#include <keel/vdev_uart.h>

struct sink {
	char out[600];
	size_t n;
	bool level;
	int rises, falls, bad_calls;
};

static struct sink sink;

static void sink_putc(void *ctx, uint8_t c)
{
	struct sink *s = ctx;

	if (s->n < sizeof(s->out) - 1)
		s->out[s->n++] = (char)c;
}

static void sink_irq(void *ctx, bool level)
{
	struct sink *s = ctx;

	if (level == s->level)
		s->bad_calls++; /* called without a change */
	s->level = level;
	if (level)
		s->rises++;
	else
		s->falls++;
}

static void setup(struct vuart *u)
{
	const struct vuart_env env = { &sink, sink_putc, sink_irq };

	memset(&sink, 0, sizeof(sink));
	vuart_init(u, &env);
}

static uint8_t rd(struct vuart *u, uint16_t off)
{
	uint8_t v = 0x5a;

	CHECK_EQ(vuart_io_read(u, off, &v), 0);
	return v;
}

static void wr(struct vuart *u, uint16_t off, uint8_t v)
{
	CHECK_EQ(vuart_io_write(u, off, v), 0);
}

TEST(power_on_state)
{
	struct vuart u;
	uint8_t v;

	setup(&u);
	CHECK_EQ(rd(&u, VUART_IER), 0);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	CHECK_EQ(rd(&u, VUART_LCR), 0);
	CHECK_EQ(rd(&u, VUART_MCR), 0);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_MSR), 0xb0); /* CTS, DSR, DCD: a ready null modem */
	CHECK_EQ(rd(&u, VUART_SCR), 0);
	CHECK_EQ(vuart_io_read(&u, 8, &v), -EINVAL);
	CHECK_EQ(vuart_io_write(&u, 8, 0), -EINVAL);
	wr(&u, VUART_LCR, 0x80);
	CHECK_EQ(rd(&u, VUART_DLL), 12); /* 9600 baud */
	CHECK_EQ(rd(&u, VUART_DLM), 0);
	CHECK_EQ(sink.rises + sink.falls, 0);
}

TEST(dlab_divisor_readback)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_IER, 0x05);
	wr(&u, VUART_LCR, 0x83);
	wr(&u, VUART_DLL, 0x01);
	wr(&u, VUART_DLM, 0x02);
	CHECK_EQ(rd(&u, VUART_DLL), 0x01);
	CHECK_EQ(rd(&u, VUART_DLM), 0x02);
	CHECK_EQ(rd(&u, VUART_LCR), 0x83);
	wr(&u, VUART_LCR, 0x03);
	CHECK_EQ(rd(&u, VUART_IER), 0x05); /* not touched by the DLM write */
	CHECK_EQ(sink.n, 0);		   /* the DLL write sent nothing */
	wr(&u, VUART_LCR, 0x80);
	CHECK_EQ(rd(&u, VUART_DLL) | rd(&u, VUART_DLM) << 8, 0x0201);
	/* IIR stays at offset 2 with DLAB set. */
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
}

TEST(register_widths)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_IER, 0xff);
	CHECK_EQ(rd(&u, VUART_IER), 0x0f);
	wr(&u, VUART_IER, 0);
	wr(&u, VUART_MCR, 0xff);
	CHECK_EQ(rd(&u, VUART_MCR), 0x1f);
	wr(&u, VUART_MCR, 0);
	CHECK_EQ(rd(&u, VUART_MSR), 0xb4); /* RI fell leaving loopback: TERI */
	wr(&u, VUART_SCR, 0xa5);
	CHECK_EQ(rd(&u, VUART_SCR), 0xa5);
	wr(&u, VUART_SCR, 0x5a);
	CHECK_EQ(rd(&u, VUART_SCR), 0x5a);
	/* LSR and MSR writes are ignored. */
	wr(&u, VUART_LSR, 0x00);
	wr(&u, VUART_MSR, 0x00);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_MSR), 0xb0);
}

TEST(transmit_goes_to_putc)
{
	struct vuart u;
	const char *msg = "hello\r\n";

	setup(&u);
	wr(&u, VUART_LCR, 0x03);
	for (const char *p = msg; *p; p++) {
		CHECK_EQ(rd(&u, VUART_LSR) & 0x60, 0x60);
		wr(&u, VUART_THR, (uint8_t)*p);
	}
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	sink.out[sink.n] = 0;
	CHECK_STR(sink.out, msg);
	/* The line settings do not change the bytes (no wire): 5 bits, still 8 sent. */
	wr(&u, VUART_LCR, 0x00);
	wr(&u, VUART_THR, 0xc1);
	CHECK_EQ((uint8_t)sink.out[sink.n - 1], 0xc1);
}

/* Linux's autoconfig() on a 16550A, step by step. */
TEST(linux_8250_autoconfig)
{
	struct vuart u;
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1, status2, iersave;
	uint8_t old_lcr, old_fcr, old_mcr;
	uint16_t old_dl;
	int count;

	setup(&u);
	/* The IER existence test. */
	scratch = rd(&u, VUART_IER);
	wr(&u, VUART_IER, 0);
	scratch2 = rd(&u, VUART_IER) & 0x0f;
	wr(&u, VUART_IER, 0x0f);
	scratch3 = rd(&u, VUART_IER) & 0x0f;
	wr(&u, VUART_IER, scratch);
	CHECK_EQ(scratch2, 0);
	CHECK_EQ(scratch3, 0x0f);

	/* The loopback test: MCR = LOOP | OUT2 | RTS must read MSR 0x90. */
	save_mcr = rd(&u, VUART_MCR);
	save_lcr = rd(&u, VUART_LCR);
	wr(&u, VUART_MCR, 0x10 | 0x0a);
	status1 = rd(&u, VUART_MSR) & 0xf0;
	wr(&u, VUART_MCR, save_mcr);
	CHECK_EQ(status1, 0x90);

	/* EFR (offset 2 with LCR 0xbf) = 0 is an FCR write here; then the FIFO test. */
	wr(&u, VUART_LCR, 0xbf);
	wr(&u, 2, 0);
	wr(&u, VUART_LCR, 0);
	wr(&u, VUART_FCR, 0x01);
	CHECK_EQ(rd(&u, VUART_IIR) >> 6, 3); /* 16550A */

	/* autoconfig_16550a(): no EFR with DLAB, nor with LCR 0xbf. */
	wr(&u, VUART_LCR, 0x80);
	CHECK(rd(&u, 2) != 0);
	wr(&u, VUART_LCR, 0xbf);
	CHECK(rd(&u, 2) != 0);

	/* Not a National Semiconductor SuperIO: EXCR1 does not follow MCR.LOOP. */
	wr(&u, VUART_LCR, 0);
	status1 = rd(&u, VUART_MCR);
	wr(&u, VUART_LCR, 0xe0);
	status2 = rd(&u, 2);
	CHECK(!((status2 ^ status1) & 0x10));
	wr(&u, VUART_LCR, 0);
	wr(&u, VUART_MCR, status1 ^ 0x10);
	wr(&u, VUART_LCR, 0xe0);
	status2 = rd(&u, 2);
	wr(&u, VUART_LCR, 0);
	wr(&u, VUART_MCR, status1);
	CHECK(!((status2 ^ status1) & 0x10));

	/* Not a TI16750: IIR bit 5 stays 0 with FCR bit 5, with and without DLAB. */
	wr(&u, VUART_LCR, 0);
	wr(&u, VUART_FCR, 0x21);
	status1 = rd(&u, VUART_IIR) >> 5;
	wr(&u, VUART_FCR, 0x01);
	wr(&u, VUART_LCR, 0x80);
	wr(&u, VUART_FCR, 0x21);
	status2 = rd(&u, VUART_IIR) >> 5;
	wr(&u, VUART_FCR, 0x01);
	wr(&u, VUART_LCR, 0);
	CHECK_EQ(status1, 6);
	CHECK_EQ(status2, 6);

	/* Not an XScale: IER bit 6 (UUE) does not stick. */
	iersave = rd(&u, VUART_IER);
	wr(&u, VUART_IER, iersave & ~0x40);
	CHECK(!(rd(&u, VUART_IER) & 0x40));
	wr(&u, VUART_IER, iersave | 0x40);
	CHECK(!(rd(&u, VUART_IER) & 0x40));
	wr(&u, VUART_IER, iersave);

	/* size_fifo(): 256 bytes in loopback, count what arrived: 16, not 64. */
	old_lcr = rd(&u, VUART_LCR);
	wr(&u, VUART_LCR, 0);
	old_fcr = rd(&u, VUART_FCR);
	old_mcr = rd(&u, VUART_MCR);
	wr(&u, VUART_FCR, 0x07);
	wr(&u, VUART_MCR, 0x10);
	wr(&u, VUART_LCR, 0x80);
	old_dl = (uint16_t)(rd(&u, VUART_DLL) | rd(&u, VUART_DLM) << 8);
	wr(&u, VUART_DLL, 1);
	wr(&u, VUART_DLM, 0);
	wr(&u, VUART_LCR, 0x03);
	for (count = 0; count < 256; count++)
		wr(&u, VUART_THR, (uint8_t)count);
	for (count = 0; (rd(&u, VUART_LSR) & 0x01) && count < 256; count++)
		CHECK_EQ(rd(&u, VUART_RBR), count);
	wr(&u, VUART_FCR, old_fcr);
	wr(&u, VUART_MCR, old_mcr);
	wr(&u, VUART_LCR, 0x80);
	wr(&u, VUART_DLL, (uint8_t)old_dl);
	wr(&u, VUART_DLM, (uint8_t)(old_dl >> 8));
	wr(&u, VUART_LCR, old_lcr);
	CHECK_EQ(count, 16);
	CHECK_EQ(old_dl, 12);
	CHECK_EQ(sink.n, 0); /* loopback bytes never reach the line */

	/* The end of autoconfig(): reset the UART. */
	wr(&u, VUART_LCR, save_lcr);
	wr(&u, VUART_MCR, save_mcr);
	wr(&u, VUART_FCR, 0x01);
	wr(&u, VUART_FCR, 0x07);
	wr(&u, VUART_FCR, 0);
	rd(&u, VUART_RBR);
	wr(&u, VUART_IER, 0);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	CHECK_EQ(sink.bad_calls, 0);
}

/* serial8250_do_startup(): the THRE re-assertion test and the TXEN test. */
TEST(linux_8250_startup_tests)
{
	struct vuart u;
	uint8_t iir1, iir, lsr;

	setup(&u);
	wr(&u, VUART_FCR, 0x81); /* FIFO on, trigger 8, as Linux programs a 16550A */
	wr(&u, VUART_LCR, 0x03);
	wr(&u, VUART_MCR, 0x0b); /* DTR, RTS, OUT2 */

	wr(&u, VUART_IER, 0x02);
	iir1 = rd(&u, VUART_IIR);
	wr(&u, VUART_IER, 0);
	wr(&u, VUART_IER, 0x02);
	iir = rd(&u, VUART_IIR);
	wr(&u, VUART_IER, 0);
	CHECK_EQ(iir1, 0xc2);
	CHECK_EQ(iir, 0xc2);
	CHECK(!(!(iir1 & 0x01) && (iir & 0x01))); /* no UART_BUG_THRE */

	wr(&u, VUART_IER, 0x02);
	lsr = rd(&u, VUART_LSR);
	iir = rd(&u, VUART_IIR);
	wr(&u, VUART_IER, 0);
	CHECK(!((lsr & 0x40) && (iir & 0x01))); /* no UART_BUG_TXEN */
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(iir_priority_order)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_FCR, 0x01);
	/* 17 bytes in loopback: 16 kept, an overrun. */
	wr(&u, VUART_MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(&u, VUART_THR, (uint8_t)('a' + i));
	/* Leaving loopback changes CTS, DSR and DCD: modem status deltas. */
	wr(&u, VUART_MCR, 0x08);
	wr(&u, VUART_IER, 0x0f); /* ETBEI 0 -> 1: THRE pending too */
	CHECK(sink.level);

	CHECK_EQ(rd(&u, VUART_IIR), 0xc6); /* line status first */
	CHECK_EQ(rd(&u, VUART_IIR), 0xc6); /* reading IIR does not clear it */
	CHECK_EQ(rd(&u, VUART_LSR), 0x63);
	CHECK_EQ(rd(&u, VUART_LSR), 0x61); /* OE cleared by the read */
	CHECK_EQ(rd(&u, VUART_IIR), 0xc4); /* then received data */
	for (int i = 0; i < 16; i++)
		CHECK_EQ(rd(&u, VUART_RBR), 'a' + i);
	CHECK_EQ(rd(&u, VUART_IIR), 0xc2); /* then THRE, cleared by this read */
	CHECK_EQ(rd(&u, VUART_IIR), 0xc0); /* then modem status */
	CHECK(sink.level);
	CHECK_EQ(rd(&u, VUART_MSR), 0xbb);
	CHECK_EQ(rd(&u, VUART_MSR), 0xb0);
	CHECK_EQ(rd(&u, VUART_IIR), 0xc1);
	CHECK(!sink.level);
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(ier_masks_sources)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_MCR, 0x08);
	CHECK(vuart_rx_push(&u, 'x'));
	CHECK_EQ(rd(&u, VUART_IIR), 0x01); /* ERBFI off */
	CHECK(!sink.level);
	wr(&u, VUART_IER, 0x01);
	CHECK_EQ(rd(&u, VUART_IIR), 0x04);
	CHECK(sink.level);
	wr(&u, VUART_IER, 0x00);
	CHECK(!sink.level);
	CHECK_EQ(rd(&u, VUART_LSR), 0x61);
}

TEST(thre_interrupt_rules)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_MCR, 0x08);
	wr(&u, VUART_LCR, 0x03);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* ETBEI 0 -> 1 with THR empty raises it. */
	wr(&u, VUART_IER, 0x02);
	CHECK(sink.level);
	CHECK_EQ(sink.rises, 1);
	/* Reading IIR that reports it clears it. */
	CHECK_EQ(rd(&u, VUART_IIR), 0x02);
	CHECK(!sink.level);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* Writing IER without a 0 -> 1 change does not. */
	wr(&u, VUART_IER, 0x02);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* THR emptying after a write raises it (a new edge). */
	wr(&u, VUART_THR, 'a');
	CHECK(sink.level);
	CHECK_EQ(sink.rises, 2);
	/* A write while it is pending: it drops and rises again, a new edge. */
	wr(&u, VUART_THR, 'b');
	CHECK(sink.level);
	CHECK_EQ(sink.rises, 3);
	CHECK_EQ(sink.falls, 2);
	CHECK_EQ(rd(&u, VUART_IIR), 0x02);
	/* Toggling ETBEI raises it again (Linux's THRE test depends on it). */
	wr(&u, VUART_IER, 0);
	wr(&u, VUART_IER, 0x02);
	CHECK_EQ(rd(&u, VUART_IIR), 0x02);
	/* A higher source reported by IIR leaves THRE pending. */
	wr(&u, VUART_IER, 0);
	wr(&u, VUART_IER, 0x03);
	CHECK(vuart_rx_push(&u, 'z'));
	CHECK_EQ(rd(&u, VUART_IIR), 0x04);
	CHECK_EQ(rd(&u, VUART_RBR), 'z');
	CHECK_EQ(rd(&u, VUART_IIR), 0x02);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* Masked by IER: not reported, so an IIR read does not clear it. */
	wr(&u, VUART_THR, 'c');
	wr(&u, VUART_IER, 0x01);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	wr(&u, VUART_IER, 0x03);
	CHECK_EQ(rd(&u, VUART_IIR), 0x02);
	sink.out[sink.n] = 0;
	CHECK_STR(sink.out, "abc");
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(out2_gates_the_interrupt)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_IER, 0x01);
	CHECK(vuart_rx_push(&u, 'k'));
	CHECK_EQ(rd(&u, VUART_IIR), 0x04); /* pending inside the UART */
	CHECK(!sink.level);		   /* but OUT2 is clear */
	wr(&u, VUART_MCR, 0x03);
	CHECK(!sink.level);
	wr(&u, VUART_MCR, 0x0b);
	CHECK(sink.level);
	/* Loopback forces the OUT2 pin inactive. */
	wr(&u, VUART_MCR, 0x1b);
	CHECK(!sink.level);
	CHECK_EQ(rd(&u, VUART_IIR), 0x04);
	wr(&u, VUART_MCR, 0x0b);
	CHECK(sink.level);
	CHECK_EQ(rd(&u, VUART_RBR), 'k');
	CHECK(!sink.level);
	CHECK_EQ(sink.rises, 2);
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(rx_fifo_and_overflow)
{
	struct vuart u;

	setup(&u);
	/* Without FIFOs the receiver holds one byte. */
	CHECK_EQ(vuart_rx_room(&u), 1);
	CHECK(vuart_rx_push(&u, '1'));
	CHECK(!vuart_rx_push(&u, '2'));
	CHECK_EQ(rd(&u, VUART_LSR), 0x61); /* refused, not overrun */
	CHECK_EQ(rd(&u, VUART_RBR), '1');
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_RBR), '1'); /* an empty receiver repeats the last byte */

	wr(&u, VUART_FCR, 0x01);
	CHECK_EQ(vuart_rx_room(&u), 16);
	for (int i = 0; i < 16; i++)
		CHECK(vuart_rx_push(&u, (uint8_t)i));
	CHECK(!vuart_rx_push(&u, 16));
	CHECK_EQ(vuart_rx_room(&u), 0);
	CHECK_EQ(rd(&u, VUART_LSR), 0x61);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(rd(&u, VUART_RBR), i);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);

	/* Loopback overruns as the line would: FIFO mode loses the new byte. */
	wr(&u, VUART_MCR, 0x10);
	CHECK(!vuart_rx_push(&u, 'x')); /* the line is disconnected in loopback */
	CHECK_EQ(vuart_rx_room(&u), 0);
	for (int i = 0; i < 18; i++)
		wr(&u, VUART_THR, (uint8_t)(0x40 + i));
	CHECK_EQ(rd(&u, VUART_LSR), 0x63);
	CHECK_EQ(rd(&u, VUART_LSR), 0x61);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(rd(&u, VUART_RBR), 0x40 + i);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);

	/* Without FIFOs the new byte overwrites the held one. */
	wr(&u, VUART_FCR, 0x00);
	wr(&u, VUART_THR, 'a');
	wr(&u, VUART_THR, 'b');
	CHECK_EQ(rd(&u, VUART_LSR), 0x63);
	CHECK_EQ(rd(&u, VUART_RBR), 'b');
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(sink.n, 0);
}

TEST(fcr_controls)
{
	struct vuart u;

	setup(&u);
	CHECK_EQ(rd(&u, VUART_IIR) & 0xc0, 0);
	wr(&u, VUART_FCR, 0x01);
	CHECK_EQ(rd(&u, VUART_IIR) & 0xc0, 0xc0);
	CHECK(vuart_rx_push(&u, 'a'));
	CHECK(vuart_rx_push(&u, 'b'));
	/* Clear RX: FIFO emptied, the FIFO stays on. */
	wr(&u, VUART_FCR, 0x03);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_IIR) & 0xc0, 0xc0);
	/* Leaving FIFO mode empties the FIFO. */
	CHECK(vuart_rx_push(&u, 'c'));
	wr(&u, VUART_FCR, 0x00);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* Entering it too. */
	CHECK(vuart_rx_push(&u, 'd'));
	wr(&u, VUART_FCR, 0x01);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	/* Rewriting FCR with FIFOs on keeps the data. */
	CHECK(vuart_rx_push(&u, 'e'));
	wr(&u, VUART_FCR, 0xc1);
	CHECK_EQ(rd(&u, VUART_LSR), 0x61);
	/* Bits other than FCR0 are ignored with FCR0 clear: FIFO off, trigger 1. */
	wr(&u, VUART_FCR, 0xc0);
	CHECK_EQ(rd(&u, VUART_IIR) & 0xc0, 0);
}

TEST(rx_trigger_and_timeout)
{
	struct vuart u;
	int rises;

	setup(&u);
	wr(&u, VUART_MCR, 0x08);
	wr(&u, VUART_IER, 0x01);
	wr(&u, VUART_FCR, 0xc1); /* trigger level 14 */
	CHECK(vuart_rx_push(&u, 0));
	CHECK_EQ(rd(&u, VUART_IIR), 0xcc); /* below the trigger: character timeout */
	for (int i = 1; i < 14; i++)
		CHECK(vuart_rx_push(&u, (uint8_t)i));
	CHECK_EQ(rd(&u, VUART_IIR), 0xc4);
	CHECK_EQ(sink.rises, 1);
	/* Reading below the trigger: the timeout drops, then pends again (an edge). */
	rises = sink.rises;
	CHECK_EQ(rd(&u, VUART_RBR), 0);
	CHECK_EQ(rd(&u, VUART_IIR), 0xcc);
	CHECK(sink.level);
	CHECK_EQ(sink.rises, rises + 1);
	for (int i = 1; i < 14; i++)
		CHECK_EQ(rd(&u, VUART_RBR), i);
	CHECK_EQ(rd(&u, VUART_IIR), 0xc1);
	CHECK(!sink.level);
	/* Trigger 4 (FCR 0x41), 8 (0x81). */
	wr(&u, VUART_FCR, 0x41);
	for (int i = 0; i < 3; i++)
		CHECK(vuart_rx_push(&u, 'x'));
	CHECK_EQ(rd(&u, VUART_IIR), 0xcc);
	CHECK(vuart_rx_push(&u, 'x'));
	CHECK_EQ(rd(&u, VUART_IIR), 0xc4);
	wr(&u, VUART_FCR, 0x83);
	for (int i = 0; i < 7; i++)
		CHECK(vuart_rx_push(&u, 'y'));
	CHECK_EQ(rd(&u, VUART_IIR), 0xcc);
	CHECK(vuart_rx_push(&u, 'y'));
	CHECK_EQ(rd(&u, VUART_IIR), 0xc4);
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(loopback_modem_lines)
{
	struct vuart u;

	setup(&u);
	/* Entering loopback with all outputs off drops CTS, DSR and DCD. */
	wr(&u, VUART_MCR, 0x10);
	CHECK_EQ(rd(&u, VUART_MSR), 0x0b);
	CHECK_EQ(rd(&u, VUART_MSR), 0x00);
	wr(&u, VUART_MCR, 0x11); /* DTR -> DSR */
	CHECK_EQ(rd(&u, VUART_MSR), 0x22);
	wr(&u, VUART_MCR, 0x12); /* RTS -> CTS */
	CHECK_EQ(rd(&u, VUART_MSR), 0x13);
	wr(&u, VUART_MCR, 0x14); /* OUT1 -> RI: no delta on the rising edge */
	CHECK_EQ(rd(&u, VUART_MSR), 0x41);
	wr(&u, VUART_MCR, 0x18); /* OUT2 -> DCD; RI falls: TERI */
	CHECK_EQ(rd(&u, VUART_MSR), 0x8c);
	wr(&u, VUART_MCR, 0x1f);
	CHECK_EQ(rd(&u, VUART_MSR), 0xf3);
	/* The modem status interrupt, gated off while in loopback. */
	wr(&u, VUART_IER, 0x08);
	wr(&u, VUART_MCR, 0x1e);
	CHECK_EQ(rd(&u, VUART_IIR), 0x00);
	CHECK(!sink.level);
	CHECK_EQ(rd(&u, VUART_MSR), 0xd2);
	CHECK_EQ(rd(&u, VUART_IIR), 0x01);
	/* Back to normal: the lines come back, an interrupt through OUT2. */
	wr(&u, VUART_MCR, 0x08);
	CHECK(sink.level);
	CHECK_EQ(rd(&u, VUART_MSR), 0xb6); /* DSR rises, RI falls */
	CHECK(!sink.level);
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(reset_withdraws_the_interrupt)
{
	struct vuart u;

	setup(&u);
	wr(&u, VUART_MCR, 0x08);
	wr(&u, VUART_IER, 0x02);
	CHECK(sink.level);
	wr(&u, VUART_SCR, 0x77);
	wr(&u, VUART_LCR, 0x80);
	wr(&u, VUART_DLL, 3);
	CHECK(vuart_rx_push(&u, 'q'));
	vuart_reset(&u);
	CHECK(!sink.level);
	CHECK_EQ(rd(&u, VUART_IER), 0);
	CHECK_EQ(rd(&u, VUART_LSR), 0x60);
	CHECK_EQ(rd(&u, VUART_SCR), 0x77);
	wr(&u, VUART_LCR, 0x80);
	CHECK_EQ(rd(&u, VUART_DLL), 3);
	CHECK_EQ(sink.bad_calls, 0);
}

TEST(no_callbacks_is_fine)
{
	struct vuart u;
	const struct vuart_env env = { 0 };

	vuart_init(&u, &env);
	CHECK_EQ(vuart_io_write(&u, VUART_MCR, 0x08), 0);
	CHECK_EQ(vuart_io_write(&u, VUART_IER, 0x0f), 0);
	CHECK_EQ(vuart_io_write(&u, VUART_THR, 'a'), 0);
	CHECK(u.irq);
}

TEST_MAIN(TEST_CASE(power_on_state), TEST_CASE(dlab_divisor_readback), TEST_CASE(register_widths),
	  TEST_CASE(transmit_goes_to_putc), TEST_CASE(linux_8250_autoconfig),
	  TEST_CASE(linux_8250_startup_tests), TEST_CASE(iir_priority_order),
	  TEST_CASE(ier_masks_sources), TEST_CASE(thre_interrupt_rules),
	  TEST_CASE(out2_gates_the_interrupt), TEST_CASE(rx_fifo_and_overflow),
	  TEST_CASE(fcr_controls), TEST_CASE(rx_trigger_and_timeout),
	  TEST_CASE(loopback_modem_lines), TEST_CASE(reset_withdraws_the_interrupt),
	  TEST_CASE(no_callbacks_is_fine))
