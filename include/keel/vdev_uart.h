/* SPDX-License-Identifier: MIT */
/*
 * An emulated 16550A UART (docs/guest-devices.md): eight byte registers at
 * offsets 0-7 from its base port (0x3f8 for COM1).
 *
 * The transmitter is always ready: a byte written to THR goes straight to
 * env.putc and THR and the shift register are empty again at once (LSR
 * THRE and TEMT always read 1). The receiver holds 16 bytes (1 with the
 * FIFOs off), filled by vuart_rx_push() or, in loopback mode, by the
 * transmitter. Interrupts follow the data sheet's priorities; the request
 * reaches env.set_irq only while MCR.OUT2 is set and loopback is off, as
 * OUT2 gates the UART's interrupt line on a PC.
 */
#ifndef KEEL_VDEV_UART_H
#define KEEL_VDEV_UART_H

#include <keel/vdev.h>

#define VUART_NR_REGS 8
#define VUART_FIFO_SIZE 16

/* Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0/1). */
#define VUART_RBR 0 /* read, DLAB 0 */
#define VUART_THR 0 /* write, DLAB 0 */
#define VUART_DLL 0 /* DLAB 1 */
#define VUART_IER 1 /* DLAB 0 */
#define VUART_DLM 1 /* DLAB 1 */
#define VUART_IIR 2 /* read */
#define VUART_FCR 2 /* write */
#define VUART_LCR 3
#define VUART_MCR 4
#define VUART_LSR 5
#define VUART_MSR 6
#define VUART_SCR 7

#define VUART_IER_ERBFI 0x01 /* received data available (and character timeout) */
#define VUART_IER_ETBEI 0x02 /* THR empty */
#define VUART_IER_ELSI 0x04  /* receiver line status */
#define VUART_IER_EDSSI 0x08 /* modem status */

#define VUART_IIR_NO_INT 0x01
#define VUART_IIR_MSI 0x00
#define VUART_IIR_THRI 0x02
#define VUART_IIR_RDI 0x04
#define VUART_IIR_RLSI 0x06
#define VUART_IIR_TIMEOUT 0x0c
#define VUART_IIR_FIFO 0xc0 /* both FIFOs enabled */

#define VUART_FCR_ENABLE 0x01
#define VUART_FCR_CLEAR_RX 0x02
#define VUART_FCR_CLEAR_TX 0x04
#define VUART_FCR_DMA 0x08
#define VUART_FCR_TRIGGER 0xc0 /* 1, 4, 8, 14 bytes */

#define VUART_LCR_DLAB 0x80

#define VUART_MCR_DTR 0x01
#define VUART_MCR_RTS 0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10

#define VUART_LSR_DR 0x01
#define VUART_LSR_OE 0x02
#define VUART_LSR_THRE 0x20
#define VUART_LSR_TEMT 0x40

#define VUART_MSR_DCTS 0x01
#define VUART_MSR_DDSR 0x02
#define VUART_MSR_TERI 0x04
#define VUART_MSR_DDCD 0x08
#define VUART_MSR_CTS 0x10
#define VUART_MSR_DSR 0x20
#define VUART_MSR_RI 0x40
#define VUART_MSR_DCD 0x80

struct vuart_env {
	void *ctx;
	/* A byte the guest transmitted (not called in loopback mode). */
	void (*putc)(void *ctx, uint8_t c);
	/* The interrupt line as gated by OUT2 (see include/keel/vdev.h); may be NULL. */
	void (*set_irq)(void *ctx, bool level);
};

struct vuart {
	struct vuart_env env;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t lsr_oe;	   /* LSR.OE, until LSR is read */
	uint8_t msr_lines; /* MSR bits 7:4 */
	uint8_t msr_delta; /* MSR bits 3:0, until MSR is read */
	bool thre_pending; /* the THRE interrupt's latch */
	bool irq;	   /* the level last given to set_irq */
	uint8_t rbr;	   /* the last byte read from the receiver */
	uint8_t rx[VUART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
};

/* Power-on state: registers reset, divisor 12 (9600 baud), no interrupt. */
void vuart_init(struct vuart *u, const struct vuart_env *env);
/* Master reset (divisor and scratch kept); withdraws the interrupt. */
void vuart_reset(struct vuart *u);

/* Register access at offset 0-7; -EINVAL for another offset. */
int vuart_io_read(struct vuart *u, uint16_t offset, uint8_t *val);
int vuart_io_write(struct vuart *u, uint16_t offset, uint8_t val);

/*
 * A byte arriving on the serial line (Keel's console input). False when it
 * is not taken: the receiver is full (16 bytes, or 1 with the FIFOs off),
 * or the UART is in loopback mode, where the line is disconnected. Nothing
 * is lost then (no overrun): the caller keeps the byte and offers it again
 * later, as hardware flow control would.
 */
bool vuart_rx_push(struct vuart *u, uint8_t c);
/* How many bytes vuart_rx_push() would take now. */
uint32_t vuart_rx_room(const struct vuart *u);

#endif
