// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/vdev/cmos.c: the time registers in BCD and binary, 12-
 * and 24-hour format at fixed times, the calendar against the C library's
 * gmtime_r(), setting the clock the way Linux's mc146818_set_time() does,
 * UIP, the read latch, register C and the NVRAM.
 */
#include "test.h"

#include <time.h>

#include <keel/errno.h>
#include <keel/vdev_cmos.h>

#define T_2026_11_21_140509 1795269909ll  /* a Saturday */
#define T_2000_01_01 946684800ll	  /* a Saturday */
#define T_2024_02_29_120000 1709208000ll  /* a Thursday */
#define T_2000_02_29_235959 951868799ll	  /* a Tuesday */
#define T_2026_12_31_235959 1798761599ll  /* a Thursday */
#define T_2030_06_15_083000 1907742600ll  /* a Saturday */
#define T_1969_07_20_201740 (-14182940ll) /* a Sunday */

struct clock {
	uint64_t now;
	bool level;
	int rises, bad_calls;
};

static struct clock clk;

static uint64_t clock_now(void *ctx)
{
	return ((struct clock *)ctx)->now;
}

static void clock_irq(void *ctx, bool level)
{
	struct clock *c = ctx;

	if (level == c->level)
		c->bad_calls++;
	c->level = level;
	c->rises += level;
}

static void setup(struct vcmos *c, int64_t t)
{
	const struct vcmos_env env = { &clk, clock_now, clock_irq };

	memset(&clk, 0, sizeof(clk));
	clk.now = (uint64_t)t;
	vcmos_init(c, &env);
}

static uint8_t rd(struct vcmos *c, uint8_t idx)
{
	uint8_t v = 0x5a;

	CHECK_EQ(vcmos_io_write(c, 0, idx), 0);
	CHECK_EQ(vcmos_io_read(c, 1, &v), 0);
	return v;
}

static void wr(struct vcmos *c, uint8_t idx, uint8_t val)
{
	CHECK_EQ(vcmos_io_write(c, 0, idx), 0);
	CHECK_EQ(vcmos_io_write(c, 1, val), 0);
}

/* The registers as Linux's mc146818_get_time() reads them, after register A. */
struct regs {
	uint8_t sec, min, hour, wday, mday, mon, year, century;
};

static struct regs read_all(struct vcmos *c)
{
	struct regs r;

	rd(c, VCMOS_REG_A);
	r.sec = rd(c, VCMOS_SECONDS);
	r.min = rd(c, VCMOS_MINUTES);
	r.hour = rd(c, VCMOS_HOURS);
	r.wday = rd(c, VCMOS_WEEKDAY);
	r.mday = rd(c, VCMOS_DAY);
	r.mon = rd(c, VCMOS_MONTH);
	r.year = rd(c, VCMOS_YEAR);
	r.century = rd(c, VCMOS_CENTURY);
	return r;
}

#define CHECK_REGS(r, s, mi, h, w, d, mo, y, cen)                                                  \
	do {                                                                                       \
		CHECK_EQ((r).sec, s);                                                              \
		CHECK_EQ((r).min, mi);                                                             \
		CHECK_EQ((r).hour, h);                                                             \
		CHECK_EQ((r).wday, w);                                                             \
		CHECK_EQ((r).mday, d);                                                             \
		CHECK_EQ((r).mon, mo);                                                             \
		CHECK_EQ((r).year, y);                                                             \
		CHECK_EQ((r).century, cen);                                                        \
	} while (0)

TEST(power_on_registers)
{
	struct vcmos c;
	uint8_t v;

	setup(&c, T_2026_11_21_140509);
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0x26);
	CHECK_EQ(rd(&c, VCMOS_REG_B), 0x02); /* 24-hour, BCD */
	CHECK_EQ(rd(&c, VCMOS_REG_C), 0x00);
	CHECK_EQ(rd(&c, VCMOS_REG_D), 0x80); /* valid RAM and time */
	CHECK_EQ(vcmos_io_read(&c, 0, &v), 0);
	CHECK_EQ(v, 0xff); /* the index register is write-only */
	CHECK_EQ(vcmos_io_read(&c, 2, &v), -EINVAL);
	CHECK_EQ(vcmos_io_write(&c, 2, 0), -EINVAL);
	CHECK_EQ(vcmos_guest_time(&c), T_2026_11_21_140509);
}

