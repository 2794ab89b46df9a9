// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/multiboot1.c: the header scan, ELF32 and a.out-kludge
 * loading, the information structure and memory map, module placement,
 * and the errors for malformed images and images that do not fit. Guest
 * RAM is a buffer; gpa_to_hva() refuses anything outside it.
 */
#include "test.h"

#include <keel/errno.h>
#include <keel/multiboot1.h>

#define RAM_SIZE (16u << 20)

static uint8_t *ram;
static char err[256];

static void *g2h(void *ctx, uint64_t gpa, uint64_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, 4);
	return v;
}

static void header(uint8_t *p, uint32_t flags)
{
	put32(p, MB1_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MB1_HEADER_MAGIC + flags));
}

struct elf_seg {
	uint32_t paddr, vaddr, offset, filesz, memsz;
};

/* An ELF32 i386 executable: program headers at 0x34, segments as given, header at hdr_off. */
static size_t make_elf(uint8_t *img, size_t size, const struct elf_seg *segs, int n, uint32_t entry,
		       uint32_t hdr_off, uint32_t flags)
{
	memset(img, 0, size);
	memcpy(img, "\177ELF", 4);
	img[4] = 1; /* ELFCLASS32 */
	img[5] = 1; /* little-endian */
	img[6] = 1;
	img[16] = 2; /* ET_EXEC */
	img[18] = 3; /* EM_386 */
	put32(img + 20, 1);
	put32(img + 24, entry);
	put32(img + 28, 0x34); /* e_phoff */
	img[40] = 0x34;	       /* e_ehsize */
	img[42] = 32;	       /* e_phentsize */
	img[44] = (uint8_t)n;  /* e_phnum */
	for (int i = 0; i < n; i++) {
		uint8_t *ph = img + 0x34 + 32 * i;

		put32(ph, 1); /* PT_LOAD */
		put32(ph + 4, segs[i].offset);
		put32(ph + 8, segs[i].vaddr);
		put32(ph + 12, segs[i].paddr);
		put32(ph + 16, segs[i].filesz);
		put32(ph + 20, segs[i].memsz);
		put32(ph + 24, 5);
		put32(ph + 28, 0x1000);
	}
	header(img + hdr_off, flags);
	return size;
}

static uint8_t elf[0x3000];

/* The usual kernel: text at 1 MiB (file 0x1000), data+bss at 1 MiB + 0x2000 (file 0x2000). */
static size_t usual_elf(uint32_t flags)
{
	static const struct elf_seg segs[] = {
		{ 0x100000, 0x100000, 0x1000, 0x1000, 0x1000 },
		{ 0x102000, 0x102000, 0x2000, 0x800, 0x3000 },
	};
	size_t n = make_elf(elf, sizeof(elf), segs, 2, 0x100010, 0x1000, flags);

	for (int i = 0x100c; i < 0x3000; i++)
		elf[i] = (uint8_t)(i * 7);
	return n;
}

static struct mb1_request request(const void *img, size_t size)
{
	struct mb1_request r = { 0 };

	r.image = img;
	r.image_size = size;
	r.low_ram = RAM_SIZE;
	r.gpa_to_hva = g2h;
	return r;
}

static void reset_ram(void)
{
	memset(ram, 0xcc, RAM_SIZE);
	err[0] = '\0';
}

static bool ram_untouched(void)
{
	for (size_t i = 0; i < RAM_SIZE; i++)
		if (ram[i] != 0xcc)
			return false;
	return true;
}

TEST(elf_loads_segments_and_zeroes_bss)
{
	struct mb1_request r = request(elf, usual_elf(MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO));
	struct mb1_plan plan;

	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.entry, 0x100010);
	CHECK(!plan.aout_kludge);
	CHECK_EQ(plan.load_start, 0x100000);
	CHECK_EQ(plan.load_end, 0x105000);
	CHECK(memcmp(ram + 0x100000, elf + 0x1000, 0x1000) == 0);
	CHECK(memcmp(ram + 0x102000, elf + 0x2000, 0x800) == 0);
	for (uint32_t a = 0x102800; a < 0x105000; a++)
		if (ram[a] != 0) {
			CHECK_EQ(ram[a], 0);
			break;
		}
	/* Nothing written between the segments, below or far above. */
	CHECK_EQ(ram[0x101000], 0xcc);
	CHECK_EQ(ram[0xfffff], 0xcc);
}

