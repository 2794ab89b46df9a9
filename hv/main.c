// SPDX-License-Identifier: MIT
/*
 * keel_main: the boot sequence both boot paths converge on (see
 * docs/architecture.md). It runs on the boot CPU, on Keel's boot stack,
 * with the image mapped at KEEL_VBASE and the low 4 GiB identity-mapped.
 *
 * Errors the user can fix (config, missing images, no memory) end in
 * keel_fatal(): a message saying what is wrong and where, then a clean stop.
 */
#include <keel/acpi.h>
#include <keel/arch.h>
#include <keel/bootinfo.h>
#include <keel/ci.h>
#include <keel/config.h>
#include <keel/console.h>
#include <keel/efi.h>
#include <keel/guests.h>
#include <keel/host.h>
#include <keel/mm.h>
#include <keel/multiboot2.h>
#include <keel/percpu.h>
#include <keel/string.h>
#include <keel/version.h>

void keel_main(uint64_t magic, uint64_t info, uint64_t phys_base);

static struct boot_info bootinfo;
static struct percpu bsp_percpu __aligned(4096);
static struct keel_config config;
static struct acpi_info acpi;
static uint64_t acpi_rsdp;

static const char *boot_source_name(uint32_t source)
{
	return source == BOOT_SOURCE_UEFI ? "UEFI (keel.efi)" : "multiboot2";
}

static void load_boot_info(uint64_t magic, uint64_t info)
{
	char err[160];

	if (magic == KEEL_BOOT_MAGIC_UEFI) {
		memcpy(&bootinfo, phys_to_virt(info), sizeof(bootinfo));
		if (bootinfo.source != BOOT_SOURCE_UEFI || bootinfo.nr_mmap > BOOT_MMAP_MAX ||
		    bootinfo.nr_modules > BOOT_MODULES_MAX)
			keel_fatal("boot information from keel.efi is malformed");
		return;
	}
	if (magic != KEEL_BOOT_MAGIC_MB2)
		keel_fatal("unknown boot magic 0x%llx: Keel must be started by keel.efi or a "
			   "multiboot2 loader",
			   (unsigned long long)magic);
	if (mb2_parse(phys_to_virt(info), info, &bootinfo, err, sizeof(err)))
		keel_fatal("multiboot2 boot information: %s", err);
}

/* Keel's map: the firmware's, then Keel's image and everything the loader handed over. */
static uint64_t build_memmap(uint64_t mbi)
{
	struct memmap *m = &keel_memmap;
	uint64_t image_size = keel_image_size();
	uint64_t ram;

	memmap_init(m);
	for (uint32_t i = 0; i < bootinfo.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bootinfo.mmap[i];

		if (memmap_add(m, e->base, e->size, e->type))
			printk("keel: warning: memory map entry %u [0x%llx+0x%llx] ignored\n", i,
			       (unsigned long long)e->base, (unsigned long long)e->size);
	}
	ram = memmap_total(m, MEM_USABLE);
	if (!ram)
		keel_fatal("the firmware memory map has no usable RAM");

	memmap_set(m, keel_phys_base, ALIGN_UP(image_size, PAGE_SIZE), MEM_KEEL);
	for (uint32_t i = 0; i < bootinfo.nr_modules; i++) {
		const struct boot_module *mod = &bootinfo.modules[i];

		if (mod->size)
			memmap_set(m, ALIGN_DOWN(mod->base, PAGE_SIZE),
				   ALIGN_UP(mod->base + mod->size, PAGE_SIZE) -
					   ALIGN_DOWN(mod->base, PAGE_SIZE),
				   MEM_BOOT_MODULE);
	}
	if (mbi) {
		uint32_t size = *(const uint32_t *)phys_to_virt(mbi);

		memmap_set(m, ALIGN_DOWN(mbi, PAGE_SIZE),
			   ALIGN_UP(mbi + size, PAGE_SIZE) - ALIGN_DOWN(mbi, PAGE_SIZE),
			   MEM_BOOT_MODULE);
	}
	if (bootinfo.efi_mmap && bootinfo.efi_mmap_size)
		memmap_set(m, ALIGN_DOWN(bootinfo.efi_mmap, PAGE_SIZE),
			   ALIGN_UP(bootinfo.efi_mmap + bootinfo.efi_mmap_size, PAGE_SIZE) -
				   ALIGN_DOWN(bootinfo.efi_mmap, PAGE_SIZE),
			   MEM_BOOT_MODULE);
	return ram;
}

