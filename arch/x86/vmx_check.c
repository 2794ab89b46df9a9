// SPDX-License-Identifier: MIT
/*
 * The checks a VM entry makes (SDM Vol. 3C 27.2.1 controls, 27.3.1 guest
 * state), repeated in software on a copy of the VMCS so that a failed entry
 * is reported with the rule it broke, not only "invalid guest state". Only
 * the rules that apply to the controls Keel can set are here (no virtual
 * APIC, no posted interrupts, no VMCS shadowing, no PT, no CET, no PKS): a
 * backend that starts using one adds its rules here too.
 *
 * Each check fails with the section, the field and the value, e.g.
 * "27.3.1.2: CS access rights 0x9b: type 11 needs DPL == SS.DPL (3)".
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <x86/cr.h>
#include <x86/vmx_check.h>

#define EFER_RESERVED (~(1ull | EFER_LME | EFER_LMA | EFER_NXE)) /* SCE LME LMA NXE on Intel */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_RESERVED0 (~0x3f7fd7ull) /* bits 63:22, 15, 5, 3 */

#define ACTIVITY_SHUTDOWN 2
#define ACTIVITY_WAIT_SIPI 3

/* Access-rights fields (25.4.1). */
#define AR_TYPE(ar) ((ar)&0xf)
#define AR_S(ar) (((ar) >> 4) & 1)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P(ar) (((ar) >> 7) & 1)
#define AR_L(ar) (((ar) >> 13) & 1)
#define AR_DB(ar) (((ar) >> 14) & 1)
#define AR_G(ar) (((ar) >> 15) & 1)
#define AR_RESERVED 0xfffe0f00u /* bits 11:8 and 31:17 */

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(why, len, __VA_ARGS__);                                                   \
		return -EINVAL;                                                                    \
	} while (0)

static const char *const seg_names[VMX_NR_SEGS] = {
	"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"
};

static bool canonical(uint64_t a)
{
	/* 48-bit linear addresses; a CPU with LA57 accepts more, never fewer. */
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* A control word against its capability MSR (A.3-A.5). */
static int check_word(const char *name, uint32_t value, uint64_t cap, char *why, size_t len)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	if ((value & must1) != must1)
		FAIL("27.2.1.1: %s controls 0x%x lack the bits 0x%x the CPU requires", name, value,
		     must1 & ~value);
	if (value & ~may1)
		FAIL("27.2.1.1: %s controls 0x%x set bits 0x%x the CPU does not allow", name, value,
		     value & ~may1);
	return 0;
}

