// SPDX-License-Identifier: MIT
/*
 * fw_cfg through I/O ports (include/keel/vdev_fw_cfg.h). The accesses
 * accepted are those QEMU's combined port region accepts (hw/nvram/fw_cfg.c,
 * fw_cfg_comb_valid): byte reads and writes at either port, a 16-bit write
 * at the selector. Byte writes are data writes, which QEMU ignores since
 * 2.4 (items are read-only); so does Keel.
 */
#include <keel/errno.h>
#include <keel/vdev_fw_cfg.h>

void vfwcfg_init(struct vfwcfg *f, uint16_t nr_cpus, uint64_t ram_size)
{
	f->nr_cpus = nr_cpus;
	f->ram_size = ram_size;
	f->selector = 0;
	f->offset = 0;
}

bool vfwcfg_claims(uint16_t port)
{
	return port == VFWCFG_PORT_SELECTOR || port == VFWCFG_PORT_DATA;
}

/* Byte offset of the selected item; 0 past its end (and for items Keel does not have). */
static uint8_t item_byte(const struct vfwcfg *f, uint16_t key, uint32_t offset)
{
	uint64_t v;
	uint32_t len;

	switch (key) {
	case FW_CFG_SIGNATURE:
		return offset < 4 ? (uint8_t) "QEMU"[offset] : 0;
	case FW_CFG_ID:
		v = FW_CFG_ID_TRADITIONAL;
		len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		v = f->ram_size;
		len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		v = f->nr_cpus;
		len = 2;
		break;
	case FW_CFG_FILE_DIR:
		/* A big-endian count of files, then the entries: no files. */
		return 0;
	default:
		return 0;
	}
	/* Numbers are little-endian (the file directory is the exception). */
	return offset < len ? (uint8_t)(v >> (8 * offset)) : 0;
}

int vfwcfg_io(struct vfwcfg *f, uint16_t port, unsigned int size, bool in, uint32_t *val)
{
	if (!vfwcfg_claims(port))
		return -EINVAL;
	if (!in && size == 2 && port == VFWCFG_PORT_SELECTOR) {
		f->selector = (uint16_t)*val;
		f->offset = 0;
		return 0;
	}
	if (size != 1)
		return -EINVAL;
	if (!in)
		return 0;
	*val = item_byte(f, f->selector, f->offset);
	if (f->offset != UINT32_MAX)
		f->offset++;
	return 0;
}
