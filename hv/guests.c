// SPDX-License-Identifier: MIT
/*
 * Guest partitions: memory, images and entry. A guest's RAM is one block of
 * the machine's memory (two if it is larger than the 3 GiB below the
 * device window), reserved as MEM_PARTITION before the host's e820 is
 * built, so the host never sees it. docs/guest-platform.md has the layout.
 */
#include <keel/acpi_build.h>
#include <keel/config.h>
#include <keel/console.h>
#include <keel/linux.h>
#include <keel/errno.h>
#include <keel/guests.h>
#include <keel/mm.h>
#include <keel/multiboot1.h>
#include <keel/string.h>

int guest_partition_create(const char *name, int config_line, enum partition_kind kind,
			   uint64_t cpu_mask, uint64_t mem, bool realtime, struct partition **out,
			   char *err, size_t errlen)
{
	struct partition *p;
	uint64_t low = MIN(mem, GUEST_LOW_RAM_MAX), high = mem - low, hpa;

	if (nr_partitions >= MAX_PARTITIONS) {
		snprintf(err, errlen, "too many partitions (at most %d guests)",
			 MAX_PARTITIONS - 1);
		return -E2BIG;
	}
	p = page_alloc(ALIGN_UP(sizeof(*p), PAGE_SIZE) / PAGE_SIZE);
	if (!p) {
		snprintf(err, errlen, "Keel is out of memory for partition %s", name);
		return -ENOMEM;
	}
	keel_strlcpy(p->name, name, sizeof(p->name));
	p->id = nr_partitions;
	p->kind = kind;
	p->cpu_mask = cpu_mask;
	p->realtime = realtime;
	p->mem_size = mem;
	p->config_line = config_line;
	/* 2 MiB aligned, so the guest's RAM maps with large pages. */
	if (memmap_alloc(&keel_memmap, low, 2 * MiB, 0, MEM_PARTITION, &hpa)) {
		snprintf(err, errlen, "no free block of %llu MiB for partition %s's memory",
			 (unsigned long long)low / MiB, name);
		return -ENOMEM;
	}
	p->ram[p->nr_ram++] = (struct partition_ram){ 0, hpa, low };
	if (high) {
		if (memmap_alloc(&keel_memmap, high, 2 * MiB, 0, MEM_PARTITION, &hpa)) {
			snprintf(err, errlen,
				 "no free block of %llu MiB for partition %s's memory "
				 "above 4 GiB",
				 (unsigned long long)high / MiB, name);
			return -ENOMEM;
		}
		p->ram[p->nr_ram++] = (struct partition_ram){ 4 * GiB, hpa, high };
	}
	/* Nothing of the machine's previous contents may leak into a guest. */
	for (uint32_t i = 0; i < p->nr_ram; i++)
		memset(phys_to_virt(p->ram[i].hpa), 0, p->ram[i].size);
	partitions[nr_partitions++] = p;
	*out = p;
	return 0;
}

int guest_load_raw(struct partition *p, const struct boot_module *image, uint64_t load_address,
		   char *err, size_t errlen)
{
	void *dst = partition_gpa_to_hva(p, load_address, image->size);

	if (!dst || load_address + image->size > GUEST_LOW_RAM_MAX) {
		snprintf(err, errlen, "image '%s' (%llu bytes) does not fit at 0x%llx in %llu MiB",
			 image->name, (unsigned long long)image->size,
			 (unsigned long long)load_address, (unsigned long long)p->mem_size / MiB);
		return -E2BIG;
	}
	if (load_address >= 1 * MiB) {
		snprintf(err, errlen,
			 "load_address 0x%llx: a raw image starts in real mode, "
			 "below 1 MiB",
			 (unsigned long long)load_address);
		return -EINVAL;
	}
	memcpy(dst, phys_to_virt(image->base), image->size);
	p->boot_image = image;
	p->boot_load_address = load_address;
	p->entry.real_mode = true;
	if (load_address < 0x10000) {
		p->entry.cs = 0;
		p->entry.ip = (uint16_t)load_address;
	} else {
		p->entry.cs = (uint16_t)(load_address >> 4);
		p->entry.ip = (uint16_t)(load_address & 0xf);
	}
	return 0;
}

/*
 * A Linux guest's memory layout (docs/guest-platform.md):
 *   [0, 0x9fc00)            RAM
 *   [0x9fc00, 0xa0000)      reserved (where an EBDA would be)
 *   [0xf0000, 0x100000)     reserved: a reset stub at the reset vector 0xffff0
 *   [1 MiB, top - 1 MiB)    RAM
 *   [top - 1 MiB, top)      reserved: ACPI tables, entry page tables, GDT
 *   [4 GiB, ...)            RAM beyond 3 GiB, if any
 */
