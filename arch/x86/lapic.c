// SPDX-License-Identifier: MIT
/*
 * Keel's use of the local APIC: its ID and sending INIT/SIPI. xAPIC
 * registers are MMIO at the IA32_APIC_BASE address; in x2APIC mode they are
 * MSRs 0x800 + offset/16 and the ICR is one 64-bit MSR (SDM Vol. 3A 12.12).
 * Keel keeps whichever mode the firmware left on.
 */
#include <keel/errno.h>
#include <keel/percpu.h>
#include <x86/cpu.h>
#include <x86/io.h>

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_ID 0x20
#define APIC_SVR 0xf0
#define APIC_EOI 0xb0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_DELIVERY_PENDING (1u << 12)
#define X2APIC_MSR(off) (0x800 + ((off) >> 4))

static uint64_t xapic_base;
static bool x2apic;

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

static uint32_t lapic_read(uint32_t off)
{
	return x2apic ? (uint32_t)rdmsr(X2APIC_MSR(off)) : mmio_read32(xapic_base + off);
}

static void lapic_write(uint32_t off, uint32_t v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(off), v);
	else
		mmio_write32(xapic_base + off, v);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	x2apic = base & APIC_BASE_X2APIC;
	xapic_base = base & 0xffffff000ull;
	/* Software-enable the APIC, spurious vector 0xff (SDM Vol. 3A 12.9). */
	lapic_write(APIC_SVR, lapic_read(APIC_SVR) | 0x1ff);
	/* Timer: one-shot, Keel's vector, divide by 1 (SDM Vol. 3A 12.5.4); stopped. */
	lapic_write(APIC_TIMER_DIV, 0xb);
	lapic_write(APIC_LVT_TIMER, KEEL_VECTOR_TIMER);
	lapic_write(APIC_TIMER_INIT, 0);
}

uint64_t lapic_timer_per_ms;

/* How fast the APIC timer counts against the TSC: 1 ms of TSC with the counter running. */
void lapic_timer_calibrate(void)
{
	uint64_t start, end;

	lapic_write(APIC_LVT_TIMER, KEEL_VECTOR_TIMER | (1u << 16)); /* masked while measuring */
	lapic_write(APIC_TIMER_INIT, 0xffffffff);
	start = rdtsc();
	end = start + 1000 * tsc_per_us;
	while (rdtsc() < end)
		cpu_relax();
	lapic_timer_per_ms = 0xffffffffull - lapic_read(APIC_TIMER_CUR);
	lapic_write(APIC_TIMER_INIT, 0);
	lapic_write(APIC_LVT_TIMER, KEEL_VECTOR_TIMER);
	if (!lapic_timer_per_ms)
		lapic_timer_per_ms = 1;
}

void lapic_timer_arm(uint64_t deadline_tsc)
{
	struct arch_percpu *ap = &this_cpu()->arch;
	uint64_t now, ticks;

	if (!deadline_tsc) {
		/*
		 * Called before every guest entry: skip the APIC write when the
		 * timer is stopped already (every other writer leaves it stopped).
		 */
		if (ap->lapic_timer_stopped)
			return;
		lapic_write(APIC_TIMER_INIT, 0);
		ap->lapic_timer_stopped = true;
		return;
	}
	ap->lapic_timer_stopped = false;
	now = rdtsc();
	/*
	 * 64-bit arithmetic (the core has no 128-bit division): the wait is
	 * clamped to 2^32 TSC ticks (about a second), which keeps it times the
	 * per-millisecond rate far from overflow; a longer wait wakes early and
	 * is armed again.
	 */
	ticks = 0;
	if (deadline_tsc > now)
		ticks = MIN(deadline_tsc - now, 1ull << 32) * lapic_timer_per_ms /
			(tsc_per_us * 1000);
	lapic_write(APIC_TIMER_INIT, (uint32_t)MIN(MAX(ticks, 1), 0xffffffffull));
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

int lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	if (x2apic) {
		wrmsr(X2APIC_MSR(APIC_ICR_LO), ((uint64_t)apic_id << 32) | icr_low);
		return 0;
	}
	lapic_write(APIC_ICR_HI, apic_id << 24);
	lapic_write(APIC_ICR_LO, icr_low);
	for (int i = 0; i < 100000; i++) {
		if (!(lapic_read(APIC_ICR_LO) & ICR_DELIVERY_PENDING))
			return 0;
		udelay(1);
	}
	return -ETIMEDOUT;
}
