// SPDX-License-Identifier: MIT
/*
 * The AMD SVM backend (AMD APM Vol. 2, chapter 15): enabling SVM on a CPU,
 * the VMCB of a vCPU, entering the guest and describing exits in the
 * neutral struct vm_exit. Policy (what to intercept and why) is here;
 * handling lives in the shared exit handlers.
 */
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/string.h>
#include <x86/cr.h>
#include <x86/cpu.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/s2pt.h>
#include <x86/svm.h>
#include <x86/vcpu.h>

#define CPUID81_ECX_SVM (1u << 2)
#define VM_CR_SVMDIS (1u << 4)
#define SVM_EDX_NPT (1u << 0)
#define SVM_EDX_NRIPS (1u << 3)

/* Segment attributes in the VMCB's packed form (APM B.2): type, S, DPL, P, AVL, L, D/B, G. */
#define SEG_CODE64 0x0a9b /* execute/read, accessed, present, L, G */
#define SEG_DATA32 0x0c93 /* read/write, accessed, present, D/B, G */
#define SEG_CODE32 0x0c9b /* execute/read, accessed, present, D/B, G */
#define SEG_CODE16 0x009b
#define SEG_DATA16 0x0093
#define SEG_LDT 0x0082
#define SEG_TSS_BUSY 0x008b

extern void svm_enter_guest(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmsave_pa);

static bool has_nrips;
/* I/O and MSR permission maps (APM 15.10, 15.11), shared by every host vCPU. */
static uint8_t *iopm, *msrpm;
static uint64_t iopm_pa, msrpm_pa;

static struct vmcb *vmcb_of(struct vcpu *v)
{
	return v->vendor;
}

static void msrpm_set(uint32_t msr, bool rd, bool wr, bool on)
{
	uint32_t base;

	/* Three 2 KiB blocks, two bits per MSR: read then write (APM 15.11). */
	if (msr < 0x2000)
		base = 0;
	else if (msr >= 0xc0000000 && msr < 0xc0002000)
		base = 0x800, msr -= 0xc0000000;
	else if (msr >= 0xc0010000 && msr < 0xc0012000)
		base = 0x1000, msr -= 0xc0010000;
	else
		return; /* MSRs outside the map always exit */
	for (int bit = 0; bit < 2; bit++) {
		uint8_t mask = (uint8_t)(1u << ((msr % 4) * 2 + bit));

		if (!(bit ? wr : rd))
			continue;
		if (on)
			msrpm[base + msr / 4] |= mask;
		else
			msrpm[base + msr / 4] &= (uint8_t)~mask;
	}
}

static void msrpm_intercept(uint32_t msr, bool rd, bool wr)
{
	msrpm_set(msr, rd, wr, true);
}

static void svm_intercept_msr_write(uint32_t msr, bool intercept)
{
	msrpm_set(msr, false, true, intercept);
}

static int svm_setup_maps(void)
{
	/* IOPM: 12 KiB, one bit per port (plus the tail byte); MSRPM: 8 KiB. */
	iopm = page_alloc(3);
	msrpm = page_alloc(2);
	if (!iopm || !msrpm)
		return -ENOMEM;
	iopm_pa = virt_to_phys(iopm);
	msrpm_pa = virt_to_phys(msrpm);
	/*
	 * COM1's data port and LSR: Keel shares the serial line with the host
	 * (hv/console.c, hv/console_input.c).
	 */
	iopm[0x3f8 / 8] |= 1u << (0x3f8 % 8);
	iopm[0x3fd / 8] |= 1u << (0x3fd % 8);
	/* EFER: keep SVME set underneath the guest and hide it. SVM's own MSRs: refuse. */
	msrpm_intercept(MSR_EFER, true, true);
	msrpm_intercept(MSR_VM_CR, true, true);
	msrpm_intercept(MSR_VM_HSAVE_PA, true, true);
	/* kvm-clock's MSRs (arch/x86/host_kvm.c). */
	for (uint32_t i = 0; i < ARRAY_SIZE(host_kvm_msrs); i++)
		msrpm_intercept(host_kvm_msrs[i], true, true);
	/* x2APIC: the host's INIT/STARTUP IPIs go through the ICR MSR (arch/x86/vapic.c). */
	if (lapic_x2apic_mode())
		msrpm_intercept(MSR_X2APIC_ICR, false, true);
	return 0;
}

