// SPDX-License-Identifier: MIT
/*
 * Launching the host partition on x86: its nested page tables, one vCPU per
 * CPU Keel runs on (vCPU n on CPU n, with the same APIC ID, so the host's
 * view of its CPUs is the real one), and the release of the other CPUs
 * into their vCPUs, which wait for the host's STARTUP IPIs.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/percpu.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/guest.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/s2pt.h>
#include <x86/vcpu.h>
#include <x86/vmx.h>

#define CPUID81_ECX_SVM (1u << 2)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID81_EDX_GBPAGES (1u << 26)
#define HOST_MAP_LIMIT (1ull << 40) /* the host sees at most 1 TiB of physical space */

static struct s2pt host_stage2;
static uint64_t scratch_page_pa, scratch_block_pa;

static void *stage2_alloc(void *ctx, uint64_t *pa)
{
	void *p = page_alloc(1);

	if (p)
		*pa = virt_to_phys(p);
	return p;
}

static void *stage2_virt(void *ctx, uint64_t pa)
{
	return phys_to_virt(pa);
}

static bool is_ram(uint32_t type)
{
	return type != MEM_RESERVED && type != MEM_UNUSABLE;
}

/*
 * The host's guest-physical space is the machine's, identity-mapped: RAM
 * write-back, everything else (MMIO, holes) uncached, except Keel's memory
 * and the guest partitions' RAM, whose every page maps to one scratch page:
 * the host reads none of their data and its writes land nowhere that
 * matters, without an exit.
 */
static int build_host_stage2(struct partition *p, bool trap_apic)
{
	uint32_t a, b, c, d;
	uint64_t limit;
	void *scratch;
	int ret;

	cpuid(0x80000001, &a, &b, &c, &d);
	host_stage2.format = vcpu_ops->stage2_format;
	host_stage2.alloc_page = stage2_alloc;
	host_stage2.phys_to_virt = stage2_virt;
	/* EPT has its own say on 1 GiB pages (IA32_VMX_EPT_VPID_CAP[17]). */
	host_stage2.allow_1g =
		(d & CPUID81_EDX_GBPAGES) && (host_stage2.format != S2PT_EPT || vmx_ept_1g_pages());
	ret = s2pt_init(&host_stage2);
	if (ret)
		return ret;
	cpuid(0x80000008, &a, &b, &c, &d);
	limit = MIN(1ull << (a & 0xff), HOST_MAP_LIMIT);
	ret = s2pt_map(&host_stage2, 0, 0, limit, S2PT_RWX, S2PT_UC);
	for (uint32_t i = 0; !ret && i < keel_memmap.nr; i++) {
		const struct boot_mmap_entry *e = &keel_memmap.e[i];
		uint64_t base = ALIGN_DOWN(e->base, PAGE_SIZE);
		uint64_t end = ALIGN_UP(e->base + e->size, PAGE_SIZE);

		if (is_ram(e->type) && e->type != MEM_KEEL && e->type != MEM_PARTITION &&
		    end <= limit)
			ret = s2pt_map(&host_stage2, base, base, end - base, S2PT_RWX, S2PT_WB);
	}
	/*
	 * One scratch page for unaligned edges, one 2 MiB scratch block for
	 * whole 2 MiB chunks (so a large partition costs a few page tables).
	 */
	scratch = page_alloc(1);
	if (!ret && !scratch)
		ret = -ENOMEM;
	if (!ret)
		scratch_page_pa = virt_to_phys(scratch);
	if (!ret) {
		/* From Keel's pool: the host's e820 is already fixed, nothing may leave it now. */
		void *block = page_alloc_aligned(2 * MiB / PAGE_SIZE, 2 * MiB);

		scratch_block_pa = block ? virt_to_phys(block) : 0;
	}
	for (uint32_t i = 0; !ret && i < keel_memmap.nr; i++) {
		const struct boot_mmap_entry *e = &keel_memmap.e[i];
		uint64_t pa = e->base, end = e->base + e->size;

		if (e->type != MEM_KEEL && e->type != MEM_PARTITION)
			continue;
		while (!ret && pa < end) {
			if (scratch_block_pa && !(pa & (2 * MiB - 1)) && end - pa >= 2 * MiB) {
				ret = s2pt_map(&host_stage2, pa, scratch_block_pa, 2 * MiB,
					       S2PT_READ | S2PT_WRITE, S2PT_WB);
				pa += 2 * MiB;
			} else {
				ret = s2pt_map(&host_stage2, pa, scratch_page_pa, PAGE_SIZE,
					       S2PT_READ | S2PT_WRITE, S2PT_WB);
				pa += PAGE_SIZE;
			}
		}
	}
	if (!ret && trap_apic)
		ret = s2pt_unmap(&host_stage2, rdmsr(MSR_IA32_APIC_BASE) & 0xffffff000ull,
				 PAGE_SIZE);
	p->stage2 = &host_stage2;
	return ret;
}

/* AMD SVM where the CPU has it, else Intel VMX (CPUID.1:ECX[5]); each checks the rest itself. */
static void choose_backend(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001, &a, &b, &c, &d);
	if (c & CPUID81_ECX_SVM) {
		vcpu_ops = &svm_vcpu_ops;
		return;
	}
	cpuid(1, &a, &b, &c, &d);
	if (c & CPUID1_ECX_VMX)
		vcpu_ops = &vmx_vcpu_ops;
}

/* A CPU's way into its vCPU: turn on virtualization, then run. */
static __noreturn void run_vcpu_here(struct vcpu *v)
{
	int ret = vcpu_ops->cpu_enable();

	if (ret) {
		printk("keel: cannot enable %s on cpu %u (%d)\n", vcpu_ops->name, this_cpu_id(),
		       ret);
		partition_stop(v->part, "vcpu %u could not start", v->id);
		arch_idle();
	}
	vcpu_loop(v);
}