#define KEEL_AREA_SIZE (1 * MiB)
#define ACPI_AREA_SIZE (64 * KiB)
#define ENTRY_TABLES_OFFSET ACPI_AREA_SIZE
#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_PS (1ull << 7)

/*
 * At the reset vector F000:FFF0: mov dx, 0xcf9; mov al, 6; out dx, al; hlt;
 * jmp hlt. Linux's default reboot on hardware-reduced ACPI without EFI ends
 * up in real mode at the reset vector; this turns that into Keel's reset.
 */
static const uint8_t reset_stub[] = { 0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee, 0xf4, 0xeb, 0xfd };

static uint32_t linux_e820(struct partition *p, struct boot_mmap_entry *e)
{
	uint64_t top = p->ram[0].size;
	uint32_t n = 0;

	e[n++] = (struct boot_mmap_entry){ 0, 0x9fc00, MEM_USABLE, 0 };
	e[n++] = (struct boot_mmap_entry){ 0x9fc00, 0x400, MEM_RESERVED, 0 };
	e[n++] = (struct boot_mmap_entry){ 0xf0000, 0x10000, MEM_RESERVED, 0 };
	e[n++] = (struct boot_mmap_entry){ 1 * MiB, top - KEEL_AREA_SIZE - 1 * MiB, MEM_USABLE, 0 };
	e[n++] = (struct boot_mmap_entry){ top - KEEL_AREA_SIZE, KEEL_AREA_SIZE, MEM_RESERVED, 0 };
	if (p->nr_ram > 1)
		e[n++] = (struct boot_mmap_entry){ p->ram[1].gpa, p->ram[1].size, MEM_USABLE, 0 };
	return n;
}

/* Identity map of the low 4 GiB (2 MiB pages) and a GDT with the boot protocol's 0x10/0x18. */
static void linux_entry_tables(struct partition *p, uint64_t gpa)
{
	uint64_t *pml4 = partition_gpa_to_hva(p, gpa, 7 * PAGE_SIZE);
	uint64_t *pdpt = pml4 + 512, *gdt = pml4 + 6 * 512;

	pml4[0] = (gpa + PAGE_SIZE) | PTE_P | PTE_W;
	for (uint64_t gb = 0; gb < 4; gb++) {
		uint64_t *pd = pml4 + (2 + gb) * 512;

		pdpt[gb] = (gpa + (2 + gb) * PAGE_SIZE) | PTE_P | PTE_W;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (gb * GiB + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
	}
	gdt[2] = 0x00af9a000000ffffull; /* 0x10: __BOOT_CS, 64-bit code */
	gdt[3] = 0x00cf92000000ffffull; /* 0x18: __BOOT_DS */
	p->entry.cr3 = gpa;
	p->entry.gdt = gpa + 6 * PAGE_SIZE;
	p->entry.gdt_limit = 4 * 8 - 1;
}

static void *linux_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	return partition_gpa_to_hva(ctx, gpa, len);
}

int guest_load_linux(struct partition *p, const struct boot_module *kernel,
		     const struct boot_module *initrd, const char *cmdline, char *err,
		     size_t errlen)
{
	struct boot_mmap_entry e820[8];
	uint32_t apic_ids[64], n = 0;
	struct acpi_guest_params acpi = { 0 };
	struct linux_boot_request req = { 0 };
	struct linux_boot_plan plan;
	uint64_t top = p->ram[0].size, keel_area = top - KEEL_AREA_SIZE, rsdp;
	size_t used;
	int ret;

	if (top < 32 * MiB) {
		snprintf(err, errlen, "a Linux partition needs at least 32 MiB of memory");
		return -E2BIG;
	}
	for (uint32_t cpu = 0; cpu < 64; cpu++)
		if ((p->cpu_mask >> cpu) & 1) {
			apic_ids[n] = n; /* the guest numbers its CPUs from 0 */
			n++;
		}
	acpi.nr_cpus = n;
	acpi.apic_ids = apic_ids;
	acpi.lapic_addr = ACPI_GUEST_LAPIC_ADDR;
	acpi.ioapic_addr = ACPI_GUEST_IOAPIC_ADDR;
	acpi.ioapic_id = (uint8_t)n;
	acpi.sleep_port = ACPI_GUEST_SLEEP_PORT;
	acpi.reset_port = ACPI_GUEST_RESET_PORT;
	acpi.reset_value = ACPI_GUEST_RESET_VALUE;
	if (p->console == CONFIG_CONSOLE_SERIAL) {
		acpi.uart_port = ACPI_GUEST_UART_PORT;
		acpi.uart_irq = ACPI_GUEST_UART_IRQ;
	}
	acpi.rtc_port = ACPI_GUEST_RTC_PORT;
	ret = acpi_build_guest(&acpi, partition_gpa_to_hva(p, keel_area, ACPI_AREA_SIZE), keel_area,
			       ACPI_AREA_SIZE, &rsdp, &used, err, errlen);
	if (ret)
		return ret;
	linux_entry_tables(p, keel_area + ENTRY_TABLES_OFFSET);
	memcpy(partition_gpa_to_hva(p, 0xffff0, sizeof(reset_stub)), reset_stub,
	       sizeof(reset_stub));

	req.kernel = phys_to_virt(kernel->base);
	req.kernel_size = kernel->size;
	if (initrd) {
		req.initrd = phys_to_virt(initrd->base);
		req.initrd_size = initrd->size;
	}
	req.cmdline = cmdline;
	req.map.e = e820;
	req.map.nr = linux_e820(p, e820);
	req.rsdp = rsdp;
	req.gpa_to_hva = linux_gpa_to_hva;
	req.ctx = p;
	ret = linux_load(&req, &plan, err, errlen);
	if (ret)
		return ret;
	if (plan.high > 4 * GiB) {
		snprintf(err, errlen, "the kernel or initrd landed above 4 GiB (0x%llx)",
			 (unsigned long long)plan.high);
		return -E2BIG;
	}
	p->boot_image = kernel;
	p->boot_initrd = initrd;
	p->boot_cmdline = cmdline;
	p->entry.real_mode = false;
	p->entry.rip = plan.entry_gpa;
	p->entry.rsi = plan.boot_params_gpa;
	return 0;
}