TEST(bcd_24h)
{
	struct vcmos c;
	struct regs r;

	setup(&c, T_2026_11_21_140509);
	r = read_all(&c);
	CHECK_REGS(r, 0x09, 0x05, 0x14, 0x07, 0x21, 0x11, 0x26, 0x20);
	clk.now = T_2000_01_01;
	r = read_all(&c);
	CHECK_REGS(r, 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20);
	clk.now = T_2024_02_29_120000;
	r = read_all(&c);
	CHECK_REGS(r, 0x00, 0x00, 0x12, 0x05, 0x29, 0x02, 0x24, 0x20);
	clk.now = T_2000_02_29_235959;
	r = read_all(&c);
	CHECK_REGS(r, 0x59, 0x59, 0x23, 0x03, 0x29, 0x02, 0x00, 0x20);
	clk.now = 0;
	r = read_all(&c);
	CHECK_REGS(r, 0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x70, 0x19);
}

TEST(binary_24h)
{
	struct vcmos c;
	struct regs r;

	setup(&c, T_2026_11_21_140509);
	wr(&c, VCMOS_REG_B, VCMOS_B_24H | VCMOS_B_DM_BINARY);
	r = read_all(&c);
	CHECK_REGS(r, 9, 5, 14, 7, 21, 11, 26, 20);
	clk.now = T_2000_02_29_235959;
	r = read_all(&c);
	CHECK_REGS(r, 59, 59, 23, 3, 29, 2, 0, 20);
	/* Changing the format does not move the clock. */
	wr(&c, VCMOS_REG_B, VCMOS_B_24H);
	CHECK_EQ(rd(&c, VCMOS_MINUTES), 0x59);
	CHECK_EQ(vcmos_guest_time(&c), T_2000_02_29_235959);
}

TEST(twelve_hour)
{
	struct vcmos c;

	setup(&c, T_2026_11_21_140509);
	wr(&c, VCMOS_REG_B, 0x00);	     /* 12-hour BCD */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x82); /* 2 PM */
	clk.now = T_2000_01_01;		     /* midnight: 12 AM */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x12);
	clk.now = T_2000_01_01 + 3600; /* 1 AM */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x01);
	clk.now = T_2024_02_29_120000; /* noon: 12 PM */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x92);
	clk.now = T_2000_02_29_235959; /* 11 PM */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x91);
	wr(&c, VCMOS_REG_B, VCMOS_B_DM_BINARY); /* 12-hour binary */
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x8b);
	clk.now = T_2000_01_01;
	CHECK_EQ(rd(&c, VCMOS_HOURS), 12);
	clk.now = T_2024_02_29_120000;
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x8c);
}

TEST(calendar_matches_gmtime)
{
	int bad = 0;

	/* Every 7 hours 13 minutes and 7 seconds from 1900 to 2400. */
	for (int64_t t = -2208988800ll; t < 13569465600ll; t += 7 * 3600 + 13 * 60 + 7) {
		struct vcmos_tm tm;
		struct tm ref;
		time_t tt = (time_t)t;

		vcmos_time_to_tm(t, &tm);
		gmtime_r(&tt, &ref);
		if (tm.year != ref.tm_year + 1900 || tm.mon != ref.tm_mon + 1 ||
		    tm.mday != ref.tm_mday || tm.hour != ref.tm_hour || tm.min != ref.tm_min ||
		    tm.sec != ref.tm_sec || tm.wday != ref.tm_wday + 1 ||
		    vcmos_tm_to_time(&tm) != t)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(out_of_range_fields_fold_in)
{
	struct vcmos_tm tm = { 2023, 2, 29, 1, 0, 0, 0 }; /* no such day: March 1 */
	struct vcmos_tm out;

	vcmos_time_to_tm(vcmos_tm_to_time(&tm), &out);
	CHECK_EQ(out.mon, 3);
	CHECK_EQ(out.mday, 1);
	tm.mon = 0; /* month 0 is taken as January */
	tm.mday = 0;
	vcmos_time_to_tm(vcmos_tm_to_time(&tm), &out);
	CHECK_EQ(out.mon, 1);
	CHECK_EQ(out.mday, 1);
}

/* Linux's mc146818_set_time(): SET, divider reset, the registers, then both released. */
TEST(set_time_like_linux)
{
	struct vcmos c;
	uint8_t save_control, save_freq_select;

	setup(&c, T_2026_11_21_140509);
	save_control = rd(&c, VCMOS_REG_B);
	wr(&c, VCMOS_REG_B, save_control | VCMOS_B_SET);
	save_freq_select = rd(&c, VCMOS_REG_A);
	wr(&c, VCMOS_REG_A, save_freq_select | 0x70);
	wr(&c, VCMOS_YEAR, 0x30);
	wr(&c, VCMOS_MONTH, 0x06);
	wr(&c, VCMOS_DAY, 0x15);
	wr(&c, VCMOS_HOURS, 0x08);
	wr(&c, VCMOS_MINUTES, 0x30);
	wr(&c, VCMOS_SECONDS, 0x00);
	wr(&c, VCMOS_CENTURY, 0x20);
	/* The clock stands while SET: the registers hold what was written. */
	clk.now += 100;
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x00);
	CHECK_EQ(rd(&c, VCMOS_MINUTES), 0x30);
	CHECK_EQ(rd(&c, VCMOS_REG_A) & VCMOS_A_UIP, 0);
	wr(&c, VCMOS_REG_B, save_control);
	clk.now += 7; /* still held: the divider is in reset */
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x00);
	wr(&c, VCMOS_REG_A, save_freq_select);
	CHECK_EQ(vcmos_guest_time(&c), T_2030_06_15_083000);
	clk.now += 5;
	CHECK_EQ(vcmos_guest_time(&c), T_2030_06_15_083000 + 5);
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x05);
	CHECK_EQ(rd(&c, VCMOS_WEEKDAY), 0x07); /* follows the date */
	CHECK_EQ(rd(&c, VCMOS_REG_A) & 0x7f, 0x26);
	CHECK_EQ(rd(&c, VCMOS_REG_B), 0x02);
}

