/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg, QEMU's firmware configuration interface, through its I/O ports
 * (docs/guest-devices.md): a 16-bit write to the selector port 0x510 picks
 * an item and rewinds it; each one-byte read of 0x511 (or 0x510) returns
 * the item's next byte, 0 past its end. Items: the signature "QEMU", the
 * interface ID (traditional I/O only, no DMA), the RAM size, the CPU count
 * and its maximum, and an empty file directory. No write, no DMA. Like
 * debug-exit, it takes accesses whole, since a selector write is 16 bits.
 */
#ifndef KEEL_VDEV_FW_CFG_H
#define KEEL_VDEV_FW_CFG_H

#include <keel/vdev.h>

#define VFWCFG_PORT_SELECTOR 0x510
#define VFWCFG_PORT_DATA 0x511

/* Item keys (QEMU's docs/specs/fw_cfg.rst). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19

#define FW_CFG_ID_TRADITIONAL 1u /* bit 0: the I/O port interface */

struct vfwcfg {
	uint16_t nr_cpus;
	uint64_t ram_size; /* bytes */
	uint16_t selector;
	uint32_t offset; /* the next byte of the selected item */
};

void vfwcfg_init(struct vfwcfg *f, uint16_t nr_cpus, uint64_t ram_size);
/* Does the device decode port? */
bool vfwcfg_claims(uint16_t port);
/*
 * An access of size bytes at port: a 2-byte write to the selector
 * selects; a 1-byte read returns the next data byte. Other accesses are
 * not decoded (-EINVAL: the caller treats them as the empty bus).
 */
int vfwcfg_io(struct vfwcfg *f, uint16_t port, unsigned int size, bool in, uint32_t *val);

#endif
