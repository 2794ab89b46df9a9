// SPDX-License-Identifier: MIT
/*
 * Reading the EFI system table after ExitBootServices: only the
 * configuration table, which lives in runtime memory (UEFI spec 2.10,
 * 4.3 and 4.6), to find the ACPI RSDP.
 */
#include <keel/efi.h>
#include <keel/string.h>

struct efi_table_header {
	uint64_t signature;
	uint32_t revision, header_size, crc32, reserved;
};

struct efi_system_table64 {
	struct efi_table_header hdr;
	uint64_t firmware_vendor;
	uint32_t firmware_revision, pad0;
	uint64_t console_in_handle, con_in, console_out_handle, con_out;
	uint64_t standard_error_handle, std_err;
	uint64_t runtime_services, boot_services;
	uint64_t nr_tables;
	uint64_t config_table;
};

struct efi_config_table64 {
	uint8_t guid[16];
	uint64_t table;
};

#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ull /* "IBI SYST" */

/* ACPI 2.0 (8868e871-e4f1-11d3-bc22-0080c73c8881) and 1.0 (eb9d2d30-2d88-11d3-9a16-0090273fc14d). */
static const uint8_t acpi20_guid[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
					 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t acpi10_guid[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
					 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

uint64_t efi_find_rsdp(uint64_t efi_systab)
{
	const struct efi_system_table64 *st = (const void *)efi_systab;
	const struct efi_config_table64 *ct;
	uint64_t acpi10 = 0;

	if (!efi_systab || st->hdr.signature != EFI_SYSTEM_TABLE_SIGNATURE)
		return 0;
	ct = (const void *)st->config_table;
	for (uint64_t i = 0; i < st->nr_tables && i < 1024; i++) {
		if (!memcmp(ct[i].guid, acpi20_guid, 16))
			return ct[i].table;
		if (!memcmp(ct[i].guid, acpi10_guid, 16))
			acpi10 = ct[i].table;
	}
	return acpi10;
}
