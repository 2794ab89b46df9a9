// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/vlapic.c against the Intel SDM Vol. 3A APIC
 * chapter (section numbers of the editions where it is chapter 10). A fake
 * clock drives the timer; IPIs are recorded and can be routed between the
 * vlapics of a small fake partition.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <x86/vlapic.h>

#define NCPU 3
#define MAX_IPIS 16

static uint64_t fake_tsc;
static struct vlapic cpus[NCPU];
static struct vlapic_ipi ipis[MAX_IPIS];
static int n_ipis;
static int eoi_vectors[8];
static int n_eois;
static bool route_ipis; /* deliver fixed IPIs to cpus[] instead of only recording */

static uint64_t fake_now(void *ctx)
{
	return fake_tsc;
}

static void fake_send_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
	struct vlapic *sender = ctx;

	if (n_ipis < MAX_IPIS)
		ipis[n_ipis++] = *ipi;
	if (!route_ipis || ipi->delivery_mode != VLAPIC_DM_FIXED)
		return;
	for (int i = 0; i < NCPU; i++)
		if (vlapic_ipi_match(&cpus[i], sender, ipi))
			vlapic_accept(&cpus[i], ipi->vector, ipi->trigger_level);
}

static void fake_eoi(void *ctx, uint8_t vector)
{
	if (n_eois < (int)ARRAY_SIZE(eoi_vectors))
		eoi_vectors[n_eois++] = vector;
}

/* Fresh APIC(s): 2 GHz guest TSC, software-enabled with spurious vector 0xFF. */
static struct vlapic *setup_khz(uint64_t khz)
{
	fake_tsc = 1000000;
	n_ipis = 0;
	n_eois = 0;
	route_ipis = false;
	for (int i = 0; i < NCPU; i++) {
		struct vlapic_env env = {
			.ctx = &cpus[i],
			.now_tsc = fake_now,
			.tsc_khz = khz,
			.send_ipi = fake_send_ipi,
			.eoi_level = fake_eoi,
		};
		vlapic_init(&cpus[i], &env, i, i == 0);
		vlapic_mmio_write(&cpus[i], VLAPIC_REG_SVR, 4, 0x1ff);
	}
	return &cpus[0];
}

static struct vlapic *setup(void)
{
	return setup_khz(2000000);
}

static uint32_t rd(struct vlapic *l, uint32_t reg)
{
	uint32_t v = 0xdeadbeef;

	CHECK_EQ(vlapic_mmio_read(l, reg, 4, &v), 0);
	return v;
}

static void wr(struct vlapic *l, uint32_t reg, uint32_t v)
{
	CHECK_EQ(vlapic_mmio_write(l, reg, 4, v), 0);
}

static uint64_t rdmsr_ok(struct vlapic *l, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;

	CHECK_EQ(vlapic_msr_read(l, msr, &v), 0);
	return v;
}

static uint32_t read_esr(struct vlapic *l)
{
	wr(l, VLAPIC_REG_ESR, 0);
	return rd(l, VLAPIC_REG_ESR);
}

static void to_x2apic(struct vlapic *l)
{
	uint64_t base = rdmsr_ok(l, VLAPIC_MSR_APIC_BASE);

	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | VLAPIC_BASE_EXTD), 0);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_X2APIC);
}

/* 10.4.7.1 / 10.12.5.1: register values after power-on. */
TEST(reset_values)
{
	struct vlapic_env env = { .now_tsc = fake_now, .tsc_khz = 1000000 };
	struct vlapic l;

	vlapic_init(&l, &env, 5, true);
	CHECK_EQ(vlapic_mode(&l), VLAPIC_MODE_XAPIC);
	CHECK_EQ(rdmsr_ok(&l, VLAPIC_MSR_APIC_BASE), 0xfee00900ull);
	CHECK_EQ(vlapic_mmio_base(&l), 0xfee00000ull);
	CHECK_EQ(rd(&l, VLAPIC_REG_ID), 5u << 24);
	CHECK_EQ(rd(&l, VLAPIC_REG_VERSION), 0x00050014u);
	CHECK_EQ(rd(&l, VLAPIC_REG_TPR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_APR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_PPR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_LDR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_DFR), 0xffffffffu);
	CHECK_EQ(rd(&l, VLAPIC_REG_SVR), 0xff);
	for (uint32_t r = VLAPIC_REG_ISR; r < VLAPIC_REG_ESR; r += 0x10)
		CHECK_EQ(rd(&l, r), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_ESR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_ICR_LO), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_ICR_HI), 0);
	for (uint32_t r = VLAPIC_REG_LVT_TIMER; r <= VLAPIC_REG_LVT_ERROR; r += 0x10)
		CHECK_EQ(rd(&l, r), 0x00010000u);
	CHECK_EQ(rd(&l, VLAPIC_REG_TIMER_ICR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_TIMER_CCR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_TIMER_DCR), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(&l), 0);

	vlapic_init(&l, &env, 7, false);
	CHECK_EQ(rdmsr_ok(&l, VLAPIC_MSR_APIC_BASE), 0xfee00800ull);

	/* INIT: registers back to reset, ID and mode kept. */
	vlapic_mmio_write(&l, VLAPIC_REG_SVR, 4, 0x1ff);
	wr(&l, VLAPIC_REG_TPR, 0x20);
	wr(&l, VLAPIC_REG_LDR, 0x04000000);
	wr(&l, VLAPIC_REG_LVT_LINT0, 0x700);
	CHECK(vlapic_accept(&l, 0x40, false));
	vlapic_reset(&l);
	CHECK_EQ(rd(&l, VLAPIC_REG_ID), 7u << 24);
	CHECK_EQ(rd(&l, VLAPIC_REG_TPR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_LDR), 0);
	CHECK_EQ(rd(&l, VLAPIC_REG_SVR), 0xff);
	CHECK_EQ(rd(&l, VLAPIC_REG_LVT_LINT0), 0x10000);
	CHECK_EQ(rd(&l, VLAPIC_REG_IRR + 0x20), 0);
	CHECK_EQ(vlapic_mode(&l), VLAPIC_MODE_XAPIC);
}

