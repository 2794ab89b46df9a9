// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/vioapic.c: registers (82093AA datasheet section
 * 3), edge and level delivery, Remote IRR, masking, EOI.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <x86/vioapic.h>
#include <x86/vlapic.h>

struct msg {
	uint32_t dest;
	bool logical;
	uint8_t vector, dm;
	bool level;
};

static struct msg msgs[32];
static int n_msgs;
static bool accept_msgs = true;

static bool fake_deliver(void *ctx, uint32_t dest, bool logical, uint8_t vector,
			 uint8_t delivery_mode, bool trigger_level)
{
	if (n_msgs < (int)ARRAY_SIZE(msgs))
		msgs[n_msgs++] =
			(struct msg){ dest, logical, vector, delivery_mode, trigger_level };
	return accept_msgs;
}

static struct vioapic io;

static void setup(void)
{
	struct vioapic_env env = { .deliver = fake_deliver };

	vioapic_init(&io, &env, 2);
	n_msgs = 0;
	accept_msgs = true;
}

static uint32_t ind_read(uint32_t index)
{
	uint32_t v = 0xdeadbeef;

	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, index), 0);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 4, &v), 0);
	return v;
}

static void ind_write(uint32_t index, uint32_t v)
{
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, index), 0);
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOWIN, 4, v), 0);
}

static void set_rte(unsigned int pin, uint64_t rte)
{
	ind_write(VIOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(rte >> 32));
	ind_write(VIOAPIC_REG_REDTBL + 2 * pin, (uint32_t)rte);
}

static uint32_t rte_lo(unsigned int pin)
{
	return ind_read(VIOAPIC_REG_REDTBL + 2 * pin);
}

