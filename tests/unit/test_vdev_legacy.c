// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/vdev/legacy.c: port 0xe9, the reset paths (0xcf9 and
 * the i8042's reset line), what a probe of the absent i8042 sees, port 0x61,
 * POST codes, and the empty bus's log-once table.
 */
#include "test.h"

#include <pthread.h>

#include <keel/errno.h>
#include <keel/vdev_legacy.h>

struct board {
	char out[64];
	size_t n;
	int resets;
	enum vlegacy_reset_source source;
	uint8_t value;
	bool out2;
};

static struct board board;

static void board_putc(void *ctx, uint8_t c)
{
	struct board *b = ctx;

	if (b->n < sizeof(b->out) - 1)
		b->out[b->n++] = (char)c;
}

static void board_reset(void *ctx, enum vlegacy_reset_source source, uint8_t value)
{
	struct board *b = ctx;

	b->resets++;
	b->source = source;
	b->value = value;
}

static bool board_out2(void *ctx)
{
	return ((struct board *)ctx)->out2;
}

static void setup(struct vlegacy *l)
{
	const struct vlegacy_env env = { &board, board_putc, board_reset, NULL };

	memset(&board, 0, sizeof(board));
	vlegacy_init(l, &env);
}

static uint8_t rd(struct vlegacy *l, uint16_t port)
{
	uint8_t v = 0x5a;

	CHECK_EQ(vlegacy_io_read(l, port, &v), 0);
	return v;
}

static void wr(struct vlegacy *l, uint16_t port, uint8_t v)
{
	CHECK_EQ(vlegacy_io_write(l, port, v), 0);
}

TEST(claims_only_its_ports)
{
	struct vlegacy l;
	uint8_t v = 0x5a;
	int claimed = 0;

	setup(&l);
	for (uint32_t port = 0; port < 0x10000; port++)
		claimed += vlegacy_claims((uint16_t)port);
	CHECK_EQ(claimed, 6);
	CHECK(vlegacy_claims(0x60) && vlegacy_claims(0x61) && vlegacy_claims(0x64));
	CHECK(vlegacy_claims(0x80) && vlegacy_claims(0xe9) && vlegacy_claims(0xcf9));
	CHECK_EQ(vlegacy_io_read(&l, 0x3f8, &v), -ENODEV);
	CHECK_EQ(v, 0x5a);
	CHECK_EQ(vlegacy_io_write(&l, 0x70, 0), -ENODEV);
	CHECK_EQ(vlegacy_io_read(&l, 0xcf8, &v), -ENODEV);
	CHECK_EQ(vlegacy_io_write(&l, 0xcfa, 0), -ENODEV);
}

TEST(debugcon)
{
	struct vlegacy l;

	setup(&l);
	for (const char *p = "boot ok\n"; *p; p++)
		wr(&l, 0xe9, (uint8_t)*p);
	board.out[board.n] = 0;
	CHECK_STR(board.out, "boot ok\n");
	CHECK_EQ(rd(&l, 0xe9), 0xe9); /* presence check, as on QEMU and Bochs */
	CHECK_EQ(board.resets, 0);
}

/* Linux's reboot=pci: cf9 = inb(0xcf9) & ~6; outb(cf9 | 2); outb(cf9 | 6). */
TEST(cf9_reset_like_linux)
{
	struct vlegacy l;
	uint8_t cf9;

	setup(&l);
	CHECK_EQ(rd(&l, 0xcf9), 0);
	cf9 = rd(&l, 0xcf9) & ~6;
	wr(&l, 0xcf9, cf9 | 2);
	CHECK_EQ(board.resets, 0);
	CHECK_EQ(rd(&l, 0xcf9), 0x02); /* reads return the last value */
	wr(&l, 0xcf9, cf9 | 6);
	CHECK_EQ(board.resets, 1);
	CHECK_EQ(board.source, VLEGACY_RESET_CF9);
	CHECK_EQ(board.value, 0x06);
	/* A full reset (0x0e), as firmware writes it. */
	wr(&l, 0xcf9, 0x0e);
	CHECK_EQ(board.resets, 2);
	CHECK_EQ(board.value, 0x0e);
	CHECK_EQ(rd(&l, 0xcf9), 0x0e);
	/* Reserved bits are not kept; without RST_CPU nothing happens. */
	wr(&l, 0xcf9, 0xf9);
	CHECK_EQ(board.resets, 2);
	CHECK_EQ(rd(&l, 0xcf9), 0x08);
}

/* Linux's reboot=kbd: kb_wait() polls 0x64 for IBF clear (bounded), then writes 0xfe. */
TEST(kbc_reset_like_linux)
{
	struct vlegacy l;
	int waited = 0;

	setup(&l);
	for (int i = 0; i < 0x10000; i++) {
		if ((rd(&l, 0x64) & 0x02) == 0)
			break;
		waited++;
	}
	CHECK_EQ(waited, 0x10000); /* the status floats high: kb_wait times out */
	wr(&l, 0x64, 0xfe);
	CHECK_EQ(board.resets, 1);
	CHECK_EQ(board.source, VLEGACY_RESET_KBC);
	CHECK_EQ(board.value, 0xfe);
	/* Other pulse commands with bit 0 clear pulse the reset line too. */
	wr(&l, 0x64, 0xf0);
	CHECK_EQ(board.resets, 2);
	/* Those without, and other commands, do nothing. */
	wr(&l, 0x64, 0xff);
	wr(&l, 0x64, 0xfd);
	wr(&l, 0x64, 0xd1);
	wr(&l, 0x60, 0xdd); /* an output-port write is not modelled */
	wr(&l, 0x64, 0xaa);
	CHECK_EQ(board.resets, 2);
}

