/* SPDX-License-Identifier: MIT */
/*
 * An emulated MC146818 RTC and CMOS memory (docs/guest-devices.md): index
 * port 0x70 (offset 0; bit 7, the NMI mask, is ignored) and data port 0x71
 * (offset 1), 128 bytes.
 *
 * The clock is env.now() plus an offset the guest sets by writing the time
 * registers. Registers 0-9 and the century byte 0x32 read in BCD or binary
 * and 12- or 24-hour format as register B says. Register A's UIP bit reads 1
 * once per second at most (the first read of A after the second changed),
 * so loops waiting on either edge of it finish. Update-ended and alarm
 * flags are set in register C, with an interrupt when B enables them;
 * periodic interrupts are not generated. The other bytes are plain memory.
 */
#ifndef KEEL_VDEV_CMOS_H
#define KEEL_VDEV_CMOS_H

#include <keel/vdev.h>

#define VCMOS_SECONDS 0x00
#define VCMOS_SECONDS_ALARM 0x01
#define VCMOS_MINUTES 0x02
#define VCMOS_MINUTES_ALARM 0x03
#define VCMOS_HOURS 0x04
#define VCMOS_HOURS_ALARM 0x05
#define VCMOS_WEEKDAY 0x06 /* 1 = Sunday */
#define VCMOS_DAY 0x07
#define VCMOS_MONTH 0x08
#define VCMOS_YEAR 0x09
#define VCMOS_REG_A 0x0a
#define VCMOS_REG_B 0x0b
#define VCMOS_REG_C 0x0c
#define VCMOS_REG_D 0x0d
#define VCMOS_CENTURY 0x32 /* the ACPI FADT's CENTURY field should name it */

#define VCMOS_A_UIP 0x80
#define VCMOS_A_DV 0x70 /* divider: 0x20 runs, 0x60/0x70 hold the clock in reset */
#define VCMOS_B_SET 0x80
#define VCMOS_B_PIE 0x40
#define VCMOS_B_AIE 0x20
#define VCMOS_B_UIE 0x10
#define VCMOS_B_DM_BINARY 0x04
#define VCMOS_B_24H 0x02
#define VCMOS_C_IRQF 0x80
#define VCMOS_C_AF 0x20
#define VCMOS_C_UF 0x10
#define VCMOS_D_VRT 0x80

struct vcmos_env {
	void *ctx;
	/* The wall clock: seconds since 1970-01-01 00:00:00 UTC. */
	uint64_t (*now)(void *ctx);
	/* IRQ 8: register C's IRQF (see include/keel/vdev.h); may be NULL. */
	void (*set_irq)(void *ctx, bool level);
};

/* Broken-down time, binary: the clock as the time registers show it. */
struct vcmos_tm {
	int32_t year;				 /* full year: century * 100 + register 9 */
	uint8_t mon, mday, wday, hour, min, sec; /* mon 1-12, wday 1-7 (Sunday 1) */
};

struct vcmos {
	struct vcmos_env env;
	uint8_t index;
	/* Registers A-D, the alarms and the NVRAM; the time bytes live in tm. */
	uint8_t ram[128];
	int64_t offset;	    /* guest time = now() + offset */
	struct vcmos_tm tm; /* latched (while running) or held (SET, divider reset) */
	int64_t latched;    /* the guest time tm was latched at */
	uint16_t read_mask; /* time registers read since the latch */
	int64_t uip_second; /* the guest second of the last read of register A */
	int64_t tick;	    /* the guest second UF/AF were last brought up to */
	uint8_t flags;	    /* register C bits 6:4 */
	bool irq;
};

/* Power-on: 24-hour BCD, the clock at env.now(), NVRAM zeroed. */
void vcmos_init(struct vcmos *c, const struct vcmos_env *env);

/* Offset 0 (port 0x70) or 1 (port 0x71); -EINVAL for another offset. */
int vcmos_io_read(struct vcmos *c, uint16_t offset, uint8_t *val);
int vcmos_io_write(struct vcmos *c, uint16_t offset, uint8_t val);

/*
 * Bring register C's update-ended and alarm flags up to date and the
 * interrupt with them. Reading C does this too; call it at least once a
 * second while vcmos_wants_poll() so an interrupt-driven guest gets them.
 */
void vcmos_poll(struct vcmos *c);
bool vcmos_wants_poll(const struct vcmos *c);

/* The guest's RTC time in seconds since 1970 (what the registers hold). */
int64_t vcmos_guest_time(struct vcmos *c);

/* Calendar conversions (proleptic Gregorian, UTC), exposed for tests. */
void vcmos_time_to_tm(int64_t t, struct vcmos_tm *tm);
int64_t vcmos_tm_to_time(const struct vcmos_tm *tm);

#endif