static paddr_t reserve_trampoline(void)
{
	paddr_t page = bootinfo.trampoline_page;

	if (page && page < 1 * MiB && !(page & (PAGE_SIZE - 1))) {
		memmap_set(&keel_memmap, page, PAGE_SIZE, MEM_KEEL);
		return page;
	}
	/* Real mode can only start below 1 MiB; page 0 holds the BIOS IVT. */
	if (memmap_alloc_low(&keel_memmap, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, 0xa0000, MEM_KEEL,
			     &page))
		return 0;
	return page;
}

static void print_memmap(void)
{
	for (uint32_t i = 0; i < keel_memmap.nr; i++) {
		const struct boot_mmap_entry *e = &keel_memmap.e[i];

		printk("keel: mem [0x%016llx-0x%016llx] %s\n", (unsigned long long)e->base,
		       (unsigned long long)(e->base + e->size - 1), memmap_type_name(e->type));
	}
}

static const struct boot_module *require_module(const struct config_file *f, const char *what)
{
	const struct boot_module *mod = boot_find_module(&bootinfo, f->path);

	if (!mod)
		keel_fatal("keel.cfg:%d: %s '%s' was not loaded: %s", f->line, what, f->path,
			   bootinfo.source == BOOT_SOURCE_UEFI
				   ? "no such file next to keel.efi"
				   : "no multiboot2 module with that name (module2 <file> <name>)");
	if (!mod->size)
		keel_fatal("keel.cfg:%d: %s '%s' is empty", f->line, what, f->path);
	printk("keel: %s: %s, %llu KiB at 0x%llx\n", what, f->path,
	       (unsigned long long)(mod->size + 1023) / 1024, (unsigned long long)mod->base);
	return mod;
}

static void load_config(void)
{
	const struct boot_module *cfg = boot_find_module(&bootinfo, "keel.cfg");
	struct config_error err;
	char msg[CONFIG_ERROR_MAX + 64];

	if (!cfg)
		keel_fatal("keel.cfg not found: %s",
			   bootinfo.source == BOOT_SOURCE_UEFI
				   ? "put it in the directory keel.efi was loaded from"
				   : "add 'module2 /path/to/keel.cfg keel.cfg' to the GRUB entry");
	if (config_parse(phys_to_virt(cfg->base), cfg->size, &config, &err)) {
		config_format_error(msg, sizeof(msg), "keel.cfg", &err);
		keel_fatal("%s", msg);
	}
	printk("keel: config: keel.cfg, %llu bytes, ok\n", (unsigned long long)cfg->size);
	if (config.console.port != uart_port || config.console.baud != 115200) {
		printk("keel: console: switching to port 0x%x at %u baud\n", config.console.port,
		       config.console.baud);
		console_init(config.console.port, config.console.baud);
	}
	if (!config.host.present) {
		printk("keel: no [host] in keel.cfg: only the guest partitions run\n");
		return;
	}
	require_module(&config.host.kernel, "host kernel");
	if (config.host.initrd.path[0])
		require_module(&config.host.initrd, "host initrd");
	printk("keel: host cmdline: \"%s\"\n", config.host.cmdline);
}

static uint64_t find_rsdp(void)
{
	uint64_t rsdp = efi_find_rsdp(bootinfo.efi_systab);

	if (!rsdp)
		rsdp = acpi_find_rsdp_legacy();
	if (!rsdp)
		rsdp = bootinfo.rsdp; /* the loader's copy (multiboot2 ACPI tags) */
	return rsdp;
}

