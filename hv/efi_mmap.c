// SPDX-License-Identifier: MIT
/*
 * The EFI memory map a Linux partition gets. Keel hands the host the EFI
 * system table and the firmware's memory map so it can call the runtime
 * services, but the firmware's map describes the machine as it was at
 * ExitBootServices: Keel's own memory, the boot modules and the guest
 * partitions' RAM are free memory there. Linux mostly takes its RAM from
 * the e820 table, except its decompressor: booted through EFI, KASLR picks
 * the kernel's physical address among the EfiConventionalMemory
 * descriptors (arch/x86/boot/compressed/kaslr.c, process_efi_entries()),
 * so the host kernel could decompress itself into a partition's memory,
 * where its writes go nowhere, and stop with a decompression error before
 * printing anything. So the host gets a copy of the map with every free
 * range (loader code/data, boot services code/data, conventional) cut down
 * to the RAM its e820 gives it; what lies outside becomes
 * EfiReservedMemoryType. Runtime, ACPI and firmware-reserved ranges are
 * copied as they are.
 */
#include <keel/efi_mmap.h>
#include <keel/errno.h>
#include <keel/string.h>

#define EFI_PAGE 4096ull

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static bool is_free_type(uint32_t type)
{
	return type == EFI_LOADER_CODE || type == EFI_LOADER_DATA ||
	       type == EFI_BOOT_SERVICES_CODE || type == EFI_BOOT_SERVICES_DATA ||
	       type == EFI_CONVENTIONAL_MEMORY;
}

/* One piece [start, end) of descriptor d, with type, appended at *out. */
static int emit(const uint8_t *d, size_t desc_size, uint32_t type, uint64_t start, uint64_t end,
		uint8_t *dst, size_t dst_cap, size_t *out)
{
	uint8_t *p;

	if (start >= end)
		return 0;
	if (*out + desc_size > dst_cap)
		return -ENOSPC;
	p = dst + *out;
	memcpy(p, d, desc_size);
	memcpy(p + EFI_MD_TYPE, &type, sizeof(type));
	wr64(p + EFI_MD_PHYS_START, start);
	/* VirtualStart stays as it was: only runtime ranges have one, and those are not cut. */
	wr64(p + EFI_MD_NR_PAGES, (end - start) / EFI_PAGE);
	*out += desc_size;
	return 0;
}

int efi_mmap_clip(const void *src, size_t src_size, size_t desc_size,
		  const struct boot_mmap_entry *ram, uint32_t nr_ram, void *dst, size_t dst_cap,
		  size_t *dst_size)
{
	const uint8_t *s = src;
	size_t out = 0;
	int ret;

	if (desc_size < EFI_MD_MIN_SIZE || desc_size % 8)
		return -EINVAL;
	for (size_t off = 0; off + desc_size <= src_size; off += desc_size) {
		const uint8_t *d = s + off;
		uint32_t type;
		uint64_t start = rd64(d + EFI_MD_PHYS_START), pages = rd64(d + EFI_MD_NR_PAGES);
		uint64_t end = start + pages * EFI_PAGE, pos = start;

		memcpy(&type, d + EFI_MD_TYPE, sizeof(type));
		if (!is_free_type(type) || !pages) {
			ret = emit(d, desc_size, type, start, end, dst, dst_cap, &out);
			if (ret)
				return ret;
			continue;
		}
		/* Walk the RAM entries across [start, end): RAM keeps the type, gaps are reserved. */
		for (uint32_t i = 0; i < nr_ram && pos < end; i++) {
			uint64_t rs, re;

			if (ram[i].type != MEM_USABLE)
				continue;
			rs = ALIGN_UP(ram[i].base, EFI_PAGE);
			re = ALIGN_DOWN(ram[i].base + ram[i].size, EFI_PAGE);
			if (re <= pos || rs >= re)
				continue;
			if (rs >= end)
				break;
			if (rs > pos) {
				ret = emit(d, desc_size, EFI_RESERVED_MEMORY_TYPE, pos, rs, dst,
					   dst_cap, &out);
				if (ret)
					return ret;
				pos = rs;
			}
			ret = emit(d, desc_size, type, pos, MIN(re, end), dst, dst_cap, &out);
			if (ret)
				return ret;
			pos = MIN(re, end);
		}
		ret = emit(d, desc_size, EFI_RESERVED_MEMORY_TYPE, pos, end, dst, dst_cap, &out);
		if (ret)
			return ret;
	}
	*dst_size = out;
	return 0;
}