/* Register read/write semantics in xAPIC mode. */
TEST(xapic_registers)
{
	struct vlapic *l = setup();
	uint32_t v;

	/* Writable bits only. */
	wr(l, VLAPIC_REG_TPR, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_TPR), 0xff);
	wr(l, VLAPIC_REG_TPR, 0);
	wr(l, VLAPIC_REG_LDR, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LDR), 0xff000000u);
	wr(l, VLAPIC_REG_DFR, 0);
	CHECK_EQ(rd(l, VLAPIC_REG_DFR), 0x0fffffffu);
	wr(l, VLAPIC_REG_SVR, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_SVR), 0x3ff);
	wr(l, VLAPIC_REG_LVT_LINT0, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_LINT0), 0x1a7ff);
	wr(l, VLAPIC_REG_LVT_LINT1, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_LINT1), 0x1a7ff);
	wr(l, VLAPIC_REG_LVT_ERROR, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_ERROR), 0x100ff);
	wr(l, VLAPIC_REG_LVT_THERMAL, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_THERMAL), 0x107ff);
	wr(l, VLAPIC_REG_LVT_PERFMON, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_PERFMON), 0x107ff);
	wr(l, VLAPIC_REG_TIMER_DCR, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_DCR), 0xb);
	wr(l, VLAPIC_REG_ICR_HI, 0xffffffff);
	CHECK_EQ(rd(l, VLAPIC_REG_ICR_HI), 0xff000000u);

	/* Read-only registers ignore writes without an error. */
	wr(l, VLAPIC_REG_ID, 0x09000000);
	wr(l, VLAPIC_REG_VERSION, 0);
	wr(l, VLAPIC_REG_PPR, 0xff);
	wr(l, VLAPIC_REG_IRR, 0xffffffff);
	wr(l, VLAPIC_REG_TIMER_CCR, 5);
	CHECK_EQ(rd(l, VLAPIC_REG_ID), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_VERSION), VLAPIC_VERSION);
	CHECK_EQ(rd(l, VLAPIC_REG_IRR), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_EOI), 0);
	CHECK_EQ(read_esr(l), 0);

	/* Reserved registers: read 0, ESR bit 7 (10.5.3). */
	CHECK_EQ(rd(l, 0x040), 0);
	CHECK_EQ(read_esr(l), VLAPIC_ESR_ILLEGAL_REG);
	CHECK_EQ(read_esr(l), 0);
	wr(l, VLAPIC_REG_SELF_IPI, 0x40); /* x2APIC only */
	CHECK_EQ(n_ipis, 0);
	CHECK_EQ(read_esr(l), VLAPIC_ESR_ILLEGAL_REG);
	wr(l, VLAPIC_REG_LVT_CMCI, 0x40);
	CHECK_EQ(read_esr(l), VLAPIC_ESR_ILLEGAL_REG);

	/* Sub-dword reads, misaligned and short writes. */
	wr(l, VLAPIC_REG_LDR, 0xab000000);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_LDR + 3, 1, &v), 0);
	CHECK_EQ(v, 0xab);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_LDR + 2, 2, &v), 0);
	CHECK_EQ(v, 0xab00);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_LDR + 2, 4, &v), -EINVAL);
	CHECK_EQ(v, 0);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_LDR + 4, 4, &v), -EINVAL);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_LDR, 8, &v), -EINVAL);
	CHECK_EQ(vlapic_mmio_read(l, 0x1000, 4, &v), -EINVAL);
	CHECK_EQ(vlapic_mmio_write(l, VLAPIC_REG_TPR, 1, 0x30), -EINVAL);
	CHECK_EQ(vlapic_mmio_write(l, VLAPIC_REG_TPR + 4, 4, 0x30), -EINVAL);
	CHECK_EQ(rd(l, VLAPIC_REG_TPR), 0);
	CHECK_EQ(read_esr(l), 0);
}

