// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/acpi.c. Firmware tables are built in a fake physical
 * memory made of two windows: low memory [0, 1 MiB) for the BIOS areas,
 * and a high window at HI_BASE for tables. acpi_map() maps into them.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <keel/acpi.h>

#define LO_SIZE 0x100000ull
#define HI_BASE 0x7ffe0000ull
#define HI_SIZE 0x80000ull

static uint8_t lo_mem[LO_SIZE];
static uint8_t hi_mem[HI_SIZE];

/* A log of acpi_map() calls, to check the header-then-length order. */
#define MAP_LOG_MAX 4096
static struct {
	uint64_t phys;
	size_t len;
} map_log[MAP_LOG_MAX];
static int map_calls;

const void *acpi_map(uint64_t phys, size_t len)
{
	if (map_calls < MAP_LOG_MAX) {
		map_log[map_calls].phys = phys;
		map_log[map_calls].len = len;
	}
	map_calls++;
	if (phys < LO_SIZE && len <= LO_SIZE - phys)
		return lo_mem + phys;
	if (phys >= HI_BASE && phys - HI_BASE < HI_SIZE && len <= HI_SIZE - (phys - HI_BASE))
		return hi_mem + (phys - HI_BASE);
	return NULL;
}

static uint8_t *mem(uint64_t phys)
{
	if (phys < LO_SIZE)
		return lo_mem + phys;
	return hi_mem + (phys - HI_BASE);
}

static void reset(void)
{
	memset(lo_mem, 0, sizeof(lo_mem));
	memset(hi_mem, 0, sizeof(hi_mem));
	map_calls = 0;
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

/* An RSDP at phys (revision 0: 20 bytes, revision 2: 36 bytes), checksums fixed. */
static void put_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *p = mem(phys);

	memset(p, 0, rev >= 2 ? 36 : 20);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "KEELTS", 6);
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

/* A table header with sig and total length len at phys; the checksum is fixed by fix_sdt(). */
static void put_sdt_header(uint64_t phys, const char *sig, uint32_t len)
{
	uint8_t *p = mem(phys);

	memset(p, 0, 36);
	memcpy(p, sig, 4);
	put32(phys + 4, len);
	p[8] = 1;
	memcpy(p + 10, "KEELTS", 6);
	memcpy(p + 16, "UNITTEST", 8);
}

static void fix_sdt(uint64_t phys)
{
	uint8_t *p = mem(phys);
	uint32_t len;

	memcpy(&len, p + 4, 4);
	p[9] = 0;
	p[9] = csum(p, len);
}

/* An XSDT (entry 8) or RSDT (entry 4) listing tables. */
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

static void put_fadt(uint64_t phys)
{
	put_sdt_header(phys, "FACP", 276);
	fix_sdt(phys);
}

/* MADT building: entries appended after the 44-byte header. */
static uint64_t madt_at;
static uint32_t madt_len;

static void madt_begin(uint64_t phys, uint32_t lapic_addr, uint32_t flags)
{
	madt_at = phys;
	madt_len = 44;
	put_sdt_header(phys, "APIC", 44);
	put32(phys + 36, lapic_addr);
	put32(phys + 40, flags);
}

static void madt_raw(const uint8_t *e, uint32_t n)
{
	memcpy(mem(madt_at + madt_len), e, n);
	madt_len += n;
}

static void madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { MADT_TYPE_LAPIC, 8, uid, apic_id };

	memcpy(e + 4, &flags, 4);
	madt_raw(e, 8);
}

static void madt_x2apic(uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
	uint8_t e[16] = { MADT_TYPE_X2APIC, 16 };

	memcpy(e + 4, &x2apic_id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	madt_raw(e, 16);
}

static void madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t e[12] = { MADT_TYPE_IOAPIC, 12, id, 0 };

	memcpy(e + 4, &addr, 4);
	memcpy(e + 8, &gsi, 4);
	madt_raw(e, 12);
}

static void madt_override(uint64_t addr)
{
	uint8_t e[12] = { MADT_TYPE_LAPIC_ADDR_OVERRIDE, 12 };

	memcpy(e + 4, &addr, 8);
	madt_raw(e, 12);
}

static void madt_iso(void)
{
	/* Interrupt source override: bus 0, IRQ 0 -> GSI 2, flags 0 (section 5.2.12.5). */
	uint8_t e[10] = { MADT_TYPE_ISO, 10, 0, 0, 2, 0, 0, 0, 0, 0 };

	madt_raw(e, 10);
}

