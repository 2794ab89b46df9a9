// SPDX-License-Identifier: MIT
/*
 * What the firmware knows that the core wants: who loaded it, its command
 * line, where the ACPI tables and the EFI system table are, and a page
 * below 1 MiB for starting the other CPUs.
 */
#include "loader.h"
#include <keel/string.h>

/* A SIPI vector is a page number below 0x100; keep to conventional memory below 640 KiB. */
#define TRAMPOLINE_MAX 0x9ffffull

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID shell_params_guid = EFI_SHELL_PARAMETERS_PROTOCOL_GUID;

static void fill_loader_name(struct boot_info *bi)
{
	char vendor[BOOT_LOADER_NAME_MAX];

	ucs2_to_ascii(vendor, sizeof(vendor), ST->FirmwareVendor ? ST->FirmwareVendor : L"?");
	snprintf(bi->loader_name, sizeof(bi->loader_name), "UEFI %s rev 0x%x", vendor,
		 ST->FirmwareRevision);
}

/* Append UCS-2 text to the command line; false if it is not printable ASCII. */
static bool cmdline_append(struct boot_info *bi, size_t *len, const CHAR16 *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++) {
		if (s[i] != L'\t' && (s[i] < 0x20 || s[i] >= 0x7f))
			return false;
		if (*len + 1 < sizeof(bi->cmdline))
			bi->cmdline[(*len)++] = (char)(s[i] == L'\t' ? ' ' : s[i]);
	}
	bi->cmdline[*len] = 0;
	return true;
}

static void trim_cmdline(char *s)
{
	size_t start = 0, len = strlen(s);

	while (len && s[len - 1] == ' ')
		len--;
	while (start < len && s[start] == ' ')
		start++;
	memmove(s, s + start, len - start);
	s[len - start] = 0;
}

/*
 * The UEFI shell starts an image with its whole command line, image name
 * included, as LoadOptions, and says so with the Shell Parameters protocol
 * (UEFI Shell 2.2 section 2.3): use its argv[1..]. A boot manager entry
 * passes its OptionalData as LoadOptions, which is often binary (OVMF's
 * automatic entries carry a GUID): accept it only when it is a printable
 * UCS-2 string.
 */
static void fill_cmdline(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	EFI_SHELL_PARAMETERS_PROTOCOL *sp;
	const CHAR16 *opt = ld->li->LoadOptions;
	size_t len = 0;
	UINTN i;
	bool ok = true;

	if (!EFI_ERROR(BS->HandleProtocol(ld->image, &shell_params_guid, (void **)&sp))) {
		for (i = 1; ok && i < sp->Argc; i++) {
			ok = cmdline_append(bi, &len, L" ", 1) &&
			     cmdline_append(bi, &len, sp->Argv[i], (size_t)-1);
		}
	} else if (opt && ld->li->LoadOptionsSize >= sizeof(CHAR16)) {
		ok = cmdline_append(bi, &len, opt, ld->li->LoadOptionsSize / sizeof(CHAR16));
	}
	if (!ok) {
		bi->cmdline[0] = 0;
		say("ignoring load options that are not text");
	}
	trim_cmdline(bi->cmdline);
	if (bi->cmdline[0])
		say("command line: %s", bi->cmdline);
}

/* The RSDP from the configuration table (UEFI 2.10 section 4.6); the ACPI 2.0+ one preferred. */
/* The RSDP from the configuration table (UEFI 2.10 section 4.6); the ACPI 2.0+ one preferred. */
static void fill_rsdp(struct boot_info *bi)
{
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!CompareGuid(&t->VendorGuid, &acpi20_guid)) {
			bi->rsdp = (uint64_t)t->VendorTable;
			return;
		}
		if (!CompareGuid(&t->VendorGuid, &acpi10_guid))
			bi->rsdp = (uint64_t)t->VendorTable;
	}
	if (!bi->rsdp)
		warn("no ACPI tables");
}

static void fill_trampoline(struct boot_info *bi)
{
	uint64_t page;
	EFI_STATUS st;

	st = alloc_pages(EfiLoaderData, PAGE_SIZE, TRAMPOLINE_MAX, &page);
	/* Page 0 holds the real-mode IVT and doubles as NULL: take another, then give it back. */
	if (!EFI_ERROR(st) && page == 0) {
		st = alloc_pages(EfiLoaderData, PAGE_SIZE, TRAMPOLINE_MAX, &page);
		free_pages(0, PAGE_SIZE);
	}
	if (EFI_ERROR(st)) {
		warn("no free page below 640 KiB for starting other CPUs: %s", efi_strerror(st));
		return;
	}
	bi->trampoline_page = page;
}

void sysinfo_fill(struct loader *ld)
{
	struct boot_info *bi = ld->bi;

	fill_loader_name(bi);
	fill_cmdline(ld);
	fill_rsdp(bi);
	bi->efi_systab = (uint64_t)ST;
	fill_trampoline(bi);
	say("%s, ACPI RSDP 0x%lx, AP trampoline 0x%lx", bi->loader_name, (unsigned long)bi->rsdp,
	    (unsigned long)bi->trampoline_page);
}
