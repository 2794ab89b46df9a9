// SPDX-License-Identifier: MIT
/*
 * The Intel VMX backend (SDM Vol. 3C, chapters 24-31; docs/architecture.md,
 * "VMX specifics"): the VMCS of a vCPU, entering the guest and describing its
 * exits in the neutral struct vm_exit. The capabilities, the controls Keel
 * chose, VMXON and the bitmaps are arch/x86/vmx_setup.c's. Policy (what to
 * intercept and why) is here and there; handling lives in the shared exit
 * handlers (arch/x86/vcpu_exit.c).
 * A few exits are VMX's own and handled here without reaching them: MOV to
 * CR0/CR4 touching a bit VMX fixes (CR0.NE, CR4.VMXE), XSETBV (it always
 * exits) and the NMI window.
 *
 * The VMCS can only be read and written on the CPU it is current on, in VMX
 * operation, and a vCPU is created (and given its entry state) on the boot
 * CPU before its own CPU has turned VMX on. So every vCPU keeps the guest
 * state it was last given and the event it is to receive in struct
 * vmx_state; the VMCS is set up on the vCPU's own CPU at its first entry,
 * pending state is written before each entry, and the accessors read the
 * VMCS once it holds the truth. A vCPU never moves to another CPU.
 */
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/percpu.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <x86/cr.h>
#include <x86/cpu.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/s2pt.h>
#include <x86/vcpu.h>
#include <x86/vmx.h>
#include <x86/vmx_check.h>
#include <x86/vmx_setup.h>

static struct vcpu *vmcs_on_cpu[KEEL_MAX_CPUS]; /* the current VMCS of each CPU */

#define RFLAGS_IF (1ull << 9)

#define X86_GP 13
#define PAT_POWER_ON 0x0007040600070406ull

/* Access rights (SDM Vol. 3C 25.4.1): type, S, DPL, P, AVL, L, D/B, G; bit 16 unusable. */
#define AR_CODE64 0xa09b /* execute/read, accessed, present, L, G */
#define AR_DATA32 0xc093 /* read/write, accessed, present, D/B, G */
#define AR_CODE16 0x009b
#define AR_DATA16 0x0093
#define AR_LDT 0x0082
#define AR_TSS_BUSY 0x008b

/* The CR0/CR4 bits the guest may not own: reads see the shadow, writes exit (25.6.6). */
#define CR0_HOST_MASK (vmx_caps.cr0_must1 | vmx_caps.cr0_must0)
#define CR4_HOST_MASK (vmx_caps.cr4_must1 | vmx_caps.cr4_must0 | CR4_VMXE)

struct vmx_seg_state {
	uint16_t sel;
	uint32_t limit, ar;
	uint64_t base;
};

/* Guest state given by set_*_state, written to the VMCS before the next entry. */
struct vmx_gstate {
	struct vmx_seg_state seg[VMX_NR_SEGS];
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint64_t cr0, cr3, cr4, efer, rip, rflags; /* CR0/CR4 as the guest sees them */
};

/* Per vCPU, in the page after its VMCS. */
struct vmx_state {
	bool initialized;   /* the VMCS was set up on the vCPU's CPU */
	bool launched;	    /* VMRESUME from now on */
	bool state_pending; /* gs holds the guest state: write it before the next entry */
	bool ctl_dirty;	    /* proc/entry changed */
	bool flush_pending;
	bool wait_sipi; /* enter in the wait-for-SIPI state (vmx_wait_for_sipi()) */
	bool sipi_seen; /* a STARTUP exit happened (after_exit()) */
	uint32_t proc, entry;
	uint16_t vpid;
	uint32_t inject_info, inject_error, inject_len; /* the next entry's event (25.8.3) */
	uint32_t bad_field;				/* the first VMWRITE that failed */
	uint64_t pat;
	struct vmx_gstate gs;
};

static struct vmx_state *state_of(struct vcpu *v)
{
	return (struct vmx_state *)((uint8_t *)v->vendor + PAGE_SIZE);
}

/* Does the VMCS (rather than gs) hold the guest state, and is it current here? */
static bool live(struct vmx_state *s)
{
	return s->initialized && !s->state_pending;
}

static void vw(struct vmx_state *s, uint32_t field, uint64_t value)
{
	if (!vmcs_write(field, value) && !s->bad_field)
		s->bad_field = field | 0x80000000u;
}

static const char *const vm_insn_errors[] = {
	/* SDM Vol. 3C 31.4, "VM Instruction Error Numbers". */
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

static const char *vm_insn_error_name(uint64_t n)
{
	if (n < ARRAY_SIZE(vm_insn_errors) && vm_insn_errors[n])
		return vm_insn_errors[n];
	return "unknown";
}

static void vmx_set_real_mode_state(struct vcpu *v, uint16_t cs, uint16_t ip);

static int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_state *s;
	uint8_t *io, *msr;
	uint32_t *vmcs;
	int ret = vmx_setup();

	if (!ret)
		ret = vmx_bitmaps(v->part, &io,
				  &msr); /* allocated now, found again in vmcs_init() */
	if (ret)
		return ret;
	/* The VMCS region (25.2): a page starting with the revision identifier; then ours. */
	vmcs = page_alloc(2);
	if (!vmcs)
		return -ENOMEM;
	*vmcs = vmx_caps.revision;
	v->vendor = vmcs;
	v->vendor_pa = virt_to_phys(vmcs);
	s = state_of(v);
	s->proc = vmx_caps.proc;
	s->entry = vmx_caps.entry;
	s->vpid = vmx_caps.vpid ? (uint16_t)(v->part->id + 1) : 0; /* 0 is VMX root's own */
	s->pat = PAT_POWER_ON;
	/* The state after reset until told otherwise: an AP may wait in it for STARTUP. */
	vmx_set_real_mode_state(v, 0xf000, 0xfff0);
	return 0;
}

