// SPDX-License-Identifier: MIT
/*
 * What ACPI needs to turn the machine off (S5), without an AML interpreter:
 * the PM1 control blocks from the FADT (ACPI 6.5 section 5.2.9) and SLP_TYP
 * from the \_S5 package of the DSDT (section 7.4.2), found by a scan for
 * its NameOp. This covers the firmware Keel's CI mode runs on (QEMU, and the
 * usual static \_S5 of PCs); a DSDT that computes \_S5 gets an error.
 * Writing SLP_TYP << 10 | SLP_EN to PM1a (and PM1b) control enters S5
 * (section 4.8.3.2.1, Table 4.13).
 */
#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/string.h>

#define FADT_DSDT 40
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_FLAGS 112
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_HW_REDUCED (1u << 20)
#define GAS_SYSTEM_IO 1

#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_ROOT '\\'

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A PM1 control block: the 32-bit field, else the extended one when it is System I/O. */
static uint16_t pm1_port(const uint8_t *fadt, uint32_t len, uint32_t off, uint32_t xoff)
{
	uint32_t port = rd32(fadt + off);

	if (!port && len >= xoff + 12 && fadt[xoff] == GAS_SYSTEM_IO)
		port = (uint32_t)rd64(fadt + xoff + 4);
	return port <= 0xffff ? (uint16_t)port : 0;
}

/* One integer of a package (section 20.2.3): Zero, One, or a byte/word/dword constant. */
static int aml_int(const uint8_t *p, const uint8_t *end, uint32_t *v, const uint8_t **next)
{
	if (p >= end)
		return -EINVAL;
	switch (*p) {
	case AML_ZERO:
	case AML_ONE:
		*v = *p;
		*next = p + 1;
		return 0;
	case AML_BYTE_PREFIX:
		if (end - p < 2)
			return -EINVAL;
		*v = p[1];
		*next = p + 2;
		return 0;
	case AML_WORD_PREFIX:
		if (end - p < 3)
			return -EINVAL;
		*v = p[1] | (uint32_t)p[2] << 8;
		*next = p + 3;
		return 0;
	case AML_DWORD_PREFIX:
		if (end - p < 5)
			return -EINVAL;
		*v = rd32(p + 1);
		*next = p + 5;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Name (_S5, Package (N) { SLP_TYPa, SLP_TYPb, ... }) in the AML of [aml, end). */
static int find_s5(const uint8_t *aml, const uint8_t *end, struct acpi_s5 *s5)
{
	for (const uint8_t *p = aml; end - p >= 5; p++) {
		const uint8_t *q;
		uint32_t a, b, pkglen_bytes;

		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		if (!(p > aml && (p[-1] == AML_NAME_OP ||
				  (p[-1] == AML_ROOT && p - aml >= 2 && p[-2] == AML_NAME_OP))))
			continue;
		q = p + 4;
		if (*q != AML_PACKAGE_OP)
			return -EINVAL; /* a method or a computed object */
		q++;
		pkglen_bytes = (uint32_t)(*q >> 6); /* PkgLength: bits 7:6 count extra bytes */
		q += 1 + pkglen_bytes + 1;	    /* the PkgLength, then NumElements */
		if (q >= end || aml_int(q, end, &a, &q))
			return -EINVAL;
		if (aml_int(q, end, &b, &q))
			b = a;
		s5->slp_typa = (uint8_t)(a & 7);
		s5->slp_typb = (uint8_t)(b & 7);
		return 0;
	}
	return -ENOENT;
}

int acpi_find_s5(uint64_t fadt_phys, struct acpi_s5 *s5, char *err, size_t errlen)
{
	const uint8_t *fadt = acpi_map(fadt_phys, 8), *dsdt;
	uint64_t dsdt_phys;
	uint32_t len, dlen;
	int ret;

	memset(s5, 0, sizeof(*s5));
	if (!fadt || (len = rd32(fadt + 4)) < FADT_PM1B_CNT + 4 ||
	    !(fadt = acpi_map(fadt_phys, len))) {
		snprintf(err, errlen, "the FADT at 0x%llx cannot be read",
			 (unsigned long long)fadt_phys);
		return -EINVAL;
	}
	if (len >= FADT_FLAGS + 4 && (rd32(fadt + FADT_FLAGS) & FADT_HW_REDUCED)) {
		snprintf(err, errlen, "hardware-reduced ACPI: no PM1 control block");
		return -EOPNOTSUPP;
	}
	s5->pm1a_cnt = pm1_port(fadt, len, FADT_PM1A_CNT, FADT_X_PM1A_CNT);
	s5->pm1b_cnt = pm1_port(fadt, len, FADT_PM1B_CNT, FADT_X_PM1B_CNT);
	if (!s5->pm1a_cnt) {
		snprintf(err, errlen, "the FADT has no PM1a control block in I/O space");
		return -ENOENT;
	}
	dsdt_phys = len >= FADT_X_DSDT + 8 ? rd64(fadt + FADT_X_DSDT) : 0;
	if (!dsdt_phys)
		dsdt_phys = rd32(fadt + FADT_DSDT);
	dsdt = dsdt_phys ? acpi_map(dsdt_phys, 8) : NULL;
	if (!dsdt || memcmp(dsdt, "DSDT", 4) != 0 || (dlen = rd32(dsdt + 4)) < 36 ||
	    !(dsdt = acpi_map(dsdt_phys, dlen))) {
		snprintf(err, errlen, "no DSDT at 0x%llx", (unsigned long long)dsdt_phys);
		return -ENOENT;
	}
	ret = find_s5(dsdt + 36, dsdt + dlen, s5);
	if (ret)
		snprintf(err, errlen, "%s",
			 ret == -ENOENT ? "the DSDT has no \\_S5 (the machine has no S5 state)"
					: "the DSDT's \\_S5 is not a package of integers");
	return ret;
}
