/* SPDX-License-Identifier: MIT */
/*
 * The small legacy ports of an emulated PC (docs/guest-devices.md):
 *
 *   0x60, 0x64  an i8042 that is absent except for its reset line: both
 *               ports read 0xff (Linux's i8042 probe then reports "no
 *               controller"); a pulse-output command with bit 0 clear
 *               (0xfe, as Linux's reboot=kbd writes) written to 0x64 resets
 *   0x61        system control port B: bits 3:0 read back, bit 4 toggles
 *               on every read (refresh), bit 5 the PIT channel 2 output
 *               (env.pit_out2, else 1), bits 7:6 (NMI sources) 0
 *   0x80        POST code: writes kept in `post`, reads 0xff
 *   0xe9        debug console: writes go to env.debug_putc, reads 0xe9
 *   0xcf9       reset control: reads return bits 3:1 last written; a
 *               write with bit 2 (RST_CPU) set resets
 *
 * Any other port is not claimed: the caller's empty-bus policy applies
 * (include/keel/vdev.h).
 */
#ifndef KEEL_VDEV_LEGACY_H
#define KEEL_VDEV_LEGACY_H

#include <keel/vdev.h>

#define VLEGACY_PORT_KBC_DATA 0x60
#define VLEGACY_PORT_SYSCTL_B 0x61
#define VLEGACY_PORT_KBC_CMD 0x64
#define VLEGACY_PORT_POST 0x80
#define VLEGACY_PORT_DEBUGCON 0xe9
#define VLEGACY_PORT_RESET 0xcf9

#define VLEGACY_CF9_SYS_RST 0x02
#define VLEGACY_CF9_RST_CPU 0x04
#define VLEGACY_CF9_FULL_RST 0x08

enum vlegacy_reset_source {
	VLEGACY_RESET_CF9, /* port 0xcf9 */
	VLEGACY_RESET_KBC, /* the i8042's reset line (port 0x64) */
};

struct vlegacy_env {
	void *ctx;
	/* A byte written to port 0xe9; may be NULL. */
	void (*debug_putc)(void *ctx, uint8_t c);
	/* The guest asked for a system reset; may be NULL. */
	void (*reset)(void *ctx, enum vlegacy_reset_source source, uint8_t value);
	/* PIT channel 2's output for port 0x61 bit 5; NULL: reads 1. */
	bool (*pit_out2)(void *ctx);
};

struct vlegacy {
	struct vlegacy_env env;
	uint8_t cf9;	  /* reset control bits 3:1 */
	uint8_t sysctl_b; /* port 0x61 bits 3:0 */
	bool refresh;	  /* port 0x61 bit 4 */
	uint8_t post;	  /* the last POST code (also Linux's I/O delay writes) */
};

void vlegacy_init(struct vlegacy *l, const struct vlegacy_env *env);

/* Whether the model answers this port. */
bool vlegacy_claims(uint16_t port);

/* Byte access to one of the ports above; -ENODEV for any other port. */
int vlegacy_io_read(struct vlegacy *l, uint16_t port, uint8_t *val);
int vlegacy_io_write(struct vlegacy *l, uint16_t port, uint8_t val);

#endif
