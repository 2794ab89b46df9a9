// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/kvm_pv.c against a fake partition: 64 KiB of guest
 * RAM at GPA 0x100000, a settable TSC and wall clock. Expected values are
 * written out from the fact sheet (/work/shared/docs/kvm-pv-abi-and-linux-boot.md 1, 2)
 * and Linux v6.1 (arch/x86/include/uapi/asm/kvm_para.h,
 * Documentation/virt/kvm/x86/{cpuid,msr}.rst); the guest's reads are
 * replicated from arch/x86/kernel/pvclock.c and kvmclock.c.
 */
#include "test.h"

#include <keel/errno.h>
#include <keel/pvclock.h>
#include <x86/kvm_pv.h>

#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000ull

struct fake {
	uint8_t *ram;
	uint64_t tsc;
	uint64_t wall_ns;
	int hva_calls;
};

static struct fake fk;
static uint8_t guest_ram[RAM_SIZE] __attribute__((aligned(4096)));

static void *fake_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fake *f = ctx;

	f->hva_calls++;
	if (gpa < RAM_GPA || len > RAM_SIZE || gpa - RAM_GPA > RAM_SIZE - len)
		return NULL;
	return f->ram + (gpa - RAM_GPA);
}

static uint64_t fake_now_tsc(void *ctx)
{
	return ((struct fake *)ctx)->tsc;
}

static uint64_t fake_wall_ns(void *ctx)
{
	return ((struct fake *)ctx)->wall_ns;
}

static void *at(uint64_t gpa)
{
	return guest_ram + (gpa - RAM_GPA);
}

/* Default partition: all supported features, 3 GHz TSC, stable. */
static struct kvm_pv_config cfg;
static struct kvm_pv_env env;

static void setup(void)
{
	memset(guest_ram, 0, sizeof(guest_ram));
	fk = (struct fake){ .ram = guest_ram, .tsc = 1000000, .wall_ns = 1700000000000000000ull };
	cfg = (struct kvm_pv_config){
		.features = KVM_PV_FEATURES_SUPPORTED,
		.tsc_khz = 3000000,
		.apic_bus_khz = 1000000,
		.tsc_stable = true,
	};
	env = (struct kvm_pv_env){
		.cfg = &cfg,
		.ctx = &fk,
		.gpa_to_hva = fake_gpa_to_hva,
		.now_tsc = fake_now_tsc,
		.tsc_base = 1000000,
		.wall_clock_ns = fake_wall_ns,
	};
}

/* Linux pvclock_tsc_khz(). */
static uint64_t linux_pvclock_tsc_khz(const struct pvclock_vcpu_time_info *p)
{
	uint64_t khz = (1000000ull << 32) / p->tsc_to_system_mul;

	return p->tsc_shift < 0 ? khz << -p->tsc_shift : khz >> p->tsc_shift;
}

/* Linux __pvclock_read_cycles() at guest TSC tsc. */
static uint64_t linux_pvclock_read(const struct pvclock_vcpu_time_info *p, uint64_t tsc)
{
	uint64_t delta = tsc - p->tsc_timestamp;

	if (p->tsc_shift < 0)
		delta >>= -p->tsc_shift;
	else
		delta <<= p->tsc_shift;
	return p->system_time + (uint64_t)(((unsigned __int128)delta * p->tsc_to_system_mul) >> 32);
}

