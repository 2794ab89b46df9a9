// SPDX-License-Identifier: MIT
/*
 * ACPI table building (include/keel/acpi_build.h): a guest partition's
 * tables, and the host's view of the machine's tables without the
 * partitions' processors. Section numbers refer to the ACPI 6.5
 * specification; docs/guest-platform.md explains the choices.
 *
 * Every multi-byte field is written and read with memcpy (tables are packed
 * and need not be aligned). The machine's tables are untrusted input: they
 * are validated as hv/acpi.c does (header first, then the claimed length,
 * then the checksum) and mapped again after every other acpi_map() call.
 */
#include <keel/types.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/acpi.h>
#include <keel/acpi_build.h>

#define RSDP_V1_LEN 20		    /* covered by the first checksum (section 5.2.5.3) */
#define RSDP_V2_LEN 36		    /* revision 2+: covered by the extended checksum */
#define RSDP_MAX_LEN 4096	    /* sanity cap for the revision 2 length field */
#define SDT_HDR_LEN 36		    /* system description table header (section 5.2.6) */
#define TABLE_MAX_LEN (1024 * 1024) /* sanity cap for any table's length */
#define TABLE_ALIGN 16		    /* every table starts 16-byte aligned (the RSDP must) */
#define MAX_PHYS (1ull << 52)	    /* the architectural physical address limit */

STATIC_ASSERT(sizeof(struct acpi_rsdp) == RSDP_V2_LEN, "RSDP layout");

/* Identification in every table Keel writes (section 5.2.6). */
#define KEEL_OEM_ID "KEEL  "
#define KEEL_OEM_TABLE_ID "KEELPART"
#define KEEL_CREATOR_ID "KEEL"

/* Header offsets (section 5.2.6). */
#define SDT_LENGTH 4
#define SDT_REVISION 8
#define SDT_CHECKSUM 9
#define SDT_OEM_ID 10
#define SDT_OEM_TABLE_ID 16
#define SDT_OEM_REVISION 24
#define SDT_CREATOR_ID 28
#define SDT_CREATOR_REVISION 32

/* RSDP offsets (section 5.2.5.3). */
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32

/* Table revisions of ACPI 6.5. */
#define RSDT_REVISION 1
#define XSDT_REVISION 1
#define FADT_REVISION 6 /* FADT major version 6 ... */
#define FADT_MINOR 5	/* ... minor version 5 */
#define MADT_REVISION 6
#define DSDT_REVISION 2 /* 2+: AML integers are 64-bit (section 5.2.11.1) */

/* The FADT (section 5.2.9, Table 5.9): field offsets used here. */
#define FADT_LEN 276
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_ID 268

/* Fixed feature flags (Table 5.10). */
#define FADT_WBINVD (1u << 0)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* IA-PC boot architecture flags (section 5.2.9.3, Table 5.11). */
#define IAPC_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure (section 5.2.3.2). */
#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MADT (section 5.2.12). */
#define MADT_HDR_LEN 44
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_TYPE_X2APIC_NMI 10
#define MADT_LAPIC_LEN 8	   /* 5.2.12.2 */
#define MADT_IOAPIC_LEN 12	   /* 5.2.12.3 */
#define MADT_LAPIC_NMI_LEN 6	   /* 5.2.12.7 */
#define MADT_X2APIC_LEN 16	   /* 5.2.12.12 */
#define MADT_X2APIC_NMI_LEN 12	   /* 5.2.12.13 */
#define MADT_UID_ALL 0xffu	   /* Local APIC NMI: all processors */
#define MADT_X2UID_ALL 0xffffffffu /* Local x2APIC NMI: all processors */
#define MADT_LINT1 1
#define XAPIC_ID_LIMIT 255 /* APIC IDs from 255 on need x2APIC entries (5.2.12.12) */

/* AML encoding (section 20.2). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */

/*
 * EISA IDs as EISAID() compiles them (section 19.6.43): the three letters
 * (code - 0x40, 5 bits each) and four hex digits are packed big-endian into
 * 32 bits and stored as a little-endian DWord. "PNP0501": P=0x10, N=0x0e,
 * P=0x10 give 0x41d0, then 0x0501: bytes 41 d0 05 01 = 0x0105d041.
 */
#define EISA_PNP0501 0x0105d041u /* 16550A-compatible serial port */
#define EISA_PNP0B00 0x000bd041u /* AT real-time clock */

/* Small resource descriptors (section 6.4.2). */
#define RES_IO 0x47	     /* I/O port descriptor, 7 bytes follow (6.4.2.5) */
#define RES_IO_DECODE16 0x01 /* decodes 16 address bits */
#define RES_IRQ_NOFLAGS 0x22 /* IRQ descriptor, 2 bytes: edge, active high (6.4.2.1) */
#define RES_END_TAG 0x79     /* end tag, 1 byte: checksum, 0 = none (6.4.2.9) */
#define ISA_IRQS 16

static void wr16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* Set the byte at p[at] so that len bytes from p sum to 0 mod 256. */
static void set_checksum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

static int fail(char *err, size_t errlen, int rc, const char *what, uint64_t phys, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s at 0x%llx: %s", what, (unsigned long long)phys, msg);
	return rc;
}

