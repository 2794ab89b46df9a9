// SPDX-License-Identifier: MIT
/*
 * IPI isolation: a one-vCPU partition sends NMI, INIT, STARTUP and fixed
 * interrupts to every APIC ID it can name, in every way it can name them:
 * xAPIC physical and logical destinations, the broadcast ID, the "all
 * excluding self" shorthand, x2APIC's 32-bit destinations, and the KVM
 * PV SEND_IPI hypercall with a full bitmap. Its local APIC is Keel's
 * emulation: none of this may reach another partition's CPU (the host
 * must boot on as if nothing happened, which the integration test
 * checks). The payload itself must survive its own storm.
 */
#include "guest.h"

#define LAPIC_BASE 0xfee00000ull
#define APIC_ID 0x20
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)

#define DM_FIXED 0x000
#define DM_NMI 0x400
#define DM_INIT 0x500
#define DM_STARTUP 0x600
#define LEVEL_ASSERT 0x4000
#define DEST_LOGICAL 0x800
#define SH_ALL_BUT_SELF 0xc0000
#define VECTOR 0xf0 /* nobody handles it: it must never be delivered anywhere */
#define KVM_HC_SEND_IPI 10

/* The broadcast IDs (xAPIC 0xff, x2APIC 0xffffffff) include the sender: not used. */
static const uint32_t modes[] = { DM_NMI, DM_INIT | LEVEL_ASSERT, DM_STARTUP | 0x10,
				  DM_FIXED | VECTOR };

static void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static unsigned int xapic_storm(uint32_t self)
{
	unsigned int sent = 0;

	/* Flat logical model, this vCPU in no group: logical IPIs name only the others. */
	apic_write(APIC_DFR, 0xffffffff);
	apic_write(APIC_LDR, 0);
	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		/* 0xff is the broadcast ID, self included: the shorthand below covers it. */
		for (uint32_t dest = 0; dest < 255; dest++) {
			if (dest == self)
				continue;
			apic_write(APIC_ICR_HI, dest << 24);
			apic_write(APIC_ICR_LO, modes[m]);
			apic_write(APIC_ICR_HI, dest << 24);
			apic_write(APIC_ICR_LO, modes[m] | DEST_LOGICAL);
			sent += 2;
		}
		apic_write(APIC_ICR_LO, modes[m] | SH_ALL_BUT_SELF);
		sent++;
	}
	return sent;
}

static unsigned int x2apic_storm(uint32_t self)
{
	/* Not 0xffffffff: x2APIC's broadcast, self included. */
	static const uint32_t dests[] = { 1, 2, 3, 4, 0xff, 0x100, 0xffff, 0xfffffffe };
	unsigned int sent = 0;

	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (unsigned int i = 0; i < sizeof(dests) / sizeof(dests[0]); i++) {
			if (dests[i] == self)
				continue;
			if (wrmsr_safe(MSR_X2APIC_ICR, (uint64_t)dests[i] << 32 | modes[m]))
				return sent;
			sent++;
		}
		if (wrmsr_safe(MSR_X2APIC_ICR, modes[m] | SH_ALL_BUT_SELF))
			return sent;
		sent++;
	}
	return sent;
}

void guest_main(void)
{
	uint32_t self = apic_read(APIC_ID) >> 24;
	uint64_t base, ret, delivered = 0;
	unsigned int n;

	guest_printf("guest-test: info: IPI storm from APIC ID %u\n", self);
	n = xapic_storm(self);
	check("ipi_xapic_storm_survived", true, "%u IPIs", n);

	/* PV SEND_IPI: every ID from 1 to 128 at once, in each mode (ICR's low word in a2). */
	for (unsigned int m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		int f = hypercall(HC_NATIVE, KVM_HC_SEND_IPI, ~0ull, ~0ull, 1, modes[m], &ret);

		check("ipi_pv_send_ipi_no_fault", !f, "mode 0x%x: %s", modes[m], fault_name(f));
		delivered += ret;
	}
	check("ipi_pv_send_ipi_reaches_nobody", delivered == 0,
	      "the hypercall says it delivered %llu IPIs", (unsigned long long)delivered);

	/* x2APIC mode: 32-bit destinations. */
	if (!rdmsr_safe(MSR_APIC_BASE, &base) &&
	    !wrmsr_safe(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC)) {
		n = x2apic_storm(self);
		check("ipi_x2apic_storm_survived", n == 4 * 9, "%u of 36 ICR writes taken", n);
	} else {
		note("no x2APIC mode: its storm skipped");
	}
}