static int svm_cpu_enable(void)
{
	uint32_t a, b, c, d;
	struct arch_percpu *ap = &this_cpu()->arch;
	void *hsave, *vmsave;

	cpuid(0x80000001, &a, &b, &c, &d);
	if (!(c & CPUID81_ECX_SVM))
		return -ENODEV;
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
		return -EPERM; /* disabled by firmware (APM 15.30.1) */
	cpuid(0x8000000a, &a, &b, &c, &d);
	if (!(d & SVM_EDX_NPT))
		return -ENODEV;
	has_nrips = d & SVM_EDX_NRIPS;
	hsave = page_alloc(1);
	vmsave = page_alloc(1);
	if (!hsave || !vmsave)
		return -ENOMEM;
	ap->svm_hsave_pa = virt_to_phys(hsave);
	ap->svm_host_vmsave_pa = virt_to_phys(vmsave);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, ap->svm_hsave_pa);
	return 0;
}

/*
 * A guest partition's maps: every port exits (its devices are all emulated)
 * and every MSR exits, except the ones whose state the VMCB itself switches
 * (VMLOAD/VMSAVE and VMRUN, APM 15.5.1), which the guest may own outright.
 */
struct guest_maps {
	uint64_t iopm_pa, msrpm_pa;
};
static struct guest_maps guest_maps[MAX_PARTITIONS];

static const uint32_t guest_msr_passthrough[] = {
	/*
	 * Per-CPU state the guest may own outright: its vCPU has the CPU to
	 * itself and Keel never uses it (SPEC_CTRL, PRED_CMD, TSC_AUX).
	 */
	0x48,	    0x49,	0xc0000103, 0x174,	0x175, 0x176, /* SYSENTER_CS/ESP/EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102,		/* FS_BASE, GS_BASE, KERNEL_GS_BASE */
};

static int svm_guest_maps(struct partition *p, uint64_t *iopm_out, uint64_t *msrpm_out)
{
	struct guest_maps *m = &guest_maps[p->id];
	uint8_t *io, *msr;

	if (!m->iopm_pa) {
		io = page_alloc(3);
		msr = page_alloc(2);
		if (!io || !msr)
			return -ENOMEM;
		memset(io, 0xff, 3 * PAGE_SIZE);
		memset(msr, 0xff, 2 * PAGE_SIZE);
		for (size_t i = 0; i < ARRAY_SIZE(guest_msr_passthrough); i++) {
			uint32_t n = guest_msr_passthrough[i];
			uint32_t base = n < 0x2000 ? 0 : 0x800;

			n = n < 0x2000 ? n : n - 0xc0000000;
			msr[base + n / 4] &= (uint8_t) ~(3u << ((n % 4) * 2));
		}
		m->iopm_pa = virt_to_phys(io);
		m->msrpm_pa = virt_to_phys(msr);
	}
	*iopm_out = m->iopm_pa;
	*msrpm_out = m->msrpm_pa;
	return 0;
}

