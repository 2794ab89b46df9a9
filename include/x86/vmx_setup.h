/* SPDX-License-Identifier: MIT */
/*
 * What this CPU's VMX offers and which controls Keel chose, read once
 * (arch/x86/vmx_setup.c), plus VMXON per CPU and the I/O and MSR bitmaps:
 * shared by the files of the VMX backend only.
 */
#ifndef X86_VMX_SETUP_H
#define X86_VMX_SETUP_H

#include <keel/types.h>
#include <keel/partition.h>

struct vmx_caps {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry; /* the controls every vCPU starts with */
	uint64_t ept_vpid_cap;
	uint64_t eptp_flags; /* EPTP memory type and walk length (25.6.11) */
	bool vpid, exit_saves_lma, true_ctls;
	bool wait_sipi; /* the wait-for-SIPI activity state can be entered (A.6) */
	/* CR0/CR4 bits VMX forces to 1 or 0 (A.7, A.8), minus PE/PG for unrestricted guests. */
	uint64_t cr0_must1, cr0_must0, cr4_must1, cr4_must0;
	uint64_t xcr0_mask; /* XCR0 bits the CPU supports (CPUID 0xD.0) */
};

extern struct vmx_caps vmx_caps;

/* Read the capabilities once (on whichever CPU comes first): 0 or -errno. */
int vmx_setup(void);
/* VMXON on this CPU (once). */
int vmx_cpu_enable(void);
/* The I/O bitmaps (A and B, two pages) and MSR bitmap for partition p's vCPUs. */
int vmx_bitmaps(struct partition *p, uint8_t **io, uint8_t **msr);
void vmx_intercept_msr_write(uint32_t msr, bool intercept);

#endif
