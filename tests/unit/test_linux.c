// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/linux.c. bzImages are synthetic: a setup header built
 * byte by byte at the offsets of boot.rst, followed by a patterned
 * protected-mode payload. Guest memory is up to three malloc'd windows of
 * guest-physical space; gpa_to_hva checks every range against them.
 * When tools/fetch-kernel has cached Debian's kernel, it is parsed and
 * loaded too.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/bootinfo.h>
#include <keel/linux.h>

#define KERNEL_CACHE ".cache/kernel/vmlinuz"

#define XLF_KERNEL_64 0x1
#define XLF_ABOVE_4G 0x2
#define SETUP_HDR_END 0x26c /* 0x202 + the 0x6a jump of 2.15 kernels */

/* ---- byte helpers ---- */

static uint64_t rd(const uint8_t *p, size_t off, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

static void wr(uint8_t *p, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* ---- synthetic bzImages ---- */

struct img_params {
	uint8_t setup_sects;
	uint8_t jump; /* header ends at 0x202 + jump */
	uint16_t boot_flag;
	uint32_t magic;
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint64_t pref;
	uint32_t init_size;
	uint32_t align;
	uint8_t reloc;
	uint32_t cmdline_size;
	uint32_t initrd_max;
	uint32_t syssize; /* 0: payload / 16 */
	size_t payload;
};

static struct img_params defaults(void)
{
	struct img_params ip = {
		.setup_sects = 4,
		.jump = 0x6a,
		.boot_flag = 0xaa55,
		.magic = 0x53726448,
		.version = 0x020f,
		.loadflags = 0x01,
		.xloadflags = XLF_KERNEL_64 | XLF_ABOVE_4G,
		.pref = 16 * MiB,
		.init_size = 8 * MiB,
		.align = 2 * MiB,
		.reloc = 1,
		.cmdline_size = 2047,
		.initrd_max = 0x7fffffff,
		.payload = 64 * KiB,
	};
	return ip;
}

static size_t setup_bytes(const struct img_params *ip)
{
	return ((size_t)(ip->setup_sects ? ip->setup_sects : 4) + 1) * 512;
}

static uint8_t payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint8_t *make_image(const struct img_params *ip, size_t *size)
{
	size_t setup = setup_bytes(ip);
	uint8_t *p;

	*size = setup + ip->payload;
	p = malloc(*size);
	/* A real boot sector is junk to a 64-bit loader; the sentinel at 0x1EF is 0xFF. */
	memset(p, 0xff, 0x1f1);
	memset(p + 0x1f1, 0, setup - 0x1f1);
	p[0x1f1] = ip->setup_sects;
	wr(p, 0x1f4, ip->syssize ? ip->syssize : ip->payload / 16, 4);
	wr(p, 0x1fa, 0xffff, 2); /* vid_mode */
	wr(p, 0x1fe, ip->boot_flag, 2);
	p[0x200] = 0xeb;
	p[0x201] = ip->jump;
	wr(p, 0x202, ip->magic, 4);
	wr(p, 0x206, ip->version, 2);
	wr(p, 0x20e, 0x3f00, 2); /* kernel_version */
	p[0x211] = ip->loadflags;
	wr(p, 0x214, 0x100000, 4); /* code32_start */
	wr(p, 0x22c, ip->initrd_max, 4);
	wr(p, 0x230, ip->align, 4);
	p[0x234] = ip->reloc;
	p[0x235] = 21;
	wr(p, 0x236, ip->xloadflags, 2);
	wr(p, 0x238, ip->cmdline_size, 4);
	wr(p, 0x248, 0x3a5, 4); /* payload_offset */
	wr(p, 0x258, ip->pref, 8);
	wr(p, 0x260, ip->init_size, 4);
	wr(p, 0x264, 0x12345678, 4); /* handover_offset */
	wr(p, 0x268, 0x11223344, 4); /* kernel_info_offset: last header field */
	/* Setup code after the header: must not reach boot_params. */
	memset(p + SETUP_HDR_END, 0xee, 0x300 - SETUP_HDR_END);
	for (size_t i = 0; i < ip->payload; i++)
		p[setup + i] = payload_byte(i);
	return p;
}

/* ---- fake guest memory ---- */

struct region {
	uint64_t gpa, size;
	uint8_t *mem;
};

static struct guest {
	struct region r[3];
	int nr;
	bool page_only;	   /* refuse ranges that cross a 4 KiB page */
	uint64_t deny_gpa; /* refuse ranges containing this address */
	bool bad_ctx;
} guest;

static void *g2h(void *ctx, uint64_t gpa, uint64_t len)
{
	if (ctx != &guest)
		guest.bad_ctx = true;
	if (guest.page_only && len && (gpa & 0xfff) + len > 0x1000)
		return NULL;
	if (guest.deny_gpa >= gpa && guest.deny_gpa - gpa < len)
		return NULL;
	for (int i = 0; i < guest.nr; i++) {
		const struct region *r = &guest.r[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->mem + (gpa - r->gpa);
	}
	return NULL;
}

static void guest_reset(void)
{
	for (int i = 0; i < guest.nr; i++)
		free(guest.r[i].mem);
	memset(&guest, 0, sizeof(guest));
	guest.deny_gpa = UINT64_MAX;
}

static void guest_add(uint64_t gpa, uint64_t size)
{
	struct region *r = &guest.r[guest.nr++];

	r->gpa = gpa;
	r->size = size;
	r->mem = calloc(1, size);
}

/* Host pointer for a test to read guest memory; NULL (and a failed check) if outside. */
static uint8_t *gp(uint64_t gpa, uint64_t len)
{
	bool page_only = guest.page_only;
	uint64_t deny = guest.deny_gpa;
	uint8_t *p;

	guest.page_only = false;
	guest.deny_gpa = UINT64_MAX;
	p = g2h(&guest, gpa, len);
	guest.page_only = page_only;
	guest.deny_gpa = deny;
	CHECK(p != NULL);
	return p;
}

static void guest_clear(void)
{
	for (int i = 0; i < guest.nr; i++)
		memset(guest.r[i].mem, 0, guest.r[i].size);
}

static bool guest_all_zero(void)
{
	for (int i = 0; i < guest.nr; i++)
		for (uint64_t j = 0; j < guest.r[i].size; j++)
			if (guest.r[i].mem[j])
				return false;
	return true;
}

/* ---- memory maps ---- */

#define MAP_MAX 300
static struct boot_mmap_entry map[MAP_MAX];
static uint32_t map_nr;

static void map_add(uint64_t base, uint64_t size, uint32_t type)
{
	map[map_nr].base = base;
	map[map_nr].size = size;
	map[map_nr].type = type;
	map[map_nr].pad = 0;
	map_nr++;
}

/* The usual PC layout: low RAM, the legacy hole, RAM from 1 MiB to top. */
static void std_map(uint64_t top)
{
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x100000 - 0x9f000, MEM_RESERVED);
	map_add(1 * MiB, top - 1 * MiB, MEM_USABLE);
}

/* A standard guest: map and memory [0, top). */
static void std_guest(uint64_t top)
{
	guest_reset();
	guest_add(0, top);
	std_map(top);
}

static struct linux_boot_request req;
static struct linux_boot_plan plan;
static char err[256];

static void req_init(const uint8_t *img, size_t size)
{
	memset(&req, 0, sizeof(req));
	req.kernel = img;
	req.kernel_size = size;
	req.cmdline = "console=ttyS0 nokaslr";
	req.map.e = map;
	req.map.nr = map_nr;
	req.gpa_to_hva = g2h;
	req.ctx = &guest;
	memset(&plan, 0xa5, sizeof(plan));
	err[0] = 0;
}

static bool in_usable(uint64_t base, uint64_t size)
{
	/* Adjacent usable entries count as one range. */
	uint64_t at = base;

	for (uint32_t i = 0; i < map_nr && at < base + size; i++) {
		const struct boot_mmap_entry *e = &map[i];

		if (e->type == MEM_USABLE && e->base <= at && at < e->base + e->size)
			at = e->base + e->size;
	}
	return at >= base + size;
}

static bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Everything placed is in usable RAM, page aligned, disjoint, and inside [low, high). */
static void check_plan(const struct linux_boot_plan *p, uint64_t window, uint64_t initrd_size,
		       uint64_t cmdline_buf)
{
	uint64_t isz = (initrd_size + 0xfff) & ~0xfffull;

	CHECK_EQ(p->entry_gpa, p->kernel_gpa + 0x200);
	CHECK(in_usable(p->kernel_gpa, window));
	CHECK(in_usable(p->boot_params_gpa, 4096));
	CHECK(in_usable(p->cmdline_gpa, cmdline_buf));
	CHECK_EQ(p->boot_params_gpa & 0xfff, 0);
	CHECK_EQ(p->cmdline_gpa & 0xfff, 0);
	CHECK(p->boot_params_gpa != 0 && p->cmdline_gpa != 0);
	CHECK(!overlap(p->kernel_gpa, window, p->boot_params_gpa, 4096));
	CHECK(!overlap(p->kernel_gpa, window, p->cmdline_gpa, cmdline_buf));
	CHECK(!overlap(p->boot_params_gpa, 4096, p->cmdline_gpa, cmdline_buf));
	CHECK(p->low <= p->kernel_gpa && p->kernel_gpa + window <= p->high);
	CHECK(p->low <= p->boot_params_gpa && p->boot_params_gpa + 4096 <= p->high);
	CHECK(p->low <= p->cmdline_gpa && p->cmdline_gpa + cmdline_buf <= p->high);
	if (initrd_size) {
		CHECK(p->initrd_gpa >= 1 * MiB);
		CHECK_EQ(p->initrd_gpa & 0xfff, 0);
		CHECK(in_usable(p->initrd_gpa, isz));
		CHECK(!overlap(p->kernel_gpa, window, p->initrd_gpa, isz));
		CHECK(!overlap(p->initrd_gpa, isz, p->boot_params_gpa, 4096));
		CHECK(!overlap(p->initrd_gpa, isz, p->cmdline_gpa, cmdline_buf));
		CHECK(p->low <= p->initrd_gpa && p->initrd_gpa + isz <= p->high);
	} else {
		CHECK_EQ(p->initrd_gpa, 0);
	}
}

static uint8_t *make_initrd(size_t size)
{
	uint8_t *p = malloc(size);

	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 13 + 1);
	return p;
}

/* ---- linux_parse_bzimage ---- */

TEST(test_parse_ok)
{
	struct img_params ip = defaults();
	struct linux_image_info info;
	size_t size;
	uint8_t *img = make_image(&ip, &size);

	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.protocol, 0x020f);
	CHECK_EQ(info.loadflags, 0x01);
	CHECK_EQ(info.xloadflags, 3);
	CHECK_EQ(info.setup_size, 5 * 512);
	CHECK_EQ(info.payload_size, 64 * KiB);
	CHECK_EQ(info.kernel_alignment, 2 * MiB);
	CHECK(info.relocatable);
	CHECK_EQ(info.pref_address, 16 * MiB);
	CHECK_EQ(info.init_size, 8 * MiB);
	CHECK_EQ(info.cmdline_size, 2047);
	CHECK_EQ(info.initrd_addr_max, 0x7fffffff);
	/* The oldest accepted protocol, and a header that ends right after init_size's neighbour. */
	ip.version = 0x020c;
	ip.jump = 0x66; /* ends at 0x268 */
	free(img);
	img = make_image(&ip, &size);
	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.protocol, 0x020c);
	free(img);
}

