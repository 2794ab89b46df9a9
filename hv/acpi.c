// SPDX-License-Identifier: MIT
/*
 * ACPI table discovery (include/keel/acpi.h): RSDP -> XSDT/RSDT -> MADT and
 * FADT. Section numbers refer to the ACPI 6.5 specification.
 *
 * Firmware tables are untrusted input: every length is checked against
 * what was mapped before a byte is read, every table Keel uses has its
 * checksum verified, and fields are copied out with memcpy because nothing
 * guarantees their alignment. acpi_map() is called for a table's header
 * first and only then for the length the header claims.
 */
#include <keel/types.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/acpi.h>

#define RSDP_V1_LEN 20		    /* the part covered by checksum (section 5.2.5.3) */
#define RSDP_V2_LEN 36		    /* sizeof(struct acpi_rsdp) */
#define RSDP_MAX_LEN 4096	    /* sanity cap for the revision 2 length field */
#define SDT_HDR_LEN 36		    /* sizeof(struct acpi_sdt_header) */
#define TABLE_MAX_LEN (1024 * 1024) /* sanity cap for any table's length */

STATIC_ASSERT(sizeof(struct acpi_rsdp) == RSDP_V2_LEN, "RSDP layout");
STATIC_ASSERT(sizeof(struct acpi_sdt_header) == SDT_HDR_LEN, "SDT header layout");
STATIC_ASSERT(sizeof(struct acpi_madt) == 44, "MADT header layout");

/* Legacy BIOS areas searched for the RSDP (section 5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SCAN_LEN 1024
#define BIOS_ROM_START 0xe0000
#define BIOS_ROM_END 0x100000

static uint8_t sum_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	return sum_bytes(p, len) == 0;
}

static uint8_t rd8(const uint8_t *p, size_t off)
{
	return p[off];
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
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

static int fail(char *err, size_t errlen, int rc, const char *what, uint64_t phys, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s at 0x%llx: %s", what, (unsigned long long)phys, msg);
	return rc;
}

/* An RSDP whose signature, checksum and (revision 2+) extended checksum hold. */
static int rsdp_check(uint64_t phys, struct acpi_rsdp *out, char *err, size_t errlen)
{
	const uint8_t *p = acpi_map(phys, RSDP_V1_LEN);
	char msg[80];
	uint32_t len;

	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	if (memcmp(p, "RSD PTR ", 8) != 0)
		return fail(err, errlen, -EBADMSG, "RSDP", phys, "bad signature");
	if (!acpi_checksum_ok(p, RSDP_V1_LEN)) {
		snprintf(msg, sizeof(msg), "checksum mismatch (sum 0x%02x)",
			 sum_bytes(p, RSDP_V1_LEN));
		return fail(err, errlen, -EBADMSG, "RSDP", phys, msg);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, p, RSDP_V1_LEN);
	if (out->revision < 2)
		return 0;

	/* Revision 2+ (ACPI 2.0+): the length and extended checksum cover the whole structure. */
	p = acpi_map(phys, RSDP_V2_LEN);
	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	len = rd32(p, 20);
	if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN) {
		snprintf(msg, sizeof(msg), "bad length %u", len);
		return fail(err, errlen, -EINVAL, "RSDP", phys, msg);
	}
	p = acpi_map(phys, len);
	if (!p)
		return fail(err, errlen, -EINVAL, "RSDP", phys, "cannot map");
	if (!acpi_checksum_ok(p, len)) {
		snprintf(msg, sizeof(msg), "extended checksum mismatch (sum 0x%02x)",
			 sum_bytes(p, len));
		return fail(err, errlen, -EBADMSG, "RSDP", phys, msg);
	}
	memcpy(out, p, RSDP_V2_LEN);
	return 0;
}

/*
 * Map a whole system description table (section 5.2.6): the header first,
 * then its claimed length, after checking that length is sane. Verifies the
 * signature when sig is given and the checksum. Returns the mapping and
 * sets *len, or NULL with *rc and the message set.
 */
