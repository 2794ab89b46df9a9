/* SPDX-License-Identifier: MIT */
/*
 * ACPI table discovery: RSDP -> XSDT/RSDT -> MADT. Every table's checksum
 * is verified. Tables are read through acpi_map(), which the core maps to
 * its direct map and unit tests to a buffer.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <keel/types.h>

struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (RSDT only), 2+: XSDT */
	uint32_t rsdt_address;
	uint32_t length; /* revision >= 2 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over length bytes */
	uint8_t reserved[3];
} __packed;

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* MADT (signature "APIC"), ACPI 6.x section 5.2.12. */
struct acpi_madt {
	struct acpi_sdt_header hdr;
	uint32_t lapic_address;
	uint32_t flags; /* bit 0: PC-AT compatible dual 8259 */
} __packed;

#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO 2
#define MADT_TYPE_LAPIC_ADDR_OVERRIDE 5
#define MADT_TYPE_X2APIC 9
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1u << 1)

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t acpi_uid;
	bool enabled;
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct acpi_info {
	uint8_t revision; /* RSDP revision */
	bool xsdt;	  /* true when tables came from the XSDT */
	char oem_id[7];
	uint64_t madt_phys;
	uint64_t lapic_address;
	uint32_t madt_flags;
	uint32_t nr_cpus; /* entries in cpus[], enabled or not */
	uint32_t nr_ioapics;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	uint64_t fadt_phys; /* 0 if absent */
};

/*
 * Map len bytes of physical memory at phys for reading; NULL if impossible.
 * Implemented by the core (direct map) and by unit tests.
 */
const void *acpi_map(uint64_t phys, size_t len);

/*
 * Parse ACPI starting from the RSDP at rsdp_phys. Fills *info. Returns 0,
 * or -ENOENT (no RSDP / no MADT), -EBADMSG (bad signature or checksum),
 * -EINVAL (malformed length), with a human message in err (size errlen)
 * naming the table, e.g. "MADT at 0x7fe1234: checksum mismatch".
 */
int acpi_parse(uint64_t rsdp_phys, struct acpi_info *info, char *err, size_t errlen);

/* Verify an ACPI checksum: the bytes sum to 0 mod 256. */
bool acpi_checksum_ok(const void *p, size_t len);

/* How to enter S5 (power off): hv/acpi_s5.c. */
struct acpi_s5 {
	uint16_t pm1a_cnt, pm1b_cnt; /* I/O ports; pm1b 0: none */
	uint8_t slp_typa, slp_typb;  /* from \_S5 */
};

/*
 * The PM1 control ports from the FADT at fadt_phys and SLP_TYP from the
 * DSDT's \_S5 package. 0, or -ENOENT / -EINVAL / -EOPNOTSUPP with a message.
 */
int acpi_find_s5(uint64_t fadt_phys, struct acpi_s5 *s5, char *err, size_t errlen);

/* Scan legacy BIOS areas (EBDA, 0xE0000-0xFFFFF) for an RSDP; 0 if not found. */
uint64_t acpi_find_rsdp_legacy(void);

#endif
