// SPDX-License-Identifier: MIT
/*
 * Keel's physical memory map (include/keel/memmap.h).
 *
 * The map is a sorted array of non-overlapping ranges. Internally a range is
 * handled as [base, last] with an inclusive last address, so a range that
 * ends exactly at 2^64 is representable without overflow; in the array it is
 * stored as base/size with size >= 1. The one range that cannot be stored is
 * the whole 2^64 address space (its size does not fit in 64 bits), so two
 * same-type neighbours that would together cover all of it are left unmerged.
 *
 * Every change goes through paint(): it rewrites the "window" of entries
 * that overlap or touch the changed range as a sorted stream of pieces,
 * merging neighbours of the same type as it goes. A dry run first checks
 * that the rewrite fits, so a change that does not returns -ENOSPC and
 * leaves the map untouched. The rewrite is in place (no scratch copy of a
 * 12 KiB map on a boot stack), so it needs room for the largest number of
 * entries it is ahead at any point, not only for the final count: on a map
 * within a few entries of MEMMAP_MAX, a change that first adds entries and
 * then merges more away can be refused although its result would fit.
 */
#include <keel/types.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/memmap.h>

struct seg {
	uint64_t base;
	uint64_t last; /* inclusive */
	uint32_t type;
};

static uint64_t entry_last(const struct boot_mmap_entry *e)
{
	return e->base + (e->size - 1);
}

/* [base, base+size) as [base, *last]; false for an empty range or one that wraps past 2^64. */
static bool range_last(uint64_t base, uint64_t size, uint64_t *last)
{
	if (size == 0 || size - 1 > UINT64_MAX - base)
		return false;
	*last = base + (size - 1);
	return true;
}

/*
 * How restrictive a type is; on overlap the higher rank wins. Memory Keel
 * itself uses (or must keep for the firmware) beats everything; a range the
 * firmware calls unusable (bad RAM) must never be handed out; reserved, NVS
 * and persistent memory must not be reused as RAM but are not broken; ACPI
 * reclaim is RAM only once the tables are no longer needed. Unknown types
 * are treated like reserved (ACPI 6.5 section 15.1: OSPM treats undefined
 * address range types as reserved).
 */
static int type_rank(uint32_t type)
{
	switch (type) {
	case MEM_KEEL:
	case MEM_PARTITION:
	case MEM_BOOT_MODULE:
	case MEM_EFI_RUNTIME:
		return 4;
	case MEM_UNUSABLE:
		return 3;
	case MEM_ACPI_RECLAIM:
		return 1;
	case MEM_USABLE:
		return 0;
	case MEM_RESERVED:
	case MEM_ACPI_NVS:
	case MEM_PERSISTENT:
	default:
		return 2;
	}
}

/* Type of an overlap of old and new; between equal ranks the range already there stays. */
static uint32_t type_winner(uint32_t old, uint32_t new)
{
	return type_rank(new) > type_rank(old) ? new : old;
}

/* Two adjacent same-type pieces may be merged unless the result would be all of 2^64. */
static bool can_merge(const struct seg *a, uint64_t base, uint64_t last, uint32_t type)
{
	return a->type == type && a->last != UINT64_MAX && a->last + 1 == base &&
	       !(a->base == 0 && last == UINT64_MAX);
}

/*
 * State of one rewrite. Window inputs are read from m->e[in..in+n_in) and
 * the resulting entries written to m->e[out..). Inputs are copied to a local
 * before their pieces are emitted, so the rewrite is safe in place as long
 * as the output index never passes an input not yet read; the dry run
 * measures how far ahead of the reader the writer gets (max_lead).
 */
struct paint {
	struct memmap *m;
	bool write;
	uint32_t in, n_in, loaded;
	uint32_t out, n_out;
	int64_t max_lead;
	bool have_pending;
	struct seg pending;
};

static void paint_flush(struct paint *p)
{
	int64_t lead = (int64_t)p->n_out - (int64_t)p->loaded;

	if (lead > p->max_lead)
		p->max_lead = lead;
	if (p->write) {
		struct boot_mmap_entry *e = &p->m->e[p->out + p->n_out];

		e->base = p->pending.base;
		e->size = p->pending.last - p->pending.base + 1;
		e->type = p->pending.type;
		e->pad = 0;
	}
	p->n_out++;
	p->have_pending = false;
}

