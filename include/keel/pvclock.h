/* SPDX-License-Identifier: MIT */
/*
 * pvclock: the paravirtual clock ABI that KVM (and Xen) guests read. The
 * hypervisor publishes, per vCPU, a (tsc_timestamp, system_time) pair and a
 * 32.32 fixed-point TSC-to-nanoseconds scale; the guest extrapolates with
 * RDTSC. A second structure gives the wall-clock time at system_time 0.
 *
 * Layouts: Linux arch/x86/include/asm/pvclock-abi.h; guest arithmetic:
 * arch/x86/include/asm/pvclock.h and arch/x86/kernel/pvclock.c (v6.1);
 * fact sheet (/work/shared/docs/kvm-pv-abi-and-linux-boot.md) 2.2 and 2.3.
 *
 * Only arithmetic and the version protocol live here; which guest memory
 * holds the structures, and when they are written, is the caller's business.
 */
#ifndef KEEL_PVCLOCK_H
#define KEEL_PVCLOCK_H

#include <keel/types.h>

/* pvclock_vcpu_time_info.flags (pvclock-abi.h). */
#define PVCLOCK_TSC_STABLE_BIT (1u << 0)
#define PVCLOCK_GUEST_STOPPED (1u << 1)
/* Defined by the ABI but "broke ABI, can't be used": Keel never sets it. */
#define PVCLOCK_COUNTS_FROM_ZERO (1u << 2)

/* Per-vCPU time structure (fact sheet 2.3.2): packed, 32 bytes. */
struct pvclock_vcpu_time_info {
	uint32_t version; /* odd while the hypervisor updates the fields */
	uint32_t pad0;
	uint64_t tsc_timestamp; /* guest TSC at system_time */
	uint64_t system_time;	/* ns */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __packed;

STATIC_ASSERT(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info is 32 bytes");
STATIC_ASSERT(offsetof(struct pvclock_vcpu_time_info, tsc_timestamp) == 8, "pvclock layout");
STATIC_ASSERT(offsetof(struct pvclock_vcpu_time_info, system_time) == 16, "pvclock layout");
STATIC_ASSERT(offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) == 24, "pvclock layout");
STATIC_ASSERT(offsetof(struct pvclock_vcpu_time_info, tsc_shift) == 28, "pvclock layout");
STATIC_ASSERT(offsetof(struct pvclock_vcpu_time_info, flags) == 29, "pvclock layout");

/* Wall clock at system_time 0 (fact sheet 2.2): packed, 12 bytes. */
struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec; /* u32: wraps in 2106, as in the ABI */
	uint32_t nsec;
} __packed;

STATIC_ASSERT(sizeof(struct pvclock_wall_clock) == 12, "pvclock_wall_clock is 12 bytes");

/* What pvclock_write_vcpu_time() publishes. */
struct pvclock_params {
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t mul; /* from pvclock_scale_for_khz() */
	int8_t shift;
	/* Set PVCLOCK_TSC_STABLE_BIT: only when every vCPU gets identical data (2.3.6). */
	bool tsc_stable;
	/* Set PVCLOCK_GUEST_STOPPED (the guest clears it itself, 2.3.3). */
	bool guest_stopped;
};

/*
 * The scale for a TSC of tsc_khz: the guest computes
 * ns = ((delta << shift, or >> -shift) * mul) >> 32. KVM's choice (fact sheet
 * 2.3.5, kvm_get_time_scale() in arch/x86/kvm/x86.c): the TSC rate, shifted so
 * that it lies in (1 GHz, 2 GHz], gives mul in [2^31, 2^32). One difference:
 * above 4 GHz Keel stops at shift -1 (mul in [2^30, 2^31)), because the guest
 * derives its TSC frequency as a multiple of 2^-shift, and -2 would be up to
 * 3 kHz off. So the guest's pvclock_tsc_khz() gives exactly tsc_khz up to
 * 2 GHz, and tsc_khz or tsc_khz - 1 up to 8.58 GHz (2^33 Hz). A tsc_khz of 0 is taken as 1 (mul is never 0: the guest divides by it).
 */
void pvclock_scale_for_khz(uint64_t tsc_khz, uint32_t *mul, int8_t *shift);

/* The guest's pvclock_scale_delta(): ns for delta TSC ticks, exact (96-bit product). */
uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift);

/* The TSC kHz the guest derives from mul/shift (Linux pvclock_tsc_khz()); 0 when mul is 0. */
uint64_t pvclock_tsc_khz(uint32_t mul, int8_t shift);

/*
 * Publish *p into *dst with the version protocol of KVM's
 * kvm_setup_guest_pvclock() (2.3.3): version = (old + 1) | 1, barrier, fields,
 * barrier, version + 1. A PVCLOCK_GUEST_STOPPED the guest has not cleared yet
 * is kept. dst must be at least 4-byte aligned (the version is stored whole).
 */
void pvclock_write_vcpu_time(volatile struct pvclock_vcpu_time_info *dst,
			     const struct pvclock_params *p);

/*
 * Publish the wall-clock time at system_time 0, epoch_ns nanoseconds since
 * 1970, with KVM's kvm_write_wall_clock() protocol (2.2): an odd version left
 * by junk is first made even, then +1 (odd), fields, +1 (even).
 */
void pvclock_write_wall_clock(volatile struct pvclock_wall_clock *dst, uint64_t epoch_ns);

#endif