TEST(test_parse_setup_sects_zero_means_4)
{
	struct img_params ip = defaults();
	struct linux_image_info info;
	size_t size;
	uint8_t *img;

	ip.setup_sects = 0;
	img = make_image(&ip, &size);
	CHECK_EQ(size, 5 * 512 + 64 * KiB);
	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.setup_size, 5 * 512);
	free(img);

	ip.setup_sects = 30;
	img = make_image(&ip, &size);
	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.setup_size, 31 * 512);
	CHECK_EQ(info.payload_size, 64 * KiB);
	free(img);
}

/* Parse an image built from ip and expect -ENOEXEC with msg in the error. */
static void expect_reject(const struct img_params *ip, size_t size_override, const char *msg)
{
	struct linux_image_info info;
	size_t size;
	uint8_t *img = make_image(ip, &size);

	if (size_override)
		size = size_override;
	err[0] = 0;
	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), -ENOEXEC);
	CHECK_CONTAINS(err, msg);
	free(img);
}

TEST(test_parse_rejects_small)
{
	struct img_params ip = defaults();
	struct linux_image_info info;

	expect_reject(&ip, 0x205, "too small");
	expect_reject(&ip, 1, "too small");
	CHECK_EQ(linux_parse_bzimage(NULL, 0, &info, err, sizeof(err)), -ENOEXEC);
	/* A NULL or empty error buffer is fine. */
	CHECK_EQ(linux_parse_bzimage(NULL, 0, &info, NULL, 0), -ENOEXEC);
}

