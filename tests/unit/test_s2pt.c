// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/s2pt.c, against a fake physical memory: a pool of
 * 4 KiB pages at made-up physical addresses, handed out through the
 * alloc_page / phys_to_virt callbacks. The expected entry values are
 * written out from the manuals, independently of the implementation:
 *   NPT (APM Vol. 2 5.3.3): P 0, RW 1, US 2, PWT 3, PCD 4, PS 7, NX 63.
 *   EPT (SDM Vol. 3C tables 29-1..29-6): R 0, W 1, X 2, type 5:3, large 7.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <x86/s2pt.h>

#define POOL_BASE 0x7a0000000ull /* fake physical address of pool page 0 */
#define POOL_MAX 4096

struct pool {
	uint8_t *mem;
	size_t nr;     /* pages in the pool */
	size_t used;   /* pages handed out */
	size_t budget; /* pages that may still be handed out */
};

static void *pool_alloc(void *ctx, uint64_t *pa)
{
	struct pool *p = ctx;
	void *page;

	if (p->used == p->nr || !p->budget)
		return NULL;
	page = p->mem + p->used * PAGE_SIZE;
	/* Dirty, then zeroed: the contract is a zeroed page. */
	memset(page, 0, PAGE_SIZE);
	*pa = POOL_BASE + p->used * PAGE_SIZE;
	p->used++;
	p->budget--;
	return page;
}

static void *pool_virt(void *ctx, uint64_t pa)
{
	struct pool *p = ctx;

	if (pa < POOL_BASE || pa >= POOL_BASE + p->used * PAGE_SIZE || (pa & 0xfff)) {
		printf("  phys_to_virt(0x%" PRIx64 "): not a table page\n", pa);
		abort();
	}
	return p->mem + (pa - POOL_BASE);
}

static struct pool pool;

static void pool_reset(size_t nr)
{
	if (!pool.mem) {
		pool.mem = aligned_alloc(PAGE_SIZE, POOL_MAX * PAGE_SIZE);
		if (!pool.mem)
			abort();
	}
	memset(pool.mem, 0xee, POOL_MAX * PAGE_SIZE);
	pool.nr = nr;
	pool.used = 0;
	pool.budget = SIZE_MAX;
}

static struct s2pt new_pt(enum s2pt_format format, bool allow_1g, size_t pool_pages)
{
	struct s2pt pt = {
		.format = format,
		.alloc_page = pool_alloc,
		.phys_to_virt = pool_virt,
		.ctx = &pool,
		.allow_1g = allow_1g,
	};

	pool_reset(pool_pages);
	if (s2pt_init(&pt) != 0)
		abort();
	return pt;
}

/* ---- An independent walker over the fake memory. ---- */

#define ADDR(e) ((e)&0x000ffffffffff000ull)

static bool present(const struct s2pt *pt, uint64_t e)
{
	return pt->format == S2PT_EPT ? (e & 7) != 0 : (e & 1) != 0;
}

static uint64_t *tbl(uint64_t pa)
{
	return pool_virt(&pool, pa);
}

/* The entry for gpa at level (3 = PML4 .. 0 = PT); 0 with *missing when the walk stops above. */
static uint64_t entry_at(const struct s2pt *pt, uint64_t gpa, int level, bool *missing)
{
	uint64_t *t = tbl(pt->root_pa);

	*missing = false;
	for (int l = 3;; l--) {
		uint64_t e = t[(gpa >> (12 + 9 * l)) & 511];

		if (l == level)
			return e;
		if (!present(pt, e) || (l < 3 && (e & 0x80))) {
			*missing = true;
			return 0;
		}
		t = tbl(ADDR(e));
	}
}

static uint64_t entry(const struct s2pt *pt, uint64_t gpa, int level)
{
	bool missing;
	uint64_t e = entry_at(pt, gpa, level, &missing);

	CHECK(!missing);
	return e;
}

