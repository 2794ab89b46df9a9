// SPDX-License-Identifier: MIT
/*
 * Triple fault: with an empty IDT (limit 0), UD2's #UD cannot be delivered,
 * nor can the #GP that causes, nor the #DF after it, so the CPU shuts down.
 * Keel must stop the partition and report it; if execution goes on, the
 * payload says so and fails.
 */
#include "guest.h"

void guest_main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed empty_idt = { 0, 0 };

	guest_puts("guest-test: triple faulting now\n");
	asm volatile("lidt %0\n\tud2" : : "m"(empty_idt) : "memory");
	check("triple_fault", false, "execution continued after UD2 with an empty IDT");
}
