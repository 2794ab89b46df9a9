// SPDX-License-Identifier: MIT
/*
 * Loading a Linux bzImage for the 64-bit boot protocol (include/keel/linux.h).
 *
 * References: Linux Documentation/x86/boot.rst (sections "The Real-Mode
 * Kernel Header", "Details of Header Fields", "64-bit Boot Protocol"),
 * Documentation/x86/zero-page.rst and arch/x86/include/uapi/asm/bootparam.h
 * for the boot_params layout, include/uapi/linux/screen_info.h for
 * screen_info. Offsets are written out as numbers because the file and the
 * zero page are byte layouts, not C structures of this build: every field is
 * read and written a byte at a time, little-endian, at its documented offset.
 *
 * The image is untrusted input: every offset is checked against the file
 * size before it is read, and every address computed from it is checked for
 * overflow.
 *
 * Placement policy (all in MEM_USABLE ranges of the request's map; adjacent
 * usable entries count as one range):
 *
 *  - Kernel. The protected-mode image goes where its whole working window,
 *    [load, load + max(init_size, payload)), lies in one usable range. A
 *    relocatable kernel gets the lowest kernel_alignment-aligned address at
 *    or above pref_address (so pref_address itself when it is usable). It is
 *    never put below pref_address: the 6.1 decompressor (compressed/head_64.S,
 *    startup_64) rounds its load address up to kernel_alignment and, if that
 *    is below LOAD_PHYSICAL_ADDR (= pref_address), decompresses at
 *    LOAD_PHYSICAL_ADDR anyway, so a lower placement would still need
 *    [pref_address, + init_size) and only hide that from this loader. A
 *    kernel that is not relocatable goes at pref_address or not at all.
 *    Without XLF_CAN_BE_LOADED_ABOVE_4G the window must end at or below
 *    4 GiB (boot.rst, xloadflags).
 *  - initrd. Page aligned, as high as possible with its end at or below
 *    min(initrd_addr_max + 1, 4 GiB) ("high in RAM is conventional",
 *    boot.rst "initrd_addr_max"); only if nothing fits there and the kernel
 *    sets XLF_CAN_BE_LOADED_ABOVE_4G, as high as possible anywhere (the
 *    address then goes into ext_ramdisk_image too). Never in the kernel's
 *    window.
 *  - boot_params (one 4 KiB page) and the command line (cmdline_size + 1
 *    bytes, page-rounded: 6.1 copies a full COMMAND_LINE_SIZE from
 *    cmd_line_ptr whatever the string length, so the whole buffer is ours and
 *    zeroed). Page aligned, as high as possible below 4 GiB, and above 4 GiB
 *    only with XLF_CAN_BE_LOADED_ABOVE_4G when nothing fits below. Never in
 *    the kernel's window or the initrd, never in page 0.
 *
 * Everything is placed before anything is written, so a request that does
 * not fit leaves guest memory untouched.
 *
 * plan->low is the lowest address of anything placed and plan->high is one
 * past the highest; the span includes the kernel's whole init_size window,
 * which boot.rst requires to be identity-mapped at entry.
 */
#include <keel/types.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/bootinfo.h>
#include <keel/linux.h>

/* Setup header, file offsets = boot_params offsets (boot.rst "The Real-Mode Kernel Header"). */
#define HDR_START 0x1f1		   /* first byte copied into boot_params */
#define HDR_SETUP_SECTS 0x1f1	   /* u8: real-mode setup sectors, 0 means 4 */
#define HDR_SYSSIZE 0x1f4	   /* u32: protected-mode size in 16-byte units (2.04+) */
#define HDR_BOOT_FLAG 0x1fe	   /* u16: 0xAA55 */
#define HDR_JUMP_DISP 0x201	   /* u8: short-jump displacement: the header ends at 0x202 + it */
#define HDR_HEADER 0x202	   /* u32: "HdrS" */
#define HDR_VERSION 0x206	   /* u16: boot protocol (major << 8) | minor */
#define HDR_TYPE_OF_LOADER 0x210   /* u8 */
#define HDR_LOADFLAGS 0x211	   /* u8 */
#define HDR_CODE32_START 0x214	   /* u32 */
#define HDR_RAMDISK_IMAGE 0x218	   /* u32 */
#define HDR_RAMDISK_SIZE 0x21c	   /* u32 */
#define HDR_CMD_LINE_PTR 0x228	   /* u32 */
#define HDR_INITRD_ADDR_MAX 0x22c  /* u32: highest address the initrd may occupy */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define HDR_RELOCATABLE 0x234	   /* u8 */
#define HDR_XLOADFLAGS 0x236	   /* u16 (2.12+) */
#define HDR_CMDLINE_SIZE 0x238	   /* u32: max command line length without the NUL (2.06+) */
#define HDR_HARDWARE_SUBARCH 0x23c /* u32 (2.07+) */
#define HDR_SETUP_DATA 0x250	   /* u64 (2.09+) */
#define HDR_PREF_ADDRESS 0x258	   /* u64 (2.10+) */
#define HDR_INIT_SIZE 0x260	   /* u32 (2.10+) */
#define HDR_END_MIN 0x264	   /* the header must reach past init_size, the last field read */
#define HDR_END_MAX 0x290 /* boot_params has room for the header up to edd_mbr_sig_buffer */