TEST(info_structure)
{
	struct mb1_module mods[2] = {
		{ "hello module\n", 13, "mod-a.txt" },
		{ "\x01\x02\x03", 3, "b.bin arg" },
	};
	struct mb1_request r = request(elf, usual_elf(0));
	struct mb1_info info;
	struct mb1_module_entry me[2];
	struct mb1_plan plan;

	r.cmdline = "kernel.elf pass=0x10";
	r.mods = mods;
	r.nr_mods = 2;
	r.high_ram = 1ull << 30;
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	memcpy(&info, ram + plan.info, sizeof(info));
	CHECK_EQ(info.flags, MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MEM_MAP |
				     MB1_INFO_LOADER_NAME);
	CHECK_EQ(info.mem_lower, 639);
	CHECK_EQ(info.mem_upper, (RAM_SIZE - 0x100000) / 1024);
	CHECK_STR((char *)ram + info.cmdline, "kernel.elf pass=0x10");
	CHECK_STR((char *)ram + info.boot_loader_name, "Keel");

	/* Modules: page-aligned, in order, after the kernel's bss. */
	CHECK_EQ(info.mods_count, 2);
	memcpy(me, ram + info.mods_addr, sizeof(me));
	CHECK_EQ(me[0].mod_start, 0x105000);
	CHECK_EQ(me[0].mod_end, 0x105000 + 13);
	CHECK_EQ(me[1].mod_start, 0x106000);
	CHECK_EQ(me[1].mod_end, 0x106003);
	CHECK(memcmp(ram + me[0].mod_start, "hello module\n", 13) == 0);
	CHECK(memcmp(ram + me[1].mod_start, "\x01\x02\x03", 3) == 0);
	CHECK_STR((char *)ram + me[0].string, "mod-a.txt");
	CHECK_STR((char *)ram + me[1].string, "b.bin arg");
	CHECK_EQ(me[0].reserved, 0);
	/* The information comes after the last module, page-aligned. */
	CHECK_EQ(plan.info, 0x107000);
	CHECK(plan.end > plan.info && plan.end < 0x108000);

	/* The memory map: size 20 entries, RAM, the EBDA and BIOS holes, high RAM. */
	CHECK_EQ(info.mmap_length, 5 * 24);
	{
		static const uint64_t want[5][3] = {
			{ 0, 0x9fc00, 1 },
			{ 0x9fc00, 0x400, 2 },
			{ 0xf0000, 0x10000, 2 },
			{ 0x100000, RAM_SIZE - 0x100000, 1 },
			{ 1ull << 32, 1ull << 30, 1 },
		};
		for (int i = 0; i < 5; i++) {
			struct mb1_mmap_entry e;

			memcpy(&e, ram + info.mmap_addr + 24 * i, sizeof(e));
			CHECK_EQ(e.size, 20);
			CHECK_EQ(e.addr, want[i][0]);
			CHECK_EQ(e.len, want[i][1]);
			CHECK_EQ(e.type, want[i][2]);
		}
	}
}

TEST(no_cmdline_no_modules)
{
	struct mb1_request r = request(elf, usual_elf(0));
	struct mb1_plan plan;

	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK_EQ(get32(plan.info) & MB1_INFO_CMDLINE, 0);
	CHECK_EQ(get32(plan.info + 20), 0); /* mods_count */
	CHECK_EQ(plan.info, 0x105000);
}

TEST(elf_higher_half_entry_is_translated)
{
	static const struct elf_seg segs[] = {
		{ 0x200000, 0xc0200000, 0x1000, 0x1000, 0x1000 },
	};
	struct mb1_request r;
	struct mb1_plan plan;

	make_elf(elf, sizeof(elf), segs, 1, 0xc0200020, 0x1000, 0);
	r = request(elf, sizeof(elf));
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.entry, 0x200020);
}

TEST(elf_may_load_below_640k)
{
	static const struct elf_seg segs[] = {
		{ 0x8000, 0x8000, 0x1000, 0x1000, 0x1000 },
	};
	struct mb1_request r;
	struct mb1_plan plan;

	make_elf(elf, sizeof(elf), segs, 1, 0x8000, 0x1000, 0);
	r = request(elf, sizeof(elf));
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.entry, 0x8000);
	CHECK_EQ(plan.info, 0x100000); /* the rest still goes above 1 MiB */
}

/* A flat image: 0x40 bytes of code, the header at 0x40 with its addresses, more code. */
static uint8_t flat[0x2000];

static size_t make_flat(uint32_t load, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	uint32_t flags = MB1_HF_AOUT_KLUDGE | MB1_HF_PAGE_ALIGN;

	for (size_t i = 0; i < sizeof(flat); i++)
		flat[i] = (uint8_t)(i * 13 + 1);
	header(flat + 0x40, flags);
	put32(flat + 0x4c, load + 0x40); /* header_addr */
	put32(flat + 0x50, load);
	put32(flat + 0x54, load_end);
	put32(flat + 0x58, bss_end);
	put32(flat + 0x5c, entry);
	return sizeof(flat);
}

