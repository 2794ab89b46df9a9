/* SPDX-License-Identifier: MIT */
#ifndef KEEL_EFI_H
#define KEEL_EFI_H

#include <keel/types.h>

/* The ACPI RSDP from the EFI configuration table (2.0 preferred); 0 if absent. */
uint64_t efi_find_rsdp(uint64_t efi_systab);

#endif
