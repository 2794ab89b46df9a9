/* SPDX-License-Identifier: MIT */
/*
 * KVM hypercall semantics, without the trap: the caller decodes the
 * hypercall (number in RAX, a0..a3 in RBX, RCX, RDX, RSI on x86), calls
 * kvm_hypercall() and writes its result to RAX. Sources: Linux v6.1
 * Documentation/virt/kvm/x86/hypercalls.rst, include/uapi/linux/kvm_para.h,
 * arch/x86/kvm/x86.c kvm_emulate_hypercall(), arch/x86/kvm/lapic.c
 * kvm_pv_send_ipi(); fact sheet (/work/shared/docs/kvm-pv-abi-and-linux-boot.md) 3.
 */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <keel/types.h>

/* Errors, returned negated (include/uapi/linux/kvm_para.h; fact sheet 3.2). */
#define KVM_ENOSYS 1000
#define KVM_EFAULT 14
#define KVM_EINVAL 22
#define KVM_E2BIG 7
#define KVM_EPERM 1
#define KVM_EOPNOTSUPP 95

/* Numbers (fact sheet 3.3). */
#define KVM_HC_VAPIC_POLL_IRQ 1
#define KVM_HC_MMU_OP 2 /* deprecated: -KVM_ENOSYS */
#define KVM_HC_FEATURES 3
#define KVM_HC_PPC_MAP_MAGIC_PAGE 4
#define KVM_HC_KICK_CPU 5
#define KVM_HC_MIPS_GET_CLOCK_FREQ 6
#define KVM_HC_MIPS_EXIT_VM 7
#define KVM_HC_MIPS_CONSOLE_OUTPUT 8
#define KVM_HC_CLOCK_PAIRING 9
#define KVM_HC_SEND_IPI 10
#define KVM_HC_SCHED_YIELD 11
#define KVM_HC_MAP_GPA_RANGE 12

/* Delivery modes: ICR bits 10:8 as passed to kvm_hc_env.send_ipi. */
#define KVM_IPI_DM_FIXED 0
#define KVM_IPI_DM_LOWEST 1
#define KVM_IPI_DM_SMI 2
#define KVM_IPI_DM_NMI 4
#define KVM_IPI_DM_INIT 5
#define KVM_IPI_DM_STARTUP 6
#define KVM_IPI_DM_EXTINT 7

/* ICR bits KVM_HC_SEND_IPI refuses: logical destination mode, shorthand. */
#define KVM_IPI_ICR_DEST_LOGICAL 0x800ull
#define KVM_IPI_ICR_SHORTHAND 0xc0000ull

/*
 * What a hypercall may do to the partition. ctx is the calling vCPU, handed
 * to every callback. A NULL callback means the partition does not offer that
 * hypercall (its CPUID feature bit is clear): it returns -KVM_ENOSYS, as KVM
 * does for a feature-gated call whose bit is absent.
 *
 * APIC IDs are physical destinations (x2APIC: 32 bits, xAPIC: 8 bits) and
 * never a broadcast: a callback matches the one vCPU with exactly that ID.
 */
struct kvm_hc_env {
	void *ctx;
	/*
	 * The caller is not in 64-bit mode (EFER.LMA = 0 or CS.L = 0): the number,
	 * the arguments and the result are truncated to 32 bits, and a
	 * KVM_HC_SEND_IPI bitmap half covers 32 IDs instead of 64.
	 */
	bool op_32bit;
	/*
	 * KVM_HC_KICK_CPU (needs PV_UNHALT): wake the vCPU with apic_id from HLT,
	 * even one halted with IF = 0, and latch the kick if it is not halted yet
	 * so that its next HLT returns at once (fact sheet 3.4). No such vCPU:
	 * nothing happens.
	 */
	void (*kick)(void *ctx, uint32_t apic_id);
	/*
	 * KVM_HC_SEND_IPI (needs PV_SEND_IPI): deliver vector with delivery_mode
	 * (KVM_IPI_DM_*, the 6.1 guest sends FIXED or NMI) to the vCPU with
	 * apic_id, as an ICR write in physical destination mode would. True if
	 * that vCPU exists and accepted it: the hypercall returns the count.
	 */
	bool (*send_ipi)(void *ctx, uint32_t apic_id, uint8_t vector, uint8_t delivery_mode);
	/*
	 * KVM_HC_SCHED_YIELD (needs PV_SCHED_YIELD): the caller waits for the
	 * preempted vCPU with apic_id; a hint, may do nothing.
	 */
	void (*yield_to)(void *ctx, uint32_t apic_id);
};

/*
 * Run hypercall nr for a caller at privilege level cpl, and return the value
 * for RAX (already truncated to 32 bits when env->op_32bit):
 *   CPL != 0                -> -KVM_EPERM, whatever nr is;
 *   KVM_HC_VAPIC_POLL_IRQ   -> 0 (the exit itself was the point);
 *   KVM_HC_KICK_CPU         -> kick(a1), 0 (a0: flags, ignored);
 *   KVM_HC_CLOCK_PAIRING    -> -KVM_EOPNOTSUPP (what KVM says when the host
 *                              clock is not TSC-based; ptp_kvm stays quiet);
 *   KVM_HC_SEND_IPI         -> number of vCPUs that took the IPI, or
 *                              -KVM_EINVAL if a3 has a destination mode or
 *                              shorthand;
 *   KVM_HC_SCHED_YIELD      -> yield_to(a0), 0;
 *   anything else           -> -KVM_ENOSYS.
 */
int64_t kvm_hypercall(const struct kvm_hc_env *env, unsigned int cpl, uint64_t nr, uint64_t a0,
		      uint64_t a1, uint64_t a2, uint64_t a3);

#endif