/* The offset at or after off where buffer base + offset is TABLE_ALIGN-aligned. */
static size_t align_at(uint64_t base, size_t off)
{
	return (size_t)(ALIGN_UP(base + off, TABLE_ALIGN) - base);
}

/* A Keel table header (section 5.2.6); the checksum is set last. */
static void keel_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	wr32(t, SDT_LENGTH, len);
	t[SDT_REVISION] = rev;
	memcpy(t + SDT_OEM_ID, KEEL_OEM_ID, 6);
	memcpy(t + SDT_OEM_TABLE_ID, KEEL_OEM_TABLE_ID, 8);
	wr32(t, SDT_OEM_REVISION, 1);
	memcpy(t + SDT_CREATOR_ID, KEEL_CREATOR_ID, 4);
	wr32(t, SDT_CREATOR_REVISION, 1);
}

/* An RSDP (section 5.2.5.3); revision 0 has only the first 20 bytes. */
static void write_rsdp(uint8_t *r, const char *oem_id, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + RSDP_OEM_ID, oem_id, 6);
	r[RSDP_REVISION] = rev;
	wr32(r, RSDP_RSDT, rsdt);
	if (rev >= 2) {
		wr32(r, RSDP_LENGTH, RSDP_V2_LEN);
		wr64(r, RSDP_XSDT, xsdt);
	}
	set_checksum(r, RSDP_V1_LEN, RSDP_CHECKSUM);
	if (rev >= 2)
		set_checksum(r, RSDP_V2_LEN, RSDP_EXT_CHECKSUM);
}

/*
 * An AML byte stream (section 20.2). With p NULL only the length is
 * counted, so the DSDT's size is known before anything is written.
 */
struct aml {
	uint8_t *p;
	size_t len;
};

static void aml_byte(struct aml *a, uint8_t v)
{
	if (a->p)
		a->p[a->len] = v;
	a->len++;
}

static void aml_bytes(struct aml *a, const void *src, size_t n)
{
	if (a->p)
		memcpy(a->p + a->len, src, n);
	a->len += n;
}

/* Start a PkgLength-prefixed body: one placeholder byte, grown by aml_pkg_end() if needed. */
static size_t aml_pkg_begin(struct aml *a)
{
	size_t at = a->len;

	aml_byte(a, 0);
	return at;
}

/*
 * PkgLength (section 20.2.4) counts itself and what follows. Up to 63 it
 * is one byte; beyond, the lead byte holds the number of following bytes
 * (1-3) in bits 7:6 and the length's bits 3:0, each following byte the
 * next 8 bits. The body is moved up when the encoding needs more bytes.
 */
static void aml_pkg_end(struct aml *a, size_t at)
{
	size_t body = a->len - at - 1, extra = 0, total = body + 1;

	while (extra == 0 ? total > 0x3f : total >= (1ul << (4 + 8 * extra))) {
		extra++;
		total = body + 1 + extra;
	}
	if (a->p) {
		if (extra == 0) {
			a->p[at] = (uint8_t)total;
		} else {
			memmove(a->p + at + 1 + extra, a->p + at + 1, body);
			a->p[at] = (uint8_t)(extra << 6 | (total & 0xf));
			for (size_t i = 0; i < extra; i++)
				a->p[at + 1 + i] = (uint8_t)(total >> (4 + 8 * i));
		}
	}
	a->len += extra;
}

/* An integer as its shortest encoding (section 20.2.3): ZeroOp, OneOp or a prefixed constant. */
static void aml_integer(struct aml *a, uint32_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_bytes(a, &(uint16_t){ (uint16_t)v }, 2);
	} else {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_bytes(a, &v, 4);
	}
}

/* Name (seg, ...): NameOp and a 4-character NameSeg; the value follows. */
static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, AML_NAME_OP);
	aml_bytes(a, seg, 4);
}

/*
 * An ISA device in \_SB (section 6.1.5 _HID, 6.2.2 _CRS):
 *   Device (seg) {
 *       Name (_HID, EisaId (...))
 *       Name (_CRS, ResourceTemplate () {
 *           IO (Decode16, port, port, 0x00, nports)
 *           IRQNoFlags () { irq }            (when irq is not 0)
 *       })
 *   }
 * IRQNoFlags means edge-triggered, active high: how Keel's I/O APIC
 * delivers ISA IRQ n (GSI n).
 */
static void aml_isa_device(struct aml *a, const char *seg, uint32_t hid, uint16_t port,
			   uint8_t nports, uint8_t irq)
{
	const uint8_t io[8] = { RES_IO,	       RES_IO_DECODE16,
				(uint8_t)port, (uint8_t)(port >> 8),
				(uint8_t)port, (uint8_t)(port >> 8),
				0x00,	       nports };
	const uint8_t irq_desc[3] = { RES_IRQ_NOFLAGS, (uint8_t)(1u << irq),
				      (uint8_t)((1u << irq) >> 8) };
	const uint8_t end[2] = { RES_END_TAG, 0x00 };
	size_t dev, res;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	dev = aml_pkg_begin(a);
	aml_bytes(a, seg, 4);

	aml_name(a, "_HID");
	aml_byte(a, AML_DWORD_PREFIX);
	aml_bytes(a, &hid, 4);

	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	res = aml_pkg_begin(a);
	aml_integer(a, (uint32_t)(sizeof(io) + (irq ? sizeof(irq_desc) : 0) + sizeof(end)));
	aml_bytes(a, io, sizeof(io));
	if (irq)
		aml_bytes(a, irq_desc, sizeof(irq_desc));
	aml_bytes(a, end, sizeof(end));
	aml_pkg_end(a, res);

	aml_pkg_end(a, dev);
}

