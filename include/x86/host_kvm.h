/* SPDX-License-Identifier: MIT */
/*
 * kvm-clock for the host partition (arch/x86/host_kvm.c): KVM's signature
 * at CPUID 0x40000100 with the clock features, and the clock MSRs.
 */
#ifndef X86_HOST_KVM_H
#define X86_HOST_KVM_H

#include <keel/types.h>

struct vcpu;

/* The host's MSRs that exit to host_kvm_rdmsr/wrmsr (both backends' MSR maps). */
static const uint32_t host_kvm_msrs[] = { 0x11, 0x12, 0x4b564d00, 0x4b564d01 };

void host_kvm_init(void);
/* CPUID 0x40000100-0x400001ff; false for another leaf. */
bool host_kvm_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
		    uint32_t *d);
/* 0, -EINVAL (#GP) or -ENOENT (not a KVM MSR), as kvm_msr_read/write. */
int host_kvm_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value);
int host_kvm_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);

#endif
