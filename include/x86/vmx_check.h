/* SPDX-License-Identifier: MIT */
/*
 * Naming the check a failed VM entry tripped over. The CPU says only "invalid
 * control fields" (VM-instruction error 7) or "invalid guest state" (exit
 * reason 33); arch/x86/vmx_check.c repeats the checks of SDM Vol. 3C 27.2.1
 * and 27.3.1 on a copy of the VMCS fields and names the first that fails.
 * Pure functions of their arguments: the unit tests run them hosted.
 */
#ifndef KEEL_X86_VMX_CHECK_H
#define KEEL_X86_VMX_CHECK_H

#include <keel/types.h>
#include <x86/vmx.h>

struct vmx_seg_view {
	uint16_t sel;
	uint32_t limit, ar;
	uint64_t base;
};

/* The VMCS fields the checks read (names as in SDM Vol. 3C 25.3, 25.6-25.8). */
struct vmx_guest_view {
	uint32_t pin, proc, proc2, exit, entry;
	uint16_t vpid;
	uint32_t entry_intr, entry_error;
	uint64_t cr0, cr3, cr4, dr7, debugctl, efer, pat, rip, rflags;
	struct vmx_seg_view seg[VMX_NR_SEGS];
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint32_t interruptibility, activity;
	uint64_t pending_dbg, link_pointer;
	uint64_t pdpte[4];
};

/* What the CPU allows: the capability MSRs (Appendix A) and its physical address width. */
struct vmx_check_caps {
	/* allowed-0 settings in bits 31:0, allowed-1 in 63:32 (A.3-A.5), TRUE_* where there */
	uint64_t pin, proc, proc2, exit, entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1; /* A.7, A.8 */
	uint64_t misc;						 /* IA32_VMX_MISC, A.6 */
	unsigned int phys_bits;
};

/* 0 if the controls pass the checks of 27.2.1 Keel can make; else -EINVAL and why. */
int vmx_check_controls(const struct vmx_guest_view *g, const struct vmx_check_caps *c, char *why,
		       size_t len);

/* 0 if the guest state passes 27.3.1.1-27.3.1.6; else -EINVAL and the failed check in why. */
int vmx_check_guest_state(const struct vmx_guest_view *g, const struct vmx_check_caps *c, char *why,
			  size_t len);

#endif