/*
 * The DSDT's definition block (section 5.2.11.1), evaluated in the root
 * scope, so names are written without the '\' prefix (as iasl does):
 *   Scope (\_SB) { Device (COM1) {...}  Device (RTC_) {...} }
 *   Name (\_S5, Package () { 5, 0 })
 * Each part is there only when its parameter is. The devices give ISA
 * interrupts to Linux, which in hardware-reduced mode has no legacy PIC
 * and maps no ISA IRQ unless a device's _CRS names it. \_S5 (section
 * 7.4.2.6) gives SLP_TYP 5 for the sleep control register; a two-element
 * package because the ACPI 1.0 layout (SLP_TYPa, SLP_TYPb) is what
 * interpreters expect.
 */
static void build_dsdt_aml(struct aml *a, const struct acpi_guest_params *p)
{
	size_t scope, pkg;

	if (p->uart_port || p->rtc_port) {
		aml_byte(a, AML_SCOPE_OP);
		scope = aml_pkg_begin(a);
		aml_bytes(a, "_SB_", 4);
		if (p->uart_port)
			aml_isa_device(a, "COM1", EISA_PNP0501, p->uart_port, 8, p->uart_irq);
		if (p->rtc_port)
			aml_isa_device(a, "RTC_", EISA_PNP0B00, p->rtc_port, 2, p->rtc_irq);
		aml_pkg_end(a, scope);
	}
	if (p->sleep_port) {
		aml_name(a, "_S5_");
		aml_byte(a, AML_PACKAGE_OP);
		pkg = aml_pkg_begin(a);
		aml_byte(a, 2); /* NumElements */
		aml_integer(a, ACPI_GUEST_S5_SLP_TYP);
		aml_integer(a, 0);
		aml_pkg_end(a, pkg);
	}
}

/* A one-byte System I/O register as a Generic Address Structure (section 5.2.3.2). */
static void write_gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SPACE_SYSTEM_IO;
	g[1] = 8; /* register bit width */
	g[2] = 0; /* register bit offset */
	g[3] = GAS_ACCESS_BYTE;
	wr64(g, 4, port);
}

/*
 * The FADT (section 5.2.9), hardware-reduced (section 4.1): no FACS, no
 * PM1/PM2/GPE blocks, no PM timer, no SCI, no SMI command port; OSPM
 * ignores those fields and the flags listed in section 5.2.9 when
 * HW_REDUCED_ACPI is set. What is left:
 * - WBINVD (required of new systems), PWR_BUTTON and SLP_BUTTON set: there
 *   are no fixed-feature buttons;
 * - IAPC_BOOT_ARCH: VGA not present; LEGACY_DEVICES clear (every device is
 *   in the namespace), 8042 clear (absent), CMOS RTC present, MSI and
 *   ASPM bits clear (no PCI);
 * - RESET_REG (section 4.8.3.6): one byte in System I/O, RESET_REG_SUP;
 * - SLEEP_CONTROL_REG and SLEEP_STATUS_REG (section 4.8.3.7), both the
 *   same byte port;
 * - X_DSDT, and DSDT as well when it fits in 32 bits.
 */
static void write_fadt(uint8_t *t, const struct acpi_guest_params *p, uint64_t dsdt)
{
	uint32_t flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_HW_REDUCED_ACPI;

	keel_header(t, "FACP", FADT_LEN, FADT_REVISION);
	wr32(t, FADT_FIRMWARE_CTRL, 0);
	wr64(t, FADT_X_FIRMWARE_CTRL, 0);
	if (dsdt <= UINT32_MAX)
		wr32(t, FADT_DSDT, (uint32_t)dsdt);
	wr64(t, FADT_X_DSDT, dsdt);
	wr16(t, FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT);
	if (p->reset_port) {
		flags |= FADT_RESET_REG_SUP;
		write_gas_io8(t + FADT_RESET_REG, p->reset_port);
		t[FADT_RESET_VALUE] = p->reset_value;
	}
	wr32(t, FADT_FLAGS, flags);
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	if (p->sleep_port) {
		write_gas_io8(t + FADT_SLEEP_CONTROL_REG, p->sleep_port);
		write_gas_io8(t + FADT_SLEEP_STATUS_REG, p->sleep_port);
	}
	memcpy(t + FADT_HYPERVISOR_ID, KEEL_CREATOR_ID, 4);
	set_checksum(t, FADT_LEN, SDT_CHECKSUM);
}

static bool guest_has_x2apic(const struct acpi_guest_params *p)
{
	for (uint32_t i = 0; i < p->nr_cpus; i++) {
		if (p->apic_ids[i] >= XAPIC_ID_LIMIT)
			return true;
	}
	return false;
}

