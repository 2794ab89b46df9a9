// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/acpi_build.c. Tables are built into, and read back
 * from, a fake physical memory of three windows: low memory [0, 1 MiB),
 * a window below 4 GiB (HI_BASE) for the machine's tables, and one above
 * 4 GiB (TOP_BASE). acpi_map() maps into them; hv/acpi.c's acpi_parse()
 * reads the results back.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/acpi.h>
#include <keel/acpi_build.h>

#define LO_SIZE 0x100000ull
#define HI_BASE 0x7ffe0000ull
#define HI_SIZE 0x20000ull
#define TOP_BASE 0x123400000ull
#define TOP_SIZE 0x10000ull

static uint8_t lo_mem[LO_SIZE];
static uint8_t hi_mem[HI_SIZE];
static uint8_t top_mem[TOP_SIZE];

const void *acpi_map(uint64_t phys, size_t len)
{
	if (phys < LO_SIZE && len <= LO_SIZE - phys)
		return lo_mem + phys;
	if (phys >= HI_BASE && phys - HI_BASE < HI_SIZE && len <= HI_SIZE - (phys - HI_BASE))
		return hi_mem + (phys - HI_BASE);
	if (phys >= TOP_BASE && phys - TOP_BASE < TOP_SIZE && len <= TOP_SIZE - (phys - TOP_BASE))
		return top_mem + (phys - TOP_BASE);
	return NULL;
}

/* The test's own access to the fake memory; a stray address stops the test. */
static uint8_t *mem(uint64_t phys)
{
	if (phys < LO_SIZE)
		return lo_mem + phys;
	if (phys >= HI_BASE && phys - HI_BASE < HI_SIZE)
		return hi_mem + (phys - HI_BASE);
	if (phys >= TOP_BASE && phys - TOP_BASE < TOP_SIZE)
		return top_mem + (phys - TOP_BASE);
	printf("  test bug: address 0x%llx is outside the fake memory\n", (unsigned long long)phys);
	abort();
}

static void reset(void)
{
	memset(lo_mem, 0, sizeof(lo_mem));
	memset(hi_mem, 0, sizeof(hi_mem));
	memset(top_mem, 0, sizeof(top_mem));
}

static uint16_t get16(uint64_t phys)
{
	uint16_t v;

	memcpy(&v, mem(phys), 2);
	return v;
}

static uint32_t get32(uint64_t phys)
{
	uint32_t v;

	memcpy(&v, mem(phys), 4);
	return v;
}

static uint64_t get64(uint64_t phys)
{
	uint64_t v;

	memcpy(&v, mem(phys), 8);
	return v;
}

static void put32(uint64_t phys, uint32_t v)
{
	memcpy(mem(phys), &v, 4);
}

static void put64(uint64_t phys, uint64_t v)
{
	memcpy(mem(phys), &v, 8);
}

static uint8_t csum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)(0x100 - s);
}

static struct acpi_info info;
static char err[200];

/* ---- Guest tables ---- */

#define GUEST_AT 0xe0000ull
#define GUEST_SIZE 0x2000u

static uint32_t ids4[] = { 0, 1, 2, 3 };

/* The standard guest: what Keel gives a partition (see docs/guest-platform.md). */
static struct acpi_guest_params std_params(void)
{
	struct acpi_guest_params p = {
		.nr_cpus = 4,
		.apic_ids = ids4,
		.lapic_addr = ACPI_GUEST_LAPIC_ADDR,
		.ioapic_addr = ACPI_GUEST_IOAPIC_ADDR,
		.ioapic_id = 4,
		.sleep_port = ACPI_GUEST_SLEEP_PORT,
		.reset_port = ACPI_GUEST_RESET_PORT,
		.reset_value = ACPI_GUEST_RESET_VALUE,
		.uart_port = ACPI_GUEST_UART_PORT,
		.uart_irq = ACPI_GUEST_UART_IRQ,
		.rtc_port = ACPI_GUEST_RTC_PORT,
		.rtc_irq = 0,
	};
	return p;
}

static uint64_t rsdp_at;
static size_t used;

static int build(const struct acpi_guest_params *p, uint64_t gpa, size_t size)
{
	rsdp_at = 0;
	used = 0;
	return acpi_build_guest(p, mem(gpa), gpa, size, &rsdp_at, &used, err, sizeof(err));
}

/* The addresses of the guest's tables, found by following the pointers. */
struct guest_tables {
	uint64_t xsdt, rsdt, fadt, madt, dsdt;
};

static struct guest_tables follow(void)
{
	struct guest_tables t;

	t.xsdt = get64(rsdp_at + 24);
	t.rsdt = get32(rsdp_at + 16);
	t.fadt = get64(t.xsdt + 36);
	t.madt = get64(t.xsdt + 44);
	t.dsdt = get64(t.fadt + 140);
	return t;
}

/* The table at phys has signature sig, revision rev, Keel's IDs and a good checksum. */
static void check_keel_table(uint64_t phys, const char *sig, uint8_t rev)
{
	const uint8_t *t = mem(phys);
	uint32_t len = get32(phys + 4);

	CHECK(memcmp(t, sig, 4) == 0);
	CHECK_EQ(t[8], rev);
	CHECK(memcmp(t + 10, "KEEL  ", 6) == 0);
	CHECK(memcmp(t + 16, "KEELPART", 8) == 0);
	CHECK_EQ(get32(phys + 24), 1);
	CHECK(memcmp(t + 28, "KEEL", 4) == 0);
	CHECK(acpi_checksum_ok(t, len));
	CHECK_EQ(phys % 16, 0);
	CHECK(phys + len <= GUEST_AT + used || phys >= TOP_BASE);
}

