// SPDX-License-Identifier: MIT
/*
 * Guest partitions: memory, images and entry. A guest's RAM is one block of
 * the machine's memory (two if it is larger than the 3 GiB below the
 * device window), reserved as MEM_PARTITION before the host's e820 is
 * built, so the host never sees it. docs/guest-platform.md has the layout.
 */
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/guests.h>
#include <keel/mm.h>
#include <keel/string.h>

int guest_partition_create(const char *name, int config_line, enum partition_kind kind,
			   uint64_t cpu_mask, uint64_t mem, bool realtime, struct partition **out,
			   char *err, size_t errlen)
{
	struct partition *p;
	uint64_t low = MIN(mem, GUEST_LOW_RAM_MAX), high = mem - low, hpa;

	if (nr_partitions >= MAX_PARTITIONS) {
		snprintf(err, errlen, "too many partitions (at most %d guests)",
			 MAX_PARTITIONS - 1);
		return -E2BIG;
	}
	p = page_alloc(ALIGN_UP(sizeof(*p), PAGE_SIZE) / PAGE_SIZE);
	if (!p) {
		snprintf(err, errlen, "Keel is out of memory for partition %s", name);
		return -ENOMEM;
	}
	keel_strlcpy(p->name, name, sizeof(p->name));
	p->id = nr_partitions;
	p->kind = kind;
	p->cpu_mask = cpu_mask;
	p->realtime = realtime;
	p->mem_size = mem;
	p->config_line = config_line;
	/* 2 MiB aligned, so the guest's RAM maps with large pages. */
	if (memmap_alloc(&keel_memmap, low, 2 * MiB, 0, MEM_PARTITION, &hpa)) {
		snprintf(err, errlen, "no free block of %llu MiB for partition %s's memory",
			 (unsigned long long)low / MiB, name);
		return -ENOMEM;
	}
	p->ram[p->nr_ram++] = (struct partition_ram){ 0, hpa, low };
	if (high) {
		if (memmap_alloc(&keel_memmap, high, 2 * MiB, 0, MEM_PARTITION, &hpa)) {
			snprintf(err, errlen,
				 "no free block of %llu MiB for partition %s's memory "
				 "above 4 GiB",
				 (unsigned long long)high / MiB, name);
			return -ENOMEM;
		}
		p->ram[p->nr_ram++] = (struct partition_ram){ 4 * GiB, hpa, high };
	}
	/* Nothing of the machine's previous contents may leak into a guest. */
	for (uint32_t i = 0; i < p->nr_ram; i++)
		memset(phys_to_virt(p->ram[i].hpa), 0, p->ram[i].size);
	partitions[nr_partitions++] = p;
	*out = p;
	return 0;
}

int guest_load_raw(struct partition *p, const struct boot_module *image, uint64_t load_address,
		   char *err, size_t errlen)
{
	void *dst = partition_gpa_to_hva(p, load_address, image->size);

	if (!dst || load_address + image->size > GUEST_LOW_RAM_MAX) {
		snprintf(err, errlen, "image '%s' (%llu bytes) does not fit at 0x%llx in %llu MiB",
			 image->name, (unsigned long long)image->size,
			 (unsigned long long)load_address, (unsigned long long)p->mem_size / MiB);
		return -E2BIG;
	}
	if (load_address >= 1 * MiB) {
		snprintf(err, errlen,
			 "load_address 0x%llx: a raw image starts in real mode, "
			 "below 1 MiB",
			 (unsigned long long)load_address);
		return -EINVAL;
	}
	memcpy(dst, phys_to_virt(image->base), image->size);
	p->entry.real_mode = true;
	if (load_address < 0x10000) {
		p->entry.cs = 0;
		p->entry.ip = (uint16_t)load_address;
	} else {
		p->entry.cs = (uint16_t)(load_address >> 4);
		p->entry.ip = (uint16_t)(load_address & 0xf);
	}
	return 0;
}

int guest_load_linux(struct partition *p, const struct boot_module *kernel,
		     const struct boot_module *initrd, const char *cmdline, char *err,
		     size_t errlen)
{
	snprintf(err, errlen, "Linux guest partitions are not implemented yet");
	return -EOPNOTSUPP;
}