/* Expected leaf bits (address and bit 7 aside) per format. */
static uint64_t want_leaf(enum s2pt_format f, unsigned int perms, enum s2pt_memtype t)
{
	uint64_t e;

	if (f == S2PT_EPT) {
		e = 0x1; /* R */
		if (perms & S2PT_WRITE)
			e |= 0x2;
		if (perms & S2PT_EXEC)
			e |= 0x4;
		e |= (t == S2PT_WB ? 6ull : 0ull) << 3;
		return e;
	}
	e = 0x1 | 0x4; /* P, US */
	if (perms & S2PT_WRITE)
		e |= 0x2;
	if (!(perms & S2PT_EXEC))
		e |= 1ull << 63;
	if (t == S2PT_UC)
		e |= 0x8 | 0x10;
	return e;
}

/* Non-leaf entries: R|W|X (EPT) or P|RW|US (NPT), both 0x7. */
static uint64_t want_table(enum s2pt_format f)
{
	return 0x7;
}

/* Leaf bits for one of the permission sets and memory types the tests use. */
static bool leaf_attrs_valid(enum s2pt_format f, uint64_t attrs)
{
	static const unsigned int perms[] = { S2PT_READ, S2PT_READ | S2PT_WRITE,
					      S2PT_READ | S2PT_EXEC, S2PT_RWX };

	for (size_t i = 0; i < ARRAY_SIZE(perms); i++) {
		if (attrs == want_leaf(f, perms[i], S2PT_WB) ||
		    attrs == want_leaf(f, perms[i], S2PT_UC))
			return true;
	}
	return false;
}

/*
 * Check every table reachable from the root: table pointers point to pool
 * pages with exactly the non-leaf bits, each pool page is used once (no
 * sharing) and every page handed out is reachable (nothing leaked), and
 * leaves have an aligned address and no stray bits. Returns tables seen.
 */
static size_t check_tree_rec(const struct s2pt *pt, uint64_t pa, int level, uint8_t *seen)
{
	size_t idx = (pa - POOL_BASE) / PAGE_SIZE, n = 1;
	uint64_t *t = tbl(pa);

	CHECK(!seen[idx]);
	seen[idx] = 1;
	for (int i = 0; i < 512; i++) {
		uint64_t e = t[i];

		if (!present(pt, e)) {
			CHECK_EQ(e, 0);
			continue;
		}
		if (level == 0 || (level < 3 && (e & 0x80))) {
			uint64_t size = 1ull << (12 + 9 * level);
			uint64_t attrs = e & ~ADDR(e) & ~0x80ull;

			CHECK(level <= 2);
			CHECK_EQ(ADDR(e) & (size - 1), 0);
			CHECK(leaf_attrs_valid(pt->format, attrs));
			if (level == 0)
				CHECK_EQ(e & 0x80, 0);
			continue;
		}
		CHECK_EQ(e & ~ADDR(e), want_table(pt->format));
		n += check_tree_rec(pt, ADDR(e), level - 1, seen);
	}
	return n;
}

static void check_tree(const struct s2pt *pt)
{
	static uint8_t seen[POOL_MAX];

	memset(seen, 0, sizeof(seen));
	CHECK_EQ(check_tree_rec(pt, pt->root_pa, 3, seen), pool.used);
}

/* lookup() must agree with the expected translation. */
static void check_map(const struct s2pt *pt, uint64_t gpa, uint64_t hpa, unsigned int perms,
		      uint64_t page_size)
{
	uint64_t h = 0, ps = 0;
	unsigned int p = 0;
	int ret = s2pt_lookup(pt, gpa, &h, &p, &ps);

	CHECK_EQ(ret, 0);
	CHECK_EQ(h, hpa);
	CHECK_EQ(p, perms);
	CHECK_EQ(ps, page_size);
	if (ret || h != hpa || p != perms || ps != page_size)
		printf("  (gpa 0x%" PRIx64 ")\n", gpa);
}

static void check_unmapped(const struct s2pt *pt, uint64_t gpa)
{
	uint64_t h;
	unsigned int p;
	uint64_t ps;

	CHECK_EQ(s2pt_lookup(pt, gpa, &h, &p, &ps), -ENOENT);
}

static const enum s2pt_format formats[] = { S2PT_NPT, S2PT_EPT };

/* ---- Tests ---- */

