// SPDX-License-Identifier: MIT
/*
 * Page allocation, the final memory map and ExitBootServices.
 */
#include "loader.h"
#include <keel/multiboot2.h>
#include <keel/string.h>

/* Tries of GetMemoryMap + ExitBootServices before giving up. */
#define EBS_TRIES 8

EFI_STATUS alloc_pages(EFI_MEMORY_TYPE type, uint64_t bytes, uint64_t max, uint64_t *addr)
{
	EFI_PHYSICAL_ADDRESS a = max;
	UINTN pages = EFI_SIZE_TO_PAGES(bytes ? bytes : 1);
	EFI_STATUS st;

	/* AllocateMaxAddress: the whole range ends at or below *Memory (UEFI 2.10 section 7.2). */
	st = BS->AllocatePages(AllocateMaxAddress, type, pages, &a);
	if (!EFI_ERROR(st))
		*addr = a;
	return st;
}

void free_pages(uint64_t addr, uint64_t bytes)
{
	if (bytes)
		BS->FreePages(addr, EFI_SIZE_TO_PAGES(bytes));
}

/* Insert a range into the sorted bi->mmap, merging it with equal-typed neighbours it touches. */
static void mmap_insert(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
	struct boot_mmap_entry *m = bi->mmap;
	uint32_t i = 0;

	while (i < bi->nr_mmap && m[i].base < base)
		i++;
	if (i > 0 && m[i - 1].type == type && m[i - 1].base + m[i - 1].size == base) {
		m[i - 1].size += size;
		if (i < bi->nr_mmap && m[i].type == type &&
		    m[i - 1].base + m[i - 1].size == m[i].base) {
			m[i - 1].size += m[i].size;
			memmove(&m[i], &m[i + 1], (bi->nr_mmap - i - 1) * sizeof(*m));
			bi->nr_mmap--;
		}
		return;
	}
	if (i < bi->nr_mmap && m[i].type == type && base + size == m[i].base) {
		m[i].base = base;
		m[i].size += size;
		return;
	}
	/* Full: the core still has the complete EFI map in bi->efi_mmap. */
	if (bi->nr_mmap == BOOT_MMAP_MAX)
		return;
	memmove(&m[i + 1], &m[i], (bi->nr_mmap - i) * sizeof(*m));
	m[i] = (struct boot_mmap_entry){ .base = base, .size = size, .type = type };
	bi->nr_mmap++;
}

/*
 * Runs after ExitBootServices: pure computation on memory the loader owns.
 * The firmware's map need not be sorted, hence the sorted insertion.
 */
static void mmap_convert(struct boot_info *bi, const uint8_t *map, UINTN size, UINTN desc_size)
{
	UINTN off;

	bi->nr_mmap = 0;
	for (off = 0; off + desc_size <= size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)(map + off);
		uint32_t type = efi_mem_type_to_keel(d->Type);

		if (type && d->NumberOfPages)
			mmap_insert(bi, d->PhysicalStart, d->NumberOfPages * EFI_PAGE_SIZE, type);
	}
}

void exit_boot_services(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	UINTN size = 0, key, desc_size, buf_size;
	UINT32 desc_version;
	uint64_t buf;
	EFI_STATUS st;
	int tries;

	st = BS->GetMemoryMap(&size, NULL, &key, &desc_size, &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL)
		fatal("GetMemoryMap: %s", efi_strerror(st));
	/*
	 * Allocating the buffer may split a free range into up to three
	 * descriptors, and ExitBootServices handlers may allocate too: leave
	 * room for a few more descriptors than the map has now.
	 */
	buf_size = ALIGN_UP(size + 16 * desc_size, EFI_PAGE_SIZE);
	st = alloc_pages(EfiLoaderData, buf_size, LOADER_MAX_ADDR, &buf);
	if (EFI_ERROR(st))
		fatal("cannot allocate %lu bytes for the memory map: %s", (unsigned long)buf_size,
		      efi_strerror(st));

	for (tries = 1;; tries++) {
		size = buf_size;
		st = BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)buf, &key, &desc_size,
				      &desc_version);
		if (EFI_ERROR(st)) {
			if (tries == 1)
				fatal("GetMemoryMap: %s", efi_strerror(st));
			fatal_late("GetMemoryMap after a failed ExitBootServices: %s",
				   efi_strerror(st));
		}
		/*
		 * EFI_INVALID_PARAMETER means the map changed since GetMemoryMap
		 * (an event handler allocated memory): get it again and retry
		 * (UEFI 2.10 section 7.4, ExitBootServices).
		 */
		st = BS->ExitBootServices(ld->image, key);
		if (!EFI_ERROR(st))
			break;
		if (st != EFI_INVALID_PARAMETER || tries == EBS_TRIES)
			fatal_late("ExitBootServices: %s (try %d)", efi_strerror(st), tries);
	}

	/* The firmware is gone: no boot services, no console, from here on. */
	bi->efi_mmap = buf;
	bi->efi_mmap_size = size;
	bi->efi_mmap_desc_size = desc_size;
	bi->efi_mmap_desc_version = desc_version;
	mmap_convert(bi, (const uint8_t *)buf, size, desc_size);
}