/* Linux's i8042_flush(): OBF that never clears is "No controller found". */
TEST(i8042_probe_sees_no_controller)
{
	struct vlegacy l;
	int count = 0, retval = 0;

	setup(&l);
	while (rd(&l, 0x64) & 0x01) {
		if (count++ < 16) { /* I8042_BUFFER_SIZE */
			CHECK_EQ(rd(&l, 0x60), 0xff);
		} else {
			retval = -EIO;
			break;
		}
	}
	CHECK_EQ(retval, -EIO);
	CHECK_EQ(board.resets, 0);
}

TEST(port_61)
{
	struct vlegacy l;
	uint8_t a, b;
	const struct vlegacy_env env = { &board, NULL, NULL, board_out2 };

	setup(&l);
	a = rd(&l, 0x61);
	b = rd(&l, 0x61);
	CHECK_EQ((a ^ b) & 0x10, 0x10); /* refresh toggles */
	CHECK_EQ(a & 0xe0, 0x20);	/* no NMI sources; PIT output high */
	CHECK_EQ(b & 0xef, 0x20);
	wr(&l, 0x61, 0xf3);
	CHECK_EQ(rd(&l, 0x61) & 0xef, 0x23); /* bits 3:0 kept */
	/* Linux's pit_calibrate_tsc() loop ends at once rather than spinning. */
	CHECK(rd(&l, 0x61) & 0x20);

	memset(&board, 0, sizeof(board));
	vlegacy_init(&l, &env);
	CHECK_EQ(rd(&l, 0x61) & 0x20, 0);
	board.out2 = true;
	CHECK_EQ(rd(&l, 0x61) & 0x20, 0x20);
	wr(&l, 0xe9, 'x');   /* no sink: dropped */
	wr(&l, 0xcf9, 0x06); /* no reset handler: nothing */
	CHECK_EQ(board.n, 0);
}

TEST(post_codes)
{
	struct vlegacy l;

	setup(&l);
	wr(&l, 0x80, 0x12);
	wr(&l, 0x80, 0x34);
	CHECK_EQ(l.post, 0x34);
	CHECK_EQ(rd(&l, 0x80), 0xff);
	CHECK_EQ(board.n, 0);
}

TEST(unassigned_logged_once)
{
	static struct vdev_unassigned_log log;

	memset(&log, 0, sizeof(log));
	CHECK(vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(0x2f8)));
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(0x2f8)));
	/* MMIO is per page; page 0 and port 0 are keys too, and distinct. */
	CHECK(vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_MMIO(0xfed00010)));
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_MMIO(0xfed00ff8)));
	CHECK(vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_MMIO(0xfed01000)));
	CHECK(vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_MMIO(0)));
	CHECK(vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(0)));
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_MMIO(0x10)));
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(0)));
	CHECK(VDEV_UNASSIGNED_PORT(0x1000) != VDEV_UNASSIGNED_MMIO(0x1000));
	CHECK_EQ(log.dropped, 0);
}

TEST(unassigned_table_full)
{
	static struct vdev_unassigned_log log;
	int first = 0;

	memset(&log, 0, sizeof(log));
	for (uint32_t port = 0; port < VDEV_UNASSIGNED_SLOTS + 10; port++)
		first += vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(port));
	CHECK_EQ(first, VDEV_UNASSIGNED_SLOTS);
	CHECK_EQ(log.dropped, 10);
	/* Known keys are still known; new ones are counted, not reported. */
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(5)));
	CHECK(!vdev_unassigned_first_time(&log, VDEV_UNASSIGNED_PORT(0xffff)));
	CHECK_EQ(log.dropped, 11);
}

/* vCPUs racing on the same keys: each key is reported exactly once. */
static struct vdev_unassigned_log race_log;
static int race_first[4];

static void *racer(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int round = 0; round < 200; round++)
		for (uint32_t k = 0; k < 100; k++)
			race_first[me] += vdev_unassigned_first_time(
				&race_log,
				VDEV_UNASSIGNED_MMIO((uint64_t)((k * 7 + me) % 100) << 12));
	return NULL;
}

TEST(unassigned_concurrent)
{
	pthread_t t[4];
	int total = 0;

	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += race_first[i];
	}
	CHECK_EQ(total, 100);
	CHECK_EQ(race_log.dropped, 0);
}

TEST_MAIN(TEST_CASE(claims_only_its_ports), TEST_CASE(debugcon), TEST_CASE(cf9_reset_like_linux),
	  TEST_CASE(kbc_reset_like_linux), TEST_CASE(i8042_probe_sees_no_controller),
	  TEST_CASE(port_61), TEST_CASE(post_codes), TEST_CASE(unassigned_logged_once),
	  TEST_CASE(unassigned_table_full), TEST_CASE(unassigned_concurrent))
