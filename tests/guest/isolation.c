// SPDX-License-Identifier: MIT
/*
 * Memory isolation: read guest-physical 1 GiB, which the identity map covers
 * but which lies outside a partition's RAM (partitions have 16-64 MiB) and
 * below the device window. Keel must stop the partition on that read and
 * report it; if the read returns, the payload says so and fails.
 */
#include "guest.h"

#define OUTSIDE_RAM 0x40000000ull

void guest_main(void)
{
	const volatile uint64_t *p = (const volatile uint64_t *)OUTSIDE_RAM;
	uint64_t v;

	guest_puts("guest-test: reading outside partition memory\n");
	v = *p;
	check("isolation", false, "read returned 0x%llx from guest-physical 0x%llx",
	      (unsigned long long)v, OUTSIDE_RAM);
}
