// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/vmx_check.c: the VM-entry checks of SDM Vol. 3C
 * 27.2.1 and 27.3.1, on the two states Keel enters guests with (the Linux
 * 64-bit entry and the real-mode state after STARTUP, as arch/x86/vmx.c
 * writes them) and on one broken field at a time. The capabilities are those
 * Bochs 2.7's corei7_skylake_x reports for the fields the checks read.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <x86/vmx_check.h>

static const struct vmx_check_caps caps = {
	.pin = 0xffffffff00000016ull,
	.proc = 0xffffffff04006172ull,
	.proc2 = 0xffffffff00000000ull,
	.exit = 0xffffffff00036dfbull,
	.entry = 0xffffffff000011fbull,
	.cr0_fixed0 = 0x80000021ull, /* PE NE PG */
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull, /* VMXE */
	.cr4_fixed1 = 0x3727ffull,
	.misc = 0x1e0ull | (1ull << 5), /* HLT, shutdown, wait-for-SIPI; LMA saved */
	.phys_bits = 40,
};

static char why[200];

static void seg(struct vmx_guest_view *g, enum vmx_seg i, uint16_t sel, uint32_t ar, uint32_t lim,
		uint64_t base)
{
	g->seg[i] = (struct vmx_seg_view){ .sel = sel, .ar = ar, .limit = lim, .base = base };
}

static void controls(struct vmx_guest_view *g)
{
	g->pin = 0x16 | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
	g->proc = 0x04006172 | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY;
	g->proc2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID;
	g->vpid = 1;
	g->exit = 0x36dfb | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER;
	g->entry = 0x11fb | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS;
	g->dr7 = 0x400;
	g->pat = 0x0007040600070406ull;
	g->link_pointer = ~0ull;
}

/* The Linux 64-bit entry (vmx_set_linux64_state), VMX's fixed bits applied. */
static struct vmx_guest_view linux64(void)
{
	struct vmx_guest_view g = { 0 };

	controls(&g);
	g.entry |= ENTRY_IA32E_MODE_GUEST;
	seg(&g, VMX_CS, 0x10, 0xa09b, 0xffffffff, 0);
	seg(&g, VMX_DS, 0x18, 0xc093, 0xffffffff, 0);
	seg(&g, VMX_ES, 0x18, 0xc093, 0xffffffff, 0);
	seg(&g, VMX_SS, 0x18, 0xc093, 0xffffffff, 0);
	seg(&g, VMX_FS, 0x18, 0xc093, 0xffffffff, 0);
	seg(&g, VMX_GS, 0x18, 0xc093, 0xffffffff, 0);
	seg(&g, VMX_LDTR, 0, AR_UNUSABLE, 0, 0);
	seg(&g, VMX_TR, 0, 0x8b, 0x67, 0);
	g.gdtr_base = 0x3ffd9000;
	g.gdtr_limit = 0x1f;
	g.cr0 = 0x80050033;
	g.cr3 = 0x3ffda000;
	g.cr4 = 0x2020;
	g.efer = 0x500;
	g.rflags = 2;
	g.rip = 0x1000200;
	return g;
}

/* The state after INIT, then STARTUP to 0x9a000 (vmx_set_real_mode_state). */
static struct vmx_guest_view real_mode(void)
{
	struct vmx_guest_view g = { 0 };

	controls(&g);
	seg(&g, VMX_CS, 0x9a00, 0x9b, 0xffff, 0x9a000);
	for (int i = 0; i < VMX_NR_SEGS; i++)
		if (i != VMX_CS && i != VMX_LDTR && i != VMX_TR)
			seg(&g, (enum vmx_seg)i, 0, 0x93, 0xffff, 0);
	seg(&g, VMX_LDTR, 0, 0x82, 0xffff, 0);
	seg(&g, VMX_TR, 0, 0x8b, 0xffff, 0);
	g.gdtr_limit = 0xffff;
	g.idtr_limit = 0xffff;
	g.cr0 = 0x60000030; /* ET CD NW, and NE from FIXED0 */
	g.cr4 = 0x2000;
	g.rflags = 2;
	return g;
}

static void expect_fail(const struct vmx_guest_view *g, const char *needle)
{
	why[0] = 0;
	CHECK_EQ(vmx_check_guest_state(g, &caps, why, sizeof(why)), -EINVAL);
	CHECK_CONTAINS(why, needle);
}

static void expect_ctl_fail(const struct vmx_guest_view *g, const char *needle)
{
	why[0] = 0;
	CHECK_EQ(vmx_check_controls(g, &caps, why, sizeof(why)), -EINVAL);
	CHECK_CONTAINS(why, needle);
}