/* 10.8.3.1: PPR from TPR and ISRV; delivery only above PPR[7:4]; 10.8.5 EOI. */
TEST(priority_and_eoi)
{
	struct vlapic *l = setup();

	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	CHECK(vlapic_accept(l, 0x31, false));
	CHECK(vlapic_accept(l, 0x52, false));
	CHECK(vlapic_accept(l, 0x45, false));
	CHECK_EQ(rd(l, VLAPIC_REG_IRR + 0x10), 1u << (0x31 - 32));
	CHECK_EQ(rd(l, VLAPIC_REG_IRR + 0x20), (1u << (0x52 - 64)) | (1u << (0x45 - 64)));
	CHECK_EQ(vlapic_highest_deliverable(l), 0x52);

	/* TPR masks classes at or below it. */
	wr(l, VLAPIC_REG_TPR, 0x52);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x52);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	wr(l, VLAPIC_REG_TPR, 0x4f);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x52);
	wr(l, VLAPIC_REG_TPR, 0);

	vlapic_ack(l, 0x52);
	CHECK_EQ(rd(l, VLAPIC_REG_ISR + 0x20), 1u << (0x52 - 64));
	CHECK_EQ(rd(l, VLAPIC_REG_IRR + 0x20), 1u << (0x45 - 64));
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x50);
	/* 0x45 is in a lower class than the in-service 0x52. */
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	/* Same class as the in-service one: held. */
	CHECK(vlapic_accept(l, 0x5f, false));
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	/* Higher class nests. */
	CHECK(vlapic_accept(l, 0x61, false));
	CHECK_EQ(vlapic_highest_deliverable(l), 0x61);
	vlapic_ack(l, 0x61);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x60);
	/* TPR above the ISR class: PPR = TPR. */
	wr(l, VLAPIC_REG_TPR, 0x7a);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x7a);
	wr(l, VLAPIC_REG_TPR, 0x63);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x63);
	wr(l, VLAPIC_REG_TPR, 0x5f);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0x60);
	wr(l, VLAPIC_REG_TPR, 0);

	/* EOI retires the highest in-service vector first. */
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(rd(l, VLAPIC_REG_ISR + 0x30), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_ISR + 0x20), 1u << (0x52 - 64));
	CHECK_EQ(vlapic_highest_deliverable(l), -1); /* 0x5f: same class as 0x52 */
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(rd(l, VLAPIC_REG_PPR), 0);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x5f);
	vlapic_ack(l, 0x5f);
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x45);
	vlapic_ack(l, 0x45);
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x31);
	vlapic_ack(l, 0x31);
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	/* EOI with nothing in service, ack of a vector not requested: no-ops. */
	wr(l, VLAPIC_REG_EOI, 0);
	vlapic_ack(l, 0x99);
	CHECK_EQ(rd(l, VLAPIC_REG_ISR + 0x40), 0);
	CHECK_EQ(n_eois, 0);

	/* CR8 view of the TPR. */
	vlapic_set_tpr(l, 0x1f0);
	CHECK_EQ(vlapic_get_tpr(l), 0xf0);
	CHECK_EQ(vlapic_ppr(l), 0xf0);
}

/* Level-triggered vectors set TMR and report their EOI. */
TEST(level_eoi)
{
	struct vlapic *l = setup();

	CHECK(vlapic_accept(l, 0x41, true));
	CHECK_EQ(rd(l, VLAPIC_REG_TMR + 0x20), 1u << 1);
	CHECK(vlapic_accept(l, 0x30, false));
	CHECK_EQ(rd(l, VLAPIC_REG_TMR + 0x10), 0);
	vlapic_ack(l, vlapic_highest_deliverable(l));
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(n_eois, 1);
	CHECK_EQ(eoi_vectors[0], 0x41);
	vlapic_ack(l, vlapic_highest_deliverable(l));
	wr(l, VLAPIC_REG_EOI, 0);
	CHECK_EQ(n_eois, 1); /* edge: no EOI broadcast */
	/* An edge acceptance of the same vector clears its TMR bit. */
	CHECK(vlapic_accept(l, 0x41, false));
	CHECK_EQ(rd(l, VLAPIC_REG_TMR + 0x20), 0);
}

/* 10.4.7.2: software disable. */
TEST(software_disable)
{
	struct vlapic *l = setup();

	wr(l, VLAPIC_REG_LVT_LINT0, 0x700);
	wr(l, VLAPIC_REG_LVT_TIMER, 0x30);
	CHECK(vlapic_accept(l, 0x50, false));
	wr(l, VLAPIC_REG_SVR, 0xff);
	/* All LVTs masked, and cannot be unmasked. */
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_LINT0), 0x10700);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_TIMER), 0x10030);
	wr(l, VLAPIC_REG_LVT_TIMER, 0x31);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_TIMER), 0x10031);
	/* Nothing new accepted; what was pending is held and still delivered. */
	CHECK(!vlapic_accept(l, 0x60, false));
	CHECK_EQ(vlapic_highest_deliverable(l), 0x50);
	/* IPIs can still be sent. */
	wr(l, VLAPIC_REG_ICR_LO, 0x400); /* NMI */
	CHECK_EQ(n_ipis, 1);
	/* Re-enable: LVTs stay masked until written. */
	wr(l, VLAPIC_REG_SVR, 0x1ff);
	CHECK_EQ(rd(l, VLAPIC_REG_LVT_TIMER), 0x10031);
	CHECK(vlapic_accept(l, 0x60, false));
}

/* 10.5.3: illegal vectors and the error LVT. */
TEST(errors)
{
	struct vlapic *l = setup();

	CHECK(!vlapic_accept(l, 5, false));
	CHECK_EQ(rd(l, VLAPIC_REG_ESR), 0); /* not visible before an ESR write */
	CHECK_EQ(read_esr(l), VLAPIC_ESR_RECV_ILLEGAL);
	CHECK_EQ(read_esr(l), 0);
	wr(l, VLAPIC_REG_LVT_ERROR, 0xfe);
	wr(l, VLAPIC_REG_ICR_LO, 0x0000000f); /* fixed, vector 15: not sent */
	CHECK_EQ(n_ipis, 0);
	CHECK_EQ(vlapic_highest_deliverable(l), 0xfe);
	CHECK_EQ(read_esr(l), VLAPIC_ESR_SEND_ILLEGAL);
	/* An illegal error vector does not loop. */
	wr(l, VLAPIC_REG_LVT_ERROR, 0x03);
	CHECK(!vlapic_accept(l, 1, false));
	CHECK_EQ(read_esr(l), VLAPIC_ESR_RECV_ILLEGAL);
}

