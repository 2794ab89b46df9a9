// SPDX-License-Identifier: MIT
/* Unit tests for hv/memmap.c. */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/memmap.h>

static struct memmap map, saved;

static const uint32_t all_types[] = { MEM_USABLE,   MEM_RESERVED,    MEM_ACPI_RECLAIM,
				      MEM_ACPI_NVS, MEM_UNUSABLE,    MEM_PERSISTENT,
				      MEM_KEEL,	    MEM_BOOT_MODULE, MEM_EFI_RUNTIME };

/* The priority order from memmap.h, written out independently of the implementation. */
static int rank(uint32_t t)
{
	if (t == MEM_KEEL || t == MEM_BOOT_MODULE || t == MEM_EFI_RUNTIME)
		return 4;
	if (t == MEM_UNUSABLE)
		return 3;
	if (t == MEM_RESERVED || t == MEM_ACPI_NVS || t == MEM_PERSISTENT)
		return 2;
	if (t == MEM_ACPI_RECLAIM)
		return 1;
	return 0;
}

static uint32_t winner(uint32_t old, uint32_t new)
{
	return rank(new) > rank(old) ? new : old;
}

static uint64_t last_of(const struct boot_mmap_entry *e)
{
	return e->base + (e->size - 1);
}

/* Sorted, non-overlapping, non-empty, and same-type neighbours merged. */
static bool valid(const struct memmap *m)
{
	if (m->nr > MEMMAP_MAX)
		return false;
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct boot_mmap_entry *e = &m->e[i];

		if (e->size == 0 || e->type == 0 || e->size - 1 > UINT64_MAX - e->base)
			return false;
		if (i == 0)
			continue;
		const struct boot_mmap_entry *p = &m->e[i - 1];
		if (last_of(p) >= e->base)
			return false;
		/* Only a pair covering all of 2^64 may stay unmerged. */
		if (last_of(p) + 1 == e->base && p->type == e->type &&
		    !(p->base == 0 && last_of(e) == UINT64_MAX))
			return false;
	}
	return true;
}

#define CHECK_ENTRY(m, i, b, s, t)                                                                 \
	do {                                                                                       \
		CHECK_EQ((m)->e[i].base, (b));                                                     \
		CHECK_EQ((m)->e[i].size, (s));                                                     \
		CHECK_EQ((m)->e[i].type, (t));                                                     \
	} while (0)

TEST(test_empty)
{
	memmap_init(&map);
	CHECK_EQ(map.nr, 0);
	CHECK_EQ(memmap_type_at(&map, 0), 0);
	CHECK_EQ(memmap_total(&map, MEM_USABLE), 0);
	CHECK_EQ(memmap_ram_end(&map), 0);
	uint64_t out = 0;
	CHECK_EQ(memmap_alloc(&map, 4096, 4096, 0, MEM_KEEL, &out), -ENOMEM);
	CHECK_EQ(memmap_alloc_low(&map, 4096, 4096, 0, 0, MEM_KEEL, &out), -ENOMEM);
}

TEST(test_add_single)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x100000, 0x7f00000, MEM_USABLE), 0);
	CHECK_EQ(map.nr, 1);
	CHECK_ENTRY(&map, 0, 0x100000, 0x7f00000, MEM_USABLE);
	CHECK_EQ(memmap_type_at(&map, 0xfffff), 0);
	CHECK_EQ(memmap_type_at(&map, 0x100000), MEM_USABLE);
	CHECK_EQ(memmap_type_at(&map, 0x7ffffff), MEM_USABLE);
	CHECK_EQ(memmap_type_at(&map, 0x8000000), 0);
	CHECK_EQ(memmap_total(&map, MEM_USABLE), 0x7f00000);
	CHECK_EQ(memmap_ram_end(&map), 0x8000000);
}

TEST(test_reject_bad_ranges)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0, MEM_USABLE), -EINVAL);
	CHECK_EQ(memmap_add(&map, UINT64_MAX, 2, MEM_USABLE), -EINVAL);
	CHECK_EQ(memmap_add(&map, 0xfffffffffffff000ull, 0x2000, MEM_USABLE), -EINVAL);
	CHECK_EQ(memmap_add(&map, 2, UINT64_MAX, MEM_USABLE), -EINVAL);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, 0), -EINVAL);
	CHECK_EQ(memmap_set(&map, UINT64_MAX, 2, MEM_KEEL), -EINVAL);
	CHECK_EQ(memmap_set(&map, 0, 0, MEM_KEEL), -EINVAL);
	CHECK_EQ(map.nr, 0);
}

