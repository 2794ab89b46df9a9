/* SPDX-License-Identifier: MIT */
/*
 * Partitions: a set of CPUs and memory running one OS. The host partition
 * (Linux, owning the devices) is partition 0. A partition that faults is
 * stopped with a report; the others and Keel keep running.
 */
#ifndef KEEL_PARTITION_H
#define KEEL_PARTITION_H

#include <keel/types.h>
#include <keel/percpu.h>

#define PARTITION_NAME_MAX 32

struct vcpu;

struct partition {
	char name[PARTITION_NAME_MAX];
	uint32_t id; /* 0: the host */
	uint32_t nr_vcpus;
	struct vcpu *vcpus[KEEL_MAX_CPUS];
	/* Set once, by whichever CPU stops the partition; read by all its vCPUs. */
	volatile bool stopped;
	/* The second-stage page tables (arch-specific, opaque here). */
	void *stage2;
	/* Bumped when the second-stage tables lose a mapping: vCPUs flush their TLBs. */
	volatile uint32_t stage2_gen;
	/* vCPUs that have left the wait-for-SIPI state. */
	volatile uint32_t nr_running;
};

extern struct partition host_partition;

/*
 * Stop partition p for the reason given (printed with the partition's name);
 * its other vCPUs stop at their next exit. The caller's vCPU stops too.
 */
void partition_stop(struct partition *p, const char *fmt, ...) __printf(2, 3);

/* Console output from a partition's serial port, one byte at a time (hv/console.c). */
void console_partition_putc(struct partition *p, char c);

#endif
