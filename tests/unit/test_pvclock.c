// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/pvclock.c. The guest side is replicated here from
 * Linux v6.1, independently of the implementation:
 *   arch/x86/kernel/pvclock.c pvclock_tsc_khz(): (10^6 << 32) / mul, then
 *     << -shift or >> shift;
 *   arch/x86/include/asm/pvclock.h pvclock_scale_delta() and
 *     __pvclock_read_cycles(); pvclock_read_begin/retry (version protocol);
 *   arch/x86/kvm/x86.c kvm_get_time_scale() (the host's reference scale).
 */
#include "test.h"

#include <pthread.h>

#include <keel/pvclock.h>

/* Linux pvclock_tsc_khz(): the guest's TSC frequency, from mul/shift only. */
static uint64_t linux_pvclock_tsc_khz(uint32_t mul, int8_t shift)
{
	uint64_t pv_tsc_khz = 1000000ull << 32;

	pv_tsc_khz /= mul; /* do_div */
	if (shift < 0)
		pv_tsc_khz <<= -shift;
	else
		pv_tsc_khz >>= shift;
	return pv_tsc_khz;
}

/* Linux pvclock_scale_delta() with mul_u64_u32_shr() done in 128 bits. */
static uint64_t linux_scale_delta(uint64_t delta, uint32_t mul, int shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* KVM kvm_get_time_scale(NSEC_PER_SEC, hz), verbatim in logic. */
static void kvm_get_time_scale(uint64_t scaled_hz, uint64_t base_hz, int8_t *pshift, uint32_t *pmul)
{
	uint64_t scaled64 = scaled_hz, tps64 = base_hz;
	int32_t shift = 0;
	uint32_t tps32;

	while (tps64 > scaled64 * 2 || tps64 & 0xffffffff00000000ull) {
		tps64 >>= 1;
		shift--;
	}
	tps32 = (uint32_t)tps64;
	while (tps32 <= scaled64 || scaled64 & 0xffffffff00000000ull) {
		if (scaled64 & 0xffffffff00000000ull || tps32 & 0x80000000)
			scaled64 >>= 1;
		else
			tps32 <<= 1;
		shift++;
	}
	*pshift = (int8_t)shift;
	*pmul = (uint32_t)((scaled64 << 32) / tps32); /* div_frac */
}

/* The round trip the guest does must give tsc_khz (or tsc_khz - 1 past 2 GHz). */
static void check_round_trip(uint64_t khz)
{
	uint32_t mul;
	int8_t shift;
	uint64_t got;

	pvclock_scale_for_khz(khz, &mul, &shift);
	if (!mul) {
		CHECK(mul != 0);
		return;
	}
	got = linux_pvclock_tsc_khz(mul, shift);
	if (khz * 1000 <= 2000000000ull)
		CHECK_EQ(got, khz);
	else if (got != khz && got != khz - 1)
		CHECK_EQ(got, khz);
	CHECK_EQ(pvclock_tsc_khz(mul, shift), got);
	/* One second of ticks is one second, to 1 ns per second. */
	{
		uint64_t ns = linux_scale_delta(khz * 1000, mul, shift);

		CHECK(ns <= 1000000000ull && ns >= 1000000000ull - 2);
	}
}

TEST(scale_worked_examples)
{
	uint32_t mul;
	int8_t shift;

	/* Fact sheet 2.3.5. */
	pvclock_scale_for_khz(3000000, &mul, &shift);
	CHECK_EQ(shift, -1);
	CHECK_EQ(mul, 0xaaaaaaaa);
	pvclock_scale_for_khz(2500000, &mul, &shift);
	CHECK_EQ(shift, -1);
	CHECK_EQ(mul, 0xcccccccc);
	pvclock_scale_for_khz(1000000, &mul, &shift);
	CHECK_EQ(shift, 1);
	CHECK_EQ(mul, 0x80000000);
	/* 100 MHz: 1.6 GHz after four doublings. */
	pvclock_scale_for_khz(100000, &mul, &shift);
	CHECK_EQ(shift, 4);
	CHECK_EQ(mul, 0xa0000000);
	/* 2 GHz is not shifted: mul = 2^31. */
	pvclock_scale_for_khz(2000000, &mul, &shift);
	CHECK_EQ(shift, 0);
	CHECK_EQ(mul, 0x80000000);
}

TEST(scale_round_trip_named)
{
	static const uint64_t khz[] = {
		1000000, 2300000, 3700000, 100000,  4990000, 3000000, 2500000, 2000000,
		2000001, 1999999, 2299999, 2300001, 3699999, 3700001, 4990003, 4990001,
		4294967, 4294968, 4000001, 8589934, 33000,   32768,   1,       1000,
		999999,	 1000001, 3192000, 2095076, 2894561, 5300001, 6000003, 8000001,
	};

	for (size_t i = 0; i < ARRAY_SIZE(khz); i++)
		check_round_trip(khz[i]);
}

TEST(scale_round_trip_sweep)
{
	/* Every 997th kHz from 1 MHz to 8.5 GHz, plus the neighbours of powers of two. */
	for (uint64_t khz = 1000; khz < 8500000; khz += 997)
		check_round_trip(khz);
	for (int b = 20; b < 33; b++) {
		uint64_t khz = (1ull << b) / 1000;

		check_round_trip(khz - 1);
		check_round_trip(khz);
		check_round_trip(khz + 1);
	}
}

TEST(scale_matches_kvm_up_to_4ghz)
{
	for (uint64_t khz = 1; khz <= 4000000; khz = khz * 3 / 2 + 7) {
		uint32_t mul, kmul;
		int8_t shift, kshift;

		pvclock_scale_for_khz(khz, &mul, &shift);
		kvm_get_time_scale(1000000000ull, khz * 1000, &kshift, &kmul);
		CHECK_EQ(mul, kmul);
		CHECK_EQ((uint8_t)shift, (uint8_t)kshift);
	}
}

TEST(scale_above_4ghz_keeps_shift_minus_1)
{
	uint32_t mul;
	int8_t shift;

	pvclock_scale_for_khz(4990000, &mul, &shift);
	CHECK_EQ(shift, -1);
	CHECK(mul >= 0x40000000u && mul < 0x80000000u);
	/* Past 2^32 Hz after one shift, the rate is shifted again. */
	pvclock_scale_for_khz(9000000, &mul, &shift);
	CHECK_EQ(shift, -2);
	CHECK(mul >= 1000000000u);
}

TEST(scale_zero_khz_is_usable)
{
	uint32_t mul;
	int8_t shift;

	pvclock_scale_for_khz(0, &mul, &shift);
	if (!mul) {
		CHECK(mul != 0);
		return;
	}
	CHECK_EQ(linux_pvclock_tsc_khz(mul, shift), 1);
}

TEST(scale_delta_vs_reference)
{
	static const uint64_t deltas[] = {
		0,
		1,
		2,
		3,
		1000,
		0xffffffffull,
		0x100000000ull,
		123456789012345ull,
		0x7fffffffffffffffull,
		0xffffffffffffffffull,
	};
	static const uint32_t muls[] = { 0, 1, 0x80000000u, 0xaaaaaaaau, 0xffffffffu, 0x4ccccccdu };
	static const int shifts[] = { -1, -2, 0, 1, 4, 20 };

	for (size_t i = 0; i < ARRAY_SIZE(deltas); i++)
		for (size_t j = 0; j < ARRAY_SIZE(muls); j++)
			for (size_t k = 0; k < ARRAY_SIZE(shifts); k++)
				CHECK_EQ(pvclock_scale_delta(deltas[i], muls[j], (int8_t)shifts[k]),
					 linux_scale_delta(deltas[i], muls[j], shifts[k]));

	/* A pseudo-random walk over the whole range. */
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int n = 0; n < 100000; n++) {
		uint32_t mul;
		int shift;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mul = (uint32_t)(x >> 16);
		shift = (int)(x % 11) - 5;
		CHECK_EQ(pvclock_scale_delta(x, mul, (int8_t)shift),
			 linux_scale_delta(x, mul, shift));
	}
}

TEST(scale_delta_out_of_range_shift)
{
	CHECK_EQ(pvclock_scale_delta(~0ull, 0xffffffffu, 64), 0);
	CHECK_EQ(pvclock_scale_delta(~0ull, 0xffffffffu, -64), 0);
	CHECK_EQ(pvclock_scale_delta(~0ull, 0xffffffffu, -128), 0);
	CHECK_EQ(pvclock_scale_delta(~0ull, 0xffffffffu, 127), 0);
	CHECK_EQ(pvclock_scale_delta(1ull << 62, 0x80000000u, 1), 1ull << 62);
	CHECK_EQ(pvclock_tsc_khz(0, 0), 0);
	CHECK_EQ(pvclock_tsc_khz(0x80000000u, 100), 0);
}

/* Linux __pvclock_read_cycles() under pvclock_read_begin/retry. */
static uint64_t guest_read(const volatile struct pvclock_vcpu_time_info *p, uint64_t tsc)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = p->version & ~1u;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ns = p->system_time +
		     linux_scale_delta(tsc - p->tsc_timestamp, p->tsc_to_system_mul, p->tsc_shift);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (v != p->version);
	return ns;
}