TEST(set_time_binary_12h)
{
	struct vcmos c;

	setup(&c, T_2000_01_01);
	wr(&c, VCMOS_REG_B, VCMOS_B_SET | VCMOS_B_DM_BINARY);
	wr(&c, VCMOS_HOURS, 0x80 | 8); /* 8 PM */
	wr(&c, VCMOS_MINUTES, 17);
	wr(&c, VCMOS_SECONDS, 40);
	wr(&c, VCMOS_DAY, 20);
	wr(&c, VCMOS_MONTH, 7);
	wr(&c, VCMOS_YEAR, 69);
	wr(&c, VCMOS_CENTURY, 19);
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x88);
	wr(&c, VCMOS_REG_B, VCMOS_B_DM_BINARY);
	CHECK_EQ(vcmos_guest_time(&c), T_1969_07_20_201740);
	CHECK_EQ(rd(&c, VCMOS_WEEKDAY), 1);
	CHECK_EQ(rd(&c, VCMOS_YEAR), 69);
	CHECK_EQ(rd(&c, VCMOS_CENTURY), 19);
	/* 12 AM is hour 0. */
	wr(&c, VCMOS_HOURS, 12);
	CHECK_EQ(vcmos_guest_time(&c), T_1969_07_20_201740 - 20 * 3600);
}

TEST(write_while_running)
{
	struct vcmos c;

	setup(&c, T_2026_11_21_140509);
	wr(&c, VCMOS_MINUTES, 0x45);
	CHECK_EQ(vcmos_guest_time(&c), T_2026_11_21_140509 + 40 * 60);
	clk.now += 3;
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x12);
	CHECK_EQ(rd(&c, VCMOS_MINUTES), 0x45);
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x14);
	/* The century byte moves the year by centuries. */
	wr(&c, VCMOS_CENTURY, 0x21);
	CHECK_EQ(rd(&c, VCMOS_YEAR), 0x26);
	CHECK_EQ(rd(&c, VCMOS_CENTURY), 0x21);
	wr(&c, VCMOS_CENTURY, 0x20);
	/* A weekday written while the clock runs is replaced by the date's. */
	wr(&c, VCMOS_WEEKDAY, 0x02);
	CHECK_EQ(rd(&c, VCMOS_WEEKDAY), 0x07);
	CHECK_EQ(vcmos_guest_time(&c), T_2026_11_21_140509 + 40 * 60 + 3);
}

TEST(uip_is_brief)
{
	struct vcmos c;

	setup(&c, T_2026_11_21_140509);
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0x26);
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0x26);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0xa6); /* the first read in a new second */
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0x26);
	/* A write to A cannot set UIP. */
	wr(&c, VCMOS_REG_A, 0xa6);
	CHECK_EQ(rd(&c, VCMOS_REG_A), 0x26);
	/* A loop waiting for UIP to rise, then to fall, ends within two reads. */
	clk.now++;
	int reads = 0;
	while (!(rd(&c, VCMOS_REG_A) & VCMOS_A_UIP) && reads < 10)
		reads++;
	while ((rd(&c, VCMOS_REG_A) & VCMOS_A_UIP) && reads < 10)
		reads++;
	CHECK(reads < 2);
}

