// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/vdev/fw_cfg.c: the items a test kernel reads (the
 * signature, the interface ID, the CPU count, the RAM size, the file
 * directory), reads past an item's end, and the accesses QEMU refuses.
 */
#include "test.h"

#include <keel/errno.h>
#include <keel/vdev_fw_cfg.h>

static void select_key(struct vfwcfg *f, uint16_t key)
{
	uint32_t v = key;

	CHECK_EQ(vfwcfg_io(f, VFWCFG_PORT_SELECTOR, 2, false, &v), 0);
}

static uint8_t rd(struct vfwcfg *f)
{
	uint32_t v = 0xaaaa;

	CHECK_EQ(vfwcfg_io(f, VFWCFG_PORT_DATA, 1, true, &v), 0);
	CHECK(v <= 0xff);
	return (uint8_t)v;
}

static uint64_t rd_le(struct vfwcfg *f, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)rd(f) << (8 * i);
	return v;
}

TEST(signature_and_id)
{
	struct vfwcfg f;
	char sig[5] = { 0 };

	vfwcfg_init(&f, 2, 64ull << 20);
	select_key(&f, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)rd(&f);
	CHECK_STR(sig, "QEMU");
	CHECK_EQ(rd(&f), 0);
	select_key(&f, FW_CFG_ID);
	CHECK_EQ(rd_le(&f, 4), FW_CFG_ID_TRADITIONAL);
	/* Selecting again rewinds. */
	select_key(&f, FW_CFG_SIGNATURE);
	CHECK_EQ(rd(&f), 'Q');
}

TEST(cpus_and_ram)
{
	struct vfwcfg f;

	vfwcfg_init(&f, 3, (5ull << 30) + (16ull << 20));
	select_key(&f, FW_CFG_NB_CPUS);
	CHECK_EQ(rd_le(&f, 2), 3);
	CHECK_EQ(rd(&f), 0); /* past the end */
	select_key(&f, FW_CFG_MAX_CPUS);
	CHECK_EQ(rd_le(&f, 2), 3);
	select_key(&f, FW_CFG_RAM_SIZE);
	CHECK_EQ(rd_le(&f, 8), (5ull << 30) + (16ull << 20));
	CHECK_EQ(rd_le(&f, 4), 0);
	/* The selector port reads data too (QEMU's combined region). */
	select_key(&f, FW_CFG_NB_CPUS);
	{
		uint32_t v = 0;

		CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_SELECTOR, 1, true, &v), 0);
		CHECK_EQ(v, 3);
	}
}

TEST(file_dir_and_unknown_items)
{
	struct vfwcfg f;

	vfwcfg_init(&f, 1, 16ull << 20);
	select_key(&f, FW_CFG_FILE_DIR);
	CHECK_EQ(rd_le(&f, 4), 0); /* no files */
	select_key(&f, 0x8000);
	CHECK_EQ(rd_le(&f, 8), 0);
	select_key(&f, 0x4005); /* the write bit: still no such item */
	CHECK_EQ(rd(&f), 0);
}

TEST(accesses_not_decoded)
{
	struct vfwcfg f;
	uint32_t v = FW_CFG_NB_CPUS;

	vfwcfg_init(&f, 4, 16ull << 20);
	CHECK(vfwcfg_claims(0x510));
	CHECK(vfwcfg_claims(0x511));
	CHECK(!vfwcfg_claims(0x512));
	CHECK(!vfwcfg_claims(0x514)); /* DMA: not provided */
	CHECK_EQ(vfwcfg_io(&f, 0x512, 1, true, &v), -EINVAL);
	CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_DATA, 2, false, &v), -EINVAL);
	CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_SELECTOR, 2, true, &v), -EINVAL);
	CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_SELECTOR, 4, false, &v), -EINVAL);
	/* A byte write is a data write: ignored, the selection stays. */
	select_key(&f, FW_CFG_NB_CPUS);
	v = 0x55;
	CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_DATA, 1, false, &v), 0);
	CHECK_EQ(vfwcfg_io(&f, VFWCFG_PORT_SELECTOR, 1, false, &v), 0);
	CHECK_EQ(rd_le(&f, 2), 4);
}

TEST_MAIN(TEST_CASE(signature_and_id), TEST_CASE(cpus_and_ram),
	  TEST_CASE(file_dir_and_unknown_items), TEST_CASE(accesses_not_decoded))
