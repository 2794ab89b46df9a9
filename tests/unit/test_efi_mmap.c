// SPDX-License-Identifier: MIT
/* Unit tests for hv/efi_mmap.c: the host's EFI memory map, cut down to its RAM. */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/efi_mmap.h>

#define DESC 48 /* OVMF's descriptor size: 40 bytes and padding */
#define PG 4096ull

struct md {
	uint32_t type;
	uint64_t start, pages, attr, virt;
};

static uint8_t src[64 * DESC], dst[64 * DESC];

static size_t put(const struct md *m, size_t n)
{
	memset(src, 0xa5, sizeof(src)); /* the padding must travel unchanged */
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = src + i * DESC;

		memcpy(d + EFI_MD_TYPE, &m[i].type, 4);
		memset(d + 4, 0, 4);
		memcpy(d + EFI_MD_PHYS_START, &m[i].start, 8);
		memcpy(d + EFI_MD_VIRT_START, &m[i].virt, 8);
		memcpy(d + EFI_MD_NR_PAGES, &m[i].pages, 8);
		memcpy(d + EFI_MD_ATTRIBUTE, &m[i].attr, 8);
	}
	return n * DESC;
}

static struct md get(size_t i)
{
	const uint8_t *d = dst + i * DESC;
	struct md m;

	memcpy(&m.type, d + EFI_MD_TYPE, 4);
	memcpy(&m.start, d + EFI_MD_PHYS_START, 8);
	memcpy(&m.virt, d + EFI_MD_VIRT_START, 8);
	memcpy(&m.pages, d + EFI_MD_NR_PAGES, 8);
	memcpy(&m.attr, d + EFI_MD_ATTRIBUTE, 8);
	return m;
}

#define CHECK_MD(i, t, s, e)                                                                       \
	do {                                                                                       \
		struct md _m = get(i);                                                             \
		CHECK_EQ(_m.type, t);                                                              \
		CHECK_EQ(_m.start, s);                                                             \
		CHECK_EQ(_m.start + _m.pages * PG, e);                                             \
	} while (0)

/* RAM of a host beside a guest partition and Keel, as build_host_e820() gives it. */
static const struct boot_mmap_entry ram[] = {
	{ .base = 0, .size = 0x9f000, .type = MEM_USABLE },
	{ .base = 0x9f000, .size = 0x1000, .type = MEM_RESERVED },	  /* Keel's trampoline */
	{ .base = 0x100000, .size = 0x6c300000, .type = MEM_USABLE },	  /* to 0x6c400000 */
	{ .base = 0x6c400000, .size = 0x11000000, .type = MEM_RESERVED }, /* guest, Keel */
	{ .base = 0x7d400000, .size = 0x100000, .type = MEM_USABLE },	  /* to 0x7d500000 */
	{ .base = 0x7f000000, .size = 0x1000000, .type = MEM_ACPI_NVS },
};

TEST(test_free_ranges_cut_to_ram)
{
	struct md m[] = {
		{ EFI_CONVENTIONAL_MEMORY, 0x0, 0x9f, 0xf, 0 },
		{ EFI_BOOT_SERVICES_DATA, 0x9f000, 1, 0xf, 0 },
		/* Conventional memory over the host's RAM, the guest, Keel and RAM again. */
		{ EFI_CONVENTIONAL_MEMORY, 0x100000, (0x7e000000 - 0x100000) / PG, 0xf, 0 },
		{ 5 /* runtime services code */, 0x7e000000, 0x100, 0x800000000000000full,
		  0x1234000 },
	};
	size_t out = 0;

	CHECK_EQ(efi_mmap_clip(src, put(m, 4), DESC, ram, 6, dst, sizeof(dst), &out), 0);
	CHECK_EQ(out, 7 * DESC);
	CHECK_MD(0, EFI_CONVENTIONAL_MEMORY, 0x0, 0x9f000);
	CHECK_MD(1, EFI_RESERVED_MEMORY_TYPE, 0x9f000, 0xa0000); /* not the host's */
	CHECK_MD(2, EFI_CONVENTIONAL_MEMORY, 0x100000, 0x6c400000);
	CHECK_MD(3, EFI_RESERVED_MEMORY_TYPE, 0x6c400000, 0x7d400000);
	CHECK_MD(4, EFI_CONVENTIONAL_MEMORY, 0x7d400000, 0x7d500000);
	CHECK_MD(5, EFI_RESERVED_MEMORY_TYPE, 0x7d500000, 0x7e000000);
	/* Runtime ranges are the firmware's: as they were, virtual address and attributes too. */
	CHECK_MD(6, 5, 0x7e000000, 0x7e100000);
	CHECK_EQ(get(6).virt, 0x1234000);
	CHECK_EQ(get(6).attr, 0x800000000000000full);
	/* Pieces keep their descriptor's attributes and padding. */
	CHECK_EQ(get(2).attr, 0xf);
	CHECK_EQ(get(3).attr, 0xf);
	CHECK_EQ(dst[2 * DESC + 44], 0xa5);
	CHECK_EQ(dst[3 * DESC + 47], 0xa5);
}

