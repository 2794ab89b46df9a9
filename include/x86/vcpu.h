/* SPDX-License-Identifier: MIT */
/*
 * x86 vCPUs: the state both vendors share, the neutral description of a VM
 * exit, and vcpu_ops, the narrow boundary to the vendor backend (SVM or VMX)
 * chosen once at boot. The exit handlers in arch/x86/vcpu_exit.c are shared
 * by both backends and called directly through a const table.
 */
#ifndef X86_VCPU_H
#define X86_VCPU_H

#include <keel/types.h>
#include <keel/partition.h>
#include <x86/s2pt.h>

/* General-purpose registers in x86 encoding order, so a ModRM register number indexes them. */
struct guest_regs {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

enum vcpu_state {
	VCPU_WAIT_SIPI, /* after INIT: waits for a STARTUP IPI */
	VCPU_RUNNING,
	VCPU_STOPPED,
};

struct vlapic;

struct vcpu {
	/* Offset 0: the vendor's entry assembly loads and saves these. */
	struct guest_regs regs;
	struct partition *part;
	struct percpu *cpu;
	uint32_t id;		 /* index within the partition */
	uint32_t apic_id;	 /* as the partition sees it */
	volatile uint32_t state; /* enum vcpu_state; others write it only through INIT/SIPI */
	volatile uint32_t sipi_vector;
	volatile bool sipi_pending;
	/*
	 * Asleep in the CPU's wait-for-SIPI state (VMX): only a STARTUP IPI
	 * wakes it, so whoever gives it work calls vcpu_wake() (vcpu_exit.c).
	 */
	volatile bool parked;
	bool slept;	  /* it waited for its last STARTUP in the wait-for-SIPI state */
	bool nmi_pending; /* a physical NMI arrived while Keel ran: inject it */
	uint64_t exits;
	uint32_t stage2_gen_seen;
	/* Guests: the emulated local APIC. */
	struct vlapic *lapic;
	/* An INIT sent through Keel's APIC emulation, applied at the next exit (vcpu_loop()). */
	volatile bool init_pending;
	/* Host vCPUs: the logical destination registers it wrote (arch/x86/vapic.c). */
	uint32_t host_ldr, host_dfr;
	void *vendor; /* the VMCB or VMCS page */
	uint64_t vendor_pa;
};

enum exit_reason {
	EXIT_UNKNOWN,
	EXIT_CPUID,
	EXIT_RDMSR,
	EXIT_WRMSR,
	EXIT_IO,
	EXIT_NPF, /* nested/EPT page fault: MMIO or a protected page */
	EXIT_HLT,
	EXIT_SHUTDOWN, /* triple fault */
	EXIT_INIT,     /* a physical INIT reached this CPU */
	EXIT_NMI,
	EXIT_INTR,
	EXIT_HYPERCALL, /* VMMCALL or VMCALL */
	EXIT_VIRT_INSN, /* the guest tried a virtualization instruction */
	EXIT_EXCEPTION,
	EXIT_INVD,
	EXIT_INVALID_STATE, /* VM entry refused the guest state */
	EXIT_IRQ_WINDOW,    /* the guest can take an interrupt now */
	EXIT_SIPI,	    /* a STARTUP IPI woke it from the wait-for-SIPI state (vector) */
	EXIT_REASON_MAX,
};

struct vm_exit {
	enum exit_reason reason;
	uint64_t hw_code;      /* the vendor's raw exit code, for reports */
	uint64_t qual1, qual2; /* the vendor's raw qualifications, for reports */
	/* Length of the exiting instruction, 0 when the hardware did not say. */
	uint8_t insn_len;
	struct {
		uint16_t port;
		uint8_t size;
		bool in, string, rep;
	} io;
	struct {
		uint64_t gpa;
		bool write, fetch;
	} npf;
	uint8_t vector; /* EXIT_EXCEPTION; EXIT_SIPI: the STARTUP's vector */
};

enum exit_action {
	EXIT_RESUME,
	EXIT_STOP_VCPU, /* the partition was stopped */
};

/* What the shared code needs of a vendor backend. */
struct vcpu_ops {
	const char *name;
	enum s2pt_format stage2_format; /* NPT or EPT */
	/* Turn virtualization on for this physical CPU. 0 or -errno. */
	int (*cpu_enable)(void);
	/* Allocate and initialize the vendor state of v. 0 or -errno. */
	int (*vcpu_create)(struct vcpu *v);
	/* Enter the guest; return when it exits, with *exit described. */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
	/* 64-bit entry for a Linux kernel (boot protocol state, RSI already in regs). */
	void (*set_linux64_state)(struct vcpu *v, uint64_t rip, uint64_t cr3, uint64_t gdt_base,
				  uint16_t gdt_limit);
	/* Real-mode state at CS:IP (after a STARTUP IPI: vector<<8 : 0), as after INIT. */
	void (*set_real_mode_state)(struct vcpu *v, uint16_t cs, uint16_t ip);
	/*
	 * 32-bit protected mode, paging off, flat segments, IF clear, at eip with
	 * EAX and EBX as given, the other registers 0 (a multiboot v1 entry).
	 */
	void (*set_prot32_state)(struct vcpu *v, uint32_t eip, uint32_t eax, uint32_t ebx);
	uint64_t (*get_rip)(struct vcpu *v);
	void (*set_rip)(struct vcpu *v, uint64_t rip);
	/* RIP += len: past the exiting instruction (every handled exit; one call, not two). */
	void (*skip_insn)(struct vcpu *v, unsigned int len);
	/* Control registers and EFER as the guest sees them, and its CPL. */
	uint64_t (*get_cr0)(struct vcpu *v);
	uint64_t (*get_cr3)(struct vcpu *v);
	uint64_t (*get_cr4)(struct vcpu *v);
	uint64_t (*get_efer)(struct vcpu *v);
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	unsigned int (*get_cpl)(struct vcpu *v);
	uint64_t (*get_rflags)(struct vcpu *v);
	/* The guest's PAT (the nested-paging PAT the vendor keeps for it). */
	uint64_t (*get_pat)(struct vcpu *v);
	void (*set_pat)(struct vcpu *v, uint64_t pat);
	/* Can an external interrupt be injected now (IF set, no shadow, nothing queued)? */
	bool (*irq_window_open)(struct vcpu *v);
	/* Queue external interrupt vector for the next entry (irq_window_open() was true). */
	void (*inject_irq)(struct vcpu *v, uint8_t vector);
	/* Exit as soon as the guest can take an interrupt (or stop asking). */
	void (*request_irq_window)(struct vcpu *v, bool on);
	/* Queue an exception (vector, error code if has_error) for the next entry. */
	void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
	/* Flush the vCPU's guest TLB entries (nested tables changed) before the next entry. */
	void (*flush_tlb)(struct vcpu *v);
	/*
	 * Put v, after INIT, to sleep in the CPU's wait-for-SIPI activity state
	 * (VMX): return at its next exit (a STARTUP IPI's: EXIT_SIPI), with
	 * *exit described. false where the CPU has no such state: v then waits
	 * in Keel. NULL: never (SVM).
	 */
	bool (*wait_for_sipi)(struct vcpu *v, struct vm_exit *exit);
	/* Start or stop intercepting guest writes of msr (shared by all vCPUs of the host). */
	void (*intercept_msr_write)(uint32_t msr, bool intercept);
	/* Print vendor state (VMCB/VMCS fields) for a report. */
	void (*dump)(struct vcpu *v);
};

extern const struct vcpu_ops *vcpu_ops;
extern const struct vcpu_ops svm_vcpu_ops;
extern const struct vcpu_ops vmx_vcpu_ops;

/* The exit dispatcher (arch/x86/vcpu_exit.c). */
enum exit_action vcpu_handle_exit(struct vcpu *v, struct vm_exit *exit);
/* The exit hot path: handle a side-effect-free exit; true to enter the guest again at once. */
bool vcpu_exit_fast_handle(struct vcpu *v, struct vm_exit *exit);
static inline bool vcpu_exit_fast(struct vcpu *v, struct vm_exit *exit)
{
	/* Inline, so the other exits pay two compares and no call. */
	return (exit->reason == EXIT_CPUID || exit->reason == EXIT_RDMSR ||
		exit->reason == EXIT_HYPERCALL) &&
	       vcpu_exit_fast_handle(v, exit);
}
/*
 * Make t look at its state again if it sleeps in the wait-for-SIPI state:
 * call after setting what it is to see (a STARTUP, a stop, a reset).
 */
void vcpu_wake(struct vcpu *t);
/* An AP's life after bring-up: wait until given a vCPU, then run it (arch/x86/host.c). */
__noreturn void arch_ap_wait_for_vcpu(void);
/* Run v on this CPU until its partition stops. */
__noreturn void vcpu_loop(struct vcpu *v);
/* Print the registers of v (for stop reports). */
void vcpu_dump(struct vcpu *v);
/* Advance RIP past the exiting instruction (len bytes). */
void vcpu_skip(struct vcpu *v, unsigned int len);

/* Read len bytes at guest-virtual gva through the guest's page tables (arch/x86/guest_mem.c). */
int guest_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len);

/* Host local APIC page emulation (arch/x86/vapic.c). */
enum exit_action vapic_host_mmio(struct vcpu *v, struct vm_exit *exit);
bool vapic_is_apic_page(uint64_t gpa);
void vapic_host_passthrough(struct partition *p);
extern bool vapic_host_isolated;
void vapic_host_x2apic_icr(struct vcpu *v, uint64_t value);

#endif