/* Linux's mc146818_avoid_UIP(): seconds, UIP, seconds again, the rest, UIP, seconds. */
TEST(linux_avoid_uip_sequence)
{
	struct vcmos c;
	int tries = 0;
	bool ok = false;
	struct regs r = { 0 };

	setup(&c, T_2026_12_31_235959);
	while (!ok && tries++ < 100) {
		uint8_t seconds = rd(&c, VCMOS_SECONDS);

		if (rd(&c, VCMOS_REG_A) & VCMOS_A_UIP)
			continue;
		if (seconds != rd(&c, VCMOS_SECONDS))
			continue;
		r.sec = rd(&c, VCMOS_SECONDS);
		r.min = rd(&c, VCMOS_MINUTES);
		clk.now += tries == 1; /* the year turns over during the first try */
		r.hour = rd(&c, VCMOS_HOURS);
		r.mday = rd(&c, VCMOS_DAY);
		r.mon = rd(&c, VCMOS_MONTH);
		r.year = rd(&c, VCMOS_YEAR);
		rd(&c, VCMOS_REG_B);
		r.century = rd(&c, VCMOS_CENTURY);
		if (rd(&c, VCMOS_REG_A) & VCMOS_A_UIP)
			continue;
		ok = seconds == rd(&c, VCMOS_SECONDS);
	}
	CHECK(ok);
	CHECK_EQ(tries, 2); /* UIP made the first try start again */
	CHECK_EQ(r.sec, 0x00);
	CHECK_EQ(r.min, 0x00);
	CHECK_EQ(r.hour, 0x00);
	CHECK_EQ(r.mday, 0x01);
	CHECK_EQ(r.mon, 0x01);
	CHECK_EQ(r.year, 0x27);
	CHECK_EQ(r.century, 0x20);
}

TEST(read_sequence_is_latched)
{
	struct vcmos c;

	setup(&c, T_2026_12_31_235959);
	/* The year turns over in the middle of a read sequence: no mix of the two. */
	rd(&c, VCMOS_REG_A);
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x59);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_MINUTES), 0x59);
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x23);
	CHECK_EQ(rd(&c, VCMOS_DAY), 0x31);
	CHECK_EQ(rd(&c, VCMOS_MONTH), 0x12);
	CHECK_EQ(rd(&c, VCMOS_YEAR), 0x26);
	/* In any order: year first, seconds last. */
	clk.now = T_2026_12_31_235959;
	rd(&c, VCMOS_REG_A);
	CHECK_EQ(rd(&c, VCMOS_YEAR), 0x26);
	CHECK_EQ(rd(&c, VCMOS_MONTH), 0x12);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_DAY), 0x31);
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x59);
	/* The next sequence (a register read again) sees the new time. */
	CHECK_EQ(rd(&c, VCMOS_YEAR), 0x27);
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x00);
	/* Polling one register follows the clock. */
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x01);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_SECONDS), 0x02);
	/* A latch older than a second is not used. */
	clk.now += 3600;
	CHECK_EQ(rd(&c, VCMOS_HOURS), 0x01);
}