#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define PROTOCOL_MIN 0x020c    /* 2.12: the first with xloadflags, hence XLF_KERNEL_64 */

#define LOADFLAG_LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define TYPE_OF_LOADER_UNDEFINED 0xff /* boot.rst "type_of_loader": 0xFF = undefined */

#define SECTOR_SIZE 512
#define ENTRY64_OFFSET 0x200 /* startup_64 is at +0x200 (boot.rst "64-bit Boot Protocol") */

/* boot_params (zero-page.rst). */
#define BP_SIZE 0x1000
#define BP_ACPI_RSDP_ADDR 0x070	   /* u64 */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32 */
#define BP_EXT_RAMDISK_SIZE 0x0c4  /* u32 */
#define BP_EXT_CMD_LINE_PTR 0x0c8  /* u32 */
#define BP_EFI_INFO 0x1c0	   /* struct efi_info, 32 bytes */
#define BP_E820_ENTRIES 0x1e8	   /* u8 */
#define BP_SENTINEL 0x1ef	   /* u8: must stay 0 (bootparam_utils.h) */
#define BP_E820_TABLE 0x2d0	   /* struct boot_e820_entry[128] */
#define E820_MAX_ENTRIES_ZEROPAGE 128
#define E820_ENTRY_SIZE 20 /* packed {u64 addr; u64 size; u32 type} */

/* struct efi_info at BP_EFI_INFO (bootparam.h). */
#define EFI_LOADER_SIGNATURE 0x00 /* "EL64" for a 64-bit EFI loader */
#define EFI_SYSTAB 0x04
#define EFI_MEMDESC_SIZE 0x08
#define EFI_MEMDESC_VERSION 0x0c
#define EFI_MEMMAP 0x10
#define EFI_MEMMAP_SIZE 0x14
#define EFI_SYSTAB_HI 0x18
#define EFI_MEMMAP_HI 0x1c

/* struct screen_info at offset 0 of boot_params (include/uapi/linux/screen_info.h). */
#define SI_ORIG_VIDEO_ISVGA 0x0f /* u8: video type */
#define SI_LFB_WIDTH 0x12	 /* u16 */
#define SI_LFB_HEIGHT 0x14	 /* u16 */
#define SI_LFB_DEPTH 0x16	 /* u16: bits per pixel */
#define SI_LFB_BASE 0x18	 /* u32 */
#define SI_LFB_SIZE 0x1c	 /* u32: bytes for EFI, 64 KiB units for VESA */
#define SI_LFB_LINELENGTH 0x24	 /* u16 */
#define SI_RED_SIZE 0x26	 /* u8 each: size, then position */
#define SI_RED_POS 0x27
#define SI_GREEN_SIZE 0x28
#define SI_GREEN_POS 0x29
#define SI_BLUE_SIZE 0x2a
#define SI_BLUE_POS 0x2b
#define SI_RSVD_SIZE 0x2c
#define SI_RSVD_POS 0x2d
#define SI_PAGES 0x32	     /* u16 */
#define SI_CAPABILITIES 0x36 /* u32 */
#define SI_EXT_LFB_BASE 0x3a /* u32: bits 63:32 of the base */

#define VIDEO_TYPE_VLFB 0x23 /* VESA linear framebuffer */
#define VIDEO_TYPE_EFI 0x70  /* EFI graphics output */
#define VIDEO_CAPABILITY_SKIP_QUIRKS 0x1
#define VIDEO_CAPABILITY_64BIT_BASE 0x2

#define LOW_1M (1 * MiB)
#define LIMIT_4G (4 * GiB)

struct range {
	uint64_t base, end; /* [base, end) */
};

#define MAX_BUSY 4

struct placer {
	const struct linux_e820 *map;
	struct range busy[MAX_BUSY]; /* what is placed so far */
	unsigned int nr_busy;
};

static __printf(4, 5) int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* "38 MiB", "63.6 MiB", "512 bytes": sizes in messages are for people. */
static void fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	uint64_t scale = 1, whole, tenths;

	while (u + 1 < ARRAY_SIZE(units) && v / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	if (u == 0) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
		return;
	}
	whole = v / scale;
	tenths = ((v % scale) * 10 + scale / 2) / scale;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (tenths)
		snprintf(buf, len, "%llu.%llu %s", (unsigned long long)whole,
			 (unsigned long long)tenths, units[u]);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)whole, units[u]);
}

