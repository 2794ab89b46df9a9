/* SPDX-License-Identifier: MIT */
/*
 * The debug-exit device (docs/guest-devices.md), modelled on QEMU's
 * isa-debug-exit with iosize=4: four ports from a configurable base
 * (0xf4 by default). A write of value V, of any width, at any of them ends
 * the partition with status (V << 1) | 1; reads return 0. Unlike the
 * byte-wide models, it takes each access whole: the value written is the
 * access's full 8, 16 or 32 bits, as on QEMU.
 */
#ifndef KEEL_VDEV_DEBUG_EXIT_H
#define KEEL_VDEV_DEBUG_EXIT_H

#include <keel/vdev.h>

#define VDEBUG_EXIT_PORTS 4

struct vdebug_exit_env {
	void *ctx;
	/* The guest wrote value: the caller ends the partition with vdebug_exit_status(value). */
	void (*exit)(void *ctx, uint32_t value);
};

struct vdebug_exit {
	struct vdebug_exit_env env;
	uint16_t base; /* 0: no device */
	uint32_t writes;
};

/* The status QEMU's isa-debug-exit exits with for a write of value. */
static inline uint64_t vdebug_exit_status(uint32_t value)
{
	return ((uint64_t)value << 1) | 1;
}

void vdebug_exit_init(struct vdebug_exit *d, const struct vdebug_exit_env *env, uint16_t base);
/* Does the device decode port? */
bool vdebug_exit_claims(const struct vdebug_exit *d, uint16_t port);
/*
 * An access of size 1, 2 or 4 bytes at port (claimed): a write of *val
 * (the low size bytes) calls env.exit; a read sets *val to 0. 0, or
 * -EINVAL for a port or size the device does not take.
 */
int vdebug_exit_io(struct vdebug_exit *d, uint16_t port, unsigned int size, bool in, uint32_t *val);

#endif
