/* SPDX-License-Identifier: MIT */
/*
 * Wall-clock time for guests (kvm-clock's wall clock, the emulated RTC):
 * read once from the machine's RTC at boot, then carried forward with the
 * TSC.
 */
#ifndef KEEL_WALLCLOCK_H
#define KEEL_WALLCLOCK_H

#include <keel/types.h>

/* Seconds since 1970-01-01 00:00:00 UTC for a proleptic Gregorian date (year >= 1970). */
uint64_t wallclock_date_to_unix(uint32_t year, uint32_t month, uint32_t day, uint32_t hour,
				uint32_t min, uint32_t sec);

/* Remember that the wall clock read unix_seconds when the TSC read tsc. */
void wallclock_set(uint64_t unix_seconds, uint64_t tsc, uint64_t tsc_khz);
/* Nanoseconds since the epoch at TSC value tsc. */
uint64_t wallclock_ns(uint64_t tsc);

#endif