TEST(entry_states_pass)
{
	struct vmx_guest_view g = linux64();

	CHECK_EQ(vmx_check_controls(&g, &caps, why, sizeof(why)), 0);
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	CHECK_STR(why, "every check Keel knows passes");
	g = real_mode();
	CHECK_EQ(vmx_check_controls(&g, &caps, why, sizeof(why)), 0);
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	/* Halted with an interrupt to deliver, and waiting for SIPI. */
	g.activity = ACTIVITY_HLT;
	g.rflags |= 1u << 9;
	g.entry_intr = INTR_INFO_VALID | 0x30;
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	g.entry_intr = 0;
	g.activity = 3;
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
}

TEST(control_registers)
{
	struct vmx_guest_view g = real_mode();

	g.proc2 &= ~PROC2_UNRESTRICTED_GUEST; /* real mode needs an unrestricted guest */
	expect_fail(&g, "27.3.1.1: guest CR0 0x60000030 lacks bits 0x80000001 fixed to 1");
	g = linux64();
	g.cr4 &= ~0x2000ull;
	expect_fail(&g, "CR4 0x20 lacks bits 0x2000 fixed to 1");
	g = linux64();
	g.cr4 |= 1ull << 23; /* not in FIXED1 */
	expect_fail(&g, "sets bits 0x800000 fixed to 0");
	g = linux64();
	g.cr0 &= ~(1ull << 31);
	expect_fail(&g, "IA-32e mode guest with CR0 0x50033");
	g = real_mode();
	g.cr0 |= 1ull << 31; /* PG without PE */
	expect_fail(&g, "PG without PE");
	g = linux64();
	g.cr3 = 1ull << 45;
	expect_fail(&g, "beyond the 40-bit physical address width");
	g = linux64();
	g.pat = 0x0007040600070402ull;
	expect_fail(&g, "IA32_PAT 0x7040600070402: entry 0 has memory type 2");
	g = linux64();
	g.efer = 0x100; /* LME without LMA in an IA-32e guest */
	expect_fail(&g, "LMA differs from the IA-32e mode guest control (1)");
	g = linux64();
	g.efer |= 1ull << 12; /* SVME: reserved on Intel */
	expect_fail(&g, "IA32_EFER 0x1500: reserved bits set");
	g = linux64();
	g.dr7 = 1ull << 40;
	expect_fail(&g, "DR7");
}

TEST(segments)
{
	struct vmx_guest_view g = linux64();

	g.seg[VMX_CS].ar |= 3 << 5; /* DPL 3 code, DPL 0 stack */
	expect_fail(&g, "CS access rights 0xa0fb: type 11 needs DPL == SS.DPL (0)");
	g = linux64();
	g.seg[VMX_CS].ar |= 1 << 14;
	expect_fail(&g, "L and D/B both set");
	g = linux64();
	g.seg[VMX_TR].ar = AR_UNUSABLE;
	expect_fail(&g, "TR is unusable");
	g = linux64();
	g.seg[VMX_TR].ar = 0x83; /* busy 16-bit TSS: not in IA-32e mode */
	expect_fail(&g, "needs a busy 64-bit TSS");
	g = real_mode();
	g.seg[VMX_TR].ar = 0x83;
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	g = linux64();
	g.seg[VMX_DS].ar &= ~0x8000u; /* a 4 GiB limit needs G */
	expect_fail(&g, "DS limit 0xffffffff disagrees with G");
	g = linux64();
	g.seg[VMX_SS].ar = 0xc09b; /* code in SS */
	expect_fail(&g, "SS access rights 0xc09b: type 11 (needs 3 or 7)");
	g = linux64();
	g.seg[VMX_ES].ar &= ~1u; /* not accessed */
	expect_fail(&g, "ES access rights 0xc092: type 2 not accessed");
	g = linux64();
	g.seg[VMX_FS].base = 0x0000800000000000ull;
	expect_fail(&g, "FS base 0x800000000000 is not canonical");
	g = linux64();
	g.seg[VMX_GS].ar &= ~0x80u;
	expect_fail(&g, "GS access rights 0xc013: not present");
	g = linux64();
	g.seg[VMX_GS].ar = AR_UNUSABLE; /* an unusable data segment is not checked */
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	g = real_mode();
	g.seg[VMX_CS].ar = 0x93; /* a data segment in CS: allowed to an unrestricted guest */
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	g.seg[VMX_SS].ar |= 3 << 5;
	expect_fail(&g, "DPL must be 0 (CS type 3 or CR0.PE clear)");
	g = real_mode();
	g.seg[VMX_LDTR].ar = 0x89;
	expect_fail(&g, "LDTR access rights 0x89: not an LDT");
}