TEST(cpuid_signature)
{
	uint32_t a, b, c, d;
	char sig[12];

	setup();
	kvm_cpuid(&cfg, 0x40000000, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 0x40000010);
	CHECK_EQ(b, 0x4b4d564b);
	CHECK_EQ(c, 0x564b4d56);
	CHECK_EQ(d, 0x0000004d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	CHECK(memcmp(sig, "KVMKVMKVM\0\0\0", 12) == 0);

	/* No timing leaf without a TSC frequency. */
	cfg.tsc_khz = 0;
	kvm_cpuid(&cfg, 0x40000000, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 0x40000001);
	kvm_cpuid(&cfg, 0x40000010, 0, &a, &b, &c, &d);
	CHECK_EQ(a | b | c | d, 0);
}

TEST(cpuid_features)
{
	uint32_t a, b, c, d;

	setup();
	kvm_cpuid(&cfg, 0x40000001, 0, &a, &b, &c, &d);
	/* Bits 0 1 3 5 6 7 9 11 12 13 15 and 24 (stable). */
	CHECK_EQ(a, 0x0100baeb);
	CHECK_EQ(b, 0);
	CHECK_EQ(c, 0);
	CHECK_EQ(d, 0);

	cfg.tsc_stable = false;
	cfg.realtime = true;
	kvm_cpuid(&cfg, 0x40000001, 7, &a, &b, &c, &d);
	CHECK_EQ(a, 0x0000baeb);
	CHECK_EQ(d, 1);

	/* Never offered, whatever is asked: MMU_OP, ASYNC_PF*, MAP_GPA_RANGE, MIGRATION_CONTROL, 24. */
	cfg.features = 0xffffffff;
	kvm_cpuid(&cfg, 0x40000001, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 0x0000baeb);
	CHECK_EQ(kvm_pv_features(&cfg), 0x0000baeb);

	/* Only kvmclock. */
	cfg.features = KVM_FEATURE_CLOCKSOURCE2;
	cfg.tsc_stable = true;
	kvm_cpuid(&cfg, 0x40000001, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 0x01000008);
}

TEST(cpuid_timing_and_others)
{
	uint32_t a, b, c, d;

	setup();
	kvm_cpuid(&cfg, 0x40000010, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 3000000);
	CHECK_EQ(b, 1000000);
	CHECK_EQ(c, 0);
	CHECK_EQ(d, 0);
	static const uint32_t zero_leaves[] = { 0x40000002, 0x4000000f, 0x40000011,
						0x400000ff, 0x40000100, 0x40000101 };
	for (size_t i = 0; i < ARRAY_SIZE(zero_leaves); i++) {
		a = b = c = d = 0xdead;
		kvm_cpuid(&cfg, zero_leaves[i], 0, &a, &b, &c, &d);
		CHECK_EQ(a | b | c | d, 0);
	}
}

TEST(system_time_enable)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0x40;
	struct pvclock_vcpu_time_info *t = at(gpa);
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	memset(t, 0xa5, sizeof(*t)); /* junk: odd version 0xa5a5a5a5 */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, gpa | 1), 0);
	CHECK_EQ(t->version % 2, 0);
	CHECK_EQ(t->version, 0xa5a5a5a8);
	CHECK_EQ(t->pad0, 0);
	CHECK_EQ(t->tsc_timestamp, 1000000);
	CHECK_EQ(t->system_time, 0);
	CHECK_EQ(t->tsc_to_system_mul, 0xaaaaaaaa);
	CHECK_EQ(t->tsc_shift, -1);
	CHECK_EQ(t->flags, PVCLOCK_TSC_STABLE_BIT);
	CHECK_EQ(t->pad[0] | t->pad[1], 0);
	CHECK_EQ(linux_pvclock_tsc_khz(t), 3000000);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), 0);
	CHECK_EQ(v, gpa | 1);

	/* The guest's time and Keel's agree, and advance with the TSC. */
	fk.tsc = 1000000 + 3000000000ull * 7;
	CHECK_EQ(linux_pvclock_read(t, fk.tsc), kvm_pv_system_time_ns(&env));
	CHECK(kvm_pv_system_time_ns(&env) >= 7000000000ull - 7);
	CHECK(kvm_pv_system_time_ns(&env) <= 7000000000ull);

	/* Disabling stops updates; the value reads back. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, gpa), 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), 0);
	CHECK_EQ(v, gpa);
	{
		uint32_t version = t->version;

		env.tsc_base = 5;
		kvm_pv_update_time(&s, &env);
		CHECK_EQ(t->version, version);
		CHECK_EQ(t->tsc_timestamp, 1000000);
	}
}

TEST(system_time_rejects)
{
	struct kvm_pv_vcpu s;
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	/* Bit 1: not 4-byte aligned. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x40) | 3), -EINVAL);
	/* Not guest RAM, or running off its end. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, 0x1000 | 1), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + RAM_SIZE - 16) | 1),
		 -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), 0);
	CHECK_EQ(v, 0);
	CHECK(s.time == NULL);
	/* 4-byte (not 8-byte) alignment is enough. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x44) | 1), 0);
	CHECK_EQ(((struct pvclock_vcpu_time_info *)at(RAM_GPA + 0x44))->tsc_to_system_mul,
		 0xaaaaaaaa);

	/* Feature not offered: #GP both ways. */
	cfg.features &= ~KVM_FEATURE_CLOCKSOURCE2;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x40) | 1), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, RAM_GPA), -EINVAL);
	cfg.features &= ~KVM_FEATURE_CLOCKSOURCE;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME, (RAM_GPA + 0x40) | 1), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_WALL_CLOCK, &v), -EINVAL);
}

