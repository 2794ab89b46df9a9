/* SPDX-License-Identifier: MIT */
/*
 * The EFI memory map a Linux partition gets (boot_params.efi_info) when
 * Keel hands on the firmware's: see hv/efi_mmap.c.
 */
#ifndef KEEL_EFI_MMAP_H
#define KEEL_EFI_MMAP_H

#include <keel/types.h>
#include <keel/bootinfo.h>

/* EFI_MEMORY_TYPE values (UEFI 2.10 section 7.2, Table 7-6) this code looks at. */
#define EFI_RESERVED_MEMORY_TYPE 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_CONVENTIONAL_MEMORY 7

/* Offsets in an EFI_MEMORY_DESCRIPTOR (section 7.2, GetMemoryMap()); desc_size may be larger. */
#define EFI_MD_TYPE 0
#define EFI_MD_PHYS_START 8
#define EFI_MD_VIRT_START 16
#define EFI_MD_NR_PAGES 24
#define EFI_MD_ATTRIBUTE 32
#define EFI_MD_MIN_SIZE 40

/*
 * Copy the firmware's map src (src_size bytes of desc_size-byte
 * descriptors) to dst (dst_cap bytes), cutting every range the firmware
 * counts as free after ExitBootServices (loader, boot services,
 * conventional) down to the partition's RAM: the MEM_USABLE entries of
 * ram[0..nr_ram), sorted and not overlapping. The parts outside become
 * EfiReservedMemoryType. *dst_size: the bytes written. 0, -EINVAL (bad
 * descriptor size) or -ENOSPC (dst too small).
 */
int efi_mmap_clip(const void *src, size_t src_size, size_t desc_size,
		  const struct boot_mmap_entry *ram, uint32_t nr_ram, void *dst, size_t dst_cap,
		  size_t *dst_size);

/* dst_cap that always suffices for a map of nr_desc descriptors and a RAM list of nr_ram. */
static inline size_t efi_mmap_clip_cap(size_t nr_desc, uint32_t nr_ram, size_t desc_size)
{
	/* Each RAM entry can cut one more piece out of a descriptor on either side of it. */
	return (nr_desc + 2 * (size_t)nr_ram + 2) * desc_size;
}

#endif
