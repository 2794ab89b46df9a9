// SPDX-License-Identifier: MIT
/* Wall-clock time: one reading of the machine's RTC, then the TSC. */
#include <keel/wallclock.h>

static uint64_t base_ns, base_tsc, base_khz = 1;

static bool leap(uint32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

uint64_t wallclock_date_to_unix(uint32_t year, uint32_t month, uint32_t day, uint32_t hour,
				uint32_t min, uint32_t sec)
{
	static const uint16_t before_month[12] = { 0,	31,  59,  90,  120, 151,
						   181, 212, 243, 273, 304, 334 };
	uint64_t days = 0;

	if (year < 1970 || month < 1 || month > 12 || day < 1)
		return 0;
	for (uint32_t y = 1970; y < year; y++)
		days += leap(y) ? 366 : 365;
	days += before_month[month - 1] + (month > 2 && leap(year)) + day - 1;
	return ((days * 24 + hour) * 60 + min) * 60 + sec;
}

void wallclock_set(uint64_t unix_seconds, uint64_t tsc, uint64_t tsc_khz)
{
	base_ns = unix_seconds * 1000000000ull;
	base_tsc = tsc;
	base_khz = tsc_khz ? tsc_khz : 1;
}

uint64_t wallclock_ns(uint64_t tsc)
{
	uint64_t delta = tsc > base_tsc ? tsc - base_tsc : 0;

	/* ns = delta * 10^6 / kHz, split so nothing overflows 64 bits. */
	return base_ns + delta / base_khz * 1000000ull + delta % base_khz * 1000000ull / base_khz;
}
