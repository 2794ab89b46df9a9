/* SPDX-License-Identifier: MIT */
/*
 * Emulated devices of a guest partition (docs/guest-devices.md).
 *
 * Each model is pure state: no hardware access, no allocation, no locks. The
 * I/O-exit code calls its X_io_read()/X_io_write() with a register offset or
 * port and one byte (wider accesses are split into bytes by the caller, as
 * the ISA bus does), holding one lock per device instance. A model reaches
 * the outside only through the callbacks in its env struct, which it calls
 * from inside X_io_read()/X_io_write(), with that lock still held.
 *
 * Interrupt outputs are reported as a level: set_irq(ctx, true) when the
 * device's interrupt request becomes asserted, set_irq(ctx, false) when it
 * is withdrawn, each only on a change. ISA interrupts are edge-triggered, so
 * the caller raises the interrupt on a false -> true change; a level that
 * stays high makes no second edge, as on a PC.
 */
#ifndef KEEL_VDEV_H
#define KEEL_VDEV_H

#include <keel/types.h>

/* What a read of an empty bus returns, per byte: the data lines float high. */
#define VDEV_EMPTY_BUS_BYTE 0xff

/*
 * The empty-bus policy's memory: the first access to each unassigned port
 * or MMIO page of a partition is logged, later ones are not. A fixed table
 * of keys, filled without a lock (vCPUs of one partition may race; each key
 * is still reported once). When the table is full, new keys are counted in
 * `dropped` and not reported.
 */
#define VDEV_UNASSIGNED_SLOTS 128

/* Keys: ports and MMIO pages do not collide. */
#define VDEV_UNASSIGNED_PORT(port) ((1ull << 62) | (uint64_t)(uint16_t)(port))
#define VDEV_UNASSIGNED_MSR(msr) ((2ull << 62) | (uint64_t)(uint32_t)(msr))
#define VDEV_UNASSIGNED_MMIO(gpa) ((uint64_t)(gpa)&0x000ffffffffff000ull)

struct vdev_unassigned_log {
	uint64_t slot[VDEV_UNASSIGNED_SLOTS]; /* key | bit 63; 0: free */
	uint32_t dropped;
};

/*
 * True exactly once per key (the caller logs the access then); false for a
 * key seen before, and for any new key once the table is full. A zeroed
 * struct is an empty log. Implemented in hv/vdev/legacy.c.
 */
bool vdev_unassigned_first_time(struct vdev_unassigned_log *log, uint64_t key);

#endif