/* 10.6.1: ICR decode in xAPIC mode. */
TEST(icr_xapic)
{
	struct vlapic *l = setup();

	wr(l, VLAPIC_REG_ICR_HI, 0x03000000);
	wr(l, VLAPIC_REG_ICR_LO, 0x000040fd); /* fixed, physical, assert, edge */
	CHECK_EQ(n_ipis, 1);
	CHECK_EQ(ipis[0].dest, 3);
	CHECK_EQ(ipis[0].vector, 0xfd);
	CHECK_EQ(ipis[0].delivery_mode, VLAPIC_DM_FIXED);
	CHECK_EQ(ipis[0].shorthand, VLAPIC_SH_NONE);
	CHECK(!ipis[0].logical);
	CHECK(ipis[0].level_assert);
	CHECK(!ipis[0].trigger_level);
	CHECK(!ipis[0].x2apic);
	CHECK_EQ(rd(l, VLAPIC_REG_ICR_LO), 0x40fd); /* delivery status idle */

	wr(l, VLAPIC_REG_ICR_HI, 0x0c000000);
	wr(l, VLAPIC_REG_ICR_LO, 0x00000931); /* lowest priority, logical */
	CHECK_EQ(n_ipis, 2);
	CHECK_EQ(ipis[1].dest, 0x0c);
	CHECK_EQ(ipis[1].delivery_mode, VLAPIC_DM_LOWEST);
	CHECK(ipis[1].logical);

	wr(l, VLAPIC_REG_ICR_LO, 0x0000c500); /* INIT level assert */
	CHECK_EQ(ipis[2].delivery_mode, VLAPIC_DM_INIT);
	CHECK(ipis[2].level_assert && ipis[2].trigger_level);
	wr(l, VLAPIC_REG_ICR_LO, 0x00008500); /* INIT level de-assert: dropped */
	CHECK_EQ(n_ipis, 3);
	wr(l, VLAPIC_REG_ICR_LO, 0x00004698); /* STARTUP at 0x98000 */
	CHECK_EQ(ipis[3].delivery_mode, VLAPIC_DM_STARTUP);
	CHECK_EQ(ipis[3].vector, 0x98);
	wr(l, VLAPIC_REG_ICR_LO, 0x00004400); /* NMI */
	CHECK_EQ(ipis[4].delivery_mode, VLAPIC_DM_NMI);
	wr(l, VLAPIC_REG_ICR_LO, 0x00004300); /* reserved mode */
	wr(l, VLAPIC_REG_ICR_LO, 0x00004700); /* ExtINT */
	CHECK_EQ(n_ipis, 5);

	/* Shorthands. */
	wr(l, VLAPIC_REG_ICR_LO, 0x00044020);
	CHECK_EQ(ipis[5].shorthand, VLAPIC_SH_SELF);
	wr(l, VLAPIC_REG_ICR_LO, 0x00084021);
	CHECK_EQ(ipis[6].shorthand, VLAPIC_SH_ALL_INCL);
	wr(l, VLAPIC_REG_ICR_LO, 0x000c4022);
	CHECK_EQ(ipis[7].shorthand, VLAPIC_SH_ALL_EXCL);
	CHECK_EQ(ipis[7].vector, 0x22);
	/* Reserved bits of the ICR are dropped. */
	wr(l, VLAPIC_REG_ICR_LO, 0xfffff0ffu);
	CHECK_EQ(rd(l, VLAPIC_REG_ICR_LO), 0x000cc0ffu);
}

/* Routing through vlapic_ipi_match. */
TEST(ipi_routing)
{
	struct vlapic *l = setup();

	route_ipis = true;
	wr(l, VLAPIC_REG_ICR_HI, 0x02000000);
	wr(l, VLAPIC_REG_ICR_LO, 0x00004050);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[2]), 0x50);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[1]), -1);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[0]), -1);
	wr(l, VLAPIC_REG_ICR_LO, 0x000c4060); /* all excluding self */
	CHECK_EQ(vlapic_highest_deliverable(&cpus[1]), 0x60);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[2]), 0x60);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[0]), -1);
	wr(l, VLAPIC_REG_ICR_LO, 0x00044070); /* self */
	CHECK_EQ(vlapic_highest_deliverable(&cpus[0]), 0x70);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[1]), 0x60);
	wr(l, VLAPIC_REG_ICR_LO, 0x00084080); /* all including self */
	for (int i = 0; i < NCPU; i++)
		CHECK_EQ(vlapic_highest_deliverable(&cpus[i]), 0x80);
	/* Physical broadcast. */
	wr(l, VLAPIC_REG_ICR_HI, 0xff000000);
	wr(l, VLAPIC_REG_ICR_LO, 0x00004090);
	for (int i = 0; i < NCPU; i++)
		CHECK_EQ(vlapic_highest_deliverable(&cpus[i]), 0x90);
	/* A globally disabled APIC is no destination. */
	CHECK_EQ(vlapic_msr_write(&cpus[1], VLAPIC_MSR_APIC_BASE, 0xfee00000), 0);
	wr(l, VLAPIC_REG_ICR_LO, 0x000840a0);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[2]), 0xa0);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[1]), -1);
}