static const uint8_t *map_table(uint64_t phys, const char *name, const char *sig, uint32_t *len,
				int *rc, char *err, size_t errlen)
{
	const uint8_t *p;
	char msg[80];

	*rc = -EINVAL;
	p = acpi_map(phys, SDT_HDR_LEN);
	if (!p) {
		fail(err, errlen, -EINVAL, name, phys, "cannot map header");
		return NULL;
	}
	if (sig && memcmp(p, sig, 4) != 0) {
		*rc = fail(err, errlen, -EBADMSG, name, phys, "bad signature");
		return NULL;
	}
	*len = rd32(p, 4);
	if (*len < SDT_HDR_LEN || *len > TABLE_MAX_LEN || *len - 1 > UINT64_MAX - phys) {
		snprintf(msg, sizeof(msg), "bad length %u", *len);
		fail(err, errlen, -EINVAL, name, phys, msg);
		return NULL;
	}
	p = acpi_map(phys, *len);
	if (!p) {
		snprintf(msg, sizeof(msg), "cannot map %u bytes", *len);
		fail(err, errlen, -EINVAL, name, phys, msg);
		return NULL;
	}
	if (!acpi_checksum_ok(p, *len)) {
		snprintf(msg, sizeof(msg), "checksum mismatch (sum 0x%02x)", sum_bytes(p, *len));
		*rc = fail(err, errlen, -EBADMSG, name, phys, msg);
		return NULL;
	}
	*rc = 0;
	return p;
}

static bool cpu_known(const struct acpi_info *info, uint32_t apic_id)
{
	for (uint32_t i = 0; i < info->nr_cpus; i++) {
		if (info->cpus[i].apic_id == apic_id)
			return true;
	}
	return false;
}

/*
 * Record one processor. Flags (section 5.2.12.2): Enabled means
 * the processor is ready for use; Online Capable (ACPI 6.3+) with Enabled
 * clear means it is present but can be brought online later. With both
 * clear the OS must not use it, so it is not recorded. A processor listed
 * twice (as both Local APIC and Local x2APIC, which some firmware does) is
 * recorded once. Returns false when the array is full and an enabled
 * processor had to be dropped.
 */
static bool add_cpu(struct acpi_info *info, uint32_t apic_id, uint32_t uid, uint32_t flags)
{
	bool enabled = flags & MADT_LAPIC_ENABLED;

	if (!enabled && !(flags & MADT_LAPIC_ONLINE_CAPABLE))
		return true;
	if (cpu_known(info, apic_id))
		return true;
	if (info->nr_cpus == ACPI_MAX_CPUS)
		return !enabled; /* a disabled one we could not start anyway is no loss */
	info->cpus[info->nr_cpus].apic_id = apic_id;
	info->cpus[info->nr_cpus].acpi_uid = uid;
	info->cpus[info->nr_cpus].enabled = enabled;
	info->nr_cpus++;
	return true;
}

/* Minimum lengths of the MADT entries Keel reads (section 5.2.12). */
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_LAPIC_OVERRIDE_LEN 12
#define MADT_X2APIC_LEN 16