TEST(test_range_to_2_64)
{
	uint64_t top = 0xfffffffffffff000ull;

	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, top, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, UINT64_MAX, 1, MEM_UNUSABLE), 0);
	CHECK_EQ(map.nr, 2);
	CHECK_ENTRY(&map, 0, top, 0xfff, MEM_RESERVED);
	CHECK_ENTRY(&map, 1, UINT64_MAX, 1, MEM_UNUSABLE);
	CHECK_EQ(memmap_type_at(&map, UINT64_MAX), MEM_UNUSABLE);
	CHECK(valid(&map));

	/* One range covering everything but the first byte, then the first byte. */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 1, UINT64_MAX, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0, 1, MEM_USABLE), 0);
	CHECK(valid(&map));
	CHECK_EQ(map.nr, 2); /* [0, 2^64) has no 64-bit size: stays two entries */
	CHECK_EQ(memmap_type_at(&map, 0), MEM_USABLE);
	CHECK_EQ(memmap_type_at(&map, UINT64_MAX), MEM_USABLE);
	CHECK_EQ(memmap_total(&map, MEM_USABLE), UINT64_MAX); /* saturated */
	CHECK_EQ(memmap_ram_end(&map), UINT64_MAX);

	/* Splitting it still keeps everything consistent. */
	CHECK_EQ(memmap_set(&map, 0x1000, 0x1000, MEM_KEEL), 0);
	CHECK(valid(&map));
	CHECK_EQ(map.nr, 3);
	CHECK_ENTRY(&map, 0, 0, 0x1000, MEM_USABLE);
	CHECK_ENTRY(&map, 1, 0x1000, 0x1000, MEM_KEEL);
	CHECK_ENTRY(&map, 2, 0x2000, UINT64_MAX - 0x1fff, MEM_USABLE);

	/* Allocation from the top of the address space. */
	uint64_t out = 0;
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, top);
	CHECK_EQ(memmap_type_at(&map, UINT64_MAX), MEM_KEEL);
	CHECK(valid(&map));
}

/* Every ordered pair of types, partially overlapping: [1,3) a then [2,4) b (units of 4 KiB). */
TEST(test_priority_pairs)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_types); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(all_types); j++) {
			uint32_t a = all_types[i], b = all_types[j], w = winner(a, b);

			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x2000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x2000, b), 0);
			CHECK(valid(&map));
			CHECK_EQ(memmap_type_at(&map, 0x1000), a);
			CHECK_EQ(memmap_type_at(&map, 0x2000), w);
			CHECK_EQ(memmap_type_at(&map, 0x2fff), w);
			CHECK_EQ(memmap_type_at(&map, 0x3000), b);
			CHECK_EQ(memmap_type_at(&map, 0x4000), 0);
			/* Neighbours of equal type merge: 1, 2 or 3 entries. */
			CHECK_EQ(map.nr, 1 + (a != w) + (w != b));

			/* Fully contained: [2,3) b inside [1,4) a. */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x3000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, b), 0);
			CHECK(valid(&map));
			CHECK_EQ(map.nr, w == a ? 1 : 3);
			CHECK_EQ(memmap_type_at(&map, 0x2000), w);
			CHECK_EQ(memmap_type_at(&map, 0x3000), a);

			/* Fully covering: [1,4) b over [2,3) a. */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, a), 0);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x3000, b), 0);
			CHECK(valid(&map));
			CHECK_EQ(map.nr, w == b ? 1 : 3);
			CHECK_EQ(memmap_type_at(&map, 0x1000), b);
			CHECK_EQ(memmap_type_at(&map, 0x2000), w);
			CHECK_EQ(memmap_type_at(&map, 0x3000), b);

			/* memmap_set always wins. */
			memmap_init(&map);
			CHECK_EQ(memmap_add(&map, 0x1000, 0x3000, a), 0);
			CHECK_EQ(memmap_set(&map, 0x2000, 0x1000, b), 0);
			CHECK(valid(&map));
			CHECK_EQ(memmap_type_at(&map, 0x2000), b);
			CHECK_EQ(map.nr, a == b ? 1 : 3);
		}
	}
}