static uint64_t rd_le(const uint8_t *p, size_t off, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

static void wr_le(uint8_t *p, size_t off, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Round v up to a multiple of the power of two a; false if that overflows. */
static bool align_up(uint64_t v, uint64_t a, uint64_t *out)
{
	if (v > UINT64_MAX - (a - 1))
		return false;
	*out = ALIGN_UP(v, a);
	return true;
}

int linux_parse_bzimage(const void *image, size_t size, struct linux_image_info *info, char *err,
			size_t errlen)
{
	const uint8_t *p = image;
	uint32_t hdr_end, setup_sects, syssize;
	uint16_t version;

	memset(info, 0, sizeof(*info));
	if (!p || size < HDR_HEADER + 4)
		return fail(err, errlen, -ENOEXEC,
			    "not a bzImage: %zu bytes is too small to hold a setup header", size);
	if (rd_le(p, HDR_BOOT_FLAG, 2) != BOOT_FLAG)
		return fail(err, errlen, -ENOEXEC,
			    "not a bzImage: no 0xAA55 boot flag at 0x1FE (found 0x%04llx)",
			    (unsigned long long)rd_le(p, HDR_BOOT_FLAG, 2));
	if (rd_le(p, HDR_HEADER, 4) != HDRS_MAGIC)
		return fail(err, errlen, -ENOEXEC, "not a bzImage: no 'HdrS' signature at 0x202");

	/* The header's length is the short jump at 0x200 (boot.rst "The Real-Mode Kernel Header"). */
	hdr_end = HDR_HEADER + p[HDR_JUMP_DISP];
	if (hdr_end < HDR_VERSION + 2)
		return fail(err, errlen, -ENOEXEC,
			    "corrupt setup header: it ends at 0x%x, before its version field",
			    hdr_end);
	if (hdr_end > size)
		return fail(
			err, errlen, -ENOEXEC,
			"truncated bzImage: the setup header ends at 0x%x but the file is only %zu "
			"bytes",
			hdr_end, size);
	version = (uint16_t)rd_le(p, HDR_VERSION, 2);
	if (version < PROTOCOL_MIN)
		return fail(
			err, errlen, -ENOEXEC,
			"boot protocol %u.%02u is too old: Keel needs 2.12 for the 64-bit entry",
			version >> 8, version & 0xff);
	if (hdr_end < HDR_END_MIN)
		return fail(
			err, errlen, -ENOEXEC,
			"corrupt setup header: it ends at 0x%x, before the init_size field that "
			"protocol %u.%02u has at 0x260",
			hdr_end, version >> 8, version & 0xff);
	if (hdr_end > HDR_END_MAX)
		return fail(err, errlen, -ENOEXEC,
			    "corrupt setup header: it claims to end at 0x%x, past the 0x290 that "
			    "boot_params has room for",
			    hdr_end);

	/* boot.rst "Loading The Rest of The Kernel": setup_sects 0 means 4. */
	setup_sects = p[HDR_SETUP_SECTS] ? p[HDR_SETUP_SECTS] : 4;
	/* At least 2 sectors, so the setup code always covers the header (<= 0x290). */
	info->setup_size = (setup_sects + 1) * SECTOR_SIZE;
	if (info->setup_size >= size)
		return fail(
			err, errlen, -ENOEXEC,
			"truncated bzImage: the protected-mode kernel should start at file offset "
			"%u but the file is only %zu bytes",
			info->setup_size, size);
	info->payload_size = size - info->setup_size;
	if (info->payload_size <= ENTRY64_OFFSET)
		return fail(err, errlen, -ENOEXEC,
			    "truncated bzImage: the protected-mode kernel is only %llu bytes, too "
			    "small to hold the 64-bit entry at +0x200",
			    (unsigned long long)info->payload_size);
	/* syssize is informational, but larger than the file means a cut-off download. */
	syssize = (uint32_t)rd_le(p, HDR_SYSSIZE, 4);
	if ((uint64_t)syssize * 16 > info->payload_size)
		return fail(
			err, errlen, -ENOEXEC,
			"truncated bzImage: syssize says the protected-mode kernel is %llu bytes "
			"but the file holds only %llu",
			(unsigned long long)syssize * 16, (unsigned long long)info->payload_size);

	info->protocol = version;
	info->loadflags = p[HDR_LOADFLAGS];
	info->xloadflags = (uint16_t)rd_le(p, HDR_XLOADFLAGS, 2);
	info->kernel_alignment = (uint32_t)rd_le(p, HDR_KERNEL_ALIGNMENT, 4);
	info->relocatable = p[HDR_RELOCATABLE] != 0;
	info->pref_address = rd_le(p, HDR_PREF_ADDRESS, 8);
	info->init_size = (uint32_t)rd_le(p, HDR_INIT_SIZE, 4);
	info->cmdline_size = (uint32_t)rd_le(p, HDR_CMDLINE_SIZE, 4);
	info->initrd_addr_max = (uint32_t)rd_le(p, HDR_INITRD_ADDR_MAX, 4);

	if (!(info->loadflags & LOADFLAG_LOADED_HIGH))
		return fail(err, errlen, -ENOEXEC,
			    "not a bzImage: loadflags LOADED_HIGH is clear (a zImage loads at "
			    "0x10000 and needs the real-mode setup)");
	if (!(info->xloadflags & XLF_KERNEL_64))
		return fail(err, errlen, -ENOEXEC,
			    "kernel has no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags "
			    "0x%x): is it a 32-bit kernel?",
			    info->xloadflags);
	if (info->init_size == 0)
		return fail(err, errlen, -ENOEXEC,
			    "corrupt setup header: init_size is 0 (protocol %u.%02u must give it)",
			    version >> 8, version & 0xff);
	if (info->relocatable) {
		if (!is_pow2(info->kernel_alignment))
			return fail(err, errlen, -ENOEXEC,
				    "corrupt setup header: kernel_alignment 0x%x is not a power "
				    "of two",
				    info->kernel_alignment);
	} else if (info->pref_address < LOW_1M || (info->pref_address & (PAGE_SIZE - 1))) {
		return fail(err, errlen, -ENOEXEC,
			    "kernel is not relocatable and its pref_address 0x%llx is unusable "
			    "(below 1 MiB or not page aligned)",
			    (unsigned long long)info->pref_address);
	}
	return 0;
}

/* ---- the guest memory map ---- */

/* Sorted, non-overlapping, no range wrapping past 2^64 (linux.h promises it; check anyway). */
static int check_map(const struct linux_e820 *m, char *err, size_t errlen)
{
	uint64_t prev_end = 0;

	if (!m->e || m->nr == 0)
		return fail(err, errlen, -EINVAL, "the partition's memory map is empty");
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct boot_mmap_entry *e = &m->e[i];

		if (e->size == 0)
			continue;
		if (e->size > UINT64_MAX - e->base)
			return fail(
				err, errlen, -EINVAL,
				"memory map entry %u (0x%llx, size 0x%llx) runs past the end of "
				"the address space",
				i, (unsigned long long)e->base, (unsigned long long)e->size);
		if (e->base < prev_end)
			return fail(
				err, errlen, -EINVAL,
				"memory map entry %u at 0x%llx overlaps or is out of order with "
				"the one before it (which ends at 0x%llx)",
				i, (unsigned long long)e->base, (unsigned long long)prev_end);
		prev_end = e->base + e->size;
	}
	return 0;
}

/* e820 types 1..7 go to Linux as they are; Keel's own types and 0 are reserved to it. */
static uint32_t e820_type(uint32_t type)
{
	return type >= MEM_USABLE && type <= MEM_PERSISTENT ? type : MEM_RESERVED;
}

/*
 * The e820 table Linux gets: the map with adjacent same-type entries merged.
 * Returns the entry count; writes the entries to table (room for
 * E820_MAX_ENTRIES_ZEROPAGE) when it is not NULL.
 */
static uint32_t e820_build(const struct linux_e820 *m, uint8_t *table)
{
	uint32_t n = 0, type = 0;
	uint64_t base = 0, end = 0;

	for (uint32_t i = 0; i < m->nr; i++) {
		const struct boot_mmap_entry *e = &m->e[i];
		uint32_t t = e820_type(e->type);

		if (e->size == 0)
			continue;
		if (n && t == type && e->base == end) {
			end += e->size;
		} else {
			n++;
			base = e->base;
			end = base + e->size;
			type = t;
		}
		if (table && n <= E820_MAX_ENTRIES_ZEROPAGE) {
			uint8_t *d = table + (size_t)(n - 1) * E820_ENTRY_SIZE;

			wr_le(d, 0, base, 8);
			wr_le(d, 8, end - base, 8);
			wr_le(d, 16, type, 4);
		}
	}
	return n;
}

/* The next run of adjacent MEM_USABLE entries at or after *i; false when there is none. */
static bool next_usable_run(const struct linux_e820 *m, uint32_t *i, struct range *r)
{
	while (*i < m->nr && (m->e[*i].type != MEM_USABLE || m->e[*i].size == 0))
		(*i)++;
	if (*i >= m->nr)
		return false;
	r->base = m->e[*i].base;
	r->end = r->base + m->e[*i].size;
	for ((*i)++; *i < m->nr; (*i)++) {
		const struct boot_mmap_entry *e = &m->e[*i];

		if (e->size == 0)
			continue;
		if (e->type != MEM_USABLE || e->base != r->end)
			break;
		r->end += e->size;
	}
	return true;
}

static const struct range *busy_overlap(const struct placer *pl, uint64_t base, uint64_t size)
{
	for (unsigned int k = 0; k < pl->nr_busy; k++) {
		const struct range *b = &pl->busy[k];

		if (base < b->end && b->base < base + size)
			return b;
	}
	return NULL;
}

static void mark_busy(struct placer *pl, uint64_t base, uint64_t size)
{
	if (pl->nr_busy < MAX_BUSY) {
		pl->busy[pl->nr_busy].base = base;
		pl->busy[pl->nr_busy].end = base + size;
		pl->nr_busy++;
	}
}

/* Clip a run to [lo, hi); false if nothing is left. */
static bool clip(struct range *r, uint64_t lo, uint64_t hi)
{
	r->base = MAX(r->base, lo);
	r->end = MIN(r->end, hi);
	return r->base < r->end;
}

/*
 * The lowest align-aligned address a with [a, a + size) inside one usable
 * run, inside [lo, hi), and clear of everything placed so far.
 */
static bool place_low(const struct placer *pl, uint64_t size, uint64_t align, uint64_t lo,
		      uint64_t hi, uint64_t *out)
{
	struct range r;
	uint32_t i = 0;

	while (next_usable_run(pl->map, &i, &r)) {
		uint64_t a;

		if (!clip(&r, lo, hi) || !align_up(r.base, align, &a))
			continue;
		while (a <= r.end && r.end - a >= size) {
			const struct range *b = busy_overlap(pl, a, size);

			if (!b) {
				*out = a;
				return true;
			}
			if (!align_up(b->end, align, &a))
				break;
		}
	}
	return false;
}

/* As place_low, but the highest such address. */
static bool place_high(const struct placer *pl, uint64_t size, uint64_t align, uint64_t lo,
		       uint64_t hi, uint64_t *out)
{
	struct range r;
	uint32_t i = 0;
	bool found = false;

	while (next_usable_run(pl->map, &i, &r)) {
		uint64_t top;

		if (!clip(&r, lo, hi))
			continue;
		top = r.end;
		while (top >= r.base && top - r.base >= size) {
			uint64_t a = ALIGN_DOWN(top - size, align);
			const struct range *b;

			if (a < r.base)
				break;
			b = busy_overlap(pl, a, size);
			if (!b) {
				/* Runs come in ascending order: a later find is higher. */
				*out = a;
				found = true;
				break;
			}
			/* b starts below a + size <= top, so top strictly decreases. */
			top = b->base;
		}
	}
	return found;
}

/* Highest fit below 4 GiB, else (when the kernel allows it) the highest fit anywhere. */
static bool place_high_prefer_low4g(const struct placer *pl, uint64_t size, uint64_t lo,
				    uint64_t limit, bool above_4g, uint64_t *out)
{
	if (place_high(pl, size, PAGE_SIZE, lo, MIN(limit, LIMIT_4G), out))
		return true;
	return above_4g && place_high(pl, size, PAGE_SIZE, lo, UINT64_MAX, out);
}

/* ---- writing guest memory ---- */

/*
 * Copy len bytes of src (or zeros when src is NULL) to guest-physical gpa.
 * The whole range is translated at once when the callback can; otherwise
 * page by page, so guest RAM need not be contiguous in Keel's view.
 */
static int guest_write(const struct linux_boot_request *req, uint64_t gpa, const void *src,
		       uint64_t len, char *err, size_t errlen)
{
	void *hva = req->gpa_to_hva(req->ctx, gpa, len);
	const uint8_t *s = src;

	if (hva) {
		if (s)
			memcpy(hva, s, len);
		else
			memset(hva, 0, len);
		return 0;
	}
	while (len) {
		uint64_t n = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));

		hva = req->gpa_to_hva(req->ctx, gpa, n);
		if (!hva)
			return fail(err, errlen, -EFAULT,
				    "guest-physical 0x%llx is usable RAM in the memory map but "
				    "cannot be reached to write it",
				    (unsigned long long)gpa);
		if (s) {
			memcpy(hva, s, n);
			s += n;
		} else {
			memset(hva, 0, n);
		}
		gpa += n;
		len -= n;
	}
	return 0;
}

