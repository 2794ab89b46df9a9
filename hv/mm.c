// SPDX-License-Identifier: MIT
/*
 * Keel's page pool: one contiguous block taken from usable RAM below 4 GiB
 * at boot (so APs can load CR3 from 32-bit code), handed out by a bump
 * allocator. Keel allocates at boot and for partition set-up only and
 * never frees, so nothing more is needed; the block is reported at boot and
 * removed from every partition's view.
 */
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/spinlock.h>
#include <keel/errno.h>
#include <keel/acpi.h>

struct memmap keel_memmap;
paddr_t keel_phys_base;

static paddr_t pool_base, pool_end, pool_next;
static struct spinlock pool_lock = SPINLOCK_INIT;

int mm_pool_init(void)
{
	int ret =
		memmap_alloc(&keel_memmap, KEEL_POOL_SIZE, 2 * MiB, 4 * GiB, MEM_KEEL, &pool_base);

	if (ret)
		return ret;
	pool_next = pool_base;
	pool_end = pool_base + KEEL_POOL_SIZE;
	return 0;
}

void *page_alloc(size_t pages)
{
	return page_alloc_aligned(pages, PAGE_SIZE);
}

void *page_alloc_aligned(size_t pages, uint64_t align)
{
	paddr_t pa = 0, start;
	uint64_t bytes = pages * PAGE_SIZE;

	spin_lock(&pool_lock);
	start = ALIGN_UP(pool_next, align);
	if (pool_next && start <= pool_end && bytes <= pool_end - start) {
		pa = start;
		pool_next = start + bytes;
	}
	spin_unlock(&pool_lock);
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, bytes);
	return phys_to_virt(pa);
}

uint64_t mm_pool_used(void)
{
	return pool_next - pool_base;
}

uint64_t mm_pool_size(void)
{
	return pool_end - pool_base;
}

uint64_t direct_map_end = 4 * GiB; /* the boot tables' identity map; raised by paging init */

const void *acpi_map(uint64_t phys, size_t len)
{
	if (!phys || phys + len < phys || phys + len > direct_map_end)
		return NULL;
	return phys_to_virt(phys);
}
