// SPDX-License-Identifier: MIT
/*
 * The host partition: a stock Linux that owns the machine's devices and all
 * the memory Keel does not keep. Its e820 is Keel's memory map with Keel's
 * own memory and the boot modules (the images the host is loaded from)
 * marked reserved. The kernel is entered through the 64-bit boot protocol
 * with page tables and a GDT Keel builds in memory the host never gets as
 * RAM (a block marked boot-module).
 */
#include <keel/acpi_build.h>
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/efi_mmap.h>
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/linux.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/percpu.h>
#include <keel/string.h>

#define ENTRY_TABLES_PAGES 7 /* PML4, PDPT, 4 PDs (identity 4 GiB), GDT */
#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_PS (1ull << 7)

static struct boot_mmap_entry host_e820[MEMMAP_MAX];

static uint32_t e820_type(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
	case MEM_ACPI_RECLAIM:
	case MEM_ACPI_NVS:
	case MEM_UNUSABLE:
	case MEM_PERSISTENT:
		return type;
	default:
		return MEM_RESERVED; /* Keel's, boot modules, EFI runtime, firmware */
	}
}

static uint32_t build_host_e820(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < keel_memmap.nr; i++) {
		const struct boot_mmap_entry *e = &keel_memmap.e[i];
		uint32_t type = e820_type(e->type);

		if (n && host_e820[n - 1].type == type &&
		    host_e820[n - 1].base + host_e820[n - 1].size == e->base) {
			host_e820[n - 1].size += e->size;
			continue;
		}
		host_e820[n].base = e->base;
		host_e820[n].size = e->size;
		host_e820[n].type = type;
		n++;
	}
	return n;
}

/*
 * The host's copy of the firmware's EFI memory map, its free ranges cut
 * down to the host's RAM (hv/efi_mmap.c says why), in memory reserved from
 * the host's e820. Builds host_e820 once the copy's memory is taken; returns
 * its entry count and the copy in *map, *size.
 */
static uint32_t host_efi_mmap(const struct boot_info *bi, uint64_t *map, uint32_t *size)
{
	size_t nr_desc = bi->efi_mmap_size / bi->efi_mmap_desc_size, out;
	/*
	 * host_e820 has at most as many entries as Keel's map, and taking the
	 * copy's memory splits one range at most: two entries more.
	 */
	size_t cap = efi_mmap_clip_cap(nr_desc, keel_memmap.nr + 2, bi->efi_mmap_desc_size);
	uint32_t n;
	uint64_t base;
	int ret;

	if (memmap_alloc(&keel_memmap, ALIGN_UP(cap, PAGE_SIZE), PAGE_SIZE, 4 * GiB,
			 MEM_BOOT_MODULE, &base))
		keel_fatal("no memory below 4 GiB for the host's EFI memory map (%llu bytes)",
			   (unsigned long long)cap);
	n = build_host_e820();
	ret = efi_mmap_clip(phys_to_virt(bi->efi_mmap), bi->efi_mmap_size, bi->efi_mmap_desc_size,
			    host_e820, n, phys_to_virt(base), cap, &out);
	if (ret)
		keel_fatal("cannot build the host's EFI memory map (%d): descriptor size %llu", ret,
			   (unsigned long long)bi->efi_mmap_desc_size);
	*map = base;
	*size = (uint32_t)out;
	return n;
}

/* Host memory is identity-mapped for Keel; only the host's RAM may be written. */
static void *host_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	if (!len || gpa + len < gpa || gpa + len > direct_map_end)
		return NULL;
	if (memmap_type_at(&keel_memmap, gpa) != MEM_USABLE ||
	    memmap_type_at(&keel_memmap, gpa + len - 1) != MEM_USABLE)
		return NULL;
	return phys_to_virt(gpa);
}

/* Identity map of the low 4 GiB (2 MiB pages) and a GDT with the boot protocol's 0x10/0x18. */
static uint64_t build_entry_tables(uint64_t *gdt_pa)
{
	uint64_t base;
	uint64_t *pml4, *pdpt, *gdt;

	if (memmap_alloc(&keel_memmap, ENTRY_TABLES_PAGES * PAGE_SIZE, PAGE_SIZE, 4 * GiB,
			 MEM_BOOT_MODULE, &base))
		return 0;
	memset(phys_to_virt(base), 0, ENTRY_TABLES_PAGES * PAGE_SIZE);
	pml4 = phys_to_virt(base);
	pdpt = phys_to_virt(base + PAGE_SIZE);
	pml4[0] = (base + PAGE_SIZE) | PTE_P | PTE_W;
	for (int gb = 0; gb < 4; gb++) {
		uint64_t pd_pa = base + (2 + gb) * PAGE_SIZE;
		uint64_t *pd = phys_to_virt(pd_pa);

		pdpt[gb] = pd_pa | PTE_P | PTE_W;
		for (int i = 0; i < 512; i++)
			pd[i] = ((uint64_t)gb * GiB + (uint64_t)i * 2 * MiB) | PTE_P | PTE_W |
				PTE_PS;
	}
	*gdt_pa = base + 6 * PAGE_SIZE;
	gdt = phys_to_virt(*gdt_pa);
	gdt[2] = 0x00af9a000000ffffull; /* 0x10: __BOOT_CS, 64-bit code */
	gdt[3] = 0x00cf92000000ffffull; /* 0x18: __BOOT_DS */
	return base;
}