TEST(init)
{
	struct s2pt pt = { .format = S2PT_NPT,
			   .alloc_page = pool_alloc,
			   .phys_to_virt = pool_virt,
			   .ctx = &pool };

	pool_reset(0);
	CHECK_EQ(s2pt_init(&pt), -ENOMEM);
	pool_reset(1);
	CHECK_EQ(s2pt_init(&pt), 0);
	CHECK_EQ(pt.root_pa, POOL_BASE);
	CHECK_EQ(pool.used, 1);
	/* An empty table: nothing mapped anywhere. */
	check_unmapped(&pt, 0);
	check_unmapped(&pt, 0xfee00000);
	check_unmapped(&pt, (1ull << 48) - PAGE_SIZE);
	check_unmapped(&pt, 1ull << 48);
	check_tree(&pt);
}

/* Identity map [0, 6 GiB) minus [3 GiB, 4 GiB), with 1 GiB pages. */
TEST(identity_1g)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);
		uint64_t leaf = want_leaf(formats[f], S2PT_RWX, S2PT_WB) | 0x80;

		CHECK_EQ(s2pt_map(&pt, 0, 0, 3 * GiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(s2pt_map(&pt, 4 * GiB, 4 * GiB, 2 * GiB, S2PT_RWX, S2PT_WB), 0);
		/* Root and one PDPT. */
		CHECK_EQ(pool.used, 2);
		CHECK_EQ(entry(&pt, 0, 3), POOL_BASE + PAGE_SIZE + want_table(formats[f]));
		for (uint64_t g = 0; g < 6; g++) {
			if (g == 3) {
				CHECK_EQ(entry(&pt, g * GiB, 2), 0);
				continue;
			}
			CHECK_EQ(entry(&pt, g * GiB, 2), g * GiB | leaf);
			check_map(&pt, g * GiB, g * GiB, S2PT_RWX, GiB);
			check_map(&pt, g * GiB + 0x12345678, g * GiB + 0x12345678, S2PT_RWX, GiB);
			check_map(&pt, g * GiB + GiB - 1, g * GiB + GiB - 1, S2PT_RWX, GiB);
		}
		check_unmapped(&pt, 3 * GiB);
		check_unmapped(&pt, 0xfee00000);
		check_unmapped(&pt, 4 * GiB - 1);
		check_unmapped(&pt, 6 * GiB);
		check_unmapped(&pt, 512 * GiB);
		check_tree(&pt);
	}
}

/* The same without 1 GiB pages: 2 MiB ones. */
TEST(identity_2m)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], false, 64);
		uint64_t leaf = want_leaf(formats[f], S2PT_RWX, S2PT_WB) | 0x80;

		CHECK_EQ(s2pt_map(&pt, 0, 0, 3 * GiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(s2pt_map(&pt, 4 * GiB, 4 * GiB, 2 * GiB, S2PT_RWX, S2PT_WB), 0);
		/* Root, PDPT, 5 PDs. */
		CHECK_EQ(pool.used, 7);
		for (uint64_t g = 0; g < 6 * GiB; g += 2 * MiB) {
			if (g >= 3 * GiB && g < 4 * GiB)
				continue;
			CHECK_EQ(entry(&pt, g, 1), g | leaf);
		}
		CHECK_EQ(entry(&pt, 3 * GiB, 2), 0);
		for (uint64_t g = 0; g < 6; g++)
			CHECK_EQ(entry(&pt, g * GiB, 2) & 0x80, 0);
		check_map(&pt, 0x1234567, 0x1234567, S2PT_RWX, 2 * MiB);
		check_map(&pt, 5 * GiB + 0x1fffff, 5 * GiB + 0x1fffff, S2PT_RWX, 2 * MiB);
		check_unmapped(&pt, 3 * GiB + 0x1000);
		check_tree(&pt);
	}
}