static void paint_emit(struct paint *p, uint64_t base, uint64_t last, uint32_t type)
{
	if (p->have_pending && can_merge(&p->pending, base, last, type)) {
		p->pending.last = last;
		return;
	}
	if (p->have_pending)
		paint_flush(p);
	p->pending.base = base;
	p->pending.last = last;
	p->pending.type = type;
	p->have_pending = true;
}

/*
 * Emit, in address order, the pieces of the window with [base, last] laid
 * over it: parts of inputs outside the range keep their type, parts inside
 * get the new type (force) or the winner of old and new, and holes inside
 * the range get the new type.
 */
static void paint_run(struct paint *p, uint64_t base, uint64_t last, uint32_t type, bool force)
{
	uint64_t pos = base; /* first address of [base, last] not yet emitted */
	bool done = false;   /* all of [base, last] emitted */

	for (uint32_t j = 0; j < p->n_in; j++) {
		struct boot_mmap_entry in = p->m->e[p->in + j];
		uint64_t eb = in.base, el = entry_last(&in);

		p->loaded++;
		if (!done && eb > pos) {
			uint64_t gl = MIN(eb - 1, last);

			paint_emit(p, pos, gl, type);
			if (gl == last)
				done = true;
			else
				pos = gl + 1;
		}
		if (eb < base)
			paint_emit(p, eb, MIN(el, base - 1), in.type);
		if (el >= base && eb <= last) {
			uint64_t il = MIN(el, last);

			paint_emit(p, MAX(eb, base), il, force ? type : type_winner(in.type, type));
			if (il == last)
				done = true;
			else
				pos = il + 1;
		}
		if (el > last)
			paint_emit(p, MAX(eb, last + 1), el, in.type);
	}
	if (!done)
		paint_emit(p, pos, last, type);
	if (p->have_pending)
		paint_flush(p);
}

/* Merge any same-type neighbours left over (only possible next to a range ending at 2^64). */
static void memmap_normalize(struct memmap *m)
{
	uint32_t w = 0;

	for (uint32_t r = 0; r < m->nr; r++) {
		struct boot_mmap_entry *e = &m->e[r];

		if (w > 0) {
			struct boot_mmap_entry *prev = &m->e[w - 1];
			struct seg ps = { prev->base, entry_last(prev), prev->type };

			if (can_merge(&ps, e->base, entry_last(e), e->type)) {
				prev->size += e->size;
				continue;
			}
		}
		if (w != r)
			m->e[w] = *e;
		w++;
	}
	m->nr = w;
}

static int paint(struct memmap *m, uint64_t base, uint64_t size, uint32_t type, bool force)
{
	uint64_t last;
	uint32_t i0, i1, tail, src;
	struct paint p;

	if (!m || type == 0 || !range_last(base, size, &last))
		return -EINVAL;

	/* The window: entries overlapping [base, last] or adjacent to it (to merge with). */
	for (i0 = 0; i0 < m->nr; i0++) {
		if (base == 0 || entry_last(&m->e[i0]) >= base - 1)
			break;
	}
	for (i1 = i0; i1 < m->nr; i1++) {
		uint64_t eb = m->e[i1].base;

		if (eb > last && (last == UINT64_MAX || eb != last + 1))
			break;
	}
	tail = m->nr - i1;

	/* Dry run in place: how many entries result, and does the in-place rewrite fit? */
	memset(&p, 0, sizeof(p));
	p.m = m;
	p.in = i0;
	p.n_in = i1 - i0;
	p.out = i0;
	p.max_lead = INT64_MIN;
	paint_run(&p, base, last, type, force);
	if (p.max_lead >= (int64_t)MEMMAP_MAX - (int64_t)m->nr)
		return -ENOSPC;

	/* Move window and tail to the end of the array, then stream the result from i0 on. */
	src = MEMMAP_MAX - (m->nr - i0);
	memmove(&m->e[src], &m->e[i0], (size_t)(m->nr - i0) * sizeof(m->e[0]));
	memset(&p, 0, sizeof(p));
	p.m = m;
	p.write = true;
	p.in = src;
	p.n_in = i1 - i0;
	p.out = i0;
	paint_run(&p, base, last, type, force);
	memmove(&m->e[i0 + p.n_out], &m->e[MEMMAP_MAX - tail], (size_t)tail * sizeof(m->e[0]));
	m->nr = i0 + p.n_out + tail;
	memmap_normalize(m);
	return 0;
}

void memmap_init(struct memmap *m)
{
	memset(m, 0, sizeof(*m));
}