/*
 * screen_info for a linear framebuffer, the way the EFI stub (VIDEO_TYPE_EFI,
 * lfb_size in bytes) or the real-mode VESA code (VIDEO_TYPE_VLFB, lfb_size
 * in 64 KiB units) would leave it. A mode whose geometry does not fit the
 * 16-bit fields is not described at all: the guest then runs headless.
 */
static void fill_screen_info(uint8_t *bp, const struct boot_framebuffer *fb, bool efi)
{
	uint64_t size;
	uint32_t caps = 0;
	unsigned int used;

	if (!fb || !fb->base || !fb->width || !fb->height || !fb->pitch || !fb->bpp)
		return;
	if (fb->width > 0xffff || fb->height > 0xffff || fb->pitch > 0xffff)
		return;
	size = (uint64_t)fb->pitch * fb->height;
	if (!efi)
		size = ALIGN_UP(size, 64 * KiB) / (64 * KiB);
	if (size > UINT32_MAX)
		size = UINT32_MAX;

	bp[SI_ORIG_VIDEO_ISVGA] = efi ? VIDEO_TYPE_EFI : VIDEO_TYPE_VLFB;
	wr_le(bp, SI_LFB_WIDTH, fb->width, 2);
	wr_le(bp, SI_LFB_HEIGHT, fb->height, 2);
	wr_le(bp, SI_LFB_DEPTH, fb->bpp, 2);
	wr_le(bp, SI_LFB_BASE, fb->base & 0xffffffffu, 4);
	wr_le(bp, SI_LFB_SIZE, size, 4);
	wr_le(bp, SI_LFB_LINELENGTH, fb->pitch, 2);
	bp[SI_RED_SIZE] = fb->red_size;
	bp[SI_RED_POS] = fb->red_pos;
	bp[SI_GREEN_SIZE] = fb->green_size;
	bp[SI_GREEN_POS] = fb->green_pos;
	bp[SI_BLUE_SIZE] = fb->blue_size;
	bp[SI_BLUE_POS] = fb->blue_pos;
	/* The bits above the colours are the reserved channel (as the EFI stub's GOP code does). */
	used = MAX(fb->red_pos + fb->red_size,
		   MAX(fb->green_pos + fb->green_size, fb->blue_pos + fb->blue_size));
	if (used < fb->bpp) {
		bp[SI_RSVD_POS] = (uint8_t)used;
		bp[SI_RSVD_SIZE] = (uint8_t)(fb->bpp - used);
	}
	wr_le(bp, SI_PAGES, 1, 2);
	/* Model-specific efifb quirks are for the firmware's framebuffer on real Macs, not ours. */
	if (efi)
		caps |= VIDEO_CAPABILITY_SKIP_QUIRKS;
	if (fb->base >> 32) {
		caps |= VIDEO_CAPABILITY_64BIT_BASE;
		wr_le(bp, SI_EXT_LFB_BASE, fb->base >> 32, 4);
	}
	wr_le(bp, SI_CAPABILITIES, caps, 4);
}

