// SPDX-License-Identifier: MIT
/* Unit tests for boot/multiboot2.c and hv/bootinfo.c. */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/bootinfo.h>
#include <keel/multiboot2.h>

#define MBI_PHYS 0x10000ull

/* The MBI under construction; 8-byte aligned storage, optionally used at an offset. */
static uint64_t mbi_store[8192];
static uint8_t *mbi;
static uint32_t mbi_len;

static struct boot_info bi;
static char err[160];

static void mbi_begin(size_t misalign)
{
	memset(mbi_store, 0xcc, sizeof(mbi_store));
	mbi = (uint8_t *)mbi_store + misalign;
	mbi_len = 8;
	memset(mbi, 0, 8);
}

static void put32(uint32_t off, uint32_t v)
{
	memcpy(mbi + off, &v, 4);
}

static void put64(uint32_t off, uint64_t v)
{
	memcpy(mbi + off, &v, 8);
}

/* Append a tag of the given type with payload; returns the tag's offset. Pads to 8. */
static uint32_t tag(uint32_t type, const void *payload, uint32_t len)
{
	uint32_t off = mbi_len;

	put32(off, type);
	put32(off + 4, 8 + len);
	if (len)
		memcpy(mbi + off + 8, payload, len);
	mbi_len += 8 + len;
	while (mbi_len % 8)
		mbi[mbi_len++] = 0;
	return off;
}

static void mbi_end(void)
{
	tag(MB2_TAG_END, NULL, 0);
	put32(0, mbi_len);
}

static uint32_t tag_str(uint32_t type, const char *s)
{
	return tag(type, s, (uint32_t)strlen(s) + 1);
}

static void tag_module(uint32_t start, uint32_t end, const char *s)
{
	uint8_t buf[1024];
	uint32_t n = (uint32_t)strlen(s) + 1;

	memcpy(buf, &start, 4);
	memcpy(buf + 4, &end, 4);
	memcpy(buf + 8, s, n);
	tag(MB2_TAG_MODULE, buf, 8 + n);
}

static void tag_meminfo(uint32_t lower, uint32_t upper)
{
	uint32_t b[2] = { lower, upper };

	tag(MB2_TAG_BASIC_MEMINFO, b, 8);
}

struct e820 {
	uint64_t base, len;
	uint32_t type;
};

/* A memory map tag with entries entry_size bytes apart. */
static void tag_mmap(const struct e820 *e, int n, uint32_t entry_size)
{
	uint8_t buf[4096];
	uint32_t hdr[2] = { entry_size, 0 };

	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, hdr, 8);
	for (int i = 0; i < n; i++) {
		uint8_t *p = buf + 8 + (size_t)i * entry_size;
		uint32_t zero = 0;

		memcpy(p, &e[i].base, 8);
		memcpy(p + 8, &e[i].len, 8);
		memcpy(p + 16, &e[i].type, 4);
		memcpy(p + 20, &zero, 4);
	}
	tag(MB2_TAG_MMAP, buf, 8 + (uint32_t)n * entry_size);
}

static void tag_fb(uint8_t fb_type, bool with_colour)
{
	uint8_t buf[32] = { 0 };
	uint64_t addr = 0xfd000000;
	uint32_t pitch = 4096, width = 1024, height = 768;

	memcpy(buf, &addr, 8);
	memcpy(buf + 8, &pitch, 4);
	memcpy(buf + 12, &width, 4);
	memcpy(buf + 16, &height, 4);
	buf[20] = 32;
	buf[21] = fb_type;
	/* buf[22..23] reserved; colour info at 24 (tag offset 32) */
	buf[24] = 16, buf[25] = 8, buf[26] = 8, buf[27] = 8, buf[28] = 0, buf[29] = 8;
	tag(MB2_TAG_FRAMEBUFFER, buf, with_colour ? 30 : 24);
}

static const char *const many_names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i",
					  "j", "k", "l", "m", "n", "o", "p", "q" };

static int parse(void)
{
	return mb2_parse(mbi, MBI_PHYS, &bi, err, sizeof(err));
}

