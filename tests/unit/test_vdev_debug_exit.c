// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/vdev/debug_exit.c: which ports it decodes, the value a
 * write of each width hands on, the status QEMU would exit with, reads.
 */
#include "test.h"

#include <keel/errno.h>
#include <keel/vdev_debug_exit.h>

static uint32_t exits, last;

static void guest_exited(void *ctx, uint32_t value)
{
	CHECK(ctx == &exits);
	exits++;
	last = value;
}

static void setup(struct vdebug_exit *d, uint16_t base)
{
	const struct vdebug_exit_env env = { &exits, guest_exited };

	exits = 0;
	last = 0xdeadbeef;
	vdebug_exit_init(d, &env, base);
}

TEST(ports)
{
	struct vdebug_exit d;

	setup(&d, 0xf4);
	CHECK(!vdebug_exit_claims(&d, 0xf3));
	for (uint16_t p = 0xf4; p < 0xf8; p++)
		CHECK(vdebug_exit_claims(&d, p));
	CHECK(!vdebug_exit_claims(&d, 0xf8));
	setup(&d, 0);
	CHECK(!vdebug_exit_claims(&d, 0));
	CHECK(!vdebug_exit_claims(&d, 0xf4));
	setup(&d, 0xfffc);
	CHECK(vdebug_exit_claims(&d, 0xffff));
	CHECK(!vdebug_exit_claims(&d, 0xfffb));
}

TEST(writes_of_each_width)
{
	struct vdebug_exit d;
	uint32_t v;

	setup(&d, 0xf4);
	v = 0x12345610;
	CHECK_EQ(vdebug_exit_io(&d, 0xf4, 1, false, &v), 0);
	CHECK_EQ(exits, 1);
	CHECK_EQ(last, 0x10);
	CHECK_EQ(vdebug_exit_status(last), 33);
	CHECK_EQ(vdebug_exit_io(&d, 0xf6, 2, false, &v), 0);
	CHECK_EQ(last, 0x5610);
	CHECK_EQ(vdebug_exit_io(&d, 0xf4, 4, false, &v), 0);
	CHECK_EQ(last, 0x12345610);
	CHECK_EQ(d.writes, 3);
	v = 0;
	CHECK_EQ(vdebug_exit_io(&d, 0xf7, 1, false, &v), 0);
	CHECK_EQ(last, 0);
	CHECK_EQ(vdebug_exit_status(0), 1);
	CHECK_EQ(vdebug_exit_status(0xffffffff), 0x1ffffffffull);
}

TEST(reads_and_bad_accesses)
{
	struct vdebug_exit d;
	uint32_t v = 0x55;

	setup(&d, 0x501);
	CHECK_EQ(vdebug_exit_io(&d, 0x501, 1, true, &v), 0);
	CHECK_EQ(v, 0);
	v = 7;
	CHECK_EQ(vdebug_exit_io(&d, 0x504, 4, true, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(exits, 0);
	CHECK_EQ(vdebug_exit_io(&d, 0x505, 1, false, &v), -EINVAL);
	CHECK_EQ(vdebug_exit_io(&d, 0x501, 3, false, &v), -EINVAL);
	CHECK_EQ(exits, 0);
	/* No callback: the write is still taken. */
	d.env.exit = NULL;
	CHECK_EQ(vdebug_exit_io(&d, 0x501, 1, false, &v), 0);
	CHECK_EQ(d.writes, 1);
}

TEST_MAIN(TEST_CASE(ports), TEST_CASE(writes_of_each_width), TEST_CASE(reads_and_bad_accesses))