/* Build the zero page: boot.rst "64-bit Boot Protocol" steps 1-4. */
static void fill_boot_params(uint8_t *bp, const struct linux_boot_request *req,
			     const struct linux_boot_plan *plan)
{
	const uint8_t *img = req->kernel;
	uint32_t hdr_end = HDR_HEADER + img[HDR_JUMP_DISP];

	memset(bp, 0, BP_SIZE);
	/*
	 * Only the setup header, 0x1F1 up to its end: copying from 0x1EF or
	 * earlier would carry the image's non-zero sentinel, and the kernel
	 * would then wipe acpi_rsdp_addr and the ext_* fields
	 * (bootparam_utils.h).
	 */
	memcpy(bp + HDR_START, img + HDR_START, hdr_end - HDR_START);
	bp[BP_SENTINEL] = 0;

	/* Obligatory, and non-zero or the kernel ignores the initrd (boot.rst "type_of_loader"). */
	bp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
	/* Not used by the 64-bit entry, but keep it truthful (boot.rst "code32_start"). */
	if (plan->kernel_gpa < LIMIT_4G)
		wr_le(bp, HDR_CODE32_START, plan->kernel_gpa, 4);
	wr_le(bp, HDR_HARDWARE_SUBARCH, 0, 4); /* X86_SUBARCH_PC */
	wr_le(bp, HDR_SETUP_DATA, 0, 8);

	wr_le(bp, HDR_CMD_LINE_PTR, plan->cmdline_gpa & 0xffffffffu, 4);
	wr_le(bp, BP_EXT_CMD_LINE_PTR, plan->cmdline_gpa >> 32, 4);
	if (plan->initrd_gpa) {
		uint64_t size = req->initrd_size;

		wr_le(bp, HDR_RAMDISK_IMAGE, plan->initrd_gpa & 0xffffffffu, 4);
		wr_le(bp, HDR_RAMDISK_SIZE, size & 0xffffffffu, 4);
		wr_le(bp, BP_EXT_RAMDISK_IMAGE, plan->initrd_gpa >> 32, 4);
		wr_le(bp, BP_EXT_RAMDISK_SIZE, size >> 32, 4);
	} else {
		wr_le(bp, HDR_RAMDISK_IMAGE, 0, 4);
		wr_le(bp, HDR_RAMDISK_SIZE, 0, 4);
	}

	wr_le(bp, BP_ACPI_RSDP_ADDR, req->rsdp, 8);
	bp[BP_E820_ENTRIES] = (uint8_t)e820_build(&req->map, bp + BP_E820_TABLE);

	fill_screen_info(bp, req->fb, req->efi_systab != 0);

	if (req->efi_systab) {
		uint8_t *efi = bp + BP_EFI_INFO;

		memcpy(efi + EFI_LOADER_SIGNATURE, "EL64", 4);
		wr_le(efi, EFI_SYSTAB, req->efi_systab & 0xffffffffu, 4);
		wr_le(efi, EFI_SYSTAB_HI, req->efi_systab >> 32, 4);
		wr_le(efi, EFI_MEMDESC_SIZE, req->efi_desc_size, 4);
		wr_le(efi, EFI_MEMDESC_VERSION, req->efi_desc_version, 4);
		wr_le(efi, EFI_MEMMAP, req->efi_mmap & 0xffffffffu, 4);
		wr_le(efi, EFI_MEMMAP_HI, req->efi_mmap >> 32, 4);
		wr_le(efi, EFI_MEMMAP_SIZE, req->efi_mmap_size, 4);
	}
}