static int svm_vcpu_create(struct vcpu *v)
{
	struct vmcb *vmcb;
	uint64_t guest_iopm = 0, guest_msrpm = 0;
	bool guest = v->part->kind != PARTITION_HOST;

	if (!iopm && svm_setup_maps())
		return -ENOMEM;
	if (guest && svm_guest_maps(v->part, &guest_iopm, &guest_msrpm))
		return -ENOMEM;
	vmcb = page_alloc(1);
	if (!vmcb)
		return -ENOMEM;
	v->vendor = vmcb;
	v->vendor_pa = virt_to_phys(vmcb);

	/*
	 * Intercepts: CPUID (Keel's view of the CPU), I/O and MSRs through the
	 * maps, triple fault, INIT (a physical INIT must not reset a CPU under
	 * Keel), NMI (so Keel can stop a partition's other CPUs; re-injected
	 * otherwise), INVD (would drop dirty lines Keel owns too), and every
	 * SVM instruction (VMRUN's intercept is mandatory, APM 15.5.1).
	 * Interrupts, HLT and the local APIC are not intercepted: the host's
	 * devices interrupt it directly.
	 */
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_CPUID | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
				    SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INIT |
				    SVM_INTERCEPT_NMI | SVM_INTERCEPT_INVD;
	vmcb->ctl.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
				    SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE |
				    SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT;
	vmcb->ctl.iopm_base_pa = iopm_pa;
	vmcb->ctl.msrpm_base_pa = msrpm_pa;
	/* One ASID per partition; 0 is the host's own (APM 15.16). */
	vmcb->ctl.asid = v->part->id + 1;
	vmcb->ctl.tlb_control = 1; /* flush this ASID on the first entry */
	/* V_INTR_MASKING (bit 24) clear: the guest's RFLAGS.IF gates physical interrupts (15.21.1). */
	vmcb->ctl.vintr = 0;
	vmcb->ctl.np_enable = 1;
	vmcb->ctl.n_cr3 = ((struct s2pt *)v->part->stage2)->root_pa;
	vmcb->save.g_pat = 0x0007040600070406ull; /* the PAT's power-on value */
	if (guest) {
		/*
		 * A guest owns no device: physical interrupts (Keel's timer and
		 * kick) exit instead of reaching it, V_INTR_MASKING makes its IF
		 * gate only the interrupts Keel injects (APM 15.21.1), and HLT
		 * exits so Keel can wait for the guest's next event.
		 */
		vmcb->ctl.iopm_base_pa = guest_iopm;
		vmcb->ctl.msrpm_base_pa = guest_msrpm;
		vmcb->ctl.intercept_misc1 |= SVM_INTERCEPT_INTR | SVM_INTERCEPT_HLT;
		/* #UD: VMCALL, Intel's hypercall instruction, is accepted too (guest.c). */
		vmcb->ctl.intercept_exceptions = 1u << 6;
		vmcb->ctl.vintr = SVM_VINTR_MASKING;
	}
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	return 0;
}

static void seg(struct vmcb_seg *s, uint16_t sel, uint16_t attrib, uint32_t limit, uint64_t base)
{
	s->selector = sel;
	s->attrib = attrib;
	s->limit = limit;
	s->base = base;
}

static void svm_set_linux64_state(struct vcpu *v, uint64_t rip, uint64_t cr3, uint64_t gdt_base,
				  uint16_t gdt_limit)
{
	struct vmcb_save *s = &vmcb_of(v)->save;

	/* Linux boot protocol, 64-bit entry: CS 0x10, DS/ES/SS 0x18, paging on, IF off. */
	seg(&s->cs, 0x10, SEG_CODE64, 0xffffffff, 0);
	seg(&s->ds, 0x18, SEG_DATA32, 0xffffffff, 0);
	seg(&s->es, 0x18, SEG_DATA32, 0xffffffff, 0);
	seg(&s->ss, 0x18, SEG_DATA32, 0xffffffff, 0);
	seg(&s->fs, 0x18, SEG_DATA32, 0xffffffff, 0);
	seg(&s->gs, 0x18, SEG_DATA32, 0xffffffff, 0);
	seg(&s->gdtr, 0, 0, gdt_limit, gdt_base);
	seg(&s->idtr, 0, 0, 0, 0);
	seg(&s->ldtr, 0, SEG_LDT, 0xffff, 0);
	seg(&s->tr, 0, SEG_TSS_BUSY, 0x67, 0);
	s->cpl = 0;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = cr3;
	s->cr4 = CR4_PAE;
	/* EFER.SVME must be set in the guest image (APM 15.5.1); the guest never sees it. */
	s->efer = EFER_LME | EFER_LMA | EFER_SVME;
	s->rflags = 0x2;
	s->rip = rip;
	s->rsp = 0;
	s->rax = 0;
}

