// SPDX-License-Identifier: MIT
/*
 * Exit handling shared by the SVM and VMX backends. The backend describes
 * each exit in a struct vm_exit; vcpu_handle_exit() dispatches through a
 * const table indexed by the neutral reason. A reason without a handler,
 * or a handler that finds the guest misbehaving beyond repair, stops the
 * partition with a report; Keel and the other partitions carry on.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keel/partition.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/guest.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/vcpu.h>

#define X86_GP 13
#define X86_UD 6

/* Keel's CPUID signature leaf for the host partition: "KeelHVKeelHV". */
#define KEEL_CPUID_BASE 0x40000000
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID7_ECX_LA57 (1u << 16)
#define CPUID81_ECX_SVM (1u << 2)

const struct vcpu_ops *vcpu_ops;

typedef enum exit_action (*exit_handler_t)(struct vcpu *v, struct vm_exit *e);

void vcpu_skip(struct vcpu *v, unsigned int len)
{
	vcpu_ops->skip_insn(v, len);
}

static enum exit_action handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
	struct guest_regs *r = &v->regs;
	uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
	uint32_t a, b, c, d;

	if (v->part->kind != PARTITION_HOST) {
		guest_cpuid(v, leaf, sub, &a, &b, &c, &d);
	} else if (host_kvm_cpuid(leaf, sub, &a, &b, &c, &d)) {
		/* KVM's signature and kvm-clock, at 0x40000100 (arch/x86/host_kvm.c) */
	} else if (leaf >= KEEL_CPUID_BASE && leaf < KEEL_CPUID_BASE + 0x100) {
		a = b = c = d = 0;
		if (leaf == KEEL_CPUID_BASE) {
			a = KEEL_CPUID_BASE;
			memcpy(&b, "Keel", 4);
			memcpy(&c, "HVKe", 4);
			memcpy(&d, "elHV", 4);
		}
	} else {
		cpuid_count(leaf, sub, &a, &b, &c, &d);
		switch (leaf) {
		case 1:
			/* A hypervisor is present; no nested virtualization (yet). */
			c |= CPUID1_ECX_HYPERVISOR;
			c &= ~CPUID1_ECX_VMX;
			/*
			 * The host keeps the APIC mode the firmware chose: Keel
			 * virtualizes its INIT/STARTUP in that mode only.
			 */
			if (!lapic_x2apic_mode())
				c &= ~CPUID1_ECX_X2APIC;
			break;
		case 7:
			/* No 5-level paging: Linux would switch modes in its boot trampoline. */
			if (sub == 0)
				c &= ~CPUID7_ECX_LA57;
			break;
		case 0x80000001:
			c &= ~CPUID81_ECX_SVM;
			break;
		case 0x8000000a:
			a = b = c = d = 0; /* SVM feature leaf: nothing to offer */
			break;
		}
	}
	r->rax = a;
	r->rbx = b;
	r->rcx = c;
	r->rdx = d;
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

static void msr_result(struct vcpu *v, uint64_t value)
{
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
}

static enum exit_action handle_rdmsr(struct vcpu *v, struct vm_exit *e)
{
	uint32_t msr = (uint32_t)v->regs.rcx;

	uint64_t value;

	if (v->part->kind != PARTITION_HOST) {
		if (guest_rdmsr(v, msr, &value)) {
			vcpu_ops->inject_exception(v, X86_GP, true, 0);
			return EXIT_RESUME;
		}
		msr_result(v, value);
		vcpu_skip(v, e->insn_len);
		return EXIT_RESUME;
	}

