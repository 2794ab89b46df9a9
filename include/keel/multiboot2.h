/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 (specification 2.0): header tags Keel places in keel.elf and
 * the boot information tags a loader (GRUB) hands over.
 */
#ifndef KEEL_MULTIBOOT2_H
#define KEEL_MULTIBOOT2_H

#include <keel/types.h>
#include <keel/bootinfo.h>

#define MB2_HEADER_MAGIC 0xe85250d6u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Boot information tag types (spec section 3.6). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV 5
#define MB2_TAG_MMAP 6
#define MB2_TAG_VBE 7
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ELF_SECTIONS 9
#define MB2_TAG_APM 10
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_SMBIOS 13
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_NETWORK 16
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI32_IH 19
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_LOAD_BASE_ADDR 21

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
} __packed;

struct mb2_tag {
	uint32_t type;
	uint32_t size; /* including this header, not the padding to 8 bytes */
} __packed;

struct mb2_tag_string { /* CMDLINE, LOADER_NAME */
	uint32_t type, size;
	char string[];
} __packed;

struct mb2_tag_module {
	uint32_t type, size;
	uint32_t mod_start, mod_end; /* mod_end is exclusive */
	char string[];
} __packed;

struct mb2_tag_basic_meminfo {
	uint32_t type, size;
	uint32_t mem_lower, mem_upper; /* KiB */
} __packed;

struct mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type; /* e820 type */
	uint32_t reserved;
} __packed;

struct mb2_tag_mmap {
	uint32_t type, size;
	uint32_t entry_size, entry_version;
	/* struct mb2_mmap_entry entries[], entry_size bytes apart */
} __packed;

struct mb2_tag_framebuffer {
	uint32_t type, size;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp;
	uint8_t fb_type; /* 0 indexed, 1 direct RGB, 2 EGA text */
	uint16_t reserved;
	/* fb_type 1: */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
} __packed;

struct mb2_tag_efi64 {
	uint32_t type, size;
	uint64_t pointer;
} __packed;

struct mb2_tag_acpi { /* ACPI_OLD / ACPI_NEW: a copy of the RSDP */
	uint32_t type, size;
	uint8_t rsdp[];
} __packed;

struct mb2_tag_efi_mmap {
	uint32_t type, size;
	uint32_t desc_size, desc_version;
	/* EFI memory descriptors follow */
} __packed;

struct mb2_tag_load_base_addr {
	uint32_t type, size;
	uint32_t load_base_addr;
} __packed;

/*
 * Parse the boot information at mbi (which lies at physical address
 * mbi_phys; addresses of in-place data such as the RSDP copy and the EFI
 * memory map are reported relative to it) into *bi (zeroed first).
 * Returns 0, or -EINVAL with a message in err for a malformed structure
 * (bad total size, a tag running past the end, no memory map at all).
 */
int mb2_parse(const void *mbi, uint64_t mbi_phys, struct boot_info *bi, char *err, size_t errlen);

/* Convert one EFI memory descriptor type to a Keel mem_type; 0 for "not RAM, skip" (MMIO). */
uint32_t efi_mem_type_to_keel(uint32_t efi_type);

#endif