TEST(system_time_old_msr_and_stable_flag)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0x80;
	struct pvclock_vcpu_time_info *t = at(gpa);
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME, gpa | 1), 0);
	CHECK_EQ(t->flags, PVCLOCK_TSC_STABLE_BIT); /* 0x12 is the same clock */
	CHECK_EQ(t->tsc_to_system_mul, 0xaaaaaaaa);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME, &v), 0);
	CHECK_EQ(v, gpa | 1);
	/* The two MSRs share the registration, as in KVM. */
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), 0);
	CHECK_EQ(v, gpa | 1);

	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, gpa | 1), 0);
	CHECK_EQ(t->flags, PVCLOCK_TSC_STABLE_BIT);
	cfg.tsc_stable = false;
	kvm_pv_update_time(&s, &env);
	CHECK_EQ(t->flags, 0);
}

TEST(system_time_update_and_guest_stopped)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0xc0;
	struct pvclock_vcpu_time_info *t = at(gpa);
	uint32_t version;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, gpa | 1), 0);
	version = t->version;

	/* New clock parameters: rewritten, version + 2. */
	env.tsc_base = 2000000;
	cfg.tsc_khz = 2500000;
	kvm_pv_update_time(&s, &env);
	CHECK_EQ(t->version, version + 2);
	CHECK_EQ(t->tsc_timestamp, 2000000);
	CHECK_EQ(t->tsc_to_system_mul, 0xcccccccc);
	CHECK_EQ(linux_pvclock_tsc_khz(t), 2500000);

	kvm_pv_request_guest_stopped(&s);
	kvm_pv_update_time(&s, &env);
	CHECK_EQ(t->flags, PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED);
	/* The guest acknowledges it; the request was consumed. */
	t->flags &= (uint8_t)~PVCLOCK_GUEST_STOPPED;
	kvm_pv_update_time(&s, &env);
	CHECK_EQ(t->flags, PVCLOCK_TSC_STABLE_BIT);
}

TEST(system_time_identical_on_all_vcpus)
{
	struct kvm_pv_vcpu s0, s1;
	struct pvclock_vcpu_time_info *t0 = at(RAM_GPA + 0x100), *t1 = at(RAM_GPA + 0x140);

	setup();
	kvm_pv_vcpu_init(&s0);
	kvm_pv_vcpu_init(&s1);
	CHECK_EQ(kvm_msr_write(&s0, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x100) | 1), 0);
	fk.tsc += 123456789; /* the AP registers later */
	CHECK_EQ(kvm_msr_write(&s1, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x140) | 1), 0);
	CHECK(memcmp(t0, t1, sizeof(*t0)) == 0);
}