TEST(test_parse_rejects_signatures)
{
	struct img_params ip = defaults();

	ip.boot_flag = 0x55aa;
	expect_reject(&ip, 0, "no 0xAA55 boot flag at 0x1FE (found 0x55aa)");
	ip = defaults();
	ip.magic = 0x53726449;
	expect_reject(&ip, 0, "not a bzImage: no 'HdrS' signature at 0x202");
}

TEST(test_parse_rejects_old_protocol)
{
	struct img_params ip = defaults();

	ip.version = 0x0206;
	expect_reject(&ip, 0, "boot protocol 2.06 is too old: Keel needs 2.12");
	ip.version = 0x020b;
	expect_reject(&ip, 0, "boot protocol 2.11 is too old");
}

TEST(test_parse_rejects_header_end)
{
	struct img_params ip = defaults();

	ip.jump = 0x04; /* ends at 0x206: no version field */
	expect_reject(&ip, 0, "before its version field");
	ip.jump = 0x60; /* 0x262: before init_size */
	expect_reject(&ip, 0, "before the init_size field");
	ip.jump = 0x90; /* 0x292: past boot_params' room */
	expect_reject(&ip, 0, "past the 0x290");
	ip = defaults();
	expect_reject(&ip, 0x260, "the setup header ends at 0x26c but the file is only 608 bytes");
}

TEST(test_parse_rejects_truncated)
{
	struct img_params ip = defaults();

	/* Cut inside the setup code: no protected-mode kernel at all. */
	expect_reject(&ip, 5 * 512, "should start at file offset 2560");
	expect_reject(&ip, 1024, "truncated bzImage");
	/* Only the first 0x200 bytes of the protected-mode kernel. */
	ip.syssize = 1;
	expect_reject(&ip, 5 * 512 + 0x200, "too small to hold the 64-bit entry at +0x200");
	/* syssize says more than the file has: a cut-off download. */
	ip = defaults();
	ip.syssize = (uint32_t)(ip.payload / 16 + 1);
	expect_reject(&ip, 0, "syssize says the protected-mode kernel is 65552 bytes");
}

TEST(test_parse_rejects_flags)
{
	struct img_params ip = defaults();

	ip.loadflags = 0x80;
	expect_reject(&ip, 0, "LOADED_HIGH is clear");
	ip = defaults();
	ip.xloadflags = XLF_ABOVE_4G;
	expect_reject(&ip, 0, "no 64-bit entry point (XLF_KERNEL_64 clear");
}

TEST(test_parse_rejects_header_values)
{
	struct img_params ip = defaults();

	ip.init_size = 0;
	expect_reject(&ip, 0, "init_size is 0");
	ip = defaults();
	ip.align = 0x300000;
	expect_reject(&ip, 0, "kernel_alignment 0x300000 is not a power of two");
	ip.align = 0;
	expect_reject(&ip, 0, "kernel_alignment 0x0 is not a power of two");
	/* A kernel that is not relocatable only needs a sane pref_address. */
	ip.reloc = 0;
	ip.pref = 0x80000;
	expect_reject(&ip, 0, "not relocatable and its pref_address 0x80000 is unusable");
	ip.pref = 16 * MiB + 0x10;
	expect_reject(&ip, 0, "not page aligned");
}

TEST(test_parse_nonrelocatable_ok)
{
	struct img_params ip = defaults();
	struct linux_image_info info;
	size_t size;
	uint8_t *img;

	ip.reloc = 0;
	ip.align = 0; /* ignored for a fixed kernel */
	img = make_image(&ip, &size);
	CHECK_EQ(linux_parse_bzimage(img, size, &info, err, sizeof(err)), 0);
	CHECK(!info.relocatable);
	free(img);
}

/* ---- linux_load: placement and boot_params ---- */