TEST(aout_kludge_loads_at_header_addresses)
{
	struct mb1_request r = request(flat, make_flat(0x200000, 0, 0x204000, 0x200080));
	struct mb1_plan plan;

	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK(plan.aout_kludge);
	CHECK_EQ(plan.entry, 0x200080);
	CHECK_EQ(plan.load_start, 0x200000);
	CHECK_EQ(plan.load_end, 0x204000);
	CHECK(memcmp(ram + 0x200000, flat, sizeof(flat)) == 0);
	CHECK_EQ(ram[0x202000], 0);
	CHECK_EQ(ram[0x203fff], 0);
	CHECK_EQ(plan.info, 0x204000);
}

TEST(aout_kludge_load_end_and_text_offset)
{
	/* The text starts 0x20 bytes into the file: header_addr - load_addr = 0x20. */
	struct mb1_request r = request(flat, make_flat(0x300000, 0x300100, 0, 0x300000));
	struct mb1_plan plan;

	put32(flat + 0x4c, 0x300020);
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), 0);
	CHECK(memcmp(ram + 0x300000, flat + 0x20, 0x100) == 0);
	CHECK_EQ(ram[0x300100], 0xcc);
	CHECK_EQ(plan.load_end, 0x300100);
}

static void expect_error(const void *img, size_t size, int want, const char *msg)
{
	struct mb1_request r = request(img, size);
	struct mb1_plan plan;

	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), want);
	CHECK_CONTAINS(err, msg);
	CHECK(ram_untouched());
}

TEST(header_errors)
{
	uint8_t img[0x3000] = { 0 };

	expect_error(img, sizeof(img), -ENOEXEC, "no multiboot header (magic 0x1badb002)");
	/* Only the first 8 KiB count, and the header must be 4-byte aligned. */
	header(img + 8192, 0);
	expect_error(img, sizeof(img), -ENOEXEC, "in the first 8192 bytes");
	memset(img, 0, sizeof(img));
	header(img + 0x102, 0);
	expect_error(img, sizeof(img), -ENOEXEC, "no multiboot header");
	memset(img, 0, sizeof(img));
	header(img + 0x100, 0);
	put32(img + 0x108, 0x12345678);
	expect_error(img, sizeof(img), -EINVAL, "offset 0x100: bad checksum 0x12345678");
	header(img + 0x100, MB1_HF_VIDEO_MODE);
	expect_error(img, sizeof(img), -EOPNOTSUPP, "asks for a video mode");
	header(img + 0x100, 1u << 5);
	expect_error(img, sizeof(img), -EOPNOTSUPP, "requires features Keel does not know");
	/* Optional features (bits 16-31) Keel does not know are fine: this one fails later. */
	header(img + 0x100, 1u << 20);
	expect_error(img, sizeof(img), -ENOEXEC, "not an ELF image");
	/* The address fields must be there. */
	header(img + 0x1ff0, MB1_HF_AOUT_KLUDGE);
	memset(img + 0x100, 0, 12);
	expect_error(img, sizeof(img), -EINVAL, "past the first 8 KiB");
	expect_error(img, 0x1ffc, -EINVAL, "past the end of the image");
}

