// SPDX-License-Identifier: MIT
/*
 * Second-stage page tables for AMD NPT and Intel EPT. Both are 4-level,
 * 512 entries of 8 bytes per 4 KiB table, indexed by GPA bits 47:39, 38:30,
 * 29:21 and 20:12 (SDM Vol. 3C 29.3.2, APM Vol. 2 5.3 and 15.25.5), with
 * 1 GiB leaves in the PDPT and 2 MiB leaves in the PD flagged by bit 7. Only
 * the permission and memory-type bits differ, so the walk is shared and the
 * entries are built by the two small encoders below.
 *
 * Consistency: a table entry is only ever replaced by one 64-bit store, and
 * a new table (fresh, or a split of a large page that keeps its mapping) is
 * filled before it is linked, so a concurrent hardware walk sees either the
 * old or the new translation. Stale TLB entries are the caller's business
 * (INVEPT, or an NPT TLB flush through the VMCB TLB_CONTROL / ASID).
 *
 * Tables are never freed: there is no free callback, so an unmap, or a map
 * over a range that a table already covers, keeps the table and rewrites its
 * entries. Nothing becomes unreachable, so nothing leaks.
 */
#include <keel/errno.h>
#include <x86/s2pt.h>

#define LEVELS 4
#define ENTRIES 512

/* Physical address bits 51:12 of an entry (SDM Vol. 3C tables 29-1..29-6, APM Vol. 2 5.3). */
#define ADDR_MASK 0x000ffffffffff000ull
/* A 4-level walk translates 48 GPA bits; MAXPHYADDR is at most 52. */
#define GPA_LIMIT (1ull << 48)
#define HPA_LIMIT (1ull << 52)

/*
 * Bit 7 is the page-size bit in both formats: NPT PDPE/PDE PS (APM Vol. 2
 * 5.3.4, 5.3.5), EPT "must be 1, otherwise references a table" in PDPTEs
 * and PDEs (SDM Vol. 3C tables 29-2 and 29-4). It is reserved in PML4Es
 * and is ignored (EPT) or PAT (NPT, kept 0) in 4 KiB PTEs.
 */
#define PTE_LARGE (1ull << 7)

/*
 * NPT: the long-mode format (APM Vol. 2 5.3, figures 5-20..5-25, fields in
 * 5.4.1); the nested tables use the host's paging format (15.25.5).
 */
#define NPT_P (1ull << 0)  /* present */
#define NPT_RW (1ull << 1) /* writable */
/*
 * User: must be set at every level. The nested walk is always a user
 * access (APM Vol. 2 15.25.5: "A table walk for the guest page itself is
 * always treated as a user access at the nested page table level"; guest
 * page-table accesses are treated as user writes), so U/S = 0 anywhere
 * makes every access fault.
 */
#define NPT_US (1ull << 2)
#define NPT_PWT (1ull << 3) /* write-through: PAT index bit 0 */
#define NPT_PCD (1ull << 4) /* cache disable: PAT index bit 1 */
/*
 * No-execute. The nested walk interprets its entries with the host's
 * paging controls: the NX bit is honoured only when EFER.NXE is set in the
 * *host* EFER, i.e. Keel's EFER when it executes VMRUN, not the guest's
 * VMCB EFER (which only governs the guest's own tables). With host
 * EFER.NXE = 0, bit 63 is a reserved bit (APM Vol. 2 5.4.1, NX field) and
 * a nested walk that meets it ends in #VMEXIT(NPF) with the RSV error bit.
 * So the SVM code must set EFER.NXE (CPUID 8000_0001h:EDX[20]) before
 * VMRUN whenever a mapping leaves out S2PT_EXEC.
 */
#define NPT_NX (1ull << 63)

/*
 * EPT (SDM Vol. 3C 29.3.2, tables 29-1..29-6). An entry whose bits 2:0
 * are all 0 is not present. Write without read is a misconfiguration, and
 * execute-only needs IA32_VMX_EPT_VPID_CAP bit 0 (SDM Vol. 3C 29.3.3.1,
 * "EPT Misconfigurations"), so S2PT_READ is required in both formats (NPT
 * has no way to deny reads anyway).
 */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
/* Execute (supervisor-only with mode-based execute control, which Keel leaves off). */
#define EPT_X (1ull << 2)
/* Leaf memory type, bits 5:3: 0 = UC, 6 = WB (SDM Vol. 3C "EPT and Memory Typing"). */
#define EPT_MT_SHIFT 3
#define EPT_MT_UC 0ull
#define EPT_MT_WB 6ull
/*
 * Bit 6, ignore PAT: left 0, so the EPT type combines with the guest's PAT
 * type (SDM Vol. 3C "Memory Type Used for Translated Guest-Physical
 * Addresses": the EPT type takes the MTRR type's place). Bits 6:3 of
 * non-leaf entries are reserved and stay 0; accessed/dirty (bits 8, 9) are
 * only used with EPTP bit 6.
 */

