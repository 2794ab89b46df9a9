/* SPDX-License-Identifier: MIT */
/*
 * Control-register and EFER bits (SDM Vol. 3A 2.5, 2.2.1; APM Vol. 2 3.1),
 * shared by both backends, the guest-memory walker and the VM-entry checks.
 * No code here: hosted unit tests include it too.
 */
#ifndef X86_CR_H
#define X86_CR_H

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#endif
