// SPDX-License-Identifier: MIT
/*
 * keel.efi entry point: the steps of a UEFI boot of Keel, in order. Works
 * as \EFI\BOOT\BOOTX64.EFI and from any other directory (\EFI\keel\);
 * keel.cfg and the files it names are looked up next to it.
 */
#include "loader.h"
#include <keel/string.h>

static struct boot_info *boot_info_alloc(void)
{
	struct boot_info *bi;
	uint64_t addr;
	EFI_STATUS st;

	st = alloc_pages(EfiLoaderData, sizeof(*bi), LOADER_MAX_ADDR, &addr);
	if (EFI_ERROR(st))
		fatal("cannot allocate the boot information: %s", efi_strerror(st));
	bi = (struct boot_info *)addr;
	memset(bi, 0, sizeof(*bi));
	bi->source = BOOT_SOURCE_UEFI;
	return bi;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	static struct loader ld;
	struct core core;

	InitializeLib(image, systab);
	say("Keel UEFI loader");
	files_init(&ld, image);
	ld.bi = boot_info_alloc();
	load_modules(&ld);
	core_place(&core);
	sysinfo_fill(&ld);
	video_fill(&ld.bi->fb);
	say("exiting boot services, entering the core");
	exit_boot_services(&ld);
	core_enter(&core, ld.bi);
}