int vmx_check_controls(const struct vmx_guest_view *g, const struct vmx_check_caps *c, char *why,
		       size_t len)
{
	uint32_t proc2 = g->proc & PROC_ACTIVATE_SECONDARY ? g->proc2 : 0;
	uint32_t type = INTR_INFO_TYPE(g->entry_intr);

	if (check_word("pin-based", g->pin, c->pin, why, len) ||
	    check_word("primary processor-based", g->proc, c->proc, why, len) ||
	    (proc2 && check_word("secondary processor-based", proc2, c->proc2, why, len)) ||
	    check_word("VM-exit", g->exit, c->exit, why, len) ||
	    check_word("VM-entry", g->entry, c->entry, why, len))
		return -EINVAL;
	/* 27.2.1.1: the control dependencies Keel's settings touch. */
	if (!(g->pin & PIN_NMI_EXITING) && (g->pin & PIN_VIRTUAL_NMIS))
		FAIL("27.2.1.1: virtual NMIs need NMI exiting");
	if (!(g->pin & PIN_VIRTUAL_NMIS) && (g->proc & PROC_NMI_WINDOW_EXITING))
		FAIL("27.2.1.1: NMI-window exiting needs virtual NMIs");
	if ((proc2 & PROC2_UNRESTRICTED_GUEST) && !(proc2 & PROC2_ENABLE_EPT))
		FAIL("27.2.1.1: unrestricted guest needs enable EPT");
	if ((proc2 & PROC2_ENABLE_VPID) && !g->vpid)
		FAIL("27.2.1.1: enable VPID with VPID 0");
	/* 27.2.1.2: a 64-bit host. */
	if (!(g->exit & EXIT_HOST_ADDR_SPACE_SIZE))
		FAIL("27.2.1.2: host address-space size is 0 (Keel runs in 64-bit mode)");
	/* 27.2.1.3: the event to inject. */
	if (g->entry_intr & INTR_INFO_VALID) {
		unsigned int vector = INTR_INFO_VECTOR(g->entry_intr);
		bool need_ec;

		if (type == 1 || (type == 7 && vector))
			FAIL("27.2.1.3: VM-entry interruption information 0x%x: reserved type %u",
			     g->entry_intr, type);
		if (type == INTR_TYPE_NMI && vector != 2)
			FAIL("27.2.1.3: VM-entry interruption information 0x%x: NMI with vector "
			     "%u",
			     g->entry_intr, vector);
		if (type == INTR_TYPE_HW_EXCEPTION && vector > 31)
			FAIL("27.2.1.3: VM-entry interruption information 0x%x: hardware exception "
			     "vector %u",
			     g->entry_intr, vector);
		if (g->entry_intr & 0x7ffff000u)
			FAIL("27.2.1.3: VM-entry interruption information 0x%x: reserved bits set",
			     g->entry_intr);
		/* An error code exactly for #DF #TS #NP #SS #GP #PF #AC, in protected mode. */
		need_ec = type == INTR_TYPE_HW_EXCEPTION && ((1u << vector) & 0x27d00u) &&
			  (!(proc2 & PROC2_UNRESTRICTED_GUEST) || (g->cr0 & CR0_PE));
		if (!!(g->entry_intr & INTR_INFO_ERROR_VALID) != need_ec)
			FAIL("27.2.1.3: VM-entry interruption information 0x%x: %s error code",
			     g->entry_intr, need_ec ? "the event needs an" : "the event has no");
		if ((g->entry_intr & INTR_INFO_ERROR_VALID) && (g->entry_error & 0xffff8000u))
			FAIL("27.2.1.3: VM-entry exception error code 0x%x: bits 31:15 set",
			     g->entry_error);
	}
	return 0;
}

