// SPDX-License-Identifier: MIT
/*
 * An emulated MC146818 RTC and CMOS memory (include/keel/vdev_cmos.h,
 * docs/guest-devices.md).
 *
 * Reading the time takes several register reads, and the clock must not
 * move between them: the registers show a latch of the clock, taken when
 * register A is read (software checks UIP before a read sequence), when a
 * time register is read a second time since the latch (the next sequence,
 * or a poll of one register), or when the latch is more than a second old.
 *
 * While register B's SET bit is set or the divider is held in reset the
 * clock stands still and the time registers hold what the guest writes;
 * the clock restarts from them (the guest's time is kept as an offset to
 * env.now()). The weekday follows the date once the clock runs.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vdev_cmos.h>

#define SECS_PER_DAY 86400

/* read_mask bits: registers 0-9 by index, the century byte as bit 10. */
#define CENTURY_BIT (1u << 10)

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d from 1). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				       /* [0, 399] */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* from March 1 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	       /* [0, 146096] */
	return era * 146097 + doe - 719468; /* 0000-03-01 to 1970-01-01: 719468 days */
}

void vcmos_time_to_tm(int64_t t, struct vcmos_tm *tm)
{
	int64_t days = t / SECS_PER_DAY, rem = t % SECS_PER_DAY;
	int64_t era, doe, yoe, doy, mp, y;

	if (rem < 0) {
		rem += SECS_PER_DAY;
		days--;
	}
	tm->hour = (uint8_t)(rem / 3600);
	tm->min = (uint8_t)(rem / 60 % 60);
	tm->sec = (uint8_t)(rem % 60);
	/* 1970-01-01 was a Thursday: weekday 5 with Sunday as 1. */
	tm->wday = (uint8_t)((days % 7 + 7 + 4) % 7 + 1);

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400;
	tm->year = (int32_t)(tm->mon <= 2 ? y + 1 : y);
}

/* Out-of-range fields (a guest's garbage) are folded in, not rejected. */
int64_t vcmos_tm_to_time(const struct vcmos_tm *tm)
{
	int64_t mon = MIN(MAX(tm->mon, 1), 12), mday = MAX(tm->mday, 1);

	return days_from_civil(tm->year, mon, mday) * SECS_PER_DAY + tm->hour * 3600ll +
	       tm->min * 60ll + tm->sec;
}

static bool binary(const struct vcmos *c)
{
	return c->ram[VCMOS_REG_B] & VCMOS_B_DM_BINARY;
}

static uint8_t encode(const struct vcmos *c, uint32_t v)
{
	if (binary(c))
		return (uint8_t)v;
	return (uint8_t)(((v / 10 % 10) << 4) | (v % 10));
}

static uint8_t decode(const struct vcmos *c, uint8_t v)
{
	if (binary(c))
		return v;
	return (uint8_t)((v >> 4) * 10 + (v & 0xf));
}

/* 12-hour format: 1-12, bit 7 set after noon. */
static uint8_t encode_hour(const struct vcmos *c, uint8_t hour)
{
	uint8_t h = hour % 12;

	if (c->ram[VCMOS_REG_B] & VCMOS_B_24H)
		return encode(c, hour);
	return encode(c, h ? h : 12) | (hour >= 12 ? 0x80 : 0);
}

static uint8_t decode_hour(const struct vcmos *c, uint8_t v)
{
	if (c->ram[VCMOS_REG_B] & VCMOS_B_24H)
		return decode(c, v);
	return (uint8_t)(decode(c, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0));
}

static bool running(const struct vcmos *c)
{
	return !(c->ram[VCMOS_REG_B] & VCMOS_B_SET) &&
	       (c->ram[VCMOS_REG_A] & 0x60) != 0x60; /* DV 11x: divider reset */
}

static int64_t clock_now(struct vcmos *c)
{
	return (int64_t)c->env.now(c->env.ctx) + c->offset;
}

static void latch(struct vcmos *c, int64_t t)
{
	vcmos_time_to_tm(t, &c->tm);
	c->latched = t;
	c->read_mask = 0;
}