static uint32_t guest_madt_len(const struct acpi_guest_params *p)
{
	uint32_t len = MADT_HDR_LEN + MADT_IOAPIC_LEN + MADT_LAPIC_NMI_LEN;

	for (uint32_t i = 0; i < p->nr_cpus; i++)
		len += p->apic_ids[i] < XAPIC_ID_LIMIT ? MADT_LAPIC_LEN : MADT_X2APIC_LEN;
	if (guest_has_x2apic(p))
		len += MADT_X2APIC_NMI_LEN;
	return len;
}

/*
 * The MADT (section 5.2.12). PCAT_COMPAT is clear: there is no 8259. One
 * enabled processor entry per vCPU in apic_ids[] order (the boot processor
 * first, as section 5.2.12.2 asks), ACPI processor UID = index: a
 * Processor Local APIC entry for APIC IDs below 255, a Local x2APIC entry
 * from 255 on (section 5.2.12.12 requires exactly that split). One I/O
 * APIC with GSI base 0. No Interrupt Source Override: ISA IRQ n is GSI n,
 * edge-triggered, active high, which is the default for ISA (section
 * 5.2.12.5), and there is no SCI to route. Local APIC NMI (and Local
 * x2APIC NMI when there are x2APIC entries): all processors, LINT1.
 */
static void write_madt(uint8_t *t, const struct acpi_guest_params *p, uint32_t len)
{
	uint32_t off = MADT_HDR_LEN;
	uint8_t *e;

	keel_header(t, "APIC", len, MADT_REVISION);
	wr32(t, 36, p->lapic_addr);
	wr32(t, 40, 0);

	for (uint32_t i = 0; i < p->nr_cpus; i++) {
		e = t + off;
		if (p->apic_ids[i] < XAPIC_ID_LIMIT) {
			e[0] = MADT_TYPE_LAPIC;
			e[1] = MADT_LAPIC_LEN;
			e[2] = (uint8_t)i;
			e[3] = (uint8_t)p->apic_ids[i];
			wr32(e, 4, MADT_LAPIC_ENABLED);
			off += MADT_LAPIC_LEN;
		} else {
			e[0] = MADT_TYPE_X2APIC;
			e[1] = MADT_X2APIC_LEN;
			wr32(e, 4, p->apic_ids[i]);
			wr32(e, 8, MADT_LAPIC_ENABLED);
			wr32(e, 12, i);
			off += MADT_X2APIC_LEN;
		}
	}

	e = t + off;
	e[0] = MADT_TYPE_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = p->ioapic_id;
	wr32(e, 4, p->ioapic_addr);
	wr32(e, 8, 0);
	off += MADT_IOAPIC_LEN;

	/* Flags 0: polarity and trigger "conform to the bus" (section 5.2.12.7). */
	e = t + off;
	e[0] = MADT_TYPE_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_UID_ALL;
	wr16(e, 3, 0);
	e[5] = MADT_LINT1;
	off += MADT_LAPIC_NMI_LEN;

	if (guest_has_x2apic(p)) {
		e = t + off;
		e[0] = MADT_TYPE_X2APIC_NMI;
		e[1] = MADT_X2APIC_NMI_LEN;
		wr16(e, 2, 0);
		wr32(e, 4, MADT_X2UID_ALL);
		e[8] = MADT_LINT1;
	}
	set_checksum(t, len, SDT_CHECKSUM);
}