static int parse_madt(uint64_t phys, const uint8_t *t, uint32_t len, struct acpi_info *info,
		      char *err, size_t errlen)
{
	bool too_many_cpus = false, too_many_ioapics = false;
	char msg[96];
	uint32_t off;

	if (len < sizeof(struct acpi_madt)) {
		snprintf(msg, sizeof(msg), "length %u shorter than the MADT header", len);
		return fail(err, errlen, -EINVAL, "MADT", phys, msg);
	}
	info->madt_phys = phys;
	info->lapic_address = rd32(t, 36);
	info->madt_flags = rd32(t, 40);

	/* Interrupt controller structures: type (1 byte), length (1 byte), body. */
	for (off = sizeof(struct acpi_madt); off < len;) {
		uint8_t type, elen;

		if (len - off < 2) {
			snprintf(msg, sizeof(msg), "truncated entry header at offset %u", off);
			return fail(err, errlen, -EINVAL, "MADT", phys, msg);
		}
		type = rd8(t, off);
		elen = rd8(t, off + 1);
		if (elen < 2) {
			snprintf(msg, sizeof(msg), "entry type %u at offset %u has length %u", type,
				 off, elen);
			return fail(err, errlen, -EINVAL, "MADT", phys, msg);
		}
		if (elen > len - off) {
			snprintf(msg, sizeof(msg),
				 "entry type %u at offset %u (length %u) runs past the table end",
				 type, off, elen);
			return fail(err, errlen, -EINVAL, "MADT", phys, msg);
		}

		const uint8_t *e = t + off;
		uint32_t need = 0;

		switch (type) {
		case MADT_TYPE_LAPIC:
			need = MADT_LAPIC_LEN;
			break;
		case MADT_TYPE_IOAPIC:
			need = MADT_IOAPIC_LEN;
			break;
		case MADT_TYPE_LAPIC_ADDR_OVERRIDE:
			need = MADT_LAPIC_OVERRIDE_LEN;
			break;
		case MADT_TYPE_X2APIC:
			need = MADT_X2APIC_LEN;
			break;
		default:
			break;
		}
		if (elen < need) {
			snprintf(msg, sizeof(msg), "entry type %u at offset %u too short (%u < %u)",
				 type, off, elen, need);
			return fail(err, errlen, -EINVAL, "MADT", phys, msg);
		}

		switch (type) {
		case MADT_TYPE_LAPIC:
			/* UID (1), APIC ID (1), flags (4): section 5.2.12.2. */
			if (!add_cpu(info, rd8(e, 3), rd8(e, 2), rd32(e, 4)))
				too_many_cpus = true;
			break;
		case MADT_TYPE_X2APIC:
			/* Reserved (2), x2APIC ID (4), flags (4), UID (4): section 5.2.12.12. */
			if (!add_cpu(info, rd32(e, 4), rd32(e, 12), rd32(e, 8)))
				too_many_cpus = true;
			break;
		case MADT_TYPE_IOAPIC:
			/* ID (1), reserved (1), address (4), GSI base (4): section 5.2.12.3. */
			if (info->nr_ioapics == ACPI_MAX_IOAPICS) {
				too_many_ioapics = true;
				break;
			}
			info->ioapics[info->nr_ioapics].id = rd8(e, 2);
			info->ioapics[info->nr_ioapics].address = rd32(e, 4);
			info->ioapics[info->nr_ioapics].gsi_base = rd32(e, 8);
			info->nr_ioapics++;
			break;
		case MADT_TYPE_LAPIC_ADDR_OVERRIDE:
			/* Reserved (2), 64-bit address: replaces the header's field (5.2.12.8). */
			info->lapic_address = rd64(e, 4);
			break;
		default:
			break;
		}
		off += elen;
	}

	if (too_many_cpus) {
		snprintf(msg, sizeof(msg), "more than %d enabled processors; the rest are ignored",
			 ACPI_MAX_CPUS);
		return fail(err, errlen, -E2BIG, "MADT", phys, msg);
	}
	if (too_many_ioapics) {
		snprintf(msg, sizeof(msg), "more than %d I/O APICs; the rest are ignored",
			 ACPI_MAX_IOAPICS);
		return fail(err, errlen, -E2BIG, "MADT", phys, msg);
	}
	return 0;
}