TEST(vcpu_time_layout_and_version)
{
	struct pvclock_vcpu_time_info t;
	struct pvclock_params p = {
		.tsc_timestamp = 0x1122334455667788ull,
		.system_time = 0x99aabbccddeeff00ull,
		.mul = 0xaaaaaaaa,
		.shift = -1,
	};
	uint8_t raw[32];

	memset(&t, 0xff, sizeof(t));
	t.version = 0;
	t.flags = 0;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.version, 2);
	CHECK_EQ(t.pad0, 0);
	CHECK_EQ(t.tsc_timestamp, p.tsc_timestamp);
	CHECK_EQ(t.system_time, p.system_time);
	CHECK_EQ(t.tsc_to_system_mul, 0xaaaaaaaa);
	CHECK_EQ((uint8_t)t.tsc_shift, 0xff);
	CHECK_EQ(t.flags, 0);
	CHECK_EQ(t.pad[0], 0);
	CHECK_EQ(t.pad[1], 0);

	/* Byte offsets of the ABI (pvclock-abi.h). */
	memcpy(raw, &t, sizeof(raw));
	CHECK_EQ(raw[0], 2);
	CHECK_EQ(raw[8], 0x88);
	CHECK_EQ(raw[15], 0x11);
	CHECK_EQ(raw[16], 0x00);
	CHECK_EQ(raw[23], 0x99);
	CHECK_EQ(raw[24], 0xaa);
	CHECK_EQ(raw[28], 0xff);

	/* Each update moves the version by 2 and leaves it even. */
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.version, 4);
	/* An odd version (junk, or a torn update): (7 + 1) | 1 = 9, then 10. */
	t.version = 7;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.version, 10);
	t.version = 0xffffffff;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.version, 2);

	/* 3000 ticks at 3 GHz: 1 us, less the truncation of mul. */
	CHECK_EQ(guest_read(&t, p.tsc_timestamp + 3000), p.system_time + 999);
	CHECK_EQ(guest_read(&t, p.tsc_timestamp + 3000000000ull), p.system_time + 999999999);
}