static void svm_set_real_mode_state(struct vcpu *v, uint16_t cs, uint16_t ip)
{
	struct vmcb_save *s = &vmcb_of(v)->save;

	/* The state after INIT (APM 14.1.3, Table 14-1), then CS:IP as given. */
	seg(&s->cs, cs, SEG_CODE16, 0xffff, (uint64_t)cs << 4);
	seg(&s->ds, 0, SEG_DATA16, 0xffff, 0);
	seg(&s->es, 0, SEG_DATA16, 0xffff, 0);
	seg(&s->ss, 0, SEG_DATA16, 0xffff, 0);
	seg(&s->fs, 0, SEG_DATA16, 0xffff, 0);
	seg(&s->gs, 0, SEG_DATA16, 0xffff, 0);
	seg(&s->gdtr, 0, 0, 0xffff, 0);
	seg(&s->idtr, 0, 0, 0xffff, 0);
	seg(&s->ldtr, 0, SEG_LDT, 0xffff, 0);
	seg(&s->tr, 0, SEG_TSS_BUSY, 0xffff, 0);
	s->cpl = 0;
	s->cr0 = CR0_ET | CR0_CD | CR0_NW;
	s->cr3 = 0;
	s->cr4 = 0;
	s->efer = EFER_SVME;
	s->rflags = 0x2;
	s->rip = ip;
	s->rsp = 0;
	s->rax = 0;
	s->cr2 = 0;
	s->dr7 = 0x400;
	s->dr6 = 0xffff0ff0;
	memset(&v->regs, 0, sizeof(v->regs));
	vmcb_of(v)->ctl.tlb_control = 1;
	/* Nothing queued before the reset survives it. */
	vmcb_of(v)->ctl.eventinj = 0;
	vmcb_of(v)->ctl.vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR);
	vmcb_of(v)->ctl.intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
}

/*
 * 32-bit protected mode with paging off, as the multiboot v1 specification
 * (section 3.2, "Machine state") asks: the state after INIT, then CS a flat
 * 4 GiB execute/read segment, the data segments flat read/write, CR0.PE set
 * and PG clear, EFLAGS.IF and VM clear; GDTR and IDTR are left empty (the
 * OS must load its own before reloading a segment register).
 */
static void svm_set_prot32_state(struct vcpu *v, uint32_t eip, uint32_t eax, uint32_t ebx)
{
	struct vmcb_save *s = &vmcb_of(v)->save;

	svm_set_real_mode_state(v, 0, 0);
	/* Hidden parts of the segment registers (APM 4.5.3), selectors unused until reloaded. */
	seg(&s->cs, 0x08, SEG_CODE32, 0xffffffff, 0);
	seg(&s->ds, 0x10, SEG_DATA32, 0xffffffff, 0);
	seg(&s->es, 0x10, SEG_DATA32, 0xffffffff, 0);
	seg(&s->ss, 0x10, SEG_DATA32, 0xffffffff, 0);
	seg(&s->fs, 0x10, SEG_DATA32, 0xffffffff, 0);
	seg(&s->gs, 0x10, SEG_DATA32, 0xffffffff, 0);
	seg(&s->gdtr, 0, 0, 0, 0);
	seg(&s->idtr, 0, 0, 0, 0);
	s->cr0 = CR0_PE | CR0_ET;
	s->rip = eip;
	v->regs.rax = eax;
	v->regs.rbx = ebx;
}