TEST(test_guest_parses_back)
{
	struct acpi_guest_params p = std_params();

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	CHECK_STR(err, "");
	CHECK_EQ(rsdp_at, GUEST_AT);

	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(info.revision, 2);
	CHECK(info.xsdt);
	CHECK_STR(info.oem_id, "KEEL  ");
	CHECK_EQ(info.lapic_address, 0xfee00000);
	CHECK_EQ(info.madt_flags, 0); /* no PCAT_COMPAT: no 8259 */
	CHECK_EQ(info.nr_cpus, 4);
	for (uint32_t i = 0; i < 4 && i < info.nr_cpus; i++) {
		CHECK_EQ(info.cpus[i].apic_id, ids4[i]);
		CHECK_EQ(info.cpus[i].acpi_uid, i);
		CHECK(info.cpus[i].enabled);
	}
	CHECK_EQ(info.nr_ioapics, 1);
	CHECK_EQ(info.ioapics[0].id, 4);
	CHECK_EQ(info.ioapics[0].address, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.fadt_phys, follow().fadt);
	CHECK_EQ(info.madt_phys, follow().madt);
}

TEST(test_guest_headers_and_checksums)
{
	struct acpi_guest_params p = std_params();
	struct guest_tables t;
	const uint8_t *r;

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	t = follow();
	r = mem(rsdp_at);

	/* RSDP (section 5.2.5.3): both checksums, revision 2, length 36, both roots. */
	CHECK(memcmp(r, "RSD PTR ", 8) == 0);
	CHECK(acpi_checksum_ok(r, 20));
	CHECK(acpi_checksum_ok(r, 36));
	CHECK(memcmp(r + 9, "KEEL  ", 6) == 0);
	CHECK_EQ(r[15], 2);
	CHECK_EQ(get32(rsdp_at + 20), 36);
	CHECK(t.rsdt != 0);

	check_keel_table(t.xsdt, "XSDT", 1);
	check_keel_table(t.rsdt, "RSDT", 1);
	check_keel_table(t.fadt, "FACP", 6);
	check_keel_table(t.madt, "APIC", 6);
	check_keel_table(t.dsdt, "DSDT", 2);

	/* XSDT and RSDT list the same two tables; the DSDT is reached through the FADT only. */
	CHECK_EQ(get32(t.xsdt + 4), 36 + 2 * 8);
	CHECK_EQ(get32(t.rsdt + 4), 36 + 2 * 4);
	CHECK_EQ(get32(t.rsdt + 36), t.fadt);
	CHECK_EQ(get32(t.rsdt + 40), t.madt);
	CHECK(memcmp(mem(t.fadt), "FACP", 4) == 0);
	CHECK(memcmp(mem(t.madt), "APIC", 4) == 0);

	/* Everything lies inside what was reported as used. */
	CHECK_EQ(used, t.dsdt + get32(t.dsdt + 4) - GUEST_AT);
}

