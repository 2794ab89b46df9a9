// SPDX-License-Identifier: MIT
/*
 * Multiboot2 boot information parser (include/keel/multiboot2.h). Section
 * numbers refer to the Multiboot2 specification, version 2.0.
 *
 * The structure comes from the loader and is checked as untrusted input:
 * every tag must lie within total_size, and fields are copied out with
 * memcpy since only the tags' start is 8-byte aligned.
 */
#include <keel/types.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/bootinfo.h>
#include <keel/multiboot2.h>

#define MB2_HDR_LEN 8	  /* struct mb2_info_header, also struct mb2_tag */
#define MB2_MODULE_LEN 16 /* type, size, mod_start, mod_end */
#define MB2_MEMINFO_LEN 16
#define MB2_MMAP_LEN 16 /* before the entries */
/*
 * Section 3.6.12 lists a u8 reserved field before color_info, but GRUB (the
 * reference loader) writes a u16 there, so the colour fields start at 32.
 */
#define MB2_FB_COMMON_LEN 32
#define MB2_FB_RGB_LEN 38 /* with the direct RGB colour fields */
#define MB2_EFI64_LEN 16
#define MB2_EFI_MMAP_LEN 16 /* before the descriptors */
#define RSDP_V1_LEN 20
#define EFI_DESC_MIN 40 /* sizeof(EFI_MEMORY_DESCRIPTOR), UEFI 2.x section 7.2 */

STATIC_ASSERT(sizeof(struct mb2_mmap_entry) == 24, "mmap entry layout");
STATIC_ASSERT(sizeof(struct mb2_tag_framebuffer) == MB2_FB_RGB_LEN, "framebuffer tag layout");

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* Copy a string of at most srclen bytes (NUL-terminated or not), truncating to fit dst. */
static void copy_str(char *dst, size_t dstsize, const uint8_t *src, size_t srclen)
{
	size_t n = strnlen((const char *)src, srclen);

	if (n >= dstsize)
		n = dstsize - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int mb2_fail(char *err, size_t errlen, const char *msg, uint32_t off, uint32_t type)
{
	if (err && errlen)
		snprintf(err, errlen, "multiboot2: tag type %u at offset %u: %s", type, off, msg);
	return -EINVAL;
}

/* Memory map tag entry types are the e820/ACPI address range types (section 3.6.8). */
static uint32_t e820_to_keel(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
	case MEM_RESERVED:
	case MEM_ACPI_RECLAIM:
	case MEM_ACPI_NVS:
	case MEM_UNUSABLE:
	case MEM_PERSISTENT:
		return type;
	default:
		return MEM_RESERVED;
	}
}

/*
 * Append a range to bi->mmap, extending the previous entry when it is the
 * same type and directly follows it. False when the array is full.
 */
static bool mmap_append(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
	if (bi->nr_mmap > 0) {
		struct boot_mmap_entry *prev = &bi->mmap[bi->nr_mmap - 1];

		if (prev->type == type && prev->base + prev->size == base &&
		    size <= UINT64_MAX - prev->size) {
			prev->size += size;
			return true;
		}
	}
	if (bi->nr_mmap == BOOT_MMAP_MAX)
		return false;
	bi->mmap[bi->nr_mmap].base = base;
	bi->mmap[bi->nr_mmap].size = size;
	bi->mmap[bi->nr_mmap].type = type;
	bi->mmap[bi->nr_mmap].pad = 0;
	bi->nr_mmap++;
	return true;
}

/* Memory map tag (section 3.6.8): entries are entry_size bytes apart, which may exceed 24. */
static int parse_mmap(const uint8_t *tag, uint32_t size, uint32_t off, struct boot_info *bi,
		      bool *overflow, char *err, size_t errlen)
{
	uint32_t entry_size;
	char msg[80];

	if (size < MB2_MMAP_LEN)
		return mb2_fail(err, errlen, "too short", off, MB2_TAG_MMAP);
	entry_size = rd32(tag, 8);
	if (entry_size < sizeof(struct mb2_mmap_entry)) {
		snprintf(msg, sizeof(msg), "entry_size %u too small", entry_size);
		return mb2_fail(err, errlen, msg, off, MB2_TAG_MMAP);
	}
	for (uint32_t e = MB2_MMAP_LEN; entry_size <= size - e; e += entry_size) {
		uint64_t base = rd64(tag, e), len = rd64(tag, e + 8);
		uint32_t type = rd32(tag, e + 16);

		if (len == 0)
			continue;
		if (len - 1 > UINT64_MAX - base) {
			snprintf(msg, sizeof(msg), "entry at 0x%llx wraps past 2^64",
				 (unsigned long long)base);
			return mb2_fail(err, errlen, msg, off, MB2_TAG_MMAP);
		}
		if (!mmap_append(bi, base, len, e820_to_keel(type)))
			*overflow = true;
	}
	return 0;
}