static void svm_decode_exit(struct vcpu *v, struct vm_exit *e)
{
	struct vmcb_control *c = &vmcb_of(v)->ctl;
	uint64_t code = c->exitcode;

	/* A compound literal, not memset(): the compiler zeroes it with a few stores. */
	*e = (struct vm_exit){ .hw_code = code };
	e->qual1 = c->exitinfo1;
	e->qual2 = c->exitinfo2;
	if (has_nrips && c->next_rip > vmcb_of(v)->save.rip)
		e->insn_len = (uint8_t)(c->next_rip - vmcb_of(v)->save.rip);

	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		e->insn_len = 2;
		break;
	case SVM_EXIT_MSR:
		e->reason = c->exitinfo1 ? EXIT_WRMSR : EXIT_RDMSR;
		e->insn_len = 2;
		break;
	case SVM_EXIT_IOIO:
		/* EXITINFO1 (APM 15.10.2): type, string, rep, size, port; EXITINFO2: next RIP. */
		e->reason = EXIT_IO;
		e->io.in = c->exitinfo1 & 1;
		e->io.string = c->exitinfo1 & (1 << 2);
		e->io.rep = c->exitinfo1 & (1 << 3);
		e->io.size = (c->exitinfo1 & (1 << 4)) ? 1 : (c->exitinfo1 & (1 << 5)) ? 2 : 4;
		e->io.port = (uint16_t)(c->exitinfo1 >> 16);
		e->insn_len = (uint8_t)(c->exitinfo2 - vmcb_of(v)->save.rip);
		break;
	case SVM_EXIT_NPF:
		/* EXITINFO1: a page-fault error code (APM 15.25.6); EXITINFO2: the guest-physical address. */
		e->reason = EXIT_NPF;
		e->npf.gpa = c->exitinfo2;
		e->npf.write = c->exitinfo1 & (1 << 1);
		e->npf.fetch = c->exitinfo1 & (1 << 4);
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		e->insn_len = 1;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_INIT:
		e->reason = EXIT_INIT;
		break;
	case SVM_EXIT_NMI:
		e->reason = EXIT_NMI;
		break;
	case SVM_EXIT_INTR:
		e->reason = EXIT_INTR;
		break;
	case SVM_EXIT_VINTR:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		e->insn_len = 3;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
		e->reason = EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_INVD:
		e->reason = EXIT_INVD;
		e->insn_len = 2;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_INVALID_STATE;
		break;
	default:
		if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->vector = (uint8_t)(code - SVM_EXIT_EXCP_BASE);
		} else {
			e->reason = EXIT_UNKNOWN;
		}
		break;
	}
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmcb *vmcb = vmcb_of(v);

	do {
		if (v->nmi_pending && !(vmcb->ctl.eventinj & SVM_EVTINJ_VALID)) {
			vmcb->ctl.eventinj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI | 2;
			v->nmi_pending = false;
		}
		/* RAX and RSP live in the VMCB (APM 15.5.1). */
		vmcb->save.rax = v->regs.rax;
		vmcb->save.rsp = v->regs.rsp;
		svm_enter_guest(&v->regs, v->vendor_pa, this_cpu()->arch.svm_host_vmsave_pa);
		v->regs.rax = vmcb->save.rax;
		v->regs.rsp = vmcb->save.rsp;
		vmcb->ctl.tlb_control = 0;
		/*
		 * An event the CPU was delivering when the exit happened
		 * (EXITINTINFO valid) is lost unless Keel re-injects it (APM
		 * 15.7.2). A handler that injects an exception of its own
		 * replaces it, as the CPU would.
		 */
		vmcb->ctl.eventinj =
			(vmcb->ctl.exitintinfo & SVM_EVTINJ_VALID) ? vmcb->ctl.exitintinfo : 0;
		v->exits++;
		svm_decode_exit(v, exit);
	} while (vcpu_exit_fast(v, exit)); /* the hot path: straight back in */
}

static uint64_t svm_get_rflags(struct vcpu *v)
{
	return vmcb_of(v)->save.rflags;
}

static uint64_t svm_get_pat(struct vcpu *v)
{
	return vmcb_of(v)->save.g_pat;
}

static void svm_set_pat(struct vcpu *v, uint64_t pat)
{
	vmcb_of(v)->save.g_pat = pat;
}

static bool svm_irq_window_open(struct vcpu *v)
{
	struct vmcb *vmcb = vmcb_of(v);

	return (vmcb->save.rflags & (1u << 9)) && !(vmcb->ctl.interrupt_shadow & 1) &&
	       !(vmcb->ctl.eventinj & SVM_EVTINJ_VALID);
}

static void svm_inject_irq(struct vcpu *v, uint8_t vector)
{
	/* Type 0: external interrupt (APM 15.20). */
	vmcb_of(v)->ctl.eventinj = SVM_EVTINJ_VALID | vector;
}

