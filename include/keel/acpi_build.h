/* SPDX-License-Identifier: MIT */
/*
 * Building ACPI tables (docs/guest-platform.md, section "ACPI"):
 *
 * - acpi_build_guest(): the tables a guest partition boots with: RSDP,
 *   XSDT, RSDT, a hardware-reduced FADT, MADT and a small DSDT.
 * - acpi_build_host_view(): a copy of the machine's RSDP, XSDT/RSDT and
 *   MADT with the partitions' processors removed; every other table is
 *   referenced where it already is.
 *
 * Section numbers refer to the ACPI 6.5 specification.
 */
#ifndef KEEL_ACPI_BUILD_H
#define KEEL_ACPI_BUILD_H

#include <keel/types.h>

/* Keel's guest platform: the values a guest partition's tables describe. */
#define ACPI_GUEST_LAPIC_ADDR 0xfee00000u
#define ACPI_GUEST_IOAPIC_ADDR 0xfec00000u
#define ACPI_GUEST_RESET_PORT 0xcf9 /* FADT RESET_REG: a byte write of 0x06 resets */
#define ACPI_GUEST_RESET_VALUE 0x06
#define ACPI_GUEST_SLEEP_PORT 0x600 /* FADT SLEEP_CONTROL_REG and SLEEP_STATUS_REG */
#define ACPI_GUEST_UART_PORT 0x3f8
#define ACPI_GUEST_UART_IRQ 4
#define ACPI_GUEST_RTC_PORT 0x70

/*
 * The sleep control register (section 4.8.3.7), one byte: the guest enters
 * S5 (soft off) by writing SLP_EN | SLP_TYP(ACPI_GUEST_S5_SLP_TYP), i.e.
 * 0x34. The sleep status register shares the port: the guest writes
 * WAK_STS (0x80) there to clear it before sleeping, and reads 0 back.
 */
#define ACPI_SLEEP_CTL_SLP_EN (1u << 5)
#define ACPI_SLEEP_CTL_SLP_TYP(v) (((v) >> 2) & 7u)
#define ACPI_SLEEP_STS_WAK_STS (1u << 7)
#define ACPI_GUEST_S5_SLP_TYP 5 /* the first value of the DSDT's \_S5 package */

struct acpi_guest_params {
	uint32_t nr_cpus;	  /* 1 to ACPI_MAX_CPUS */
	const uint32_t *apic_ids; /* nr_cpus distinct APIC IDs; [0] is the boot vCPU */
	uint32_t lapic_addr;	  /* ACPI_GUEST_LAPIC_ADDR */
	uint32_t ioapic_addr;	  /* ACPI_GUEST_IOAPIC_ADDR; its GSI base is 0 */
	uint8_t ioapic_id;	  /* its I/O APIC ID */
	uint16_t sleep_port;	  /* sleep control/status register; 0: no ACPI poweroff */
	uint16_t reset_port;	  /* FADT RESET_REG (ACPI_GUEST_RESET_PORT); 0: none */
	uint8_t reset_value;	  /* value for reset_port (ACPI_GUEST_RESET_VALUE) */
	uint16_t uart_port;	  /* 16550 base described as PNP0501; 0: not described */
	uint8_t uart_irq;	  /* its ISA IRQ (= GSI, edge, active high); 0: none */
	uint16_t rtc_port;	  /* CMOS/RTC index port described as PNP0B00; 0: none */
	uint8_t rtc_irq;	  /* its ISA IRQ; 0: listed without an interrupt */
};

/*
 * Write a guest partition's ACPI tables into buf, which the guest sees at
 * guest-physical buf_gpa. On success returns 0, sets *rsdp_gpa (16-byte
 * aligned) and *used (bytes of buf written, from its start). Returns
 * -EINVAL for bad parameters and -ENOSPC when buf_size is too small; then
 * *used is the size needed and buf is untouched. err (errlen bytes) says
 * why on failure.
 */
int acpi_build_guest(const struct acpi_guest_params *p, void *buf, uint64_t buf_gpa,
		     size_t buf_size, uint64_t *rsdp_gpa, size_t *used, char *err, size_t errlen);

/*
 * Write into buf (at physical buf_phys) a view of the machine's ACPI
 * tables without the processors whose APIC IDs are listed: a new RSDP,
 * XSDT and/or RSDT (whichever the original has) and MADT. The root tables
 * list the original tables' addresses, except that every MADT entry points
 * to the new MADT: a byte copy of the original with the Processor Local
 * APIC and Local x2APIC entries of the removed processors left out (and
 * their processor-specific Local (x2)APIC NMI entries), lengths and
 * checksums recomputed. The original tables are only read (through
 * acpi_map()). Returns 0 and sets *new_rsdp_phys, or -ENOENT (no RSDP or
 * MADT, or a removed APIC ID that is not in the MADT), -EBADMSG (bad
 * signature or checksum), -EINVAL (malformed table, nothing left), -ERANGE
 * (an RSDT-only machine and a buffer above 4 GiB) or -ENOSPC, with a
 * message in err.
 */
int acpi_build_host_view(uint64_t orig_rsdp_phys, const uint32_t *removed_apic_ids,
			 uint32_t nr_removed, void *buf, uint64_t buf_phys, size_t buf_size,
			 uint64_t *new_rsdp_phys, char *err, size_t errlen);

#endif