/* ---- placement ---- */

static int place_kernel(struct placer *pl, const struct linux_image_info *info, uint64_t window,
			uint64_t *gpa, char *err, size_t errlen)
{
	bool above_4g = info->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
	uint64_t hi = above_4g ? UINT64_MAX : LIMIT_4G;
	uint64_t align = MAX((uint64_t)info->kernel_alignment, PAGE_SIZE);
	char need[32], at[32];

	fmt_size(need, sizeof(need), window);
	if (!info->relocatable) {
		uint64_t a = info->pref_address;

		if (window <= hi && a <= hi - window &&
		    place_low(pl, window, PAGE_SIZE, a, a + window, gpa) && *gpa == a)
			return 0;
		return fail(err, errlen, -ENOMEM,
			    "kernel is not relocatable: it needs %s (init_size) of usable RAM at "
			    "its pref_address 0x%llx%s, and that range is not all usable",
			    need, (unsigned long long)a, above_4g ? "" : ", below 4 GiB");
	}
	if (place_low(pl, window, align, MAX(info->pref_address, LOW_1M), hi, gpa))
		return 0;
	fmt_size(at, sizeof(at), align);
	return fail(err, errlen, -ENOMEM,
		    "kernel needs %s (init_size) at a %s boundary at or above 0x%llx%s: no usable "
		    "RAM range is large enough",
		    need, at, (unsigned long long)MAX(info->pref_address, LOW_1M),
		    above_4g ? "" : " and below 4 GiB");
}