static void madt_end(void)
{
	put32(madt_at + 4, madt_len);
	fix_sdt(madt_at);
}

/* Tables at deliberately unaligned addresses, to exercise unaligned reads under UBSan. */
#define RSDP_AT (HI_BASE + 0x10)
#define XSDT_AT (HI_BASE + 0x103)
#define RSDT_AT (HI_BASE + 0x201)
#define MADT_AT (HI_BASE + 0x1234)
#define FADT_AT (HI_BASE + 0x3005)

static struct acpi_info info;
static char err[160];

/* A standard machine: 4 CPUs (one online-capable, one unusable), 2 IOAPICs, an override. */
static void build_standard_madt(void)
{
	madt_begin(MADT_AT, 0xfee00000, 1);
	madt_lapic(0, 0, MADT_LAPIC_ENABLED);
	madt_lapic(1, 2, MADT_LAPIC_ENABLED);
	madt_iso();
	madt_lapic(2, 4, MADT_LAPIC_ONLINE_CAPABLE);
	madt_lapic(3, 6, 0); /* neither enabled nor online capable: not usable */
	madt_ioapic(8, 0xfec00000, 0);
	madt_ioapic(9, 0xfec01000, 24);
	madt_end();
}

static void build_v2(void)
{
	uint64_t tables[] = { FADT_AT, 0, MADT_AT };

	reset();
	build_standard_madt();
	put_fadt(FADT_AT);
	put_root(XSDT_AT, true, tables, 3);
	put_rsdp(RSDP_AT, 2, 0xdead0000, XSDT_AT); /* RSDT must be ignored */
}

TEST(test_checksum_ok)
{
	uint8_t b[4] = { 1, 2, 3, 0xfa };

	CHECK(acpi_checksum_ok(b, 4));
	b[3] = 0;
	CHECK(!acpi_checksum_ok(b, 4));
	CHECK(acpi_checksum_ok(b, 0));
}

TEST(test_v0_rsdt)
{
	uint64_t tables[] = { MADT_AT, FADT_AT };

	reset();
	build_standard_madt();
	put_fadt(FADT_AT);
	put_root(RSDT_AT, false, tables, 2);
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);

	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(info.revision, 0);
	CHECK(!info.xsdt);
	CHECK_STR(info.oem_id, "KEELTS");
	CHECK_EQ(info.madt_phys, MADT_AT);
	CHECK_EQ(info.fadt_phys, FADT_AT);
	CHECK_EQ(info.lapic_address, 0xfee00000);
	CHECK_EQ(info.madt_flags, 1);
	CHECK_EQ(info.nr_cpus, 3);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK(info.cpus[0].enabled);
	CHECK_EQ(info.cpus[1].apic_id, 2);
	CHECK_EQ(info.cpus[1].acpi_uid, 1);
	CHECK(info.cpus[1].enabled);
	CHECK_EQ(info.cpus[2].apic_id, 4);
	CHECK(!info.cpus[2].enabled);
	CHECK_EQ(info.nr_ioapics, 2);
	CHECK_EQ(info.ioapics[0].id, 8);
	CHECK_EQ(info.ioapics[0].address, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.ioapics[1].id, 9);
	CHECK_EQ(info.ioapics[1].address, 0xfec01000);
	CHECK_EQ(info.ioapics[1].gsi_base, 24);
}

TEST(test_v2_xsdt)
{
	build_v2();
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(info.revision, 2);
	CHECK(info.xsdt);
	CHECK_EQ(info.madt_phys, MADT_AT);
	CHECK_EQ(info.fadt_phys, FADT_AT);
	CHECK_EQ(info.nr_cpus, 3);
	CHECK_EQ(info.nr_ioapics, 2);
}

TEST(test_map_header_first)
{
	int first = -1, full = -1;

	build_v2();
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK(map_calls <= MAP_LOG_MAX);
	for (int i = 0; i < map_calls; i++) {
		if (map_log[i].phys != MADT_AT)
			continue;
		if (first < 0)
			first = i;
		if (map_log[i].len == madt_len && full < 0)
			full = i;
	}
	CHECK(first >= 0);
	if (first >= 0)
		CHECK_EQ(map_log[first].len, 36);
	CHECK(full > first);
}

TEST(test_v2_without_xsdt_uses_rsdt)
{
	uint64_t tables[] = { MADT_AT };

	reset();
	build_standard_madt();
	put_root(RSDT_AT, false, tables, 1);
	put_rsdp(RSDP_AT, 2, RSDT_AT, 0);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK(!info.xsdt);
	CHECK_EQ(info.revision, 2);
	CHECK_EQ(info.madt_phys, MADT_AT);
	CHECK_EQ(info.fadt_phys, 0);
}

