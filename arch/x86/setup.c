// SPDX-License-Identifier: MIT
/* Boot-CPU set-up the core asks for before anything else. */
#include <keel/arch.h>
#include <keel/percpu.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/traps.h>

void arch_early_init(struct percpu *bsp)
{
	traps_init();
	cpu_tables_init(bsp);
	/* Keel polls; mask the legacy PICs so nothing fires if interrupts come on. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_init();
	bsp->apic_id = lapic_id();
	tsc_calibrate();
	lapic_timer_calibrate();
	rtc_read_wallclock(); /* before the host owns the RTC */
}
