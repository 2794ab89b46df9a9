// SPDX-License-Identifier: MIT
/*
 * Multiboot v1 loader for guest partitions (the Multiboot Specification
 * 0.6.96; section numbers below are its). The kernel is an ELF32 image, or
 * any image whose header carries load addresses (the "a.out kludge", flags
 * bit 16). Everything is checked before anything is written: a bad image
 * leaves the partition's RAM as it was.
 *
 * Guest-physical layout (docs/ci-test-kernels.md):
 *   the kernel where its program headers or header addresses say;
 *   its modules, each page-aligned, from the first page after the kernel;
 *   the information structure, memory map, module list and strings on the
 *   page after the last module.
 * The kernel may load in [0, 0x9fc00) or [1 MiB, top of low RAM); the rest
 * goes above 1 MiB. Nothing is marked reserved for them: as with any
 * multiboot loader, the kernel must read or move them before reusing that
 * memory (section 3.3 leaves their place to the loader).
 */
#include <keel/errno.h>
#include <keel/multiboot1.h>
#include <keel/string.h>

#define LOW_RAM_END 0x9fc00ull /* where an EBDA would start: 639 KiB of low memory */
#define HOLE_END 0x100000ull   /* [LOW_RAM_END, 1 MiB): no RAM for the kernel */
#define MB1_PAGE 4096ull
#define LOADER_NAME "Keel"
#define MAX_MMAP 5

/* ELF32 (System V ABI, Intel386 supplement). */
#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1

struct elf32_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version, e_entry, e_phoff, e_shoff, e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} __packed;

struct elf32_phdr {
	uint32_t p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
} __packed;

#define MAX_SEGMENTS 16

/* One piece of the kernel: file bytes [off, off + filesz) at gpa, then zeros up to memsz. */
struct segment {
	uint64_t gpa, off, filesz, memsz;
};

struct loader {
	const struct mb1_request *req;
	char *err;
	size_t errlen;
	struct segment seg[MAX_SEGMENTS];
	uint32_t nr_seg;
	uint64_t entry;
};

static int fail(struct loader *ld, int ret, const char *fmt, ...) __printf(3, 4);