/* Unaligned edges: 4 KiB pages up to the first 2 MiB boundary and after the last. */
TEST(edges)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);
		uint64_t start = 2 * MiB - 3 * PAGE_SIZE, end = 8 * MiB + 2 * PAGE_SIZE;
		uint64_t leaf = want_leaf(formats[f], S2PT_RWX, S2PT_WB);

		CHECK_EQ(s2pt_map(&pt, start, start + 0x40000000, end - start, S2PT_RWX, S2PT_WB),
			 0);
		check_unmapped(&pt, start - PAGE_SIZE);
		for (uint64_t g = start; g < 2 * MiB; g += PAGE_SIZE) {
			check_map(&pt, g, g + 0x40000000, S2PT_RWX, PAGE_SIZE);
			CHECK_EQ(entry(&pt, g, 0), (g + 0x40000000) | leaf);
		}
		for (uint64_t g = 2 * MiB; g < 8 * MiB; g += 2 * MiB) {
			check_map(&pt, g + 0x1000, g + 0x40001000, S2PT_RWX, 2 * MiB);
			CHECK_EQ(entry(&pt, g, 1), (g + 0x40000000) | leaf | 0x80);
		}
		check_map(&pt, 8 * MiB, 8 * MiB + 0x40000000, S2PT_RWX, PAGE_SIZE);
		check_map(&pt, 8 * MiB + 0x1fff, 8 * MiB + 0x40001fff, S2PT_RWX, PAGE_SIZE);
		check_unmapped(&pt, end);
		check_unmapped(&pt, 0);
		check_tree(&pt);

		/* GPA and HPA not congruent modulo 2 MiB: 4 KiB pages only. */
		pt = new_pt(formats[f], true, 64);
		CHECK_EQ(s2pt_map(&pt, 2 * GiB, 0x1000, 4 * MiB, S2PT_READ, S2PT_WB), 0);
		for (uint64_t g = 0; g < 4 * MiB; g += 64 * KiB)
			check_map(&pt, 2 * GiB + g, 0x1000 + g, S2PT_READ, PAGE_SIZE);
		/* Root, PDPT, PD, 2 PTs. */
		CHECK_EQ(pool.used, 5);
		check_tree(&pt);

		/* 2 MiB congruent but not 1 GiB: 2 MiB pages even with allow_1g. */
		pt = new_pt(formats[f], true, 64);
		CHECK_EQ(s2pt_map(&pt, GiB, 2 * MiB, GiB, S2PT_RWX, S2PT_WB), 0);
		check_map(&pt, GiB, 2 * MiB, S2PT_RWX, 2 * MiB);
		check_map(&pt, 2 * GiB - 1, GiB + 2 * MiB - 1, S2PT_RWX, 2 * MiB);
		check_tree(&pt);
	}
}

