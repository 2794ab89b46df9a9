// SPDX-License-Identifier: MIT
/*
 * The core: build/keel.bin, embedded by payload.S, starts with a struct
 * keel_image_header that says how big the image is in memory, how it must
 * be aligned and where its 64-bit entry point is.
 */
#include "loader.h"
#include <keel/string.h>

/* Defined in payload.S, part of this image: addressed PC-relative, not through the GOT. */
#define LOCAL_SYM __attribute__((visibility("hidden")))

extern const uint8_t keel_payload[] LOCAL_SYM;
extern const uint64_t keel_payload_size LOCAL_SYM;

/* Sanity limits, far above what the core needs, against a corrupt header. */
#define CORE_MAX_SIZE (256 * MiB)
#define CORE_MAX_ALIGN (1 * GiB)

void core_place(struct core *core)
{
	size_t len = (size_t)keel_payload_size;
	struct keel_image_header hdr;
	uint64_t align, mem_pages, span, raw, base;
	EFI_STATUS st;

	if (len < sizeof(hdr))
		fatal("embedded keel.bin is too small (%zu bytes)", len);
	memcpy(&hdr, keel_payload, sizeof(hdr));
	if (hdr.magic != KEEL_IMAGE_MAGIC)
		fatal("embedded keel.bin: bad magic 0x%08x", hdr.magic);
	if (hdr.version != 1)
		fatal("embedded keel.bin: header version %u, this loader knows 1", hdr.version);
	align = hdr.align ? hdr.align : PAGE_SIZE;
	if (hdr.file_size < sizeof(hdr) || hdr.file_size > len || hdr.mem_size < hdr.file_size ||
	    hdr.mem_size > CORE_MAX_SIZE || hdr.entry64_offset >= hdr.file_size ||
	    (align & (align - 1)) || align > CORE_MAX_ALIGN)
		fatal("embedded keel.bin: bad header (file %lu, mem %lu, entry 0x%lx, align 0x%lx)",
		      (unsigned long)hdr.file_size, (unsigned long)hdr.mem_size,
		      (unsigned long)hdr.entry64_offset, (unsigned long)hdr.align);
	align = MAX(align, PAGE_SIZE);

	/* Pages are page aligned: over-allocate by align - 4 KiB, then free what is left over. */
	mem_pages = ALIGN_UP(hdr.mem_size, PAGE_SIZE);
	span = mem_pages + align - PAGE_SIZE;
	st = alloc_pages(EfiLoaderCode, span, LOADER_MAX_ADDR, &raw);
	if (EFI_ERROR(st))
		fatal("cannot allocate %lu bytes for the core: %s", (unsigned long)span,
		      efi_strerror(st));
	base = ALIGN_UP(raw, align);
	free_pages(raw, base - raw);
	free_pages(base + mem_pages, raw + span - (base + mem_pages));

	memcpy((void *)base, keel_payload, hdr.file_size);
	memset((void *)(base + hdr.file_size), 0, mem_pages - hdr.file_size);
	core->base = base;
	core->entry = base + hdr.entry64_offset;
	say("core: %lu bytes at 0x%lx, entry 0x%lx", (unsigned long)hdr.mem_size,
	    (unsigned long)base, (unsigned long)core->entry);
}

void core_enter(const struct core *core, struct boot_info *bi)
{
	void (*entry)(uint64_t magic, uint64_t info) = (void (*)(uint64_t, uint64_t))core->entry;

	/* The core installs its own IDT; no firmware interrupt handler may run any more. */
	__asm__ volatile("cli" ::: "memory");
	entry(KEEL_BOOT_MAGIC_UEFI, (uint64_t)bi);
	for (;;)
		__asm__ volatile("cli; hlt");
}
