/* SPDX-License-Identifier: MIT */
/*
 * The KVM paravirtual interface of a guest partition on x86: the CPUID leaves
 * 0x40000000-0x400000ff and the KVM MSRs (kvmclock, steal time, PV EOI, poll
 * control). The code is pure logic over guest memory reached through the
 * callbacks of struct kvm_pv_env; the exit handlers call it. Hypercalls are
 * in include/keel/hypercall.h, the clock arithmetic in include/keel/pvclock.h.
 *
 * Sources: Linux v6.1 arch/x86/include/uapi/asm/kvm_para.h,
 * Documentation/virt/kvm/x86/{cpuid,msr}.rst, arch/x86/kvm/{x86,lapic}.c;
 * fact sheet /work/shared/docs/kvm-pv-abi-and-linux-boot.md 0-2. What Keel offers, and
 * why: docs/kvm-abi.md.
 *
 * When the lead calls what (the vCPU's own context unless said otherwise):
 *   vCPU creation                kvm_pv_vcpu_init()
 *   INIT                         kvm_pv_vcpu_reset()
 *   CPUID 0x400000xx             kvm_cpuid()
 *   RDMSR / WRMSR                kvm_msr_read() / kvm_msr_write(): -ENOENT
 *                                means "not a KVM MSR", handle it elsewhere
 *   right after every VM exit    kvm_pv_eoi_sync_from_guest()
 *   before every VM entry        kvm_pv_clear_preempted() (flush the guest
 *                                TLB if it says so), then, if the PV-EOI
 *                                conditions hold, kvm_pv_eoi_sync_to_guest()
 *   clock parameters changed     kvm_pv_update_time()
 *   vCPU descheduled / resumed   kvm_pv_set_preempted() / kvm_pv_record_steal()
 */
#ifndef X86_KVM_PV_H
#define X86_KVM_PV_H

#include <keel/types.h>
#include <keel/pvclock.h>

/* CPUID (cpuid.rst; fact sheet 1). */
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES 0x40000001u
#define KVM_CPUID_TIMING 0x40000010u  /* TSC and APIC bus kHz (fact sheet 1.6) */
#define KVM_SIGNATURE_EBX 0x4b4d564bu /* "KVMK" */
#define KVM_SIGNATURE_ECX 0x564b4d56u /* "VMKV" */
#define KVM_SIGNATURE_EDX 0x0000004du /* "M\0\0\0" */

/* CPUID 0x40000001 EAX. */
#define KVM_FEATURE_CLOCKSOURCE (1u << 0)
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)
#define KVM_FEATURE_MMU_OP (1u << 2)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_ASYNC_PF (1u << 4)
#define KVM_FEATURE_STEAL_TIME (1u << 5)
#define KVM_FEATURE_PV_EOI (1u << 6)
#define KVM_FEATURE_PV_UNHALT (1u << 7)
#define KVM_FEATURE_PV_TLB_FLUSH (1u << 9)
#define KVM_FEATURE_ASYNC_PF_VMEXIT (1u << 10)
#define KVM_FEATURE_PV_SEND_IPI (1u << 11)
#define KVM_FEATURE_POLL_CONTROL (1u << 12)
#define KVM_FEATURE_PV_SCHED_YIELD (1u << 13)
#define KVM_FEATURE_ASYNC_PF_INT (1u << 14)
#define KVM_FEATURE_MSI_EXT_DEST_ID (1u << 15)
#define KVM_FEATURE_HC_MAP_GPA_RANGE (1u << 16)
#define KVM_FEATURE_MIGRATION_CONTROL (1u << 17)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)

/* CPUID 0x40000001 EDX. */
#define KVM_HINTS_REALTIME (1u << 0)

/*
 * Features this code can back. The hypercall ones (PV_UNHALT, PV_SEND_IPI,
 * PV_SCHED_YIELD) need the kvm_hc_env callbacks, PV_EOI needs the exit/entry
 * calls above, PV_TLB_FLUSH needs kvm_pv_clear_preempted() honoured, and
 * MSI_EXT_DEST_ID needs MSI/IOAPIC emulation that reads destination bits
 * 11:5 once an APIC ID exceeds 255. ASYNC_PF*, MMU_OP, HC_MAP_GPA_RANGE and
 * MIGRATION_CONTROL are never offered (docs/kvm-abi.md). STABLE_BIT is not a
 * feature to ask for: it follows kvm_pv_config.tsc_stable.
 */
#define KVM_PV_FEATURES_SUPPORTED                                                                  \
	(KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_NOP_IO_DELAY | KVM_FEATURE_CLOCKSOURCE2 |           \
	 KVM_FEATURE_STEAL_TIME | KVM_FEATURE_PV_EOI | KVM_FEATURE_PV_UNHALT |                     \
	 KVM_FEATURE_PV_TLB_FLUSH | KVM_FEATURE_PV_SEND_IPI | KVM_FEATURE_POLL_CONTROL |           \
	 KVM_FEATURE_PV_SCHED_YIELD | KVM_FEATURE_MSI_EXT_DEST_ID)