/* 27.3.1.1: control registers, debug registers and MSRs. */
static int check_crs(const struct vmx_guest_view *g, const struct vmx_check_caps *c, bool ug,
		     char *why, size_t len)
{
	bool ia32e = g->entry & ENTRY_IA32E_MODE_GUEST;
	uint64_t cr0_fixed0 = c->cr0_fixed0 & ~(ug ? CR0_PE | CR0_PG : 0);

	if ((g->cr0 & cr0_fixed0) != cr0_fixed0)
		FAIL("27.3.1.1: guest CR0 0x%llx lacks bits 0x%llx fixed to 1 "
		     "(IA32_VMX_CR0_FIXED0)",
		     (unsigned long long)g->cr0, (unsigned long long)(cr0_fixed0 & ~g->cr0));
	if (g->cr0 & ~c->cr0_fixed1 & 0xffffffffull)
		FAIL("27.3.1.1: guest CR0 0x%llx sets bits 0x%llx fixed to 0 (IA32_VMX_CR0_FIXED1)",
		     (unsigned long long)g->cr0,
		     (unsigned long long)(g->cr0 & ~c->cr0_fixed1 & 0xffffffffull));
	if (g->cr0 >> 32)
		FAIL("27.3.1.1: guest CR0 0x%llx: bits 63:32 set", (unsigned long long)g->cr0);
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		FAIL("27.3.1.1: guest CR0 0x%llx: PG without PE", (unsigned long long)g->cr0);
	if ((g->cr0 & CR0_NW) && !(g->cr0 & CR0_CD))
		FAIL("27.3.1.1: guest CR0 0x%llx: NW without CD", (unsigned long long)g->cr0);
	if ((g->cr4 & c->cr4_fixed0) != c->cr4_fixed0)
		FAIL("27.3.1.1: guest CR4 0x%llx lacks bits 0x%llx fixed to 1 "
		     "(IA32_VMX_CR4_FIXED0)",
		     (unsigned long long)g->cr4, (unsigned long long)(c->cr4_fixed0 & ~g->cr4));
	if (g->cr4 & ~c->cr4_fixed1)
		FAIL("27.3.1.1: guest CR4 0x%llx sets bits 0x%llx fixed to 0 (IA32_VMX_CR4_FIXED1)",
		     (unsigned long long)g->cr4, (unsigned long long)(g->cr4 & ~c->cr4_fixed1));
	if (ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)))
		FAIL("27.3.1.1: IA-32e mode guest with CR0 0x%llx CR4 0x%llx (needs PG and PAE)",
		     (unsigned long long)g->cr0, (unsigned long long)g->cr4);
	if (!ia32e && (g->cr4 & CR4_PCIDE))
		FAIL("27.3.1.1: CR4.PCIDE outside IA-32e mode");
	if (c->phys_bits < 64 && (g->cr3 >> c->phys_bits))
		FAIL("27.3.1.1: guest CR3 0x%llx beyond the %u-bit physical address width",
		     (unsigned long long)g->cr3, c->phys_bits);
	if ((g->entry & ENTRY_LOAD_DEBUG_CONTROLS) && (g->dr7 >> 32))
		FAIL("27.3.1.1: guest DR7 0x%llx: bits 63:32 set", (unsigned long long)g->dr7);
	if ((g->entry & ENTRY_LOAD_DEBUG_CONTROLS) && (g->debugctl & ~0xffc3ull))
		FAIL("27.3.1.1: guest IA32_DEBUGCTL 0x%llx: reserved bits set",
		     (unsigned long long)g->debugctl);
	if (g->entry & ENTRY_LOAD_PAT) {
		for (int i = 0; i < 8; i++) {
			unsigned int t = (g->pat >> (8 * i)) & 0xff;

			if (t == 2 || t == 3 || t > 7)
				FAIL("27.3.1.1: guest IA32_PAT 0x%llx: entry %d has memory type %u",
				     (unsigned long long)g->pat, i, t);
		}
	}
	if (g->entry & ENTRY_LOAD_EFER) {
		if (g->efer & EFER_RESERVED)
			FAIL("27.3.1.1: guest IA32_EFER 0x%llx: reserved bits set",
			     (unsigned long long)g->efer);
		if (!!(g->efer & EFER_LMA) != ia32e)
			FAIL("27.3.1.1: guest IA32_EFER 0x%llx: LMA differs from the IA-32e mode "
			     "guest control (%d)",
			     (unsigned long long)g->efer, ia32e);
		if ((g->cr0 & CR0_PG) && !!(g->efer & EFER_LMA) != !!(g->efer & EFER_LME))
			FAIL("27.3.1.1: guest IA32_EFER 0x%llx: LMA differs from LME with CR0.PG",
			     (unsigned long long)g->efer);
	}
	return 0;
}

/* Limit and granularity agree (27.3.1.2): a limit that is not page-granular needs G = 0... */
static bool limit_ok(uint32_t limit, uint32_t ar)
{
	if ((limit & 0xfff) != 0xfff && AR_G(ar))
		return false;
	if ((limit & 0xfff00000u) && !AR_G(ar))
		return false;
	return true;
}

