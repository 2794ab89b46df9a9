/* SPDX-License-Identifier: MIT */
/*
 * Keel's physical memory map: a sorted array of non-overlapping ranges,
 * built from the firmware's map, then carved as Keel reserves memory.
 */
#ifndef KEEL_MEMMAP_H
#define KEEL_MEMMAP_H

#include <keel/types.h>
#include <keel/bootinfo.h>

#define MEMMAP_MAX 512

struct memmap {
	uint32_t nr;
	struct boot_mmap_entry e[MEMMAP_MAX];
};

void memmap_init(struct memmap *m);
/*
 * Add a range of the given type. Where it overlaps existing ranges, the
 * more restrictive type wins (Keel/boot module > unusable > reserved/NVS >
 * ACPI reclaim > usable). Adjacent ranges of the same type are merged.
 * Returns 0, -EINVAL for an empty or wrapping range, -ENOSPC when full.
 */
int memmap_add(struct memmap *m, uint64_t base, uint64_t size, uint32_t type);
/* Force [base, base+size) to type, whatever was there (used to mark Keel's own memory). */
int memmap_set(struct memmap *m, uint64_t base, uint64_t size, uint32_t type);
/*
 * Take size bytes of MEM_USABLE memory aligned to align, lying entirely
 * below limit (exclusive; 0 = no limit), highest address first, mark them
 * with type and return the base in *out. -ENOMEM if nothing fits.
 */
int memmap_alloc(struct memmap *m, uint64_t size, uint64_t align, uint64_t limit, uint32_t type,
		 uint64_t *out);
/* Same, but lowest address first and at or above min. */
int memmap_alloc_low(struct memmap *m, uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		     uint32_t type, uint64_t *out);
/* Sum of the sizes of ranges of type. */
uint64_t memmap_total(const struct memmap *m, uint32_t type);
/* Highest end address of any RAM-like range (usable, ACPI, Keel, modules). */
uint64_t memmap_ram_end(const struct memmap *m);
/* Type of the range containing addr, 0 if none. */
uint32_t memmap_type_at(const struct memmap *m, uint64_t addr);
/* Human name of a type ("usable", "reserved", "keel", ...). */
const char *memmap_type_name(uint32_t type);

#endif
