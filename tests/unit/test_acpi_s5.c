// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/acpi_s5.c: the PM1 control ports from the FADT (32-bit
 * fields and the extended GAS), SLP_TYP from the DSDT's \_S5 package in its
 * encodings, and the errors when there is no way to power off.
 */
#include "test.h"

#include <keel/acpi.h>
#include <keel/errno.h>

#define MEM_SIZE 0x4000
#define FADT_AT 0x1000
#define DSDT_AT 0x2000

static uint8_t mem[MEM_SIZE];
static char err[128];

const void *acpi_map(uint64_t phys, size_t len)
{
	if (phys < MEM_SIZE && len <= MEM_SIZE - phys)
		return mem + phys;
	return NULL;
}

static void put32(uint64_t at, uint32_t v)
{
	memcpy(mem + at, &v, 4);
}

static void put64(uint64_t at, uint64_t v)
{
	memcpy(mem + at, &v, 8);
}

/* A FADT of len bytes with PM1a/PM1b control in the 32-bit fields, DSDT through the 32-bit field. */
static void fadt(uint32_t len, uint32_t pm1a, uint32_t pm1b, uint32_t flags)
{
	memset(mem + FADT_AT, 0, 300);
	memcpy(mem + FADT_AT, "FACP", 4);
	put32(FADT_AT + 4, len);
	put32(FADT_AT + 40, DSDT_AT);
	put32(FADT_AT + 64, pm1a);
	put32(FADT_AT + 68, pm1b);
	if (len >= 116)
		put32(FADT_AT + 112, flags);
}

/* A DSDT whose AML is the given bytes. */
static void dsdt(const uint8_t *aml, size_t n)
{
	memset(mem + DSDT_AT, 0, 0x1000);
	memcpy(mem + DSDT_AT, "DSDT", 4);
	put32(DSDT_AT + 4, (uint32_t)(36 + n));
	memcpy(mem + DSDT_AT + 36, aml, n);
}

/* QEMU q35's: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) after other AML. */
static const uint8_t q35_aml[] = { 0x10, 0x05, 0x5f, 0x53, 0x42, 0x5f, /* Scope (_SB_) */
				   0x08, '_',  'S',  '5',  '_',	 0x12,
				   0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };

TEST(q35)
{
	struct acpi_s5 s5;

	fadt(244, 0x604, 0, 0);
	dsdt(q35_aml, sizeof(q35_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), 0);
	CHECK_EQ(s5.pm1a_cnt, 0x604);
	CHECK_EQ(s5.pm1b_cnt, 0);
	CHECK_EQ(s5.slp_typa, 0);
	CHECK_EQ(s5.slp_typb, 0);
}

TEST(encodings_and_root_prefix)
{
	/* Name (\_S5, Package () { 0x07, 0x05 }): BytePrefix values, a root-prefixed name. */
	static const uint8_t byte_aml[] = { 0x08, '\\', '_',  'S',  '5',  '_', 0x12,
					    0x08, 0x02, 0x0a, 0x07, 0x0a, 0x05 };
	/* Package (2) { One, WordPrefix 0x0005 }; a two-byte PkgLength. */
	static const uint8_t word_aml[] = { 0x08, '_',	'S',  '5',  '_',  0x12, 0x40,
					    0x00, 0x02, 0x01, 0x0b, 0x05, 0x00 };
	/* "_S5_" inside a string first (not after a NameOp): skipped. */
	static const uint8_t decoy_aml[] = { 0x0d, '_', 'S', '5',  '_',	 0x00, 0x08, '_',
					     'S',  '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x03 };
	struct acpi_s5 s5;

	fadt(244, 0xb004, 0xb008, 0);
	dsdt(byte_aml, sizeof(byte_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), 0);
	CHECK_EQ(s5.pm1a_cnt, 0xb004);
	CHECK_EQ(s5.pm1b_cnt, 0xb008);
	CHECK_EQ(s5.slp_typa, 7);
	CHECK_EQ(s5.slp_typb, 5);
	dsdt(word_aml, sizeof(word_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), 0);
	CHECK_EQ(s5.slp_typa, 1);
	CHECK_EQ(s5.slp_typb, 5);
	dsdt(decoy_aml, sizeof(decoy_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), 0);
	CHECK_EQ(s5.slp_typa, 3);
	CHECK_EQ(s5.slp_typb, 3); /* one element: both from it */
}

TEST(extended_fields)
{
	struct acpi_s5 s5;

	fadt(276, 0, 0, 0);
	mem[FADT_AT + 172] = 1; /* X_PM1a_CNT_BLK: System I/O */
	put64(FADT_AT + 176, 0x1804);
	put32(FADT_AT + 40, 0);
	put64(FADT_AT + 140, DSDT_AT); /* X_DSDT */
	dsdt(q35_aml, sizeof(q35_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), 0);
	CHECK_EQ(s5.pm1a_cnt, 0x1804);
	/* A memory-mapped PM1a is not I/O: no port. */
	mem[FADT_AT + 172] = 0;
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "no PM1a control block in I/O space");
}

TEST(errors)
{
	static const uint8_t method_aml[] = { 0x08, '_', 'S', '5', '_', 0x14, 0x05, 0x00 };
	static const uint8_t none_aml[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x03, 0x01, 0x00 };
	static const uint8_t cut_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };
	struct acpi_s5 s5;

	CHECK_EQ(acpi_find_s5(0x10000, &s5, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "cannot be read");
	fadt(60, 0x604, 0, 0);
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -EINVAL);
	fadt(244, 0x604, 0, 1u << 20);
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -EOPNOTSUPP);
	CHECK_CONTAINS(err, "hardware-reduced");
	fadt(244, 0x604, 0, 0);
	memset(mem + DSDT_AT, 0, 8);
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "no DSDT at 0x2000");
	dsdt(none_aml, sizeof(none_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "has no \\_S5");
	dsdt(method_aml, sizeof(method_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "not a package of integers");
	dsdt(cut_aml, sizeof(cut_aml));
	CHECK_EQ(acpi_find_s5(FADT_AT, &s5, err, sizeof(err)), -EINVAL);
}

TEST_MAIN(TEST_CASE(q35), TEST_CASE(encodings_and_root_prefix), TEST_CASE(extended_fields),
	  TEST_CASE(errors))
