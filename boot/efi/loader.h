/* SPDX-License-Identifier: MIT */
/*
 * keel.efi: the UEFI loader. It reads keel.cfg and the files it names from
 * its own directory, places the core (build/keel.bin, embedded in the
 * loader), describes the machine in a struct boot_info and enters the core
 * after ExitBootServices. Internal interfaces between its files.
 */
#ifndef KEEL_EFI_LOADER_H
#define KEEL_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <keel/types.h>
#include <keel/bootinfo.h>

/*
 * Everything the loader hands to the core lies below 4 GiB: the core starts
 * on the firmware's page tables, which identity-map (at least) that range.
 */
#define LOADER_MAX_ADDR 0xffffffffull

/* UCS-2 paths on the ESP, NUL included. */
#define LOADER_PATH_MAX 512

struct loader {
	EFI_HANDLE image;
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;	     /* root directory of the volume keel.efi came from */
	CHAR16 dir[LOADER_PATH_MAX]; /* keel.efi's directory, "\EFI\BOOT"; "" is the root */
	struct boot_info *bi;
};

/* The placed core image. */
struct core {
	uint64_t base;
	uint64_t entry; /* physical address of keel_entry64 */
};

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

/* console.c: every line goes to ConOut as "keel.efi: ...". */
void say(const char *fmt, ...) __printf(1, 2);
void warn(const char *fmt, ...) __printf(1, 2);
/* Print "keel.efi: error: ...", then "keel: boot stopped", and halt. */
__noreturn void fatal(const char *fmt, ...) __printf(1, 2);
/* The same after a failed ExitBootServices: no boot service calls any more. */
__noreturn void fatal_late(const char *fmt, ...) __printf(1, 2);
/* Status as text ("Not Found"); a static buffer, valid until the next call. */
const char *efi_strerror(EFI_STATUS status);
/* UCS-2 to ASCII, '?' for anything outside printable ASCII; returns the length written. */
size_t ucs2_to_ascii(char *dst, size_t size, const CHAR16 *src);

/* memmap.c */
/* Allocate whole pages of type whose last byte lies at or below max. */
EFI_STATUS alloc_pages(EFI_MEMORY_TYPE type, uint64_t bytes, uint64_t max, uint64_t *addr);
void free_pages(uint64_t addr, uint64_t bytes);
/* Get the memory map, exit boot services, convert the map into ld->bi. Returns only on success. */
void exit_boot_services(struct loader *ld);

/* files.c */
void files_init(struct loader *ld, EFI_HANDLE image);
/* Path of a config-relative file name ('/' or '\'; a leading one means the volume root). */
bool file_path(const struct loader *ld, const char *name, CHAR16 *out, size_t size);
/* Read a whole file into its own pages below 4 GiB; *what says which step failed. */
EFI_STATUS file_load(const struct loader *ld, const CHAR16 *path, uint64_t *base, uint64_t *size,
		     const char **what);

/* modules.c: keel.cfg and the files it names, as bi->modules. */
void load_modules(struct loader *ld);

/* core.c */
void core_place(struct core *core);
__noreturn void core_enter(const struct core *core, struct boot_info *bi);

/* sysinfo.c: loader name, command line, ACPI, system table, AP trampoline page. */
void sysinfo_fill(struct loader *ld);

/* video.c */
void video_fill(struct boot_framebuffer *fb);

#endif
