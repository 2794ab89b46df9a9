/* SPDX-License-Identifier: MIT */
/*
 * struct boot_info: the one description of the machine that both boot
 * paths (UEFI loader, multiboot2) hand to the core. Physical addresses only;
 * no pointers, so the UEFI loader can build it in its own address space.
 */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/types.h>

/* Values of RDI at the core's 64-bit physical entry (keel_entry64). */
#define KEEL_BOOT_MAGIC_UEFI 0x4b45454c55454649ull /* "KEELUEFI" */
#define KEEL_BOOT_MAGIC_MB2 0x36d76289ull	   /* multiboot2 loader magic */

enum boot_source {
	BOOT_SOURCE_UNKNOWN = 0,
	BOOT_SOURCE_UEFI = 1, /* keel.efi */
	BOOT_SOURCE_MB2 = 2,  /* multiboot2 (GRUB on BIOS or UEFI) */
};

/*
 * Memory types. 1..7 are the e820/ACPI address range types; Keel's own
 * types start at 0x100 and are never handed to a partition as RAM.
 */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_UNUSABLE = 5,
	MEM_PERSISTENT = 7,
	MEM_KEEL = 0x100,	 /* the hypervisor's image, heap, stacks, page tables */
	MEM_BOOT_MODULE = 0x101, /* images handed over by the loader (kernel, initrd, config) */
	MEM_EFI_RUNTIME = 0x102, /* EFI runtime services code/data: kept for the host */
	MEM_PARTITION = 0x103,	 /* RAM of a guest partition: never the host's */
};

struct boot_mmap_entry {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* enum mem_type */
	uint32_t pad;
};

#define BOOT_MODULE_NAME_MAX 128
struct boot_module {
	uint64_t base;
	uint64_t size;
	/* File name (UEFI: path relative to keel.efi's directory; multiboot2: the module string). */
	char name[BOOT_MODULE_NAME_MAX];
};

struct boot_framebuffer {
	uint64_t base;		       /* 0 when there is no framebuffer */
	uint32_t width, height, pitch; /* pitch in bytes */
	uint8_t bpp;
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
	uint8_t pad;
};

#define BOOT_MMAP_MAX 256
#define BOOT_MODULES_MAX 16
#define BOOT_CMDLINE_MAX 512
#define BOOT_LOADER_NAME_MAX 64

struct boot_info {
	uint32_t source; /* enum boot_source */
	uint32_t nr_mmap;
	uint32_t nr_modules;
	uint32_t efi_mmap_desc_version;
	char loader_name[BOOT_LOADER_NAME_MAX];
	char cmdline[BOOT_CMDLINE_MAX]; /* Keel's own command line */
	uint64_t rsdp;			/* physical address of the ACPI RSDP, 0 if unknown */
	uint64_t efi_systab;		/* physical address of the EFI system table, 0 if none */
	uint64_t efi_mmap;		/* physical address of the EFI memory map, 0 if none */
	uint64_t efi_mmap_size;		/* bytes */
	uint64_t efi_mmap_desc_size;	/* bytes per descriptor */
	/* A 4 KiB page below 1 MiB the loader reserved for the AP trampoline, 0 if none. */
	uint64_t trampoline_page;
	struct boot_framebuffer fb;
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
	struct boot_module modules[BOOT_MODULES_MAX];
};

/* Find a module by name: exact match, or match of the last path component. NULL if absent. */
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);

/*
 * Header at offset 0 of the core's flat image (build/keel.bin). The UEFI
 * loader reads it to place the core; the multiboot2 stub is inside the image.
 */
#define KEEL_IMAGE_MAGIC 0x4c45454bu /* "KEEL" */
struct keel_image_header {
	uint32_t magic;
	uint32_t version;	 /* 1 */
	uint64_t entry64_offset; /* offset of keel_entry64 from the image start */
	uint64_t file_size;	 /* bytes of the flat image */
	uint64_t mem_size;	 /* bytes the image occupies in memory, bss included */
	uint64_t align;		 /* required physical alignment of the image start */
};

#endif