void arch_ap_wait_for_vcpu(void)
{
	struct percpu *pc = this_cpu();
	struct vcpu *v;

	while (!(v = __atomic_load_n(&pc->vcpu, __ATOMIC_ACQUIRE))) {
		if (pc->park)
			arch_idle();
		cpu_relax();
	}
	run_vcpu_here(v);
}

static uint64_t guest_cpus(void)
{
	uint64_t mask = 0;

	for (uint32_t i = 1; i < nr_partitions; i++)
		mask |= partitions[i]->cpu_mask;
	return mask;
}

static int launch_guest(struct partition *p)
{
	int ret = guest_build_stage2(p);

	if (!ret)
		ret = guest_create_vcpus(p);
	if (!ret)
		ret = guest_platform_init(p);
	if (ret) {
		printk("keel: error: partition %s cannot start (%d); the others go on\n", p->name,
		       ret);
		p->stopped = true;
		return ret;
	}
	printk("keel: partition %s: %u vcpus on cpus 0x%llx, %llu MiB at 0x%llx, starting\n",
	       p->name, p->nr_vcpus, (unsigned long long)p->cpu_mask,
	       (unsigned long long)p->mem_size / MiB, (unsigned long long)p->ram[0].hpa);
	for (uint32_t i = 0; i < p->nr_vcpus; i++)
		__atomic_store_n(&p->vcpus[i]->cpu->vcpu, p->vcpus[i], __ATOMIC_RELEASE);
	return 0;
}

int arch_host_launch(struct partition *p, uint64_t entry, uint64_t boot_params, uint64_t cr3,
		     uint64_t gdt, uint16_t gdt_limit)
{
	uint64_t taken = guest_cpus();
	unsigned int n = 0;
	int ret;

	choose_backend();
	host_kvm_init();
	if (!vcpu_ops) {
		printk("keel: error: this CPU has neither SVM nor VMX: Keel cannot run partitions "
		       "on it\n");
		return -ENODEV;
	}
	/* With guests on the machine, the host's IPIs must not reach their CPUs. */
	vapic_host_isolated = nr_partitions > 1;
	for (unsigned int cpu = 0; cpu < MAX(nr_cpus_online, 1u); cpu++)
		if (cpu >= 64 || !(taken & (1ull << cpu)))
			n++;
	ret = build_host_stage2(p, n > 1 || vapic_host_isolated);
	if (ret)
		return ret;
	for (unsigned int cpu = 0, i = 0; cpu < MAX(nr_cpus_online, 1u); cpu++) {
		struct vcpu *v;

		if (cpu < 64 && (taken & (1ull << cpu)))
			continue;
		v = page_alloc(ALIGN_UP(sizeof(*v), PAGE_SIZE) / PAGE_SIZE);
		if (!v)
			return -ENOMEM;
		v->part = p;
		v->id = i;
		v->cpu = percpu_table[cpu];
		v->apic_id = percpu_table[cpu]->apic_id;
		v->host_dfr = 0xffffffff; /* the DFR's reset value: flat model */
		v->state = i == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
		ret = vcpu_ops->vcpu_create(v);
		if (ret)
			return ret;
		p->vcpus[i++] = v;
	}
	p->nr_vcpus = n;
	p->nr_running = 1;
	p->vcpus[0]->regs.rsi = boot_params;
	vcpu_ops->set_linux64_state(p->vcpus[0], entry, cr3, gdt, gdt_limit);

	for (uint32_t i = 1; i < nr_partitions; i++)
		if (!partitions[i]->stopped)
			launch_guest(partitions[i]);

	printk("keel: host: %u vcpus on %s with nested paging, entering Linux\n", n,
	       vcpu_ops->name);
	if (n == 1)
		vapic_host_passthrough(p); /* nothing to start: no IPI needs Keel */
	for (unsigned int i = 1; i < n; i++)
		__atomic_store_n(&p->vcpus[i]->cpu->vcpu, p->vcpus[i], __ATOMIC_RELEASE);
	this_cpu()->vcpu = p->vcpus[0];
	run_vcpu_here(p->vcpus[0]);
}

int arch_guests_launch(void)
{
	choose_backend();
	if (!vcpu_ops) {
		printk("keel: error: this CPU has neither SVM nor VMX: Keel cannot run partitions "
		       "on it\n");
		return -ENODEV;
	}
	for (uint32_t i = 1; i < nr_partitions; i++)
		if (!partitions[i]->stopped)
			launch_guest(partitions[i]);
	/* CPUs without a vCPU (no partition, or one that failed) would spin: let them halt. */
	for (unsigned int cpu = 1; cpu < nr_cpus_online; cpu++)
		if (!percpu_table[cpu]->vcpu)
			percpu_table[cpu]->park = true;
	printk("keel: boot complete\n");
	/* Without a host, a partition may have CPU 0 too: this CPU then runs its vCPU. */
	if (this_cpu()->vcpu)
		run_vcpu_here(this_cpu()->vcpu);
	return 0;
}

void arch_dump_current_vcpu(void)
{
	struct vcpu *v = this_cpu()->vcpu;

	if (v)
		vcpu_dump(v);
}

void arch_partition_kick(struct partition *p)
{
	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *v = p->vcpus[i];

		if (!v || v->cpu == this_cpu() || v->state == VCPU_STOPPED)
			continue;
		if (v->parked)
			vcpu_wake(v); /* asleep in the wait-for-SIPI state, where NMIs wait */
		else
			lapic_send_ipi(v->cpu->apic_id, ICR_DM_NMI);
	}
}
