// SPDX-License-Identifier: MIT
/*
 * An emulated 16550A UART (include/keel/vdev_uart.h, docs/guest-devices.md).
 *
 * Interrupt sources, highest priority first (IIR values):
 *   0x06 receiver line status: LSR.OE set          cleared by reading LSR
 *   0x04 received data: count >= trigger level     cleared by reading RBR below it
 *   0x0c character timeout: 0 < count < trigger    cleared by reading RBR
 *   0x02 THR empty: the latch below                cleared by reading IIR (when it
 *                                                  is the one reported) or writing THR
 *   0x00 modem status: any MSR delta bit           cleared by reading MSR
 * The THRE latch is set when THR becomes empty and when IER.ETBEI goes from 0
 * to 1 while THR is empty, which here is always. No time passes in the
 * model: a transmitted byte leaves at once, and the character timeout is
 * pending as soon as data sits below the trigger level. Line settings
 * (divisor, word length, parity) are kept for the guest to read back but
 * do not change the bytes: they pass whole, as no wire is involved.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vdev_uart.h>

/* Modem inputs outside loopback: the host side is a ready null modem. */
#define LINES_IDLE (VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD)

/* A source left out to show a request dropping for a moment (see update_irq). */
#define IGNORE_TIMEOUT 1u

static bool fifo_on(const struct vuart *u)
{
	return u->fcr & VUART_FCR_ENABLE;
}

static uint32_t rx_capacity(const struct vuart *u)
{
	return fifo_on(u) ? VUART_FIFO_SIZE : 1;
}