TEST(test_load_basic)
{
	struct img_params ip = defaults();
	size_t size, isize = 3 * MiB + 123;
	uint8_t *img = make_image(&ip, &size), *initrd = make_initrd(isize), *bp;
	const char *cl = "console=ttyS0 nokaslr";

	std_guest(128 * MiB);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	req.rsdp = 0xe0000;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(!guest.bad_ctx);
	check_plan(&plan, 8 * MiB, isize, 4096);

	/* pref_address is usable: the kernel goes there. */
	CHECK_EQ(plan.kernel_gpa, 16 * MiB);
	CHECK_EQ(plan.entry_gpa, 16 * MiB + 0x200);
	CHECK(memcmp(gp(plan.kernel_gpa, ip.payload), img + 5 * 512, ip.payload) == 0);
	/* The initrd as high as possible: its page-rounded end at the top of RAM. */
	CHECK_EQ(plan.initrd_gpa, 128 * MiB - 3 * MiB - 4096);
	CHECK(memcmp(gp(plan.initrd_gpa, isize), initrd, isize) == 0);
	/* boot_params and the command line right below it. */
	CHECK_EQ(plan.boot_params_gpa, plan.initrd_gpa - 4096);
	CHECK_EQ(plan.cmdline_gpa, plan.boot_params_gpa - 4096);
	CHECK_STR((const char *)gp(plan.cmdline_gpa, 4096), cl);
	for (size_t i = strlen(cl); i < 4096; i++)
		CHECK_EQ(gp(plan.cmdline_gpa, 4096)[i], 0);
	CHECK_EQ(plan.low, 16 * MiB);
	CHECK_EQ(plan.high, 128 * MiB);

	bp = gp(plan.boot_params_gpa, 4096);
	/* Nothing before the setup header is copied; the sentinel stays 0. */
	for (size_t i = 0; i < 0x1f1; i++)
		if ((i < 0x70 || i >= 0x78) && i != 0x1e8) /* acpi_rsdp_addr, e820_entries */
			CHECK_EQ(bp[i], 0);
	CHECK_EQ(bp[0x1ef], 0);
	CHECK_EQ(rd(bp, 0x070, 8), 0xe0000);
	/* The header is copied up to 0x202 + byte[0x201], except the loader's fields. */
	for (size_t i = 0x1f1; i < SETUP_HDR_END; i++) {
		if ((i >= 0x210 && i < 0x211) || (i >= 0x214 && i < 0x220) ||
		    (i >= 0x228 && i < 0x22c))
			continue;
		CHECK_EQ(bp[i], img[i]);
	}
	CHECK_EQ(rd(bp, 0x268, 4), 0x11223344);
	for (size_t i = SETUP_HDR_END; i < 0x2d0; i++)
		CHECK_EQ(bp[i], 0);
	CHECK_EQ(bp[0x210], 0xff);	      /* type_of_loader */
	CHECK_EQ(bp[0x211], 0x01);	      /* loadflags untouched */
	CHECK_EQ(rd(bp, 0x214, 4), 16 * MiB); /* code32_start */
	CHECK_EQ(rd(bp, 0x218, 4), plan.initrd_gpa);
	CHECK_EQ(rd(bp, 0x21c, 4), isize);
	CHECK_EQ(rd(bp, 0x0c0, 4), 0);
	CHECK_EQ(rd(bp, 0x0c4, 4), 0);
	CHECK_EQ(rd(bp, 0x228, 4), plan.cmdline_gpa);
	CHECK_EQ(rd(bp, 0x0c8, 4), 0);
	CHECK_EQ(rd(bp, 0x230, 4), 2 * MiB); /* kernel_alignment, read by startup_64 */
	CHECK_EQ(rd(bp, 0x260, 4), 8 * MiB); /* init_size, read by startup_64 */
	/* e820: the three map entries. */
	CHECK_EQ(bp[0x1e8], 3);
	CHECK_EQ(rd(bp, 0x2d0, 8), 0);
	CHECK_EQ(rd(bp, 0x2d8, 8), 0x9f000);
	CHECK_EQ(rd(bp, 0x2e0, 4), 1);
	CHECK_EQ(rd(bp, 0x2e4, 8), 0x9f000);
	CHECK_EQ(rd(bp, 0x2ec, 8), 0x61000);
	CHECK_EQ(rd(bp, 0x2f4, 4), 2);
	CHECK_EQ(rd(bp, 0x2f8, 8), 1 * MiB);
	CHECK_EQ(rd(bp, 0x300, 8), 127 * MiB);
	CHECK_EQ(rd(bp, 0x308, 4), 1);
	for (size_t i = 0x2d0 + 3 * 20; i < 4096; i++)
		CHECK_EQ(bp[i], 0);
	/* Headless, no EFI: screen_info and efi_info stay zero. */
	for (size_t i = 0; i < 0x40; i++)
		CHECK_EQ(bp[i], 0);
	for (size_t i = 0x1c0; i < 0x1e0; i++)
		CHECK_EQ(bp[i], 0);

	free(img);
	free(initrd);
	guest_reset();
}

TEST(test_load_no_initrd_empty_cmdline)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size), *bp;

	std_guest(64 * MiB);
	req_init(img, size);
	req.cmdline = NULL;
	req.initrd = img; /* size 0: no initrd */
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	check_plan(&plan, 8 * MiB, 0, 4096);
	CHECK_EQ(plan.initrd_gpa, 0);
	CHECK_EQ(plan.boot_params_gpa, 64 * MiB - 4096);
	CHECK_EQ(plan.cmdline_gpa, 64 * MiB - 8192);
	CHECK_EQ(gp(plan.cmdline_gpa, 1)[0], 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(rd(bp, 0x218, 4), 0);
	CHECK_EQ(rd(bp, 0x21c, 4), 0);
	CHECK_EQ(rd(bp, 0x228, 4), 64 * MiB - 8192);
	CHECK_EQ(rd(bp, 0x070, 8), 0);
	free(img);
	guest_reset();
}

TEST(test_load_pref_not_usable)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size);

	/* A reserved hole over pref_address: the next 2 MiB boundary with 8 MiB free is 20 MiB. */
	guest_reset();
	guest_add(0, 64 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 15 * MiB, MEM_USABLE);
	map_add(16 * MiB, 4 * MiB - 4096, MEM_RESERVED);
	map_add(20 * MiB - 4096, 44 * MiB + 4096, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 20 * MiB);
	check_plan(&plan, 8 * MiB, 0, 4096);

	/* Usable from 17 MiB: aligned up to 18 MiB. */
	map[3].size = 1 * MiB;
	map[4].base = 17 * MiB;
	map[4].size = 47 * MiB;
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 18 * MiB);
	check_plan(&plan, 8 * MiB, 0, 4096);

	/* A usable stretch too small for init_size is skipped: [16, 22) MiB holds only 6. */
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 21 * MiB, MEM_USABLE);
	map_add(22 * MiB, 4 * MiB, MEM_RESERVED);
	map_add(26 * MiB, 38 * MiB, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 26 * MiB);
	check_plan(&plan, 8 * MiB, 0, 4096);
	free(img);
	guest_reset();
}

TEST(test_load_alignment)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img;

	ip.align = 4 * MiB;
	img = make_image(&ip, &size);
	guest_reset();
	guest_add(0, 64 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 15 * MiB, MEM_USABLE);
	map_add(16 * MiB, 1 * MiB, MEM_RESERVED);
	map_add(17 * MiB, 47 * MiB, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 20 * MiB);
	check_plan(&plan, 8 * MiB, 0, 4096);
	free(img);

	/* An alignment below a page still gives a page-aligned kernel. */
	ip.align = 0x200;
	img = make_image(&ip, &size);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 17 * MiB);
	free(img);

	/* An unaligned pref_address is rounded up, as startup_64 would. */
	ip = defaults();
	ip.pref = 16 * MiB + 4096;
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 18 * MiB);
	free(img);
	guest_reset();
}

TEST(test_load_never_below_pref)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size);

	/* [1, 16) MiB is free and large enough, but the kernel would decompress at 16 MiB anyway. */
	guest_reset();
	guest_add(0, 32 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 15 * MiB, MEM_USABLE);
	map_add(16 * MiB, 16 * MiB, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err,
		       "kernel needs 8 MiB (init_size) at a 2 MiB boundary at or above 0x1000000: "
		       "no usable RAM range is large enough");
	CHECK(guest_all_zero());
	CHECK_EQ(plan.kernel_gpa, 0);
	free(img);
	guest_reset();
}