TEST(test_split_and_merge)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0, 16 * MiB, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 4 * MiB, 1 * MiB, MEM_RESERVED), 0);
	CHECK_EQ(map.nr, 3);
	CHECK_ENTRY(&map, 0, 0, 4 * MiB, MEM_USABLE);
	CHECK_ENTRY(&map, 1, 4 * MiB, 1 * MiB, MEM_RESERVED);
	CHECK_ENTRY(&map, 2, 5 * MiB, 11 * MiB, MEM_USABLE);

	/* Forcing it back to usable merges all three. */
	CHECK_EQ(memmap_set(&map, 4 * MiB, 1 * MiB, MEM_USABLE), 0);
	CHECK_EQ(map.nr, 1);
	CHECK_ENTRY(&map, 0, 0, 16 * MiB, MEM_USABLE);

	/* Added out of order, adjacent pieces merge; a bridging range joins them. */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x5000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_add(&map, 0x9000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(map.nr, 3);
	CHECK_EQ(memmap_add(&map, 0x4000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(map.nr, 3);
	CHECK_ENTRY(&map, 1, 0x4000, 0x2000, MEM_RESERVED);
	CHECK_EQ(memmap_add(&map, 0, 0x10000, MEM_RESERVED), 0);
	CHECK_EQ(map.nr, 1);
	CHECK_ENTRY(&map, 0, 0, 0x10000, MEM_RESERVED);

	/* A lower-priority range over holes fills only the holes. */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x2000, 0x1000, MEM_KEEL), 0);
	CHECK_EQ(memmap_add(&map, 0x4000, 0x1000, MEM_ACPI_NVS), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x5000, MEM_USABLE), 0);
	CHECK(valid(&map));
	CHECK_EQ(map.nr, 5);
	CHECK_ENTRY(&map, 0, 0x1000, 0x1000, MEM_USABLE);
	CHECK_ENTRY(&map, 1, 0x2000, 0x1000, MEM_KEEL);
	CHECK_ENTRY(&map, 2, 0x3000, 0x1000, MEM_USABLE);
	CHECK_ENTRY(&map, 3, 0x4000, 0x1000, MEM_ACPI_NVS);
	CHECK_ENTRY(&map, 4, 0x5000, 0x1000, MEM_USABLE);
	CHECK_EQ(memmap_total(&map, MEM_USABLE), 0x3000);
	CHECK_EQ(memmap_ram_end(&map), 0x6000);

	/* Reserved memory above RAM does not count for ram_end. */
	CHECK_EQ(memmap_add(&map, 0xfec00000, 0x1000, MEM_RESERVED), 0);
	CHECK_EQ(memmap_ram_end(&map), 0x6000);
	CHECK_EQ(memmap_add(&map, 0x100000000ull, 0x1000, MEM_ACPI_RECLAIM), 0);
	CHECK_EQ(memmap_ram_end(&map), 0x100001000ull);
}

