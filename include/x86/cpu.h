/* SPDX-License-Identifier: MIT */
/* Keel's own per-CPU descriptor tables and x86 CPU set-up. */
#ifndef X86_CPU_H
#define X86_CPU_H

#include <keel/types.h>

#define KEEL_CS 0x08
#define KEEL_DS 0x10
#define KEEL_TSS 0x18 /* 16-byte system descriptor: GDT slots 3 and 4 */

/* Keel's interrupt vectors (above every vector a partition's devices use on this CPU). */
#define KEEL_VECTOR_KICK 0xed
#define KEEL_VECTOR_TIMER 0xee
#define KEEL_VECTOR_SPURIOUS 0xff

/*
 * The vector of the STARTUP IPIs with which Keel wakes a vCPU from the
 * wait-for-SIPI state (vcpu_wake()): 0xff (start at 0xff000, in the BIOS
 * area), where no OS starts a CPU, so a wake-up is never mistaken for the
 * partition's own STARTUP.
 */
#define KEEL_SIPI_WAKE_VECTOR 0xff
/* ICR delivery modes (SDM Vol. 3A 12.6.1). */
#define ICR_DM_NMI 0x00000400
#define ICR_DM_STARTUP 0x00000600

/* Interrupt stack table slots (SDM Vol. 3A 7.7): faults that must not use a broken stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE 4096

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct arch_percpu {
	/* SVM: VM_HSAVE_PA page, and the page VMSAVE/VMLOAD keep Keel's FS/GS/TR state in. */
	uint64_t svm_hsave_pa;
	uint64_t svm_host_vmsave_pa;
	uint64_t gdt[5];
	struct tss64 tss;
	/* Inline, so the boot CPU has them before Keel can allocate anything. */
	uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
	/* This CPU's APIC timer is known to be stopped (lapic_timer_arm()). */
	bool lapic_timer_stopped;
};

struct percpu;
/* Load this CPU's GDT, TSS, IDT and GS base. */
void cpu_tables_init(struct percpu *pc);

/* Physical address of Keel's PML4 (below 4 GiB), for APs. */
uint64_t arch_keel_cr3(void);

/* TSC ticks per microsecond, calibrated against the PIT at boot. */
extern uint64_t tsc_per_us;
/* TSC frequency in kHz, from the same calibration. */
extern uint64_t tsc_khz;
void tsc_calibrate(void);
void udelay(uint64_t us);
/* The TSC (partitions run on it, offset 0) and real time in ns, as device-model callbacks. */
uint64_t clock_real_tsc(void *ctx);
uint64_t clock_wall_ns(void *ctx);
/* Read the machine's RTC once into the wall clock (drivers/rtc_cmos.c). */
void rtc_read_wallclock(void);

/* Local APIC (xAPIC MMIO or x2APIC MSRs, whichever the firmware left enabled). */
/* Local APIC timer ticks per millisecond (divide by 1), calibrated against the TSC. */
extern uint64_t lapic_timer_per_ms;
void lapic_timer_calibrate(void);
/* Fire KEEL_VECTOR_TIMER once, at TSC value deadline (0: stop the timer). */
void lapic_timer_arm(uint64_t deadline_tsc);
void lapic_eoi(void);
/* Wait with interrupts on until one of Keel's vectors arrives (then interrupts are off again). */
void cpu_wait_for_interrupt(void);
void lapic_init(void);
uint32_t lapic_id(void);
bool lapic_x2apic_mode(void);
/* Send an IPI: ICR low dword (delivery mode, vector, level) to the APIC ID. 0 or -ETIMEDOUT. */
int lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
#endif