/* Everything a UEFI GRUB hands over, in a typical order. */
TEST(test_all_tags)
{
	struct e820 mm[] = {
		{ 0, 0x9fc00, 1 },	    { 0x9fc00, 0x400, 2 },     { 0xf0000, 0x10000, 2 },
		{ 0x100000, 0x7ee0000, 1 }, { 0x7fe0000, 0x20000, 3 }, { 0xfffc0000, 0x40000, 2 },
		{ 0x100000000, 0, 1 }, /* empty: skipped */
	};
	uint8_t rsdp_old[20] = "RSD PTR old";
	uint8_t rsdp_new[36] = "RSD PTR new";
	uint64_t systab = 0x7f9ee018;
	uint8_t efi_mmap[8 + 3 * 48];
	uint32_t load_base = 0x200000;
	uint32_t new_off, efi_off;

	mbi_begin(0);
	tag_str(MB2_TAG_CMDLINE, "console=ttyS0 loglevel=7");
	tag_str(MB2_TAG_LOADER_NAME, "GRUB 2.06");
	tag_module(0x1000000, 0x1800123, "/boot/vmlinuz-6.1 vmlinuz");
	tag_module(0x1801000, 0x1900000, "initrd.img");
	tag_meminfo(639, 130048);
	tag(MB2_TAG_BOOTDEV, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0", 12);
	tag_mmap(mm, 7, 24);
	tag_fb(1, true);
	tag(MB2_TAG_EFI64, &systab, 8);
	tag(MB2_TAG_ACPI_OLD, rsdp_old, 20);
	new_off = tag(MB2_TAG_ACPI_NEW, rsdp_new, 36);
	memset(efi_mmap, 0, sizeof(efi_mmap));
	uint32_t dsz = 48, dver = 1; /* descriptor size and version precede the descriptors */
	memcpy(efi_mmap, &dsz, 4);
	memcpy(efi_mmap + 4, &dver, 4);
	efi_off = tag(MB2_TAG_EFI_MMAP, efi_mmap, sizeof(efi_mmap));
	tag(MB2_TAG_EFI_BS, NULL, 0);
	tag(MB2_TAG_LOAD_BASE_ADDR, &load_base, 4);
	tag(0x1234, "future tag", 10); /* unknown types are skipped */
	mbi_end();

	CHECK_EQ(parse(), 0);
	CHECK_STR(err, "");
	CHECK_EQ(bi.source, BOOT_SOURCE_MB2);
	CHECK_STR(bi.cmdline, "console=ttyS0 loglevel=7");
	CHECK_STR(bi.loader_name, "GRUB 2.06");
	CHECK_EQ(bi.nr_modules, 2);
	CHECK_EQ(bi.modules[0].base, 0x1000000);
	CHECK_EQ(bi.modules[0].size, 0x800123);
	CHECK_STR(bi.modules[0].name, "/boot/vmlinuz-6.1 vmlinuz");
	CHECK_EQ(bi.modules[1].base, 0x1801000);
	CHECK_EQ(bi.modules[1].size, 0xff000);
	CHECK_STR(bi.modules[1].name, "initrd.img");

	/* The memory map tag wins over basic meminfo; empty entries are dropped. */
	CHECK_EQ(bi.nr_mmap, 6);
	CHECK_EQ(bi.mmap[0].base, 0);
	CHECK_EQ(bi.mmap[0].size, 0x9fc00);
	CHECK_EQ(bi.mmap[0].type, MEM_USABLE);
	CHECK_EQ(bi.mmap[1].type, MEM_RESERVED);
	CHECK_EQ(bi.mmap[3].base, 0x100000);
	CHECK_EQ(bi.mmap[3].size, 0x7ee0000);
	CHECK_EQ(bi.mmap[4].type, MEM_ACPI_RECLAIM);
	CHECK_EQ(bi.mmap[5].base, 0xfffc0000);

	CHECK_EQ(bi.fb.base, 0xfd000000);
	CHECK_EQ(bi.fb.pitch, 4096);
	CHECK_EQ(bi.fb.width, 1024);
	CHECK_EQ(bi.fb.height, 768);
	CHECK_EQ(bi.fb.bpp, 32);
	CHECK_EQ(bi.fb.red_pos, 16);
	CHECK_EQ(bi.fb.red_size, 8);
	CHECK_EQ(bi.fb.green_pos, 8);
	CHECK_EQ(bi.fb.green_size, 8);
	CHECK_EQ(bi.fb.blue_pos, 0);
	CHECK_EQ(bi.fb.blue_size, 8);

	CHECK_EQ(bi.efi_systab, 0x7f9ee018);
	/* The new ACPI tag wins; the address is that of the RSDP copy inside the MBI. */
	CHECK_EQ(bi.rsdp, MBI_PHYS + new_off + 8);
	CHECK(memcmp(mbi + (bi.rsdp - MBI_PHYS), "RSD PTR new", 11) == 0);
	CHECK_EQ(bi.efi_mmap, MBI_PHYS + efi_off + 16);
	CHECK_EQ(bi.efi_mmap_size, 3 * 48);
	CHECK_EQ(bi.efi_mmap_desc_size, 48);
	CHECK_EQ(bi.efi_mmap_desc_version, 1);
	CHECK_EQ(bi.trampoline_page, 0);
}

TEST(test_acpi_tag_order)
{
	uint8_t rsdp_old[20] = "RSD PTR old";
	uint8_t rsdp_new[36] = "RSD PTR new";
	struct e820 mm[] = { { 0, 0xa0000, 1 } };
	uint32_t off;

	/* New before old: new still wins. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	off = tag(MB2_TAG_ACPI_NEW, rsdp_new, 36);
	tag(MB2_TAG_ACPI_OLD, rsdp_old, 20);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.rsdp, MBI_PHYS + off + 8);

	/* Only old. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	off = tag(MB2_TAG_ACPI_OLD, rsdp_old, 20);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.rsdp, MBI_PHYS + off + 8);

	/* Neither. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.rsdp, 0);
	CHECK_EQ(bi.efi_systab, 0);
	CHECK_EQ(bi.efi_mmap, 0);
	CHECK_EQ(bi.fb.base, 0);

	/* Too short to hold an RSDP. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_ACPI_OLD, rsdp_old, 12);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "RSDP");
}

TEST(test_misaligned_mbi)
{
	struct e820 mm[] = { { 0, 0x9fc00, 1 }, { 0x100000, 0x1000000, 1 } };
	uint64_t systab = 0x1234;

	/* The spec requires 8-byte alignment, but reads must not depend on it. */
	mbi_begin(3);
	tag_str(MB2_TAG_CMDLINE, "x");
	tag_mmap(mm, 2, 24);
	tag(MB2_TAG_EFI64, &systab, 8);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nr_mmap, 2);
	CHECK_EQ(bi.mmap[1].size, 0x1000000);
	CHECK_EQ(bi.efi_systab, 0x1234);
}