TEST(wall_clock)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0x204;
	struct pvclock_wall_clock *wc = at(gpa);
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	/* kvmclock reads 5 s (less the truncation of mul): the epoch is that much before now. */
	fk.tsc = env.tsc_base + 15000000000ull;
	uint64_t up = kvm_pv_system_time_ns(&env);

	CHECK(up >= 4999999997ull && up <= 5000000000ull);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, gpa), 0);
	CHECK_EQ(wc->version, 2);
	CHECK_EQ(wc->sec, 1699999995u);
	CHECK_EQ(wc->nsec, 1000000000ull - up % 1000000000ull);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_WALL_CLOCK_NEW, &v), 0);
	CHECK_EQ(v, gpa);

	/* The guest's boot-time read: (sec, nsec) + kvmclock = now. */
	CHECK_EQ((uint64_t)wc->sec * 1000000000ull + wc->nsec + up, fk.wall_ns);

	/* Each write refreshes; the old MSR works too when CLOCKSOURCE is offered. */
	fk.wall_ns += 1000000000ull;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK, gpa), 0);
	CHECK_EQ(wc->version, 4);
	CHECK_EQ(wc->sec, 1699999996u);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_WALL_CLOCK, &v), 0);
	CHECK_EQ(v, gpa);

	/* No wall clock: the epoch is 1970. */
	env.wall_clock_ns = NULL;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, gpa), 0);
	CHECK_EQ(wc->sec, 0);
	CHECK_EQ(wc->nsec, 0);

	/* 4-byte alignment, guest RAM. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, gpa + 1), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, gpa + 2), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, RAM_GPA + RAM_SIZE - 8), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_WALL_CLOCK_NEW, 0x2000), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_WALL_CLOCK_NEW, &v), 0);
	CHECK_EQ(v, gpa);
}

TEST(steal_time)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0x1000;
	struct kvm_steal_time *st = at(gpa);
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	/* Reserved bits 5:1. */
	for (int bit = 1; bit <= 5; bit++)
		CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, gpa | 1 | (1ull << bit)),
			 -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, gpa | 2), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, 0x40 | 1), -EINVAL); /* not RAM */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, (RAM_GPA + RAM_SIZE - 0x40) | 1), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, 0), 0);

	st->version = 7; /* junk */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, gpa | 1), 0);
	CHECK_EQ(st->version, 10); /* 7 -> 8, 9 while writing, 10 */
	CHECK_EQ(st->steal, 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_STEAL_TIME, &v), 0);
	CHECK_EQ(v, gpa | 1);

	kvm_pv_record_steal(&s, 1500);
	kvm_pv_record_steal(&s, 500);
	CHECK_EQ(st->steal, 2000);
	CHECK_EQ(st->version, 14);
	CHECK_EQ(st->flags, 0);

	/* Preempted, and a remote vCPU's PV TLB flush request (cmpxchg in the guest). */
	CHECK(!kvm_pv_clear_preempted(&s));
	kvm_pv_set_preempted(&s);
	CHECK_EQ(st->preempted, KVM_VCPU_PREEMPTED);
	st->preempted |= KVM_VCPU_FLUSH_TLB;
	CHECK(kvm_pv_clear_preempted(&s));
	CHECK_EQ(st->preempted, 0);
	CHECK(!kvm_pv_clear_preempted(&s));

	/* Disabled: nothing is written. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, gpa), 0);
	kvm_pv_record_steal(&s, 1000);
	kvm_pv_set_preempted(&s);
	CHECK_EQ(st->steal, 2000);
	CHECK_EQ(st->preempted, 0);
	CHECK(!kvm_pv_clear_preempted(&s));
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_STEAL_TIME, &v), 0);
	CHECK_EQ(v, gpa);

	cfg.features &= ~KVM_FEATURE_STEAL_TIME;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, gpa | 1), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_STEAL_TIME, &v), -EINVAL);
}

TEST(pv_eoi)
{
	struct kvm_pv_vcpu s;
	const uint64_t gpa = RAM_GPA + 0x2008;
	volatile uint8_t *b = at(gpa);
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK(!kvm_pv_eoi_sync_to_guest(&s)); /* off */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, gpa | 3), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, gpa | 2), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, 0x10 | 1), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, gpa | 1), 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_PV_EOI_EN, &v), 0);
	CHECK_EQ(v, gpa | 1);

	/* Nothing armed: nothing to report. */
	CHECK(!kvm_pv_eoi_sync_from_guest(&s));

	/* Armed; the guest does its EOI by test-and-clear of bit 0. */
	CHECK(kvm_pv_eoi_sync_to_guest(&s));
	CHECK_EQ(*b, 1);
	*b &= (uint8_t)~1u;
	CHECK(kvm_pv_eoi_sync_from_guest(&s));
	CHECK(!kvm_pv_eoi_sync_from_guest(&s)); /* reported once */

	/* Armed; the guest exits before its EOI: the bit is taken back. */
	CHECK(kvm_pv_eoi_sync_to_guest(&s));
	CHECK(!kvm_pv_eoi_sync_from_guest(&s));
	CHECK_EQ(*b, 0);

	/* Disabling while armed: the armed byte is still reconciled. */
	CHECK(kvm_pv_eoi_sync_to_guest(&s));
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, 0), 0);
	*b = 0;
	CHECK(kvm_pv_eoi_sync_from_guest(&s));
	CHECK(!kvm_pv_eoi_sync_to_guest(&s));

	cfg.features &= ~KVM_FEATURE_PV_EOI;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, gpa | 1), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_PV_EOI_EN, &v), -EINVAL);
}

TEST(poll_control)
{
	struct kvm_pv_vcpu s;
	uint64_t v;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_POLL_CONTROL, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 0), 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_POLL_CONTROL, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 2), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 1ull << 63), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 1), 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_POLL_CONTROL, &v), 0);
	CHECK_EQ(v, 1);
	cfg.features &= ~KVM_FEATURE_POLL_CONTROL;
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 0), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_POLL_CONTROL, &v), -EINVAL);
}

