// SPDX-License-Identifier: MIT
/*
 * Reading guest memory the way the guest addresses it: guest-virtual to
 * guest-physical through the guest's own page tables (long-mode 4-level
 * paging, or no paging), then guest-physical to host-physical through the
 * partition's second-stage tables. Used to fetch the instruction behind an
 * MMIO exit when the CPU gives no decode assist.
 */
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <x86/cr.h>
#include <x86/s2pt.h>
#include <x86/vcpu.h>

#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

static int gpa_to_hpa(struct vcpu *v, uint64_t gpa, uint64_t *hpa)
{
	uint64_t page_size;
	unsigned int perms;

	if (s2pt_lookup(v->part->stage2, gpa & ~0xfffull, hpa, &perms, &page_size))
		return -EFAULT;
	if (!(perms & S2PT_READ))
		return -EFAULT;
	*hpa += gpa & 0xfff;
	return 0;
}

static int read_gpa_u64(struct vcpu *v, uint64_t gpa, uint64_t *out)
{
	uint64_t hpa;

	if (gpa_to_hpa(v, gpa, &hpa) || hpa + 8 > direct_map_end)
		return -EFAULT;
	memcpy(out, phys_to_virt(hpa), 8);
	return 0;
}

/* Long-mode walk (SDM Vol. 3A 5.5 / APM Vol. 2 5.3): PML4, PDPT (1 GiB), PD (2 MiB), PT. */
static int gva_to_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	uint64_t cr0 = vcpu_ops->get_cr0(v), table, e = 0;
	static const int shifts[4] = { 39, 30, 21, 12 };

	if (!(cr0 & CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (!(vcpu_ops->get_efer(v) & EFER_LMA) || !(vcpu_ops->get_cr4(v) & CR4_PAE))
		return -EOPNOTSUPP; /* 32-bit paging: no MMIO user needs it yet */
	table = vcpu_ops->get_cr3(v) & PTE_ADDR;
	for (int level = 0; level < 4; level++) {
		uint64_t index = (gva >> shifts[level]) & 0x1ff;

		if (read_gpa_u64(v, table + index * 8, &e) || !(e & PTE_P))
			return -EFAULT;
		if ((level == 1 || level == 2) && (e & PTE_PS)) {
			uint64_t mask = (1ull << shifts[level]) - 1;

			*gpa = (e & PTE_ADDR & ~mask) | (gva & mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	*gpa = table | (gva & 0xfff);
	return 0;
}

int guest_read_virt(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t gpa, hpa;
		size_t chunk = MIN(len, PAGE_SIZE - (gva & 0xfff));
		int ret = gva_to_gpa(v, gva, &gpa);

		if (ret)
			return ret;
		if (gpa_to_hpa(v, gpa, &hpa) || hpa + chunk > direct_map_end)
			return -EFAULT;
		memcpy(out, phys_to_virt(hpa), chunk);
		out += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}