TEST(rip_rflags_and_the_rest)
{
	struct vmx_guest_view g = real_mode();

	g.rip = 1ull << 32;
	expect_fail(&g, "27.3.1.4: RIP 0x100000000: bits 63:32 set outside 64-bit mode");
	g = linux64();
	g.rip = 0x0000800000000000ull;
	expect_fail(&g, "RIP 0x800000000000 is not canonical");
	g = linux64();
	g.rflags = 0;
	expect_fail(&g, "RFLAGS 0x0: reserved bits wrong");
	g = linux64();
	g.gdtr_limit = 0x10000;
	expect_fail(&g, "27.3.1.3: GDTR limit 0x10000");
	g = linux64();
	g.interruptibility = INTERRUPTIBILITY_STI;
	expect_fail(&g, "blocking by STI with RFLAGS.IF clear");
	g = real_mode();
	g.interruptibility = 1u << 2;
	expect_fail(&g, "27.3.1.5: interruptibility state 0x4: blocking by SMI outside SMM");
	g = linux64();
	g.activity = ACTIVITY_HLT;
	g.seg[VMX_SS].ar |= 3 << 5;
	g.seg[VMX_CS].ar |= 3 << 5;
	g.seg[VMX_SS].sel |= 3;
	g.seg[VMX_CS].sel |= 3;
	expect_fail(&g, "HLT activity state with SS.DPL 3");
	g = real_mode();
	g.activity = 3;
	g.entry_intr = INTR_INFO_VALID | 0x30;
	g.rflags |= 1u << 9;
	expect_fail(&g, "an event injected into the wait-for-SIPI state");
	g = linux64();
	g.entry_intr = INTR_INFO_VALID | 0x30; /* an interrupt with IF clear */
	expect_fail(&g, "injecting an external interrupt with RFLAGS.IF clear");
	g = linux64();
	g.link_pointer = 0;
	expect_fail(&g, "VMCS link pointer 0x0");
	g = linux64();
	g.pending_dbg = 1ull << 20;
	expect_fail(&g, "pending debug exceptions 0x100000");
}

TEST(pae_pdptes)
{
	struct vmx_guest_view g = linux64();

	/* 32-bit PAE paging: not IA-32e mode, the PDPTEs come from the VMCS. */
	g.entry &= ~ENTRY_IA32E_MODE_GUEST;
	g.efer = 0;
	seg(&g, VMX_CS, 0x10, 0xc09b, 0xffffffff, 0);
	g.pdpte[0] = 0x1001;
	g.pdpte[1] = 0; /* not present: anything goes */
	g.pdpte[2] = 0x1ee;
	CHECK_EQ(vmx_check_guest_state(&g, &caps, why, sizeof(why)), 0);
	g.pdpte[3] = 0x2001 | (1ull << 5);
	expect_fail(&g, "27.3.1.6: PDPTE3 0x2021: reserved bits set");
	g.pdpte[3] = 0x1ull | (1ull << 41);
	expect_fail(&g, "PDPTE3 0x20000000001");
}

TEST(control_fields)
{
	struct vmx_guest_view g = linux64();

	g.pin &= ~0x10u;
	expect_ctl_fail(&g,
			"27.2.1.1: pin-based controls 0x2e lack the bits 0x10 the CPU requires");
	g = linux64();
	g.pin &= ~PIN_NMI_EXITING;
	expect_ctl_fail(&g, "virtual NMIs need NMI exiting");
	g = linux64();
	g.proc2 &= ~PROC2_ENABLE_EPT;
	expect_ctl_fail(&g, "unrestricted guest needs enable EPT");
	g = linux64();
	g.proc &= ~PROC_ACTIVATE_SECONDARY; /* then the secondary controls do not count */
	CHECK_EQ(vmx_check_controls(&g, &caps, why, sizeof(why)), 0);
	g = linux64();
	g.vpid = 0;
	expect_ctl_fail(&g, "enable VPID with VPID 0");
	g = linux64();
	g.exit &= ~EXIT_HOST_ADDR_SPACE_SIZE;
	expect_ctl_fail(&g, "27.2.1.2: host address-space size is 0");
	g = linux64();
	g.entry_intr = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 13; /* #GP, no code */
	expect_ctl_fail(&g, "0x8000030d: the event needs an error code");
	g.entry_intr |= INTR_INFO_ERROR_VALID;
	CHECK_EQ(vmx_check_controls(&g, &caps, why, sizeof(why)), 0);
	g = real_mode();
	g.entry_intr = INTR_INFO_VALID | INTR_INFO_ERROR_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 13;
	expect_ctl_fail(&g, "the event has no error code");
	g = linux64();
	g.entry_intr = INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 3;
	expect_ctl_fail(&g, "NMI with vector 3");
}

TEST_MAIN(TEST_CASE(entry_states_pass), TEST_CASE(control_registers), TEST_CASE(segments),
	  TEST_CASE(rip_rflags_and_the_rest), TEST_CASE(pae_pdptes), TEST_CASE(control_fields))
