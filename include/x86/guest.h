/* SPDX-License-Identifier: MIT */
/*
 * Guest partitions on x86: creation (second-stage tables, vCPUs, entry
 * state) and the exit policies that differ from the host's: every device
 * is emulated, every port and MSR exits, and anything outside the
 * partition's RAM and device window stops it.
 */
#ifndef X86_GUEST_H
#define X86_GUEST_H

#include <keel/partition.h>
#include <x86/vcpu.h>

/* Second-stage tables for p's RAM; the device window is left out (its accesses exit). */
int guest_build_stage2(struct partition *p);
/* vCPUs of p on the CPUs in p->cpu_mask (APIC IDs 0..n-1); vCPU 0 starts at p->entry. */
int guest_create_vcpus(struct partition *p);

/* The emulated devices of p (local APICs, IOAPIC, UART, CMOS, ...). */
int guest_platform_init(struct partition *p);

enum exit_action guest_handle_io(struct vcpu *v, struct vm_exit *e);
enum exit_action guest_handle_npf(struct vcpu *v, struct vm_exit *e);
void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
		 uint32_t *d);
/* 0, or -EINVAL for a #GP. */
int guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value);
int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);
enum exit_action guest_handle_hlt(struct vcpu *v, struct vm_exit *e);
enum exit_action guest_handle_hypercall(struct vcpu *v, struct vm_exit *e);
enum exit_action guest_handle_ud(struct vcpu *v, struct vm_exit *e);
void guest_after_exit(struct vcpu *v);
/* Before each entry: timers, pending interrupts, injection. */
void guest_prepare_entry(struct vcpu *v);
/* May v's exit take the hot path (vcpu_exit_fast())? No PV EOI waiting to be noticed. */
bool guest_fast_exit_ok(struct vcpu *v);
/* INIT for a guest vCPU: its local APIC and paravirtual state back to their reset values. */
void guest_vcpu_init(struct vcpu *v);

#endif