/* MSRs (msr.rst; fact sheet 2.1). */
#define MSR_KVM_WALL_CLOCK 0x00000011u
#define MSR_KVM_SYSTEM_TIME 0x00000012u
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02u
#define MSR_KVM_STEAL_TIME 0x4b564d03u
#define MSR_KVM_PV_EOI_EN 0x4b564d04u
#define MSR_KVM_POLL_CONTROL 0x4b564d05u
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06u
#define MSR_KVM_ASYNC_PF_ACK 0x4b564d07u
#define MSR_KVM_MIGRATION_CONTROL 0x4b564d08u
#define MSR_KVM_FIRST 0x4b564d00u /* the KVM-private range */
#define MSR_KVM_LAST 0x4b564dffu

#define KVM_MSR_ENABLED 1ull
#define KVM_STEAL_RESERVED_MASK 0x3eull /* bits 5:1 */
#define KVM_STEAL_ALIGNMENT_BITS 6	/* 64-byte aligned */

/* struct kvm_steal_time.preempted */
#define KVM_VCPU_PREEMPTED (1u << 0)
#define KVM_VCPU_FLUSH_TLB (1u << 1)

/* PV EOI: the guest byte's bit 0 (KVM_PV_EOI_ENABLED in KVM). */
#define KVM_PV_EOI_PENDING_BIT (1u << 0)

/* Steal-time area (fact sheet 2.5): 64 bytes, 64-byte aligned. */
struct kvm_steal_time {
	uint64_t steal; /* ns runnable but not running */
	uint32_t version;
	uint32_t flags;
	uint8_t preempted;
	uint8_t u8_pad[3];
	uint32_t pad[11];
};

STATIC_ASSERT(sizeof(struct kvm_steal_time) == 64, "kvm_steal_time is 64 bytes");
STATIC_ASSERT(offsetof(struct kvm_steal_time, preempted) == 16, "kvm_steal_time layout");

/* What a partition offers; one per partition, shared by its vCPUs. */
struct kvm_pv_config {
	/*
	 * KVM_FEATURE_* to offer; only those in KVM_PV_FEATURES_SUPPORTED are
	 * (kvm_pv_features()). Without KVM_FEATURE_CLOCKSOURCE2 and
	 * KVM_FEATURE_CLOCKSOURCE the guest gets no kvmclock.
	 */
	uint32_t features;
	/* Guest TSC frequency: the kvmclock scale and CPUID 0x40000010 EAX. */
	uint32_t tsc_khz;
	/* LAPIC timer input (bus) frequency: CPUID 0x40000010 EBX. */
	uint32_t apic_bus_khz;
	/*
	 * Every vCPU's TSC is the same invariant counter (one offset for the
	 * partition): offer KVM_FEATURE_CLOCKSOURCE_STABLE_BIT and set
	 * PVCLOCK_TSC_STABLE_BIT (fact sheet 2.3.6). Keel's kvmclock data are
	 * identical on all vCPUs by construction, so this only depends on the TSC.
	 */
	bool tsc_stable;
	/* vCPUs own their physical CPUs: KVM_HINTS_REALTIME (fact sheet 1.4). */
	bool realtime;
};

/*
 * The partition as the MSR code sees it. ctx is passed back to callbacks.
 *
 * kvmclock is one line for the whole partition: system time
 * = pvclock_scale_delta(guest TSC - tsc_base) with the scale of
 * cfg->tsc_khz, so time 0 is the guest TSC value tsc_base (normally the
 * partition's start). Every vCPU gets the same (tsc_base, 0, mul, shift),
 * written once per registration; kvm_pv_system_time_ns() reads the same clock
 * for Keel. The guest TSC must never be below tsc_base.
 */
struct kvm_pv_env {
	const struct kvm_pv_config *cfg;
	void *ctx;
	/*
	 * Host pointer to [gpa, gpa + len) of guest RAM, contiguous in Keel's
	 * mapping, or NULL if any of it is not RAM (the MSR write is then #GP).
	 * The pointer is kept while the registration lasts.
	 */
	void *(*gpa_to_hva)(void *ctx, uint64_t gpa, uint64_t len);
	/* The guest-visible TSC now (host TSC + the partition's offset). */
	uint64_t (*now_tsc)(void *ctx);
	uint64_t tsc_base;
	/* Real time now, ns since 1970-01-01 UTC; NULL reads as 0 (boot in 1970). */
	uint64_t (*wall_clock_ns)(void *ctx);
};

/* Per-vCPU state; embedded in the vCPU by the caller. Read-only outside kvm_pv.c. */
struct kvm_pv_vcpu {
	/* Last values written, returned by RDMSR. */
	uint64_t wall_clock_msr;
	uint64_t system_time_msr;
	uint64_t steal_time_msr;
	uint64_t pv_eoi_msr;
	uint64_t poll_control_msr;
	/* Registered guest areas; NULL when disabled. */
	volatile struct pvclock_vcpu_time_info *time;
	volatile struct kvm_steal_time *steal;
	volatile uint8_t *pv_eoi;
	/* The PV-EOI byte armed at the last entry, NULL if none ("pending"). */
	volatile uint8_t *pv_eoi_armed;
	bool time_stop_request; /* set PVCLOCK_GUEST_STOPPED at the next update */
};