int memmap_add(struct memmap *m, uint64_t base, uint64_t size, uint32_t type)
{
	return paint(m, base, size, type, false);
}

int memmap_set(struct memmap *m, uint64_t base, uint64_t size, uint32_t type)
{
	return paint(m, base, size, type, true);
}

/* Alignment 0 means 1; anything else must be a power of two. */
static bool align_ok(uint64_t *align)
{
	if (*align == 0)
		*align = 1;
	return (*align & (*align - 1)) == 0;
}

int memmap_alloc(struct memmap *m, uint64_t size, uint64_t align, uint64_t limit, uint32_t type,
		 uint64_t *out)
{
	if (!m || !out || size == 0 || type == 0 || !align_ok(&align))
		return -EINVAL;

	for (uint32_t i = m->nr; i-- > 0;) {
		const struct boot_mmap_entry *e = &m->e[i];
		uint64_t top = entry_last(e), cand;

		if (e->type != MEM_USABLE)
			continue;
		if (limit != 0) {
			if (e->base >= limit)
				continue;
			top = MIN(top, limit - 1);
		}
		if (top - e->base < size - 1)
			continue;
		cand = ALIGN_DOWN(top - (size - 1), align);
		if (cand < e->base)
			continue;
		int rc = memmap_set(m, cand, size, type);
		if (rc)
			return rc;
		*out = cand;
		return 0;
	}
	return -ENOMEM;
}

int memmap_alloc_low(struct memmap *m, uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		     uint32_t type, uint64_t *out)
{
	if (!m || !out || size == 0 || type == 0 || !align_ok(&align))
		return -EINVAL;

	for (uint32_t i = 0; i < m->nr; i++) {
		const struct boot_mmap_entry *e = &m->e[i];
		uint64_t el = entry_last(e), start = MAX(e->base, min), cand;

		if (e->type != MEM_USABLE || start > el)
			continue;
		if (start > UINT64_MAX - (align - 1))
			break; /* no aligned address at or above start */
		cand = ALIGN_UP(start, align);
		if (cand > el || el - cand < size - 1)
			continue;
		/* Entries are sorted: once a candidate crosses the limit, every later one does. */
		if (limit != 0 && cand + (size - 1) >= limit)
			break;
		int rc = memmap_set(m, cand, size, type);
		if (rc)
			return rc;
		*out = cand;
		return 0;
	}
	return -ENOMEM;
}

uint64_t memmap_total(const struct memmap *m, uint32_t type)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < m->nr; i++) {
		if (m->e[i].type != type)
			continue;
		/* Saturate: two ranges may together cover all 2^64 bytes. */
		if (m->e[i].size > UINT64_MAX - sum)
			return UINT64_MAX;
		sum += m->e[i].size;
	}
	return sum;
}

static bool type_is_ram(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
	case MEM_ACPI_RECLAIM:
	case MEM_ACPI_NVS:
	case MEM_KEEL:
	case MEM_PARTITION:
	case MEM_BOOT_MODULE:
	case MEM_EFI_RUNTIME:
		return true;
	default:
		return false;
	}
}

uint64_t memmap_ram_end(const struct memmap *m)
{
	/* Sorted, so the last RAM-like entry ends highest. */
	for (uint32_t i = m->nr; i-- > 0;) {
		if (!type_is_ram(m->e[i].type))
			continue;
		uint64_t last = entry_last(&m->e[i]);
		/* A range ending at 2^64 cannot report its end; saturate. */
		return last == UINT64_MAX ? UINT64_MAX : last + 1;
	}
	return 0;
}

uint32_t memmap_type_at(const struct memmap *m, uint64_t addr)
{
	uint32_t lo = 0, hi = m->nr;

	/* Binary search for the last entry with base <= addr. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	const struct boot_mmap_entry *e = &m->e[lo - 1];
	return addr <= entry_last(e) ? e->type : 0;
}

const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI_RECLAIM:
		return "acpi-reclaim";
	case MEM_ACPI_NVS:
		return "acpi-nvs";
	case MEM_UNUSABLE:
		return "unusable";
	case MEM_PERSISTENT:
		return "persistent";
	case MEM_KEEL:
		return "keel";
	case MEM_PARTITION:
		return "partition";
	case MEM_BOOT_MODULE:
		return "boot-module";
	case MEM_EFI_RUNTIME:
		return "efi-runtime";
	default:
		return "unknown";
	}
}