static int guest_params_check(const struct acpi_guest_params *p, char *err, size_t errlen)
{
	const char *msg = NULL;
	uint32_t bad = 0;

	if (!p->apic_ids || p->nr_cpus == 0 || p->nr_cpus > ACPI_MAX_CPUS) {
		if (err && errlen)
			snprintf(err, errlen, "guest ACPI: %u vCPUs (1 to %d)", p->nr_cpus,
				 ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (!p->lapic_addr || !p->ioapic_addr)
		msg = "no local APIC or I/O APIC address";
	else if ((p->uart_port && p->uart_irq >= ISA_IRQS) ||
		 (p->rtc_port && p->rtc_irq >= ISA_IRQS))
		msg = "a device IRQ is not an ISA IRQ (0-15)";
	if (msg) {
		if (err && errlen)
			snprintf(err, errlen, "guest ACPI: %s", msg);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < p->nr_cpus && !msg; i++) {
		uint32_t id = p->apic_ids[i];

		bad = i;
		if (id == MADT_X2UID_ALL)
			msg = "has APIC ID 0xffffffff";
		/* Processor UID 0xff in a Local APIC entry would mean "all" to NMI entries. */
		else if (id < XAPIC_ID_LIMIT && i >= MADT_UID_ALL)
			msg = "needs an 8-bit processor UID but its index is 255 or more";
		for (uint32_t j = 0; j < i && !msg; j++) {
			if (p->apic_ids[j] == id)
				msg = "has the APIC ID of an earlier vCPU";
		}
	}
	if (msg) {
		if (err && errlen)
			snprintf(err, errlen, "guest ACPI: vCPU %u (APIC ID 0x%x) %s", bad,
				 p->apic_ids[bad], msg);
		return -EINVAL;
	}
	return 0;
}

/*
 * Guest layout, from the buffer's start (each table 16-byte aligned):
 * RSDP (36), XSDT (2 entries), RSDT (2 entries), FADT (276), MADT, DSDT.
 * The XSDT and RSDT list the FADT and MADT; the FADT points to the DSDT.
 */
int acpi_build_guest(const struct acpi_guest_params *p, void *buf, uint64_t buf_gpa,
		     size_t buf_size, uint64_t *rsdp_gpa, size_t *used, char *err, size_t errlen)
{
	size_t o_rsdp, o_xsdt, o_rsdt, o_fadt, o_madt, o_dsdt, end;
	uint32_t madt_len, dsdt_len, xsdt_len, rsdt_len;
	struct aml aml = { NULL, 0 };
	uint8_t *b = buf;
	bool rsdt_ok;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!p || !rsdp_gpa || (!buf && buf_size)) {
		if (err && errlen)
			snprintf(err, errlen, "guest ACPI: missing argument");
		return -EINVAL;
	}
	rc = guest_params_check(p, err, errlen);
	if (rc)
		return rc;
	if (buf_gpa >= MAX_PHYS || buf_size > UINT32_MAX)
		return fail(err, errlen, -EINVAL, "guest ACPI buffer", buf_gpa, "out of range");

	madt_len = guest_madt_len(p);
	build_dsdt_aml(&aml, p);
	dsdt_len = (uint32_t)(SDT_HDR_LEN + aml.len);
	xsdt_len = SDT_HDR_LEN + 2 * 8;
	rsdt_len = SDT_HDR_LEN + 2 * 4;

	o_rsdp = align_at(buf_gpa, 0);
	o_xsdt = align_at(buf_gpa, o_rsdp + RSDP_V2_LEN);
	o_rsdt = align_at(buf_gpa, o_xsdt + xsdt_len);
	o_fadt = align_at(buf_gpa, o_rsdt + rsdt_len);
	o_madt = align_at(buf_gpa, o_fadt + FADT_LEN);
	o_dsdt = align_at(buf_gpa, o_madt + madt_len);
	end = o_dsdt + dsdt_len;
	if (used)
		*used = end;
	if (end > buf_size) {
		if (err && errlen)
			snprintf(err, errlen,
				 "guest ACPI tables need %zu bytes, the buffer has %zu", end,
				 buf_size);
		return -ENOSPC;
	}
	/* The RSDT holds 32-bit addresses: written only when every table it names fits. */
	rsdt_ok = buf_gpa + o_madt + madt_len <= (uint64_t)UINT32_MAX + 1;

	memset(b, 0, end);

	keel_header(b + o_xsdt, "XSDT", xsdt_len, XSDT_REVISION);
	wr64(b + o_xsdt, SDT_HDR_LEN, buf_gpa + o_fadt);
	wr64(b + o_xsdt, SDT_HDR_LEN + 8, buf_gpa + o_madt);
	set_checksum(b + o_xsdt, xsdt_len, SDT_CHECKSUM);

	if (rsdt_ok) {
		keel_header(b + o_rsdt, "RSDT", rsdt_len, RSDT_REVISION);
		wr32(b + o_rsdt, SDT_HDR_LEN, (uint32_t)(buf_gpa + o_fadt));
		wr32(b + o_rsdt, SDT_HDR_LEN + 4, (uint32_t)(buf_gpa + o_madt));
		set_checksum(b + o_rsdt, rsdt_len, SDT_CHECKSUM);
	}

	write_fadt(b + o_fadt, p, buf_gpa + o_dsdt);
	write_madt(b + o_madt, p, madt_len);

	keel_header(b + o_dsdt, "DSDT", dsdt_len, DSDT_REVISION);
	aml.p = b + o_dsdt + SDT_HDR_LEN;
	aml.len = 0;
	build_dsdt_aml(&aml, p);
	set_checksum(b + o_dsdt, dsdt_len, SDT_CHECKSUM);

	write_rsdp(b + o_rsdp, KEEL_OEM_ID, 2, rsdt_ok ? (uint32_t)(buf_gpa + o_rsdt) : 0,
		   buf_gpa + o_xsdt);
	*rsdp_gpa = buf_gpa + o_rsdp;
	return 0;
}

/* ---- The host's view ---- */

/* A machine RSDP whose signature and checksums hold; copied to *out (zero-filled past 20 bytes for revision 0). */
static int read_rsdp(uint64_t phys, struct acpi_rsdp *out, char *err, size_t errlen)
{
	const uint8_t *p = acpi_map(phys, RSDP_V1_LEN);
	uint32_t len;

	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	if (memcmp(p, "RSD PTR ", 8) != 0)
		return fail(err, errlen, -EBADMSG, "RSDP", phys, "bad signature");
	if (!acpi_checksum_ok(p, RSDP_V1_LEN))
		return fail(err, errlen, -EBADMSG, "RSDP", phys, "checksum mismatch");
	memset(out, 0, sizeof(*out));
	memcpy(out, p, RSDP_V1_LEN);
	if (out->revision < 2)
		return 0;
	p = acpi_map(phys, RSDP_V2_LEN);
	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	len = rd32(p, RSDP_LENGTH);
	if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "bad length");
	p = acpi_map(phys, len);
	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	if (!acpi_checksum_ok(p, len))
		return fail(err, errlen, -EBADMSG, "RSDP", phys, "extended checksum mismatch");
	memcpy(out, p, RSDP_V2_LEN);
	return 0;
}