static int fail(struct loader *ld, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mb1_find_header(const void *image, uint64_t size, struct mb1_header *hdr, uint64_t *offset,
		    char *err, size_t errlen)
{
	const uint8_t *b = image;
	uint64_t limit = MIN(size, (uint64_t)MB1_SEARCH_BYTES);
	uint32_t required;

	/* Section 3.1.1: 32-bit aligned, entirely within the first 8192 bytes. */
	for (uint64_t off = 0; off + 12 <= limit; off += 4) {
		if (rd32(b + off) != MB1_HEADER_MAGIC)
			continue;
		memset(hdr, 0, sizeof(*hdr));
		hdr->magic = MB1_HEADER_MAGIC;
		hdr->flags = rd32(b + off + 4);
		hdr->checksum = rd32(b + off + 8);
		if ((uint32_t)(hdr->magic + hdr->flags + hdr->checksum) != 0) {
			snprintf(err, errlen,
				 "multiboot header at offset 0x%llx: bad checksum 0x%x (magic + "
				 "flags + checksum must be 0)",
				 (unsigned long long)off, hdr->checksum);
			return -EINVAL;
		}
		required = hdr->flags & 0xffff;
		if (required & MB1_HF_VIDEO_MODE) {
			snprintf(err, errlen,
				 "the multiboot header asks for a video mode (flags bit 2); a "
				 "partition has no display");
			return -EOPNOTSUPP;
		}
		if (required & ~(MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO)) {
			snprintf(err, errlen,
				 "the multiboot header requires features Keel does not know "
				 "(flags 0x%x; known: bits 0-2, 16)",
				 hdr->flags);
			return -EOPNOTSUPP;
		}
		if (hdr->flags & MB1_HF_AOUT_KLUDGE) {
			if (off + 32 > limit) {
				snprintf(
					err, errlen,
					"multiboot header at offset 0x%llx: flags bit 16 needs the "
					"address fields, but they lie past %s",
					(unsigned long long)off,
					limit < size ? "the first 8 KiB" : "the end of the image");
				return -EINVAL;
			}
			hdr->header_addr = rd32(b + off + 12);
			hdr->load_addr = rd32(b + off + 16);
			hdr->load_end_addr = rd32(b + off + 20);
			hdr->bss_end_addr = rd32(b + off + 24);
			hdr->entry_addr = rd32(b + off + 28);
		}
		*offset = off;
		return 0;
	}
	snprintf(err, errlen,
		 "no multiboot header (magic 0x%x) in the first %llu bytes: not a "
		 "multiboot v1 kernel",
		 MB1_HEADER_MAGIC, (unsigned long long)limit);
	return -ENOEXEC;
}

/* Can the guest-physical range [gpa, gpa + len) hold part of the kernel? */
static bool kernel_range_ok(const struct mb1_request *req, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (end < gpa)
		return false;
	if (end <= LOW_RAM_END)
		return true;
	return gpa >= HOLE_END && end <= req->low_ram;
}

static int range_error(struct loader *ld, const char *what, uint64_t gpa, uint64_t len)
{
	const struct mb1_request *req = ld->req;

	if (gpa + len > req->low_ram || gpa + len < gpa)
		return fail(ld, -E2BIG,
			    "%s [0x%llx-0x%llx) does not fit in the partition's %llu MiB of RAM "
			    "below 4 GiB",
			    what, (unsigned long long)gpa, (unsigned long long)(gpa + len),
			    (unsigned long long)(req->low_ram >> 20));
	return fail(ld, -E2BIG,
		    "%s [0x%llx-0x%llx) overlaps [0x9fc00-0x100000), which is not RAM in a "
		    "partition",
		    what, (unsigned long long)gpa, (unsigned long long)(gpa + len));
}

static int add_segment(struct loader *ld, const char *what, uint64_t gpa, uint64_t off,
		       uint64_t filesz, uint64_t memsz)
{
	if (!memsz)
		return 0;
	if (!kernel_range_ok(ld->req, gpa, memsz))
		return range_error(ld, what, gpa, memsz);
	for (uint32_t i = 0; i < ld->nr_seg; i++) {
		const struct segment *s = &ld->seg[i];

		if (gpa < s->gpa + s->memsz && s->gpa < gpa + memsz)
			return fail(ld, -EINVAL,
				    "%s [0x%llx-0x%llx) overlaps another segment [0x%llx-0x%llx)",
				    what, (unsigned long long)gpa,
				    (unsigned long long)(gpa + memsz), (unsigned long long)s->gpa,
				    (unsigned long long)(s->gpa + s->memsz));
	}
	if (ld->nr_seg == MAX_SEGMENTS)
		return fail(ld, -EINVAL, "too many loadable segments (at most %d)", MAX_SEGMENTS);
	ld->seg[ld->nr_seg++] = (struct segment){ gpa, off, filesz, memsz };
	return 0;
}

/* Section 3.1.3: the address fields say where the image goes and where it starts. */
static int plan_aout(struct loader *ld, const struct mb1_header *h, uint64_t hdr_off)
{
	uint64_t size = ld->req->image_size, file_off, load_size, mem_end;
	int ret;

	if (h->load_addr > h->header_addr)
		return fail(ld, -EINVAL,
			    "multiboot header: load_addr 0x%x is above header_addr 0x%x",
			    h->load_addr, h->header_addr);
	if (h->header_addr - h->load_addr > hdr_off)
		return fail(ld, -EINVAL,
			    "multiboot header: header_addr - load_addr = 0x%x, but the header is "
			    "at offset 0x%llx: the text would start before the file",
			    h->header_addr - h->load_addr, (unsigned long long)hdr_off);
	file_off = hdr_off - (h->header_addr - h->load_addr);
	if (!h->load_end_addr) {
		load_size = size - file_off;
	} else {
		if (h->load_end_addr <= h->load_addr)
			return fail(ld, -EINVAL,
				    "multiboot header: load_end_addr 0x%x is not above "
				    "load_addr 0x%x",
				    h->load_end_addr, h->load_addr);
		load_size = h->load_end_addr - h->load_addr;
		if (load_size > size - file_off)
			return fail(ld, -EINVAL,
				    "multiboot header: load_end_addr 0x%x is past the end of the "
				    "image (%llu bytes from load_addr)",
				    h->load_end_addr, (unsigned long long)(size - file_off));
	}
	mem_end = h->load_addr + load_size;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < mem_end)
			return fail(ld, -EINVAL,
				    "multiboot header: bss_end_addr 0x%x is below the end of the "
				    "loaded image 0x%llx",
				    h->bss_end_addr, (unsigned long long)mem_end);
		mem_end = h->bss_end_addr;
	}
	ret = add_segment(ld, "the image", h->load_addr, file_off, load_size,
			  mem_end - h->load_addr);
	if (ret)
		return ret;
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end)
		return fail(ld, -EINVAL,
			    "multiboot header: entry_addr 0x%x is outside the image [0x%x-0x%llx)",
			    h->entry_addr, h->load_addr, (unsigned long long)mem_end);
	ld->entry = h->entry_addr;
	return 0;
}