TEST(test_guest_fadt_fields)
{
	struct acpi_guest_params p = std_params();
	/* Generic Address Structures (section 5.2.3.2): System I/O, 8 bits, offset 0, byte access. */
	static const uint8_t reset_reg[12] = { 1, 8, 0, 1, 0xf9, 0x0c, 0, 0, 0, 0, 0, 0 };
	static const uint8_t sleep_reg[12] = { 1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t zero[96];
	uint64_t f;

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	f = follow().fadt;

	CHECK_EQ(get32(f + 4), 276); /* ACPI 6.x FADT length */
	CHECK_EQ(mem(f)[8], 6);	     /* major version */
	CHECK_EQ(mem(f)[131], 5);    /* minor version: 6.5 */
	/* No FACS (HW-reduced): FIRMWARE_CTRL and X_FIRMWARE_CTRL are 0. */
	CHECK_EQ(get32(f + 36), 0);
	CHECK_EQ(get64(f + 132), 0);
	/* DSDT and X_DSDT agree. */
	CHECK_EQ(get32(f + 40), follow().dsdt);
	CHECK_EQ(get64(f + 140), follow().dsdt);
	/* Offsets 44-108 (profile, SCI, SMI, PM/GPE blocks): all 0. */
	CHECK(memcmp(mem(f + 44), zero, 109 - 44) == 0);
	/* IAPC_BOOT_ARCH: VGA not present (bit 2) only: no legacy devices, no 8042, CMOS RTC. */
	CHECK_EQ(get16(f + 109), 0x0004);
	/*
	 * Flags: WBINVD (0), PWR_BUTTON (4), SLP_BUTTON (5), RESET_REG_SUP
	 * (10), HW_REDUCED_ACPI (20); not LOW_POWER_S0_IDLE_CAPABLE (21).
	 */
	CHECK_EQ(get32(f + 112), 0x00100431);
	CHECK(memcmp(mem(f + 116), reset_reg, 12) == 0);
	CHECK_EQ(mem(f)[128], 0x06);
	/* X_PM1a_EVT_BLK .. X_GPE1_BLK (148-243): all 0. */
	CHECK(memcmp(mem(f + 148), zero, 244 - 148) == 0);
	CHECK(memcmp(mem(f + 244), sleep_reg, 12) == 0);
	CHECK(memcmp(mem(f + 256), sleep_reg, 12) == 0);
	CHECK(memcmp(mem(f + 268), "KEEL\0\0\0\0", 8) == 0);
}

TEST(test_guest_fadt_without_reset_or_sleep)
{
	struct acpi_guest_params p = std_params();
	static const uint8_t zero[12];
	struct guest_tables t;

	p.reset_port = 0;
	p.sleep_port = 0;
	p.uart_port = 0;
	p.rtc_port = 0;
	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	t = follow();
	CHECK_EQ(get32(t.fadt + 112), 0x00100031); /* no RESET_REG_SUP */
	CHECK(memcmp(mem(t.fadt + 116), zero, 12) == 0);
	CHECK_EQ(mem(t.fadt)[128], 0);
	CHECK(memcmp(mem(t.fadt + 244), zero, 12) == 0);
	CHECK(memcmp(mem(t.fadt + 256), zero, 12) == 0);
	CHECK(acpi_checksum_ok(mem(t.fadt), 276));
	/* An empty definition block: just the header. */
	CHECK_EQ(get32(t.dsdt + 4), 36);
	CHECK(acpi_checksum_ok(mem(t.dsdt), 36));
	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
}

/*
 * The standard guest's DSDT body, derived from the AML grammar (section
 * 20.2) and identical to what iasl 20200925 produces for
 *
 *   Scope (\_SB) {
 *       Device (COM1) {
 *           Name (_HID, EisaId ("PNP0501"))
 *           Name (_CRS, ResourceTemplate () {
 *               IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)  IRQNoFlags () {4} })
 *       }
 *       Device (RTC) {
 *           Name (_HID, EisaId ("PNP0B00"))
 *           Name (_CRS, ResourceTemplate () { IO (Decode16, 0x0070, 0x0070, 0x00, 0x02) })
 *       }
 *   }
 *   Name (\_S5, Package () { 5, 0 })
 *
 * PkgLength (section 20.2.4) counts its own bytes and everything after it
 * up to the end of the object; 1 byte up to 63, else lead byte 0x40 | bits
 * 3:0 plus one byte holding bits 11:4.
 */
static const uint8_t std_aml[] = {
	/* ScopeOp; PkgLength 81 = 0x51 in two bytes: 0x41 0x05; NameSeg "_SB_" */
	0x10,
	0x41,
	0x05,
	'_',
	'S',
	'B',
	'_',
	/* ExtOpPrefix DeviceOp; PkgLength 37 (1 + "COM1" 4 + _HID 10 + _CRS 22); "COM1" */
	0x5b,
	0x82,
	0x25,
	'C',
	'O',
	'M',
	'1',
	/* NameOp "_HID" DWordPrefix EISAID("PNP0501") = 41 d0 05 01 */
	0x08,
	'_',
	'H',
	'I',
	'D',
	0x0c,
	0x41,
	0xd0,
	0x05,
	0x01,
	/* NameOp "_CRS" BufferOp PkgLength 16 (1 + BufferSize 2 + 13); BufferSize ByteConst 13 */
	0x08,
	'_',
	'C',
	'R',
	'S',
	0x11,
	0x10,
	0x0a,
	0x0d,
	/* I/O port (6.4.2.5): 0x47, Decode16, min 0x3f8, max 0x3f8, alignment 0, length 8 */
	0x47,
	0x01,
	0xf8,
	0x03,
	0xf8,
	0x03,
	0x00,
	0x08,
	/* IRQ without flags (6.4.2.1): 0x22, mask 1 << 4; end tag (6.4.2.9): 0x79, checksum 0 */
	0x22,
	0x10,
	0x00,
	0x79,
	0x00,
	/* Device (RTC_): PkgLength 34 (1 + 4 + 10 + 19) */
	0x5b,
	0x82,
	0x22,
	'R',
	'T',
	'C',
	'_',
	/* _HID EISAID("PNP0B00") = 41 d0 0b 00 */
	0x08,
	'_',
	'H',
	'I',
	'D',
	0x0c,
	0x41,
	0xd0,
	0x0b,
	0x00,
	/* _CRS: Buffer PkgLength 13 (1 + 2 + 10), size 10: I/O 0x70-0x71, end tag */
	0x08,
	'_',
	'C',
	'R',
	'S',
	0x11,
	0x0d,
	0x0a,
	0x0a,
	0x47,
	0x01,
	0x70,
	0x00,
	0x70,
	0x00,
	0x00,
	0x02,
	0x79,
	0x00,
	/* NameOp "_S5_" PackageOp PkgLength 5 (1 + NumElements 1 + 0x0a 0x05 + ZeroOp) */
	0x08,
	'_',
	'S',
	'5',
	'_',
	0x12,
	0x05,
	0x02,
	0x0a,
	0x05,
	0x00,
};

TEST(test_guest_dsdt_aml)
{
	struct acpi_guest_params p = std_params();
	uint64_t d;

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	d = follow().dsdt;
	CHECK_EQ(sizeof(std_aml), 93);
	CHECK_EQ(get32(d + 4), 36 + sizeof(std_aml));
	CHECK(memcmp(mem(d + 36), std_aml, sizeof(std_aml)) == 0);
	CHECK(acpi_checksum_ok(mem(d), 36 + sizeof(std_aml)));
}

TEST(test_guest_dsdt_variants)
{
	struct acpi_guest_params p = std_params();
	/* Only the \_S5 object: the last 11 bytes of std_aml. */
	static const uint8_t s5_only[] = { 0x08, '_',  'S',  '5',  '_', 0x12,
					   0x05, 0x02, 0x0a, 0x05, 0x00 };
	/*
	 * Only the RTC, with IRQ 8 (iasl gives the same): the Scope is now 44
	 * bytes, one PkgLength byte; IRQ mask 1 << 8 = 00 01; Buffer of 13.
	 */
	static const uint8_t rtc8[] = {
		0x10, 0x2c, '_',  'S',	'B',  '_',  0x5b, 0x82, 0x25, 'R',  'T',  'C',
		'_',  0x08, '_',  'H',	'I',  'D',  0x0c, 0x41, 0xd0, 0x0b, 0x00, 0x08,
		'_',  'C',  'R',  'S',	0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0x70, 0x00,
		0x70, 0x00, 0x00, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00,
	};
	uint64_t d;

	p.uart_port = 0;
	p.rtc_port = 0;
	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	d = follow().dsdt;
	CHECK_EQ(get32(d + 4), 36 + sizeof(s5_only));
	CHECK(memcmp(mem(d + 36), s5_only, sizeof(s5_only)) == 0);
	CHECK(memcmp(s5_only, std_aml + sizeof(std_aml) - sizeof(s5_only), sizeof(s5_only)) == 0);

	p = std_params();
	p.uart_port = 0;
	p.sleep_port = 0;
	p.rtc_irq = 8;
	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	d = follow().dsdt;
	CHECK_EQ(get32(d + 4), 36 + sizeof(rtc8));
	CHECK(memcmp(mem(d + 36), rtc8, sizeof(rtc8)) == 0);
	CHECK(acpi_checksum_ok(mem(d), 36 + sizeof(rtc8)));
}

TEST(test_guest_madt_bytes)
{
	struct acpi_guest_params p = std_params();
	static const uint8_t entries[] = {
		/* Processor Local APIC (5.2.12.2): UID i, APIC ID, flags Enabled */
		0,
		8,
		0,
		0,
		1,
		0,
		0,
		0, /* */
		0,
		8,
		1,
		1,
		1,
		0,
		0,
		0, /* */
		0,
		8,
		2,
		2,
		1,
		0,
		0,
		0, /* */
		0,
		8,
		3,
		3,
		1,
		0,
		0,
		0,
		/* I/O APIC (5.2.12.3): ID 4, reserved, 0xfec00000, GSI base 0 */
		1,
		12,
		4,
		0,
		0x00,
		0x00,
		0xc0,
		0xfe,
		0,
		0,
		0,
		0,
		/* Local APIC NMI (5.2.12.7): all processors, flags 0, LINT1 */
		4,
		6,
		0xff,
		0,
		0,
		1,
	};
	uint64_t m;

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	m = follow().madt;
	CHECK_EQ(get32(m + 4), 44 + sizeof(entries));
	CHECK_EQ(get32(m + 36), 0xfee00000);
	CHECK_EQ(get32(m + 40), 0);
	CHECK(memcmp(mem(m + 44), entries, sizeof(entries)) == 0);
}

TEST(test_guest_x2apic)
{
	static uint32_t ids[] = { 0, 2, 300, 255, 254 };
	struct acpi_guest_params p = std_params();
	static const uint8_t x2[] = {
		/* Local x2APIC (5.2.12.12): reserved, x2APIC ID 300, Enabled, UID 2 */
		9,
		16,
		0,
		0,
		0x2c,
		0x01,
		0,
		0,
		1,
		0,
		0,
		0,
		2,
		0,
		0,
		0,
		/* 255 is not a Local APIC ID (0xff is "invalid" there): x2APIC, UID 3 */
		9,
		16,
		0,
		0,
		0xff,
		0x00,
		0,
		0,
		1,
		0,
		0,
		0,
		3,
		0,
		0,
		0,
		/* 254 is, again */
		0,
		8,
		4,
		254,
		1,
		0,
		0,
		0,
	};
	/* Local x2APIC NMI (5.2.12.13): flags 0, all processors, LINT1, reserved */
	static const uint8_t x2nmi[] = { 10, 12, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0 };
	uint64_t m;
	uint32_t len;

	p.apic_ids = ids;
	p.nr_cpus = 5;
	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	m = follow().madt;
	len = get32(m + 4);
	CHECK_EQ(len, 44 + 8 * 3 + 16 * 2 + 12 + 6 + 12);
	CHECK(memcmp(mem(m + 44 + 16), x2, sizeof(x2)) == 0);
	CHECK(memcmp(mem(m + len - 12), x2nmi, sizeof(x2nmi)) == 0);
	CHECK(acpi_checksum_ok(mem(m), len));

	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 5);
	for (uint32_t i = 0; i < 5 && i < info.nr_cpus; i++) {
		CHECK_EQ(info.cpus[i].apic_id, ids[i]);
		CHECK_EQ(info.cpus[i].acpi_uid, i);
		CHECK(info.cpus[i].enabled);
	}
}