/* The clock restarts from the time registers. */
static void commit(struct vcmos *c)
{
	int64_t t = vcmos_tm_to_time(&c->tm);

	c->offset = t - (int64_t)c->env.now(c->env.ctx);
	latch(c, t);
	c->uip_second = t;
	c->tick = t;
}

int64_t vcmos_guest_time(struct vcmos *c)
{
	return running(c) ? clock_now(c) : vcmos_tm_to_time(&c->tm);
}

static bool alarm_matches(const struct vcmos *c, int64_t t)
{
	static const uint8_t reg[3] = { VCMOS_SECONDS_ALARM, VCMOS_MINUTES_ALARM,
					VCMOS_HOURS_ALARM };
	struct vcmos_tm tm;
	uint8_t now[3];

	vcmos_time_to_tm(t, &tm);
	now[0] = tm.sec;
	now[1] = tm.min;
	now[2] = tm.hour;
	for (int i = 0; i < 3; i++) {
		uint8_t a = c->ram[reg[i]];

		if ((a & 0xc0) == 0xc0)
			continue; /* "don't care" */
		if ((i == 2 ? decode_hour(c, a) : decode(c, a)) != now[i])
			return false;
	}
	return true;
}

static void update_irq(struct vcmos *c)
{
	bool level = c->flags & c->ram[VCMOS_REG_B] & (VCMOS_B_PIE | VCMOS_B_AIE | VCMOS_B_UIE);

	if (level == c->irq)
		return;
	c->irq = level;
	if (c->env.set_irq)
		c->env.set_irq(c->env.ctx, level);
}

/* An update cycle ended for every second since the last call. */
static void catch_up(struct vcmos *c)
{
	int64_t t, s;

	if (!running(c))
		return;
	t = clock_now(c);
	if (t == c->tick)
		return;
	/* The alarm is looked for in the last few seconds only (a late poll). */
	for (s = MAX(c->tick + 1, t - 3); s <= t; s++)
		if (alarm_matches(c, s))
			c->flags |= VCMOS_C_AF;
	c->flags |= VCMOS_C_UF;
	c->tick = t;
}

void vcmos_poll(struct vcmos *c)
{
	catch_up(c);
	update_irq(c);
}

bool vcmos_wants_poll(const struct vcmos *c)
{
	return c->ram[VCMOS_REG_B] & (VCMOS_B_AIE | VCMOS_B_UIE);
}

static uint16_t time_bit(uint8_t idx)
{
	return idx == VCMOS_CENTURY ? CENTURY_BIT : (uint16_t)(1u << idx);
}

static bool is_time_reg(uint8_t idx)
{
	return idx == VCMOS_CENTURY || (idx <= VCMOS_YEAR && idx != VCMOS_SECONDS_ALARM &&
					idx != VCMOS_MINUTES_ALARM && idx != VCMOS_HOURS_ALARM);
}

static uint8_t read_time(struct vcmos *c, uint8_t idx)
{
	if (running(c)) {
		int64_t t = clock_now(c);
		uint16_t bit = time_bit(idx);

		if ((c->read_mask & bit) || t - c->latched > 1 || t < c->latched)
			latch(c, t);
		c->read_mask |= bit;
	}
	switch (idx) {
	case VCMOS_SECONDS:
		return encode(c, c->tm.sec);
	case VCMOS_MINUTES:
		return encode(c, c->tm.min);
	case VCMOS_HOURS:
		return encode_hour(c, c->tm.hour);
	case VCMOS_WEEKDAY:
		return encode(c, c->tm.wday);
	case VCMOS_DAY:
		return encode(c, c->tm.mday);
	case VCMOS_MONTH:
		return encode(c, c->tm.mon);
	case VCMOS_YEAR:
		return encode(c, (uint32_t)c->tm.year % 100);
	default:
		return encode(c, (uint32_t)c->tm.year / 100 % 100);
	}
}

