// SPDX-License-Identifier: MIT
/*
 * Exceptions inside Keel. Keel takes no exceptions on purpose, so every
 * one is a bug in Keel: print what the CPU reported (vector, error code,
 * registers, CR2 for #PF) and a frame-pointer stack trace, then stop this
 * CPU. The other CPUs and partitions are not touched.
 */
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/traps.h>
#include <x86/vcpu.h>

static const char *const vector_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor segment overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved (15)",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualization",
	"#CP control protection",
	"reserved (22)",
	"reserved (23)",
	"reserved (24)",
	"reserved (25)",
	"reserved (26)",
	"reserved (27)",
	"#HV hypervisor injection",
	"#VC VMM communication",
	"#SX security",
	"reserved (31)",
};

/* A frame pointer is followed only while it points into memory Keel can read. */
static bool frame_ok(uint64_t rbp)
{
	if (rbp & 7)
		return false;
	if (rbp >= KEEL_VBASE)
		return rbp < (uint64_t)__image_end;
	return rbp >= PAGE_SIZE && rbp < 4 * GiB - 16;
}

void print_stack_trace(uint64_t rbp)
{
	printk("stack trace:\n");
	for (int depth = 0; depth < 16 && frame_ok(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];

		if (!ret)
			break;
		printk("  #%d %016llx\n", depth, (unsigned long long)ret);
		if (frame[0] <= rbp)
			break; /* stacks grow down: a caller's frame is higher */
		rbp = frame[0];
	}
}

void trap_handler(struct trap_frame *f)
{
	const char *name;

	/*
	 * NMIs are not Keel's faults: one that arrives while Keel handles an
	 * exit belongs to the guest and is injected at the next entry (or was a
	 * kick to notice a stopped partition).
	 */
	if (f->vector == KEEL_VECTOR_KICK || f->vector == KEEL_VECTOR_TIMER) {
		/* Nothing to do here: the CPU's loop looks at its vCPU after the wake-up. */
		lapic_eoi();
		return;
	}
	if (f->vector == KEEL_VECTOR_SPURIOUS)
		return; /* no EOI for the spurious vector (SDM Vol. 3A 12.9) */
	if (f->vector == 2) {
		struct vcpu *v = this_cpu()->vcpu;

		if (v)
			v->nmi_pending = true;
		return;
	}
	name = f->vector < 32 ? vector_names[f->vector] : "interrupt";

	printk("keel: EXCEPTION in Keel: vector %llu (%s), error code 0x%llx\n",
	       (unsigned long long)f->vector, name, (unsigned long long)f->error_code);
	printk("rip %016llx cs %04llx rflags %016llx\n", (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printk("rsp %016llx ss %04llx cr2 %016llx\n", (unsigned long long)f->rsp,
	       (unsigned long long)f->ss, (unsigned long long)read_cr2());
	printk("rax %016llx rbx %016llx rcx %016llx\n", (unsigned long long)f->rax,
	       (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	printk("rdx %016llx rsi %016llx rdi %016llx\n", (unsigned long long)f->rdx,
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	printk("rbp %016llx r8  %016llx r9  %016llx\n", (unsigned long long)f->rbp,
	       (unsigned long long)f->r8, (unsigned long long)f->r9);
	printk("r10 %016llx r11 %016llx r12 %016llx\n", (unsigned long long)f->r10,
	       (unsigned long long)f->r11, (unsigned long long)f->r12);
	printk("r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	printk("cr0 %016llx cr3 %016llx cr4 %016llx\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	printk("  #- %016llx (faulting instruction)\n", (unsigned long long)f->rip);
	print_stack_trace(f->rbp);
	printk("keel: cpu %u stopped\n", this_cpu_id());
	cpu_halt_forever();
}