TEST(test_x2apic_and_override)
{
	uint64_t tables[] = { MADT_AT };

	reset();
	madt_begin(MADT_AT, 0xfee00000, 0);
	madt_x2apic(0, MADT_LAPIC_ENABLED, 100);
	madt_override(0x1fee00000ull);
	madt_x2apic(300, MADT_LAPIC_ENABLED, 101);
	madt_x2apic(0x10000, MADT_LAPIC_ONLINE_CAPABLE, 102);
	madt_lapic(5, 0, MADT_LAPIC_ENABLED); /* same CPU as x2APIC 0: listed twice */
	madt_lapic(6, 7, MADT_LAPIC_ENABLED);
	madt_end();
	put_root(XSDT_AT, true, tables, 1);
	put_rsdp(RSDP_AT, 2, 0, XSDT_AT);

	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(info.lapic_address, 0x1fee00000ull);
	CHECK_EQ(info.madt_flags, 0);
	CHECK_EQ(info.nr_cpus, 4);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK_EQ(info.cpus[0].acpi_uid, 100);
	CHECK_EQ(info.cpus[1].apic_id, 300);
	CHECK_EQ(info.cpus[1].acpi_uid, 101);
	CHECK(info.cpus[1].enabled);
	CHECK_EQ(info.cpus[2].apic_id, 0x10000);
	CHECK(!info.cpus[2].enabled);
	CHECK_EQ(info.cpus[3].apic_id, 7);
	CHECK_EQ(info.nr_ioapics, 0);
}

TEST(test_no_rsdp)
{
	reset();
	CHECK_EQ(acpi_parse(0, &info, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "RSDP");
	/* Unmappable address. */
	CHECK_EQ(acpi_parse(0x900000000ull, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "RSDP at 0x900000000");
}

TEST(test_bad_rsdp_signature)
{
	build_v2();
	mem(RSDP_AT)[0] = 'X';
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "RSDP at 0x7ffe0010");
	CHECK_CONTAINS(err, "signature");
}

TEST(test_bad_rsdp_checksum)
{
	build_v2();
	mem(RSDP_AT)[8] += 0x12;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "RSDP at 0x7ffe0010: checksum mismatch (sum 0x12)");
}

TEST(test_bad_extended_checksum)
{
	build_v2();
	mem(RSDP_AT)[32] ^= 0x01; /* extended checksum only: the v1 checksum still holds */
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "RSDP at 0x7ffe0010: extended checksum mismatch");

	/* A bad length field in a revision 2 RSDP. */
	build_v2();
	put32(RSDP_AT + 20, 20);
	mem(RSDP_AT)[32] = 0;
	mem(RSDP_AT)[32] = csum(mem(RSDP_AT), 36);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "bad length 20");
}

TEST(test_bad_madt_checksum)
{
	build_v2();
	mem(MADT_AT)[9] += 0x12;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "MADT at 0x7ffe1234: checksum mismatch (sum 0x12)");
}

TEST(test_bad_xsdt)
{
	build_v2();
	mem(XSDT_AT)[40] ^= 1;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "XSDT at 0x7ffe0103: checksum mismatch");

	build_v2();
	memcpy(mem(XSDT_AT), "RSDT", 4);
	fix_sdt(XSDT_AT);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "XSDT at 0x7ffe0103: bad signature");

	/* A length that is not header + whole entries. */
	build_v2();
	put32(XSDT_AT + 4, 36 + 8 * 3 - 4);
	fix_sdt(XSDT_AT);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "XSDT at 0x7ffe0103");

	/* An entry pointing nowhere. */
	build_v2();
	put64(XSDT_AT + 36 + 8, 0x900000000ull);
	fix_sdt(XSDT_AT);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "0x900000000");
}

TEST(test_bad_fadt_checksum)
{
	build_v2();
	mem(FADT_AT)[100] += 0x80;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "FADT at 0x7ffe3005: checksum mismatch (sum 0x80)");
}

TEST(test_missing_madt)
{
	uint64_t tables[] = { FADT_AT };

	reset();
	put_fadt(FADT_AT);
	put_root(XSDT_AT, true, tables, 1);
	put_rsdp(RSDP_AT, 2, 0, XSDT_AT);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "no MADT");

	/* An empty RSDT. */
	reset();
	put_root(RSDT_AT, false, tables, 0);
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "RSDT at 0x7ffe0201");

	/* No root table at all. */
	reset();
	put_rsdp(RSDP_AT, 0, 0, 0);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -ENOENT);
}