TEST(test_alloc_high)
{
	uint64_t out = 0;

	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x9e000, MEM_USABLE), 0);    /* [4K, 636K) */
	CHECK_EQ(memmap_add(&map, 1 * MiB, 127 * MiB, MEM_USABLE), 0); /* [1M, 128M) */
	CHECK_EQ(memmap_add(&map, 4 * GiB, 1 * GiB, MEM_USABLE), 0);   /* [4G, 5G) */

	/* Highest first. */
	CHECK_EQ(memmap_alloc(&map, 0x3000, 0x1000, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 5 * GiB - 0x3000);
	CHECK_EQ(memmap_type_at(&map, 5 * GiB - 1), MEM_KEEL);
	CHECK_EQ(memmap_type_at(&map, 5 * GiB - 0x3001), MEM_USABLE);
	/* Aligned: 2 MiB below the first allocation. */
	CHECK_EQ(memmap_alloc(&map, 0x1000, 2 * MiB, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 5 * GiB - 2 * MiB);
	CHECK(valid(&map));
	/* Below 4 GiB. */
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 4 * GiB, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 128 * MiB - 0x1000);
	/* Limit in the middle of a range. */
	CHECK_EQ(memmap_alloc(&map, 0x2000, 0x1000, 64 * MiB + 0x1800, MEM_BOOT_MODULE, &out), 0);
	CHECK_EQ(out, 64 * MiB - 0x1000);
	/* Below 1 MiB: only the low range fits. */
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 1 * MiB, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x9e000);
	/* Too big for anything. */
	CHECK_EQ(memmap_alloc(&map, 2 * GiB, 0x1000, 0, MEM_KEEL, &out), -ENOMEM);
	/* Too big for anything below the limit. */
	CHECK_EQ(memmap_alloc(&map, 128 * MiB, 0x1000, 4 * GiB, MEM_KEEL, &out), -ENOMEM);
	/* Limit below all RAM. */
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0x1000, MEM_KEEL, &out), -ENOMEM);
	/* Alignment that no usable range satisfies (0 is aligned but not usable). */
	CHECK_EQ(memmap_alloc(&map, 0x1000, 8 * GiB, 0, MEM_KEEL, &out), -ENOMEM);
	CHECK(valid(&map));
}

TEST(test_alloc_args)
{
	uint64_t out = 0;

	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 1 * MiB, 1 * MiB, MEM_USABLE), 0);
	CHECK_EQ(memmap_alloc(&map, 0, 0x1000, 0, MEM_KEEL, &out), -EINVAL);
	CHECK_EQ(memmap_alloc(&map, 0x1000, 3, 0, MEM_KEEL, &out), -EINVAL);
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0, 0, &out), -EINVAL);
	CHECK_EQ(memmap_alloc_low(&map, 0, 0x1000, 0, 0, MEM_KEEL, &out), -EINVAL);
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x3000, 0, 0, MEM_KEEL, &out), -EINVAL);
	/* Alignment 0 means byte granularity. */
	CHECK_EQ(memmap_alloc(&map, 0x10, 0, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 2 * MiB - 0x10);
	CHECK_EQ(memmap_alloc_low(&map, 0x10, 0, 0, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 1 * MiB);
	/* The whole remaining range, exactly. */
	CHECK_EQ(memmap_alloc(&map, 1 * MiB - 0x20, 1, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 1 * MiB + 0x10);
	CHECK_EQ(map.nr, 1);
	CHECK_EQ(memmap_total(&map, MEM_USABLE), 0);
	CHECK_EQ(memmap_alloc(&map, 1, 1, 0, MEM_KEEL, &out), -ENOMEM);
}

TEST(test_alloc_high_alignment_misses)
{
	uint64_t out = 0;

	/* [0x1800, 0x2800) holds no 4 KiB-aligned 4 KiB block; [0x10000, 0x11000) does. */
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1800, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x10000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x10000);
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0, MEM_KEEL, &out), -ENOMEM);
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 0, 0, MEM_KEEL, &out), -ENOMEM);
	CHECK_EQ(memmap_alloc_low(&map, 0x800, 0x800, 0, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x1800);
}

TEST(test_alloc_low)
{
	uint64_t out = 0;

	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x9e000, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 1 * MiB, 127 * MiB, MEM_USABLE), 0);
	CHECK_EQ(memmap_add(&map, 0x8000, 0x1000, MEM_RESERVED), 0);

	/* Lowest first. */
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 0, 1 * MiB, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x1000);
	/* At or above min, skipping the reserved page. */
	CHECK_EQ(memmap_alloc_low(&map, 0x2000, 0x1000, 0x7000, 1 * MiB, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x9000);
	/* min inside a range, unaligned. */
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x4000, 0xb001, 1 * MiB, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0xc000);
	/* Limit: must lie entirely below it. */
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 0x9e000, 0x9f000, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 0x9e000);
	CHECK_EQ(memmap_alloc_low(&map, 0x2000, 0x1000, 0x9d000, 0x9f000, MEM_KEEL, &out), -ENOMEM);
	/* Big alignment moves to the high range. */
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 2 * MiB, 0, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, 2 * MiB);
	/* Nothing at or above min. */
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 128 * MiB, 0, MEM_KEEL, &out), -ENOMEM);
	/* An alignment whose round-up would overflow is not an error, just no fit. */
	CHECK_EQ(memmap_add(&map, 0xfffffffffffff000ull, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 1ull << 63, 0xfffffffffffff000ull, 0, MEM_KEEL,
				  &out),
		 -ENOMEM);
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 0xfffffffffffff000ull, 0, MEM_KEEL, &out),
		 0);
	CHECK_EQ(out, 0xfffffffffffff000ull);
	CHECK(valid(&map));
}

