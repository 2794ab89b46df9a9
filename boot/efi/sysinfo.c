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
	char vendor[BOOT_LOADER_NAME_MAX - 24]; /* leaves room for the rest */

	ucs2_to_ascii(vendor, sizeof(vendor), ST->FirmwareVendor ? ST->FirmwareVendor : L"?");
	snprintf(bi->loader_name, sizeof(bi->loader_name), "UEFI %s rev 0x%x", vendor,
		 ST->FirmwareRevision);
}

/* Copy UCS-2 text as ASCII; false if it is not printable text. *cut: it did not fit. */
static bool cmdline_copy(char *dst, size_t size, const CHAR16 *s, size_t n, bool *cut)
{
	size_t i, len = 0;

	*cut = false;
	for (i = 0; i < n && s[i]; i++) {
		if (s[i] != L'\t' && (s[i] < 0x20 || s[i] >= 0x7f))
			return false;
		if (len + 1 < size)
			dst[len++] = s[i] == L'\t' ? ' ' : (char)s[i];
		else
			*cut = true;
	}
	dst[len] = 0;
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

/* Skip the first word of a command line: a "quoted" one may contain spaces. */
static size_t skip_word(const CHAR16 *s, size_t n)
{
	size_t i = 0;
	bool quoted = false;

	while (i < n && (s[i] == L' ' || s[i] == L'\t'))
		i++;
	for (; i < n && s[i]; i++) {
		if (s[i] == L'"')
			quoted = !quoted;
		else if (!quoted && (s[i] == L' ' || s[i] == L'\t'))
			break;
	}
	return i;
}

/*
 * LoadOptions holds the command line (UEFI 2.10 section 9.1). The UEFI
 * shell passes the whole line it ran, image name first, and marks such a
 * start with the Shell Parameters protocol (UEFI Shell 2.2 section 2.3): the
 * name is dropped, the rest kept as typed, quotes included. A boot manager
 * entry passes its OptionalData, which is often binary (OVMF's automatic
 * entries carry a GUID): it is taken only when it is a printable string.
 */
static void fill_cmdline(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	const CHAR16 *opt = ld->li->LoadOptions;
	size_t n = ld->li->LoadOptionsSize / sizeof(CHAR16), skip = 0;
	void *shell;
	bool cut;

	if (!opt || !n)
		return;
	if (!EFI_ERROR(BS->HandleProtocol(ld->image, &shell_params_guid, &shell)))
		skip = skip_word(opt, n);
	if (!cmdline_copy(bi->cmdline, sizeof(bi->cmdline), opt + skip, n - skip, &cut)) {
		bi->cmdline[0] = 0;
		say("ignoring load options that are not text");
		return;
	}
	if (cut)
		warn("command line cut to %zu characters", sizeof(bi->cmdline) - 1);
	trim_cmdline(bi->cmdline);
	if (bi->cmdline[0])
		say("command line: %s", bi->cmdline);
}

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