TEST(test_guest_enospc)
{
	struct acpi_guest_params p = std_params();
	size_t need;

	reset();
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	need = used;
	CHECK(need > 600 && need < 1024);

	/* Too small by one byte: nothing written, and the size needed is reported. */
	reset();
	memset(mem(GUEST_AT), 0xaa, need);
	CHECK_EQ(build(&p, GUEST_AT, need - 1), -ENOSPC);
	CHECK_EQ(used, need);
	CHECK_CONTAINS(err, "need");
	for (size_t i = 0; i < need; i++) {
		if (mem(GUEST_AT)[i] != 0xaa) {
			CHECK(!"buffer written on -ENOSPC");
			break;
		}
	}
	CHECK_EQ(build(&p, GUEST_AT, 0), -ENOSPC);

	/* Exactly enough, in a heap buffer of that size (ASan checks the bounds). */
	{
		uint8_t *b = malloc(need);
		uint64_t r = 0;
		size_t u = 0;

		CHECK(b != NULL);
		if (b) {
			CHECK_EQ(acpi_build_guest(&p, b, GUEST_AT, need, &r, &u, err, sizeof(err)),
				 0);
			CHECK_EQ(u, need);
			CHECK_EQ(r, GUEST_AT);
			CHECK(memcmp(b + need - 11, std_aml + sizeof(std_aml) - 11, 11) == 0);
			free(b);
		}
	}
}