TEST(test_load_adjacent_usable_entries)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size);

	/* Usable RAM split in two adjacent entries at 20 MiB still holds the window at 16 MiB. */
	guest_reset();
	guest_add(0, 64 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 19 * MiB, MEM_USABLE);
	map_add(20 * MiB, 44 * MiB, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 16 * MiB);
	/* They are merged in e820 too. */
	CHECK_EQ(gp(plan.boot_params_gpa, 4096)[0x1e8], 3);
	CHECK_EQ(rd(gp(plan.boot_params_gpa, 4096), 0x300, 8), 63 * MiB);
	free(img);
	guest_reset();
}

TEST(test_load_big_init_size_message)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img;

	ip.init_size = 0x3f98000; /* Debian 6.1's */
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err, "kernel needs 63.6 MiB (init_size) at a 2 MiB boundary");
	CHECK(guest_all_zero());
	free(img);
	guest_reset();

	/* init_size smaller than the payload: the window is the payload. */
	ip = defaults();
	ip.init_size = 4096;
	ip.payload = 3 * MiB;
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	check_plan(&plan, 3 * MiB, 0, 4096);
	CHECK_EQ(plan.high - plan.kernel_gpa >= 3 * MiB, 1);
	free(img);
	guest_reset();
}

TEST(test_load_nonrelocatable)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img;

	ip.reloc = 0;
	ip.pref = 16 * MiB + 4096; /* fixed kernels go exactly at pref_address */
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 16 * MiB + 4096);
	check_plan(&plan, 8 * MiB, 0, 4096);

	/* pref_address not usable: no alternative. */
	map[2].size = 20 * MiB;
	map_add(21 * MiB, 43 * MiB, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err,
		       "kernel is not relocatable: it needs 8 MiB (init_size) of usable RAM at its "
		       "pref_address 0x1001000, and that range is not all usable");
	free(img);
	guest_reset();
}

TEST(test_load_kernel_below_4g_without_xlf)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img;

	/* Below 4 GiB only [1 MiB, 20 MiB); above, plenty. */
	guest_reset();
	guest_add(0, 20 * MiB);
	guest_add(4 * GiB, 32 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 19 * MiB, MEM_USABLE);
	map_add(4 * GiB, 32 * MiB, MEM_USABLE);
	img = make_image(&ip, &size);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 4 * GiB);
	check_plan(&plan, 8 * MiB, 0, 4096);
	CHECK_EQ(rd(gp(plan.boot_params_gpa, 4096), 0x214, 4), 0x100000); /* code32_start kept */
	free(img);

	ip.xloadflags = XLF_KERNEL_64;
	img = make_image(&ip, &size);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err, "below 4 GiB: no usable RAM range is large enough");
	free(img);
	guest_reset();
}

TEST(test_load_initrd_limit)
{
	struct img_params ip = defaults();
	size_t size, isize = 5 * MiB;
	uint8_t *img, *initrd = make_initrd(isize), *bp;

	ip.initrd_max = 64 * MiB - 1;
	img = make_image(&ip, &size);
	std_guest(128 * MiB);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.initrd_gpa, 59 * MiB);
	check_plan(&plan, 8 * MiB, isize, 4096);
	/* boot_params and the command line still go as high as possible. */
	CHECK_EQ(plan.boot_params_gpa, 128 * MiB - 4096);
	CHECK_EQ(plan.high, 128 * MiB);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(rd(bp, 0x218, 4), 59 * MiB);
	CHECK_EQ(rd(bp, 0x21c, 4), 5 * MiB);
	CHECK(memcmp(gp(plan.initrd_gpa, isize), initrd, isize) == 0);
	free(img);

	/* The limit is inside the kernel window: the initrd goes below the kernel. */
	ip.initrd_max = 20 * MiB - 1;
	img = make_image(&ip, &size);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.initrd_gpa, 11 * MiB);
	check_plan(&plan, 8 * MiB, isize, 4096);
	free(img);

	/* Too big for what is left below the limit, and no XLF_CAN_BE_LOADED_ABOVE_4G. */
	ip.initrd_max = 16 * MiB - 1;
	ip.xloadflags = XLF_KERNEL_64;
	img = make_image(&ip, &size);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = 15 * MiB + 1;
	free(initrd);
	initrd = make_initrd(req.initrd_size);
	req.initrd = initrd;
	guest_clear();
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err,
		       "initrd (15 MiB) does not fit in usable RAM between 1 MiB and 0x1000000");
	CHECK(guest_all_zero());
	free(img);
	free(initrd);
	guest_reset();
}

TEST(test_load_initrd_above_4g)
{
	struct img_params ip = defaults();
	size_t size, isize = 16 * MiB + 100;
	uint8_t *img = make_image(&ip, &size), *initrd = make_initrd(isize), *bp;

	/* Below 4 GiB: 15 MiB free under the kernel and 8 MiB over it; neither holds the initrd. */
	guest_reset();
	guest_add(0, 32 * MiB);
	guest_add(4 * GiB, 64 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x61000, MEM_RESERVED);
	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	map_add(32 * MiB, 4 * GiB - 32 * MiB, MEM_RESERVED);
	map_add(4 * GiB, 64 * MiB, MEM_USABLE);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.kernel_gpa, 16 * MiB);
	CHECK_EQ(plan.initrd_gpa, 4 * GiB + 48 * MiB - 4096);
	check_plan(&plan, 8 * MiB, isize, 4096);
	/* boot_params stays below 4 GiB. */
	CHECK_EQ(plan.boot_params_gpa, 32 * MiB - 4096);
	CHECK_EQ(plan.low, 16 * MiB);
	CHECK_EQ(plan.high, 4 * GiB + 64 * MiB);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(rd(bp, 0x218, 4), 48 * MiB - 4096);
	CHECK_EQ(rd(bp, 0x0c0, 4), 1);
	CHECK_EQ(rd(bp, 0x21c, 4), isize);
	CHECK_EQ(rd(bp, 0x0c4, 4), 0);
	CHECK_EQ(bp[0x1e8], 5);
	CHECK(memcmp(gp(plan.initrd_gpa, isize), initrd, isize) == 0);
	free(img);

	/* The same without XLF_CAN_BE_LOADED_ABOVE_4G fails. */
	ip.xloadflags = XLF_KERNEL_64;
	img = make_image(&ip, &size);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err, "initrd (16 MiB) does not fit");
	free(img);
	free(initrd);
	guest_reset();
}

