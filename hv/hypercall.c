// SPDX-License-Identifier: MIT
/*
 * KVM hypercall semantics (include/keel/hypercall.h), after Linux v6.1
 * arch/x86/kvm/x86.c kvm_emulate_hypercall() and arch/x86/kvm/lapic.c
 * kvm_pv_send_ipi(); fact sheet (/work/shared/docs/kvm-pv-abi-and-linux-boot.md) 3.1-3.4.
 *
 * APIC IDs from the guest are 64-bit register values. An ID that does not
 * fit 32 bits, or is the x2APIC broadcast 0xffffffff, names no vCPU, so no
 * callback ever sees one. (KVM truncates them and would, for instance, wrap
 * the second SEND_IPI half around to ID 0; a correct guest never relies on it.)
 */
#include <keel/hypercall.h>

#define APIC_ID_NONE 0xffffffffull /* the x2APIC broadcast: never one vCPU */

static bool apic_id_valid(uint64_t id)
{
	return id < APIC_ID_NONE;
}

/* One half of the KVM_HC_SEND_IPI bitmap: bit i stands for APIC ID min + i. */
static int64_t send_ipi_half(const struct kvm_hc_env *env, uint64_t bitmap, uint64_t min,
			     uint8_t vector, uint8_t mode)
{
	int64_t count = 0;

	while (bitmap) {
		uint64_t id = min + (uint64_t)__builtin_ctzll(bitmap);

		bitmap &= bitmap - 1;
		if (!apic_id_valid(id))
			break; /* IDs only grow from here */
		if (env->send_ipi(env->ctx, (uint32_t)id, vector, mode))
			count++;
	}
	return count;
}

/*
 * KVM_HC_SEND_IPI (kvm_pv_send_ipi): a0 and a1 are the low and high halves of
 * a bitmap of APIC IDs starting at min = a2 (a u32 in KVM), each half as wide
 * as a register (64 bits, or 32 when the caller is not in 64-bit mode, its
 * arguments then being truncated already). a3 is an ICR low word: logical
 * destination mode or a shorthand is -KVM_EINVAL; the vector and the delivery
 * mode (bits 10:8) are taken from it. The guest (6.1 arch/x86/kernel/kvm.c
 * __send_ipi_mask) sends APIC_DM_FIXED | vector, or APIC_DM_NMI.
 */
static int64_t hc_send_ipi(const struct kvm_hc_env *env, uint64_t lo, uint64_t hi, uint64_t a2,
			   uint64_t icr)
{
	uint64_t min = (uint32_t)a2;
	uint64_t cluster = env->op_32bit ? 32 : 64;
	uint8_t vector = (uint8_t)(icr & 0xff);
	uint8_t mode = (uint8_t)((icr >> 8) & 7);

	if (icr & (KVM_IPI_ICR_DEST_LOGICAL | KVM_IPI_ICR_SHORTHAND))
		return -KVM_EINVAL;
	return send_ipi_half(env, lo, min, vector, mode) +
	       send_ipi_half(env, hi, min + cluster, vector, mode);
}

int64_t kvm_hypercall(const struct kvm_hc_env *env, unsigned int cpl, uint64_t nr, uint64_t a0,
		      uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;

	if (env->op_32bit) {
		nr = (uint32_t)nr;
		a0 = (uint32_t)a0;
		a1 = (uint32_t)a1;
		a2 = (uint32_t)a2;
		a3 = (uint32_t)a3;
	}

	/* Checked before the number: an unknown call from CPL 3 is -KVM_EPERM too. */
	if (cpl != 0) {
		ret = -KVM_EPERM;
		goto out;
	}

	switch (nr) {
	case KVM_HC_VAPIC_POLL_IRQ:
		ret = 0;
		break;
	case KVM_HC_KICK_CPU:
		if (!env->kick) {
			ret = -KVM_ENOSYS;
			break;
		}
		if (apic_id_valid(a1))
			env->kick(env->ctx, (uint32_t)a1);
		ret = 0;
		break;
	case KVM_HC_CLOCK_PAIRING:
		/*
		 * Not implemented: KVM's answer when the host clock is not TSC-based.
		 * 6.1 ptp_kvm probes it unconditionally and takes -EOPNOTSUPP quietly
		 * (drivers/ptp/ptp_kvm_x86.c, ptp_kvm_common.c).
		 */
		ret = -KVM_EOPNOTSUPP;
		break;
	case KVM_HC_SEND_IPI:
		if (!env->send_ipi) {
			ret = -KVM_ENOSYS;
			break;
		}
		ret = hc_send_ipi(env, a0, a1, a2, a3);
		break;
	case KVM_HC_SCHED_YIELD:
		if (!env->yield_to) {
			ret = -KVM_ENOSYS;
			break;
		}
		if (apic_id_valid(a0))
			env->yield_to(env->ctx, (uint32_t)a0);
		ret = 0;
		break;
	default:
		/* Includes MMU_OP (deprecated) and MAP_GPA_RANGE (SEV only). */
		ret = -KVM_ENOSYS;
		break;
	}

out:
	if (env->op_32bit)
		ret = (int64_t)(uint32_t)ret;
	return ret;
}