TEST(test_guest_unaligned_and_high)
{
	struct acpi_guest_params p = std_params();
	struct guest_tables t;

	/* An unaligned buffer: the RSDP and every table start 16-byte aligned. */
	reset();
	CHECK_EQ(build(&p, GUEST_AT + 4, GUEST_SIZE), 0);
	CHECK_EQ(rsdp_at, GUEST_AT + 16);
	t = follow();
	CHECK_EQ(t.xsdt % 16, 0);
	CHECK_EQ(t.fadt % 16, 0);
	CHECK_EQ(t.madt % 16, 0);
	CHECK_EQ(t.dsdt % 16, 0);
	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 4);

	/* Above 4 GiB: no RSDT, and the FADT's 32-bit DSDT field stays 0. */
	reset();
	CHECK_EQ(build(&p, TOP_BASE, TOP_SIZE), 0);
	CHECK_EQ(rsdp_at, TOP_BASE);
	t = follow();
	CHECK_EQ(t.rsdt, 0);
	CHECK(acpi_checksum_ok(mem(rsdp_at), 20));
	CHECK(acpi_checksum_ok(mem(rsdp_at), 36));
	CHECK_EQ(get32(t.fadt + 40), 0);
	CHECK_EQ(get64(t.fadt + 140), t.dsdt);
	CHECK(t.dsdt > TOP_BASE);
	CHECK(acpi_checksum_ok(mem(t.fadt), 276));
	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
	CHECK(info.xsdt);
	CHECK_EQ(info.nr_cpus, 4);
}

TEST(test_guest_bad_params)
{
	static uint32_t dup[] = { 0, 1, 1 };
	static uint32_t all_ones[] = { 0, 0xffffffff };
	static uint32_t many[256];
	struct acpi_guest_params p = std_params();
	uint64_t r;

	reset();
	p.nr_cpus = 0;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "0 vCPUs");
	p.nr_cpus = ACPI_MAX_CPUS + 1;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);

	p = std_params();
	p.apic_ids = dup;
	p.nr_cpus = 3;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);
	CHECK_STR(err, "guest ACPI: vCPU 2 (APIC ID 0x1) has the APIC ID of an earlier vCPU");

	p.apic_ids = all_ones;
	p.nr_cpus = 2;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "vCPU 1 (APIC ID 0xffffffff)");

	/* 256 vCPUs: index 255 may not be a Local APIC entry (UID 0xff means "all"). */
	for (uint32_t i = 0; i < 256; i++)
		many[i] = i == 0 ? 1000 : i - 1; /* 1000, 0, 1, ..., 254 */
	p.apic_ids = many;
	p.nr_cpus = 256;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "vCPU 255 (APIC ID 0xfe)");
	/* The same IDs with the x2APIC one last are fine. */
	for (uint32_t i = 0; i < 256; i++)
		many[i] = i < 255 ? i : 1000;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), 0);
	CHECK_EQ(acpi_parse(rsdp_at, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 256);
	CHECK_EQ(info.cpus[255].apic_id, 1000);
	CHECK_EQ(info.cpus[255].acpi_uid, 255);

	p = std_params();
	p.uart_irq = 16;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "ISA IRQ");
	p = std_params();
	p.lapic_addr = 0;
	CHECK_EQ(build(&p, GUEST_AT, GUEST_SIZE), -EINVAL);

	p = std_params();
	CHECK_EQ(acpi_build_guest(NULL, mem(GUEST_AT), GUEST_AT, GUEST_SIZE, &r, NULL, err,
				  sizeof(err)),
		 -EINVAL);
	CHECK_EQ(acpi_build_guest(&p, NULL, GUEST_AT, GUEST_SIZE, &r, NULL, err, sizeof(err)),
		 -EINVAL);
	CHECK_EQ(acpi_build_guest(&p, mem(GUEST_AT), 1ull << 60, GUEST_SIZE, &r, NULL, err,
				  sizeof(err)),
		 -EINVAL);
	/* No err buffer and no used pointer are fine. */
	CHECK_EQ(acpi_build_guest(&p, mem(GUEST_AT), GUEST_AT, GUEST_SIZE, &r, NULL, NULL, 0), 0);
}

/* ---- Host view ---- */

/* The machine's tables, at unaligned addresses in the window below 4 GiB. */
#define M_RSDP (HI_BASE + 0x10)
#define M_XSDT (HI_BASE + 0x103)
#define M_RSDT (HI_BASE + 0x201)
#define M_MADT (HI_BASE + 0x1235)
#define M_FADT (HI_BASE + 0x3005)
#define M_HPET (HI_BASE + 0x3401)
#define M_SSDT (HI_BASE + 0x3603)
#define VIEW_AT 0x9004ull /* the new tables: low memory, unaligned */
#define VIEW_SIZE 0x1000u