/*
 * Map a whole machine table (section 5.2.6): header, then the claimed
 * length, then the checksum; the signature too when sig is given.
 */
static const uint8_t *map_table(uint64_t phys, const char *name, const char *sig, uint32_t *len,
				int *rc, char *err, size_t errlen)
{
	const uint8_t *p = acpi_map(phys, SDT_HDR_LEN);

	*rc = -EINVAL;
	if (!p) {
		fail(err, errlen, -EINVAL, name, phys, "cannot map header");
		return NULL;
	}
	if (sig && memcmp(p, sig, 4) != 0) {
		*rc = fail(err, errlen, -EBADMSG, name, phys, "bad signature");
		return NULL;
	}
	*len = rd32(p, SDT_LENGTH);
	if (*len < SDT_HDR_LEN || *len > TABLE_MAX_LEN || *len - 1 > UINT64_MAX - phys) {
		fail(err, errlen, -EINVAL, name, phys, "bad length");
		return NULL;
	}
	p = acpi_map(phys, *len);
	if (!p) {
		fail(err, errlen, -EINVAL, name, phys, "cannot map");
		return NULL;
	}
	if (!acpi_checksum_ok(p, *len)) {
		*rc = fail(err, errlen, -EBADMSG, name, phys, "checksum mismatch");
		return NULL;
	}
	*rc = 0;
	return p;
}

/* A root table (XSDT: 8-byte entries, RSDT: 4-byte entries, sections 5.2.7-5.2.8). */
struct root {
	const char *sig;
	uint64_t phys;
	uint32_t len, esz, nr;
	bool present;
};

/* Entry i of a root table, mapped afresh; false if it cannot be mapped. */
static bool root_entry(const struct root *r, uint32_t i, uint64_t *out)
{
	const uint8_t *e = acpi_map(r->phys + SDT_HDR_LEN + (uint64_t)i * r->esz, r->esz);

	if (!e)
		return false;
	*out = r->esz == 8 ? rd64(e, 0) : rd32(e, 0);
	return true;
}

/*
 * Validate a root table and every entry's header; find the first MADT.
 * Returns 0, or an error with the message set.
 */
static int root_check(struct root *r, uint64_t *madt, char *err, size_t errlen)
{
	const uint8_t *hdr;
	uint64_t phys;
	int rc;

	if (!map_table(r->phys, r->sig, r->sig, &r->len, &rc, err, errlen))
		return rc;
	if ((r->len - SDT_HDR_LEN) % r->esz != 0)
		return fail(err, errlen, -EINVAL, r->sig, r->phys, "length is not whole entries");
	r->nr = (r->len - SDT_HDR_LEN) / r->esz;
	for (uint32_t i = 0; i < r->nr; i++) {
		if (!root_entry(r, i, &phys))
			return fail(err, errlen, -EINVAL, r->sig, r->phys, "cannot map an entry");
		if (phys == 0)
			continue;
		hdr = acpi_map(phys, SDT_HDR_LEN);
		if (!hdr)
			return fail(err, errlen, -EINVAL, r->sig, r->phys,
				    "an entry's table cannot be mapped");
		if (memcmp(hdr, "APIC", 4) == 0 && *madt == 0)
			*madt = phys;
	}
	return 0;
}

/*
 * Copy a root table to out: the same header and entries, except that
 * every entry naming a MADT names new_madt. Requires root_check(); false
 * if a mapping that worked there fails now.
 */
static bool root_copy(const struct root *r, uint8_t *out, uint64_t new_madt)
{
	const uint8_t *src = acpi_map(r->phys, SDT_HDR_LEN);
	const uint8_t *hdr;
	uint64_t phys;

	if (!src)
		return false;
	memcpy(out, src, SDT_HDR_LEN);
	for (uint32_t i = 0; i < r->nr; i++) {
		if (!root_entry(r, i, &phys))
			return false;
		if (phys) {
			hdr = acpi_map(phys, SDT_HDR_LEN);
			if (!hdr)
				return false;
			if (memcmp(hdr, "APIC", 4) == 0)
				phys = new_madt;
		}
		if (r->esz == 8)
			wr64(out, SDT_HDR_LEN + (size_t)i * 8, phys);
		else
			wr32(out, SDT_HDR_LEN + (size_t)i * 4, (uint32_t)phys);
	}
	set_checksum(out, r->len, SDT_CHECKSUM);
	return true;
}

struct removal {
	const uint32_t *ids;
	uint32_t nr;
};

static bool id_removed(const struct removal *rm, uint32_t apic_id)
{
	for (uint32_t i = 0; i < rm->nr; i++) {
		if (rm->ids[i] == apic_id)
			return true;
	}
	return false;
}