static int parse_module(const uint8_t *tag, uint32_t size, uint32_t off, struct boot_info *bi,
			bool *overflow, char *err, size_t errlen)
{
	uint32_t start, end;
	struct boot_module *mod;

	if (size < MB2_MODULE_LEN)
		return mb2_fail(err, errlen, "too short", off, MB2_TAG_MODULE);
	start = rd32(tag, 8);
	end = rd32(tag, 12);
	if (end < start)
		return mb2_fail(err, errlen, "mod_end below mod_start", off, MB2_TAG_MODULE);
	if (bi->nr_modules == BOOT_MODULES_MAX) {
		*overflow = true;
		return 0;
	}
	mod = &bi->modules[bi->nr_modules++];
	mod->base = start;
	mod->size = end - start;
	copy_str(mod->name, sizeof(mod->name), tag + MB2_MODULE_LEN, size - MB2_MODULE_LEN);
	return 0;
}

/* Framebuffer info (section 3.6.12): the colour layout is only meaningful for direct RGB. */
static int parse_fb(const uint8_t *tag, uint32_t size, uint32_t off, struct boot_info *bi,
		    char *err, size_t errlen)
{
	struct mb2_tag_framebuffer fb;

	if (size < MB2_FB_COMMON_LEN)
		return mb2_fail(err, errlen, "too short", off, MB2_TAG_FRAMEBUFFER);
	memset(&fb, 0, sizeof(fb));
	memcpy(&fb, tag, MIN((size_t)size, sizeof(fb)));
	bi->fb.base = fb.addr;
	bi->fb.pitch = fb.pitch;
	bi->fb.width = fb.width;
	bi->fb.height = fb.height;
	bi->fb.bpp = fb.bpp;
	if (fb.fb_type == 1) {
		if (size < MB2_FB_RGB_LEN)
			return mb2_fail(err, errlen, "too short for direct RGB", off,
					MB2_TAG_FRAMEBUFFER);
		bi->fb.red_pos = fb.red_pos;
		bi->fb.red_size = fb.red_size;
		bi->fb.green_pos = fb.green_pos;
		bi->fb.green_size = fb.green_size;
		bi->fb.blue_pos = fb.blue_pos;
		bi->fb.blue_size = fb.blue_size;
	}
	return 0;
}