/* Rebuild the standard tables with the MADT made by body(). */
static void with_madt(void (*body)(void))
{
	uint64_t tables[] = { MADT_AT };

	reset();
	madt_begin(MADT_AT, 0xfee00000, 0);
	body();
	madt_end();
	put_root(XSDT_AT, true, tables, 1);
	put_rsdp(RSDP_AT, 2, 0, XSDT_AT);
}

static void body_zero_length(void)
{
	uint8_t e[8] = { 0x7f, 0 };

	madt_lapic(0, 0, 1);
	madt_raw(e, 8);
}

static void body_truncated(void)
{
	uint8_t e[4] = { MADT_TYPE_IOAPIC, 12, 1, 0 }; /* claims 12, table ends after 4 */

	madt_lapic(0, 0, 1);
	madt_raw(e, 4);
}

static void body_half_header(void)
{
	uint8_t e[1] = { MADT_TYPE_LAPIC };

	madt_lapic(0, 0, 1);
	madt_raw(e, 1);
}

static void body_short_lapic(void)
{
	uint8_t e[4] = { MADT_TYPE_LAPIC, 4, 0, 0 };

	madt_raw(e, 4);
}

static void body_short_x2apic(void)
{
	uint8_t e[8] = { MADT_TYPE_X2APIC, 8 };

	madt_raw(e, 8);
}

static void body_unknown_entries(void)
{
	/* Types Keel does not read (e.g. 0x7f, GIC entries) are skipped by length. */
	uint8_t e[6] = { 0x7f, 6, 1, 2, 3, 4 };
	uint8_t nmi[6] = { 4, 6, 0xff, 5, 0, 1 }; /* local APIC NMI */

	madt_raw(e, 6);
	madt_lapic(0, 1, 1);
	madt_raw(nmi, 6);
}

TEST(test_malformed_entries)
{
	with_madt(body_zero_length);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234: entry type 127 at offset 52 has length 0");

	with_madt(body_truncated);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234");
	CHECK_CONTAINS(err, "runs past the table end");

	with_madt(body_half_header);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "truncated entry header at offset 52");

	with_madt(body_short_lapic);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "too short");

	with_madt(body_short_x2apic);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "too short");

	with_madt(body_unknown_entries);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_EQ(info.cpus[0].apic_id, 1);
}

TEST(test_table_lengths)
{
	/* MADT shorter than its own header. */
	build_v2();
	put32(MADT_AT + 4, 40);
	fix_sdt(MADT_AT);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234: length 40");

	/* Shorter than an SDT header. */
	build_v2();
	put32(MADT_AT + 4, 20);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234: bad length 20");

	/* Beyond the sanity cap, even though it could be mapped. */
	build_v2();
	put32(MADT_AT + 4, 0x100001);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "bad length 1048577");

	/* Within the cap but running out of mappable memory: only the header was mapped. */
	build_v2();
	put32(MADT_AT + 4, (uint32_t)(HI_SIZE - 0x1234 + 1));
	map_calls = 0;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234: cannot map");
}

static void body_many_cpus(void)
{
	for (uint32_t i = 0; i < 300; i++)
		madt_x2apic(i, MADT_LAPIC_ENABLED, i);
}

static void body_many_disabled_cpus(void)
{
	for (uint32_t i = 0; i < 4; i++)
		madt_x2apic(i, MADT_LAPIC_ENABLED, i);
	for (uint32_t i = 4; i < 400; i++)
		madt_x2apic(i, MADT_LAPIC_ONLINE_CAPABLE, i);
}

static void body_many_ioapics(void)
{
	madt_lapic(0, 0, 1);
	for (uint32_t i = 0; i < ACPI_MAX_IOAPICS + 1; i++)
		madt_ioapic((uint8_t)i, 0xfec00000 + 0x1000 * i, 24 * i);
}

TEST(test_too_many)
{
	with_madt(body_many_cpus);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "MADT at 0x7ffe1234: more than 256");
	CHECK_EQ(info.nr_cpus, ACPI_MAX_CPUS);
	CHECK_EQ(info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);

	/* Hot-plug placeholders beyond the cap are dropped quietly. */
	with_madt(body_many_disabled_cpus);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, ACPI_MAX_CPUS);

	with_madt(body_many_ioapics);
	CHECK_EQ(acpi_parse(RSDP_AT, &info, err, sizeof(err)), -E2BIG);
	CHECK_CONTAINS(err, "I/O APICs");
	CHECK_EQ(info.nr_ioapics, ACPI_MAX_IOAPICS);
}