#define HOST_ACPI_VIEW_SIZE (64 * KiB)

/*
 * With guest partitions, the host must not see their CPUs: it gets its own
 * RSDP and XSDT whose MADT lists only the host's CPUs, in memory reserved
 * from its e820. Everything else still points at the firmware's tables.
 */
static uint64_t host_acpi_view(uint64_t rsdp)
{
	uint32_t removed[KEEL_MAX_CPUS], n = 0;
	uint64_t base, new_rsdp;
	char err[192];

	if (nr_partitions <= 1 || !rsdp)
		return rsdp;
	for (uint32_t i = 1; i < nr_partitions; i++)
		for (uint32_t cpu = 0; cpu < 64 && cpu < nr_cpus_online; cpu++)
			if ((partitions[i]->cpu_mask >> cpu) & 1)
				removed[n++] = percpu_table[cpu]->apic_id;
	if (memmap_alloc(&keel_memmap, HOST_ACPI_VIEW_SIZE, PAGE_SIZE, 4 * GiB, MEM_BOOT_MODULE,
			 &base))
		keel_fatal("no memory below 4 GiB for the host's ACPI tables");
	if (acpi_build_host_view(rsdp, removed, n, phys_to_virt(base), base, HOST_ACPI_VIEW_SIZE,
				 &new_rsdp, err, sizeof(err)))
		keel_fatal("cannot build the host's ACPI tables without the partitions' CPUs: %s",
			   err);
	printk("keel: host: ACPI tables at 0x%llx list %u CPUs fewer (given to partitions)\n",
	       (unsigned long long)new_rsdp, n);
	return new_rsdp;
}

void host_boot(const struct keel_config *cfg, const struct boot_info *bi, uint64_t rsdp)
{
	const struct boot_module *kernel = boot_find_module(bi, cfg->host.kernel.path);
	const struct boot_module *initrd =
		cfg->host.initrd.path[0] ? boot_find_module(bi, cfg->host.initrd.path) : NULL;
	struct linux_boot_request req;
	struct linux_boot_plan plan;
	uint64_t cr3, gdt;
	char err[192];
	int ret;

	rsdp = host_acpi_view(rsdp);
	cr3 = build_entry_tables(&gdt);
	if (!cr3)
		keel_fatal("no memory below 4 GiB for the host's entry page tables");

	memset(&req, 0, sizeof(req));
	req.kernel = phys_to_virt(kernel->base);
	req.kernel_size = kernel->size;
	if (initrd) {
		req.initrd = phys_to_virt(initrd->base);
		req.initrd_size = initrd->size;
	}
	req.cmdline = cfg->host.cmdline;
	req.map.e = host_e820;
	req.rsdp = rsdp;
	req.fb = bi->fb.base ? &bi->fb : NULL;
	/*
	 * Booted from UEFI (keel.efi, or GRUB on UEFI): the host gets the EFI
	 * system table and the firmware's memory map, so it can use the
	 * runtime services. Its RAM still comes from its e820, which leaves
	 * out Keel's memory and the partitions'; the EFI map's free ranges are
	 * cut down to that RAM.
	 */
	if (bi->efi_systab && bi->efi_mmap && bi->efi_mmap_desc_size) {
		req.map.nr = host_efi_mmap(bi, &req.efi_mmap, &req.efi_mmap_size);
		req.efi_systab = bi->efi_systab;
		req.efi_desc_size = (uint32_t)bi->efi_mmap_desc_size;
		req.efi_desc_version = bi->efi_mmap_desc_version;
	} else {
		req.map.nr = build_host_e820();
	}
	req.gpa_to_hva = host_gpa_to_hva;
	ret = linux_load(&req, &plan, err, sizeof(err));
	if (ret)
		keel_fatal("keel.cfg:%d: host kernel '%s': %s", cfg->host.kernel.line,
			   cfg->host.kernel.path, err);
	if (plan.high > 4 * GiB)
		keel_fatal(
			"keel.cfg:%d: the host's kernel, initrd or command line landed above 4 GiB "
			"(0x%llx), outside the entry page tables",
			cfg->host.kernel.line, (unsigned long long)plan.high);
	printk("keel: host: Linux at 0x%llx (entry 0x%llx), boot_params 0x%llx, initrd 0x%llx, "
	       "%u e820 entries\n",
	       (unsigned long long)plan.kernel_gpa, (unsigned long long)plan.entry_gpa,
	       (unsigned long long)plan.boot_params_gpa, (unsigned long long)plan.initrd_gpa,
	       req.map.nr);
	ret = arch_host_launch(&host_partition, plan.entry_gpa, plan.boot_params_gpa, cr3, gdt,
			       4 * 8 - 1);
	keel_fatal("cannot launch the host partition (%d)", ret);
}
