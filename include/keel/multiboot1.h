/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 (the Multiboot Specification 0.6.96): loading a kernel into a
 * guest partition's RAM as a multiboot loader would, and building the
 * multiboot information structure it is entered with. Pure: guest memory
 * is reached through the request's gpa_to_hva(), so unit tests run it on a
 * buffer. Layout and rules: docs/ci-test-kernels.md.
 */
#ifndef KEEL_MULTIBOOT1_H
#define KEEL_MULTIBOOT1_H

#include <keel/types.h>

#define MB1_HEADER_MAGIC 0x1badb002u /* in the kernel image (spec 3.1.2) */
#define MB1_BOOT_MAGIC 0x2badb002u   /* in EAX at the entry (spec 3.2) */
#define MB1_SEARCH_BYTES 8192	     /* the header lies within the first 8 KiB */
#define MB1_MODS_MAX 8

/* Header flags (spec 3.1.2). Bits 0-15 are requirements, 16-31 optional features. */
#define MB1_HF_PAGE_ALIGN (1u << 0) /* modules page-aligned */
#define MB1_HF_MEMORY_INFO (1u << 1)
#define MB1_HF_VIDEO_MODE (1u << 2)
#define MB1_HF_AOUT_KLUDGE (1u << 16) /* the address fields are valid */

/* Information flags (spec 3.3). */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MEM_MAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)

/* The information structure (spec 3.3), as the guest reads it. */
struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB from 0 and from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
	uint8_t framebuffer_bpp, framebuffer_type;
	uint8_t color_info[6];
} __packed;

struct mb1_module_entry {
	uint32_t mod_start, mod_end, string, reserved;
} __packed;

/* A memory map entry; size (20) counts the bytes after itself. */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type; /* 1: available RAM, 2: reserved */
} __packed;

/* The header as found in the image (spec 3.1.2); the address fields only with bit 16. */
struct mb1_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb1_module {
	const void *data;
	uint64_t size;
	const char *string; /* the module's command line (Keel: its path in keel.cfg) */
};

struct mb1_request {
	const void *image;
	uint64_t image_size;
	const char *cmdline; /* NULL: none */
	const struct mb1_module *mods;
	uint32_t nr_mods;
	/* The partition's RAM: [0, low_ram) and [4 GiB, 4 GiB + high_ram). */
	uint64_t low_ram, high_ram;
	/* Guest-physical [gpa, gpa + len) of RAM as a pointer, or NULL. */
	void *(*gpa_to_hva)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

struct mb1_plan {
	uint32_t entry;		       /* EIP */
	uint32_t info;		       /* EBX: the information structure */
	uint32_t load_start, load_end; /* the kernel's lowest and highest byte + 1 (bss included) */
	uint32_t end;		       /* the end of everything Keel wrote (modules, information) */
	bool aout_kludge;	       /* loaded through the header's addresses, not as ELF */
};

/*
 * Find and check the multiboot header in the first 8 KiB of image: magic,
 * checksum, no requirement Keel cannot meet. 0 with *hdr and *offset
 * filled, or -ENOEXEC / -EINVAL / -EOPNOTSUPP with a message in err.
 */
int mb1_find_header(const void *image, uint64_t size, struct mb1_header *hdr, uint64_t *offset,
		    char *err, size_t errlen);

/*
 * Load the kernel (ELF32, or the header's addresses when it has them),
 * its modules (page-aligned, after the kernel) and the information
 * structure (after the modules) into the request's RAM. Everything is
 * checked before the first byte is written. 0 with *plan filled, or
 * -ENOEXEC (not a multiboot image), -EINVAL (malformed), -EOPNOTSUPP (a
 * requirement Keel cannot meet), -E2BIG (does not fit), with a message.
 */
int mb1_load(const struct mb1_request *req, struct mb1_plan *plan, char *err, size_t errlen);

#endif