TEST(update_and_alarm_flags)
{
	struct vcmos c;

	setup(&c, T_2026_11_21_140509);
	CHECK_EQ(rd(&c, VCMOS_REG_C), 0x00);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_UF); /* no IRQF: UIE is off */
	CHECK_EQ(rd(&c, VCMOS_REG_C), 0x00);
	CHECK(!vcmos_wants_poll(&c));

	/* Update-ended interrupt. */
	wr(&c, VCMOS_REG_B, VCMOS_B_24H | VCMOS_B_UIE);
	CHECK(vcmos_wants_poll(&c));
	vcmos_poll(&c);
	CHECK(!clk.level);
	clk.now++;
	vcmos_poll(&c);
	CHECK(clk.level);
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_IRQF | VCMOS_C_UF);
	CHECK(!clk.level);

	/* Alarm at 14:05:13, two seconds from now. */
	wr(&c, VCMOS_REG_B, VCMOS_B_24H | VCMOS_B_AIE);
	wr(&c, VCMOS_HOURS_ALARM, 0x14);
	wr(&c, VCMOS_MINUTES_ALARM, 0x05);
	wr(&c, VCMOS_SECONDS_ALARM, 0x13);
	rd(&c, VCMOS_REG_C);
	clk.now++;
	vcmos_poll(&c);
	CHECK(!clk.level);
	clk.now++;
	vcmos_poll(&c);
	CHECK(clk.level);
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_IRQF | VCMOS_C_AF | VCMOS_C_UF);
	/* A poll that comes late still finds it: alarm at 14:06:13, looked at 14:06:14. */
	clk.now += 58;
	rd(&c, VCMOS_REG_C);
	wr(&c, VCMOS_MINUTES_ALARM, 0x06);
	clk.now += 3;
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_IRQF | VCMOS_C_AF | VCMOS_C_UF);
	/* "Don't care" (0xc0-0xff) matches every value: an alarm each second. */
	wr(&c, VCMOS_SECONDS_ALARM, 0xc0);
	wr(&c, VCMOS_MINUTES_ALARM, 0xff);
	wr(&c, VCMOS_HOURS_ALARM, 0xc0);
	clk.now++;
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_IRQF | VCMOS_C_AF | VCMOS_C_UF);
	/* Setting SET clears UIE. */
	wr(&c, VCMOS_REG_B, VCMOS_B_24H | VCMOS_B_UIE | VCMOS_B_SET);
	CHECK_EQ(rd(&c, VCMOS_REG_B), VCMOS_B_24H | VCMOS_B_SET);
	CHECK_EQ(clk.bad_calls, 0);
}

TEST(index_and_nvram)
{
	struct vcmos c;

	setup(&c, T_2026_11_21_140509);
	/* Bit 7 of the index (NMI disable) is ignored. */
	CHECK_EQ(vcmos_io_write(&c, 0, 0x80 | 0x0e), 0);
	CHECK_EQ(vcmos_io_write(&c, 1, 0x42), 0);
	CHECK_EQ(rd(&c, 0x0e), 0x42);
	CHECK_EQ(vcmos_io_write(&c, 0, 0x80 | VCMOS_SECONDS), 0);
	uint8_t v;
	CHECK_EQ(vcmos_io_read(&c, 1, &v), 0);
	CHECK_EQ(v, 0x09);
	for (int i = 0x0e; i < 0x80; i++)
		if (i != VCMOS_CENTURY)
			wr(&c, (uint8_t)i, (uint8_t)(i * 3));
	for (int i = 0x0e; i < 0x80; i++)
		if (i != VCMOS_CENTURY)
			CHECK_EQ(rd(&c, (uint8_t)i), (uint8_t)(i * 3));
	CHECK_EQ(rd(&c, VCMOS_CENTURY), 0x20);
	/* Alarm bytes are plain storage; C and D are read-only. */
	wr(&c, VCMOS_SECONDS_ALARM, 0x77);
	CHECK_EQ(rd(&c, VCMOS_SECONDS_ALARM), 0x77);
	wr(&c, VCMOS_REG_C, 0xff);
	wr(&c, VCMOS_REG_D, 0x00);
	CHECK_EQ(rd(&c, VCMOS_REG_C), 0x00);
	CHECK_EQ(rd(&c, VCMOS_REG_D), 0x80);
	CHECK_EQ(vcmos_guest_time(&c), T_2026_11_21_140509);
}

TEST(no_irq_callback)
{
	struct vcmos c;
	const struct vcmos_env env = { &clk, clock_now, NULL };

	clk.now = T_2000_01_01;
	vcmos_init(&c, &env);
	wr(&c, VCMOS_REG_B, VCMOS_B_24H | VCMOS_B_UIE);
	clk.now++;
	vcmos_poll(&c);
	CHECK_EQ(rd(&c, VCMOS_REG_C), VCMOS_C_IRQF | VCMOS_C_UF);
}

TEST_MAIN(TEST_CASE(power_on_registers), TEST_CASE(bcd_24h), TEST_CASE(binary_24h),
	  TEST_CASE(twelve_hour), TEST_CASE(calendar_matches_gmtime),
	  TEST_CASE(out_of_range_fields_fold_in), TEST_CASE(set_time_like_linux),
	  TEST_CASE(set_time_binary_12h), TEST_CASE(write_while_running), TEST_CASE(uip_is_brief),
	  TEST_CASE(linux_avoid_uip_sequence), TEST_CASE(read_sequence_is_latched),
	  TEST_CASE(update_and_alarm_flags), TEST_CASE(index_and_nvram), TEST_CASE(no_irq_callback))