TEST(test_load_cmdline_above_4g)
{
	struct img_params ip = defaults();
	size_t size, isize = 15 * MiB;
	uint8_t *img = make_image(&ip, &size), *initrd = make_initrd(isize), *bp;

	/*
	 * Below 4 GiB: one free page at 0x1000, [1, 16) MiB taken by the
	 * initrd and [16, 24) MiB by the kernel. boot_params takes the page;
	 * the command line has to go above 4 GiB.
	 */
	guest_reset();
	guest_add(0, 24 * MiB);
	guest_add(4 * GiB, 1 * MiB);
	map_nr = 0;
	map_add(0, 0x2000, MEM_USABLE);
	map_add(0x2000, 1 * MiB - 0x2000, MEM_RESERVED);
	map_add(1 * MiB, 23 * MiB, MEM_USABLE);
	map_add(4 * GiB, 1 * MiB, MEM_USABLE);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(plan.initrd_gpa, 1 * MiB);
	CHECK_EQ(plan.boot_params_gpa, 0x1000);
	CHECK_EQ(plan.cmdline_gpa, 4 * GiB + 1 * MiB - 4096);
	CHECK_EQ(plan.low, 0x1000);
	check_plan(&plan, 8 * MiB, isize, 4096);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(rd(bp, 0x228, 4), 1 * MiB - 4096);
	CHECK_EQ(rd(bp, 0x0c8, 4), 1);
	CHECK_STR((const char *)gp(plan.cmdline_gpa, 4096), "console=ttyS0 nokaslr");
	free(img);

	ip.xloadflags = XLF_KERNEL_64;
	img = make_image(&ip, &size);
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err, "no usable RAM below 4 GiB is left for the 4 KiB command-line buffer");

	/* No room for boot_params at all. */
	map[0].size = 0x1000; /* only page 0, which is never used */
	req_init(img, size);
	guest_clear();
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOMEM);
	CHECK_CONTAINS(err, "no usable 4 KiB page below 4 GiB is left for boot_params");
	CHECK(guest_all_zero());
	free(img);
	free(initrd);
	guest_reset();
}

TEST(test_load_cmdline_length)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img;
	char line[300];

	ip.cmdline_size = 255;
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	memset(line, 'a', sizeof(line));
	line[255] = 0;
	req_init(img, size);
	req.cmdline = line;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_EQ(strlen((const char *)gp(plan.cmdline_gpa, 4096)), 255);

	line[255] = 'a';
	line[256] = 0;
	req_init(img, size);
	req.cmdline = line;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -E2BIG);
	CHECK_STR(err, "command line is 256 bytes; this kernel accepts at most 255 (cmdline_size)");
	CHECK_EQ(plan.kernel_gpa, 0);
	free(img);

	/* A big cmdline_size gets a page-rounded buffer of cmdline_size + 1. */
	ip.cmdline_size = 8192;
	img = make_image(&ip, &size);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	check_plan(&plan, 8 * MiB, 0, 3 * 4096);
	CHECK_EQ(plan.cmdline_gpa, 64 * MiB - 4096 - 3 * 4096);
	free(img);
	guest_reset();
}

TEST(test_load_e820)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size), *bp;

	guest_reset();
	guest_add(0, 64 * MiB);
	map_nr = 0;
	map_add(0, 0x9f000, MEM_USABLE);
	map_add(0x9f000, 0x1000, MEM_RESERVED);
	map_add(0xa0000, 0x20000, MEM_KEEL);	    /* Keel's own type: reserved, merged */
	map_add(0xc0000, 0x40000, MEM_EFI_RUNTIME); /* likewise */
	map_add(1 * MiB, 0, MEM_ACPI_NVS);	    /* empty entries are dropped */
	map_add(1 * MiB, 31 * MiB, MEM_USABLE);
	map_add(32 * MiB, 4096, MEM_ACPI_RECLAIM);
	map_add(32 * MiB + 4096, 4096, MEM_ACPI_NVS);
	map_add(32 * MiB + 8192, 4096, MEM_UNUSABLE);
	map_add(32 * MiB + 12288, 4096, 6);
	map_add(32 * MiB + 16384, 4096, MEM_PERSISTENT);
	map_add(32 * MiB + 20480, 4096, 0);	 /* unknown: reserved */
	map_add(32 * MiB + 24576, 4096, 0x200);	 /* unknown: reserved, merged */
	map_add(40 * MiB, 24 * MiB, MEM_USABLE); /* after a gap */
	map_add(0xfec00000, 0x1000, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	{
		static const uint64_t want[][3] = {
			{ 0, 0x9f000, 1 },
			{ 0x9f000, 0x61000, 2 },
			{ 1 * MiB, 31 * MiB, 1 },
			{ 32 * MiB, 4096, 3 },
			{ 32 * MiB + 4096, 4096, 4 },
			{ 32 * MiB + 8192, 4096, 5 },
			{ 32 * MiB + 12288, 4096, 6 },
			{ 32 * MiB + 16384, 4096, 7 },
			{ 32 * MiB + 20480, 8192, 2 },
			{ 40 * MiB, 24 * MiB, 1 },
			{ 0xfec00000, 0x1000, 2 },
		};

		CHECK_EQ(bp[0x1e8], ARRAY_SIZE(want));
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			CHECK_EQ(rd(bp, 0x2d0 + 20 * i, 8), want[i][0]);
			CHECK_EQ(rd(bp, 0x2d0 + 20 * i + 8, 8), want[i][1]);
			CHECK_EQ(rd(bp, 0x2d0 + 20 * i + 16, 4), want[i][2]);
		}
		for (size_t i = 0x2d0 + 20 * ARRAY_SIZE(want); i < 0xd00; i++)
			CHECK_EQ(bp[i], 0);
	}
	free(img);
	guest_reset();
}