static uint64_t level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * level);
}

static unsigned int level_index(uint64_t gpa, int level)
{
	return (unsigned int)(gpa >> (PAGE_SHIFT + 9 * level)) & (ENTRIES - 1);
}

static bool entry_present(const struct s2pt *pt, uint64_t e)
{
	if (pt->format == S2PT_EPT)
		return e & (EPT_R | EPT_W | EPT_X);
	return e & NPT_P;
}

/* A present entry maps a page (rather than pointing to a table). */
static bool entry_leaf(uint64_t e, int level)
{
	return level == 0 || (level < LEVELS - 1 && (e & PTE_LARGE));
}

static uint64_t leaf_addr(uint64_t e, int level)
{
	return e & ADDR_MASK & ~(level_size(level) - 1);
}

/* May a leaf live at this level? PML4Es never map pages. */
static bool leaf_allowed(const struct s2pt *pt, int level)
{
	return level <= 1 || (level == 2 && pt->allow_1g);
}

/* The leaf bits other than the address and bit 7. */
static uint64_t leaf_attrs(const struct s2pt *pt, unsigned int perms, enum s2pt_memtype type)
{
	uint64_t e;

	if (pt->format == S2PT_EPT) {
		e = EPT_R;
		if (perms & S2PT_WRITE)
			e |= EPT_W;
		if (perms & S2PT_EXEC)
			e |= EPT_X;
		e |= (type == S2PT_UC ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT;
		return e;
	}
	e = NPT_P | NPT_US;
	if (perms & S2PT_WRITE)
		e |= NPT_RW;
	if (!(perms & S2PT_EXEC))
		e |= NPT_NX;
	/*
	 * Memory type through the host PAT (APM Vol. 2 7.8.2; 15.25.8,
	 * combining memory types: the nested type, from hPAT, combines with
	 * the guest's).
	 * WB: PAT index 0 (PWT = PCD = 0, PAT bit 0), WB in the power-on PAT.
	 * UC: PAT index 3 (PWT = PCD = 1), UC in the power-on PAT.
	 */
	if (type == S2PT_UC)
		e |= NPT_PWT | NPT_PCD;
	return e;
}

static uint64_t make_leaf(uint64_t hpa, uint64_t attrs, int level)
{
	return hpa | attrs | (level ? PTE_LARGE : 0);
}

/* Non-leaf entries grant everything; the leaf decides (SDM Vol. 3C 29.3.3.2, APM Vol. 2 5.6). */
static uint64_t make_table(const struct s2pt *pt, uint64_t pa)
{
	if (pt->format == S2PT_EPT)
		return pa | EPT_R | EPT_W | EPT_X;
	return pa | NPT_P | NPT_RW | NPT_US;
}

static unsigned int leaf_perms(const struct s2pt *pt, uint64_t e)
{
	unsigned int perms = 0;

	if (pt->format == S2PT_EPT) {
		if (e & EPT_R)
			perms |= S2PT_READ;
		if (e & EPT_W)
			perms |= S2PT_WRITE;
		if (e & EPT_X)
			perms |= S2PT_EXEC;
		return perms;
	}
	perms = S2PT_READ;
	if (e & NPT_RW)
		perms |= S2PT_WRITE;
	if (!(e & NPT_NX))
		perms |= S2PT_EXEC;
	return perms;
}

static uint64_t *table_of(const struct s2pt *pt, uint64_t e)
{
	return pt->phys_to_virt(pt->ctx, e & ADDR_MASK);
}

/*
 * Publish an entry: one 64-bit store, after every store that filled the
 * table it may point to (x86 keeps stores in order, SDM Vol. 3A "Memory
 * Ordering in P6 and More Recent Processor Families";
 * the asm keeps the compiler from reordering them).
 */
static void set_entry(uint64_t *slot, uint64_t e)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint64_t *)slot = e;
}

/* Replace the large leaf in *slot by a table of 512 smaller leaves mapping the same. */
static int split(struct s2pt *pt, uint64_t *slot, int level)
{
	uint64_t e = *slot, base = leaf_addr(e, level), child = level_size(level - 1);
	/* Everything but the address and bit 7 (A, D, G included) carries over. */
	uint64_t attrs = e & ~ADDR_MASK & ~PTE_LARGE;
	uint64_t pa, *t;

	t = pt->alloc_page(pt->ctx, &pa);
	if (!t)
		return -ENOMEM;
	for (unsigned int i = 0; i < ENTRIES; i++)
		t[i] = make_leaf(base + i * child, attrs, level - 1);
	set_entry(slot, make_table(pt, pa));
	return 0;
}

/* The table below *slot, created (empty) if there is none. */
static uint64_t *descend(struct s2pt *pt, uint64_t *slot, int level)
{
	uint64_t pa;

	if (!entry_present(pt, *slot)) {
		if (!pt->alloc_page(pt->ctx, &pa))
			return NULL;
		set_entry(slot, make_table(pt, pa));
	} else if (entry_leaf(*slot, level)) {
		if (split(pt, slot, level))
			return NULL;
	}
	return table_of(pt, *slot);
}