TEST(vcpu_time_flags)
{
	struct pvclock_vcpu_time_info t = { 0 };
	struct pvclock_params p = { .mul = 0x80000000u };

	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, 0);
	p.tsc_stable = true;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT);
	p.guest_stopped = true;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED);
	/* Not yet acknowledged by the guest: kept. */
	p.guest_stopped = false;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED);
	/* The guest clears it (kvm_check_and_clear_guest_paused): gone. */
	t.flags &= (uint8_t)~PVCLOCK_GUEST_STOPPED;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT);
	/* Junk flag bits in guest memory are not kept. */
	t.flags = 0xfc;
	p.tsc_stable = false;
	pvclock_write_vcpu_time(&t, &p);
	CHECK_EQ(t.flags, 0);
}

TEST(wall_clock)
{
	struct pvclock_wall_clock wc = { 0 };
	uint8_t raw[12];

	pvclock_write_wall_clock(&wc, 1700000000123456789ull);
	CHECK_EQ(wc.version, 2);
	CHECK_EQ(wc.sec, 1700000000u);
	CHECK_EQ(wc.nsec, 123456789u);
	memcpy(raw, &wc, sizeof(raw));
	CHECK_EQ(raw[4] | raw[5] << 8 | raw[6] << 16 | (uint32_t)raw[7] << 24, 1700000000u);

	/* Odd junk: made even first (3 -> 4), then 5 while writing, 6 at the end. */
	wc.version = 3;
	pvclock_write_wall_clock(&wc, 0);
	CHECK_EQ(wc.version, 6);
	CHECK_EQ(wc.sec, 0);
	CHECK_EQ(wc.nsec, 0);

	/* sec is a u32: it wraps in 2106, like the ABI. */
	pvclock_write_wall_clock(&wc, (1ull << 32) * 1000000000ull + 5);
	CHECK_EQ(wc.sec, 0);
	CHECK_EQ(wc.nsec, 5);
	CHECK_EQ(wc.version % 2, 0);
}

