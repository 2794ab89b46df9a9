// SPDX-License-Identifier: MIT
/*
 * kvm-clock for the host partition (docs/kvm-abi.md, "The host").
 *
 * The host keeps Keel's own signature at CPUID 0x40000000 and finds KVM's
 * at 0x40000100: Linux looks for "KVMKVMKVM" at every 0x100 step from
 * 0x40000000 (hypervisor_cpuid_base()). Only the clock is offered
 * (CLOCKSOURCE, CLOCKSOURCE2, and STABLE_BIT with an invariant TSC): the
 * host has the real local APIC and real CPUs, so PV EOI, PV IPIs, PV
 * spinlocks and steal time would only add exits.
 *
 * The host's TSC is the real one (offset 0) and its guest-physical space is
 * the machine's, so a registration is accepted only where the whole
 * structure lies in RAM the host owns (MEM_USABLE in Keel's map): never in
 * Keel's memory, a boot module or a guest partition.
 */
#include <keel/mm.h>
#include <keel/memmap.h>
#include <keel/partition.h>
#include <x86/cpu.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/kvm_pv.h>
#include <x86/vcpu.h>

#define HOST_KVM_CPUID_BASE 0x40000100u
#define HOST_KVM_FEATURES (KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2)

static struct kvm_pv_config host_kvm;
static struct kvm_pv_vcpu host_kvm_vcpu[KEEL_MAX_CPUS];

void host_kvm_init(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000007, &a, &b, &c, &d);
	host_kvm.features = HOST_KVM_FEATURES;
	host_kvm.tsc_khz = (uint32_t)tsc_khz;
	host_kvm.tsc_stable = d & (1u << 8); /* invariant TSC (CPUID 8000_0007h:EDX[8]) */
	for (uint32_t i = 0; i < KEEL_MAX_CPUS; i++)
		kvm_pv_vcpu_init(&host_kvm_vcpu[i]);
}

static void *host_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	if (!len || gpa + len < gpa || memmap_type_at(&keel_memmap, gpa) != MEM_USABLE ||
	    memmap_type_at(&keel_memmap, gpa + len - 1) != MEM_USABLE)
		return NULL;
	return phys_to_virt(gpa);
}

static struct kvm_pv_env host_env(void)
{
	return (struct kvm_pv_env){
		.cfg = &host_kvm,
		.gpa_to_hva = host_gpa_to_hva,
		.now_tsc = clock_real_tsc,
		.tsc_base = 0, /* kvm-clock counts from the TSC's reset, as the host's TSC does */
		.wall_clock_ns = clock_wall_ns,
	};
}

bool host_kvm_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	if (leaf < HOST_KVM_CPUID_BASE || leaf >= HOST_KVM_CPUID_BASE + 0x100)
		return false;
	kvm_cpuid(&host_kvm, leaf - HOST_KVM_CPUID_BASE + KVM_CPUID_SIGNATURE, sub, a, b, c, d);
	if (leaf == HOST_KVM_CPUID_BASE)
		*a += HOST_KVM_CPUID_BASE -
		      KVM_CPUID_SIGNATURE; /* the highest leaf, at this base */
	return true;
}

int host_kvm_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct kvm_pv_env env = host_env();

	return kvm_msr_read(&host_kvm_vcpu[v->id], &env, msr, value);
}

int host_kvm_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct kvm_pv_env env = host_env();

	return kvm_msr_write(&host_kvm_vcpu[v->id], &env, msr, value);
}
