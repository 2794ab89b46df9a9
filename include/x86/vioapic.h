/* SPDX-License-Identifier: MIT */
/*
 * A virtual IOAPIC: a pure device model (no hardware access) of an Intel
 * 82093AA-style I/O APIC with 24 pins, reporting version 0x20 so that it
 * also has the EOI register of later I/O(x)APICs (at 0x40, as in the ICH /
 * PCH I/OxAPIC datasheets). Interrupts leave through env.deliver, which the
 * caller routes to the local APICs of the partition (vlapic_matches,
 * vlapic_accept); level-triggered EOIs come back through vioapic_eoi (from
 * vlapic env.eoi_level) or the EOI register.
 *
 * Pin levels passed to vioapic_set_irq are logical: true = asserted. The
 * polarity bit of a redirection entry is stored and read back but does not
 * invert the input (devices are modelled by their asserted state).
 *
 * No locks: the caller serializes calls on one vioapic. env.deliver is called
 * synchronously from vioapic_set_irq, vioapic_eoi and redirection-entry or
 * EOI-register writes.
 */
#ifndef X86_VIOAPIC_H
#define X86_VIOAPIC_H

#include <keel/types.h>

#define VIOAPIC_PINS 24
#define VIOAPIC_VERSION 0x20
#define VIOAPIC_MMIO_SIZE 0x1000

/* Direct registers, offsets in the MMIO window (82093AA 3.0). */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10
#define VIOAPIC_EOI 0x40 /* version 0x20 and later */

/* Indirect registers, selected by IOREGSEL (82093AA 3.2). */
#define VIOAPIC_REG_ID 0x00
#define VIOAPIC_REG_VER 0x01
#define VIOAPIC_REG_ARB 0x02
#define VIOAPIC_REG_REDTBL 0x10 /* entry n: low dword 0x10 + 2n, high 0x11 + 2n */

/* Redirection table entry bits (82093AA 3.2.4). */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_DM_SHIFT 8 /* delivery mode, bits 10:8 (values as VLAPIC_DM_*) */
#define VIOAPIC_RTE_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_PENDING (1ull << 12) /* delivery status: always 0 here */
#define VIOAPIC_RTE_POLARITY (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

struct vioapic_env {
	void *ctx;
	/*
	 * Send an interrupt message: 8-bit destination (physical APIC ID or
	 * logical mask, 0xFF broadcast), destination mode, vector, delivery
	 * mode (VLAPIC_DM_* values: fixed, lowest priority, SMI, NMI, INIT,
	 * ExtINT) and trigger mode. Returns true if at least one local APIC
	 * accepted it; a level-triggered interrupt nobody accepted leaves
	 * Remote IRR clear, so the line is not stuck waiting for an EOI.
	 */
	bool (*deliver)(void *ctx, uint32_t dest, bool logical, uint8_t vector,
			uint8_t delivery_mode, bool trigger_level);
};

struct vioapic {
	struct vioapic_env env;
	uint32_t id;	   /* 4-bit IOAPIC ID */
	uint32_t ioregsel; /* last value written to IOREGSEL (bits 7:0) */
	uint32_t line;	   /* bit n: pin n asserted */
	uint64_t rte[VIOAPIC_PINS];
};

/* Power-on: every entry masked, edge, vector 0; ID as given (low 4 bits). */
void vioapic_init(struct vioapic *io, const struct vioapic_env *env, uint8_t id);
/* Reset: entries masked and cleared, IOREGSEL 0, ID and pin levels kept. */
void vioapic_reset(struct vioapic *io);

/*
 * MMIO read of size bytes (1, 2, 4) at offset in the window (0..0xFFF): the
 * dword register at offset & ~3 (IOREGSEL, IOWIN; anything else, the
 * write-only EOI register included, reads 0), shifted by offset & 3. Returns
 * 0, or -EINVAL (bad size/offset, or the access crosses a dword: *val = 0).
 */
int vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned int size, uint32_t *val);
/*
 * MMIO write of size bytes (1, 2, 4) at a dword-aligned register offset.
 * IOREGSEL takes bits 7:0; a short IOWIN write replaces only the bytes
 * written; the EOI register takes a vector in bits 7:0. Writes elsewhere
 * are ignored. Returns 0, or -EINVAL (bad size, misaligned: ignored).
 */
int vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned int size, uint32_t val);

/*
 * Drive input pin (0..23) to level (true = asserted). Edge-triggered
 * entries deliver on a rising edge while unmasked (a masked edge is lost);
 * level-triggered entries deliver while asserted, unmasked and Remote IRR
 * clear, and set Remote IRR when accepted. Out-of-range pins are ignored.
 */
void vioapic_set_irq(struct vioapic *io, unsigned int pin, bool level);
/*
 * EOI for vector (from a local APIC's EOI of a level-triggered interrupt, or
 * the EOI register): clears Remote IRR of every level-triggered entry with
 * that vector and re-delivers those whose pin is still asserted.
 */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
/* The redirection entry of pin (0 for an out-of-range pin). */
uint64_t vioapic_rte(const struct vioapic *io, unsigned int pin);

#endif