static int plan_elf(struct loader *ld)
{
	const struct mb1_request *req = ld->req;
	const uint8_t *img = req->image;
	struct elf32_ehdr eh;
	bool entry_found = false;
	int ret;

	if (req->image_size < 4 || memcmp(img, "\177ELF", 4) != 0)
		return fail(ld, -ENOEXEC,
			    "not an ELF image, and its multiboot header has no load addresses "
			    "(flags bit 16)");
	if (req->image_size < sizeof(eh))
		return fail(ld, -EINVAL, "ELF header truncated (%llu bytes)",
			    (unsigned long long)req->image_size);
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[4] == ELFCLASS64)
		return fail(ld, -EOPNOTSUPP,
			    "a 64-bit ELF image: multiboot v1 loads ELF32 (or use load addresses, "
			    "flags bit 16)");
	if (eh.e_ident[4] != ELFCLASS32 || eh.e_ident[5] != ELFDATA2LSB)
		return fail(ld, -EINVAL, "ELF image is not 32-bit little-endian");
	if (eh.e_type != ET_EXEC || eh.e_machine != EM_386)
		return fail(ld, -EINVAL,
			    "ELF image is not an i386 executable (type %u, machine %u)", eh.e_type,
			    eh.e_machine);
	if (eh.e_phnum == 0)
		return fail(ld, -EINVAL, "ELF image has no program headers");
	if (eh.e_phentsize < sizeof(struct elf32_phdr) ||
	    (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize > req->image_size)
		return fail(ld, -EINVAL, "ELF program headers lie outside the image");

	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		struct elf32_phdr ph;
		char what[32];

		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		snprintf(what, sizeof(what), "ELF segment %u", i);
		if (ph.p_filesz > ph.p_memsz)
			return fail(ld, -EINVAL, "%s: file size 0x%x exceeds memory size 0x%x",
				    what, ph.p_filesz, ph.p_memsz);
		if ((uint64_t)ph.p_offset + ph.p_filesz > req->image_size)
			return fail(ld, -EINVAL,
				    "%s: bytes [0x%x-0x%llx) lie past the end of the "
				    "image (%llu bytes)",
				    what, ph.p_offset,
				    (unsigned long long)ph.p_offset + ph.p_filesz,
				    (unsigned long long)req->image_size);
		ret = add_segment(ld, what, ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz);
		if (ret)
			return ret;
		/* A kernel linked high enters at its virtual address: translate as GRUB does. */
		if (!entry_found && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			ld->entry = (uint64_t)ph.p_paddr + (eh.e_entry - ph.p_vaddr);
			entry_found = true;
		}
	}
	if (!ld->nr_seg)
		return fail(ld, -EINVAL, "ELF image has no loadable segment");
	if (!entry_found)
		return fail(ld, -EINVAL, "ELF entry point 0x%x is outside every loadable segment",
			    eh.e_entry);
	if (ld->entry >= 4ull << 30)
		return fail(ld, -EINVAL, "ELF entry point is above 4 GiB");
	return 0;
}