TEST(test_nothing_free_outside_ram)
{
	/* Whatever the map, no free descriptor of the result reaches outside the RAM list. */
	struct md m[] = {
		{ EFI_LOADER_CODE, 0x6c000000, 0x1000, 0, 0 },
		{ EFI_LOADER_DATA, 0x7d3ff000, 0x3, 0, 0 },
		{ EFI_BOOT_SERVICES_CODE, 0x7d4ff000, 0x2, 0, 0 },
		{ 6 /* runtime services data */, 0x6d000000, 0x10, 0, 0 },
		{ 10 /* ACPI NVS */, 0x7f000000, 0x10, 0, 0 },
	};
	size_t out = 0;

	CHECK_EQ(efi_mmap_clip(src, put(m, 5), DESC, ram, 6, dst, sizeof(dst), &out), 0);
	for (size_t i = 0; i < out / DESC; i++) {
		struct md r = get(i);
		bool in_ram = false;

		if (r.type < 1 || r.type > 7 || r.type == 5 || r.type == 6)
			continue;
		for (size_t k = 0; k < 6; k++)
			if (ram[k].type == MEM_USABLE && r.start >= ram[k].base &&
			    r.start + r.pages * PG <= ram[k].base + ram[k].size)
				in_ram = true;
		CHECK(in_ram);
	}
	/* And the pieces cover exactly what the firmware listed, in order. */
	CHECK_MD(0, EFI_LOADER_CODE, 0x6c000000, 0x6c400000);
	CHECK_MD(1, EFI_RESERVED_MEMORY_TYPE, 0x6c400000, 0x6d000000);
	CHECK_MD(2, EFI_RESERVED_MEMORY_TYPE, 0x7d3ff000, 0x7d400000);
	CHECK_MD(3, EFI_LOADER_DATA, 0x7d400000, 0x7d402000);
	CHECK_MD(4, EFI_BOOT_SERVICES_CODE, 0x7d4ff000, 0x7d500000);
	CHECK_MD(5, EFI_RESERVED_MEMORY_TYPE, 0x7d500000, 0x7d501000);
	CHECK_MD(6, 6, 0x6d000000, 0x6d010000);
	CHECK_MD(7, 10, 0x7f000000, 0x7f010000);
	CHECK_EQ(out, 8 * DESC);
}

TEST(test_errors)
{
	struct md m[] = { { EFI_CONVENTIONAL_MEMORY, 0x0, 0x7e000, 0, 0 } };
	size_t out = 0, n = put(m, 1);

	CHECK_EQ(efi_mmap_clip(src, n, 24, ram, 6, dst, sizeof(dst), &out), -EINVAL);
	CHECK_EQ(efi_mmap_clip(src, n, 44, ram, 6, dst, sizeof(dst), &out), -EINVAL);
	/* One descriptor cut into five pieces does not fit in four. */
	CHECK_EQ(efi_mmap_clip(src, n, DESC, ram, 6, dst, 4 * DESC, &out), -ENOSPC);
	/* The bound the caller allocates by always suffices. */
	CHECK_EQ(efi_mmap_clip(src, n, DESC, ram, 6, dst, efi_mmap_clip_cap(1, 6, DESC), &out), 0);
	CHECK(out <= efi_mmap_clip_cap(1, 6, DESC));
}

TEST_MAIN(TEST_CASE(test_free_ranges_cut_to_ram), TEST_CASE(test_nothing_free_outside_ram),
	  TEST_CASE(test_errors))
