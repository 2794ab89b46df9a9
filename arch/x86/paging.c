// SPDX-License-Identifier: MIT
/*
 * Keel's own page tables: an identity map of all RAM (and at least the low
 * 4 GiB, where the local APIC, IOAPIC and firmware tables live) plus the
 * image at KEEL_VBASE, inherited from the boot tables in arch/x86/head.asm.
 *
 * Large pages throughout: 1 GiB where the CPU has them (CPUID
 * 8000_0001h:EDX[26]), else 2 MiB. Memory types come from the firmware's
 * MTRRs: the PAT entry used is WB, and an MTRR UC range (MMIO) wins over
 * it (SDM Vol. 3A 13.5.2.2, APM Vol. 2 7.8.2), so device memory is uncached.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <x86/cpu.h>
#include <x86/io.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PS (1ull << 7)

extern uint64_t boot_pml4[512];

static uint64_t *keel_pml4;

int arch_paging_init(uint64_t ram_end)
{
	uint32_t a, b, c, d;
	bool gb_pages;
	uint64_t end = ALIGN_UP(MAX(ram_end, 4 * GiB), GiB);
	uint64_t nr_gb = end / GiB;

	cpuid(0x80000001, &a, &b, &c, &d);
	gb_pages = d & (1u << 26);

	keel_pml4 = page_alloc(1);
	if (!keel_pml4)
		return -ENOMEM;
	for (uint64_t gb = 0; gb < nr_gb; gb++) {
		uint64_t l4 = gb / 512, l3 = gb % 512;
		uint64_t *pdpt;

		if (l4 >= 256)
			return -ERANGE; /* the lower half is the direct map */
		if (!keel_pml4[l4]) {
			pdpt = page_alloc(1);
			if (!pdpt)
				return -ENOMEM;
			keel_pml4[l4] = virt_to_phys(pdpt) | PTE_P | PTE_W;
		}
		pdpt = phys_to_virt(keel_pml4[l4] & ~0xfffull);
		if (gb_pages) {
			pdpt[l3] = (gb * GiB) | PTE_P | PTE_W | PTE_PS;
		} else {
			uint64_t *pd = page_alloc(1);

			if (!pd)
				return -ENOMEM;
			for (int i = 0; i < 512; i++)
				pd[i] = (gb * GiB + (uint64_t)i * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
			pdpt[l3] = virt_to_phys(pd) | PTE_P | PTE_W;
		}
	}
	/* The image mapping (PML4 slot 511) is shared with the boot tables. */
	keel_pml4[511] = boot_pml4[511];
	write_cr3(virt_to_phys(keel_pml4));
	printk("keel: page tables: direct map 0-%llu GiB with %s pages\n",
	       (unsigned long long)nr_gb, gb_pages ? "1 GiB" : "2 MiB");
	return 0;
}

/* CR3 value for APs; below 4 GiB because the pool is. */
uint64_t arch_keel_cr3(void)
{
	return virt_to_phys(keel_pml4);
}