/* The features cfg offers: cfg->features & supported, + STABLE_BIT when tsc_stable. */
uint32_t kvm_pv_features(const struct kvm_pv_config *cfg);

/*
 * CPUID leaves 0x40000000-0x400000ff (fact sheet 1.2-1.6):
 *   0x40000000: EAX = highest leaf (0x40000010 when cfg->tsc_khz is known,
 *               else 0x40000001), EBX:ECX:EDX = "KVMKVMKVM\0\0\0";
 *   0x40000001: EAX = kvm_pv_features(), EDX = KVM_HINTS_REALTIME if
 *               cfg->realtime, EBX = ECX = 0;
 *   0x40000010: EAX = TSC kHz, EBX = APIC bus kHz, ECX = EDX = 0;
 *   any other:  zeros. sub (ECX) is not used.
 */
void kvm_cpuid(const struct kvm_pv_config *cfg, uint32_t leaf, uint32_t sub, uint32_t *a,
	       uint32_t *b, uint32_t *c, uint32_t *d);

/* A new vCPU: everything disabled, POLL_CONTROL = 1 (KVM's value at creation). */
void kvm_pv_vcpu_init(struct kvm_pv_vcpu *s);
/*
 * INIT: drop the kvmclock, steal-time and PV-EOI registrations, so Keel
 * stops writing memory the rebooted guest may reuse (KVM kvm_vcpu_reset,
 * kvm_lapic_reset). POLL_CONTROL and the wall-clock MSR value are kept.
 */
void kvm_pv_vcpu_reset(struct kvm_pv_vcpu *s);

/*
 * WRMSR / RDMSR of msr. 0: done; -EINVAL: inject #GP; -ENOENT: not a KVM MSR
 * (outside 0x4b564d00-0x4b564dff, 0x11 and 0x12), the caller handles it. An
 * MSR whose feature is not offered is #GP, as with KVM_CAP_ENFORCE_PV_FEATURE_CPUID.
 * The rules per MSR are in arch/x86/kvm_pv.c and docs/kvm-abi.md.
 */
int kvm_msr_write(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint32_t msr,
		  uint64_t value);
int kvm_msr_read(const struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint32_t msr,
		 uint64_t *value);

/* kvmclock now, in ns: what the guest computes from its pvclock data. */
uint64_t kvm_pv_system_time_ns(const struct kvm_pv_env *env);

/*
 * Rewrite this vCPU's kvmclock structure (nothing if kvmclock is off). The
 * MSR write already does it, and the data never go stale on their own, so call
 * it only when env->tsc_base or cfg->tsc_khz changed, or after
 * kvm_pv_request_guest_stopped(); in the vCPU's context, before it resumes.
 */
void kvm_pv_update_time(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env);
/* The partition was paused: the next kvm_pv_update_time() sets PVCLOCK_GUEST_STOPPED. */
void kvm_pv_request_guest_stopped(struct kvm_pv_vcpu *s);

/*
 * Steal time (fact sheet 2.5). kvm_pv_record_steal() adds ns of "runnable but
 * not running" to the guest's counter under the version protocol; nothing if
 * steal time is off. kvm_pv_set_preempted() marks the vCPU preempted; call it
 * only when the vCPU stops at an instruction boundary and another context
 * takes its CPU. kvm_pv_clear_preempted() must run before every entry while
 * steal time is on: it atomically clears the byte and returns true if the
 * guest asked for a TLB flush (KVM_VCPU_FLUSH_TLB), which the caller must do
 * before the entry (PV_TLB_FLUSH).
 */
void kvm_pv_record_steal(struct kvm_pv_vcpu *s, uint64_t ns);
void kvm_pv_set_preempted(struct kvm_pv_vcpu *s);
bool kvm_pv_clear_preempted(struct kvm_pv_vcpu *s);

/*
 * PV EOI (fact sheet 2.6; KVM apic_sync_pv_eoi_to_guest/_from_guest).
 *
 * kvm_pv_eoi_sync_to_guest(): just before entry, when PV EOI is enabled, no
 * IRR bit is pending, the highest in-service vector is known and needs no
 * IOAPIC EOI: set the guest's bit, allowing it to skip its EOI write for that
 * vector. Returns false (nothing armed) if PV EOI is off.
 *
 * kvm_pv_eoi_sync_from_guest(): right after every exit. If a bit was armed,
 * disarm it and return true when the guest cleared it, i.e. it did EOI the
 * highest in-service vector without an exit: the caller then performs that
 * EOI (clear the highest ISR bit, update PPR) itself. False otherwise.
 */
bool kvm_pv_eoi_sync_to_guest(struct kvm_pv_vcpu *s);
bool kvm_pv_eoi_sync_from_guest(struct kvm_pv_vcpu *s);

#endif