/* 27.3.1.2: segment registers (no virtual-8086 mode: Keel never enters one). */
static int check_segs(const struct vmx_guest_view *g, bool ug, char *why, size_t len)
{
	const struct vmx_seg_view *cs = &g->seg[VMX_CS], *ss = &g->seg[VMX_SS];
	const struct vmx_seg_view *tr = &g->seg[VMX_TR], *ldtr = &g->seg[VMX_LDTR];
	bool ia32e = g->entry & ENTRY_IA32E_MODE_GUEST;
	unsigned int cs_type = AR_TYPE(cs->ar);

	if (g->rflags & RFLAGS_VM)
		FAIL("27.3.1.2: RFLAGS.VM set (Keel does not check virtual-8086 guest state)");
	if (tr->sel & 4)
		FAIL("27.3.1.2: TR selector 0x%x: TI set", tr->sel);
	if (!(ldtr->ar & AR_UNUSABLE) && (ldtr->sel & 4))
		FAIL("27.3.1.2: LDTR selector 0x%x: TI set", ldtr->sel);
	if (!ug && (ss->sel & 3) != (cs->sel & 3))
		FAIL("27.3.1.2: SS.RPL %u differs from CS.RPL %u", (unsigned int)(ss->sel & 3),
		     (unsigned int)(cs->sel & 3));
	for (int i = 0; i < VMX_NR_SEGS; i++) {
		const struct vmx_seg_view *s = &g->seg[i];

		if (s->ar & AR_UNUSABLE) {
			if (i == VMX_CS || i == VMX_TR)
				FAIL("27.3.1.2: %s is unusable", seg_names[i]);
			continue;
		}
		if (s->ar & AR_RESERVED)
			FAIL("27.3.1.2: %s access rights 0x%x: reserved bits set", seg_names[i],
			     s->ar);
		if (!AR_P(s->ar))
			FAIL("27.3.1.2: %s access rights 0x%x: not present", seg_names[i], s->ar);
		if (!limit_ok(s->limit, s->ar))
			FAIL("27.3.1.2: %s limit 0x%x disagrees with G in access rights 0x%x",
			     seg_names[i], s->limit, s->ar);
		if (i != VMX_LDTR && i != VMX_TR && !AR_S(s->ar))
			FAIL("27.3.1.2: %s access rights 0x%x: S clear (a system segment)",
			     seg_names[i], s->ar);
		if ((i == VMX_FS || i == VMX_GS || i == VMX_LDTR || i == VMX_TR) &&
		    !canonical(s->base))
			FAIL("27.3.1.2: %s base 0x%llx is not canonical", seg_names[i],
			     (unsigned long long)s->base);
		if ((i == VMX_CS || i == VMX_SS || i == VMX_DS || i == VMX_ES) && (s->base >> 32))
			FAIL("27.3.1.2: %s base 0x%llx: bits 63:32 set", seg_names[i],
			     (unsigned long long)s->base);
		if (i == VMX_DS || i == VMX_ES || i == VMX_FS || i == VMX_GS) {
			if (!(AR_TYPE(s->ar) & 1))
				FAIL("27.3.1.2: %s access rights 0x%x: type %u not accessed",
				     seg_names[i], s->ar, AR_TYPE(s->ar));
			if ((AR_TYPE(s->ar) & 8) && !(AR_TYPE(s->ar) & 2))
				FAIL("27.3.1.2: %s access rights 0x%x: execute-only code",
				     seg_names[i], s->ar);
		}
	}
	/* CS: an accessed code segment, or with unrestricted guest a read/write data one. */
	if (!(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 ||
	      (ug && cs_type == 3)))
		FAIL("27.3.1.2: CS access rights 0x%x: type %u", cs->ar, cs_type);
	if (cs_type == 3 && AR_DPL(cs->ar) != 0)
		FAIL("27.3.1.2: CS access rights 0x%x: type 3 needs DPL 0", cs->ar);
	if ((cs_type == 9 || cs_type == 11) && AR_DPL(cs->ar) != AR_DPL(ss->ar))
		FAIL("27.3.1.2: CS access rights 0x%x: type %u needs DPL == SS.DPL (%u)", cs->ar,
		     cs_type, AR_DPL(ss->ar));
	if ((cs_type == 13 || cs_type == 15) && AR_DPL(cs->ar) > AR_DPL(ss->ar))
		FAIL("27.3.1.2: CS access rights 0x%x: conforming with DPL > SS.DPL (%u)", cs->ar,
		     AR_DPL(ss->ar));
	if (ia32e && AR_L(cs->ar) && AR_DB(cs->ar))
		FAIL("27.3.1.2: CS access rights 0x%x: L and D/B both set", cs->ar);
	if (!(ss->ar & AR_UNUSABLE) && AR_TYPE(ss->ar) != 3 && AR_TYPE(ss->ar) != 7)
		FAIL("27.3.1.2: SS access rights 0x%x: type %u (needs 3 or 7)", ss->ar,
		     AR_TYPE(ss->ar));
	if (!ug && AR_DPL(ss->ar) != (ss->sel & 3))
		FAIL("27.3.1.2: SS.DPL %u differs from SS.RPL %u", AR_DPL(ss->ar),
		     (unsigned int)(ss->sel & 3));
	if ((cs_type == 3 || !(g->cr0 & CR0_PE)) && AR_DPL(ss->ar) != 0)
		FAIL("27.3.1.2: SS access rights 0x%x: DPL must be 0 (CS type 3 or CR0.PE clear)",
		     ss->ar);
	/* TR: a busy TSS, 64-bit in IA-32e mode. */
	if (AR_TYPE(tr->ar) != 11 && (ia32e || AR_TYPE(tr->ar) != 3))
		FAIL("27.3.1.2: TR access rights 0x%x: type %u (needs a busy %sTSS)", tr->ar,
		     AR_TYPE(tr->ar), ia32e ? "64-bit " : "");
	if (AR_S(tr->ar))
		FAIL("27.3.1.2: TR access rights 0x%x: S set", tr->ar);
	if (!(ldtr->ar & AR_UNUSABLE) && (AR_TYPE(ldtr->ar) != 2 || AR_S(ldtr->ar)))
		FAIL("27.3.1.2: LDTR access rights 0x%x: not an LDT", ldtr->ar);
	return 0;
}