	switch (host_kvm_rdmsr(v, msr, &value)) {
	case 0:
		msr_result(v, value);
		vcpu_skip(v, e->insn_len);
		return EXIT_RESUME;
	case -EINVAL:
		vcpu_ops->inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	switch (msr) {
	case MSR_EFER:
		msr_result(v, vcpu_ops->get_efer(v));
		break;
	case MSR_VM_CR:
		/* SVM is not offered: report it disabled and locked (APM 15.30.1). */
		msr_result(v, (1u << 3) | (1u << 4));
		break;
	default:
		vcpu_ops->inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

static enum exit_action handle_wrmsr(struct vcpu *v, struct vm_exit *e)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if (v->part->kind != PARTITION_HOST) {
		if (guest_wrmsr(v, msr, value)) {
			vcpu_ops->inject_exception(v, X86_GP, true, 0);
			return EXIT_RESUME;
		}
		vcpu_skip(v, e->insn_len);
		return EXIT_RESUME;
	}

	switch (host_kvm_wrmsr(v, msr, value)) {
	case 0:
		vcpu_skip(v, e->insn_len);
		return EXIT_RESUME;
	case -EINVAL:
		printk("keel: partition %s: refused write of 0x%llx to KVM MSR 0x%x\n",
		       v->part->name, (unsigned long long)value, msr);
		vcpu_ops->inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	switch (msr) {
	case MSR_EFER:
		vcpu_ops->set_efer(v, value);
		break;
	case MSR_X2APIC_ICR:
		vapic_host_x2apic_icr(v, value);
		break;
	case MSR_VM_CR:
	case 0xc0010117: /* VM_HSAVE_PA: Keel's, never the guest's */
		printk("keel: partition %s: refused write of 0x%llx to MSR 0x%x (Keel's own)\n",
		       v->part->name, (unsigned long long)value, msr);
		vcpu_ops->inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	default:
		vcpu_ops->inject_exception(v, X86_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

/*
 * The host's COM1 data port and line status register. Transmitted bytes go
 * through Keel's console so the host's lines and Keel's never mix
 * (hv/console.c); the receiver and LSR.DR are console input's, which
 * routes what is typed to the partition with the focus
 * (hv/console_input.c). Divisor-latch accesses go to the UART.
 */
#define COM1 0x3f8
#define UART_LCR_DLAB 0x80

static enum exit_action handle_io(struct vcpu *v, struct vm_exit *e)
{
	uint8_t val = (uint8_t)v->regs.rax;
	bool dlab;

	if (v->part->kind != PARTITION_HOST)
		return guest_handle_io(v, e);
	if (e->io.string || (e->io.port != COM1 && e->io.port != COM1 + 5) || e->io.size != 1) {
		partition_stop(v->part, "unexpected I/O exit: port 0x%x size %u%s", e->io.port,
			       e->io.size, e->io.string ? " (string)" : "");
		return EXIT_STOP_VCPU;
	}
	dlab = inb(COM1 + 3) & UART_LCR_DLAB;
	if (e->io.port == COM1 + 5) {
		if (e->io.in)
			val = console_input_host_lsr();
		else
			outb(COM1 + 5, val); /* LSR is read-only: the UART ignores it */
	} else if (e->io.in) {
		val = dlab ? inb(COM1) : console_input_host_rbr();
	} else if (dlab) {
		outb(COM1, val);
	} else {
		console_partition_putc(v->part, (char)val);
	}
	if (e->io.in)
		v->regs.rax = (v->regs.rax & ~0xffull) | val;
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

static enum exit_action handle_npf(struct vcpu *v, struct vm_exit *e)
{
	if (v->part->kind != PARTITION_HOST)
		return guest_handle_npf(v, e);
	if (vapic_is_apic_page(e->npf.gpa) && v->part->id == 0)
		return vapic_host_mmio(v, e);
	partition_stop(v->part, "access to unmapped guest-physical address 0x%llx (%s)",
		       (unsigned long long)e->npf.gpa,
		       e->npf.fetch   ? "fetch"
		       : e->npf.write ? "write"
				      : "read");
	return EXIT_STOP_VCPU;
}

static enum exit_action handle_shutdown(struct vcpu *v, struct vm_exit *e)
{
	partition_stop(v->part, "triple fault on vcpu %u", v->id);
	return EXIT_STOP_VCPU;
}

/*
 * A physical INIT reached v's CPU: the host's own, once its APIC is passed
 * through (CPU hot-plug). It does not reset a CPU in guest mode; v goes back
 * to the state after INIT here and waits (vcpu_loop()) for the STARTUP,
 * which on VMX reaches it in the wait-for-SIPI state. Nothing is printed:
 * the STARTUP follows within microseconds.
 */
static enum exit_action handle_init(struct vcpu *v, struct vm_exit *e)
{
	__atomic_store_n(&v->init_pending, true, __ATOMIC_RELAXED);
	return EXIT_RESUME;
}

/* A STARTUP woke v from the wait-for-SIPI state (vcpu_park() takes it). */
static enum exit_action handle_sipi(struct vcpu *v, struct vm_exit *e)
{
	return EXIT_RESUME;
}

static enum exit_action handle_nmi(struct vcpu *v, struct vm_exit *e)
{
	/* The NMI stays pending; Keel's NMI handler notes it and it is re-injected. */
	return EXIT_RESUME;
}

static enum exit_action handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	if (v->part->kind != PARTITION_HOST)
		return guest_handle_hypercall(v, e);
	/* KVM's convention: unknown hypercalls return -KVM_ENOSYS (-1000) in RAX. */
	v->regs.rax = (uint64_t)-1000;
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

static enum exit_action handle_virt_insn(struct vcpu *v, struct vm_exit *e)
{
	/* Nested virtualization is not offered: the instructions are undefined. */
	vcpu_ops->inject_exception(v, X86_UD, false, 0);
	return EXIT_RESUME;
}

static enum exit_action handle_invd(struct vcpu *v, struct vm_exit *e)
{
	/* INVD would discard dirty lines of other partitions: do WBINVD's job instead. */
	__asm__ volatile("wbinvd" ::: "memory");
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

static enum exit_action handle_intr(struct vcpu *v, struct vm_exit *e)
{
	/* A physical interrupt for Keel (timer, kick): take it through Keel's IDT, then go on. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return EXIT_RESUME;
}

static enum exit_action handle_irq_window(struct vcpu *v, struct vm_exit *e)
{
	vcpu_ops->request_irq_window(v, false);
	return EXIT_RESUME;
}

static enum exit_action handle_exception(struct vcpu *v, struct vm_exit *e)
{
	if (e->vector == 6 && v->part->kind != PARTITION_HOST)
		return guest_handle_ud(v, e);
	partition_stop(v->part, "unexpected exception exit: vector %u", e->vector);
	return EXIT_STOP_VCPU;
}

static enum exit_action handle_hlt(struct vcpu *v, struct vm_exit *e)
{
	return guest_handle_hlt(v, e);
}

/*
 * The exit hot path, called by the backend right after it decoded an exit
 * and before returning to vcpu_loop(). A guest's CPUID, RDMSR and hypercalls
 * other than SEND_IPI and SCHED_YIELD change nothing that vcpu_loop() and
 * guest_prepare_entry() look at (no interrupt, timer or vCPU state), so
 * they are handled here and the backend enters the guest again at once.
 * What could need those checks arrives otherwise: a stop, reset, INIT or
 * NMI is tested here first; an IPI or a timer interrupts the CPU, which
 * makes the next entry exit at once (interrupts exit from guests); a PV EOI
 * the guest may have done since the last entry sends it the slow way.
 * true: handled, enter the guest again. (vcpu_exit_fast() in vcpu.h picks
 * the exit reasons before calling this.)
 */
bool vcpu_exit_fast_handle(struct vcpu *v, struct vm_exit *e)
{
	struct partition *p = v->part;

	if (p->kind == PARTITION_HOST || v->nmi_pending || v->init_pending || p->stopped ||
	    p->reset_pending || v->stage2_gen_seen != p->stage2_gen || !guest_fast_exit_ok(v))
		return false;
	if (e->reason == EXIT_CPUID) {
		handle_cpuid(v, e);
	} else if (e->reason == EXIT_RDMSR) {
		handle_rdmsr(v, e);
	} else {
		/* The number as kvm_hypercall() takes it (a 32-bit caller's is truncated). */
		uint32_t nr = (uint32_t)v->regs.rax;

		if (nr == KVM_HC_SEND_IPI || nr == KVM_HC_SCHED_YIELD)
			return false;
		guest_handle_hypercall(v, e);
	}
	return true;
}

static const exit_handler_t exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_RDMSR] = handle_rdmsr,
	[EXIT_WRMSR] = handle_wrmsr,
	[EXIT_IO] = handle_io,
	[EXIT_NPF] = handle_npf,
	[EXIT_SHUTDOWN] = handle_shutdown,
	[EXIT_INIT] = handle_init,
	[EXIT_SIPI] = handle_sipi,
	[EXIT_NMI] = handle_nmi,
	[EXIT_INTR] = handle_intr,
	[EXIT_IRQ_WINDOW] = handle_irq_window,
	[EXIT_HLT] = handle_hlt,
	[EXIT_EXCEPTION] = handle_exception,
	[EXIT_HYPERCALL] = handle_hypercall,
	[EXIT_VIRT_INSN] = handle_virt_insn,
	[EXIT_INVD] = handle_invd,
};

static const char *const exit_names[EXIT_REASON_MAX] = {
	[EXIT_UNKNOWN] = "unknown",
	[EXIT_CPUID] = "cpuid",
	[EXIT_RDMSR] = "rdmsr",
	[EXIT_WRMSR] = "wrmsr",
	[EXIT_IO] = "i/o",
	[EXIT_NPF] = "nested page fault",
	[EXIT_HLT] = "hlt",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_INIT] = "init",
	[EXIT_NMI] = "nmi",
	[EXIT_INTR] = "interrupt",
	[EXIT_HYPERCALL] = "hypercall",
	[EXIT_VIRT_INSN] = "virtualization instruction",
	[EXIT_EXCEPTION] = "exception",
	[EXIT_INVD] = "invd",
	[EXIT_INVALID_STATE] = "invalid guest state",
	[EXIT_IRQ_WINDOW] = "interrupt window",
	[EXIT_SIPI] = "startup ipi",
};

enum exit_action vcpu_handle_exit(struct vcpu *v, struct vm_exit *e)
{
	exit_handler_t h = e->reason < EXIT_REASON_MAX ? exit_handlers[e->reason] : NULL;

	if (!h) {
		partition_stop(v->part, "unhandled exit: %s (hardware code 0x%llx)",
			       e->reason < EXIT_REASON_MAX ? exit_names[e->reason] : "?",
			       (unsigned long long)e->hw_code);
		return EXIT_STOP_VCPU;
	}
	return h(v, e);
}

void vcpu_dump(struct vcpu *v)
{
	const struct guest_regs *r = &v->regs;

	printk("  vcpu %u: rip %016llx cr0 %08llx cr3 %016llx cr4 %08llx efer %llx\n", v->id,
	       (unsigned long long)vcpu_ops->get_rip(v), (unsigned long long)vcpu_ops->get_cr0(v),
	       (unsigned long long)vcpu_ops->get_cr3(v), (unsigned long long)vcpu_ops->get_cr4(v),
	       (unsigned long long)vcpu_ops->get_efer(v));
	printk("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (unsigned long long)r->rax,
	       (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
	printk("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n", (unsigned long long)r->rsi,
	       (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->rsp);
	printk("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n", (unsigned long long)r->r8,
	       (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
	printk("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)r->r12,
	       (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
	vcpu_ops->dump(v);
}

/* Apply an INIT: back to the state after INIT, waiting for a STARTUP. */
static void apply_init(struct vcpu *v)
{
	__atomic_store_n(&v->init_pending, false, __ATOMIC_RELAXED);
	if (v->part->kind != PARTITION_HOST)
		guest_vcpu_init(v);
	v->nmi_pending = false; /* an INIT drops a pending NMI (and the kick that brought it) */
	vcpu_ops->set_real_mode_state(v, 0xf000, 0xfff0);
	if (v->state == VCPU_RUNNING)
		__atomic_fetch_sub(&v->part->nr_running, 1, __ATOMIC_ACQ_REL);
	v->state = VCPU_WAIT_SIPI;
}

/* Is there anything for a vCPU waiting for STARTUP to look at? */
static bool wait_sipi_over(struct vcpu *v)
{
	return v->sipi_pending || v->part->stopped || v->part->reset_pending || v->init_pending;
}

/*
 * Wait for a STARTUP. On VMX the CPU itself sleeps in the wait-for-SIPI
 * activity state (SDM Vol. 3C 25.4.2): only a STARTUP IPI wakes it (26.2),
 * so a vCPU parked there costs nothing, and whoever gives it something to
 * do wakes it with one (vcpu_wake()). Elsewhere it spins here.
 *
 * A STARTUP that wakes it is the partition's own when its APIC is passed
 * through (the host after CPU hot-plug: Keel saw neither IPI) and it does not
 * carry Keel's wake-up vector; Keel's APIC emulation sets sipi_pending.
 */
static enum exit_action vcpu_park(struct vcpu *v)
{
	struct vm_exit exit;
	bool slept;

	if (!vcpu_ops->wait_for_sipi) {
		cpu_relax();
		return EXIT_RESUME;
	}
	/* Seen by vcpu_wake() before or after its caller's store: never lost in between. */
	__atomic_store_n(&v->parked, true, __ATOMIC_SEQ_CST);
	if (wait_sipi_over(v)) {
		__atomic_store_n(&v->parked, false, __ATOMIC_RELEASE);
		cpu_relax();
		return EXIT_RESUME;
	}
	slept = vcpu_ops->wait_for_sipi(v, &exit);
	__atomic_store_n(&v->parked, false, __ATOMIC_RELEASE);
	if (!slept) {
		cpu_relax();
		return EXIT_RESUME;
	}
	v->slept = true;
	if (exit.reason == EXIT_SIPI && !v->sipi_pending && exit.vector != KEEL_SIPI_WAKE_VECTOR &&
	    v->part->kind == PARTITION_HOST && !vapic_host_isolated) {
		v->sipi_vector = exit.vector;
		v->sipi_pending = true;
	}
	return vcpu_handle_exit(v, &exit);
}

void vcpu_wake(struct vcpu *t)
{
	uint64_t start, sent;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&t->parked, __ATOMIC_ACQUIRE) || t->cpu == this_cpu())
		return;
	/*
	 * A STARTUP reaching the CPU just before it entered the wait-for-SIPI
	 * state is dropped (26.2): send one every 50 us until it is awake.
	 */
	start = arch_time_us();
	sent = start - 50;
	while (__atomic_load_n(&t->parked, __ATOMIC_ACQUIRE)) {
		uint64_t now = arch_time_us();

		if (now - start > 1000000) {
			printk("keel: partition %s: vcpu %u did not wake from the wait-for-SIPI "
			       "state within 1 s of STARTUP IPIs\n",
			       t->part->name, t->id);
			return;
		}
		if (now - sent >= 50) {
			lapic_send_ipi(t->cpu->apic_id, ICR_DM_STARTUP | KEEL_SIPI_WAKE_VECTOR);
			sent = now;
		}
		cpu_relax();
	}
}

void vcpu_loop(struct vcpu *v)
{
	struct vm_exit exit;

	for (;;) {
		if (v->part->stopped)
			break;
		if (v->part->reset_pending) {
			partition_reset_rendezvous(v->part, v->id);
			continue;
		}
		if (v->init_pending)
			apply_init(v);
		if (v->state == VCPU_WAIT_SIPI) {
			if (!v->sipi_pending) {
				if (vcpu_park(v) == EXIT_STOP_VCPU)
					break;
				continue;
			}
			v->sipi_pending = false;
			vcpu_ops->set_real_mode_state(v, (uint16_t)(v->sipi_vector << 8), 0);
			v->state = VCPU_RUNNING;
			printk("keel: partition %s: vcpu %u started at 0x%x by STARTUP%s\n",
			       v->part->name, v->id, v->sipi_vector << 12,
			       v->slept ? " (it waited in the wait-for-SIPI state)" : "");
			v->slept = false;
			if (__atomic_add_fetch(&v->part->nr_running, 1, __ATOMIC_ACQ_REL) ==
				    v->part->nr_vcpus &&
			    v->part->id == 0)
				vapic_host_passthrough(v->part);
		}
		if (v->part->kind != PARTITION_HOST)
			guest_prepare_entry(v);
		if (v->stage2_gen_seen != v->part->stage2_gen) {
			v->stage2_gen_seen = v->part->stage2_gen;
			vcpu_ops->flush_tlb(v);
		}
		vcpu_ops->vcpu_run(v, &exit);
		if (v->part->kind != PARTITION_HOST)
			guest_after_exit(v);
		if (vcpu_handle_exit(v, &exit) == EXIT_STOP_VCPU)
			break;
	}
	v->state = VCPU_STOPPED;
	printk("keel: partition %s: vcpu %u stopped\n", v->part->name, v->id);
	arch_idle();
}