/* Minimum length of the MADT entries read here; 2 (type and length) for the rest. */
static uint32_t madt_entry_min(uint8_t type)
{
	switch (type) {
	case MADT_TYPE_LAPIC:
		return MADT_LAPIC_LEN;
	case MADT_TYPE_X2APIC:
		return MADT_X2APIC_LEN;
	case MADT_TYPE_LAPIC_NMI:
		return MADT_LAPIC_NMI_LEN;
	case MADT_TYPE_X2APIC_NMI:
		return MADT_X2APIC_NMI_LEN;
	default:
		return 2;
	}
}

/* A processor entry (Local APIC or Local x2APIC): its APIC ID and UID. */
static bool madt_cpu(const uint8_t *e, uint32_t *apic_id, uint32_t *uid)
{
	if (e[0] == MADT_TYPE_LAPIC) {
		*apic_id = e[3];
		*uid = e[2];
		return true;
	}
	if (e[0] == MADT_TYPE_X2APIC) {
		*apic_id = rd32(e, 4);
		*uid = rd32(e, 12);
		return true;
	}
	return false;
}

/* True when the processors with this UID are all removed (and there is one). */
static bool uid_removed(const uint8_t *t, uint32_t len, const struct removal *rm, uint32_t uid)
{
	bool removed = false;
	uint32_t id, u;

	for (uint32_t off = MADT_HDR_LEN; off < len; off += t[off + 1]) {
		if (!madt_cpu(t + off, &id, &u) || u != uid)
			continue;
		if (!id_removed(rm, id))
			return false;
		removed = true;
	}
	return removed;
}

/*
 * Whether the new MADT keeps entry e: processor entries of removed APIC
 * IDs go, and so do NMI entries naming only removed processors' UIDs
 * (those naming all processors stay). Everything else is kept.
 */
static bool madt_keep(const uint8_t *t, uint32_t len, const uint8_t *e, const struct removal *rm)
{
	uint32_t id, uid;

	if (madt_cpu(e, &id, &uid))
		return !id_removed(rm, id);
	if (e[0] == MADT_TYPE_LAPIC_NMI)
		return e[2] == MADT_UID_ALL || !uid_removed(t, len, rm, e[2]);
	if (e[0] == MADT_TYPE_X2APIC_NMI) {
		uid = rd32(e, 4);
		return uid == MADT_X2UID_ALL || !uid_removed(t, len, rm, uid);
	}
	return true;
}

/*
 * Check the machine MADT's entries (section 5.2.12) and size the filtered
 * copy. Every removed APIC ID must be there, and a usable processor must
 * remain.
 */
static int madt_filter_size(uint64_t phys, const uint8_t *t, uint32_t len, const struct removal *rm,
			    uint32_t *new_len, char *err, size_t errlen)
{
	uint32_t off, id, uid, flags, left = 0;
	char msg[96];

	if (len < MADT_HDR_LEN)
		return fail(err, errlen, -EINVAL, "MADT", phys, "shorter than its header");
	for (off = MADT_HDR_LEN; off < len; off += t[off + 1]) {
		if (len - off < 2 || t[off + 1] < madt_entry_min(t[off]) ||
		    t[off + 1] > len - off) {
			snprintf(msg, sizeof(msg), "malformed entry at offset %u", off);
			return fail(err, errlen, -EINVAL, "MADT", phys, msg);
		}
	}
	*new_len = MADT_HDR_LEN;
	for (off = MADT_HDR_LEN; off < len; off += t[off + 1]) {
		const uint8_t *e = t + off;

		if (madt_keep(t, len, e, rm)) {
			*new_len += e[1];
			if (madt_cpu(e, &id, &uid)) {
				flags = rd32(e, e[0] == MADT_TYPE_LAPIC ? 4 : 8);
				if (flags & (MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE))
					left++;
			}
		}
	}
	for (uint32_t i = 0; i < rm->nr; i++) {
		bool found = false;

		for (off = MADT_HDR_LEN; off < len && !found; off += t[off + 1])
			found = madt_cpu(t + off, &id, &uid) && id == rm->ids[i];
		if (!found) {
			snprintf(msg, sizeof(msg), "no processor with APIC ID 0x%x to remove",
				 rm->ids[i]);
			return fail(err, errlen, -ENOENT, "MADT", phys, msg);
		}
	}
	if (!left)
		return fail(err, errlen, -EINVAL, "MADT", phys, "no processor would be left");
	return 0;
}

/* Write the filtered MADT: the header with a new length and checksum, then the kept entries. */
static void madt_filter_copy(const uint8_t *t, uint32_t len, const struct removal *rm, uint8_t *out,
			     uint32_t new_len)
{
	uint32_t n = MADT_HDR_LEN;

	memcpy(out, t, MADT_HDR_LEN);
	wr32(out, SDT_LENGTH, new_len);
	for (uint32_t off = MADT_HDR_LEN; off < len; off += t[off + 1]) {
		if (madt_keep(t, len, t + off, rm)) {
			memcpy(out + n, t + off, t[off + 1]);
			n += t[off + 1];
		}
	}
	set_checksum(out, new_len, SDT_CHECKSUM);
}

/*
 * Host view layout, from the buffer's start (16-byte aligned): RSDP, XSDT
 * (if the machine has one), RSDT (if the machine has one and everything it
 * names fits in 32 bits), MADT.
 */