TEST(msrs_never_offered_and_foreign)
{
	struct kvm_pv_vcpu s;
	uint64_t v = 0xdead;

	setup();
	kvm_pv_vcpu_init(&s);
	/* ASYNC_PF_EN: "off" is fine, enabling is #GP, reads 0. */
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_ASYNC_PF_EN, 0), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_ASYNC_PF_EN, (RAM_GPA + 0x3000) | 9), -EINVAL);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_ASYNC_PF_EN, RAM_GPA + 0x3000), -EINVAL);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_ASYNC_PF_EN, &v), 0);
	CHECK_EQ(v, 0);
	/* ASYNC_PF_INT/ACK, MIGRATION_CONTROL, and unassigned KVM MSRs. */
	static const uint32_t gp[] = { MSR_KVM_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK,
				       MSR_KVM_MIGRATION_CONTROL, 0x4b564d09, 0x4b564dff };
	for (size_t i = 0; i < ARRAY_SIZE(gp); i++) {
		CHECK_EQ(kvm_msr_write(&s, &env, gp[i], 0), -EINVAL);
		CHECK_EQ(kvm_msr_read(&s, &env, gp[i], &v), -EINVAL);
	}
	/* Not KVM MSRs: for the caller. */
	static const uint32_t foreign[] = { 0x10, 0x1b, 0x13, 0x4b564cff, 0x4b564e00, 0xc0000080 };
	for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
		CHECK_EQ(kvm_msr_write(&s, &env, foreign[i], 0), -ENOENT);
		CHECK_EQ(kvm_msr_read(&s, &env, foreign[i], &v), -ENOENT);
	}
}

TEST(reset_drops_registrations)
{
	struct kvm_pv_vcpu s;
	struct pvclock_vcpu_time_info *t = at(RAM_GPA + 0x40);
	struct kvm_steal_time *st = at(RAM_GPA + 0x1000);
	uint64_t v;
	uint32_t version;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x40) | 1), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, (RAM_GPA + 0x1000) | 1), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_PV_EOI_EN, (RAM_GPA + 0x2000) | 1), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_POLL_CONTROL, 0), 0);
	CHECK(kvm_pv_eoi_sync_to_guest(&s));

	kvm_pv_vcpu_reset(&s);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_STEAL_TIME, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_PV_EOI_EN, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kvm_msr_read(&s, &env, MSR_KVM_POLL_CONTROL, &v), 0);
	CHECK_EQ(v, 0);
	CHECK(!kvm_pv_eoi_sync_from_guest(&s));
	CHECK(!kvm_pv_eoi_sync_to_guest(&s));

	version = t->version;
	kvm_pv_update_time(&s, &env);
	kvm_pv_record_steal(&s, 100);
	CHECK_EQ(t->version, version);
	CHECK_EQ(st->steal, 0);
}

TEST(guest_memory_looked_up_once)
{
	struct kvm_pv_vcpu s;

	setup();
	kvm_pv_vcpu_init(&s);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_SYSTEM_TIME_NEW, (RAM_GPA + 0x40) | 1), 0);
	CHECK_EQ(kvm_msr_write(&s, &env, MSR_KVM_STEAL_TIME, (RAM_GPA + 0x1000) | 1), 0);
	CHECK_EQ(fk.hva_calls, 2);
	for (int i = 0; i < 10; i++) {
		kvm_pv_update_time(&s, &env);
		kvm_pv_record_steal(&s, 1);
		kvm_pv_clear_preempted(&s);
	}
	CHECK_EQ(fk.hva_calls, 2);
}

TEST_MAIN(TEST_CASE(cpuid_signature), TEST_CASE(cpuid_features), TEST_CASE(cpuid_timing_and_others),
	  TEST_CASE(system_time_enable), TEST_CASE(system_time_rejects),
	  TEST_CASE(system_time_old_msr_and_stable_flag),
	  TEST_CASE(system_time_update_and_guest_stopped),
	  TEST_CASE(system_time_identical_on_all_vcpus), TEST_CASE(wall_clock),
	  TEST_CASE(steal_time), TEST_CASE(pv_eoi), TEST_CASE(poll_control),
	  TEST_CASE(msrs_never_offered_and_foreign), TEST_CASE(reset_drops_registrations),
	  TEST_CASE(guest_memory_looked_up_once))