TEST(test_mmap_types_and_stride)
{
	struct e820 mm[] = {
		{ 0x0000, 0x1000, 1 },	{ 0x1000, 0x1000, 1 }, /* adjacent usable: merged */
		{ 0x2000, 0x1000, 2 },	{ 0x3000, 0x1000, 3 }, { 0x4000, 0x1000, 4 },
		{ 0x5000, 0x1000, 5 },	{ 0x6000, 0x1000, 6 }, { 0x7000, 0x1000, 7 },
		{ 0x8000, 0x1000, 12 }, { 0x9000, 0x1000, 0 }, { 0xa000, 0, 5 },
	};
	uint32_t want[] = { MEM_USABLE,	  MEM_RESERVED, MEM_ACPI_RECLAIM, MEM_ACPI_NVS,
			    MEM_UNUSABLE, MEM_RESERVED, MEM_PERSISTENT,	  MEM_RESERVED };

	/* A larger entry_size than 24 (allowed by section 3.6.8): entries are strided. */
	mbi_begin(0);
	tag_mmap(mm, 11, 32);
	mbi_end();
	CHECK_EQ(parse(), 0);
	/* 0x8000 (12) and 0x9000 (0) are both reserved and adjacent: merged too. */
	CHECK_EQ(bi.nr_mmap, 8);
	CHECK_EQ(bi.mmap[0].size, 0x2000);
	for (uint32_t i = 0; i < 8; i++)
		CHECK_EQ(bi.mmap[i].type, want[i]);
	CHECK_EQ(bi.mmap[7].base, 0x8000);
	CHECK_EQ(bi.mmap[7].size, 0x2000);

	/* entry_size below the entry layout is malformed. */
	mbi_begin(0);
	tag_mmap(mm, 2, 16);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "entry_size 16");

	/* A wrapping entry is malformed. */
	struct e820 wrap[] = { { 0xfffffffffffff000ull, 0x2000, 2 } };
	mbi_begin(0);
	tag_mmap(wrap, 1, 24);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "wraps");

	/* One ending exactly at 2^64 is fine. */
	wrap[0].len = 0x1000;
	mbi_begin(0);
	tag_mmap(wrap, 1, 24);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.mmap[0].size, 0x1000);
}