int acpi_parse(uint64_t rsdp_phys, struct acpi_info *info, char *err, size_t errlen)
{
	struct acpi_rsdp rsdp;
	const char *root_name;
	uint64_t root_phys, madt_phys = 0;
	uint32_t root_len, entry_size, nr_entries, madt_len = 0;
	const uint8_t *root, *madt = NULL;
	char msg[96];
	int rc;

	memset(info, 0, sizeof(*info));
	if (err && errlen)
		err[0] = '\0';
	if (rsdp_phys == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no RSDP");
		return -ENOENT;
	}
	rc = rsdp_check(rsdp_phys, &rsdp, err, errlen);
	if (rc)
		return rc;
	info->revision = rsdp.revision;
	memcpy(info->oem_id, rsdp.oem_id, sizeof(rsdp.oem_id));
	info->oem_id[sizeof(rsdp.oem_id)] = '\0';

	/* ACPI 2.0+ firmware gives 64-bit table addresses in the XSDT (section 5.2.8). */
	if (rsdp.revision >= 2 && rsdp.xsdt_address != 0) {
		info->xsdt = true;
		root_name = "XSDT";
		root_phys = rsdp.xsdt_address;
		entry_size = 8;
	} else {
		root_name = "RSDT";
		root_phys = rsdp.rsdt_address;
		entry_size = 4;
	}
	if (root_phys == 0)
		return fail(err, errlen, -ENOENT, "RSDP", rsdp_phys, "no RSDT or XSDT address");

	root = map_table(root_phys, root_name, root_name, &root_len, &rc, err, errlen);
	if (!root)
		return rc;
	if ((root_len - SDT_HDR_LEN) % entry_size != 0) {
		snprintf(msg, sizeof(msg), "length %u is not the header plus whole %u-byte entries",
			 root_len, entry_size);
		return fail(err, errlen, -EINVAL, root_name, root_phys, msg);
	}
	nr_entries = (root_len - SDT_HDR_LEN) / entry_size;

	for (uint32_t i = 0; i < nr_entries; i++) {
		/* Re-map per entry: acpi_map() need not keep earlier mappings valid. */
		const uint8_t *ent =
			acpi_map(root_phys + SDT_HDR_LEN + (uint64_t)i * entry_size, entry_size);
		const uint8_t *hdr;
		uint64_t phys;

		if (!ent)
			return fail(err, errlen, -EINVAL, root_name, root_phys, "cannot map");
		phys = entry_size == 8 ? rd64(ent, 0) : rd32(ent, 0);
		if (phys == 0)
			continue;
		hdr = acpi_map(phys, SDT_HDR_LEN);
		if (!hdr) {
			snprintf(msg, sizeof(msg), "entry %u (0x%llx) cannot be mapped", i,
				 (unsigned long long)phys);
			return fail(err, errlen, -EINVAL, root_name, root_phys, msg);
		}
		/* Only tables Keel uses are validated; others are not read at all. */
		if (memcmp(hdr, "APIC", 4) == 0 && !madt) {
			madt = map_table(phys, "MADT", NULL, &madt_len, &rc, err, errlen);
			if (!madt)
				return rc;
			madt_phys = phys;
		} else if (memcmp(hdr, "FACP", 4) == 0 && !info->fadt_phys) {
			uint32_t fadt_len;

			if (!map_table(phys, "FADT", NULL, &fadt_len, &rc, err, errlen))
				return rc;
			info->fadt_phys = phys;
		}
	}

	if (!madt)
		return fail(err, errlen, -ENOENT, root_name, root_phys, "no MADT (APIC) table");
	/* Map the MADT again: the FADT may have been mapped after it. */
	madt = acpi_map(madt_phys, madt_len);
	if (!madt)
		return fail(err, errlen, -EINVAL, "MADT", madt_phys, "cannot map");
	return parse_madt(madt_phys, madt, madt_len, info, err, errlen);
}

/* An RSDP at phys whose checksums hold, given its first bytes at p (avail bytes mapped). */
static bool rsdp_candidate(uint64_t phys, const uint8_t *p, size_t avail)
{
	const uint8_t *full;
	uint32_t len;

	if (avail < RSDP_V1_LEN || memcmp(p, "RSD PTR ", 8) != 0 ||
	    !acpi_checksum_ok(p, RSDP_V1_LEN))
		return false;
	if (rd8(p, 15) < 2)
		return true;
	if (avail < RSDP_V2_LEN)
		return false;
	len = rd32(p, 20);
	if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN)
		return false;
	full = len <= avail ? p : acpi_map(phys, len);
	return full && acpi_checksum_ok(full, len);
}

/* Scan [start, start+len) on 16-byte boundaries (section 5.2.5.1). */
static uint64_t scan_rsdp(uint64_t start, size_t len)
{
	const uint8_t *p = acpi_map(start, len);

	if (!p)
		return 0;
	for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
		if (rsdp_candidate(start + off, p + off, len - off))
			return start + off;
	}
	return 0;
}

uint64_t acpi_find_rsdp_legacy(void)
{
	const uint8_t *bda = acpi_map(BDA_EBDA_SEGMENT, 2);
	uint64_t found;

	/* The BIOS data area holds the EBDA's real-mode segment; its first 1 KiB is searched. */
	if (bda) {
		uint64_t ebda = (uint64_t)rd16(bda, 0) << 4;

		/* Only a plausible EBDA: above the BDA, below the video/ROM hole at 640 KiB. */
		if (ebda >= 0x500 && ebda + EBDA_SCAN_LEN <= 0xa0000) {
			found = scan_rsdp(ebda, EBDA_SCAN_LEN);
			if (found)
				return found;
		}
	}
	return scan_rsdp(BIOS_ROM_START, BIOS_ROM_END - BIOS_ROM_START);
}