TEST(elf_errors)
{
	static const struct elf_seg ok = { 0x100000, 0x100000, 0x1000, 0x1000, 0x1000 };
	struct elf_seg s = ok;

	make_elf(elf, sizeof(elf), &s, 1, 0x100000, 0x1000, 0);
	elf[4] = 2;
	expect_error(elf, sizeof(elf), -EOPNOTSUPP, "64-bit ELF");
	elf[4] = 1;
	elf[18] = 62;
	expect_error(elf, sizeof(elf), -EINVAL, "not an i386 executable (type 2, machine 62)");
	elf[18] = 3;
	elf[44] = 0;
	expect_error(elf, sizeof(elf), -EINVAL, "no program headers");
	put32(elf + 28, 0x2ff0);
	elf[44] = 1;
	expect_error(elf, sizeof(elf), -EINVAL, "program headers lie outside the image");

	s.filesz = 0x2000;
	make_elf(elf, sizeof(elf), &s, 1, 0x100000, 0x1000, 0);
	expect_error(elf, sizeof(elf), -EINVAL, "ELF segment 0: file size 0x2000 exceeds");
	s = ok;
	s.offset = 0x2800;
	make_elf(elf, sizeof(elf), &s, 1, 0x100000, 0x1000, 0);
	expect_error(elf, sizeof(elf), -EINVAL, "lie past the end of the image (12288 bytes)");
	s = ok;
	s.paddr = RAM_SIZE - 0x800;
	s.vaddr = s.paddr;
	make_elf(elf, sizeof(elf), &s, 1, s.paddr, 0x1000, 0);
	expect_error(elf, sizeof(elf), -E2BIG, "does not fit in the partition's 16 MiB of RAM");
	s = ok;
	s.paddr = s.vaddr = 0x9f000;
	make_elf(elf, sizeof(elf), &s, 1, 0x9f000, 0x1000, 0);
	expect_error(elf, sizeof(elf), -E2BIG, "overlaps [0x9fc00-0x100000)");
	s = ok;
	make_elf(elf, sizeof(elf), &s, 1, 0x400000, 0x1000, 0);
	expect_error(elf, sizeof(elf), -EINVAL, "entry point 0x400000 is outside every loadable");
	{
		struct elf_seg two[2] = { ok, ok };

		two[1].paddr = two[1].vaddr = 0x100800;
		make_elf(elf, sizeof(elf), two, 2, 0x100000, 0x1000, 0);
		expect_error(elf, sizeof(elf), -EINVAL, "overlaps another segment");
	}
	/* A header whose segment lies past 4 GiB - 1 wraps in 32 bits: still refused. */
	s = ok;
	s.paddr = s.vaddr = 0xfffff000;
	s.memsz = 0x2000;
	make_elf(elf, sizeof(elf), &s, 1, 0xfffff000, 0x1000, 0);
	expect_error(elf, sizeof(elf), -E2BIG, "does not fit");
}

TEST(aout_errors)
{
	size_t n;

	n = make_flat(0x200000, 0, 0, 0x200000);
	put32(flat + 0x4c, 0x1fff00);
	expect_error(flat, n, -EINVAL, "load_addr 0x200000 is above header_addr 0x1fff00");
	n = make_flat(0x200000, 0, 0, 0x200000);
	put32(flat + 0x4c, 0x200100);
	expect_error(flat, n, -EINVAL, "the text would start before the file");
	n = make_flat(0x200000, 0x200000, 0, 0x200000);
	expect_error(flat, n, -EINVAL, "load_end_addr 0x200000 is not above load_addr");
	n = make_flat(0x200000, 0x203000, 0, 0x200000);
	expect_error(flat, n, -EINVAL, "load_end_addr 0x203000 is past the end of the image");
	n = make_flat(0x200000, 0, 0x201000, 0x200000);
	expect_error(flat, n, -EINVAL, "bss_end_addr 0x201000 is below the end of the loaded");
	n = make_flat(0x200000, 0, 0x204000, 0x204000);
	expect_error(flat, n, -EINVAL, "entry_addr 0x204000 is outside the image");
	n = make_flat(RAM_SIZE - 0x1000, 0, 0, RAM_SIZE - 0x1000);
	expect_error(flat, n, -E2BIG, "does not fit in the partition's 16 MiB");
}

TEST(modules_and_info_must_fit)
{
	static uint8_t big[1];
	struct mb1_module m = { big, RAM_SIZE - 0x105000 + 1, "big.bin" };
	struct mb1_request r = request(elf, usual_elf(0));
	struct mb1_plan plan;

	r.mods = &m;
	r.nr_mods = 1;
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "module 1 ('big.bin'");
	CHECK(ram_untouched());
	/* The module fits exactly; the information does not. */
	m.size = RAM_SIZE - 0x105000;
	reset_ram();
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "and the multiboot information need RAM up to");
	CHECK(ram_untouched());
	r.nr_mods = MB1_MODS_MAX + 1;
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "too many modules");
	r = request(elf, usual_elf(0));
	r.low_ram = 1u << 20;
	CHECK_EQ(mb1_load(&r, &plan, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "needs more than 1 MiB");
}

int main(void)
{
	static const struct test_case cases[] = {
		TEST_CASE(elf_loads_segments_and_zeroes_bss),
		TEST_CASE(info_structure),
		TEST_CASE(no_cmdline_no_modules),
		TEST_CASE(elf_higher_half_entry_is_translated),
		TEST_CASE(elf_may_load_below_640k),
		TEST_CASE(aout_kludge_loads_at_header_addresses),
		TEST_CASE(aout_kludge_load_end_and_text_offset),
		TEST_CASE(header_errors),
		TEST_CASE(elf_errors),
		TEST_CASE(aout_errors),
		TEST_CASE(modules_and_info_must_fit),
	};

	ram = malloc(RAM_SIZE);
	if (!ram)
		return 1;
	return test_run_all(__FILE__, cases, (int)(sizeof(cases) / sizeof(cases[0])));
}
