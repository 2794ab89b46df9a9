/* SPDX-License-Identifier: MIT */
/*
 * What the arch-neutral core asks of the architecture. Implemented in
 * arch/x86/.
 */
#ifndef KEEL_ARCH_H
#define KEEL_ARCH_H

#include <keel/types.h>
#include <keel/bootinfo.h>
#include <keel/acpi.h>

struct percpu;
struct partition;

/* Descriptor tables and exception handling for the boot CPU. */
void arch_early_init(struct percpu *bsp);
/* Build Keel's final page tables (direct map of all RAM and the low 4 GiB) and switch to them. */
int arch_paging_init(uint64_t ram_end);
/* Identify the CPU and its virtualization features; print them. */
void arch_print_cpu_summary(void);
/* Start every enabled CPU in the MADT. Returns the number online, the boot CPU included. */
unsigned int arch_smp_boot(const struct acpi_info *acpi, paddr_t trampoline_page);
/* Print the registers of the vCPU this CPU runs, if any. */
void arch_dump_current_vcpu(void);
/* Make every other CPU running p's vCPUs exit promptly (so they see p->stopped). */
void arch_partition_kick(struct partition *p);
/*
 * Launch the host partition: nested page tables of everything but Keel's
 * memory, its vCPUs (one per CPU online), the boot vCPU entering Linux at
 * entry with boot_params in RSI and the given page tables/GDT. Does not
 * return on success (the boot CPU runs vCPU 0); -errno otherwise.
 */
int arch_host_launch(struct partition *p, uint64_t entry, uint64_t boot_params, uint64_t cr3,
		     uint64_t gdt, uint16_t gdt_limit);

/*
 * Without a host partition (no [host] in keel.cfg): launch the guest
 * partitions on their CPUs, park the CPUs no partition uses and print that
 * the boot is complete. If a partition has CPU 0, this CPU runs its vCPU and
 * the call does not return; otherwise it returns 0 (the caller, CPU 0, then
 * idles), or -errno when no virtualization backend exists.
 */
int arch_guests_launch(void);

/*
 * Put a guest partition's vCPUs and devices back to power-on state, vCPU 0
 * at p->entry, the others waiting for STARTUP (called by vCPU 0's CPU while
 * the others wait in partition_reset_rendezvous()).
 */
void arch_partition_reset(struct partition *p);
/* Write the low size (1, 2 or 4) bytes of value to the machine's I/O port. */
void arch_port_write(uint16_t port, uint32_t value, unsigned int size);
/* Spin politely. */
/* A byte typed on Keel's console for guest p (it has the console focus): to its UART. */
void arch_partition_console_rx(struct partition *p, uint8_t c);
void arch_cpu_relax(void);
/* Microseconds since an arbitrary point (the TSC as calibrated at boot). */
uint64_t arch_time_us(void);

/* The idle loop of a CPU with nothing to do. */
__noreturn void arch_idle(void);

#endif
