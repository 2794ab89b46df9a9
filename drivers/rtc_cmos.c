// SPDX-License-Identifier: MIT
/*
 * Reading the machine's MC146818-compatible RTC once at boot, before the
 * host owns it: index port 0x70, data port 0x71; registers 0/2/4 seconds,
 * minutes, hours, 7/8/9 day, month, year, 0x32 century (ACPI FADT's usual
 * index); register A bit 7 update in progress; register B bit 2 binary
 * mode, bit 1 24-hour mode.
 */
#include <keel/wallclock.h>
#include <x86/cpu.h>
#include <x86/io.h>

static uint8_t cmos_read(uint8_t index)
{
	outb(0x70, index);
	return inb(0x71);
}

static uint32_t from_bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

void rtc_read_wallclock(void)
{
	uint8_t sec, min, hour, day, mon, year, cent, regb;
	uint32_t h;
	bool binary, pm;

	/* Wait (bounded) for an update cycle not to be in progress. */
	for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
		;
	sec = cmos_read(0x00);
	min = cmos_read(0x02);
	hour = cmos_read(0x04);
	day = cmos_read(0x07);
	mon = cmos_read(0x08);
	year = cmos_read(0x09);
	cent = cmos_read(0x32);
	regb = cmos_read(0x0b);
	binary = regb & 0x04;
	pm = !(regb & 0x02) && (hour & 0x80);
	h = from_bcd(hour & 0x7f, binary);
	if (!(regb & 0x02))
		h = (h % 12) + (pm ? 12 : 0);
	wallclock_set(
		wallclock_date_to_unix(cent ? from_bcd(cent, binary) * 100 + from_bcd(year, binary)
					    : 2000 + from_bcd(year, binary),
				       from_bcd(mon, binary), from_bcd(day, binary), h,
				       from_bcd(min, binary), from_bcd(sec, binary)),
		rdtsc(), tsc_khz);
}