/* 10.6.2: destination matching. */
TEST(destinations)
{
	struct vlapic *l = setup();

	l = &cpus[2];
	/* Physical. */
	CHECK(vlapic_matches(l, 2, false, false));
	CHECK(!vlapic_matches(l, 3, false, false));
	CHECK(vlapic_matches(l, 0xff, false, false));
	/* Flat logical: LDR bit mask. */
	wr(l, VLAPIC_REG_LDR, 0x04000000);
	CHECK(vlapic_matches(l, 0x04, true, false));
	CHECK(vlapic_matches(l, 0x0c, true, false));
	CHECK(!vlapic_matches(l, 0x03, true, false));
	CHECK(vlapic_matches(l, 0xff, true, false));
	CHECK(!vlapic_matches(l, 2, true, false));
	/* Cluster logical: cluster 2, member bit 1. */
	wr(l, VLAPIC_REG_DFR, 0x0fffffff);
	wr(l, VLAPIC_REG_LDR, 0x22000000);
	CHECK(vlapic_matches(l, 0x22, true, false));
	CHECK(vlapic_matches(l, 0x23, true, false));
	CHECK(!vlapic_matches(l, 0x21, true, false));
	CHECK(!vlapic_matches(l, 0x12, true, false));
	CHECK(vlapic_matches(l, 0xff, true, false));
	/* Unknown DFR model. */
	wr(l, VLAPIC_REG_DFR, 0x5fffffff);
	CHECK(!vlapic_matches(l, 0x22, true, false));

	/* x2APIC: ID 0x23 -> LDR cluster 2, bit 3. */
	{
		struct vlapic_env env = { .now_tsc = fake_now, .tsc_khz = 1000000 };
		struct vlapic x;

		vlapic_init(&x, &env, 0x23, false);
		to_x2apic(&x);
		CHECK_EQ(rdmsr_ok(&x, 0x80d), 0x00020008u);
		CHECK_EQ(rdmsr_ok(&x, 0x802), 0x23);
		CHECK(vlapic_matches(&x, 0x00020008, true, true));
		CHECK(vlapic_matches(&x, 0x0002000c, true, true));
		CHECK(!vlapic_matches(&x, 0x00020004, true, true));
		CHECK(!vlapic_matches(&x, 0x00010008, true, true));
		CHECK(vlapic_matches(&x, 0xffffffff, true, true));
		CHECK(vlapic_matches(&x, 0x23, false, true));
		CHECK(!vlapic_matches(&x, 0x24, false, true));
		CHECK(!vlapic_matches(&x, 0xff, false, true));
		CHECK(vlapic_matches(&x, 0xffffffff, false, true));
		/* 8-bit destinations (IOAPIC/MSI): physical ID, broadcast 0xFF. */
		CHECK(vlapic_matches(&x, 0x23, false, false));
		CHECK(vlapic_matches(&x, 0xff, false, false));
		/* A large x2APIC ID. */
		vlapic_init(&x, &env, 0x12345, false);
		to_x2apic(&x);
		CHECK_EQ(rdmsr_ok(&x, 0x80d), 0x12340020u);
		CHECK(vlapic_matches(&x, 0x12345, false, true));
		CHECK(!vlapic_matches(&x, 0x45, false, false));
		CHECK(vlapic_matches(&x, 0x12340020, true, true));
	}
}

/* 10.12.5: IA32_APIC_BASE transitions. */
TEST(apic_base_transitions)
{
	struct vlapic *l = setup();
	uint64_t base = 0xfee00900ull;
	uint32_t v;
	uint64_t m;

	/* Reserved bits, invalid state. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | 1), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | (1ull << 9)), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | (1ull << 52)), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, 0xfee00400ull), -EINVAL);
	/* x2APIC MSRs #GP in xAPIC mode. */
	CHECK_EQ(vlapic_msr_read(l, 0x802, &m), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 0), -EINVAL);
	/* Not APIC MSRs. */
	CHECK_EQ(vlapic_msr_read(l, 0x10, &m), -ENOENT);
	CHECK_EQ(vlapic_msr_write(l, 0x900, 0), -ENOENT);

	/* Relocation. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, 0xfed00900ull), 0);
	CHECK_EQ(vlapic_mmio_base(l), 0xfed00000ull);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base), 0);

	/* xAPIC -> x2APIC keeps registers. */
	wr(l, VLAPIC_REG_TPR, 0x30);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | VLAPIC_BASE_EXTD), 0);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_X2APIC);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_APIC_BASE), 0xfee00d00ull);
	CHECK_EQ(rdmsr_ok(l, 0x808), 0x30);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_TPR, 4, &v), -ENODEV);
	CHECK_EQ(v, 0);
	CHECK_EQ(vlapic_mmio_write(l, VLAPIC_REG_TPR, 4, 0), -ENODEV);
	/* x2APIC -> xAPIC is illegal. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base), -EINVAL);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_X2APIC);
	/* INIT keeps x2APIC mode and the ID. */
	vlapic_reset(l);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_X2APIC);
	CHECK_EQ(rdmsr_ok(l, 0x808), 0);
	CHECK_EQ(rdmsr_ok(l, 0x80f), 0xff);
	/* x2APIC -> disabled: state lost. */
	CHECK_EQ(vlapic_msr_write(l, 0x80f, 0x1ff), 0);
	CHECK(vlapic_accept(l, 0x40, false));
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, 0xfee00100ull), 0);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_DISABLED);
	CHECK(!vlapic_accept(l, 0x41, false));
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	CHECK_EQ(vlapic_mmio_read(l, VLAPIC_REG_ID, 4, &v), -ENODEV);
	CHECK_EQ(vlapic_msr_read(l, 0x802, &m), -EINVAL);
	/* Disabled -> x2APIC is illegal; disabled -> xAPIC is fine. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base | VLAPIC_BASE_EXTD), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_SVR), 0xff);
	CHECK_EQ(rd(l, VLAPIC_REG_IRR + 0x20), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_ID), 0);
	/* xAPIC -> disabled -> xAPIC. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, 0xfee00100ull), 0);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_APIC_BASE, base), 0);
	CHECK_EQ(vlapic_mode(l), VLAPIC_MODE_XAPIC);

	/* A guest without x2APIC: EXTD is reserved. Small MAXPHYADDR. */
	{
		struct vlapic_env env = { .now_tsc = fake_now, .no_x2apic = true, .phys_bits = 36 };
		struct vlapic x;

		vlapic_init(&x, &env, 1, false);
		CHECK_EQ(vlapic_msr_write(&x, VLAPIC_MSR_APIC_BASE,
					  0xfee00800ull | VLAPIC_BASE_EXTD),
			 -EINVAL);
		CHECK_EQ(vlapic_msr_write(&x, VLAPIC_MSR_APIC_BASE, 0xf00000800ull), 0);
		CHECK_EQ(vlapic_msr_write(&x, VLAPIC_MSR_APIC_BASE, 0x1000000800ull), -EINVAL);
	}
}

