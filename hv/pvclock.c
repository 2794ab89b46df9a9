// SPDX-License-Identifier: MIT
/*
 * pvclock arithmetic and writers (include/keel/pvclock.h; fact sheet
 * /work/shared/docs/kvm-pv-abi-and-linux-boot.md 2.2, 2.3).
 *
 * Ordering: the guest reads version, the fields, then version again, and
 * retries while it is odd or changed (Linux pvclock_read_begin/retry). The
 * writers therefore store an odd version, then the fields, then the even
 * version, with a store-store barrier between the steps (Linux smp_wmb(); a
 * release fence is exactly that: a compiler barrier on x86, whose stores stay
 * in program order, and the hardware barrier elsewhere). The structures are
 * packed, so fields are written through volatile members; the compiler emits
 * one store per field and no byte-wise copy.
 */
#include <keel/pvclock.h>

#define NSEC_PER_SEC 1000000000ull

static inline void pvclock_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void pvclock_scale_for_khz(uint64_t tsc_khz, uint32_t *mul, int8_t *shift)
{
	uint64_t base;
	int s = 0;

	if (tsc_khz == 0)
		tsc_khz = 1;
	if (tsc_khz > UINT64_MAX / 1000)
		tsc_khz = UINT64_MAX / 1000;
	base = tsc_khz * 1000; /* Hz, as KVM passes tgt_tsc_khz * 1000 */

	/*
	 * kvm_get_time_scale(NSEC_PER_SEC, hz): shift the rate right until it is
	 * at most 2 GHz and fits 32 bits, then left while it is at most 1 GHz.
	 * Keel does not shift right past -1 while the rate fits 32 bits: -2 would
	 * make the guest's derived frequency a multiple of 4 kHz.
	 */
	while (base > 0xffffffffull || (base > 2 * NSEC_PER_SEC && s > -1)) {
		base >>= 1;
		s--;
	}
	while (base <= NSEC_PER_SEC) {
		base <<= 1;
		s++;
	}
	/* base is in (10^9, 2^32): mul = 10^9 * 2^32 / base is in (10^9, 2^32). */
	*mul = (uint32_t)((NSEC_PER_SEC << 32) / base);
	*shift = (int8_t)s;
}

uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	/* Linux arch/x86/include/asm/pvclock.h pvclock_scale_delta(). */
	if (shift < 0)
		delta = shift <= -64 ? 0 : delta >> -shift;
	else
		delta = shift >= 64 ? 0 : delta << shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t pvclock_tsc_khz(uint32_t mul, int8_t shift)
{
	/* Linux arch/x86/kernel/pvclock.c pvclock_tsc_khz(). */
	uint64_t khz;

	if (!mul)
		return 0;
	khz = (1000000ull << 32) / mul;
	if (shift < 0)
		khz = shift <= -64 ? 0 : khz << -shift;
	else
		khz = shift >= 64 ? 0 : khz >> shift;
	return khz;
}

void pvclock_write_vcpu_time(volatile struct pvclock_vcpu_time_info *dst,
			     const struct pvclock_params *p)
{
	uint32_t version = (dst->version + 1) | 1;
	uint8_t flags;

	dst->version = version;
	pvclock_wmb();

	/* KVM keeps a GUEST_STOPPED the guest has not acknowledged yet. */
	flags = dst->flags & PVCLOCK_GUEST_STOPPED;
	if (p->tsc_stable)
		flags |= PVCLOCK_TSC_STABLE_BIT;
	if (p->guest_stopped)
		flags |= PVCLOCK_GUEST_STOPPED;

	dst->pad0 = 0;
	dst->tsc_timestamp = p->tsc_timestamp;
	dst->system_time = p->system_time;
	dst->tsc_to_system_mul = p->mul;
	dst->tsc_shift = p->shift;
	dst->flags = flags;
	dst->pad[0] = 0;
	dst->pad[1] = 0;

	pvclock_wmb();
	dst->version = version + 1;
}

void pvclock_write_wall_clock(volatile struct pvclock_wall_clock *dst, uint64_t epoch_ns)
{
	uint32_t version = dst->version;

	if (version & 1)
		version++; /* junk in never-written memory */
	version++;
	dst->version = version;
	pvclock_wmb();

	dst->sec = (uint32_t)(epoch_ns / NSEC_PER_SEC);
	dst->nsec = (uint32_t)(epoch_ns % NSEC_PER_SEC);

	pvclock_wmb();
	dst->version = version + 1;
}
