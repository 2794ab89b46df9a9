// SPDX-License-Identifier: MIT
/*
 * Starting the application processors: for each enabled CPU in the MADT,
 * INIT, then up to two STARTUP IPIs pointing at the real-mode trampoline
 * (Intel SDM Vol. 3A 9.4.4.1 "typical BSP initialization sequence"; AMD APM
 * Vol. 2 15.27.8). APs start one at a time, so one trampoline page and one
 * parameter block serve them all.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/vcpu.h>

#define ICR_INIT 0x00004500    /* delivery mode INIT, level assert */
#define ICR_STARTUP 0x00004600 /* delivery mode STARTUP; vector = page number */
#define AP_START_TIMEOUT_US (2 * 1000 * 1000)

struct trampoline_params {
	uint32_t cr3;
	uint32_t efer_bits;
	uint64_t stack_top;
	uint64_t arg;
	uint64_t entry;
} __packed;

extern const char trampoline_start[], trampoline_end[];
extern const uint64_t trampoline_params_offset;

static __noreturn void ap_main(struct percpu *pc)
{
	cpu_tables_init(pc);
	lapic_init();
	__atomic_store_n(&pc->online, true, __ATOMIC_RELEASE);
	printk("keel: cpu %u online (apic id %u)\n", pc->cpu_id, pc->apic_id);
	arch_ap_wait_for_vcpu();
}

static struct percpu *percpu_alloc(unsigned int cpu_id, uint32_t apic_id)
{
	struct percpu *pc = page_alloc(ALIGN_UP(sizeof(*pc), PAGE_SIZE) / PAGE_SIZE);
	uint8_t *stack = page_alloc(KEEL_STACK_SIZE / PAGE_SIZE);

	if (!pc || !stack)
		return NULL;
	pc->cpu_id = cpu_id;
	pc->apic_id = apic_id;
	pc->stack_top = (uint64_t)stack + KEEL_STACK_SIZE;
	return pc;
}

static bool wait_online(struct percpu *pc, uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_per_us;

	while (rdtsc() < end)
		if (__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static bool start_ap(struct percpu *pc, paddr_t page)
{
	struct trampoline_params *p = phys_to_virt(page + trampoline_params_offset);
	uint32_t sipi = ICR_STARTUP | (uint32_t)(page >> 12);

	memcpy(phys_to_virt(page), trampoline_start,
	       (uintptr_t)trampoline_end - (uintptr_t)trampoline_start);
	p->cr3 = (uint32_t)arch_keel_cr3();
	p->efer_bits = EFER_LME;
	p->stack_top = pc->stack_top;
	p->arg = (uint64_t)pc;
	p->entry = (uint64_t)ap_main;

	if (lapic_send_ipi(pc->apic_id, ICR_INIT))
		return false;
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		if (lapic_send_ipi(pc->apic_id, sipi))
			return false;
		if (wait_online(pc, i == 0 ? 200 : AP_START_TIMEOUT_US))
			return true;
	}
	return false;
}

unsigned int arch_smp_boot(const struct acpi_info *acpi, paddr_t trampoline_page)
{
	uint32_t bsp_apic = this_cpu()->apic_id;
	unsigned int online = 1, present = 0;

	for (uint32_t i = 0; i < acpi->nr_cpus; i++) {
		const struct acpi_cpu *c = &acpi->cpus[i];
		struct percpu *pc;

		if (!c->enabled)
			continue;
		present++;
		if (c->apic_id == bsp_apic)
			continue;
		if (!trampoline_page) {
			printk("keel: warning: cpu with apic id %u left offline: no trampoline "
			       "page\n",
			       c->apic_id);
			continue;
		}
		if (online >= KEEL_MAX_CPUS) {
			printk("keel: warning: more than %u CPUs; apic id %u left offline\n",
			       KEEL_MAX_CPUS, c->apic_id);
			continue;
		}
		pc = percpu_alloc(online, c->apic_id);
		if (!pc) {
			printk("keel: warning: out of memory starting apic id %u\n", c->apic_id);
			break;
		}
		if (!start_ap(pc, trampoline_page)) {
			printk("keel: warning: cpu with apic id %u did not start\n", c->apic_id);
			continue;
		}
		percpu_table[online++] = pc;
	}
	nr_cpus_online = online;
	printk("keel: cpus online: %u/%u\n", online, present ? present : 1);
	return online;
}