static int place_initrd(struct placer *pl, const struct linux_image_info *info, uint64_t size,
			uint64_t *gpa, char *err, size_t errlen)
{
	bool above_4g = info->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
	uint64_t limit = MIN((uint64_t)info->initrd_addr_max + 1, LIMIT_4G);
	char need[32];

	if (place_high(pl, size, PAGE_SIZE, LOW_1M, limit, gpa))
		return 0;
	if (above_4g && place_high(pl, size, PAGE_SIZE, LOW_1M, UINT64_MAX, gpa))
		return 0;
	fmt_size(need, sizeof(need), size);
	return fail(err, errlen, -ENOMEM,
		    "initrd (%s) does not fit in usable RAM between 1 MiB and 0x%llx "
		    "(initrd_addr_max or 4 GiB)%s outside the kernel's init_size window",
		    need, (unsigned long long)limit, above_4g ? ", nor above that," : "");
}

int linux_load(const struct linux_boot_request *req, struct linux_boot_plan *plan, char *err,
	       size_t errlen)
{
	struct linux_image_info info;
	struct placer pl = { .map = &req->map };
	struct linux_boot_plan pp = { 0 }; /* *plan stays zero unless everything succeeds */
	uint64_t window, initrd_size, cmdline_len, cmdline_buf, bp_gpa;
	const char *cmdline = req->cmdline ? req->cmdline : "";
	bool above_4g, low_ram = false;
	uint32_t nr_e820;
	uint8_t *bp;
	int rc;

	memset(plan, 0, sizeof(*plan));
	if (!req->gpa_to_hva)
		return fail(err, errlen, -EINVAL, "no way to reach guest memory (gpa_to_hva)");
	rc = linux_parse_bzimage(req->kernel, req->kernel_size, &info, err, errlen);
	if (rc)
		return rc;
	above_4g = info.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;

	/* The memory map, as Linux will see it (zero-page.rst, e820_table). */
	rc = check_map(&req->map, err, errlen);
	if (rc)
		return rc;
	nr_e820 = e820_build(&req->map, NULL);
	if (nr_e820 > E820_MAX_ENTRIES_ZEROPAGE)
		return fail(err, errlen, -E2BIG,
			    "the memory map has %u entries after merging neighbours of the same "
			    "type; boot_params holds at most %u",
			    nr_e820, E820_MAX_ENTRIES_ZEROPAGE);
	/* 6.1 append_e820_table() ignores a table of fewer than 2 entries. */
	if (nr_e820 < 2)
		return fail(
			err, errlen, -EINVAL,
			"the memory map has %u entry after merging; Linux ignores an e820 table "
			"with fewer than 2 (give it the legacy hole at 0xA0000-0xFFFFF)",
			nr_e820);
	/* The real-mode trampoline must be allocated below 1 MiB, or 6.1 panics at boot. */
	for (uint32_t i = 0; i < req->map.nr; i++)
		if (req->map.e[i].type == MEM_USABLE && req->map.e[i].size &&
		    req->map.e[i].base < LOW_1M)
			low_ram = true;
	if (!low_ram)
		return fail(err, errlen, -EINVAL,
			    "the memory map has no usable RAM below 1 MiB; Linux needs some there "
			    "for its real-mode trampoline");

	/* boot.rst "cmdline_size": the maximum length, not counting the NUL. */
	cmdline_len = strlen(cmdline);
	if (cmdline_len > info.cmdline_size)
		return fail(err, errlen, -E2BIG,
			    "command line is %llu bytes; this kernel accepts at most %u "
			    "(cmdline_size)",
			    (unsigned long long)cmdline_len, info.cmdline_size);
	cmdline_buf = ALIGN_UP((uint64_t)info.cmdline_size + 1, PAGE_SIZE);

	/* Kernel first: it has the strictest needs. */
	window = ALIGN_UP(MAX((uint64_t)info.init_size, info.payload_size), PAGE_SIZE);
	rc = place_kernel(&pl, &info, window, &pp.kernel_gpa, err, errlen);
	if (rc)
		return rc;
	mark_busy(&pl, pp.kernel_gpa, window);
	pp.entry_gpa = pp.kernel_gpa + ENTRY64_OFFSET;
	pp.low = pp.kernel_gpa;
	pp.high = pp.kernel_gpa + window;

	initrd_size = req->initrd ? req->initrd_size : 0;
	if (initrd_size) {
		uint64_t rounded;

		if (!align_up(initrd_size, PAGE_SIZE, &rounded))
			return fail(err, errlen, -ENOMEM, "initrd size is impossible");
		rc = place_initrd(&pl, &info, rounded, &pp.initrd_gpa, err, errlen);
		if (rc)
			return rc;
		mark_busy(&pl, pp.initrd_gpa, rounded);
		pp.low = MIN(pp.low, pp.initrd_gpa);
		pp.high = MAX(pp.high, pp.initrd_gpa + rounded);
	}

	if (!place_high_prefer_low4g(&pl, BP_SIZE, PAGE_SIZE, UINT64_MAX, above_4g, &bp_gpa))
		return fail(err, errlen, -ENOMEM,
			    "no usable 4 KiB page%s is left for boot_params outside the kernel "
			    "window and the initrd",
			    above_4g ? "" : " below 4 GiB");
	mark_busy(&pl, bp_gpa, BP_SIZE);
	pp.boot_params_gpa = bp_gpa;

	if (!place_high_prefer_low4g(&pl, cmdline_buf, PAGE_SIZE, UINT64_MAX, above_4g,
				     &pp.cmdline_gpa)) {
		char need[32];

		fmt_size(need, sizeof(need), cmdline_buf);
		return fail(err, errlen, -ENOMEM,
			    "no usable RAM%s is left for the %s command-line buffer outside the "
			    "kernel window, the initrd and boot_params",
			    above_4g ? "" : " below 4 GiB", need);
	}
	mark_busy(&pl, pp.cmdline_gpa, cmdline_buf);
	pp.low = MIN(pp.low, MIN(bp_gpa, pp.cmdline_gpa));
	pp.high = MAX(pp.high, MAX(bp_gpa + BP_SIZE, pp.cmdline_gpa + cmdline_buf));

	/* Everything fits: now write. */
	rc = guest_write(req, pp.kernel_gpa, (const uint8_t *)req->kernel + info.setup_size,
			 info.payload_size, err, errlen);
	if (!rc && initrd_size)
		rc = guest_write(req, pp.initrd_gpa, req->initrd, initrd_size, err, errlen);
	if (!rc)
		rc = guest_write(req, pp.cmdline_gpa, NULL, cmdline_buf, err, errlen);
	if (!rc && cmdline_len)
		rc = guest_write(req, pp.cmdline_gpa, cmdline, cmdline_len, err, errlen);
	if (rc)
		return rc;
	bp = req->gpa_to_hva(req->ctx, bp_gpa, BP_SIZE);
	if (!bp)
		return fail(err, errlen, -EFAULT,
			    "guest-physical 0x%llx is usable RAM in the memory map but cannot be "
			    "reached to write boot_params",
			    (unsigned long long)bp_gpa);
	fill_boot_params(bp, req, &pp);
	*plan = pp;
	return 0;
}
