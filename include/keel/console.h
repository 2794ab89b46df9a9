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
extern uint16_t uart_port;

#endif