/*
 * Ask for an exit when the guest can take an interrupt: a virtual
 * interrupt (V_IRQ) that ignores the TPR, with its VINTR intercept; the
 * exit comes once the guest's IF allows it (APM 15.21.4).
 */
static void svm_request_irq_window(struct vcpu *v, bool on)
{
	struct vmcb *vmcb = vmcb_of(v);

	if (on) {
		vmcb->ctl.vintr |= SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR;
		vmcb->ctl.intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		vmcb->ctl.vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_IGN_TPR);
		vmcb->ctl.intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
}

static uint64_t svm_get_rip(struct vcpu *v)
{
	return vmcb_of(v)->save.rip;
}

static void svm_set_rip(struct vcpu *v, uint64_t rip)
{
	vmcb_of(v)->save.rip = rip;
}

static void svm_skip_insn(struct vcpu *v, unsigned int len)
{
	vmcb_of(v)->save.rip += len;
}

static uint64_t svm_get_cr0(struct vcpu *v)
{
	return vmcb_of(v)->save.cr0;
}

static uint64_t svm_get_cr3(struct vcpu *v)
{
	return vmcb_of(v)->save.cr3;
}

static uint64_t svm_get_cr4(struct vcpu *v)
{
	return vmcb_of(v)->save.cr4;
}

static uint64_t svm_get_efer(struct vcpu *v)
{
	return vmcb_of(v)->save.efer & ~EFER_SVME;
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
	struct vmcb_save *s = &vmcb_of(v)->save;

	/* LMA is the CPU's to set (APM 14.6.2): keep it as it is, and keep SVME underneath. */
	s->efer = (efer & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
}

static unsigned int svm_get_cpl(struct vcpu *v)
{
	return vmcb_of(v)->save.cpl;
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	vmcb_of(v)->ctl.eventinj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXCEPTION | vector |
				   (has_error ? SVM_EVTINJ_EV | ((uint64_t)error << 32) : 0);
}

static void svm_flush_tlb(struct vcpu *v)
{
	vmcb_of(v)->ctl.tlb_control = 1;
}

static void svm_dump(struct vcpu *v)
{
	struct vmcb *vmcb = vmcb_of(v);

	printk("  svm: exitcode 0x%llx exitinfo1 0x%llx exitinfo2 0x%llx exitintinfo 0x%llx\n",
	       (unsigned long long)vmcb->ctl.exitcode, (unsigned long long)vmcb->ctl.exitinfo1,
	       (unsigned long long)vmcb->ctl.exitinfo2, (unsigned long long)vmcb->ctl.exitintinfo);
	printk("  cs %04x/%04x base 0x%llx  cpl %u  efer 0x%llx\n", vmcb->save.cs.selector,
	       vmcb->save.cs.attrib, (unsigned long long)vmcb->save.cs.base, vmcb->save.cpl,
	       (unsigned long long)vmcb->save.efer);
}

const struct vcpu_ops svm_vcpu_ops = {
	.name = "svm",
	.stage2_format = S2PT_NPT,
	.cpu_enable = svm_cpu_enable,
	.vcpu_create = svm_vcpu_create,
	.vcpu_run = svm_vcpu_run,
	.set_linux64_state = svm_set_linux64_state,
	.set_real_mode_state = svm_set_real_mode_state,
	.set_prot32_state = svm_set_prot32_state,
	.get_rflags = svm_get_rflags,
	.get_pat = svm_get_pat,
	.set_pat = svm_set_pat,
	.irq_window_open = svm_irq_window_open,
	.inject_irq = svm_inject_irq,
	.request_irq_window = svm_request_irq_window,
	.get_rip = svm_get_rip,
	.set_rip = svm_set_rip,
	.skip_insn = svm_skip_insn,
	.get_cr0 = svm_get_cr0,
	.get_cr3 = svm_get_cr3,
	.get_cr4 = svm_get_cr4,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.get_cpl = svm_get_cpl,
	.inject_exception = svm_inject_exception,
	.flush_tlb = svm_flush_tlb,
	.intercept_msr_write = svm_intercept_msr_write,
	.dump = svm_dump,
};