static void *mb1_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	return partition_gpa_to_hva(ctx, gpa, len);
}

int guest_load_multiboot(struct partition *p, const struct boot_module *kernel, const char *cmdline,
			 const struct boot_module *const *mods, uint32_t nr_mods, char *err,
			 size_t errlen)
{
	char line[BOOT_MODULE_NAME_MAX + CONFIG_CMDLINE_MAX + 1];
	struct mb1_module mb_mods[MB1_MODS_MAX];
	struct mb1_request req = { 0 };
	struct mb1_plan plan;
	int ret;

	if (nr_mods > MB1_MODS_MAX || nr_mods > PARTITION_MODS_MAX) {
		snprintf(err, errlen, "too many modules (%u)", nr_mods);
		return -E2BIG;
	}
	snprintf(line, sizeof(line), "%s%s%s", kernel->name, cmdline[0] ? " " : "", cmdline);
	for (uint32_t i = 0; i < nr_mods; i++)
		mb_mods[i] = (struct mb1_module){ phys_to_virt(mods[i]->base), mods[i]->size,
						  mods[i]->name };
	req.image = phys_to_virt(kernel->base);
	req.image_size = kernel->size;
	req.cmdline = line;
	req.mods = mb_mods;
	req.nr_mods = nr_mods;
	req.low_ram = p->ram[0].size;
	req.high_ram = p->nr_ram > 1 ? p->ram[1].size : 0;
	req.gpa_to_hva = mb1_gpa_to_hva;
	req.ctx = p;
	ret = mb1_load(&req, &plan, err, errlen);
	if (ret)
		return ret;
	p->boot_image = kernel;
	p->boot_cmdline = cmdline;
	for (uint32_t i = 0; i < nr_mods; i++)
		p->boot_mods[i] = mods[i];
	p->boot_nr_mods = nr_mods;
	p->entry.real_mode = false;
	p->entry.prot32 = true;
	p->entry.rip = plan.entry;
	p->entry.eax = MB1_BOOT_MAGIC;
	p->entry.ebx = plan.info;
	if (!p->resets)
		printk("keel: partition %s: multiboot kernel %s at 0x%x-0x%x (%s), entry 0x%x, "
		       "information at 0x%x, %u modules\n",
		       p->name, kernel->name, plan.load_start, plan.load_end,
		       plan.aout_kludge ? "header addresses" : "ELF", plan.entry, plan.info,
		       nr_mods);
	return 0;
}

int guest_reload(struct partition *p, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < p->nr_ram; i++)
		memset(phys_to_virt(p->ram[i].hpa), 0, p->ram[i].size);
	memset(&p->entry, 0, sizeof(p->entry));
	if (p->kind == PARTITION_RAW)
		return guest_load_raw(p, p->boot_image, p->boot_load_address, err, errlen);
	if (p->kind == PARTITION_MULTIBOOT)
		return guest_load_multiboot(p, p->boot_image, p->boot_cmdline,
					    (const struct boot_module *const *)p->boot_mods,
					    p->boot_nr_mods, err, errlen);
	return guest_load_linux(p, p->boot_image, p->boot_initrd, p->boot_cmdline, err, errlen);
}