TEST(test_small_err_buffer)
{
	char small[8];

	build_v2();
	mem(MADT_AT)[9] += 0x12;
	CHECK_EQ(acpi_parse(RSDP_AT, &info, small, sizeof(small)), -EBADMSG);
	CHECK_STR(small, "MADT at");
	CHECK_EQ(acpi_parse(RSDP_AT, &info, NULL, 0), -EBADMSG);
}

TEST(test_legacy_bios_area)
{
	reset();
	CHECK_EQ(acpi_find_rsdp_legacy(), 0);

	/* Not on a 16-byte boundary: ignored. */
	put_rsdp(0xe0008, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0);

	/* A bad checksum first, then a good one. */
	put_rsdp(0xe1000, 0, 0x1000, 0);
	mem(0xe1000)[8] ^= 1;
	put_rsdp(0xe1230, 0, 0x2000, 0);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0xe1230);

	/* A revision 2 RSDP with a bad extended checksum is skipped too. */
	put_rsdp(0xe0100, 2, 0x1000, 0x3000);
	mem(0xe0100)[32] ^= 1;
	CHECK_EQ(acpi_find_rsdp_legacy(), 0xe1230);
	put_rsdp(0xe0100, 2, 0x1000, 0x3000);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0xe0100);

	/* The last slot of the area. */
	reset();
	put_rsdp(0xfffe0, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0xfffe0);
}

TEST(test_legacy_ebda)
{
	reset();
	/* EBDA at 0x9fc00: segment 0x9fc0 in the BIOS data area. */
	mem(0x40e)[0] = 0xc0;
	mem(0x40e)[1] = 0x9f;
	put_rsdp(0x9fc40, 2, 0x1000, 0x2000);
	put_rsdp(0xf0000, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0x9fc40); /* the EBDA is searched first */

	/* Only the first 1 KiB of the EBDA is searched. */
	reset();
	mem(0x40e)[0] = 0x00;
	mem(0x40e)[1] = 0x90;
	put_rsdp(0x90400, 0, 0x1000, 0);
	CHECK_EQ(acpi_find_rsdp_legacy(), 0);
	put_rsdp(0x903e0, 0, 0x1000, 0); /* the last slot holding all 20 bytes */
	CHECK_EQ(acpi_find_rsdp_legacy(), 0x903e0);

	/* A bogus EBDA pointer is not followed. */
	reset();
	mem(0x40e)[0] = 0x00;
	mem(0x40e)[1] = 0xf0; /* 0xf0000: in the ROM area, not an EBDA */
	CHECK_EQ(acpi_find_rsdp_legacy(), 0);
}

TEST(test_parse_found_rsdp)
{
	uint64_t tables[] = { MADT_AT };

	/* End to end: find the RSDP in the BIOS area, then parse from it. */
	reset();
	build_standard_madt();
	put_root(RSDT_AT, false, tables, 1);
	put_rsdp(0xf5a50, 0, (uint32_t)RSDT_AT, 0);
	uint64_t rsdp = acpi_find_rsdp_legacy();
	CHECK_EQ(rsdp, 0xf5a50);
	CHECK_EQ(acpi_parse(rsdp, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.nr_cpus, 3);
}

TEST_MAIN(TEST_CASE(test_checksum_ok), TEST_CASE(test_v0_rsdt), TEST_CASE(test_v2_xsdt),
	  TEST_CASE(test_map_header_first), TEST_CASE(test_v2_without_xsdt_uses_rsdt),
	  TEST_CASE(test_x2apic_and_override), TEST_CASE(test_no_rsdp),
	  TEST_CASE(test_bad_rsdp_signature), TEST_CASE(test_bad_rsdp_checksum),
	  TEST_CASE(test_bad_extended_checksum), TEST_CASE(test_bad_madt_checksum),
	  TEST_CASE(test_bad_xsdt), TEST_CASE(test_bad_fadt_checksum), TEST_CASE(test_missing_madt),
	  TEST_CASE(test_malformed_entries), TEST_CASE(test_table_lengths),
	  TEST_CASE(test_too_many), TEST_CASE(test_small_err_buffer),
	  TEST_CASE(test_legacy_bios_area), TEST_CASE(test_legacy_ebda),
	  TEST_CASE(test_parse_found_rsdp))