/*
 * The version protocol under a concurrent reader: every published structure is
 * derived from one counter, so a reader that passes the version check must see
 * fields that agree with each other.
 */
#define TORTURE_ROUNDS 200000

static struct pvclock_vcpu_time_info torture_clock;
static volatile int torture_done;

static void *torture_writer(void *arg)
{
	for (uint64_t i = 1; i <= TORTURE_ROUNDS; i++) {
		struct pvclock_params p = {
			.tsc_timestamp = i,
			.system_time = i * 3,
			.mul = (uint32_t)(i * 7),
			.shift = (int8_t)(i & 7),
		};

		pvclock_write_vcpu_time(&torture_clock, &p);
	}
	torture_done = 1;
	return arg;
}

TEST(version_protocol_torture)
{
	volatile struct pvclock_vcpu_time_info *t = &torture_clock;
	pthread_t th;
	long bad = 0, reads = 0;

	if (pthread_create(&th, NULL, torture_writer, NULL) != 0) {
		CHECK(!"pthread_create");
		return;
	}
	while (!torture_done) {
		uint32_t v1, v2;
		uint64_t ts, st;
		uint32_t mul;
		int8_t shift;

		v1 = t->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ts = t->tsc_timestamp;
		st = t->system_time;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		v2 = t->version;
		if ((v1 & 1) || v1 != v2)
			continue;
		reads++;
		if (st != ts * 3 || mul != (uint32_t)(ts * 7) || shift != (int8_t)(ts & 7))
			bad++;
	}
	pthread_join(th, NULL);
	CHECK_EQ(bad, 0);
	CHECK(reads > 0);
	CHECK_EQ(torture_clock.version, 2ull * TORTURE_ROUNDS);
}

TEST_MAIN(TEST_CASE(scale_worked_examples), TEST_CASE(scale_round_trip_named),
	  TEST_CASE(scale_round_trip_sweep), TEST_CASE(scale_matches_kvm_up_to_4ghz),
	  TEST_CASE(scale_above_4ghz_keeps_shift_minus_1), TEST_CASE(scale_zero_khz_is_usable),
	  TEST_CASE(scale_delta_vs_reference), TEST_CASE(scale_delta_out_of_range_shift),
	  TEST_CASE(vcpu_time_layout_and_version), TEST_CASE(vcpu_time_flags),
	  TEST_CASE(wall_clock), TEST_CASE(version_protocol_torture))