/* Exact bits for each permission / memory type combination. */
TEST(encodings)
{
	static const struct {
		enum s2pt_format f;
		unsigned int perms;
		enum s2pt_memtype t;
		uint64_t bits;
	} cases[] = {
		{ S2PT_NPT, S2PT_RWX, S2PT_WB, 0x7 },
		{ S2PT_NPT, S2PT_READ | S2PT_WRITE, S2PT_UC, 0x1f | 1ull << 63 },
		{ S2PT_NPT, S2PT_READ, S2PT_WB, 0x5 | 1ull << 63 },
		{ S2PT_NPT, S2PT_READ | S2PT_EXEC, S2PT_WB, 0x5 },
		{ S2PT_NPT, S2PT_READ | S2PT_EXEC, S2PT_UC, 0x1d },
		{ S2PT_EPT, S2PT_RWX, S2PT_WB, 0x37 },
		{ S2PT_EPT, S2PT_READ | S2PT_WRITE, S2PT_UC, 0x3 },
		{ S2PT_EPT, S2PT_READ, S2PT_WB, 0x31 },
		{ S2PT_EPT, S2PT_READ | S2PT_EXEC, S2PT_WB, 0x35 },
		{ S2PT_EPT, S2PT_READ | S2PT_EXEC, S2PT_UC, 0x5 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct s2pt pt = new_pt(cases[i].f, true, 64);
		uint64_t hpa = 0x000fffffc0000000ull; /* top 1 GiB of a 52-bit space */

		CHECK_EQ(s2pt_map(&pt, GiB, hpa, GiB, cases[i].perms, cases[i].t), 0);
		CHECK_EQ(s2pt_map(&pt, 0x1000, 0xfee00000, PAGE_SIZE, cases[i].perms, cases[i].t),
			 0);
		CHECK_EQ(s2pt_map(&pt, 4 * MiB, 6 * MiB, 2 * MiB, cases[i].perms, cases[i].t), 0);
		CHECK_EQ(entry(&pt, GiB, 2), hpa | cases[i].bits | 0x80);
		CHECK_EQ(entry(&pt, 0x1000, 0), 0xfee00000 | cases[i].bits);
		CHECK_EQ(entry(&pt, 4 * MiB, 1), 6 * MiB | cases[i].bits | 0x80);
		CHECK_EQ(entry(&pt, 0, 3) & ~ADDR(entry(&pt, 0, 3)), 0x7);
		CHECK_EQ(entry(&pt, 0, 2) & ~ADDR(entry(&pt, 0, 2)), 0x7);
		CHECK_EQ(entry(&pt, 0, 1) & ~ADDR(entry(&pt, 0, 1)), 0x7);
		check_map(&pt, GiB + 0x123, hpa + 0x123, cases[i].perms, GiB);
		check_map(&pt, 0x1abc, 0xfee00abc, cases[i].perms, PAGE_SIZE);
		check_map(&pt, 5 * MiB, 7 * MiB, cases[i].perms, 2 * MiB);
		check_tree(&pt);
	}
}

/* A later 4 KiB mapping inside a 1 GiB page splits it twice; the rest stays mapped. */
TEST(split_1g)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);
		uint64_t page = GiB + 5 * MiB + 0x3000, old_leaf, leaf;

		CHECK_EQ(s2pt_map(&pt, 0, 0, 2 * GiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(pool.used, 2);
		CHECK_EQ(
			s2pt_map(&pt, page, 0xfee00000, PAGE_SIZE, S2PT_READ | S2PT_WRITE, S2PT_UC),
			0);
		/* One PD for the 1 GiB page, one PT for the 2 MiB page holding the 4 KiB one. */
		CHECK_EQ(pool.used, 4);
		check_map(&pt, page + 0x10, 0xfee00010, S2PT_READ | S2PT_WRITE, PAGE_SIZE);
		CHECK_EQ(entry(&pt, page, 0),
			 0xfee00000 | want_leaf(formats[f], S2PT_READ | S2PT_WRITE, S2PT_UC));
		/* The other 511 pages of that 2 MiB page, now 4 KiB pages. */
		old_leaf = want_leaf(formats[f], S2PT_RWX, S2PT_WB);
		for (uint64_t g = GiB + 4 * MiB; g < GiB + 6 * MiB; g += PAGE_SIZE) {
			if (g == page)
				continue;
			check_map(&pt, g + 1, g + 1, S2PT_RWX, PAGE_SIZE);
			CHECK_EQ(entry(&pt, g, 0), g | old_leaf);
		}
		/* The other 511 2 MiB pages of the 1 GiB page. */
		leaf = old_leaf | 0x80;
		for (uint64_t g = GiB; g < 2 * GiB; g += 2 * MiB) {
			if (g == GiB + 4 * MiB)
				continue;
			check_map(&pt, g + 0x1ff000, g + 0x1ff000, S2PT_RWX, 2 * MiB);
			CHECK_EQ(entry(&pt, g, 1), g | leaf);
		}
		/* The first 1 GiB page is untouched. */
		check_map(&pt, 0x3ffff000, 0x3ffff000, S2PT_RWX, GiB);
		CHECK_EQ(entry(&pt, 0, 2), leaf);
		check_tree(&pt);

		/* Mapping the page back as it was needs no further tables. */
		CHECK_EQ(s2pt_map(&pt, page, page, PAGE_SIZE, S2PT_RWX, S2PT_WB), 0);
		check_map(&pt, page, page, S2PT_RWX, PAGE_SIZE);
		CHECK_EQ(pool.used, 4);
		/* Remapping part of a large page the same way splits nothing. */
		CHECK_EQ(s2pt_map(&pt, 0x200000, 0x200000, PAGE_SIZE, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(pool.used, 4);
		check_map(&pt, 0x200000, 0x200000, S2PT_RWX, GiB);
		check_tree(&pt);
	}
}

/* Unmapping part of a 2 MiB page splits it; the rest stays mapped. */
TEST(unmap_split_2m)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], false, 64);
		uint64_t hole = 6 * MiB + 0x5000;

		CHECK_EQ(s2pt_map(&pt, 0, 0x100000000ull, 16 * MiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(pool.used, 3);
		CHECK_EQ(s2pt_unmap(&pt, hole, 2 * PAGE_SIZE), 0);
		CHECK_EQ(pool.used, 4);
		check_unmapped(&pt, hole);
		check_unmapped(&pt, hole + PAGE_SIZE + 0xfff);
		CHECK_EQ(entry(&pt, hole, 0), 0);
		for (uint64_t g = 6 * MiB; g < 8 * MiB; g += PAGE_SIZE) {
			if (g == hole || g == hole + PAGE_SIZE)
				continue;
			check_map(&pt, g, 0x100000000ull + g, S2PT_RWX, PAGE_SIZE);
		}
		for (uint64_t g = 0; g < 16 * MiB; g += 2 * MiB) {
			if (g == 6 * MiB)
				continue;
			check_map(&pt, g + 0x800, 0x100000000ull + g + 0x800, S2PT_RWX, 2 * MiB);
		}
		check_unmapped(&pt, 16 * MiB);
		check_tree(&pt);

		/* Whole large pages go without splitting; unmapped ranges are fine. */
		CHECK_EQ(s2pt_unmap(&pt, 8 * MiB, 8 * MiB), 0);
		CHECK_EQ(s2pt_unmap(&pt, 100 * GiB, 3 * GiB), 0);
		CHECK_EQ(pool.used, 4);
		check_unmapped(&pt, 8 * MiB);
		check_unmapped(&pt, 15 * MiB);
		check_map(&pt, 7 * MiB, 0x100000000ull + 7 * MiB, S2PT_RWX, PAGE_SIZE);
		/* Unmapping everything empties the tables (which stay). */
		CHECK_EQ(s2pt_unmap(&pt, 0, 1ull << 48), 0);
		for (uint64_t g = 0; g < 16 * MiB; g += PAGE_SIZE)
			check_unmapped(&pt, g);
		CHECK_EQ(pool.used, 4);
		check_tree(&pt);
	}
}

