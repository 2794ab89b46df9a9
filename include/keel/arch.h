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

/* Descriptor tables and exception handling for the boot CPU. */
void arch_early_init(struct percpu *bsp);
/* Build Keel's final page tables (direct map of all RAM and the low 4 GiB) and switch to them. */
int arch_paging_init(uint64_t ram_end);
/* Identify the CPU and its virtualization features; print them. */
void arch_print_cpu_summary(void);
/* Start every enabled CPU in the MADT. Returns the number online, the boot CPU included. */
unsigned int arch_smp_boot(const struct acpi_info *acpi, paddr_t trampoline_page);
/* The idle loop of a CPU with nothing to do. */
__noreturn void arch_idle(void);

#endif
