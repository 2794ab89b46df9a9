// SPDX-License-Identifier: MIT
/*
 * Boot-time delays. The TSC is calibrated once against PIT channel 2, which
 * every PC (and QEMU and Bochs) has and which can be polled without
 * interrupts through port 0x61 bit 5 (OUT2).
 */
#include <x86/cpu.h>
#include <x86/io.h>
#include <keel/arch.h>
#include <keel/wallclock.h>

#define PIT_HZ 1193182ull
#define CALIBRATE_MS 10

uint64_t tsc_per_us = 1000; /* until calibrated: assume 1 GHz */
uint64_t tsc_khz = 1000000;

void tsc_calibrate(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
	uint8_t gate = inb(0x61);
	uint64_t start, end;
	unsigned long spins = 0;

	/* Gate on, speaker off; channel 2, lobyte/hibyte, mode 0 (one-shot). */
	outb(0x61, (gate & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	start = rdtsc();
	while (!(inb(0x61) & 0x20) && spins < 100000000ul)
		spins++;
	end = rdtsc();
	outb(0x61, gate);
	if (end > start && spins < 100000000ul) {
		tsc_per_us = (end - start) / (CALIBRATE_MS * 1000);
		tsc_khz = (end - start) / CALIBRATE_MS;
	}
	if (!tsc_per_us)
		tsc_per_us = 1;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_per_us;

	while (rdtsc() < end)
		cpu_relax();
}

uint64_t arch_time_us(void)
{
	return rdtsc() / tsc_per_us;
}

/* Clocks in the shape device models take (vlapic, kvm-clock): partitions run on the real TSC. */
uint64_t clock_real_tsc(void *ctx)
{
	return rdtsc();
}

uint64_t clock_wall_ns(void *ctx)
{
	return wallclock_ns(rdtsc());
}