/* The VMCS fields that do not change: controls and Keel's state (host-state area, 25.5). */
static void vmcs_init(struct vcpu *v, struct vmx_state *s)
{
	struct percpu *pc = this_cpu();
	bool guest = v->part->kind != PARTITION_HOST;
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr, idtr;
	uint32_t pin = vmx_caps.pin, exceptions = 0;
	uint8_t *io, *msr;

	vmx_bitmaps(v->part, &io, &msr);
	if (guest) {
		/*
		 * A guest owns no device: physical interrupts (Keel's timer and
		 * kick) exit and stay pending for Keel (no acknowledge on exit),
		 * HLT exits so Keel can wait for the guest's next event, and #UD
		 * exits so VMMCALL (AMD's hypercall) works too (arch/x86/guest.c).
		 */
		pin |= PIN_EXTINT_EXITING;
		s->proc |= PROC_HLT_EXITING;
		exceptions = 1u << 6;
	}
	vw(s, VMCS_PIN_CONTROLS, pin);
	vw(s, VMCS_PROC_CONTROLS, s->proc);
	vw(s, VMCS_PROC2_CONTROLS, vmx_caps.proc2);
	vw(s, VMCS_EXIT_CONTROLS, vmx_caps.exit);
	vw(s, VMCS_ENTRY_CONTROLS, s->entry);
	vw(s, VMCS_EXCEPTION_BITMAP, exceptions);
	vw(s, VMCS_PF_ERROR_MASK, 0);
	vw(s, VMCS_PF_ERROR_MATCH, 0);
	vw(s, VMCS_CR3_TARGET_COUNT, 0);
	vw(s, VMCS_EXIT_MSR_STORE_COUNT, 0);
	vw(s, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vw(s, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vw(s, VMCS_IO_BITMAP_A, virt_to_phys(io));
	vw(s, VMCS_IO_BITMAP_B, virt_to_phys(io + PAGE_SIZE));
	vw(s, VMCS_MSR_BITMAP, virt_to_phys(msr));
	vw(s, VMCS_TSC_OFFSET, 0); /* guests run on the real TSC */
	vw(s, VMCS_EPTP, ((struct s2pt *)v->part->stage2)->root_pa | vmx_caps.eptp_flags);
	if (vmx_caps.vpid)
		vw(s, VMCS_VPID, s->vpid);
	if (vmx_caps.proc2 & PROC2_ENABLE_XSAVES)
		vw(s, VMCS_XSS_EXITING_BITMAP, 0); /* XSAVES/XRSTORS never exit (25.6.20) */
	vw(s, VMCS_CR0_MASK, CR0_HOST_MASK);
	vw(s, VMCS_CR4_MASK, CR4_HOST_MASK);
	vw(s, VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (27.3.1.5) */

	/* Keel, as the exit finds it again (28.5): this CPU's tables, stack set per entry. */
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vw(s, VMCS_HOST_CR0, read_cr0());
	vw(s, VMCS_HOST_CR3, read_cr3());
	vw(s, VMCS_HOST_CR4, read_cr4());
	vw(s, VMCS_HOST_CS_SEL, KEEL_CS);
	vw(s, VMCS_HOST_SS_SEL, KEEL_DS);
	vw(s, VMCS_HOST_DS_SEL, KEEL_DS);
	vw(s, VMCS_HOST_ES_SEL, KEEL_DS);
	vw(s, VMCS_HOST_FS_SEL, 0); /* Keel uses no FS; GS only through its base */
	vw(s, VMCS_HOST_GS_SEL, 0);
	vw(s, VMCS_HOST_TR_SEL, KEEL_TSS);
	vw(s, VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vw(s, VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE)); /* struct percpu */
	vw(s, VMCS_HOST_TR_BASE, (uint64_t)&pc->arch.tss);
	vw(s, VMCS_HOST_GDTR_BASE, gdtr.base);
	vw(s, VMCS_HOST_IDTR_BASE, idtr.base);
	vw(s, VMCS_HOST_SYSENTER_CS, rdmsr(0x174));
	vw(s, VMCS_HOST_SYSENTER_ESP, rdmsr(0x175));
	vw(s, VMCS_HOST_SYSENTER_EIP, rdmsr(0x176));
	vw(s, VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vw(s, VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vw(s, VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
	s->initialized = true;
}

/* Write the state given by set_*_state into the guest-state area (25.4). */
static void write_gstate(struct vcpu *v, struct vmx_state *s)
{
	const struct vmx_gstate *g = &s->gs;

	for (int i = 0; i < VMX_NR_SEGS; i++) {
		vw(s, VMCS_GUEST_ES_SEL + 2 * i, g->seg[i].sel);
		vw(s, VMCS_GUEST_ES_LIMIT + 2 * i, g->seg[i].limit);
		vw(s, VMCS_GUEST_ES_AR + 2 * i, g->seg[i].ar);
		vw(s, VMCS_GUEST_ES_BASE + 2 * i, g->seg[i].base);
	}
	vw(s, VMCS_GUEST_GDTR_BASE, g->gdtr_base);
	vw(s, VMCS_GUEST_GDTR_LIMIT, g->gdtr_limit);
	vw(s, VMCS_GUEST_IDTR_BASE, g->idtr_base);
	vw(s, VMCS_GUEST_IDTR_LIMIT, g->idtr_limit);
	/* VMX's fixed bits underneath, the guest's own values in the read shadows. */
	vw(s, VMCS_GUEST_CR0, (g->cr0 | vmx_caps.cr0_must1) & ~vmx_caps.cr0_must0);
	vw(s, VMCS_CR0_SHADOW, g->cr0);
	vw(s, VMCS_GUEST_CR4, (g->cr4 | vmx_caps.cr4_must1) & ~vmx_caps.cr4_must0);
	vw(s, VMCS_CR4_SHADOW, g->cr4);
	vw(s, VMCS_GUEST_CR3, g->cr3);
	vw(s, VMCS_GUEST_EFER, g->efer);
	vw(s, VMCS_GUEST_PAT, s->pat);
	vw(s, VMCS_GUEST_DEBUGCTL, 0);
	vw(s, VMCS_GUEST_DR7, 0x400);
	vw(s, VMCS_GUEST_RIP, g->rip);
	vw(s, VMCS_GUEST_RFLAGS, g->rflags);
	vw(s, VMCS_GUEST_SYSENTER_CS, 0);
	vw(s, VMCS_GUEST_SYSENTER_ESP, 0);
	vw(s, VMCS_GUEST_SYSENTER_EIP, 0);
	vw(s, VMCS_GUEST_PENDING_DBG, 0);
	vw(s, VMCS_GUEST_INTERRUPTIBILITY, 0);
	vw(s, VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	/* "IA-32e mode guest" must equal EFER.LMA (27.3.1.1). */
	s->entry = (s->entry & ~ENTRY_IA32E_MODE_GUEST) |
		   (g->efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0);
	s->ctl_dirty = true;
	s->state_pending = false;
}

static void seg(struct vmx_gstate *g, enum vmx_seg i, uint16_t sel, uint32_t ar, uint32_t limit,
		uint64_t base)
{
	g->seg[i] = (struct vmx_seg_state){ .sel = sel, .ar = ar, .limit = limit, .base = base };
}

static void vmx_set_linux64_state(struct vcpu *v, uint64_t rip, uint64_t cr3, uint64_t gdt_base,
				  uint16_t gdt_limit)
{
	struct vmx_state *s = state_of(v);
	struct vmx_gstate *g = &s->gs;

	/* Linux boot protocol, 64-bit entry: CS 0x10, DS/ES/SS 0x18, paging on, IF off. */
	memset(g, 0, sizeof(*g));
	seg(g, VMX_CS, 0x10, AR_CODE64, 0xffffffff, 0);
	seg(g, VMX_DS, 0x18, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_ES, 0x18, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_SS, 0x18, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_FS, 0x18, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_GS, 0x18, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_LDTR, 0, AR_UNUSABLE, 0, 0);
	seg(g, VMX_TR, 0, AR_TSS_BUSY, 0x67, 0); /* TR must be usable (27.3.1.2) */
	g->gdtr_base = gdt_base;
	g->gdtr_limit = gdt_limit;
	g->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	g->cr3 = cr3;
	g->cr4 = CR4_PAE;
	g->efer = EFER_LME | EFER_LMA;
	g->rflags = 0x2;
	g->rip = rip;
	v->regs.rsp = 0;
	v->regs.rax = 0;
	s->state_pending = true;
}

static void vmx_set_real_mode_state(struct vcpu *v, uint16_t cs, uint16_t ip)
{
	struct vmx_state *s = state_of(v);
	struct vmx_gstate *g = &s->gs;

	/*
	 * The state after INIT (SDM Vol. 3A 10.1.1, Table 10-1), then CS:IP as
	 * given; an unrestricted guest runs it in real mode as it is (25.6.2).
	 */
	memset(g, 0, sizeof(*g));
	seg(g, VMX_CS, cs, AR_CODE16, 0xffff, (uint64_t)cs << 4);
	seg(g, VMX_DS, 0, AR_DATA16, 0xffff, 0);
	seg(g, VMX_ES, 0, AR_DATA16, 0xffff, 0);
	seg(g, VMX_SS, 0, AR_DATA16, 0xffff, 0);
	seg(g, VMX_FS, 0, AR_DATA16, 0xffff, 0);
	seg(g, VMX_GS, 0, AR_DATA16, 0xffff, 0);
	seg(g, VMX_LDTR, 0, AR_LDT, 0xffff, 0);
	seg(g, VMX_TR, 0, AR_TSS_BUSY, 0xffff, 0);
	g->gdtr_limit = 0xffff;
	g->idtr_limit = 0xffff;
	g->cr0 = CR0_ET | CR0_CD | CR0_NW;
	g->rflags = 0x2;
	g->rip = ip;
	memset(&v->regs, 0, sizeof(v->regs));
	/* Events and windows pending before the INIT are gone. */
	s->inject_info = 0;
	s->proc &= ~(PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
	s->ctl_dirty = true;
	s->flush_pending = true;
	s->state_pending = true;
}

/*
 * 32-bit protected mode with paging off (multiboot v1 section 3.2): the
 * state after INIT, then flat 4 GiB code and data segments, CR0.PE set,
 * EAX and EBX as given. An unrestricted guest may run with PE set and PG
 * clear (SDM Vol. 3C 26.3.1.1); CR0 is completed by the VMCS's fixed bits.
 */
static void vmx_set_prot32_state(struct vcpu *v, uint32_t eip, uint32_t eax, uint32_t ebx)
{
	struct vmx_gstate *g = &state_of(v)->gs;

	vmx_set_real_mode_state(v, 0, 0);
	seg(g, VMX_CS, 0x08, 0xc09b, 0xffffffff, 0); /* execute/read, accessed, D/B, G */
	seg(g, VMX_DS, 0x10, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_ES, 0x10, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_SS, 0x10, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_FS, 0x10, AR_DATA32, 0xffffffff, 0);
	seg(g, VMX_GS, 0x10, AR_DATA32, 0xffffffff, 0);
	g->gdtr_limit = 0;
	g->idtr_limit = 0;
	g->cr0 = CR0_PE | CR0_ET;
	g->rip = eip;
	v->regs.rax = eax;
	v->regs.rbx = ebx;
}

static uint64_t vmx_get_rip(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return live(s) ? vmcs_read(VMCS_GUEST_RIP) : s->gs.rip;
}

static void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
	struct vmx_state *s = state_of(v);

	if (live(s))
		vw(s, VMCS_GUEST_RIP, rip);
	else
		s->gs.rip = rip;
}

static void vmx_skip_insn(struct vcpu *v, unsigned int len)
{
	vmx_set_rip(v, vmx_get_rip(v) + len);
}

/* The guest's view: its own bits from the register, the host-owned ones from the shadow. */
static uint64_t vmx_get_cr0(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	if (!live(s))
		return s->gs.cr0;
	return (vmcs_read(VMCS_GUEST_CR0) & ~CR0_HOST_MASK) |
	       (vmcs_read(VMCS_CR0_SHADOW) & CR0_HOST_MASK);
}

static uint64_t vmx_get_cr3(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return live(s) ? vmcs_read(VMCS_GUEST_CR3) : s->gs.cr3;
}

static uint64_t vmx_get_cr4(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	if (!live(s))
		return s->gs.cr4;
	return (vmcs_read(VMCS_GUEST_CR4) & ~CR4_HOST_MASK) |
	       (vmcs_read(VMCS_CR4_SHADOW) & CR4_HOST_MASK);
}

static uint64_t vmx_get_efer(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return live(s) ? vmcs_read(VMCS_GUEST_EFER) : s->gs.efer;
}

/* "IA-32e mode guest" follows EFER.LMA (27.3.1.1); LMA itself is the CPU's to set. */
static void set_lma(struct vmx_state *s, uint64_t efer)
{
	uint32_t entry = (s->entry & ~ENTRY_IA32E_MODE_GUEST) |
			 (efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0);

	if (entry != s->entry) {
		s->entry = entry;
		s->ctl_dirty = true;
	}
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	struct vmx_state *s = state_of(v);
	uint64_t cur = vmx_get_efer(v);

	efer = (efer & ~EFER_LMA) | (cur & EFER_LMA);
	if (live(s))
		vw(s, VMCS_GUEST_EFER, efer);
	else
		s->gs.efer = efer;
}

static unsigned int vmx_get_cpl(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);
	/* SS.DPL is the CPL in the VMCS (25.4.1). */
	uint64_t ar = live(s) ? vmcs_read(VMCS_GUEST_SS_AR) : s->gs.seg[VMX_SS].ar;

	return (ar >> 5) & 3;
}

static uint64_t vmx_get_rflags(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return live(s) ? vmcs_read(VMCS_GUEST_RFLAGS) : s->gs.rflags;
}

static uint64_t vmx_get_pat(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return live(s) ? vmcs_read(VMCS_GUEST_PAT) : s->pat;
}

static void vmx_set_pat(struct vcpu *v, uint64_t pat)
{
	struct vmx_state *s = state_of(v);

	s->pat = pat;
	if (live(s))
		vw(s, VMCS_GUEST_PAT, pat);
}

static uint32_t interruptibility(struct vmx_state *s)
{
	return live(s) ? (uint32_t)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) : 0;
}

static bool vmx_irq_window_open(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	return (vmx_get_rflags(v) & RFLAGS_IF) &&
	       !(interruptibility(s) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !(s->inject_info & INTR_INFO_VALID);
}

static void vmx_inject_irq(struct vcpu *v, uint8_t vector)
{
	state_of(v)->inject_info = INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << 8) | vector;
}

static void set_proc_bit(struct vmx_state *s, uint32_t bit, bool on)
{
	uint32_t proc = on ? s->proc | bit : s->proc & ~bit;

	if (proc != s->proc) {
		s->proc = proc;
		s->ctl_dirty = true;
	}
}

/* Interrupt-window exiting (25.6.2): an exit as soon as RFLAGS.IF and no blocking allow one. */
static void vmx_request_irq_window(struct vcpu *v, bool on)
{
	set_proc_bit(state_of(v), PROC_INTR_WINDOW_EXITING, on);
}

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct vmx_state *s = state_of(v);

	s->inject_info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | vector;
	/* No error code in real mode (27.2.1.3): an unrestricted guest with CR0.PE clear. */
	if (has_error && (vmx_get_cr0(v) & CR0_PE)) {
		s->inject_info |= INTR_INFO_ERROR_VALID;
		s->inject_error = error;
	}
}

static void vmx_flush_tlb(struct vcpu *v)
{
	state_of(v)->flush_pending = true;
}

/*
 * With EPT, the TLBs hold guest-physical and combined mappings, both
 * tagged with the EPTP; INVEPT of this EPTP drops them for every VPID
 * (29.4.3.1). Linear-only mappings exist only without EPT.
 */
static void flush_now(struct vcpu *v)
{
	uint64_t eptp = ((struct s2pt *)v->part->stage2)->root_pa | vmx_caps.eptp_flags;

	if (vmx_caps.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
		vmx_invept(INVEPT_SINGLE_CONTEXT, eptp);
	else
		vmx_invept(INVEPT_ALL_CONTEXT, 0);
}

/* Make v's VMCS current on this CPU, set up the first time (25.11.3: VMCLEAR a new one). */
static int load_vmcs(struct vcpu *v, struct vmx_state *s)
{
	unsigned int cpu = this_cpu_id();

	if (vmcs_on_cpu[cpu] == v)
		return 0;
	if (v->cpu != this_cpu()) {
		printk("keel: vmx: vcpu %u of %s belongs to cpu %u, not cpu %u\n", v->id,
		       v->part->name, v->cpu->cpu_id, cpu);
		return -EINVAL;
	}
	if (!s->initialized && !vmcs_clear(v->vendor_pa))
		return -EIO;
	if (!vmcs_load(v->vendor_pa))
		return -EIO;
	vmcs_on_cpu[cpu] = v;
	if (!s->initialized)
		vmcs_init(v, s);
	return 0;
}

/* Inject a pending NMI if the guest can take one now, else ask for the NMI window (25.6.2). */
static void nmi_injection(struct vcpu *v, struct vmx_state *s)
{
	uint32_t block = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI;

	if (!v->nmi_pending) {
		set_proc_bit(s, PROC_NMI_WINDOW_EXITING, false);
		return;
	}
	if (!(s->inject_info & INTR_INFO_VALID) && !(interruptibility(s) & block)) {
		s->inject_info = INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2;
		v->nmi_pending = false;
		set_proc_bit(s, PROC_NMI_WINDOW_EXITING, false);
	} else {
		set_proc_bit(s, PROC_NMI_WINDOW_EXITING, true);
	}
}

static int prepare_entry(struct vcpu *v, struct vmx_state *s)
{
	int ret = load_vmcs(v, s);

	if (ret)
		return ret;
	if (s->state_pending)
		write_gstate(v, s);
	if (s->flush_pending) {
		flush_now(v);
		s->flush_pending = false;
	}
	if (s->wait_sipi) {
		/*
		 * 27.3.1.5: nothing injected into the wait-for-SIPI state and no
		 * blocking by STI or MOV SS; an NMI would wait, its window too.
		 */
		vw(s, VMCS_GUEST_ACTIVITY, ACTIVITY_WAIT_SIPI);
		vw(s, VMCS_GUEST_INTERRUPTIBILITY, 0);
		s->inject_info = 0;
		set_proc_bit(s, PROC_NMI_WINDOW_EXITING, false);
		set_proc_bit(s, PROC_INTR_WINDOW_EXITING, false);
	} else {
		nmi_injection(v, s);
	}
	if (s->ctl_dirty) {
		vw(s, VMCS_PROC_CONTROLS, s->proc);
		vw(s, VMCS_ENTRY_CONTROLS, s->entry);
		s->ctl_dirty = false;
	}
	vw(s, VMCS_ENTRY_INTR_INFO, s->inject_info);
	if (s->inject_info & INTR_INFO_VALID) {
		uint32_t type = INTR_INFO_TYPE(s->inject_info);

		vw(s, VMCS_ENTRY_EXCEPTION_ERROR, s->inject_error);
		if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
		    type == INTR_TYPE_SW_EXCEPTION)
			vw(s, VMCS_ENTRY_INSN_LEN, s->inject_len);
		/* An event wakes a halted guest; it is delivered as from the active state. */
		if (vmcs_read(VMCS_GUEST_ACTIVITY) == ACTIVITY_HLT)
			vw(s, VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	}
	vw(s, VMCS_GUEST_RSP, v->regs.rsp);
	if (s->bad_field) {
		printk("keel: vmx: VMWRITE of VMCS field 0x%x failed: %s\n", s->bad_field & 0xffff,
		       vm_insn_error_name(vmcs_read(VMCS_VM_INSN_ERROR)));
		return -EIO;
	}
	return 0;
}

/*
 * After each exit: the event the CPU was delivering when the exit came
 * (IDT-vectoring information valid, 28.2.4) is lost unless Keel injects it
 * again (27.6, 31.7.1.1). A handler that injects an exception of its own
 * replaces it, as the CPU would.
 */
static void after_exit(struct vcpu *v, struct vmx_state *s)
{
	uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);

	s->inject_info = 0;
	if (idt & INTR_INFO_VALID) {
		s->inject_info = idt & (INTR_INFO_VALID | INTR_INFO_ERROR_VALID | 0x7ff);
		if (idt & INTR_INFO_ERROR_VALID)
			s->inject_error = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_ERROR);
		s->inject_len = (uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN);
		/* An NMI whose delivery exited left virtual-NMI blocking set (28.1): clear it. */
		if (INTR_INFO_TYPE(idt) == INTR_TYPE_NMI)
			vw(s, VMCS_GUEST_INTERRUPTIBILITY,
			   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & ~INTERRUPTIBILITY_NMI);
	}
	/*
	 * The guest may have left or entered long mode on its own (CR0.PG with
	 * EFER.LME, neither intercepted). "Save IA32_EFER" has its EFER here;
	 * the entry control must follow, which exits do themselves where
	 * IA32_VMX_MISC[5] says so (28.2, A.6), and Keel does here otherwise.
	 */
	/*
	 * Keel never runs a guest in SMM, so blocking by SMI must be 0 at entry
	 * (27.3.1.5), and exits outside SMM save it as 0 (28.3.4). Bochs 2.7
	 * keeps SMIs masked in a CPU that left the wait-for-SIPI state by a
	 * STARTUP exit and saves the bit at its later exits: clear it.
	 */
	if (s->sipi_seen) {
		uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

		if (intr & INTERRUPTIBILITY_SMI)
			vw(s, VMCS_GUEST_INTERRUPTIBILITY, intr & ~INTERRUPTIBILITY_SMI);
	}
	if (vmx_caps.exit_saves_lma)
		s->entry = (uint32_t)vmcs_read(VMCS_ENTRY_CONTROLS);
	else
		set_lma(s, vmcs_read(VMCS_GUEST_EFER));
}

/* An exit that arrived on an IRET which unblocked NMIs: block them again (28.2.3). */
static void nmi_unblocked_by_iret(struct vmx_state *s, bool yes)
{
	if (yes && !(vmcs_read(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
		vw(s, VMCS_GUEST_INTERRUPTIBILITY,
		   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
}

/* An IRET to the next instruction: unblocks NMIs, as the end of an NMI handler would. */
static void unblock_nmis(void)
{
	__asm__ volatile("mov %%rsp, %%rax\n\t"
			 "pushq %[ss]\n\t"
			 "pushq %%rax\n\t"
			 "pushfq\n\t"
			 "pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "iretq\n"
			 "1:"
			 :
			 : [ss] "i"(KEEL_DS), [cs] "i"(KEEL_CS)
			 : "rax", "memory");
}

/*
 * An NMI exit: the NMI was Keel's (a kick) or the guest's; either way it is
 * noted and injected at the next entry, as Keel's NMI handler does when one
 * arrives while Keel runs. NMIs may stay blocked after an NMI exit.
 */
static void nmi_exit(struct vcpu *v)
{
	v->nmi_pending = true;
	unblock_nmis();
}

static void skip(struct vcpu *v, struct vm_exit *e)
{
	vcpu_skip(v, e->insn_len);
}

/* Where a guest's CR3 points in PAE paging: its four PDPTEs, loaded into the VMCS (29.4.1). */
static bool load_pdptes(struct vcpu *v, struct vmx_state *s, uint64_t cr3)
{
	uint64_t hpa;
	const uint64_t *pdpte;

	if (s2pt_lookup(v->part->stage2, cr3 & 0xffffffe0ull, &hpa, NULL, NULL))
		return false;
	pdpte = phys_to_virt(hpa);
	for (int i = 0; i < 4; i++)
		vw(s, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return true;
}

/*
 * MOV to CR0 that changed a bit VMX owns (CR0.NE, which VMX keeps 1, while
 * the guest writes 0 in real mode and 1 later): do the whole write as the
 * CPU would (SDM Vol. 3A 2.5; 10.8.5 for paging and long mode), keeping
 * the fixed bits underneath and the guest's value in the shadow.
 */
static bool emulate_cr0(struct vcpu *v, struct vmx_state *s, uint64_t value)
{
	uint64_t old = vmx_get_cr0(v), efer = vmcs_read(VMCS_GUEST_EFER);
	uint64_t cr4 = vmx_get_cr4(v);

	value |= CR0_ET; /* hard-wired to 1 */
	if ((value >> 32) || (value & vmx_caps.cr0_must0) ||
	    ((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
		return false;
	if ((value & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & CR4_PAE))
			return false;
		efer |= EFER_LMA;
	} else if (!(value & CR0_PG) && (old & CR0_PG)) {
		efer &= ~EFER_LMA;
	}
	if ((value & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA) &&
	    !load_pdptes(v, s, vmx_get_cr3(v)))
		return false;
	vw(s, VMCS_GUEST_CR0, value | vmx_caps.cr0_must1);
	vw(s, VMCS_CR0_SHADOW, value);
	vw(s, VMCS_GUEST_EFER, efer);
	set_lma(s, efer);
	if ((old ^ value) & (CR0_PG | CR0_PE | CR0_WP))
		s->flush_pending = true;
	return true;
}

/* MOV to CR4 that exited: only bits the guest may not set (VMXE, unsupported ones) do. */
static bool emulate_cr4(struct vcpu *v, struct vmx_state *s, uint64_t value)
{
	uint64_t cr0 = vmx_get_cr0(v);

	if ((value >> 32) || (value & (vmx_caps.cr4_must0 | CR4_VMXE)))
		return false; /* #GP, as on a CPU without them */
	if ((cr0 & CR0_PG) && (value & CR4_PAE) && !(vmx_get_efer(v) & EFER_LMA) &&
	    !load_pdptes(v, s, vmx_get_cr3(v)))
		return false;
	vw(s, VMCS_GUEST_CR4, value | vmx_caps.cr4_must1);
	vw(s, VMCS_CR4_SHADOW, value);
	s->flush_pending = true;
	return true;
}

/* Control-register access (exit qualification, 28.2.1, Table 28-3). */
static bool handle_cr_access(struct vcpu *v, struct vmx_state *s, struct vm_exit *e)
{
	uint64_t q = e->qual1;
	unsigned int cr = q & 0xf, type = (q >> 4) & 3, gpr = (q >> 8) & 0xf;
	uint64_t value = ((uint64_t *)&v->regs)[gpr];
	bool ok;

	if (type != 0 || (cr != 0 && cr != 4))
		return false;
	ok = cr == 0 ? emulate_cr0(v, s, value) : emulate_cr4(v, s, value);
	if (ok)
		skip(v, e);
	else
		vmx_inject_exception(v, X86_GP, true, 0);
	return true;
}

/*
 * XSETBV always exits (26.1.2). Checked as the instruction would be
 * (SDM Vol. 2, XSETBV; Vol. 1 13.3), then done on Keel's side with CR4.OSXSAVE
 * on for that moment; XCR0 is not switched by VM entries and exits, so the
 * value stays the guest's.
 */
static void handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	uint64_t x = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	uint64_t cr4;

	if ((uint32_t)v->regs.rcx != 0 || vmx_get_cpl(v) != 0 || !(x & 1) ||
	    (x & ~vmx_caps.xcr0_mask) || ((x & 4) && !(x & 2)) ||
	    ((x & 0xe0) && (x & 0xe4) != 0xe4) || ((x & 0x18) && (x & 0x18) != 0x18) ||
	    ((x & 0x60000) && (x & 0x60000) != 0x60000)) {
		vmx_inject_exception(v, X86_GP, true, 0);
		return;
	}
	cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)x), "d"((uint32_t)(x >> 32)));
	write_cr4(cr4);
	skip(v, e);
}

/*
 * A failed VM entry (VMfailValid with error 7, or exit reason 33): the CPU
 * does not say which rule the VMCS broke, so repeat the checks on a copy
 * of the fields (arch/x86/vmx_check.c) and print the first that fails.
 */
static void explain_entry_failure(struct vcpu *v, bool controls)
{
	struct vmx_guest_view g;
	struct vmx_check_caps c;
	uint32_t a, b, cx, d;
	char why[160];

	memset(&g, 0, sizeof(g));
	g.pin = (uint32_t)vmcs_read(VMCS_PIN_CONTROLS);
	g.proc = (uint32_t)vmcs_read(VMCS_PROC_CONTROLS);
	g.proc2 = (uint32_t)vmcs_read(VMCS_PROC2_CONTROLS);
	g.exit = (uint32_t)vmcs_read(VMCS_EXIT_CONTROLS);
	g.entry = (uint32_t)vmcs_read(VMCS_ENTRY_CONTROLS);
	g.vpid = vmx_caps.vpid ? (uint16_t)vmcs_read(VMCS_VPID) : 0;
	g.entry_intr = (uint32_t)vmcs_read(VMCS_ENTRY_INTR_INFO);
	g.entry_error = (uint32_t)vmcs_read(VMCS_ENTRY_EXCEPTION_ERROR);
	g.cr0 = vmcs_read(VMCS_GUEST_CR0);
	g.cr3 = vmcs_read(VMCS_GUEST_CR3);
	g.cr4 = vmcs_read(VMCS_GUEST_CR4);
	g.dr7 = vmcs_read(VMCS_GUEST_DR7);
	g.debugctl = vmcs_read(VMCS_GUEST_DEBUGCTL);
	g.efer = vmcs_read(VMCS_GUEST_EFER);
	g.pat = vmcs_read(VMCS_GUEST_PAT);
	g.rip = vmcs_read(VMCS_GUEST_RIP);
	g.rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	for (int i = 0; i < VMX_NR_SEGS; i++) {
		g.seg[i].sel = (uint16_t)vmcs_read(VMCS_GUEST_ES_SEL + 2 * i);
		g.seg[i].limit = (uint32_t)vmcs_read(VMCS_GUEST_ES_LIMIT + 2 * i);
		g.seg[i].ar = (uint32_t)vmcs_read(VMCS_GUEST_ES_AR + 2 * i);
		g.seg[i].base = vmcs_read(VMCS_GUEST_ES_BASE + 2 * i);
	}
	g.gdtr_base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	g.gdtr_limit = (uint32_t)vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	g.idtr_base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	g.idtr_limit = (uint32_t)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
	g.interruptibility = (uint32_t)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	g.activity = (uint32_t)vmcs_read(VMCS_GUEST_ACTIVITY);
	g.pending_dbg = vmcs_read(VMCS_GUEST_PENDING_DBG);
	g.link_pointer = vmcs_read(VMCS_LINK_POINTER);
	for (int i = 0; i < 4; i++)
		g.pdpte[i] = vmcs_read(VMCS_GUEST_PDPTE0 + 2 * i);

	c.pin = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
					 : MSR_IA32_VMX_PINBASED_CTLS);
	c.proc = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					  : MSR_IA32_VMX_PROCBASED_CTLS);
	c.proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	c.exit = rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c.entry =
		rdmsr(vmx_caps.true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c.misc = rdmsr(MSR_IA32_VMX_MISC);
	cpuid(0x80000008, &a, &b, &cx, &d);
	c.phys_bits = a & 0xff;

	if (controls ? vmx_check_controls(&g, &c, why, sizeof(why))
		     : vmx_check_guest_state(&g, &c, why, sizeof(why)))
		printk("keel: vmx: partition %s vcpu %u: failed check: %s\n", v->part->name, v->id,
		       why);
	else
		printk("keel: vmx: partition %s vcpu %u: Keel's copy of the %s checks finds "
		       "nothing wrong (SDM Vol. 3C %s)\n",
		       v->part->name, v->id, controls ? "control" : "guest-state",
		       controls ? "27.2.1" : "27.3.1");
}

static const char *exit_failure_name(uint32_t basic)
{
	switch (basic) {
	case VMX_EXIT_INVALID_GUEST_STATE:
		return "invalid guest state";
	case VMX_EXIT_MSR_LOADING:
		return "MSR loading";
	case VMX_EXIT_MACHINE_CHECK:
		return "machine-check event";
	default:
		return "unknown";
	}
}

/*
 * Describe the exit in e. Returns false for exits handled here (the guest
 * is entered again), true for the shared handlers.
 */
static bool decode_exit(struct vcpu *v, struct vmx_state *s, struct vm_exit *e)
{
	uint32_t reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON), basic = reason & 0xffff;
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint32_t info;

	memset(e, 0, sizeof(*e));
	e->hw_code = reason;
	e->qual1 = q;
	if (reason & VMX_EXIT_ENTRY_FAILURE) {
		/* 27.8: nothing of the guest ran; the qualification says more for basic 33. */
		printk("keel: vmx: VM entry failed on cpu %u: %s (exit reason %u, qualification "
		       "0x%llx)\n",
		       this_cpu_id(), exit_failure_name(basic), basic, (unsigned long long)q);
		if (basic == VMX_EXIT_INVALID_GUEST_STATE)
			explain_entry_failure(v, false);
		e->reason = EXIT_INVALID_STATE;
		return true;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);
		e->qual2 = info;
		if (INTR_INFO_TYPE(info) == INTR_TYPE_NMI) {
			nmi_exit(v);
			e->reason = EXIT_NMI;
			break;
		}
		nmi_unblocked_by_iret(s, info & INTR_INFO_NMI_UNBLOCKED_BY_IRET);
		e->reason = EXIT_EXCEPTION;
		e->vector = (uint8_t)INTR_INFO_VECTOR(info);
		break;
	case VMX_EXIT_EXTERNAL_INTR:
		e->reason = EXIT_INTR;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_INIT:
		e->reason = EXIT_INIT;
		break;
	case VMX_EXIT_SIPI:
		/* A STARTUP in the wait-for-SIPI state, its vector in qualification bits 7:0 (28.2.1). */
		e->reason = EXIT_SIPI;
		e->vector = (uint8_t)q;
		s->sipi_seen = true;
		/*
		 * On a CPU only an NMI's exit leaves NMIs blocked; Bochs 2.7 keeps
		 * the blocking of the wait-for-SIPI state after this exit, and
		 * Keel's NMI kicks (an INIT for CPU hot-plug) would never reach
		 * the CPU again. An IRET unblocks them there, elsewhere it is a
		 * no-op.
		 */
		unblock_nmis();
		break;
	case VMX_EXIT_INTR_WINDOW:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case VMX_EXIT_NMI_WINDOW:
		return false; /* the NMI goes in at the next entry (nmi_injection()) */
	case VMX_EXIT_EPT_VIOLATION:
		/* Qualification bits 0-2: read, write, fetch (28.2.1, Table 28-7). */
		e->reason = EXIT_NPF;
		e->npf.gpa = e->qual2 = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
		e->npf.write = q & (1u << 1);
		e->npf.fetch = q & (1u << 2);
		nmi_unblocked_by_iret(s, q & (1u << 12));
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		e->qual2 = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
		printk("keel: vmx: EPT misconfiguration at guest-physical 0x%llx (Keel's stage-2 "
		       "tables are wrong, 29.3.3.1)\n",
		       (unsigned long long)e->qual2);
		e->reason = EXIT_UNKNOWN;
		break;
	default:
		/* The rest are instructions: the exit says how long (28.2.5). */
		e->insn_len = (uint8_t)vmcs_read(VMCS_EXIT_INSN_LEN);
		switch (basic) {
		case VMX_EXIT_CPUID:
			e->reason = EXIT_CPUID;
			break;
		case VMX_EXIT_RDMSR:
			e->reason = EXIT_RDMSR;
			break;
		case VMX_EXIT_WRMSR:
			e->reason = EXIT_WRMSR;
			break;
		case VMX_EXIT_IO:
			/* Size - 1, direction (1: in), string, REP, port (28.2.1, Table 28-5). */
			e->reason = EXIT_IO;
			e->io.size = (uint8_t)((q & 7) + 1);
			e->io.in = q & (1u << 3);
			e->io.string = q & (1u << 4);
			e->io.rep = q & (1u << 5);
			e->io.port = (uint16_t)(q >> 16);
			break;
		case VMX_EXIT_HLT:
			e->reason = EXIT_HLT;
			break;
		case VMX_EXIT_INVD:
			e->reason = EXIT_INVD;
			break;
		case VMX_EXIT_VMCALL:
			e->reason = EXIT_HYPERCALL;
			break;
		case VMX_EXIT_GETSEC:
		case VMX_EXIT_VMCLEAR:
		case VMX_EXIT_VMLAUNCH:
		case VMX_EXIT_VMPTRLD:
		case VMX_EXIT_VMPTRST:
		case VMX_EXIT_VMREAD:
		case VMX_EXIT_VMRESUME:
		case VMX_EXIT_VMWRITE:
		case VMX_EXIT_VMXOFF:
		case VMX_EXIT_VMXON:
		case VMX_EXIT_INVEPT:
		case VMX_EXIT_INVVPID:
		case VMX_EXIT_VMFUNC:
			e->reason = EXIT_VIRT_INSN;
			break;
		case VMX_EXIT_CR_ACCESS:
			if (handle_cr_access(v, s, e))
				return false;
			e->reason = EXIT_UNKNOWN;
			break;
		case VMX_EXIT_XSETBV:
			handle_xsetbv(v, e);
			return false;
		default:
			e->reason = EXIT_UNKNOWN;
			break;
		}
		break;
	}
	return true;
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_state *s = state_of(v);

	for (;;) {
		int ret = prepare_entry(v, s);

		if (!ret)
			ret = vmx_enter_guest(&v->regs, s->launched);
		if (ret) {
			uint64_t err = ret == 2 ? vmcs_read(VMCS_VM_INSN_ERROR) : 0;

			/* VMfail: the guest never ran; its partition stops, Keel goes on. */
			memset(e, 0, sizeof(*e));
			e->reason = EXIT_INVALID_STATE;
			e->hw_code = 0xffffffff;
			if (ret == 2)
				printk("keel: vmx: %s failed on cpu %u: VM-instruction error %llu "
				       "(%s)\n",
				       s->launched ? "VMRESUME" : "VMLAUNCH", this_cpu_id(),
				       (unsigned long long)err, vm_insn_error_name(err));
			if (ret == 2 && err == 7)
				explain_entry_failure(v, true);
			else if (ret == 1)
				printk("keel: vmx: %s failed on cpu %u: no valid current VMCS\n",
				       s->launched ? "VMRESUME" : "VMLAUNCH", this_cpu_id());
			else
				printk("keel: vmx: cannot load the VMCS of vcpu %u on cpu %u "
				       "(%d)\n",
				       v->id, this_cpu_id(), ret);
			return;
		}
		v->regs.rsp = vmcs_read(VMCS_GUEST_RSP);
		v->exits++;
		if (!(vmcs_read(VMCS_EXIT_REASON) & VMX_EXIT_ENTRY_FAILURE)) {
			s->launched = true;
			after_exit(v, s);
		}
		if (decode_exit(v, s, e) && !vcpu_exit_fast(v, e))
			return;
	}
}

/*
 * v waits for a STARTUP (after INIT, or never started): enter it in the
 * wait-for-SIPI activity state (25.4.2), where the CPU sleeps until a
 * STARTUP IPI arrives and exits (26.2, exit reason 4). INITs, NMIs, SMIs
 * and external interrupts wait meanwhile. The guest state is the state
 * after INIT the vCPU was given (27.3.1 checks it all the same).
 */
static bool vmx_wait_for_sipi(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_state *s = state_of(v);

	if (!vmx_caps.wait_sipi)
		return false;
	s->wait_sipi = true;
	vmx_vcpu_run(v, e);
	s->wait_sipi = false;
	return true;
}

static void vmx_dump(struct vcpu *v)
{
	struct vmx_state *s = state_of(v);

	if (!s->initialized || vmcs_on_cpu[this_cpu_id()] != v) {
		printk("  vmx: no VMCS of this vcpu is current on this cpu\n");
		return;
	}
	printk("  vmx: exit reason 0x%llx qualification 0x%llx gpa 0x%llx insn error %llu\n",
	       (unsigned long long)vmcs_read(VMCS_EXIT_REASON),
	       (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION),
	       (unsigned long long)vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS),
	       (unsigned long long)vmcs_read(VMCS_VM_INSN_ERROR));
	printk("  vmx: exit intr 0x%llx idt vectoring 0x%llx entry intr 0x%x interruptibility "
	       "0x%llx "
	       "activity %llu\n",
	       (unsigned long long)vmcs_read(VMCS_EXIT_INTR_INFO),
	       (unsigned long long)vmcs_read(VMCS_IDT_VECTORING_INFO), s->inject_info,
	       (unsigned long long)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY),
	       (unsigned long long)vmcs_read(VMCS_GUEST_ACTIVITY));
	printk("  vmx: pin 0x%llx proc 0x%llx proc2 0x%llx exit 0x%llx entry 0x%llx\n",
	       (unsigned long long)vmcs_read(VMCS_PIN_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_PROC_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_PROC2_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_EXIT_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_ENTRY_CONTROLS));
	printk("  cs %04llx/%05llx base 0x%llx  ss ar %05llx  rflags 0x%llx  cr0 0x%llx (shadow "
	       "0x%llx) cr4 0x%llx (shadow 0x%llx) efer 0x%llx\n",
	       (unsigned long long)vmcs_read(VMCS_GUEST_CS_SEL),
	       (unsigned long long)vmcs_read(VMCS_GUEST_CS_AR),
	       (unsigned long long)vmcs_read(VMCS_GUEST_CS_BASE),
	       (unsigned long long)vmcs_read(VMCS_GUEST_SS_AR),
	       (unsigned long long)vmcs_read(VMCS_GUEST_RFLAGS),
	       (unsigned long long)vmcs_read(VMCS_GUEST_CR0),
	       (unsigned long long)vmcs_read(VMCS_CR0_SHADOW),
	       (unsigned long long)vmcs_read(VMCS_GUEST_CR4),
	       (unsigned long long)vmcs_read(VMCS_CR4_SHADOW),
	       (unsigned long long)vmcs_read(VMCS_GUEST_EFER));
}

const struct vcpu_ops vmx_vcpu_ops = {
	.name = "vmx",
	.stage2_format = S2PT_EPT,
	.cpu_enable = vmx_cpu_enable,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_run = vmx_vcpu_run,
	.set_linux64_state = vmx_set_linux64_state,
	.set_real_mode_state = vmx_set_real_mode_state,
	.set_prot32_state = vmx_set_prot32_state,
	.wait_for_sipi = vmx_wait_for_sipi,
	.get_rflags = vmx_get_rflags,
	.get_pat = vmx_get_pat,
	.set_pat = vmx_set_pat,
	.irq_window_open = vmx_irq_window_open,
	.inject_irq = vmx_inject_irq,
	.request_irq_window = vmx_request_irq_window,
	.get_rip = vmx_get_rip,
	.set_rip = vmx_set_rip,
	.skip_insn = vmx_skip_insn,
	.get_cr0 = vmx_get_cr0,
	.get_cr3 = vmx_get_cr3,
	.get_cr4 = vmx_get_cr4,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.get_cpl = vmx_get_cpl,
	.inject_exception = vmx_inject_exception,
	.flush_tlb = vmx_flush_tlb,
	.intercept_msr_write = vmx_intercept_msr_write,
	.dump = vmx_dump,
};