int mb2_parse(const void *mbi, uint64_t mbi_phys, struct boot_info *bi, char *err, size_t errlen)
{
	const uint8_t *base = mbi;
	uint32_t total, rsdp_new = 0, rsdp_old = 0;
	uint64_t pos;
	uint32_t mem_lower = 0, mem_upper = 0;
	bool have_mmap = false, have_meminfo = false, have_end = false;
	bool mmap_overflow = false, mod_overflow = false;
	uint32_t size = 0;
	char msg[96];
	int rc;

	memset(bi, 0, sizeof(*bi));
	bi->source = BOOT_SOURCE_MB2;
	if (err && errlen)
		err[0] = '\0';

	/* Fixed part (section 3.6.2): total_size includes itself and the terminating tag. */
	total = rd32(base, 0);
	if (total < 2 * MB2_HDR_LEN) {
		if (err && errlen)
			snprintf(err, errlen, "multiboot2: total_size %u is too small", total);
		return -EINVAL;
	}

	/* Tags start 8-byte aligned (section 3.6.2); size excludes the padding. */
	for (pos = MB2_HDR_LEN; !have_end; pos += ALIGN_UP((uint64_t)size, 8)) {
		const uint8_t *tag;
		uint32_t type, off = (uint32_t)pos;

		if (pos >= total) {
			if (err && errlen)
				snprintf(err, errlen, "multiboot2: no END tag within total_size %u",
					 total);
			return -EINVAL;
		}
		if (total - off < MB2_HDR_LEN) {
			if (err && errlen)
				snprintf(err, errlen,
					 "multiboot2: tag at offset %u: header runs past "
					 "total_size %u",
					 off, total);
			return -EINVAL;
		}
		tag = base + off;
		type = rd32(tag, 0);
		size = rd32(tag, 4);
		if (size < MB2_HDR_LEN)
			return mb2_fail(err, errlen, "size below 8", off, type);
		if (size > total - off) {
			snprintf(msg, sizeof(msg), "size %u runs past total_size %u", size, total);
			return mb2_fail(err, errlen, msg, off, type);
		}

		switch (type) {
		case MB2_TAG_END:
			have_end = true;
			break;
		case MB2_TAG_CMDLINE:
			copy_str(bi->cmdline, sizeof(bi->cmdline), tag + MB2_HDR_LEN,
				 size - MB2_HDR_LEN);
			break;
		case MB2_TAG_LOADER_NAME:
			copy_str(bi->loader_name, sizeof(bi->loader_name), tag + MB2_HDR_LEN,
				 size - MB2_HDR_LEN);
			break;
		case MB2_TAG_MODULE:
			rc = parse_module(tag, size, off, bi, &mod_overflow, err, errlen);
			if (rc)
				return rc;
			break;
		case MB2_TAG_BASIC_MEMINFO:
			if (size < MB2_MEMINFO_LEN)
				return mb2_fail(err, errlen, "too short", off, type);
			mem_lower = rd32(tag, 8);
			mem_upper = rd32(tag, 12);
			have_meminfo = true;
			break;
		case MB2_TAG_MMAP:
			if (have_mmap)
				break; /* only the first map counts */
			rc = parse_mmap(tag, size, off, bi, &mmap_overflow, err, errlen);
			if (rc)
				return rc;
			have_mmap = true;
			break;
		case MB2_TAG_FRAMEBUFFER:
			rc = parse_fb(tag, size, off, bi, err, errlen);
			if (rc)
				return rc;
			break;
		case MB2_TAG_EFI64:
			if (size < MB2_EFI64_LEN)
				return mb2_fail(err, errlen, "too short", off, type);
			bi->efi_systab = rd64(tag, 8);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* A copy of the RSDP (sections 3.6.16, 3.6.17); at least the v1 part. */
			if (size - MB2_HDR_LEN < RSDP_V1_LEN)
				return mb2_fail(err, errlen, "too short for an RSDP", off, type);
			if (type == MB2_TAG_ACPI_NEW && !rsdp_new)
				rsdp_new = off + MB2_HDR_LEN;
			else if (type == MB2_TAG_ACPI_OLD && !rsdp_old)
				rsdp_old = off + MB2_HDR_LEN;
			break;
		case MB2_TAG_EFI_MMAP:
			/* EFI memory map (section 3.6.19): descriptors desc_size bytes apart. */
			if (size < MB2_EFI_MMAP_LEN)
				return mb2_fail(err, errlen, "too short", off, type);
			if (rd32(tag, 8) < EFI_DESC_MIN) {
				snprintf(msg, sizeof(msg), "descriptor size %u too small",
					 rd32(tag, 8));
				return mb2_fail(err, errlen, msg, off, type);
			}
			bi->efi_mmap = mbi_phys + off + MB2_EFI_MMAP_LEN;
			bi->efi_mmap_size = size - MB2_EFI_MMAP_LEN;
			bi->efi_mmap_desc_size = rd32(tag, 8);
			bi->efi_mmap_desc_version = rd32(tag, 12);
			break;
		default:
			break; /* tags Keel does not need are skipped by size */
		}
	}

	/* The RSDP copy lies inside the MBI, which stays in place: report its physical address. */
	if (rsdp_new)
		bi->rsdp = mbi_phys + rsdp_new;
	else if (rsdp_old)
		bi->rsdp = mbi_phys + rsdp_old;

	/* Without a memory map tag, basic meminfo (section 3.6.3) gives lower and upper memory. */
	if (bi->nr_mmap == 0 && have_meminfo) {
		if (mem_lower)
			mmap_append(bi, 0, (uint64_t)mem_lower * KiB, MEM_USABLE);
		if (mem_upper)
			mmap_append(bi, 1 * MiB, (uint64_t)mem_upper * KiB, MEM_USABLE);
	}
	if (bi->nr_mmap == 0) {
		if (err && errlen)
			snprintf(err, errlen, "multiboot2: no memory map");
		return -EINVAL;
	}

	if (mmap_overflow) {
		if (err && errlen)
			snprintf(err, errlen,
				 "multiboot2: memory map has more than %d entries; the rest are "
				 "ignored",
				 BOOT_MMAP_MAX);
		return -E2BIG;
	}
	if (mod_overflow) {
		if (err && errlen)
			snprintf(err, errlen,
				 "multiboot2: more than %d modules; the rest are ignored",
				 BOOT_MODULES_MAX);
		return -E2BIG;
	}
	return 0;
}

/* EFI_MEMORY_TYPE values, UEFI 2.x section 7.2 (EFI_BOOT_SERVICES.AllocatePages). */
uint32_t efi_mem_type_to_keel(uint32_t efi_type)
{
	switch (efi_type) {
	case 1: /* EfiLoaderCode */
	case 2: /* EfiLoaderData */
	case 3: /* EfiBootServicesCode */
	case 4: /* EfiBootServicesData: free once ExitBootServices() has been called */
	case 7: /* EfiConventionalMemory */
		return MEM_USABLE;
	case 5: /* EfiRuntimeServicesCode */
	case 6: /* EfiRuntimeServicesData */
		return MEM_EFI_RUNTIME;
	case 8: /* EfiUnusableMemory */
		return MEM_UNUSABLE;
	case 9: /* EfiACPIReclaimMemory */
		return MEM_ACPI_RECLAIM;
	case 10: /* EfiACPIMemoryNVS */
		return MEM_ACPI_NVS;
	case 11: /* EfiMemoryMappedIO */
	case 12: /* EfiMemoryMappedIOPortSpace */
		return 0;
	case 14: /* EfiPersistentMemory */
		return MEM_PERSISTENT;
	case 0:	 /* EfiReservedMemoryType */
	case 13: /* EfiPalCode */
	default:
		return MEM_RESERVED;
	}
}
