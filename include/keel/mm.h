/* SPDX-License-Identifier: MIT */
/*
 * Keel's memory: the machine's map, Keel's image, and a pool of pages Keel
 * reserves for itself at boot. Physical memory is identity-mapped, so a
 * physical address below the direct map's end is also a pointer.
 */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <keel/types.h>
#include <keel/memmap.h>

#define KEEL_VBASE 0xffffffff80000000ull
#define KEEL_POOL_SIZE (16 * MiB)

extern struct memmap keel_memmap;
extern paddr_t keel_phys_base;
/* End of the identity map of physical memory. */
extern uint64_t direct_map_end;
extern char __image_start[], __image_end[], __load_end[];

/* Linker symbols are distinct objects to the compiler: subtract them as integers. */
static inline uint64_t keel_image_size(void)
{
	return (uint64_t)(uintptr_t)__image_end - (uint64_t)(uintptr_t)__image_start;
}

static inline paddr_t virt_to_phys(const void *p)
{
	uint64_t v = (uint64_t)p;

	return v >= KEEL_VBASE ? v - KEEL_VBASE + keel_phys_base : v;
}

static inline void *phys_to_virt(paddr_t pa)
{
	return (void *)pa;
}

/* Take the pool from the memory map. 0 or -ENOMEM. */
int mm_pool_init(void);
/* Zeroed, page-aligned pages from Keel's pool; NULL when it is exhausted. */
void *page_alloc(size_t pages);
/* The same, starting at a multiple of align (a power of two; the gap is not reused). */
void *page_alloc_aligned(size_t pages, uint64_t align);
/* Bytes of the pool in use and in all. */
uint64_t mm_pool_used(void);
uint64_t mm_pool_size(void);

#endif