static void put_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *p = mem(phys);

	memset(p, 0, rev >= 2 ? 36 : 20);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "MACHIN", 6);
	p[15] = rev;
	put32(phys + 16, rsdt);
	if (rev >= 2) {
		put32(phys + 20, 36);
		put64(phys + 24, xsdt);
	}
	p[8] = csum(p, 20);
	if (rev >= 2)
		p[32] = csum(p, 36);
}

static void put_sdt_header(uint64_t phys, const char *sig, uint32_t len)
{
	uint8_t *p = mem(phys);

	memset(p, 0, 36);
	memcpy(p, sig, 4);
	put32(phys + 4, len);
	p[8] = 3;
	memcpy(p + 10, "MACHIN", 6);
	memcpy(p + 16, "FIRMWARE", 8);
	put32(phys + 24, 0x1234);
	memcpy(p + 28, "ACME", 4);
	put32(phys + 32, 0x5678);
}

static void fix_sdt(uint64_t phys)
{
	uint8_t *p = mem(phys);
	uint32_t len = get32(phys + 4);

	p[9] = 0;
	p[9] = csum(p, len);
}

static void put_root(uint64_t phys, bool xsdt, const uint64_t *tables, int n)
{
	uint32_t esz = xsdt ? 8 : 4;

	put_sdt_header(phys, xsdt ? "XSDT" : "RSDT", 36 + esz * (uint32_t)n);
	for (int i = 0; i < n; i++) {
		if (xsdt)
			put64(phys + 36 + 8 * (uint64_t)i, tables[i]);
		else
			put32(phys + 36 + 4 * (uint64_t)i, (uint32_t)tables[i]);
	}
	fix_sdt(phys);
}

static void put_plain(uint64_t phys, const char *sig, uint32_t len)
{
	put_sdt_header(phys, sig, len);
	for (uint32_t i = 36; i < len; i++)
		mem(phys)[i] = (uint8_t)(i * 7);
	fix_sdt(phys);
}

/* The machine's MADT: entries appended after the 44-byte header, in order. */
static uint32_t m_madt_len;

static void m_madt_add(const uint8_t *e, uint32_t n)
{
	memcpy(mem(M_MADT + m_madt_len), e, n);
	m_madt_len += n;
}