TEST(test_mmap_overflow)
{
	static struct e820 mm[BOOT_MMAP_MAX + 4];

	for (int i = 0; i < BOOT_MMAP_MAX + 4; i++) {
		mm[i].base = (uint64_t)i * 0x2000; /* holes between: no merging */
		mm[i].len = 0x1000;
		mm[i].type = 1;
	}
	mbi_begin(0);
	/* Built by hand: tag_mmap's buffer is too small for this many. */
	uint32_t off = mbi_len, n = BOOT_MMAP_MAX + 4;
	put32(off, MB2_TAG_MMAP);
	put32(off + 4, 16 + 24 * n);
	put32(off + 8, 24);
	put32(off + 12, 0);
	for (uint32_t i = 0; i < n; i++) {
		put64(off + 16 + 24 * i, mm[i].base);
		put64(off + 24 + 24 * i, mm[i].len);
		put32(off + 32 + 24 * i, mm[i].type);
		put32(off + 36 + 24 * i, 0);
	}
	mbi_len += 16 + 24 * n;
	mbi_end();
	CHECK_EQ(parse(), -E2BIG);
	CHECK_CONTAINS(err, "more than 256");
	CHECK_EQ(bi.nr_mmap, BOOT_MMAP_MAX);
	CHECK_EQ(bi.mmap[BOOT_MMAP_MAX - 1].base, (uint64_t)(BOOT_MMAP_MAX - 1) * 0x2000);
}

TEST(test_meminfo_fallback)
{
	mbi_begin(0);
	tag_str(MB2_TAG_CMDLINE, "");
	tag_meminfo(639, 523264); /* 639 KiB low, 511 MiB above 1 MiB */
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "");
	CHECK_EQ(bi.nr_mmap, 2);
	CHECK_EQ(bi.mmap[0].base, 0);
	CHECK_EQ(bi.mmap[0].size, 639 * 1024);
	CHECK_EQ(bi.mmap[0].type, MEM_USABLE);
	CHECK_EQ(bi.mmap[1].base, 0x100000);
	CHECK_EQ(bi.mmap[1].size, 523264ull * 1024);
	CHECK_EQ(bi.mmap[1].type, MEM_USABLE);

	/* A memory map tag with only empty entries falls back too. */
	struct e820 empty[] = { { 0x1000, 0, 1 } };
	mbi_begin(0);
	tag_mmap(empty, 1, 24);
	tag_meminfo(0, 1024);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.nr_mmap, 1);
	CHECK_EQ(bi.mmap[0].base, 0x100000);
	CHECK_EQ(bi.mmap[0].size, 0x100000);
}

TEST(test_no_memory_map)
{
	mbi_begin(0);
	tag_str(MB2_TAG_CMDLINE, "quiet");
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "no memory map");

	/* A basic meminfo tag with zero sizes gives no memory either. */
	mbi_begin(0);
	tag_meminfo(0, 0);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "no memory map");
}

TEST(test_bad_total_size)
{
	mbi_begin(0);
	put32(0, 8);
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "total_size 8");
	CHECK_EQ(bi.source, BOOT_SOURCE_MB2);

	mbi_begin(0);
	put32(0, 0);
	CHECK_EQ(parse(), -EINVAL);
}