/* 27.3.1.3-27.3.1.6: descriptor tables, RIP/RFLAGS, non-register state, PDPTEs. */
static int check_rest(const struct vmx_guest_view *g, const struct vmx_check_caps *c, char *why,
		      size_t len)
{
	bool ia32e = g->entry & ENTRY_IA32E_MODE_GUEST;
	bool cs_l = ia32e && AR_L(g->seg[VMX_CS].ar);
	uint32_t type = INTR_INFO_TYPE(g->entry_intr);
	bool injecting = g->entry_intr & INTR_INFO_VALID;

	if (!canonical(g->gdtr_base) || !canonical(g->idtr_base))
		FAIL("27.3.1.3: GDTR base 0x%llx or IDTR base 0x%llx is not canonical",
		     (unsigned long long)g->gdtr_base, (unsigned long long)g->idtr_base);
	if ((g->gdtr_limit | g->idtr_limit) >> 16)
		FAIL("27.3.1.3: GDTR limit 0x%x or IDTR limit 0x%x above 0xffff", g->gdtr_limit,
		     g->idtr_limit);

	if (!cs_l && (g->rip >> 32))
		FAIL("27.3.1.4: RIP 0x%llx: bits 63:32 set outside 64-bit mode",
		     (unsigned long long)g->rip);
	if (cs_l && !canonical(g->rip))
		FAIL("27.3.1.4: RIP 0x%llx is not canonical", (unsigned long long)g->rip);
	if ((g->rflags & RFLAGS_RESERVED0) || !(g->rflags & 2))
		FAIL("27.3.1.4: RFLAGS 0x%llx: reserved bits wrong (bit 1 must be 1; 3, 5, 15, "
		     "63:22 must be 0)",
		     (unsigned long long)g->rflags);
	if (injecting && type == INTR_TYPE_EXT_INTR && !(g->rflags & RFLAGS_IF))
		FAIL("27.3.1.4: injecting an external interrupt with RFLAGS.IF clear");

	if (g->activity > ACTIVITY_WAIT_SIPI)
		FAIL("27.3.1.5: activity state %u is not defined", g->activity);
	if (g->activity != 0 && !(c->misc & (1u << (5 + g->activity))))
		FAIL("27.3.1.5: activity state %u is not supported (IA32_VMX_MISC 0x%llx)",
		     g->activity, (unsigned long long)c->misc);
	if (g->activity == ACTIVITY_HLT && AR_DPL(g->seg[VMX_SS].ar) != 0)
		FAIL("27.3.1.5: HLT activity state with SS.DPL %u", AR_DPL(g->seg[VMX_SS].ar));
	if (g->activity == ACTIVITY_WAIT_SIPI && injecting)
		FAIL("27.3.1.5: an event injected into the wait-for-SIPI state");
	if (g->activity == ACTIVITY_HLT && injecting && type != INTR_TYPE_EXT_INTR &&
	    type != INTR_TYPE_NMI &&
	    !(type == INTR_TYPE_HW_EXCEPTION &&
	      (INTR_INFO_VECTOR(g->entry_intr) == 1 || INTR_INFO_VECTOR(g->entry_intr) == 18)))
		FAIL("27.3.1.5: HLT activity state with event type %u injected", type);
	if (g->interruptibility & ~0x1full)
		FAIL("27.3.1.5: interruptibility state 0x%x: reserved bits set",
		     g->interruptibility);
	/* Keel never enters a guest in SMM ("entry to SMM" is 0). */
	if (g->interruptibility & (1u << 2))
		FAIL("27.3.1.5: interruptibility state 0x%x: blocking by SMI outside SMM",
		     g->interruptibility);
	if ((g->interruptibility & 3) == 3)
		FAIL("27.3.1.5: interruptibility state 0x%x: blocking by STI and by MOV SS",
		     g->interruptibility);
	if ((g->interruptibility & INTERRUPTIBILITY_STI) && !(g->rflags & RFLAGS_IF))
		FAIL("27.3.1.5: blocking by STI with RFLAGS.IF clear");
	if ((g->interruptibility & 3) && injecting && type == INTR_TYPE_EXT_INTR)
		FAIL("27.3.1.5: injecting an external interrupt while blocked by STI or MOV SS");
	if ((g->interruptibility & INTERRUPTIBILITY_MOV_SS) && injecting && type == INTR_TYPE_NMI)
		FAIL("27.3.1.5: injecting an NMI while blocked by MOV SS");
	if ((g->interruptibility & INTERRUPTIBILITY_NMI) && injecting && type == INTR_TYPE_NMI &&
	    (g->pin & PIN_VIRTUAL_NMIS))
		FAIL("27.3.1.5: injecting a virtual NMI while virtual-NMI blocking is set");
	if (g->pending_dbg & ~0x1500full)
		FAIL("27.3.1.5: pending debug exceptions 0x%llx: reserved bits set",
		     (unsigned long long)g->pending_dbg);
	if (g->link_pointer != ~0ull)
		FAIL("27.3.1.5: VMCS link pointer 0x%llx (Keel uses no shadow VMCS: must be ~0)",
		     (unsigned long long)g->link_pointer);

	/* PAE paging outside IA-32e mode: the PDPTEs in the VMCS (EPT on). */
	if ((g->cr0 & CR0_PG) && (g->cr4 & CR4_PAE) && !ia32e) {
		for (int i = 0; i < 4; i++) {
			uint64_t e = g->pdpte[i];
			uint64_t rsvd = 0x1e6ull | (c->phys_bits < 63 ? ~0ull << c->phys_bits : 0);

			if ((e & 1) && (e & rsvd))
				FAIL("27.3.1.6: PDPTE%d 0x%llx: reserved bits set", i,
				     (unsigned long long)e);
		}
	}
	return 0;
}

int vmx_check_guest_state(const struct vmx_guest_view *g, const struct vmx_check_caps *c, char *why,
			  size_t len)
{
	bool ug = (g->proc & PROC_ACTIVATE_SECONDARY) && (g->proc2 & PROC2_UNRESTRICTED_GUEST);

	if (check_crs(g, c, ug, why, len) || check_segs(g, ug, why, len) ||
	    check_rest(g, c, why, len))
		return -EINVAL;
	snprintf(why, len, "every check Keel knows passes");
	return 0;
}