/* Entries of the machine's MADT; KEEP marks what the host view keeps when {2, 300} go. */
static const uint8_t e_lapic0[] = { 0, 8, 0, 0, 1, 0, 0, 0 };	  /* KEEP */
static const uint8_t e_lapic2[] = { 0, 8, 1, 2, 1, 0, 0, 0 };	  /* APIC ID 2 */
static const uint8_t e_iso[] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }; /* KEEP */
static const uint8_t e_x2_300[] = { 9, 16, 0, 0, 0x2c, 1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 };
static const uint8_t e_x2_302[] = { 9, 16, 0, 0, 0x2e, 1, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0 };
static const uint8_t e_x2_2[] = { 9, 16, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
static const uint8_t e_ioapic[] = { 1, 12, 8, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 }; /* KEEP */
static const uint8_t e_nmi_all[] = { 4, 6, 0xff, 5, 0, 1 };			 /* KEEP */
static const uint8_t e_nmi_uid1[] = { 4, 6, 1, 5, 0, 1 }; /* UID 1: APIC ID 2's */
static const uint8_t e_nmi_uid0[] = { 4, 6, 0, 5, 0, 1 }; /* KEEP */
static const uint8_t e_x2nmi_uid2[] = { 10, 12, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0 };
static const uint8_t e_x2nmi_all[] = { 10, 12, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0 };
static const uint8_t e_oem[] = { 0x80, 5, 0xde, 0xad, 0xbe }; /* KEEP */

/*
 * A machine with 4 processors: APIC IDs 0 and 2 (Local APIC entries, ID 2
 * listed again as x2APIC, as some firmware does) and 300, 302 (x2APIC).
 */
static void build_machine(bool with_xsdt, bool with_rsdt)
{
	uint64_t tables[] = { M_FADT, M_MADT, 0, M_HPET, M_SSDT };

	reset();
	put_sdt_header(M_MADT, "APIC", 44);
	put32(M_MADT + 36, 0xfee00000);
	put32(M_MADT + 40, 1);
	m_madt_len = 44;
	m_madt_add(e_lapic0, sizeof(e_lapic0));
	m_madt_add(e_lapic2, sizeof(e_lapic2));
	m_madt_add(e_iso, sizeof(e_iso));
	m_madt_add(e_x2_300, sizeof(e_x2_300));
	m_madt_add(e_x2_302, sizeof(e_x2_302));
	m_madt_add(e_x2_2, sizeof(e_x2_2));
	m_madt_add(e_ioapic, sizeof(e_ioapic));
	m_madt_add(e_nmi_all, sizeof(e_nmi_all));
	m_madt_add(e_nmi_uid1, sizeof(e_nmi_uid1));
	m_madt_add(e_nmi_uid0, sizeof(e_nmi_uid0));
	m_madt_add(e_x2nmi_uid2, sizeof(e_x2nmi_uid2));
	m_madt_add(e_x2nmi_all, sizeof(e_x2nmi_all));
	m_madt_add(e_oem, sizeof(e_oem));
	put32(M_MADT + 4, m_madt_len);
	fix_sdt(M_MADT);

	put_plain(M_FADT, "FACP", 276);
	put_plain(M_HPET, "HPET", 56);
	put_plain(M_SSDT, "SSDT", 40);
	if (with_xsdt)
		put_root(M_XSDT, true, tables, 5);
	if (with_rsdt)
		put_root(M_RSDT, false, tables, 5);
	put_rsdp(M_RSDP, with_xsdt ? 2 : 0, with_rsdt ? (uint32_t)M_RSDT : 0,
		 with_xsdt ? M_XSDT : 0);
}

static const uint32_t removed[] = { 2, 300 };
static uint64_t view_rsdp;

static int view(const uint32_t *ids, uint32_t n, uint64_t at, size_t size)
{
	view_rsdp = 0;
	return acpi_build_host_view(M_RSDP, ids, n, mem(at), at, size, &view_rsdp, err,
				    sizeof(err));
}

/* The root table at phys lists the machine's tables with the MADT replaced by madt. */
static void check_root(uint64_t phys, bool xsdt, uint64_t madt)
{
	const uint64_t want[] = { M_FADT, madt, 0, M_HPET, M_SSDT };
	uint32_t esz = xsdt ? 8 : 4;

	CHECK(memcmp(mem(phys), xsdt ? "XSDT" : "RSDT", 4) == 0);
	CHECK_EQ(get32(phys + 4), 36 + 5 * esz);
	/* The header is the machine's, but for the checksum. */
	CHECK(memcmp(mem(phys) + 10, xsdt ? mem(M_XSDT) + 10 : mem(M_RSDT) + 10, 26) == 0);
	CHECK(acpi_checksum_ok(mem(phys), 36 + 5 * esz));
	for (int i = 0; i < 5; i++)
		CHECK_EQ(xsdt ? get64(phys + 36 + 8 * (uint64_t)i)
			      : get32(phys + 36 + 4 * (uint64_t)i),
			 want[i]);
}

TEST(test_host_view_removes_cpus)
{
	static uint8_t before_hi[HI_SIZE];
	uint8_t want[256];
	uint32_t n = 0, len;
	uint64_t x, r, m;

	build_machine(true, true);
	memcpy(before_hi, hi_mem, HI_SIZE);

	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), 0);
	CHECK_STR(err, "");
	CHECK_EQ(view_rsdp, VIEW_AT + 12); /* 16-byte aligned */

	/* The machine's tables are untouched. */
	CHECK(memcmp(before_hi, hi_mem, HI_SIZE) == 0);

	/* The new RSDP keeps the machine's OEM ID and revision; both roots are new. */
	CHECK(memcmp(mem(view_rsdp), "RSD PTR ", 8) == 0);
	CHECK(memcmp(mem(view_rsdp) + 9, "MACHIN", 6) == 0);
	CHECK_EQ(mem(view_rsdp)[15], 2);
	CHECK(acpi_checksum_ok(mem(view_rsdp), 20));
	CHECK(acpi_checksum_ok(mem(view_rsdp), 36));
	x = get64(view_rsdp + 24);
	r = get32(view_rsdp + 16);
	CHECK(x > VIEW_AT && x < VIEW_AT + VIEW_SIZE);
	CHECK(r > VIEW_AT && r < VIEW_AT + VIEW_SIZE);
	m = get64(x + 44);
	CHECK(m > VIEW_AT && m < VIEW_AT + VIEW_SIZE);
	check_root(x, true, m);
	check_root(r, false, m);

	/* The new MADT: the machine's header and kept entries, byte for byte. */
	memcpy(want, mem(M_MADT), 44);
	n = 44;
#define KEEP(e)                                                                                    \
	do {                                                                                       \
		memcpy(want + n, e, sizeof(e));                                                    \
		n += sizeof(e);                                                                    \
	} while (0)
	KEEP(e_lapic0);
	KEEP(e_iso);
	KEEP(e_x2_302);
	KEEP(e_ioapic);
	KEEP(e_nmi_all);
	KEEP(e_nmi_uid0);
	KEEP(e_x2nmi_all);
	KEEP(e_oem);
