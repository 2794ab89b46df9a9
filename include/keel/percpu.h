/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state. Each CPU's GS base points at its struct percpu; fields
 * other CPUs may touch say so.
 */
#ifndef KEEL_PERCPU_H
#define KEEL_PERCPU_H

#include <keel/types.h>
#include <x86/cpu.h>

#define KEEL_MAX_CPUS 256
#define KEEL_STACK_SIZE (16 * 1024)

struct vcpu;

struct percpu {
	struct percpu *self; /* at offset 0: this_cpu() reads it through GS */
	uint32_t cpu_id;     /* Keel's dense CPU number; the boot CPU is 0 */
	uint32_t apic_id;
	uint64_t stack_top;
	/* Set by the CPU itself once it runs Keel code; read by the boot CPU. */
	volatile bool online;
	/* The vCPU this CPU runs (set by the boot CPU before it releases this one). */
	struct vcpu *volatile vcpu;
	/* Set by the boot CPU when this CPU has nothing to run (no host): it halts. */
	volatile bool park;
	struct arch_percpu arch;
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* CPU number for the console prefix; 0 before GS is set up. */
unsigned int this_cpu_id(void);

extern struct percpu *percpu_table[KEEL_MAX_CPUS];
extern unsigned int nr_cpus_online;

#endif