/* 10.12.1.2 / 10.12.1.3: x2APIC MSR access rules. */
TEST(x2apic_msrs)
{
	struct vlapic *l = setup();
	uint64_t v;

	to_x2apic(l);
	CHECK_EQ(rdmsr_ok(l, 0x803), VLAPIC_VERSION);
	CHECK_EQ(rdmsr_ok(l, 0x80a), 0);
	/* Write-only registers. */
	CHECK_EQ(vlapic_msr_read(l, 0x80b, &v), -EINVAL);
	CHECK_EQ(vlapic_msr_read(l, 0x83f, &v), -EINVAL);
	/* Read-only registers. */
	CHECK_EQ(vlapic_msr_write(l, 0x802, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x803, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x80a, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x80d, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x810, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x827, 0), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x839, 0), -EINVAL);
	/* Reserved registers: DFR, ICR high, APR, RRD, CMCI, unused ranges. */
	static const uint32_t reserved[] = { 0x800, 0x801, 0x804, 0x809, 0x80c, 0x80e, 0x829,
					     0x82f, 0x831, 0x83a, 0x83d, 0x840, 0x8ff };
	for (unsigned int i = 0; i < ARRAY_SIZE(reserved); i++) {
		CHECK_EQ(vlapic_msr_read(l, reserved[i], &v), -EINVAL);
		CHECK_EQ(vlapic_msr_write(l, reserved[i], 0), -EINVAL);
	}
	/* Reserved bits. */
	CHECK_EQ(vlapic_msr_write(l, 0x808, 0x100), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 1ull << 32), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 0x20), 0);
	CHECK_EQ(rdmsr_ok(l, 0x808), 0x20);
	CHECK_EQ(vlapic_msr_write(l, 0x80b, 1), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x80b, 0), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x828, 1), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x828, 0), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x80f, 0x1000), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x83e, 0x4), -EINVAL);
	CHECK_EQ(vlapic_msr_write(l, 0x83e, 0xb), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x837, 0x20000), -EINVAL); /* error LVT: no mode */
	CHECK_EQ(vlapic_msr_write(l, 0x832, 0x60000), -EINVAL); /* timer mode 11b */
	CHECK_EQ(vlapic_msr_write(l, 0x83f, 0x140), -EINVAL);
	/* Read-only status bits in an LVT are accepted and ignored. */
	CHECK_EQ(vlapic_msr_write(l, 0x835, 0x15700), 0);
	CHECK_EQ(rdmsr_ok(l, 0x835), 0x10700);
	/* The mapping covers LVTs, IRR/ISR/TMR and the timer. */
	CHECK(vlapic_accept(l, 0x99, true));
	CHECK_EQ(rdmsr_ok(l, 0x820 + 4), 1u << (0x99 - 128));
	CHECK_EQ(rdmsr_ok(l, 0x818 + 4), 1u << (0x99 - 128));
	CHECK_EQ(vlapic_msr_write(l, 0x838, 1000), 0);
	CHECK_EQ(rdmsr_ok(l, 0x838), 1000);
}