/* Fill the map: MEMMAP_MAX separate ranges of alternating types. */
static void fill_map(void)
{
	memmap_init(&map);
	for (uint32_t i = 0; i < MEMMAP_MAX; i++)
		CHECK_EQ(memmap_add(&map, (uint64_t)i * 0x10000, 0x1000 * (1 + i % 3),
				    i % 2 ? MEM_USABLE : MEM_RESERVED),
			 0);
	CHECK_EQ(map.nr, MEMMAP_MAX);
	CHECK(valid(&map));
}

TEST(test_full_map)
{
	uint64_t out = 0;

	fill_map();
	saved = map;

	/* New ranges that need an entry are refused, and the map is untouched. */
	CHECK_EQ(memmap_add(&map, 0x8000, 0x1000, MEM_USABLE), -ENOSPC);
	CHECK_EQ(memmap_add(&map, (uint64_t)MEMMAP_MAX * 0x10000, 0x1000, MEM_USABLE), -ENOSPC);
	CHECK_EQ(memmap_set(&map, 0x10000, 0x1000, MEM_KEEL), -ENOSPC); /* splits one in two */
	CHECK_EQ(memmap_add(&map, 0x10000, 0x1000, MEM_KEEL), -ENOSPC);
	/* Spanning many ranges and holes: would need far more entries. */
	CHECK_EQ(memmap_add(&map, 0x8000, 0x100000, MEM_ACPI_RECLAIM), -ENOSPC);
	CHECK_EQ(memmap_alloc(&map, 0x1000, 0x1000, 0, MEM_KEEL, &out), -ENOSPC);
	CHECK_EQ(memmap_alloc_low(&map, 0x1000, 0x1000, 0, 0, MEM_KEEL, &out), -ENOSPC);
	CHECK(memcmp(&map, &saved, sizeof(map)) == 0);

	/* Changes that need no new entry still work. */
	CHECK_EQ(memmap_add(&map, 0x10000, 0x1000, MEM_USABLE), 0); /* already usable */
	CHECK_EQ(memmap_add(&map, 0x20000, 0x800, MEM_USABLE), 0);  /* reserved wins */
	CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
	CHECK_EQ(memmap_set(&map, 0x10000, 0x2000, MEM_KEEL), 0); /* whole entry retyped */
	CHECK_EQ(map.nr, MEMMAP_MAX);
	CHECK_EQ(memmap_type_at(&map, 0x10000), MEM_KEEL);
	/* An allocation of exactly one whole usable range. */
	CHECK_EQ(memmap_alloc(&map, 0x2000, 0x1000, 0, MEM_KEEL, &out), 0);
	CHECK_EQ(out, (uint64_t)(MEMMAP_MAX - 1) * 0x10000);

	/* Bridging the hole between two reserved ranges merges them: one entry fewer. */
	fill_map();
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1f000, MEM_RESERVED), 0);
	CHECK(valid(&map));
	CHECK_EQ(map.nr, MEMMAP_MAX - 2);
	/* ... which frees room for a new one. */
	CHECK_EQ(memmap_add(&map, 0x8000000, 0x1000, MEM_KEEL), 0);
	CHECK_EQ(map.nr, MEMMAP_MAX - 1);
	CHECK(valid(&map));

	/* Forcing one type over several ranges and holes collapses them into one. */
	fill_map();
	CHECK_EQ(memmap_set(&map, 0x30000, 0x50000, MEM_USABLE), 0);
	CHECK(valid(&map));
	CHECK_EQ(memmap_type_at(&map, 0x50000), MEM_USABLE);
	CHECK_EQ(memmap_type_at(&map, 0x7ffff), MEM_USABLE);
	CHECK_EQ(map.nr, MEMMAP_MAX - 4);
}

