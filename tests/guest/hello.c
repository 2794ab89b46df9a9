// SPDX-License-Identifier: MIT
/*
 * Smoke test: the payload reached 64-bit C code and the debug port works.
 * Expected output: the hello line, one PASS, "done 1 passed, 0 failed".
 */
#include "guest.h"

void guest_main(void)
{
	guest_puts("guest-test: hello from a raw partition\n");
	/* Proves the long-mode switch: CPL 0 with paging (CR0.PG) and PAE (CR4.PAE) on. */
	EXPECT("hello_long_mode",
	       read_cpl() == 0 && (read_cr0() & (1ull << 31)) && (read_cr4() & (1ull << 5)));
}