/* 10.12.9: the 64-bit ICR; 10.12.11: SELF IPI. */
TEST(icr_x2apic)
{
	struct vlapic *l = setup();

	to_x2apic(l);
	CHECK_EQ(vlapic_msr_write(l, 0x830, (0x12345678ull << 32) | 0x48fd), 0);
	CHECK_EQ(n_ipis, 1);
	CHECK_EQ(ipis[0].dest, 0x12345678u);
	CHECK_EQ(ipis[0].vector, 0xfd);
	CHECK(ipis[0].logical);
	CHECK(ipis[0].x2apic);
	CHECK_EQ(rdmsr_ok(l, 0x830), (0x12345678ull << 32) | 0x48fd);
	/* Reserved bits (delivery status included) are dropped, not faulted. */
	CHECK_EQ(vlapic_msr_write(l, 0x830, (5ull << 32) | 0xfffff040u), 0);
	CHECK_EQ(rdmsr_ok(l, 0x830), (5ull << 32) | 0x000cc040u);
	CHECK_EQ(ipis[1].shorthand, VLAPIC_SH_ALL_EXCL);

	/* SELF IPI, routed back here by the caller. */
	route_ipis = true;
	CHECK_EQ(vlapic_msr_write(l, 0x83f, 0x40), 0);
	CHECK_EQ(n_ipis, 3);
	CHECK_EQ(ipis[2].shorthand, VLAPIC_SH_SELF);
	CHECK_EQ(ipis[2].vector, 0x40);
	CHECK_EQ(ipis[2].delivery_mode, VLAPIC_DM_FIXED);
	CHECK(!ipis[2].trigger_level);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x40);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[1]), -1);
	/* Illegal self vector: ESR bit 5, nothing sent. */
	CHECK_EQ(vlapic_msr_write(l, 0x83f, 0x0e), 0);
	CHECK_EQ(n_ipis, 3);
	CHECK_EQ(vlapic_msr_write(l, 0x828, 0), 0);
	CHECK_EQ(rdmsr_ok(l, 0x828), VLAPIC_ESR_SEND_ILLEGAL);

	/* Physical x2APIC IPI routed to cpus[2] (x2APIC mode too). */
	to_x2apic(&cpus[2]);
	CHECK_EQ(vlapic_msr_write(&cpus[2], 0x80f, 0x1ff), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x830, (2ull << 32) | 0x4055), 0);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[2]), 0x55);
	/* Logical x2APIC: cluster 0, bit 2 -> ID 2. */
	CHECK_EQ(vlapic_msr_write(l, 0x830, (0x4ull << 32) | 0x4856), 0);
	CHECK_EQ(vlapic_highest_deliverable(&cpus[2]), 0x56);
}

/* 10.5.4: one-shot timer, divide configuration, current count. */
TEST(timer_oneshot)
{
	static const struct {
		uint32_t dcr, div;
	} divs[] = { { 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },   { 0x3, 16 },
		     { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 } };
	struct vlapic *l = setup(); /* 2 GHz TSC: 2 TSC ticks per bus tick */
	uint64_t t0;

	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	wr(l, VLAPIC_REG_LVT_TIMER, 0x31);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 1000);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 2000);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_ICR), 1000);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 1000);
	fake_tsc = t0 + 1000;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 500);
	fake_tsc = t0 + 1999;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 1);
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	fake_tsc = t0 + 2000;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0);
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x31);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_ICR), 1000); /* initial count is kept */
	fake_tsc += 100000;
	vlapic_timer_check(l);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0);

	/* Every divide value. */
	for (unsigned int i = 0; i < ARRAY_SIZE(divs); i++) {
		wr(l, VLAPIC_REG_TIMER_DCR, divs[i].dcr);
		CHECK_EQ(rd(l, VLAPIC_REG_TIMER_DCR), divs[i].dcr);
		t0 = fake_tsc;
		wr(l, VLAPIC_REG_TIMER_ICR, 100);
		CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 200 * divs[i].div);
		fake_tsc = t0 + 100 * divs[i].div;
		CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 50);
	}

	/* Re-writing the initial count restarts; 0 stops. */
	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 10);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 20);
	wr(l, VLAPIC_REG_TIMER_ICR, 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0);

	/* Changing the divisor mid-count keeps the current count. */
	wr(l, VLAPIC_REG_TIMER_ICR, 1000);
	fake_tsc += 1000;		  /* 500 left */
	wr(l, VLAPIC_REG_TIMER_DCR, 0x0); /* divide by 2 */
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 500);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), fake_tsc + 2000);

	/* Bus and TSC at the same rate (tsc_khz 0 = VLAPIC_BUS_KHZ). */
	l = setup_khz(0);
	wr(l, VLAPIC_REG_LVT_TIMER, 0x31);
	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 777);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 777);
}

/* Large values: 128-bit products, no overflow. */
TEST(timer_math)
{
	struct vlapic *l = setup_khz(5000000); /* 5 GHz */
	uint64_t t0 = fake_tsc;

	wr(l, VLAPIC_REG_LVT_TIMER, 0x31);
	wr(l, VLAPIC_REG_TIMER_DCR, 0xa); /* divide by 128 */
	wr(l, VLAPIC_REG_TIMER_ICR, 0xffffffffu);
	/* 0xffffffff * 128 * 5 TSC ticks. */
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 0xffffffffull * 128 * 5);
	fake_tsc = t0 + 0xffffffffull * 64 * 5;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0x80000000u);

	/* An absurd TSC rate (2^40 kHz) exercises the 128-by-64 division. */
	l = setup_khz(1ull << 40);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_LVT_TIMER, 0x31);
	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	wr(l, VLAPIC_REG_TIMER_ICR, 0xffffffffu);
	/* ceil(0xffffffff * 2^40 / 10^6) */
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 4722366481770134ull);
	fake_tsc = t0 + 4722366481770134ull / 2;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0x80000000u);
	fake_tsc = t0 + 4722366481770134ull - 1;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 1);
}