static unsigned int discover_cpus(void)
{
	char err[160];
	uint64_t rsdp = find_rsdp();
	int ret;

	acpi_rsdp = rsdp;

	if (!rsdp) {
		printk("keel: error: no ACPI RSDP found: cannot find the other CPUs; "
		       "running on the boot CPU only\n");
		return 0;
	}
	ret = acpi_parse(rsdp, &acpi, err, sizeof(err));
	if (ret) {
		printk("keel: error: ACPI: %s; running on the boot CPU only\n", err);
		return 0;
	}
	printk("keel: acpi: RSDP 0x%llx rev %u (%s, OEM '%s'), %u CPUs and %u IOAPICs in the "
	       "MADT\n",
	       (unsigned long long)rsdp, acpi.revision, acpi.xsdt ? "XSDT" : "RSDT", acpi.oem_id,
	       acpi.nr_cpus, acpi.nr_ioapics);
	return acpi.nr_cpus;
}

static const struct boot_module *partition_module(const struct config_partition *cp,
						  const struct config_file *f, const char *what)
{
	const struct boot_module *mod = boot_find_module(&bootinfo, f->path);

	if (!mod || !mod->size) {
		printk("keel: error: keel.cfg:%d: partition %s: %s '%s' was not loaded%s; the "
		       "partition is skipped\n",
		       f->line, cp->name, what, f->path, mod ? " (empty file)" : "");
		return NULL;
	}
	return mod;
}

/*
 * Guest partitions: check the config against this machine (a mismatch is
 * a config error: Keel stops), take their CPUs and memory away from the
 * host, load their images. A partition whose image is missing or bad is
 * reported and skipped; the host and the other partitions still start.
 */
static void setup_guests(unsigned int online)
{
	uint64_t masks[CONFIG_MAX_PARTITIONS];
	struct config_error cerr;
	char msg[CONFIG_ERROR_MAX + 64], err[192];

	if (!config.nr_partitions)
		return;
	if (config_check_machine(&config, online, memmap_total(&keel_memmap, MEM_USABLE), &cerr) ||
	    config_assign_cpus(&config, online, masks, &cerr)) {
		config_format_error(msg, sizeof(msg), "keel.cfg", &cerr);
		keel_fatal("%s", msg);
	}
	for (uint32_t i = 0; i < config.nr_partitions; i++) {
		const struct config_partition *cp = &config.partitions[i];
		const struct boot_module *image, *initrd = NULL, *mods[CONFIG_MODULES_MAX];
		enum partition_kind kind = cp->kind == CONFIG_PARTITION_RAW ? PARTITION_RAW
					   : cp->kind == CONFIG_PARTITION_MULTIBOOT
						   ? PARTITION_MULTIBOOT
						   : PARTITION_LINUX;
		bool missing = false;
		struct partition *p;
		int ret;

		image = kind == PARTITION_RAW ? partition_module(cp, &cp->image, "image")
					      : partition_module(cp, &cp->kernel, "kernel");
		if (kind == PARTITION_LINUX && cp->initrd.path[0]) {
			initrd = partition_module(cp, &cp->initrd, "initrd");
			missing = !initrd;
		}
		for (uint32_t m = 0; kind == PARTITION_MULTIBOOT && m < cp->nr_modules; m++) {
			mods[m] = partition_module(cp, &cp->modules[m], "module");
			missing |= !mods[m];
		}
		if (!image || missing)
			continue;
		ret = guest_partition_create(cp->name, cp->line, kind, masks[i], cp->memory,
					     cp->realtime, &p, err, sizeof(err));
		if (!ret) {
			p->console = cp->console;
			p->debug_exit_port = cp->debug_exit_port;
		}
		if (!ret && kind == PARTITION_RAW)
			ret = guest_load_raw(p, image, cp->load_address, err, sizeof(err));
		else if (!ret && kind == PARTITION_MULTIBOOT)
			ret = guest_load_multiboot(p, image, cp->cmdline, mods, cp->nr_modules, err,
						   sizeof(err));
		else if (!ret)
			ret = guest_load_linux(p, image, initrd, cp->cmdline, err, sizeof(err));
		if (ret) {
			printk("keel: error: keel.cfg:%d: partition %s: %s; the partition is "
			       "skipped\n",
			       cp->line, cp->name, err);
			if (nr_partitions && partitions[nr_partitions - 1]->config_line == cp->line)
				partitions[nr_partitions - 1]->stopped = true;
			continue;
		}
		printk("keel: partition %s: %s, %u cpus (mask 0x%llx), %llu MiB%s\n", cp->name,
		       kind == PARTITION_RAW	     ? "raw image"
		       : kind == PARTITION_MULTIBOOT ? "multiboot kernel"
						     : "Linux",
		       cp->nr_cpus ? cp->nr_cpus : 0, (unsigned long long)masks[i],
		       (unsigned long long)cp->memory / MiB, cp->realtime ? ", realtime" : "");
	}
}