TEST(registers)
{
	uint32_t v;

	setup();
	CHECK_EQ(ind_read(VIOAPIC_REG_ID), 0x02000000u);
	CHECK_EQ(ind_read(VIOAPIC_REG_VER), 0x00170020u);
	CHECK_EQ(ind_read(VIOAPIC_REG_ARB), 0x02000000u);
	for (unsigned int i = 0; i < VIOAPIC_PINS; i++) {
		CHECK_EQ(rte_lo(i), 0x00010000u);
		CHECK_EQ(ind_read(VIOAPIC_REG_REDTBL + 2 * i + 1), 0);
	}
	/* Unimplemented indices read 0 and ignore writes. */
	CHECK_EQ(ind_read(0x03), 0);
	CHECK_EQ(ind_read(0x40), 0);
	CHECK_EQ(ind_read(0xff), 0);
	ind_write(0x40, 0xffffffff);
	CHECK_EQ(ind_read(0x40), 0);

	/* IOREGSEL reads back bits 7:0. */
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, 0x1234), 0);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4, &v), 0);
	CHECK_EQ(v, 0x34);

	/* ID: bits 27:24 writable; VER and ARB read-only. */
	ind_write(VIOAPIC_REG_ID, 0xffffffff);
	CHECK_EQ(ind_read(VIOAPIC_REG_ID), 0x0f000000u);
	CHECK_EQ(ind_read(VIOAPIC_REG_ARB), 0x0f000000u);
	ind_write(VIOAPIC_REG_VER, 0);
	CHECK_EQ(ind_read(VIOAPIC_REG_VER), 0x00170020u);

	/* Redirection entries: writable bits only; delivery status and Remote IRR read-only. */
	ind_write(VIOAPIC_REG_REDTBL + 2 * 5, 0xffffffff);
	CHECK_EQ(rte_lo(5), 0x0001afffu);
	ind_write(VIOAPIC_REG_REDTBL + 2 * 5 + 1, 0xffffffff);
	CHECK_EQ(ind_read(VIOAPIC_REG_REDTBL + 2 * 5 + 1), 0xff000000u);
	CHECK_EQ(vioapic_rte(&io, 5), 0xff0000000001afffull);
	CHECK_EQ(vioapic_rte(&io, 24), 0);
	ind_write(VIOAPIC_REG_REDTBL + 2 * 23, 0x1a0a9);
	CHECK_EQ(rte_lo(23), 0x1a0a9);

	/* Byte and word accesses. */
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_VER), 0);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOWIN + 2, 1, &v), 0);
	CHECK_EQ(v, 0x17);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 2, &v), 0);
	CHECK_EQ(v, 0x0020);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOWIN + 2, 4, &v), -EINVAL);
	CHECK_EQ(v, 0);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 8, &v), -EINVAL);
	CHECK_EQ(vioapic_mmio_read(&io, 0x1000, 4, &v), -EINVAL);
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOWIN + 1, 1, 0), -EINVAL);
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOWIN, 3, 0), -EINVAL);
	/* A short IOWIN write replaces only its bytes. */
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_REDTBL + 2 * 23), 0);
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_IOWIN, 1, 0x42), 0);
	CHECK_EQ(rte_lo(23), 0x1a042);
	/* Other offsets: reads 0, writes ignored; the EOI register is write-only. */
	CHECK_EQ(vioapic_mmio_read(&io, 0x20, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vioapic_mmio_read(&io, VIOAPIC_EOI, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vioapic_mmio_write(&io, 0x30, 4, 5), 0);
	CHECK_EQ(n_msgs, 0);

	/* Reset: entries masked again, ID kept. */
	vioapic_reset(&io);
	CHECK_EQ(rte_lo(5), 0x00010000u);
	CHECK_EQ(ind_read(VIOAPIC_REG_ID), 0x0f000000u);
}

TEST(edge)
{
	setup();
	/* Pin 4: vector 0x34, lowest priority, logical, destination 0x03. */
	set_rte(4, (0x03ull << 56) | VIOAPIC_RTE_LOGICAL | (1ull << 8) | 0x34);
	vioapic_set_irq(&io, 4, true);
	CHECK_EQ(n_msgs, 1);
	CHECK_EQ(msgs[0].dest, 3);
	CHECK(msgs[0].logical);
	CHECK_EQ(msgs[0].vector, 0x34);
	CHECK_EQ(msgs[0].dm, 1);
	CHECK(!msgs[0].level);
	/* Held high: no new edge. */
	vioapic_set_irq(&io, 4, true);
	CHECK_EQ(n_msgs, 1);
	vioapic_set_irq(&io, 4, false);
	CHECK_EQ(n_msgs, 1);
	vioapic_set_irq(&io, 4, true);
	CHECK_EQ(n_msgs, 2);
	/* No Remote IRR for edge entries; EOI does nothing. */
	CHECK_EQ(rte_lo(4) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_eoi(&io, 0x34);
	CHECK_EQ(n_msgs, 2);
	vioapic_set_irq(&io, 4, false);

	/* Masked: the edge is lost, also after unmasking. */
	set_rte(4, VIOAPIC_RTE_MASKED | 0x34);
	vioapic_set_irq(&io, 4, true);
	CHECK_EQ(n_msgs, 2);
	set_rte(4, 0x34);
	CHECK_EQ(n_msgs, 2);
	vioapic_set_irq(&io, 4, false);
	vioapic_set_irq(&io, 4, true);
	CHECK_EQ(n_msgs, 3);
	CHECK_EQ(msgs[2].dest, 0);
	CHECK(!msgs[2].logical);
	CHECK_EQ(msgs[2].dm, 0);

	/* Out-of-range pins are ignored. */
	vioapic_set_irq(&io, 24, true);
	vioapic_set_irq(&io, 1000, true);
	CHECK_EQ(n_msgs, 3);
}

TEST(level)
{
	setup();
	set_rte(9, (0x01ull << 56) | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_POLARITY | 0x49);
	CHECK_EQ(n_msgs, 0);
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(n_msgs, 1);
	CHECK(msgs[0].level);
	CHECK_EQ(msgs[0].vector, 0x49);
	CHECK_EQ(msgs[0].dest, 1);
	CHECK_EQ(rte_lo(9), 0xe049u); /* Remote IRR set */
	/* Still asserted, awaiting EOI: nothing more. */
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(n_msgs, 1);
	/* EOI of another vector: no change. */
	vioapic_eoi(&io, 0x48);
	CHECK_EQ(n_msgs, 1);
	CHECK(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR);
	/* EOI while still asserted: re-delivered, Remote IRR set again. */
	vioapic_eoi(&io, 0x49);
	CHECK_EQ(n_msgs, 2);
	CHECK(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR);
	/* Deasserted, then EOI: Remote IRR clear, nothing sent. */
	vioapic_set_irq(&io, 9, false);
	CHECK_EQ(n_msgs, 2);
	vioapic_eoi(&io, 0x49);
	CHECK_EQ(n_msgs, 2);
	CHECK_EQ(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Guest writes to Remote IRR are ignored. */
	ind_write(VIOAPIC_REG_REDTBL + 2 * 9, 0xe049);
	CHECK_EQ(rte_lo(9), 0xa049u);

	/* EOI through the EOI register. */
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(n_msgs, 3);
	vioapic_set_irq(&io, 9, false);
	CHECK_EQ(vioapic_mmio_write(&io, VIOAPIC_EOI, 4, 0x149), 0);
	CHECK_EQ(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ(n_msgs, 3);

	/* Masked: held while asserted, delivered on unmask. */
	set_rte(9, VIOAPIC_RTE_MASKED | VIOAPIC_RTE_LEVEL | 0x49);
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(n_msgs, 3);
	set_rte(9, VIOAPIC_RTE_LEVEL | 0x49);
	CHECK_EQ(n_msgs, 4);
	CHECK(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR);
	/* Masking keeps Remote IRR; switching to edge clears it. */
	set_rte(9, VIOAPIC_RTE_MASKED | VIOAPIC_RTE_LEVEL | 0x49);
	CHECK(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR);
	set_rte(9, VIOAPIC_RTE_MASKED | 0x49);
	CHECK_EQ(rte_lo(9) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Switching an asserted pin to level, unmasked, delivers. */
	set_rte(9, VIOAPIC_RTE_LEVEL | 0x49);
	CHECK_EQ(n_msgs, 5);
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x49);
}

TEST(level_not_accepted)
{
	setup();
	set_rte(3, VIOAPIC_RTE_LEVEL | 0x33);
	accept_msgs = false;
	vioapic_set_irq(&io, 3, true);
	CHECK_EQ(n_msgs, 1);
	CHECK_EQ(rte_lo(3) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Tried again on the next trigger. */
	accept_msgs = true;
	vioapic_set_irq(&io, 3, true);
	CHECK_EQ(n_msgs, 2);
	CHECK(rte_lo(3) & VIOAPIC_RTE_REMOTE_IRR);
}

TEST(shared_vector_eoi)
{
	setup();
	set_rte(10, VIOAPIC_RTE_LEVEL | 0x50);
	set_rte(11, VIOAPIC_RTE_LEVEL | 0x50);
	set_rte(12, 0x50); /* edge, same vector */
	vioapic_set_irq(&io, 10, true);
	vioapic_set_irq(&io, 11, true);
	vioapic_set_irq(&io, 12, true);
	CHECK_EQ(n_msgs, 3);
	vioapic_set_irq(&io, 10, false);
	vioapic_eoi(&io, 0x50);
	/* Both entries' Remote IRR cleared; pin 11 still asserted: re-sent. */
	CHECK_EQ(rte_lo(10) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK(rte_lo(11) & VIOAPIC_RTE_REMOTE_IRR);
	CHECK_EQ(n_msgs, 4);
	CHECK_EQ(msgs[3].vector, 0x50);
	CHECK(msgs[3].level);
}

TEST(delivery_modes)
{
	setup();
	/* NMI (100), physical, edge; ExtINT (111). */
	set_rte(0, (0x05ull << 56) | (4ull << 8));
	set_rte(1, (7ull << 8));
	vioapic_set_irq(&io, 0, true);
	vioapic_set_irq(&io, 1, true);
	CHECK_EQ(n_msgs, 2);
	CHECK_EQ(msgs[0].dm, 4);
	CHECK_EQ(msgs[0].dest, 5);
	CHECK_EQ(msgs[1].dm, 7);
	/* Broadcast destination is passed through. */
	set_rte(2, (0xffull << 56) | 0x62);
	vioapic_set_irq(&io, 2, true);
	CHECK_EQ(msgs[2].dest, 0xff);
}

TEST(no_callback)
{
	struct vioapic_env env = { 0 };
	struct vioapic x;

	vioapic_init(&x, &env, 0);
	x.rte[1] = VIOAPIC_RTE_LEVEL | 0x40;
	vioapic_set_irq(&x, 1, true);
	CHECK_EQ(x.rte[1] & VIOAPIC_RTE_REMOTE_IRR, 0);
}

/*
 * Wiring with arch/x86/vlapic.c as the caller would do it: IOAPIC messages
 * go to the matching local APICs, level EOIs come back to the IOAPIC.
 */
static struct vlapic lapics[2];
static struct vioapic wired;

static uint64_t zero_tsc(void *ctx)
{
	return 0;
}

static bool route(void *ctx, uint32_t dest, bool logical, uint8_t vector, uint8_t delivery_mode,
		  bool trigger_level)
{
	bool any = false;

	for (int i = 0; i < 2; i++)
		if (vlapic_matches(&lapics[i], dest, logical, false))
			any |= vlapic_accept(&lapics[i], vector, trigger_level);
	return any;
}

static void lapic_eoi_level(void *ctx, uint8_t vector)
{
	vioapic_eoi(&wired, vector);
}

TEST(with_vlapic)
{
	struct vioapic_env ienv = { .deliver = route };
	struct vlapic_env lenv = { .now_tsc = zero_tsc, .eoi_level = lapic_eoi_level };
	struct vlapic *l1 = &lapics[1];

	vioapic_init(&wired, &ienv, 0);
	for (int i = 0; i < 2; i++) {
		vlapic_init(&lapics[i], &lenv, i, i == 0);
		vlapic_mmio_write(&lapics[i], VLAPIC_REG_SVR, 4, 0x1ff);
	}
	/* Pin 7 -> APIC 1, level, vector 0x57. */
	wired.rte[7] = (1ull << 56) | VIOAPIC_RTE_LEVEL | 0x57;
	vioapic_set_irq(&wired, 7, true);
	CHECK_EQ(vlapic_highest_deliverable(&lapics[0]), -1);
	CHECK_EQ(vlapic_highest_deliverable(l1), 0x57);
	vlapic_ack(l1, 0x57);
	/* The device is serviced, the line drops, the guest EOIs. */
	vioapic_set_irq(&wired, 7, false);
	vlapic_mmio_write(l1, VLAPIC_REG_EOI, 4, 0);
	CHECK_EQ(wired.rte[7] & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ(vlapic_highest_deliverable(l1), -1);
	/* Line still up at EOI: the interrupt comes again. */
	vioapic_set_irq(&wired, 7, true);
	vlapic_ack(l1, vlapic_highest_deliverable(l1));
	vlapic_mmio_write(l1, VLAPIC_REG_EOI, 4, 0);
	CHECK_EQ(vlapic_highest_deliverable(l1), 0x57);
	CHECK(wired.rte[7] & VIOAPIC_RTE_REMOTE_IRR);
	/* A software-disabled target does not accept: Remote IRR stays clear. */
	vioapic_set_irq(&wired, 7, false);
	vlapic_ack(l1, 0x57);
	vlapic_mmio_write(l1, VLAPIC_REG_EOI, 4, 0);
	vlapic_mmio_write(l1, VLAPIC_REG_SVR, 4, 0xff);
	vioapic_set_irq(&wired, 7, true);
	CHECK_EQ(wired.rte[7] & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Logical flat destination. */
	vlapic_mmio_write(&lapics[0], VLAPIC_REG_LDR, 4, 0x01000000);
	wired.rte[8] = (1ull << 56) | VIOAPIC_RTE_LOGICAL | 0x58;
	vioapic_set_irq(&wired, 8, true);
	CHECK_EQ(vlapic_highest_deliverable(&lapics[0]), 0x58);
}

TEST_MAIN(TEST_CASE(registers), TEST_CASE(edge), TEST_CASE(level), TEST_CASE(level_not_accepted),
	  TEST_CASE(shared_vector_eoi), TEST_CASE(delivery_modes), TEST_CASE(no_callback),
	  TEST_CASE(with_vlapic))