/* Unmapping a 4 KiB page of a 1 GiB page. */
TEST(unmap_split_1g)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);

		CHECK_EQ(s2pt_map(&pt, 0, 0, GiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(s2pt_unmap(&pt, 0xfee00000 - 3 * GiB, PAGE_SIZE), 0);
		check_unmapped(&pt, 0xfee00000 - 3 * GiB);
		check_map(&pt, 0xfee01000 - 3 * GiB, 0xfee01000 - 3 * GiB, S2PT_RWX, PAGE_SIZE);
		check_map(&pt, 0, 0, S2PT_RWX, 2 * MiB);
		CHECK_EQ(pool.used, 4);
		check_tree(&pt);
	}
}

/* Remapping with other permissions and a range over an existing table. */
TEST(remap)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);

		CHECK_EQ(s2pt_map(&pt, 0, 0, 4 * MiB, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(s2pt_map(&pt, 0, 0, 2 * MiB, S2PT_READ, S2PT_WB), 0);
		check_map(&pt, 0x1000, 0x1000, S2PT_READ, 2 * MiB);
		check_map(&pt, 0x200000, 0x200000, S2PT_RWX, 2 * MiB);

		/* A 4 KiB page first, then the whole 2 MiB around it: the table stays. */
		CHECK_EQ(s2pt_map(&pt, 16 * MiB + 0x3000, 0x5000, PAGE_SIZE, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(
			s2pt_map(&pt, 16 * MiB, 32 * MiB, 2 * MiB, S2PT_READ | S2PT_WRITE, S2PT_UC),
			0);
		for (uint64_t g = 0; g < 2 * MiB; g += PAGE_SIZE)
			check_map(&pt, 16 * MiB + g, 32 * MiB + g, S2PT_READ | S2PT_WRITE,
				  PAGE_SIZE);
		check_tree(&pt);
	}
}

TEST(invalid)
{
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], true, 64);

		CHECK_EQ(s2pt_map(&pt, 0x800, 0, PAGE_SIZE, S2PT_RWX, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0x10, PAGE_SIZE, S2PT_RWX, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE + 1, S2PT_RWX, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE, 0, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE, S2PT_WRITE, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE, S2PT_EXEC, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE, S2PT_RWX | 0x100, S2PT_WB), -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, 0, PAGE_SIZE, S2PT_RWX, (enum s2pt_memtype)7), -EINVAL);
		/* Beyond the 48-bit GPA space, the 52-bit HPA space, or wrapping. */
		CHECK_EQ(s2pt_map(&pt, (1ull << 48) - PAGE_SIZE, 0, 2 * PAGE_SIZE, S2PT_RWX,
				  S2PT_WB),
			 -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0, (1ull << 52) - PAGE_SIZE, 2 * PAGE_SIZE, S2PT_RWX,
				  S2PT_WB),
			 -EINVAL);
		CHECK_EQ(s2pt_map(&pt, 0xfffffffffffff000ull, 0, 2 * PAGE_SIZE, S2PT_RWX, S2PT_WB),
			 -EINVAL);
		CHECK_EQ(s2pt_unmap(&pt, 0x800, PAGE_SIZE), -EINVAL);
		CHECK_EQ(s2pt_unmap(&pt, 0, 0x800), -EINVAL);
		CHECK_EQ(s2pt_unmap(&pt, 0xfffffffffffff000ull, 2 * PAGE_SIZE), -EINVAL);
		/* Nothing happened. */
		CHECK_EQ(pool.used, 1);
		check_unmapped(&pt, 0);
		/* The very top of both spaces is fine; an empty range does nothing. */
		CHECK_EQ(s2pt_map(&pt, (1ull << 48) - GiB, (1ull << 52) - GiB, GiB, S2PT_RWX,
				  S2PT_WB),
			 0);
		check_map(&pt, (1ull << 48) - 1, (1ull << 52) - 1, S2PT_RWX, GiB);
		CHECK_EQ(s2pt_map(&pt, 0, 0, 0, S2PT_RWX, S2PT_WB), 0);
		CHECK_EQ(s2pt_unmap(&pt, 0, 0), 0);
		check_tree(&pt);
	}
}