int acpi_build_host_view(uint64_t orig_rsdp_phys, const uint32_t *removed_apic_ids,
			 uint32_t nr_removed, void *buf, uint64_t buf_phys, size_t buf_size,
			 uint64_t *new_rsdp_phys, char *err, size_t errlen)
{
	struct removal rm = { removed_apic_ids, nr_removed };
	struct root xsdt = { "XSDT", 0, 0, 8, 0, false };
	struct root rsdt = { "RSDT", 0, 0, 4, 0, false };
	size_t o_rsdp, o_xsdt = 0, o_rsdt = 0, o_madt, end;
	uint64_t madt_phys = 0, rsdt_madt = 0;
	uint32_t madt_len, new_len;
	struct acpi_rsdp rsdp;
	const uint8_t *madt;
	uint8_t *b = buf;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if ((nr_removed && !removed_apic_ids) || !new_rsdp_phys || (!buf && buf_size)) {
		if (err && errlen)
			snprintf(err, errlen, "host ACPI view: missing argument");
		return -EINVAL;
	}
	if (buf_phys >= MAX_PHYS || buf_size > UINT32_MAX)
		return fail(err, errlen, -EINVAL, "host ACPI view buffer", buf_phys,
			    "out of range");
	if (orig_rsdp_phys == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no RSDP");
		return -ENOENT;
	}
	rc = read_rsdp(orig_rsdp_phys, &rsdp, err, errlen);
	if (rc)
		return rc;

	/* The root hv/acpi.c and OSPM use: the XSDT when revision 2+ gives one (5.2.5.3). */
	if (rsdp.revision >= 2 && rsdp.xsdt_address) {
		xsdt.phys = rsdp.xsdt_address;
		rc = root_check(&xsdt, &madt_phys, err, errlen);
		if (rc)
			return rc;
		xsdt.present = true;
		/* The RSDT, for OSes told to use it, follows when it is sound; else it is dropped. */
		if (rsdp.rsdt_address) {
			rsdt.phys = rsdp.rsdt_address;
			rsdt.present = root_check(&rsdt, &rsdt_madt, NULL, 0) == 0;
		}
	} else {
		if (!rsdp.rsdt_address)
			return fail(err, errlen, -ENOENT, "RSDP", orig_rsdp_phys,
				    "no RSDT or XSDT address");
		rsdt.phys = rsdp.rsdt_address;
		rc = root_check(&rsdt, &madt_phys, err, errlen);
		if (rc)
			return rc;
		rsdt.present = true;
	}
	if (!madt_phys)
		return fail(err, errlen, -ENOENT, xsdt.present ? "XSDT" : "RSDT",
			    xsdt.present ? xsdt.phys : rsdt.phys, "no MADT (APIC) table");

	madt = map_table(madt_phys, "MADT", NULL, &madt_len, &rc, err, errlen);
	if (!madt)
		return rc;
	rc = madt_filter_size(madt_phys, madt, madt_len, &rm, &new_len, err, errlen);
	if (rc)
		return rc;

	o_rsdp = align_at(buf_phys, 0);
	end = o_rsdp + RSDP_V2_LEN;
	if (xsdt.present) {
		o_xsdt = align_at(buf_phys, end);
		end = o_xsdt + xsdt.len;
	}
	if (rsdt.present) {
		o_rsdt = align_at(buf_phys, end);
		end = o_rsdt + rsdt.len;
	}
	o_madt = align_at(buf_phys, end);
	end = o_madt + new_len;
	if (end > buf_size) {
		if (err && errlen)
			snprintf(err, errlen, "host ACPI view needs %zu bytes, the buffer has %zu",
				 end, buf_size);
		return -ENOSPC;
	}
	/* An RSDT holds 32-bit addresses, and the RSDP's RSDT address is 32 bits. */
	if (rsdt.present && buf_phys + end > (uint64_t)UINT32_MAX + 1) {
		if (!xsdt.present)
			return fail(err, errlen, -ERANGE, "host ACPI view buffer", buf_phys,
				    "above 4 GiB, but the machine has only an RSDT");
		rsdt.present = false;
	}

	memset(b, 0, end);
	madt = acpi_map(madt_phys, madt_len);
	if (!madt)
		return fail(err, errlen, -EINVAL, "MADT", madt_phys, "cannot map");
	madt_filter_copy(madt, madt_len, &rm, b + o_madt, new_len);
	if (xsdt.present && !root_copy(&xsdt, b + o_xsdt, buf_phys + o_madt))
		return fail(err, errlen, -EINVAL, "XSDT", xsdt.phys, "cannot map");
	if (rsdt.present && !root_copy(&rsdt, b + o_rsdt, buf_phys + o_madt))
		return fail(err, errlen, -EINVAL, "RSDT", rsdt.phys, "cannot map");
	write_rsdp(b + o_rsdp, rsdp.oem_id, rsdp.revision,
		   rsdt.present ? (uint32_t)(buf_phys + o_rsdt) : 0,
		   xsdt.present ? buf_phys + o_xsdt : 0);
	*new_rsdp_phys = buf_phys + o_rsdp;
	return 0;
}