TEST(test_truncated_tag)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	/* A tag claiming fewer than 8 bytes. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	put32(mbi_len, MB2_TAG_CMDLINE);
	put32(mbi_len + 4, 4);
	mbi_len += 8;
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "size below 8");

	/* Fixed-size tags shorter than their fields. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_MODULE, "\0\0\0\0", 4);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "tag type 3");

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_EFI64, "\0\0\0\0", 4);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_BASIC_MEMINFO, "\0\0\0\0", 4);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);

	mbi_begin(0);
	tag(MB2_TAG_MMAP, "\0\0\0\0", 4);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_EFI_MMAP, "\x08\0\0\0\x01\0\0\0", 8); /* descriptor size 8 */
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "descriptor size 8");

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag(MB2_TAG_FRAMEBUFFER, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);

	/* Direct RGB without the colour fields. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_fb(1, false);
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "direct RGB");

	/* mod_end below mod_start. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_module(0x2000, 0x1000, "x");
	mbi_end();
	CHECK_EQ(parse(), -EINVAL);
}

TEST(test_tag_past_total_size)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	uint32_t off = tag_str(MB2_TAG_CMDLINE, "hello");
	mbi_end();
	put32(off + 4, mbi_len); /* the cmdline now claims to run far past the end */
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "runs past total_size");

	/* total_size cutting the END tag in half. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	mbi_end();
	put32(0, mbi_len - 4);
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "header runs past total_size");
}

TEST(test_missing_end)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_str(MB2_TAG_CMDLINE, "no end");
	put32(0, mbi_len);
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "no END tag");

	/* The last tag's padding reaching past total_size: no room for END either. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	uint32_t off = tag_str(MB2_TAG_CMDLINE, "abc"); /* size 12, padded to 16 */
	put32(0, off + 12);
	CHECK_EQ(parse(), -EINVAL);
	CHECK_CONTAINS(err, "no END tag");
}

TEST(test_strings_truncated)
{
	char longline[700];
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_str(MB2_TAG_CMDLINE, longline);
	tag_str(MB2_TAG_LOADER_NAME, longline);
	tag_module(0x100000, 0x200000, longline);
	/* A string without its NUL: bounded by the tag, not by the padding after it. */
	uint32_t off = tag(MB2_TAG_CMDLINE, "unterminated", 12);
	mbi[off + 20] = 'Z';
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_STR(bi.cmdline, "unterminated"); /* the later tag replaces the earlier */
	CHECK_EQ(strlen(bi.loader_name), BOOT_LOADER_NAME_MAX - 1);
	CHECK_EQ(strlen(bi.modules[0].name), BOOT_MODULE_NAME_MAX - 1);

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_str(MB2_TAG_CMDLINE, longline);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(bi.cmdline[0] == 'x');
}

TEST(test_too_many_modules)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	for (uint32_t i = 0; i < ARRAY_SIZE(many_names); i++)
		tag_module(0x1000000 + 0x1000 * i, 0x1000800 + 0x1000 * i, many_names[i]);
	mbi_end();
	CHECK_EQ(ARRAY_SIZE(many_names), BOOT_MODULES_MAX + 1);
	CHECK_EQ(parse(), -E2BIG);
	CHECK_CONTAINS(err, "more than 16 modules");
	CHECK_EQ(bi.nr_modules, BOOT_MODULES_MAX);
	CHECK_STR(bi.modules[15].name, "p");
	CHECK_EQ(bi.nr_mmap, 1); /* the rest was still parsed */
}

TEST(test_framebuffer_types)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	/* Indexed colour: dimensions, but no RGB layout. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_fb(0, true);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.fb.base, 0xfd000000);
	CHECK_EQ(bi.fb.width, 1024);
	CHECK_EQ(bi.fb.red_size, 0);
	CHECK_EQ(bi.fb.red_pos, 0);
	CHECK_EQ(bi.fb.green_size, 0);

	/* EGA text with no colour info at all. */
	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_fb(2, false);
	mbi_end();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(bi.fb.base, 0xfd000000);
	CHECK_EQ(bi.fb.blue_size, 0);
}

TEST(test_efi_types)
{
	static const uint32_t want[] = {
		MEM_RESERVED,
		MEM_USABLE,
		MEM_USABLE,
		MEM_USABLE,
		MEM_USABLE,
		MEM_EFI_RUNTIME,
		MEM_EFI_RUNTIME,
		MEM_USABLE,
		MEM_UNUSABLE,
		MEM_ACPI_RECLAIM,
		MEM_ACPI_NVS,
		0,
		0,
		MEM_RESERVED,
		MEM_PERSISTENT,
		MEM_RESERVED,
	};

	for (uint32_t t = 0; t < ARRAY_SIZE(want); t++)
		CHECK_EQ(efi_mem_type_to_keel(t), want[t]);
	CHECK_EQ(efi_mem_type_to_keel(0x70000000), MEM_RESERVED); /* OEM range */
	CHECK_EQ(efi_mem_type_to_keel(0x80000000), MEM_RESERVED); /* OS loader range */
	CHECK_EQ(efi_mem_type_to_keel(UINT32_MAX), MEM_RESERVED);
}