/*
 * A change whose first part adds entries (holes between reserved ranges
 * become usable ranges) and whose second part removes more (holes between
 * usable ranges merge them), on a full map. The final map would fit; the
 * implementation may do it, or refuse it with -ENOSPC (it rewrites in place
 * and may need the room temporarily), but must never corrupt the map.
 */
TEST(test_full_map_grow_then_shrink)
{
	uint32_t i;

	memmap_init(&map);
	for (i = 0; i < 10; i++)
		CHECK_EQ(memmap_add(&map, (uint64_t)i * 0x10000, 0x1000, MEM_RESERVED), 0);
	for (; i < MEMMAP_MAX; i++)
		CHECK_EQ(memmap_add(&map, (uint64_t)i * 0x10000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(map.nr, MEMMAP_MAX);
	saved = map;

	int rc = memmap_add(&map, 0, (uint64_t)MEMMAP_MAX * 0x10000, MEM_USABLE);
	if (rc == 0) {
		CHECK(valid(&map));
		CHECK_EQ(map.nr, 20);
		CHECK_EQ(memmap_type_at(&map, 0x9ffff), MEM_USABLE);
	} else {
		CHECK_EQ(rc, -ENOSPC);
		CHECK(memcmp(&map, &saved, sizeof(map)) == 0);
	}
}

/*
 * Random operations checked against a model: one type per 4 KiB page of a
 * small window of the address space (at 0, and at the very top, to cover
 * ranges that end at 2^64).
 */
#define MODEL_PAGES 96
static uint32_t model[MODEL_PAGES];

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool map_matches_model(uint64_t origin)
{
	struct memmap want;
	uint32_t p = 0;

	want.nr = 0;
	while (p < MODEL_PAGES) {
		uint32_t q = p;

		while (q < MODEL_PAGES && model[q] == model[p])
			q++;
		if (model[p]) {
			want.e[want.nr].base = origin + (uint64_t)p * 0x1000;
			want.e[want.nr].size = (uint64_t)(q - p) * 0x1000;
			want.e[want.nr].type = model[p];
			want.nr++;
		}
		p = q;
	}
	if (want.nr != map.nr)
		return false;
	for (uint32_t i = 0; i < want.nr; i++) {
		if (want.e[i].base != map.e[i].base || want.e[i].size != map.e[i].size ||
		    want.e[i].type != map.e[i].type)
			return false;
	}
	return true;
}

/* Highest (or lowest) page-aligned run of n usable pages in [lo, hi), -1 if none. */
static int model_find(uint32_t n, uint32_t align, uint32_t lo, uint32_t hi, bool high)
{
	int found = -1;

	for (uint32_t c = 0; c + n <= hi; c += align) {
		bool ok = c >= lo;

		for (uint32_t k = 0; ok && k < n; k++)
			ok = model[c + k] == MEM_USABLE;
		if (ok) {
			found = (int)c;
			if (!high)
				break;
		}
	}
	return found;
}

static void random_run(uint64_t origin, uint64_t seed)
{
	rng_state = seed;
	memmap_init(&map);
	memset(model, 0, sizeof(model));

	for (int step = 0; step < 4000; step++) {
		uint32_t op = rng() % 8, p = rng() % MODEL_PAGES;
		uint32_t n = 1 + rng() % (MODEL_PAGES - p);
		uint32_t t = all_types[rng() % ARRAY_SIZE(all_types)];
		uint64_t base = origin + (uint64_t)p * 0x1000, out = 0;
		int rc;

		if (op < 4) {
			/* Skew towards usable so allocations find something. */
			if (op < 2)
				t = MEM_USABLE;
			CHECK_EQ(memmap_add(&map, base, (uint64_t)n * 0x1000, t), 0);
			for (uint32_t k = p; k < p + n; k++)
				model[k] = model[k] ? winner(model[k], t) : t;
		} else if (op < 6) {
			CHECK_EQ(memmap_set(&map, base, (uint64_t)n * 0x1000, t), 0);
			for (uint32_t k = p; k < p + n; k++)
				model[k] = t;
		} else {
			uint32_t size = 1 + rng() % 4, align = 1u << (rng() % 3);
			uint32_t lo = rng() % MODEL_PAGES, hi = lo + rng() % (MODEL_PAGES - lo + 1);
			bool high = op == 6;
			int want = model_find(size, align, high ? 0 : lo, hi, high);

			if (high)
				rc = memmap_alloc(&map, (uint64_t)size * 0x1000,
						  (uint64_t)align * 0x1000,
						  origin + (uint64_t)hi * 0x1000, MEM_KEEL, &out);
			else
				rc = memmap_alloc_low(
					&map, (uint64_t)size * 0x1000, (uint64_t)align * 0x1000,
					origin + (uint64_t)lo * 0x1000,
					origin + (uint64_t)hi * 0x1000, MEM_KEEL, &out);
			/* hi == MODEL_PAGES at the top of memory is limit 0: no limit, same result. */
			if (want < 0) {
				CHECK_EQ(rc, -ENOMEM);
			} else {
				CHECK_EQ(rc, 0);
				CHECK_EQ(out, origin + (uint64_t)want * 0x1000);
				for (uint32_t k = 0; k < size; k++)
					model[want + k] = MEM_KEEL;
			}
		}
		if (!valid(&map) || !map_matches_model(origin)) {
			printf("  random run (origin 0x%llx seed %llu) diverged at step %d, op "
			       "%u\n",
			       (unsigned long long)origin, (unsigned long long)seed, step, op);
			test_failed_checks++;
			return;
		}
	}
}

TEST(test_random_against_model)
{
	/* origin 0 keeps the addresses aligned for every alignment used. */
	random_run(0, 0x9e3779b97f4a7c15ull);
	random_run(0, 12345);
	random_run(0x100000000ull, 777);
	random_run(0 - (uint64_t)MODEL_PAGES * 0x1000, 42);
	random_run(0 - (uint64_t)MODEL_PAGES * 0x1000, 4242);
}

TEST(test_type_names)
{
	CHECK_STR(memmap_type_name(MEM_USABLE), "usable");
	CHECK_STR(memmap_type_name(MEM_RESERVED), "reserved");
	CHECK_STR(memmap_type_name(MEM_ACPI_RECLAIM), "acpi-reclaim");
	CHECK_STR(memmap_type_name(MEM_ACPI_NVS), "acpi-nvs");
	CHECK_STR(memmap_type_name(MEM_UNUSABLE), "unusable");
	CHECK_STR(memmap_type_name(MEM_PERSISTENT), "persistent");
	CHECK_STR(memmap_type_name(MEM_KEEL), "keel");
	CHECK_STR(memmap_type_name(MEM_BOOT_MODULE), "boot-module");
	CHECK_STR(memmap_type_name(MEM_EFI_RUNTIME), "efi-runtime");
	CHECK_STR(memmap_type_name(6), "unknown");
	CHECK_STR(memmap_type_name(0), "unknown");
}

TEST(test_unknown_type_ranks_as_reserved)
{
	memmap_init(&map);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, 12), 0);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);
	CHECK_EQ(memmap_type_at(&map, 0x1000), 12);
	CHECK_EQ(memmap_add(&map, 0x1000, 0x1000, MEM_UNUSABLE), 0);
	CHECK_EQ(memmap_type_at(&map, 0x1000), MEM_UNUSABLE);
}

TEST_MAIN(TEST_CASE(test_empty), TEST_CASE(test_add_single), TEST_CASE(test_reject_bad_ranges),
	  TEST_CASE(test_range_to_2_64), TEST_CASE(test_priority_pairs),
	  TEST_CASE(test_split_and_merge), TEST_CASE(test_alloc_high), TEST_CASE(test_alloc_args),
	  TEST_CASE(test_alloc_high_alignment_misses), TEST_CASE(test_alloc_low),
	  TEST_CASE(test_full_map), TEST_CASE(test_full_map_grow_then_shrink),
	  TEST_CASE(test_random_against_model), TEST_CASE(test_type_names),
	  TEST_CASE(test_unknown_type_ranks_as_reserved))