TEST(test_load_too_many_e820)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size), *bp;

	guest_reset();
	guest_add(0, 64 * MiB);
	/* 128 after merging: accepted, table full. */
	std_map(64 * MiB);
	for (uint32_t i = 0; i < 250; i++)
		map_add(1 * GiB + i * 4096ull, 4096, (i / 2) % 2 ? MEM_RESERVED : MEM_ACPI_NVS);
	CHECK_EQ(map_nr, 253);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(bp[0x1e8], 128);
	CHECK_EQ(rd(bp, 0x2d0 + 20 * 127, 8), 1 * GiB + 248 * 4096);
	CHECK_EQ(rd(bp, 0x2d0 + 20 * 127 + 8, 8), 8192);
	CHECK_EQ(rd(bp, 0x2d0 + 20 * 127 + 16, 4), MEM_ACPI_NVS);
	CHECK_EQ(rd(bp, 0x2d0 + 20 * 128, 8), 0); /* nothing past the table */

	/* One more distinct entry: 129. */
	map_add(2 * GiB, 4096, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "the memory map has 129 entries after merging");
	CHECK_CONTAINS(err, "at most 128");
	free(img);
	guest_reset();
}

TEST(test_load_map_errors)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size);

	std_guest(64 * MiB);

	/* Overlapping and out-of-order entries. */
	map_add(32 * MiB, 4096, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "memory map entry 3 at 0x2000000 overlaps or is out of order");

	/* Wrapping past 2^64. */
	std_map(64 * MiB);
	map_add(UINT64_MAX - 4095, 8192, MEM_RESERVED);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "runs past the end of the address space");

	/* Empty. */
	req_init(img, size);
	req.map.nr = 0;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "memory map is empty");

	/* One entry: Linux would ignore the table. */
	map_nr = 0;
	map_add(0, 64 * MiB, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "fewer than 2");

	/* No RAM below 1 MiB. */
	map_nr = 0;
	map_add(0, 1 * MiB, MEM_RESERVED);
	map_add(1 * MiB, 63 * MiB, MEM_USABLE);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "no usable RAM below 1 MiB");

	/* No way to write guest memory. */
	std_map(64 * MiB);
	req_init(img, size);
	req.gpa_to_hva = NULL;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EINVAL);

	/* A bad image is reported as such. */
	req_init(img, size);
	req.kernel_size = 100;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -ENOEXEC);
	CHECK_CONTAINS(err, "too small");
	CHECK(guest_all_zero());
	free(img);
	guest_reset();
}

TEST(test_load_page_by_page)
{
	struct img_params ip = defaults();
	size_t size, isize = 100 * KiB + 7;
	uint8_t *img, *initrd = make_initrd(isize);

	ip.payload = 200 * KiB + 5;
	ip.syssize = 1;
	img = make_image(&ip, &size);
	std_guest(64 * MiB);
	guest.page_only = true;
	req_init(img, size);
	req.initrd = initrd;
	req.initrd_size = isize;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK(memcmp(gp(plan.kernel_gpa, ip.payload), img + 5 * 512, ip.payload) == 0);
	CHECK(memcmp(gp(plan.initrd_gpa, isize), initrd, isize) == 0);
	CHECK_STR((const char *)gp(plan.cmdline_gpa, 4096), "console=ttyS0 nokaslr");
	CHECK_EQ(gp(plan.boot_params_gpa, 4096)[0x210], 0xff);

	/* A usable page the callback cannot reach. */
	guest.page_only = false;
	guest.deny_gpa = 16 * MiB + 70 * KiB;
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EFAULT);
	CHECK_CONTAINS(err, "0x1011000 is usable RAM in the memory map but cannot be reached");
	CHECK_EQ(plan.kernel_gpa, 0);

	/* boot_params itself unreachable. */
	guest.deny_gpa = 64 * MiB - 100;
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), -EFAULT);
	CHECK_CONTAINS(err, "boot_params");
	free(img);
	free(initrd);
	guest_reset();
}

TEST(test_load_efi_and_screen_info)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size), *bp;
	struct boot_framebuffer fb = {
		.base = 0x80000000,
		.width = 1024,
		.height = 768,
		.pitch = 4096,
		.bpp = 32,
		.red_pos = 16,
		.red_size = 8,
		.green_pos = 8,
		.green_size = 8,
		.blue_pos = 0,
		.blue_size = 8,
	};

	std_guest(64 * MiB);
	req_init(img, size);
	req.fb = &fb;
	req.rsdp = 0x1234567890ull;
	req.efi_systab = 0x123456789abcull;
	req.efi_mmap = 0x2fedcba98000ull;
	req.efi_mmap_size = 48 * 40;
	req.efi_desc_size = 48;
	req.efi_desc_version = 1;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(rd(bp, 0x070, 8), 0x1234567890ull);
	/* efi_info */
	CHECK(memcmp(bp + 0x1c0, "EL64", 4) == 0);
	CHECK_EQ(rd(bp, 0x1c4, 4), 0x56789abc);
	CHECK_EQ(rd(bp, 0x1d8, 4), 0x1234);
	CHECK_EQ(rd(bp, 0x1c8, 4), 48);
	CHECK_EQ(rd(bp, 0x1cc, 4), 1);
	CHECK_EQ(rd(bp, 0x1d0, 4), 0xcba98000);
	CHECK_EQ(rd(bp, 0x1dc, 4), 0x2fed);
	CHECK_EQ(rd(bp, 0x1d4, 4), 48 * 40);
	/* screen_info: EFI GOP style. */
	CHECK_EQ(bp[0x0f], 0x70);
	CHECK_EQ(rd(bp, 0x12, 2), 1024);
	CHECK_EQ(rd(bp, 0x14, 2), 768);
	CHECK_EQ(rd(bp, 0x16, 2), 32);
	CHECK_EQ(rd(bp, 0x18, 4), 0x80000000);
	CHECK_EQ(rd(bp, 0x1c, 4), 4096 * 768);
	CHECK_EQ(rd(bp, 0x24, 2), 4096);
	CHECK_EQ(bp[0x26], 8);
	CHECK_EQ(bp[0x27], 16);
	CHECK_EQ(bp[0x28], 8);
	CHECK_EQ(bp[0x29], 8);
	CHECK_EQ(bp[0x2a], 8);
	CHECK_EQ(bp[0x2b], 0);
	CHECK_EQ(bp[0x2c], 8);
	CHECK_EQ(bp[0x2d], 24);
	CHECK_EQ(rd(bp, 0x32, 2), 1);
	CHECK_EQ(rd(bp, 0x36, 4), 1); /* SKIP_QUIRKS */
	CHECK_EQ(rd(bp, 0x3a, 4), 0);
	CHECK_EQ(bp[0x1ef], 0);

	/* VESA style (no EFI), framebuffer above 4 GiB, 16 bpp 5:6:5. */
	fb.base = 0x4000000000ull + 0x1000000;
	fb.bpp = 16;
	fb.pitch = 2048;
	fb.red_pos = 11;
	fb.red_size = 5;
	fb.green_pos = 5;
	fb.green_size = 6;
	fb.blue_size = 5;
	req_init(img, size);
	req.fb = &fb;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(bp[0x0f], 0x23);
	CHECK_EQ(rd(bp, 0x18, 4), 0x1000000);
	CHECK_EQ(rd(bp, 0x3a, 4), 0x40);
	CHECK_EQ(rd(bp, 0x36, 4), 2);  /* 64BIT_BASE */
	CHECK_EQ(rd(bp, 0x1c, 4), 24); /* 1.5 MiB in 64 KiB units */
	CHECK_EQ(rd(bp, 0x16, 2), 16);
	CHECK_EQ(bp[0x2c], 0);
	CHECK_EQ(bp[0x2d], 0);
	for (size_t i = 0x1c0; i < 0x1e0; i++)
		CHECK_EQ(bp[i], 0);

	/* No framebuffer base, or geometry too big for screen_info: headless. */
	fb.base = 0;
	req_init(img, size);
	req.fb = &fb;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	for (size_t i = 0; i < 0x40; i++)
		CHECK_EQ(bp[i], 0);
	fb.base = 0x80000000;
	fb.width = 70000;
	req_init(img, size);
	req.fb = &fb;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	for (size_t i = 0; i < 0x40; i++)
		CHECK_EQ(bp[i], 0);
	free(img);
	guest_reset();
}