/*
 * Out of memory at every possible point of a map and an unmap that need
 * several tables: -ENOMEM, the tree stays well-formed with nothing leaked,
 * and every page maps either as before or as requested.
 */
TEST(enomem)
{
	/* Both need 4 tables: 2 PDs and 2 PTs to split the pages around the range's edges. */
	const uint64_t start = GiB - 3 * PAGE_SIZE, len = 4 * MiB + 6 * PAGE_SIZE;

	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		size_t budget;

		for (budget = 0; budget < 16; budget++) {
			struct s2pt pt = new_pt(formats[f], true, 64);
			int ret;

			CHECK_EQ(s2pt_map(&pt, 0, 0, 2 * GiB, S2PT_RWX, S2PT_WB), 0);
			pool.budget = budget;
			ret = s2pt_map(&pt, start, 8 * GiB + start, len, S2PT_READ, S2PT_UC);
			if (ret)
				CHECK_EQ(ret, -ENOMEM);
			check_tree(&pt);
			for (uint64_t g = start - 2 * MiB; g < start + len + 2 * MiB;
			     g += PAGE_SIZE) {
				uint64_t h = 0, ps;
				unsigned int p = 0;

				CHECK_EQ(s2pt_lookup(&pt, g, &h, &p, &ps), 0);
				if (g >= start && g < start + len && h == 8 * GiB + g)
					CHECK_EQ(p, S2PT_READ);
				else
					CHECK(h == g && p == S2PT_RWX);
				if (ret == 0 && g >= start && g < start + len)
					CHECK_EQ(h, 8 * GiB + g);
			}
			if (ret == 0)
				break;
		}
		CHECK_EQ(budget, 4);
		for (budget = 0; budget < 16; budget++) {
			struct s2pt pt = new_pt(formats[f], true, 64);
			int ret;

			CHECK_EQ(s2pt_map(&pt, 0, 0, 2 * GiB, S2PT_RWX, S2PT_WB), 0);
			pool.budget = budget;
			ret = s2pt_unmap(&pt, start, len);
			if (ret)
				CHECK_EQ(ret, -ENOMEM);
			check_tree(&pt);
			for (uint64_t g = start - 2 * MiB; g < start + len + 2 * MiB;
			     g += PAGE_SIZE) {
				uint64_t h = 0, ps;
				unsigned int p = 0;
				int r = s2pt_lookup(&pt, g, &h, &p, &ps);

				if (g >= start && g < start + len && r == -ENOENT)
					continue;
				CHECK_EQ(r, 0);
				CHECK(h == g && p == S2PT_RWX);
				if (ret == 0)
					CHECK(g < start || g >= start + len);
			}
			if (ret == 0)
				break;
		}
		CHECK_EQ(budget, 4);
	}
}

