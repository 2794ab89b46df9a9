// SPDX-License-Identifier: MIT
/*
 * Virtual IOAPIC: the device model behind include/x86/vioapic.h. Register
 * layout from the Intel 82093AA I/O APIC datasheet (section 3: IOREGSEL,
 * IOWIN, IOAPICID, IOAPICVER, IOAPICARB, IOREDTBL); the EOI register and
 * version 0x20 from the later I/OxAPICs (ICH/PCH and IIO datasheets: a
 * write of a vector clears Remote IRR of every entry with that vector).
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <x86/vioapic.h>

/* Writable bits of an entry: vector, delivery mode, destination mode, polarity, trigger, mask, destination. */
#define RTE_WRITABLE                                                                               \
	(VIOAPIC_RTE_VECTOR | (7ull << VIOAPIC_RTE_DM_SHIFT) | VIOAPIC_RTE_LOGICAL |               \
	 VIOAPIC_RTE_POLARITY | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED |                           \
	 (0xffull << VIOAPIC_RTE_DEST_SHIFT))

void vioapic_reset(struct vioapic *io)
{
	io->ioregsel = 0;
	/* 82093AA 3.2.4: the mask bit is set on reset; the rest is 0. */
	for (unsigned int i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = VIOAPIC_RTE_MASKED;
}

void vioapic_init(struct vioapic *io, const struct vioapic_env *env, uint8_t id)
{
	memset(io, 0, sizeof(*io));
	io->env = *env;
	io->id = id & 0xf;
	vioapic_reset(io);
}

uint64_t vioapic_rte(const struct vioapic *io, unsigned int pin)
{
	return pin < VIOAPIC_PINS ? io->rte[pin] : 0;
}

static bool rte_level(uint64_t rte)
{
	return rte & VIOAPIC_RTE_LEVEL;
}

/* Send pin's interrupt message; a level-triggered one sets Remote IRR once accepted. */
static void deliver(struct vioapic *io, unsigned int pin)
{
	uint64_t rte = io->rte[pin];
	bool accepted = false;

	if (io->env.deliver)
		accepted = io->env.deliver(io->env.ctx, (uint32_t)(rte >> VIOAPIC_RTE_DEST_SHIFT),
					   rte & VIOAPIC_RTE_LOGICAL, rte & VIOAPIC_RTE_VECTOR,
					   (rte >> VIOAPIC_RTE_DM_SHIFT) & 7, rte_level(rte));
	if (rte_level(rte) && accepted)
		io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
}

/* A level-triggered pin that is asserted, unmasked and not awaiting an EOI is delivered. */
static void level_service(struct vioapic *io, unsigned int pin)
{
	uint64_t rte = io->rte[pin];

	if (rte_level(rte) && (io->line & (1u << pin)) && !(rte & VIOAPIC_RTE_MASKED) &&
	    !(rte & VIOAPIC_RTE_REMOTE_IRR))
		deliver(io, pin);
}

void vioapic_set_irq(struct vioapic *io, unsigned int pin, bool level)
{
	uint32_t bit, old;

	if (pin >= VIOAPIC_PINS)
		return;
	bit = 1u << pin;
	old = io->line & bit;
	if (level)
		io->line |= bit;
	else
		io->line &= ~bit;
	if (rte_level(io->rte[pin])) {
		level_service(io, pin);
	} else if (level && !old && !(io->rte[pin] & VIOAPIC_RTE_MASKED)) {
		/* Edge: the rising edge of an unmasked pin. */
		deliver(io, pin);
	}
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned int i = 0; i < VIOAPIC_PINS; i++) {
		uint64_t rte = io->rte[i];

		if ((rte & VIOAPIC_RTE_VECTOR) != vector || !rte_level(rte) ||
		    !(rte & VIOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[i] &= ~VIOAPIC_RTE_REMOTE_IRR;
		level_service(io, i);
	}
}

static uint32_t indirect_read(const struct vioapic *io, uint32_t index)
{
	switch (index) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB: /* 82093AA 3.2.3: the arbitration ID follows the ID */
		return io->id << 24;
	case VIOAPIC_REG_VER:
		/* 82093AA 3.2.2: maximum redirection entry in bits 23:16. */
		return ((VIOAPIC_PINS - 1u) << 16) | VIOAPIC_VERSION;
	default:
		break;
	}
	if (index >= VIOAPIC_REG_REDTBL && index < VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS) {
		uint64_t rte = io->rte[(index - VIOAPIC_REG_REDTBL) / 2];

		return (index & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0;
}

static void indirect_write(struct vioapic *io, uint32_t index, uint32_t val)
{
	unsigned int pin;
	uint64_t rte, old;

	if (index == VIOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	/* VER and ARB are read-only; other indices are not implemented. */
	if (index < VIOAPIC_REG_REDTBL || index >= VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
		return;
	pin = (index - VIOAPIC_REG_REDTBL) / 2;
	old = io->rte[pin];
	if (index & 1)
		rte = (old & 0xffffffffull) | ((uint64_t)val << 32);
	else
		rte = (old & ~0xffffffffull) | val;
	/* Delivery status and Remote IRR are read-only. */
	rte = (rte & RTE_WRITABLE) | (old & VIOAPIC_RTE_REMOTE_IRR);
	/* Remote IRR is undefined for edge entries: clear it when switching to edge. */
	if (!rte_level(rte))
		rte &= ~VIOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	/* Unmasking (or switching to level) an asserted level pin delivers it. */
	level_service(io, pin);
}

int vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned int size, uint32_t *val)
{
	uint32_t reg = offset & ~3u, shift = (offset & 3) * 8, v;

	*val = 0;
	if ((size != 1 && size != 2 && size != 4) || offset >= VIOAPIC_MMIO_SIZE ||
	    (offset & 3) + size > 4)
		return -EINVAL;
	if (reg == VIOAPIC_IOREGSEL)
		v = io->ioregsel;
	else if (reg == VIOAPIC_IOWIN)
		v = indirect_read(io, io->ioregsel);
	else
		v = 0;
	v >>= shift;
	*val = size == 4 ? v : v & ((1u << (size * 8)) - 1);
	return 0;
}

int vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned int size, uint32_t val)
{
	uint32_t mask;

	if ((size != 1 && size != 2 && size != 4) || offset >= VIOAPIC_MMIO_SIZE || (offset & 3))
		return -EINVAL;
	mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	val &= mask;
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		io->ioregsel = val & 0xff;
		break;
	case VIOAPIC_IOWIN:
		indirect_write(io, io->ioregsel, (indirect_read(io, io->ioregsel) & ~mask) | val);
		break;
	case VIOAPIC_EOI:
		vioapic_eoi(io, val & 0xff);
		break;
	default:
		break;
	}
	return 0;
}