static void set_module(int i, const char *name)
{
	memset(bi.modules[i].name, 0, sizeof(bi.modules[i].name));
	strcpy(bi.modules[i].name, name);
}

TEST(test_find_module)
{
	memset(&bi, 0, sizeof(bi));
	set_module(0, "/boot/keel/vmlinuz");
	set_module(1, "initrd.img");
	set_module(2, "\\EFI\\keel\\keel.cfg");
	set_module(3, "vmlinuz");
	bi.nr_modules = 4;

	/* Exact match first, even when an earlier module matches by file name only. */
	CHECK(boot_find_module(&bi, "vmlinuz") == &bi.modules[3]);
	CHECK(boot_find_module(&bi, "/boot/keel/vmlinuz") == &bi.modules[0]);
	/* Last path component, on either side, with either separator. */
	CHECK(boot_find_module(&bi, "/other/dir/initrd.img") == &bi.modules[1]);
	CHECK(boot_find_module(&bi, "keel.cfg") == &bi.modules[2]);
	CHECK(boot_find_module(&bi, "\\keel.cfg") == &bi.modules[2]);
	CHECK(boot_find_module(&bi, "EFI/keel/keel.cfg") == &bi.modules[2]);
	/* No match. */
	CHECK(boot_find_module(&bi, "keel") == NULL);
	CHECK(boot_find_module(&bi, "initrd") == NULL);
	CHECK(boot_find_module(&bi, "initrd.img.gz") == NULL);
	CHECK(boot_find_module(&bi, "/boot/") == NULL);
	CHECK(boot_find_module(&bi, "") == NULL);
	CHECK(boot_find_module(&bi, NULL) == NULL);
	CHECK(boot_find_module(NULL, "vmlinuz") == NULL);
	/* Only the first nr_modules count. */
	bi.nr_modules = 3;
	CHECK(boot_find_module(&bi, "vmlinuz") == &bi.modules[0]);
	bi.nr_modules = 0;
	CHECK(boot_find_module(&bi, "vmlinuz") == NULL);

	/* A name filling the whole field without a NUL is still compared safely. */
	memset(bi.modules[0].name, 'a', sizeof(bi.modules[0].name));
	bi.nr_modules = 1;
	CHECK(boot_find_module(&bi, "a") == NULL);
}

TEST(test_find_module_after_parse)
{
	struct e820 mm[] = { { 0, 0xa0000, 1 } };

	mbi_begin(0);
	tag_mmap(mm, 1, 24);
	tag_module(0x1000000, 0x1100000, "/boot/bzImage");
	tag_module(0x1100000, 0x1200000, "/boot/keel.cfg");
	mbi_end();
	CHECK_EQ(parse(), 0);
	const struct boot_module *m = boot_find_module(&bi, "keel.cfg");
	CHECK(m == &bi.modules[1]);
	CHECK(m && m->base == 0x1100000);
}

TEST_MAIN(TEST_CASE(test_all_tags), TEST_CASE(test_acpi_tag_order), TEST_CASE(test_misaligned_mbi),
	  TEST_CASE(test_mmap_types_and_stride), TEST_CASE(test_mmap_overflow),
	  TEST_CASE(test_meminfo_fallback), TEST_CASE(test_no_memory_map),
	  TEST_CASE(test_bad_total_size), TEST_CASE(test_truncated_tag),
	  TEST_CASE(test_tag_past_total_size), TEST_CASE(test_missing_end),
	  TEST_CASE(test_strings_truncated), TEST_CASE(test_too_many_modules),
	  TEST_CASE(test_framebuffer_types), TEST_CASE(test_efi_types), TEST_CASE(test_find_module),
	  TEST_CASE(test_find_module_after_parse))
