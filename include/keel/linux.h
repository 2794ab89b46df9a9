/* SPDX-License-Identifier: MIT */
/*
 * Loading a Linux bzImage for 64-bit direct boot (Documentation/x86/boot.rst,
 * "64-bit Boot Protocol"): validate the setup header, place the kernel, initrd,
 * command line and boot_params ("zero page") in a partition's RAM, and say
 * where to enter. Arch-neutral apart from the protocol itself; the caller sets
 * up the CPU state (hv/ never touches vendor code).
 */
#ifndef KEEL_LINUX_H
#define KEEL_LINUX_H

#include <keel/types.h>
#include <keel/bootinfo.h>

struct linux_image_info {
	uint16_t protocol; /* setup header 'version', e.g. 0x020f */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t setup_size;   /* bytes: (setup_sects ? setup_sects : 4) + 1 sectors of 512 */
	uint64_t payload_size; /* file size - setup_size: the protected-mode kernel */
	uint32_t kernel_alignment;
	bool relocatable;
	uint64_t pref_address;
	uint32_t init_size;    /* memory the kernel needs from its load address */
	uint32_t cmdline_size; /* max command line length, NUL excluded */
	uint32_t initrd_addr_max;
};

/*
 * Validate a bzImage: size, boot flag 0xAA55 at 0x1FE, "HdrS" at 0x202,
 * protocol >= 2.12 (0x020c, the first with xloadflags), XLF_KERNEL_64
 * (64-bit entry at +0x200), loadflags LOADED_HIGH, relocatable or a usable
 * pref_address, setup_sects sane, payload non-empty. Returns 0, or -ENOEXEC
 * with a message in err saying what is wrong ("not a bzImage: no 'HdrS'
 * signature at 0x202", "boot protocol 2.06 is too old: Keel needs 2.12 for
 * the 64-bit entry", ...).
 */
int linux_parse_bzimage(const void *image, size_t size, struct linux_image_info *info, char *err,
			size_t errlen);

/* One range of a partition's guest-physical map (e820 types: MEM_USABLE, MEM_RESERVED, ...). */
struct linux_e820 {
	const struct boot_mmap_entry *e;
	uint32_t nr;
};

struct linux_boot_request {
	const void *kernel; /* the bzImage file */
	size_t kernel_size;
	const void *initrd; /* NULL when there is none */
	size_t initrd_size;
	const char *cmdline;
	/*
	 * The guest-physical memory map the kernel will be given as e820
	 * (sorted, non-overlapping; only types 1..7 are passed to Linux,
	 * anything else is passed as reserved). Everything placed by the
	 * loader goes into MEM_USABLE ranges of it, at or above 1 MiB except
	 * boot_params and the command line, which may go anywhere usable.
	 */
	struct linux_e820 map;
	uint64_t rsdp;			   /* guest-physical ACPI RSDP, 0 if none */
	const struct boot_framebuffer *fb; /* NULL: headless (screen_info left zero) */
	/* EFI: all zero when the partition gets no EFI. */
	uint64_t efi_systab;
	uint64_t efi_mmap; /* guest-physical address of the EFI memory map */
	uint32_t efi_mmap_size;
	uint32_t efi_desc_size;
	uint32_t efi_desc_version;
	/* Translate a guest-physical range to a pointer Keel can write; NULL if not RAM. */
	void *(*gpa_to_hva)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

struct linux_boot_plan {
	uint64_t kernel_gpa;	  /* where the protected-mode kernel was copied */
	uint64_t entry_gpa;	  /* kernel_gpa + 0x200: the 64-bit entry */
	uint64_t boot_params_gpa; /* RSI at entry */
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa; /* 0 when there is none */
	/* Lowest and highest guest-physical address the plan wrote (for the initial page tables). */
	uint64_t low, high;
};

/*
 * Parse the bzImage, place everything, write boot_params (zeroed, setup
 * header copied from 0x1F1 up to 0x202 + byte[0x201], type_of_loader 0xff,
 * cmd_line_ptr/ext_cmd_line_ptr, ramdisk_image/size and ext_*, e820 table,
 * acpi_rsdp_addr, screen_info from fb, efi_info with the "EL64" loader
 * signature when efi_systab is set) and fill *plan. Returns 0, or -ENOEXEC
 * (bad image), -E2BIG (command line longer than the kernel accepts, too many
 * e820 entries), -ENOMEM (nothing fits) with a message in err.
 */
int linux_load(const struct linux_boot_request *req, struct linux_boot_plan *plan, char *err,
	       size_t errlen);

#endif
