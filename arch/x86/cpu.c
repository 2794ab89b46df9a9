// SPDX-License-Identifier: MIT
/*
 * Keel's own descriptor tables. Each CPU has its own GDT (it holds that
 * CPU's TSS descriptor) and TSS (with IST stacks for #DF, NMI and #MC, so a
 * blown kernel stack still gets a report). The IDT is shared.
 */
#include <keel/arch.h>
#include <keel/percpu.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/traps.h>

struct percpu *percpu_table[KEEL_MAX_CPUS];
unsigned int nr_cpus_online;

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct dtr {
	uint16_t limit;
	uint64_t base;
} __packed;

static struct idt_entry idt[256] __aligned(16);
extern const uint64_t isr_table[32];
extern const uint64_t isr_kick, isr_timer, isr_spurious;

static bool gs_ready;

unsigned int this_cpu_id(void)
{
	return gs_ready ? this_cpu()->cpu_id : 0;
}

static void idt_set(unsigned int vec, uint64_t handler, uint8_t ist)
{
	idt[vec] = (struct idt_entry){
		.offset_lo = handler & 0xffff,
		.selector = KEEL_CS,
		.ist = ist,
		.type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate (SDM Vol. 3A 6.14.1) */
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

void traps_init(void)
{
	for (unsigned int v = 0; v < 32; v++) {
		uint8_t ist = 0;

		if (v == 8)
			ist = IST_DOUBLE_FAULT;
		else if (v == 2)
			ist = IST_NMI;
		else if (v == 18)
			ist = IST_MACHINE_CHECK;
		idt_set(v, isr_table[v], ist);
	}
	idt_set(KEEL_VECTOR_KICK, isr_kick, 0);
	idt_set(KEEL_VECTOR_TIMER, isr_timer, 0);
	idt_set(KEEL_VECTOR_SPURIOUS, isr_spurious, 0);
}

void cpu_wait_for_interrupt(void)
{
	/* STI's one-instruction shadow makes "sti; hlt" atomic: no wake-up is lost. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void cpu_tables_init(struct percpu *pc)
{
	struct arch_percpu *a = &pc->arch;
	uint64_t tss = (uint64_t)&a->tss;
	uint64_t limit = sizeof(a->tss) - 1;
	struct dtr gdtr = { sizeof(a->gdt) - 1, (uint64_t)a->gdt };
	struct dtr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
	a->gdt[2] = 0x00cf92000000ffffull; /* data */
	/* 64-bit TSS descriptor, type 9 (available), SDM Vol. 3A 8.2.3. */
	a->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	a->gdt[4] = tss >> 32;

	a->tss.iomap_base = sizeof(a->tss); /* no I/O bitmap */
	for (int i = 0; i < 3; i++)
		a->tss.ist[i] = (uint64_t)a->ist_stacks[i] + IST_STACK_SIZE;

	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\t"
			 "mov %1, %%es\n\t"
			 "mov %1, %%ss\n\t"
			 "pushq %2\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "r"((uint64_t)KEEL_DS), "i"(KEEL_CS), "r"(KEEL_TSS), "m"(idtr)
			 : "rax", "memory");
	/*
	 * EFER.NXE: Keel's NPT entries use the NX bit, which is a reserved bit
	 * (a nested page fault) unless the host's EFER.NXE is set (APM 15.25.5).
	 */
	{
		uint32_t eax, ebx, ecx, edx;

		cpuid(0x80000001, &eax, &ebx, &ecx, &edx);
		if (edx & (1u << 20))
			wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	}
	pc->self = pc;
	wrmsr(MSR_GS_BASE, (uint64_t)pc);
	gs_ready = true;
}

void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void arch_cpu_relax(void)
{
	cpu_relax();
}

void arch_idle(void)
{
	/* Nothing schedules work yet: interrupts stay off, an NMI would wake us. */
	cpu_halt_forever();
}

void arch_port_write(uint16_t port, uint32_t value, unsigned int size)
{
	if (size == 1)
		outb(port, (uint8_t)value);
	else if (size == 2)
		outw(port, (uint16_t)value);
	else
		outl(port, value);
}