/* 10.5.4: periodic timer. */
TEST(timer_periodic)
{
	struct vlapic *l = setup();
	uint64_t t0;

	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x32);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 1000000); /* 1 ms = 2,000,000 TSC ticks */
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 2000000);
	fake_tsc = t0 + 2000000;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x32);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 4000000);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 1000000);
	vlapic_ack(l, 0x32);
	wr(l, VLAPIC_REG_EOI, 0);
	/* Reload without a check: the count wraps. */
	fake_tsc = t0 + 4500000;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 750000);
	/* Missed periods coalesce into one interrupt; the phase is kept. */
	fake_tsc = t0 + 9000000;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x32);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 10000000);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 500000);

	/* Mode change (periodic -> one-shot) disarms. */
	wr(l, VLAPIC_REG_LVT_TIMER, 0x32);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_ICR), 0);

	/* A tiny period is clamped to VLAPIC_MIN_PERIOD_NS. */
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x32);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 10);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + VLAPIC_MIN_PERIOD_NS * 2);
	/* ... but a one-shot is not. */
	wr(l, VLAPIC_REG_LVT_TIMER, 0x32);
	wr(l, VLAPIC_REG_TIMER_ICR, 10);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 20);
}

/* A masked timer counts but raises nothing. */
TEST(timer_masked)
{
	struct vlapic *l = setup();
	uint64_t t0 = fake_tsc;

	wr(l, VLAPIC_REG_TIMER_DCR, 0xb);
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | 0x33);
	wr(l, VLAPIC_REG_TIMER_ICR, 100);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	fake_tsc = t0 + 100;
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 50);
	fake_tsc = t0 + 300;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0);
	/* Unmasking after the expiry does not raise the lost interrupt. */
	wr(l, VLAPIC_REG_LVT_TIMER, 0x33);
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);

	/* Expired while masked but not yet checked: same. */
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | 0x33);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 100);
	fake_tsc = t0 + 500;
	wr(l, VLAPIC_REG_LVT_TIMER, 0x33);
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);

	/* Masked periodic keeps its phase; unmasking resumes interrupts. */
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_TIMER_PERIODIC | 0x33);
	t0 = fake_tsc;
	wr(l, VLAPIC_REG_TIMER_ICR, 1000000);
	fake_tsc = t0 + 5000000;
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x33);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 6000000);
	fake_tsc = t0 + 6000000;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x33);

	/* Software disable masks the timer. */
	wr(l, VLAPIC_REG_SVR, 0xff);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
}

/* 10.5.4.1: TSC-deadline mode. */
TEST(timer_tsc_deadline)
{
	struct vlapic *l = setup();
	uint64_t t0 = fake_tsc;

	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, t0 + 100), 0);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);

	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0x34);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, t0 + 100), 0);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), t0 + 100);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), t0 + 100);
	/* Initial count ignored, current count 0. */
	wr(l, VLAPIC_REG_TIMER_ICR, 5000);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_ICR), 0);
	CHECK_EQ(rd(l, VLAPIC_REG_TIMER_CCR), 0);
	fake_tsc = t0 + 99;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	fake_tsc = t0 + 100;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x34);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	vlapic_ack(l, 0x34);
	wr(l, VLAPIC_REG_EOI, 0);

	/* A deadline in the past fires at once. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, 5), 0);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x34);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), 0);
	vlapic_ack(l, 0x34);
	wr(l, VLAPIC_REG_EOI, 0);

	/* 0 disarms; moving the deadline. */
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, fake_tsc + 50), 0);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, 0), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	fake_tsc += 100;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, fake_tsc + 50), 0);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, fake_tsc + 500), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), fake_tsc + 500);

	/* Masked: the deadline passes silently and the MSR clears. */
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_TIMER_TSC_DEADLINE | 0x34);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);
	fake_tsc += 600;
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), 0);
	CHECK_EQ(vlapic_highest_deliverable(l), -1);

	/* Leaving TSC-deadline mode disarms. */
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0x34);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, fake_tsc + 50), 0);
	wr(l, VLAPIC_REG_LVT_TIMER, 0x34);
	wr(l, VLAPIC_REG_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0x34);
	CHECK_EQ(rdmsr_ok(l, VLAPIC_MSR_TSC_DEADLINE), 0);
	CHECK_EQ(vlapic_timer_deadline_tsc(l), 0);

	/* Works the same in x2APIC mode. */
	to_x2apic(l);
	CHECK_EQ(vlapic_msr_write(l, VLAPIC_MSR_TSC_DEADLINE, fake_tsc + 10), 0);
	fake_tsc += 10;
	vlapic_timer_check(l);
	CHECK_EQ(vlapic_highest_deliverable(l), 0x34);
}

TEST_MAIN(TEST_CASE(reset_values), TEST_CASE(xapic_registers), TEST_CASE(priority_and_eoi),
	  TEST_CASE(level_eoi), TEST_CASE(software_disable), TEST_CASE(errors),
	  TEST_CASE(icr_xapic), TEST_CASE(ipi_routing), TEST_CASE(destinations),
	  TEST_CASE(apic_base_transitions), TEST_CASE(x2apic_msrs), TEST_CASE(icr_x2apic),
	  TEST_CASE(timer_oneshot), TEST_CASE(timer_math), TEST_CASE(timer_periodic),
	  TEST_CASE(timer_masked), TEST_CASE(timer_tsc_deadline))