/*
 * Random maps and unmaps over a 1 GiB window against a page-by-page model.
 * The window sits at 511 GiB so that it straddles two PML4 entries.
 */
#define WIN_BASE (511 * GiB + 512 * MiB)
#define WIN_PAGES (GiB / PAGE_SIZE)

struct model_page {
	uint64_t hpa; /* 0: unmapped (hpa 0 is never used) */
	unsigned int perms;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random page-aligned offset in the window, biased towards 2 MiB and 1 GiB boundaries. */
static uint64_t rnd_offset(uint64_t max)
{
	uint64_t o = (rnd() % (max / PAGE_SIZE + 1)) * PAGE_SIZE;

	switch (rnd() % 4) {
	case 0:
		return o & ~(2 * MiB - 1);
	case 1:
		return o & ~(GiB / 4 - 1);
	default:
		return o;
	}
}

TEST(random_vs_model)
{
	static struct model_page model[WIN_PAGES];
	static const unsigned int perm_choices[] = { S2PT_RWX, S2PT_READ, S2PT_READ | S2PT_WRITE,
						     S2PT_READ | S2PT_EXEC };

	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		struct s2pt pt = new_pt(formats[f], f == 0, POOL_MAX);
		int before = test_failed_checks;

		memset(model, 0, sizeof(model));
		for (int op = 0; op < 300 && test_failed_checks == before; op++) {
			uint64_t off = rnd_offset(GiB - PAGE_SIZE);
			uint64_t len = rnd_offset(GiB - off);

			if (!len)
				len = PAGE_SIZE;
			if (rnd() % 3) {
				/* hpa: same 1 GiB alignment as the gpa half the time */
				uint64_t hpa = (rnd() % 2 ? (WIN_BASE + off)
							  : (rnd() % 4096) * PAGE_SIZE) +
					       (1ull << 40);
				unsigned int perms = perm_choices[rnd() % 4];
				enum s2pt_memtype t = rnd() % 2 ? S2PT_WB : S2PT_UC;

				CHECK_EQ(s2pt_map(&pt, WIN_BASE + off, hpa, len, perms, t), 0);
				for (uint64_t i = 0; i < len / PAGE_SIZE; i++) {
					model[off / PAGE_SIZE + i].hpa = hpa + i * PAGE_SIZE;
					model[off / PAGE_SIZE + i].perms = perms;
				}
			} else {
				CHECK_EQ(s2pt_unmap(&pt, WIN_BASE + off, len), 0);
				for (uint64_t i = 0; i < len / PAGE_SIZE; i++)
					model[off / PAGE_SIZE + i].hpa = 0;
			}
			/* Sampled lookups every time, all pages now and then. */
			for (uint64_t i = 0; i < WIN_PAGES; i += (op % 25 == 24) ? 1 : 4093) {
				uint64_t g = WIN_BASE + i * PAGE_SIZE, h = 0, ps = 0;
				unsigned int p = 0;
				int r = s2pt_lookup(&pt, g + 0x18, &h, &p, &ps);

				if (!model[i].hpa) {
					CHECK_EQ(r, -ENOENT);
					continue;
				}
				CHECK_EQ(r, 0);
				CHECK_EQ(h, model[i].hpa + 0x18);
				CHECK_EQ(p, model[i].perms);
				CHECK(ps == PAGE_SIZE || ps == 2 * MiB || ps == GiB);
				if (test_failed_checks != before) {
					printf("  op %d gpa 0x%" PRIx64 "\n", op, g);
					break;
				}
			}
		}
		check_unmapped(&pt, WIN_BASE - PAGE_SIZE);
		check_unmapped(&pt, WIN_BASE + GiB);
		check_tree(&pt);
	}
}

TEST_MAIN(TEST_CASE(init), TEST_CASE(identity_1g), TEST_CASE(identity_2m), TEST_CASE(edges),
	  TEST_CASE(encodings), TEST_CASE(split_1g), TEST_CASE(unmap_split_2m),
	  TEST_CASE(unmap_split_1g), TEST_CASE(remap), TEST_CASE(invalid), TEST_CASE(enomem),
	  TEST_CASE(random_vs_model))