static uint32_t rx_trigger(const struct vuart *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

static uint8_t pending_id(const struct vuart *u, unsigned int ignore)
{
	if ((u->ier & VUART_IER_ELSI) && u->lsr_oe)
		return VUART_IIR_RLSI;
	if ((u->ier & VUART_IER_ERBFI) && u->rx_count) {
		if (u->rx_count >= rx_trigger(u))
			return VUART_IIR_RDI;
		if (!(ignore & IGNORE_TIMEOUT))
			return VUART_IIR_TIMEOUT;
	}
	if ((u->ier & VUART_IER_ETBEI) && u->thre_pending)
		return VUART_IIR_THRI;
	if ((u->ier & VUART_IER_EDSSI) && u->msr_delta)
		return VUART_IIR_MSI;
	return VUART_IIR_NO_INT;
}

/*
 * The interrupt line: a pending source, let through by OUT2. In loopback
 * mode the OUT2 pin is forced inactive, so a PC sees no interrupt. `ignore`
 * computes the level as if those sources were not pending, for the moment
 * between a request being cleared and raised again by one access (an edge
 * the guest's interrupt controller must see).
 */
static void update_irq(struct vuart *u, unsigned int ignore)
{
	bool level = pending_id(u, ignore) != VUART_IIR_NO_INT && (u->mcr & VUART_MCR_OUT2) &&
		     !(u->mcr & VUART_MCR_LOOP);

	if (level == u->irq)
		return;
	u->irq = level;
	if (u->env.set_irq)
		u->env.set_irq(u->env.ctx, level);
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/*
 * A byte at the receiver. When it is full, the loopback path overruns (as
 * the line would: the byte in the shift register is lost in FIFO mode, the
 * held byte is overwritten without FIFOs); the console path refuses.
 */
static bool rx_put(struct vuart *u, uint8_t c, bool overrun)
{
	if (u->rx_count == rx_capacity(u)) {
		if (!overrun)
			return false;
		u->lsr_oe = VUART_LSR_OE;
		if (!fifo_on(u))
			u->rx[u->rx_head] = c;
		return true;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = c;
	u->rx_count++;
	return true;
}

static uint8_t rx_pop(struct vuart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % VUART_FIFO_SIZE;
		u->rx_count--;
		/* A character timeout is cleared by the read and pends again later. */
		update_irq(u, IGNORE_TIMEOUT);
		update_irq(u, 0);
	}
	return u->rbr;
}

static void tx(struct vuart *u, uint8_t c)
{
	/* Writing THR clears the THRE interrupt; THR empties at once and sets it again. */
	u->thre_pending = false;
	update_irq(u, 0);
	if (u->mcr & VUART_MCR_LOOP)
		rx_put(u, c, true);
	else if (u->env.putc)
		u->env.putc(u->env.ctx, c);
	u->thre_pending = true;
	update_irq(u, 0);
}

/* MSR bits 7:4 follow MCR in loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static void update_lines(struct vuart *u)
{
	uint8_t old = u->msr_lines, now = LINES_IDLE, changed;

	if (u->mcr & VUART_MCR_LOOP)
		now = (uint8_t)(((u->mcr & VUART_MCR_RTS) << 3) | ((u->mcr & VUART_MCR_DTR) << 5) |
				((u->mcr & (VUART_MCR_OUT1 | VUART_MCR_OUT2)) << 4));
	changed = old ^ now;
	if (changed & VUART_MSR_CTS)
		u->msr_delta |= VUART_MSR_DCTS;
	if (changed & VUART_MSR_DSR)
		u->msr_delta |= VUART_MSR_DDSR;
	if (changed & VUART_MSR_DCD)
		u->msr_delta |= VUART_MSR_DDCD;
	if ((old & VUART_MSR_RI) && !(now & VUART_MSR_RI))
		u->msr_delta |= VUART_MSR_TERI; /* trailing edge only */
	u->msr_lines = now;
}

static void write_fcr(struct vuart *u, uint8_t val)
{
	/* Entering or leaving FIFO mode empties the FIFOs. */
	if ((val ^ u->fcr) & VUART_FCR_ENABLE)
		rx_clear(u);
	if (val & VUART_FCR_ENABLE) {
		if (val & VUART_FCR_CLEAR_RX)
			rx_clear(u);
		/* CLEAR_TX: the transmitter FIFO is always empty. */
		u->fcr = val & (VUART_FCR_ENABLE | VUART_FCR_DMA | VUART_FCR_TRIGGER);
	} else {
		/* The other bits are programmed only with FCR0 set. */
		u->fcr = 0;
	}
	update_irq(u, 0);
}

void vuart_reset(struct vuart *u)
{
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->fcr = 0;
	u->lsr_oe = 0;
	u->msr_lines = LINES_IDLE;
	u->msr_delta = 0;
	u->thre_pending = false;
	rx_clear(u);
	update_irq(u, 0);
}

void vuart_init(struct vuart *u, const struct vuart_env *env)
{
	memset(u, 0, sizeof(*u));
	u->env = *env;
	u->dll = 12;
	vuart_reset(u);
}

int vuart_io_read(struct vuart *u, uint16_t offset, uint8_t *val)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;
	uint8_t id;

	switch (offset) {
	case VUART_RBR:
		*val = dlab ? u->dll : rx_pop(u);
		return 0;
	case VUART_IER:
		*val = dlab ? u->dlm : u->ier;
		return 0;
	case VUART_IIR:
		id = pending_id(u, 0);
		*val = id | (fifo_on(u) ? VUART_IIR_FIFO : 0);
		if (id == VUART_IIR_THRI) {
			u->thre_pending = false;
			update_irq(u, 0);
		}
		return 0;
	case VUART_LCR:
		*val = u->lcr;
		return 0;
	case VUART_MCR:
		*val = u->mcr;
		return 0;
	case VUART_LSR:
		*val = (u->rx_count ? VUART_LSR_DR : 0) | u->lsr_oe | VUART_LSR_THRE |
		       VUART_LSR_TEMT;
		u->lsr_oe = 0;
		update_irq(u, 0);
		return 0;
	case VUART_MSR:
		*val = u->msr_lines | u->msr_delta;
		u->msr_delta = 0;
		update_irq(u, 0);
		return 0;
	case VUART_SCR:
		*val = u->scr;
		return 0;
	default:
		return -EINVAL;
	}
}

int vuart_io_write(struct vuart *u, uint16_t offset, uint8_t val)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;
	uint8_t old;

	switch (offset) {
	case VUART_THR:
		if (dlab)
			u->dll = val;
		else
			tx(u, val);
		return 0;
	case VUART_IER:
		if (dlab) {
			u->dlm = val;
			return 0;
		}
		old = u->ier;
		u->ier = val & 0x0f;
		if (!(old & VUART_IER_ETBEI) && (u->ier & VUART_IER_ETBEI))
			u->thre_pending = true;
		update_irq(u, 0);
		return 0;
	case VUART_FCR:
		write_fcr(u, val);
		return 0;
	case VUART_LCR:
		u->lcr = val;
		return 0;
	case VUART_MCR:
		u->mcr = val & 0x1f;
		update_lines(u);
		update_irq(u, 0);
		return 0;
	case VUART_LSR:
	case VUART_MSR:
		return 0; /* factory test registers on the real part: ignored */
	case VUART_SCR:
		u->scr = val;
		return 0;
	default:
		return -EINVAL;
	}
}

bool vuart_rx_push(struct vuart *u, uint8_t c)
{
	if (u->mcr & VUART_MCR_LOOP)
		return false;
	if (!rx_put(u, c, false))
		return false;
	update_irq(u, 0);
	return true;
}

uint32_t vuart_rx_room(const struct vuart *u)
{
	if (u->mcr & VUART_MCR_LOOP)
		return 0;
	return rx_capacity(u) - u->rx_count;
}