static void write_time(struct vcmos *c, uint8_t idx, uint8_t val)
{
	bool run = running(c);

	if (run) {
		catch_up(c);
		latch(c, clock_now(c));
	}
	switch (idx) {
	case VCMOS_SECONDS:
		c->tm.sec = decode(c, val);
		break;
	case VCMOS_MINUTES:
		c->tm.min = decode(c, val);
		break;
	case VCMOS_HOURS:
		c->tm.hour = decode_hour(c, val);
		break;
	case VCMOS_WEEKDAY:
		/* Held while the clock stands; otherwise follows the date. */
		c->tm.wday = decode(c, val);
		break;
	case VCMOS_DAY:
		c->tm.mday = decode(c, val);
		break;
	case VCMOS_MONTH:
		c->tm.mon = decode(c, val);
		break;
	case VCMOS_YEAR:
		c->tm.year = c->tm.year / 100 * 100 + decode(c, val);
		break;
	default:
		c->tm.year = decode(c, val) * 100 + c->tm.year % 100;
		break;
	}
	if (run)
		commit(c);
}

/* Register A or B changed: the clock stops (the registers hold it) or restarts. */
static void set_control(struct vcmos *c, uint8_t idx, uint8_t val)
{
	bool was_running = running(c);

	if (was_running) {
		catch_up(c);
		latch(c, clock_now(c));
	}
	c->ram[idx] = val;
	if (!was_running && running(c))
		commit(c);
}

static uint8_t read_data(struct vcmos *c)
{
	uint8_t idx = c->index, val;

	if (is_time_reg(idx))
		return read_time(c, idx);
	switch (idx) {
	case VCMOS_REG_A:
		val = c->ram[VCMOS_REG_A];
		if (running(c)) {
			int64_t t = clock_now(c);

			/* The first read of A in a new second sees the update. */
			if (t != c->uip_second)
				val |= VCMOS_A_UIP;
			c->uip_second = t;
			latch(c, t);
		}
		return val;
	case VCMOS_REG_C:
		catch_up(c);
		val = c->flags;
		if (c->flags & c->ram[VCMOS_REG_B] & (VCMOS_B_PIE | VCMOS_B_AIE | VCMOS_B_UIE))
			val |= VCMOS_C_IRQF;
		c->flags = 0;
		update_irq(c);
		return val;
	case VCMOS_REG_D:
		return VCMOS_D_VRT;
	default:
		return c->ram[idx];
	}
}

static void write_data(struct vcmos *c, uint8_t val)
{
	uint8_t idx = c->index;

	if (is_time_reg(idx)) {
		write_time(c, idx, val);
		return;
	}
	switch (idx) {
	case VCMOS_REG_A:
		set_control(c, idx, val & 0x7f); /* UIP is read-only */
		break;
	case VCMOS_REG_B:
		/* Setting SET clears UIE. */
		set_control(c, idx, val & VCMOS_B_SET ? val & ~VCMOS_B_UIE : val);
		update_irq(c);
		break;
	case VCMOS_REG_C:
	case VCMOS_REG_D:
		break; /* read-only */
	default:
		c->ram[idx] = val;
		break;
	}
}

void vcmos_init(struct vcmos *c, const struct vcmos_env *env)
{
	int64_t t;

	memset(c, 0, sizeof(*c));
	c->env = *env;
	c->ram[VCMOS_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	c->ram[VCMOS_REG_B] = VCMOS_B_24H;
	t = clock_now(c);
	latch(c, t);
	c->uip_second = t;
	c->tick = t;
}

int vcmos_io_read(struct vcmos *c, uint16_t offset, uint8_t *val)
{
	switch (offset) {
	case 0:
		*val = VDEV_EMPTY_BUS_BYTE; /* the index register is write-only */
		return 0;
	case 1:
		*val = read_data(c);
		return 0;
	default:
		return -EINVAL;
	}
}

int vcmos_io_write(struct vcmos *c, uint16_t offset, uint8_t val)
{
	switch (offset) {
	case 0:
		c->index = val & 0x7f; /* bit 7 masks NMIs on a PC: ignored */
		return 0;
	case 1:
		write_data(c, val);
		return 0;
	default:
		return -EINVAL;
	}
}