/* CI mode: how the machine powers off, then wait for the partitions (hv/ci.c). */
static void start_ci(void)
{
	struct acpi_s5 s5;
	char err[128] = "no ACPI FADT";
	bool have = false;

	if (!config.ci.enabled)
		return;
	if (acpi.fadt_phys)
		have = !acpi_find_s5(acpi.fadt_phys, &s5, err, sizeof(err));
	if (have)
		printk("keel: ci: power off through PM1a control 0x%x, SLP_TYP %u\n", s5.pm1a_cnt,
		       s5.slp_typa);
	else
		printk("keel: ci: no ACPI power off: %s\n", err);
	ci_start(&config.ci, config.nr_partitions, have ? &s5 : NULL, err);
}

void keel_main(uint64_t magic, uint64_t info, uint64_t phys_base)
{
	uint64_t ram, image_size = keel_image_size();
	paddr_t trampoline;
	unsigned int online = 1;
	int ret;

	keel_phys_base = phys_base;
	console_init(0x3f8, 115200);
	printk("\nKeel %s: bare-metal hypervisor starting\n", KEEL_VERSION);
	bsp_percpu.cpu_id = 0;
	arch_early_init(&bsp_percpu);
	percpu_table[0] = &bsp_percpu;

	load_boot_info(magic, info);
	printk("keel: booted by %s via %s, image at 0x%llx (%llu KiB)\n", bootinfo.loader_name,
	       boot_source_name(bootinfo.source), (unsigned long long)phys_base,
	       (unsigned long long)image_size / 1024);
	if (bootinfo.cmdline[0])
		printk("keel: command line: %s\n", bootinfo.cmdline);
	if (bootinfo.fb.base)
		printk("keel: framebuffer: %ux%u, %u bpp at 0x%llx\n", bootinfo.fb.width,
		       bootinfo.fb.height, bootinfo.fb.bpp, (unsigned long long)bootinfo.fb.base);

	ram = build_memmap(magic == KEEL_BOOT_MAGIC_MB2 ? info : 0);
	trampoline = reserve_trampoline();
	ret = mm_pool_init();
	if (ret)
		keel_fatal("cannot reserve %llu MiB below 4 GiB for Keel (%d)",
			   (unsigned long long)KEEL_POOL_SIZE / MiB, ret);
	ret = arch_paging_init(memmap_ram_end(&keel_memmap));
	if (ret)
		keel_fatal("cannot build Keel's page tables (%d)", ret);
	direct_map_end = ALIGN_UP(MAX(memmap_ram_end(&keel_memmap), 4 * GiB), GiB);
	print_memmap();

	load_config();
	arch_print_cpu_summary();
	if (discover_cpus())
		online = arch_smp_boot(&acpi, trampoline);
	else
		printk("keel: cpus online: 1/1\n");

	printk("keel: memory: %llu MiB usable RAM, Keel reserved %llu KiB (image %llu KiB, "
	       "pool %llu KiB, %llu KiB used)\n",
	       (unsigned long long)ram / MiB,
	       (unsigned long long)memmap_total(&keel_memmap, MEM_KEEL) / 1024,
	       (unsigned long long)image_size / 1024, (unsigned long long)mm_pool_size() / 1024,
	       (unsigned long long)mm_pool_used() / 1024);
	printk("keel: summary: %u CPUs online, %llu MiB RAM\n", online,
	       (unsigned long long)ram / MiB);
	if (strstr(bootinfo.cmdline, "keel.selftest=exception")) {
		printk("keel: self-test: raising an invalid-opcode exception in Keel\n");
		__builtin_trap();
	}
	setup_guests(online);
	start_ci();
	if (!config.host.present) {
		ret = arch_guests_launch();
		if (ret)
			keel_fatal("cannot launch the guest partitions (%d)", ret);
		arch_idle();
	}
	printk("keel: boot complete\n");
	host_boot(&config, &bootinfo, acpi_rsdp);
}