static int map_level(struct s2pt *pt, uint64_t *table, int level, uint64_t gpa, uint64_t end,
		     uint64_t hpa, uint64_t attrs)
{
	uint64_t size = level_size(level);

	while (gpa < end) {
		uint64_t *slot = &table[level_index(gpa, level)];
		uint64_t e = *slot;
		uint64_t start = gpa & ~(size - 1);
		uint64_t stop = MIN(end, start + size);
		bool present = entry_present(pt, e);
		uint64_t *next;
		int err;

		if (gpa == start && stop == start + size && !(hpa & (size - 1)) &&
		    leaf_allowed(pt, level) && !(present && !entry_leaf(e, level))) {
			/* The whole entry, aligned, and no table below it to keep. */
			set_entry(slot, make_leaf(hpa, attrs, level));
		} else if (present && entry_leaf(e, level) && hpa >= gpa - start &&
			   e == make_leaf(hpa - (gpa - start), attrs, level)) {
			/* Part of a large page that already maps it this way. */
		} else {
			next = descend(pt, slot, level);
			if (!next)
				return -ENOMEM;
			err = map_level(pt, next, level - 1, gpa, stop, hpa, attrs);
			if (err)
				return err;
		}
		hpa += stop - gpa;
		gpa = stop;
	}
	return 0;
}

static int unmap_level(struct s2pt *pt, uint64_t *table, int level, uint64_t gpa, uint64_t end)
{
	uint64_t size = level_size(level);

	while (gpa < end) {
		uint64_t *slot = &table[level_index(gpa, level)];
		uint64_t e = *slot;
		uint64_t start = gpa & ~(size - 1);
		uint64_t stop = MIN(end, start + size);
		uint64_t *next;
		int err;

		if (!entry_present(pt, e)) {
			/* nothing mapped here */
		} else if (entry_leaf(e, level) && gpa == start && stop == start + size) {
			set_entry(slot, 0);
		} else {
			/* A table (kept, emptied as far as the range goes) or part of a large page. */
			next = descend(pt, slot, level);
			if (!next)
				return -ENOMEM;
			err = unmap_level(pt, next, level - 1, gpa, stop);
			if (err)
				return err;
		}
		gpa = stop;
	}
	return 0;
}

int s2pt_init(struct s2pt *pt)
{
	uint64_t pa;

	if (!pt->alloc_page(pt->ctx, &pa))
		return -ENOMEM;
	pt->root_pa = pa;
	return 0;
}

/* gpa, size (and hpa) 4 KiB aligned, inside the address spaces. */
static bool range_ok(uint64_t gpa, uint64_t size, uint64_t limit)
{
	return !((gpa | size) & (PAGE_SIZE - 1)) && size <= limit && gpa <= limit - size;
}

int s2pt_map(struct s2pt *pt, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned int perms,
	     enum s2pt_memtype type)
{
	if (!range_ok(gpa, size, GPA_LIMIT) || !range_ok(hpa, size, HPA_LIMIT))
		return -EINVAL;
	if ((perms & ~S2PT_RWX) || !(perms & S2PT_READ))
		return -EINVAL;
	if (type != S2PT_WB && type != S2PT_UC)
		return -EINVAL;
	if (!size)
		return 0;
	return map_level(pt, pt->phys_to_virt(pt->ctx, pt->root_pa), LEVELS - 1, gpa, gpa + size,
			 hpa, leaf_attrs(pt, perms, type));
}

int s2pt_unmap(struct s2pt *pt, uint64_t gpa, uint64_t size)
{
	if (!range_ok(gpa, size, GPA_LIMIT))
		return -EINVAL;
	if (!size)
		return 0;
	return unmap_level(pt, pt->phys_to_virt(pt->ctx, pt->root_pa), LEVELS - 1, gpa, gpa + size);
}

int s2pt_lookup(const struct s2pt *pt, uint64_t gpa, uint64_t *hpa, unsigned int *perms,
		uint64_t *page_size)
{
	const uint64_t *table;

	if (gpa >= GPA_LIMIT)
		return -ENOENT;
	table = pt->phys_to_virt(pt->ctx, pt->root_pa);
	for (int level = LEVELS - 1; level >= 0; level--) {
		uint64_t e = table[level_index(gpa, level)];

		if (!entry_present(pt, e))
			return -ENOENT;
		if (entry_leaf(e, level)) {
			uint64_t size = level_size(level);

			if (hpa)
				*hpa = leaf_addr(e, level) | (gpa & (size - 1));
			if (perms)
				*perms = leaf_perms(pt, e);
			if (page_size)
				*page_size = size;
			return 0;
		}
		table = table_of(pt, e);
	}
	return -ENOENT; /* not reached: level 0 entries are leaves */
}
