/* SPDX-License-Identifier: MIT */
/*
 * Keel's console: every line goes to the serial port prefixed with the CPU
 * ("[cpu1] ..."), under one lock so lines from different CPUs never mix.
 */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/types.h>

void console_init(uint16_t port, uint32_t baud);
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

/* Report a boot-time error the user must fix, then stop Keel cleanly. */
__noreturn void keel_fatal(const char *fmt, ...) __printf(1, 2);
/* Keel's own invariant is broken: print where, stop this CPU. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* Stop this CPU for good (interrupts off, halted). */
__noreturn void cpu_halt_forever(void);

/* The serial back end (drivers/uart16550.c). */
void uart_init(uint16_t port, uint32_t baud);
void uart_putc(char c);
/* The line status register (0 without a UART); a received byte or -1. */
uint8_t uart_lsr(void);
int uart_getc(void);
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
extern uint16_t uart_port;

/*
 * Console input (hv/console_input.c): bytes typed on Keel's console go to
 * the partition with the console focus, the host at boot. Ctrl-A three
 * times in a row (swallowed) moves the focus to the next partition with a
 * serial console (the host, then the guests in keel.cfg's order).
 */
struct partition;
#define CONSOLE_SWITCH_CHAR 0x01 /* Ctrl-A */
#define CONSOLE_SWITCH_COUNT 3
struct partition *console_input_focus(void);
/* Route the bytes waiting in the UART (to the host's queue or the focused guest). */
void console_input_poll(void);
/* The UART's LSR as the host sees it: DR while bytes routed to the host wait. */
uint8_t console_input_host_lsr(void);
/* The host reads the receiver: the next byte routed to it, or 0 if none. */
uint8_t console_input_host_rbr(void);

#endif