#undef KEEP
	len = get32(m + 4);
	CHECK_EQ(len, n);
	CHECK(acpi_checksum_ok(mem(m), len));
	CHECK(memcmp(mem(m), want, 4) == 0);
	CHECK(memcmp(mem(m) + 8, want + 8, 1) == 0);	    /* revision */
	CHECK(memcmp(mem(m) + 10, want + 10, n - 10) == 0); /* IDs, body, kept entries */

	/* Parsed: two processors left, the other tables still there. */
	CHECK_EQ(acpi_parse(view_rsdp, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(info.xsdt);
	CHECK_STR(info.oem_id, "MACHIN");
	CHECK_EQ(info.madt_phys, m);
	CHECK_EQ(info.fadt_phys, M_FADT);
	CHECK_EQ(info.madt_flags, 1);
	CHECK_EQ(info.nr_cpus, 2);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK_EQ(info.cpus[1].apic_id, 302);
	CHECK_EQ(info.cpus[1].acpi_uid, 3);
	CHECK_EQ(info.nr_ioapics, 1);

	/* The original still parses with all four. */
	CHECK_EQ(acpi_parse(M_RSDP, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 4);
	CHECK_EQ(info.madt_phys, M_MADT);
}

TEST(test_host_view_nothing_removed)
{
	uint64_t m;

	build_machine(true, false);
	CHECK_EQ(view(NULL, 0, VIEW_AT, VIEW_SIZE), 0);
	CHECK_EQ(get32(view_rsdp + 16), 0); /* the machine has no RSDT: nor does the view */
	m = get64(get64(view_rsdp + 24) + 44);
	CHECK_EQ(get32(m + 4), m_madt_len);
	CHECK(memcmp(mem(m), mem(M_MADT), m_madt_len) == 0); /* the same bytes, checksum too */
	CHECK_EQ(acpi_parse(view_rsdp, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 4);
}

TEST(test_host_view_rsdt_only)
{
	uint64_t r;

	build_machine(false, true);
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), 0);
	CHECK_EQ(mem(view_rsdp)[15], 0);
	CHECK(acpi_checksum_ok(mem(view_rsdp), 20));
	r = get32(view_rsdp + 16);
	check_root(r, false, get32(r + 40));
	CHECK_EQ(acpi_parse(view_rsdp, &info, err, sizeof(err)), 0);
	CHECK(!info.xsdt);
	CHECK_EQ(info.nr_cpus, 2);
	CHECK(info.madt_phys > VIEW_AT && info.madt_phys < VIEW_AT + VIEW_SIZE);

	/* An RSDT cannot name tables above 4 GiB. */
	build_machine(false, true);
	CHECK_EQ(view(removed, 2, TOP_BASE, TOP_SIZE), -ERANGE);
	CHECK_CONTAINS(err, "only an RSDT");
}

TEST(test_host_view_above_4g)
{
	build_machine(true, true);
	CHECK_EQ(view(removed, 2, TOP_BASE, TOP_SIZE), 0);
	CHECK_EQ(get32(view_rsdp + 16), 0); /* RSDT dropped: it would need 32-bit addresses */
	CHECK(acpi_checksum_ok(mem(view_rsdp), 36));
	CHECK_EQ(acpi_parse(view_rsdp, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 2);
	CHECK(info.madt_phys > TOP_BASE);

	/* A broken RSDT beside a good XSDT is dropped too. */
	build_machine(true, true);
	mem(M_RSDT)[9] ^= 0x5a;
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), 0);
	CHECK_EQ(get32(view_rsdp + 16), 0);
	CHECK_EQ(acpi_parse(view_rsdp, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 2);
}

TEST(test_host_view_errors)
{
	static const uint32_t absent[] = { 2, 7 };
	static const uint32_t all[] = { 0, 2, 300, 302 };
	size_t need;

	build_machine(true, true);
	CHECK_EQ(view(absent, 2, VIEW_AT, VIEW_SIZE), -ENOENT);
	CHECK_CONTAINS(err, "no processor with APIC ID 0x7 to remove");
	CHECK_EQ(view(all, 4, VIEW_AT, VIEW_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "no processor would be left");

	/* Too small: the message gives the size; exactly that size works. */
	CHECK_EQ(view(removed, 2, VIEW_AT, 64), -ENOSPC);
	CHECK_CONTAINS(err, "host ACPI view needs ");
	need = (size_t)strtoul(strstr(err, "needs ") + 6, NULL, 10);
	CHECK_EQ(view(removed, 2, VIEW_AT, need - 1), -ENOSPC);
	CHECK_EQ(view(removed, 2, VIEW_AT, need), 0);

	/* A bad MADT checksum, and a malformed entry with a fixed checksum. */
	build_machine(true, true);
	mem(M_MADT)[9] ^= 1;
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), -EBADMSG);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1235: checksum mismatch");
	build_machine(true, true);
	mem(M_MADT)[44 + 8 + 1] = 1; /* the ISO entry's length */
	fix_sdt(M_MADT);
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), -EINVAL);
	CHECK_CONTAINS(err, "malformed entry at offset 52");

	/* No MADT at all. */
	build_machine(true, true);
	memcpy(mem(M_MADT), "APIX", 4);
	fix_sdt(M_MADT);
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), -ENOENT);
	CHECK_CONTAINS(err, "no MADT");

	/* A bad RSDP, no RSDP, missing arguments. */
	build_machine(true, true);
	mem(M_RSDP)[32] ^= 1;
	CHECK_EQ(view(removed, 2, VIEW_AT, VIEW_SIZE), -EBADMSG);
	CHECK_CONTAINS(err, "extended checksum");
	CHECK_EQ(acpi_build_host_view(0, removed, 2, mem(VIEW_AT), VIEW_AT, VIEW_SIZE, &view_rsdp,
				      err, sizeof(err)),
		 -ENOENT);
	CHECK_EQ(view(NULL, 2, VIEW_AT, VIEW_SIZE), -EINVAL);
	CHECK_EQ(acpi_build_host_view(M_RSDP, removed, 2, mem(VIEW_AT), VIEW_AT, VIEW_SIZE, NULL,
				      err, sizeof(err)),
		 -EINVAL);
}

TEST_MAIN(TEST_CASE(test_guest_parses_back), TEST_CASE(test_guest_headers_and_checksums),
	  TEST_CASE(test_guest_fadt_fields), TEST_CASE(test_guest_fadt_without_reset_or_sleep),
	  TEST_CASE(test_guest_dsdt_aml), TEST_CASE(test_guest_dsdt_variants),
	  TEST_CASE(test_guest_madt_bytes), TEST_CASE(test_guest_x2apic),
	  TEST_CASE(test_guest_enospc), TEST_CASE(test_guest_unaligned_and_high),
	  TEST_CASE(test_guest_bad_params), TEST_CASE(test_host_view_removes_cpus),
	  TEST_CASE(test_host_view_nothing_removed), TEST_CASE(test_host_view_rsdt_only),
	  TEST_CASE(test_host_view_above_4g), TEST_CASE(test_host_view_errors))