TEST(test_load_overwrites_stale_boot_params)
{
	struct img_params ip = defaults();
	size_t size;
	uint8_t *img = make_image(&ip, &size), *bp;

	/* Guest memory full of junk: boot_params must still come out exact. */
	std_guest(64 * MiB);
	memset(guest.r[0].mem, 0xcc, 64 * MiB);
	req_init(img, size);
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(bp[0x1ef], 0);
	CHECK_EQ(bp[0x1e8], 3);
	for (size_t i = 0; i < 0x1f1; i++)
		if (i != 0x1e8)
			CHECK_EQ(bp[i], 0);
	for (size_t i = 0x2d0 + 3 * 20; i < 4096; i++)
		CHECK_EQ(bp[i], 0);
	/* The command-line buffer is zero past the string. */
	for (size_t i = strlen(req.cmdline); i < 4096; i++)
		CHECK_EQ(gp(plan.cmdline_gpa, 4096)[i], 0);
	free(img);
	guest_reset();
}

/* ---- Debian's kernel, when tools/fetch-kernel has cached it ---- */

TEST(test_cached_debian_kernel)
{
	struct linux_image_info info;
	FILE *f = fopen(KERNEL_CACHE, "rb");
	uint8_t *img, *bp;
	long size;

	if (!f) {
		printf("  skipped: no cached kernel (%s)\n", KERNEL_CACHE);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	img = malloc((size_t)size);
	CHECK_EQ(fread(img, 1, (size_t)size, f), (size_t)size);
	fclose(f);

	CHECK_EQ(linux_parse_bzimage(img, (size_t)size, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(info.protocol >= 0x020f);
	CHECK(info.xloadflags & XLF_KERNEL_64);
	CHECK(info.xloadflags & XLF_ABOVE_4G);
	CHECK(info.relocatable);
	CHECK(info.loadflags & 0x01);
	CHECK_EQ(info.kernel_alignment, 2 * MiB);
	CHECK_EQ(info.pref_address, 16 * MiB);
	CHECK(info.init_size >= info.payload_size && info.init_size < 512 * MiB);
	CHECK(info.cmdline_size >= 255);
	CHECK_EQ(info.setup_size + info.payload_size, (uint64_t)size);

	/* Load it into a 256 MiB guest with a small initrd. */
	std_guest(256 * MiB);
	req_init(img, (size_t)size);
	req.initrd = img;
	req.initrd_size = 4096;
	CHECK_EQ(linux_load(&req, &plan, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(plan.kernel_gpa, 16 * MiB);
	check_plan(&plan, (info.init_size + 0xfffull) & ~0xfffull, 4096,
		   ((uint64_t)info.cmdline_size + 1 + 0xfff) & ~0xfffull);
	CHECK(memcmp(gp(plan.kernel_gpa, info.payload_size), img + info.setup_size,
		     info.payload_size) == 0);
	bp = gp(plan.boot_params_gpa, 4096);
	CHECK_EQ(bp[0x1ef], 0);
	CHECK_EQ(rd(bp, 0x202, 4), 0x53726448);
	CHECK_EQ(rd(bp, 0x260, 4), info.init_size);
	CHECK_EQ(bp[0x210], 0xff);
	free(img);
	guest_reset();
}

TEST_MAIN(TEST_CASE(test_parse_ok), TEST_CASE(test_parse_setup_sects_zero_means_4),
	  TEST_CASE(test_parse_rejects_small), TEST_CASE(test_parse_rejects_signatures),
	  TEST_CASE(test_parse_rejects_old_protocol), TEST_CASE(test_parse_rejects_header_end),
	  TEST_CASE(test_parse_rejects_truncated), TEST_CASE(test_parse_rejects_flags),
	  TEST_CASE(test_parse_rejects_header_values), TEST_CASE(test_parse_nonrelocatable_ok),
	  TEST_CASE(test_load_basic), TEST_CASE(test_load_no_initrd_empty_cmdline),
	  TEST_CASE(test_load_pref_not_usable), TEST_CASE(test_load_alignment),
	  TEST_CASE(test_load_never_below_pref), TEST_CASE(test_load_adjacent_usable_entries),
	  TEST_CASE(test_load_big_init_size_message), TEST_CASE(test_load_nonrelocatable),
	  TEST_CASE(test_load_kernel_below_4g_without_xlf), TEST_CASE(test_load_initrd_limit),
	  TEST_CASE(test_load_initrd_above_4g), TEST_CASE(test_load_cmdline_above_4g),
	  TEST_CASE(test_load_cmdline_length), TEST_CASE(test_load_e820),
	  TEST_CASE(test_load_too_many_e820), TEST_CASE(test_load_map_errors),
	  TEST_CASE(test_load_page_by_page), TEST_CASE(test_load_efi_and_screen_info),
	  TEST_CASE(test_load_overwrites_stale_boot_params), TEST_CASE(test_cached_debian_kernel))
