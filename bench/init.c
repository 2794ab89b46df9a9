// SPDX-License-Identifier: MIT
/*
 * The bench initramfs's /init (bench/run, docs/performance.md): the first
 * thing the host's userspace does is read the TSC, which under QEMU
 * -icount shift=0 is the emulated time since reset (one tick per
 * instruction, plus the time skipped while every CPU idled). It prints the
 * value and powers the machine off, which ends the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

int main(void)
{
	uint64_t tsc = rdtsc_ordered();
	char line[64];
	int n = snprintf(line, sizeof(line), "keel-bench: init tsc %llu\n",
			 (unsigned long long)tsc);

	if (write(1, line, (size_t)n) != n)
		return 1;
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