static uint64_t align_page(uint64_t v)
{
	return (v + MB1_PAGE - 1) & ~(MB1_PAGE - 1);
}

static uint32_t build_mmap(const struct mb1_request *req, struct mb1_mmap_entry *e)
{
	uint32_t n = 0;

	e[n++] = (struct mb1_mmap_entry){ 20, 0, LOW_RAM_END, 1 };
	e[n++] = (struct mb1_mmap_entry){ 20, LOW_RAM_END, 0xa0000 - LOW_RAM_END, 2 };
	e[n++] = (struct mb1_mmap_entry){ 20, 0xf0000, 0x10000, 2 };
	e[n++] = (struct mb1_mmap_entry){ 20, HOLE_END, req->low_ram - HOLE_END, 1 };
	if (req->high_ram)
		e[n++] = (struct mb1_mmap_entry){ 20, 4ull << 30, req->high_ram, 1 };
	return n;
}

int mb1_load(const struct mb1_request *req, struct mb1_plan *plan, char *err, size_t errlen)
{
	struct loader ld = { .req = req, .err = err, .errlen = errlen };
	struct mb1_mmap_entry mmap[MAX_MMAP];
	struct mb1_module_entry mods[MB1_MODS_MAX];
	struct mb1_info info;
	struct mb1_header h;
	uint64_t hdr_off, kstart = ~0ull, kend = 0, pos, info_gpa, info_size, strings;
	uint32_t nr_mmap;
	uint8_t *area;
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (req->low_ram <= HOLE_END)
		return fail(&ld, -E2BIG, "a multiboot partition needs more than 1 MiB of RAM");
	if (req->nr_mods > MB1_MODS_MAX)
		return fail(&ld, -E2BIG, "too many modules (%u, at most %d)", req->nr_mods,
			    MB1_MODS_MAX);
	ret = mb1_find_header(req->image, req->image_size, &h, &hdr_off, err, errlen);
	if (ret)
		return ret;
	ret = (h.flags & MB1_HF_AOUT_KLUDGE) ? plan_aout(&ld, &h, hdr_off) : plan_elf(&ld);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < ld.nr_seg; i++) {
		kstart = MIN(kstart, ld.seg[i].gpa);
		kend = MAX(kend, ld.seg[i].gpa + ld.seg[i].memsz);
	}

	/* Modules, then the information: page by page above the kernel (and 1 MiB). */
	pos = align_page(MAX(kend, HOLE_END));
	for (uint32_t i = 0; i < req->nr_mods; i++) {
		const struct mb1_module *m = &req->mods[i];

		if (pos + m->size > req->low_ram)
			return fail(&ld, -E2BIG,
				    "module %u ('%s', %llu KiB) does not fit: the kernel and "
				    "modules need RAM up to 0x%llx, the partition has %llu MiB "
				    "below 4 GiB",
				    i + 1, m->string, (unsigned long long)(m->size + 1023) / 1024,
				    (unsigned long long)(pos + m->size),
				    (unsigned long long)(req->low_ram >> 20));
		mods[i] =
			(struct mb1_module_entry){ (uint32_t)pos, (uint32_t)(pos + m->size), 0, 0 };
		pos = align_page(pos + m->size);
	}
	nr_mmap = build_mmap(req, mmap);
	info_gpa = pos;
	strings = sizeof(info) + sizeof(mmap[0]) * nr_mmap + sizeof(mods[0]) * req->nr_mods;
	info_size = strings + sizeof(LOADER_NAME) + (req->cmdline ? strlen(req->cmdline) + 1 : 0);
	for (uint32_t i = 0; i < req->nr_mods; i++)
		info_size += strlen(req->mods[i].string) + 1;
	if (info_gpa + info_size > req->low_ram)
		return fail(&ld, -E2BIG,
			    "the kernel, its modules and the multiboot information need RAM up to "
			    "0x%llx; the partition has %llu MiB below 4 GiB",
			    (unsigned long long)(info_gpa + info_size),
			    (unsigned long long)(req->low_ram >> 20));

	/* Checked: now write. Every range below was found to be RAM. */
	for (uint32_t i = 0; i < ld.nr_seg; i++) {
		const struct segment *s = &ld.seg[i];
		uint8_t *dst = req->gpa_to_hva(req->ctx, s->gpa, s->memsz);

		if (!dst)
			return fail(&ld, -E2BIG, "no RAM at 0x%llx for the kernel",
				    (unsigned long long)s->gpa);
		memcpy(dst, (const uint8_t *)req->image + s->off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	for (uint32_t i = 0; i < req->nr_mods; i++) {
		uint8_t *dst = req->gpa_to_hva(req->ctx, mods[i].mod_start, req->mods[i].size);

		if (!dst && req->mods[i].size)
			return fail(&ld, -E2BIG, "no RAM at 0x%x for module %u", mods[i].mod_start,
				    i + 1);
		if (req->mods[i].size)
			memcpy(dst, req->mods[i].data, req->mods[i].size);
	}
	area = req->gpa_to_hva(req->ctx, info_gpa, info_size);
	if (!area)
		return fail(&ld, -E2BIG, "no RAM at 0x%llx for the multiboot information",
			    (unsigned long long)info_gpa);
	memset(&info, 0, sizeof(info));
	info.flags = MB1_INFO_MEMORY | MB1_INFO_MODS | MB1_INFO_MEM_MAP | MB1_INFO_LOADER_NAME;
	info.mem_lower = (uint32_t)(LOW_RAM_END / 1024);
	info.mem_upper = (uint32_t)((req->low_ram - HOLE_END) / 1024);
	info.mmap_addr = (uint32_t)(info_gpa + sizeof(info));
	info.mmap_length = (uint32_t)(sizeof(mmap[0]) * nr_mmap);
	info.mods_addr = info.mmap_addr + info.mmap_length;
	info.mods_count = req->nr_mods;
	pos = info_gpa + strings;
	memcpy(area + (pos - info_gpa), LOADER_NAME, sizeof(LOADER_NAME));
	info.boot_loader_name = (uint32_t)pos;
	pos += sizeof(LOADER_NAME);
	if (req->cmdline) {
		size_t n = strlen(req->cmdline) + 1;

		memcpy(area + (pos - info_gpa), req->cmdline, n);
		info.flags |= MB1_INFO_CMDLINE;
		info.cmdline = (uint32_t)pos;
		pos += n;
	}
	for (uint32_t i = 0; i < req->nr_mods; i++) {
		size_t n = strlen(req->mods[i].string) + 1;

		memcpy(area + (pos - info_gpa), req->mods[i].string, n);
		mods[i].string = (uint32_t)pos;
		pos += n;
	}
	memcpy(area, &info, sizeof(info));
	memcpy(area + sizeof(info), mmap, info.mmap_length);
	memcpy(area + sizeof(info) + info.mmap_length, mods, sizeof(mods[0]) * req->nr_mods);

	plan->entry = (uint32_t)ld.entry;
	plan->info = (uint32_t)info_gpa;
	plan->load_start = (uint32_t)kstart;
	plan->load_end = (uint32_t)kend;
	plan->end = (uint32_t)pos;
	plan->aout_kludge = h.flags & MB1_HF_AOUT_KLUDGE;
	return 0;
}
