/* SPDX-License-Identifier: MIT */
/*
 * Second-stage ("nested") page tables: AMD NPT (an ordinary x86-64 4-level
 * table, APM Vol. 2 15.25) and Intel EPT (SDM Vol. 3C 29.3: different
 * permission and memory-type bits). One builder serves both.
 */
#ifndef X86_S2PT_H
#define X86_S2PT_H

#include <keel/types.h>

enum s2pt_format {
	S2PT_NPT,
	S2PT_EPT,
};

enum s2pt_memtype {
	S2PT_WB, /* RAM */
	S2PT_UC, /* MMIO */
};

#define S2PT_READ (1u << 0)
#define S2PT_WRITE (1u << 1)
#define S2PT_EXEC (1u << 2)
#define S2PT_RWX (S2PT_READ | S2PT_WRITE | S2PT_EXEC)

struct s2pt {
	enum s2pt_format format;
	uint64_t root_pa; /* PML4 physical address */
	/* Zeroed 4 KiB page: returns its pointer and physical address; NULL when out of memory. */
	void *(*alloc_page)(void *ctx, uint64_t *pa);
	/* Pointer to a table page Keel wrote earlier, from its physical address. */
	void *(*phys_to_virt)(void *ctx, uint64_t pa);
	void *ctx;
	bool allow_1g; /* use 1 GiB pages where aligned (CPU support) */
};

/* Allocate the root. 0 or -ENOMEM. */
int s2pt_init(struct s2pt *pt);
/*
 * Map [gpa, gpa+size) to [hpa, hpa+size) with perms and memtype, using the
 * largest pages alignment allows (1 GiB if allowed, 2 MiB, 4 KiB), splitting
 * existing large pages when a later call maps part of one differently.
 * gpa, hpa and size must be 4 KiB aligned. 0, -EINVAL or -ENOMEM.
 */
int s2pt_map(struct s2pt *pt, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned int perms,
	     enum s2pt_memtype type);
/* Remove mappings in [gpa, gpa+size), splitting large pages as needed. 0, -EINVAL, -ENOMEM. */
int s2pt_unmap(struct s2pt *pt, uint64_t gpa, uint64_t size);
/* Walk: the hpa gpa maps to, with its perms and page size; -ENOENT if unmapped. */
int s2pt_lookup(const struct s2pt *pt, uint64_t gpa, uint64_t *hpa, unsigned int *perms,
		uint64_t *page_size);

#endif
