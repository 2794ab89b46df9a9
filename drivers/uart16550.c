// SPDX-License-Identifier: MIT
/*
 * 16550 UART, polled. Registers per the National Semiconductor PC16550D
 * data sheet: THR/RBR 0, IER 1, FCR 2, LCR 3, MCR 4, LSR 5, SCR 7;
 * with LCR.DLAB set, 0/1 hold the baud divisor (115200 / baud).
 */
#include <keel/console.h>
#include <x86/io.h>

#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_DR 0x01
#define LSR_THRE 0x20

uint16_t uart_port;

void uart_init(uint16_t port, uint32_t baud)
{
	uint16_t div = baud ? (uint16_t)(115200 / baud) : 1;

	uart_port = 0;
	if (!port)
		return;
	/* No UART answers with all ones; do not spin on it forever later. */
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + 0, div & 0xff);
	outb(port + 1, div >> 8);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0xc7); /* enable and clear FIFOs, 14-byte threshold */
	outb(port + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: Keel polls, no IRQ */
	uart_port = port;
}

void uart_putc(char c)
{
	/* Bounded wait: a wedged UART must not hang Keel (about 100 ms at worst). */
	for (unsigned int i = 0; i < 1000000; i++)
		if (inb(uart_port + UART_LSR) & LSR_THRE)
			break;
	outb(uart_port + UART_THR, (uint8_t)c);
}

uint8_t uart_lsr(void)
{
	return uart_port ? inb(uart_port + UART_LSR) : 0;
}

int uart_getc(void)
{
	if (!(uart_lsr() & LSR_DR))
		return -1;
	return inb(uart_port + UART_RBR);
}
