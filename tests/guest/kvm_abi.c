// SPDX-License-Identifier: MIT
/*
 * The KVM paravirtual ABI as a Linux guest uses it, checked from a raw
 * partition: CPUID leaves, kvmclock and the other KVM MSRs, hypercalls at
 * CPL 0 and CPL 3 with both VMCALL and VMMCALL. Every value below is from
 * /work/shared/docs/kvm-pv-abi-and-linux-boot.md (Linux 6.1 behaviour),
 * sections 1-3; the section is named at each check. Under plain QEMU (no
 * Keel) there is no KVM signature and these checks fail, as expected.
 */
#include "guest.h"

#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES 0x40000001u

#define MSR_KVM_WALL_CLOCK 0x11u
#define MSR_KVM_SYSTEM_TIME 0x12u
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define MSR_KVM_STEAL_TIME 0x4b564d03u
#define MSR_KVM_PV_EOI_EN 0x4b564d04u
#define MSR_KVM_POLL_CONTROL 0x4b564d05u
#define MSR_KVM_UNUSED 0x4b564dffu /* in the KVM range, defined by no one */

#define KVM_HC_VAPIC_POLL_IRQ 1
#define KVM_HC_CLOCK_PAIRING 9
#define HC_UNKNOWN 12345

#define KVM_EPERM 1
#define KVM_EOPNOTSUPP 95
#define KVM_ENOSYS 1000

#define NSEC_PER_SEC 1000000000ull
/* 2020-01-01 00:00:00 UTC: a wall clock before that is not a real clock. */
#define EPOCH_2020 1577836800u

/* Section 2.3.2. */
struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __packed;

/* Section 2.2. */
struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __packed;

/* Section 2.5. */
struct kvm_steal_time {
	uint64_t steal;
	uint32_t version;
	uint32_t flags;
	uint8_t preempted;
	uint8_t u8_pad[3];
	uint32_t pad[11];
} __packed;

/* Section 3.4, KVM_HC_CLOCK_PAIRING. */
struct kvm_clock_pairing {
	int64_t sec;
	int64_t nsec;
	uint64_t tsc;
	uint32_t flags;
	uint32_t pad[9];
} __packed;

STATIC_ASSERT(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info is 32 bytes");
STATIC_ASSERT(sizeof(struct pvclock_wall_clock) == 12, "pvclock_wall_clock is 12 bytes");
STATIC_ASSERT(sizeof(struct kvm_steal_time) == 64, "kvm_steal_time is 64 bytes");
STATIC_ASSERT(sizeof(struct kvm_clock_pairing) == 64, "kvm_clock_pairing is 64 bytes");

/* Zeroed, as a Linux guest leaves them before registering; GPA = address (identity map). */
static struct pvclock_vcpu_time_info pvti __aligned(64);
static struct pvclock_vcpu_time_info pvti_old __aligned(64);
static struct pvclock_wall_clock wall __aligned(64);
static struct pvclock_wall_clock wall_old __aligned(64);
static struct kvm_steal_time steal __aligned(64);
static uint64_t pv_eoi __aligned(64);
static struct kvm_clock_pairing pairing __aligned(64);

static uint32_t features;

static uint64_t gpa(const volatile void *p)
{
	return (uint64_t)p;
}

static uint64_t neg(uint64_t err)
{
	return (uint64_t) - (int64_t)err;
}

/* ---- CPUID (section 1) ---- */

static const struct {
	unsigned int bit;
	const char *name;
} wanted_features[] = {
	{ 0, "kvm_feature_clocksource" },     { 3, "kvm_feature_clocksource2" },
	{ 5, "kvm_feature_steal_time" },      { 6, "kvm_feature_pv_eoi" },
	{ 7, "kvm_feature_pv_unhalt" },	      { 9, "kvm_feature_pv_tlb_flush" },
	{ 11, "kvm_feature_pv_send_ipi" },    { 12, "kvm_feature_poll_control" },
	{ 13, "kvm_feature_pv_sched_yield" }, { 15, "kvm_feature_msi_ext_dest_id" },
};

/*
 * Features whose MSRs or hypercalls a partition without paging, SEV or nested
 * use has no business seeing (section 1.3, and the "do not advertise" rule of
 * section 0): ASYNC_PF (4), ASYNC_PF_VMEXIT (10), ASYNC_PF_INT (14),
 * HC_MAP_GPA_RANGE (16), MIGRATION_CONTROL (17).
 */
#define UNWANTED_FEATURES ((1u << 4) | (1u << 10) | (1u << 14) | (1u << 16) | (1u << 17))

static void test_cpuid(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	char sig[13];

	EXPECT("kvm_cpuid_hypervisor_bit", r.ecx & (1u << 31));

	r = cpuid(KVM_CPUID_SIGNATURE, 0);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	check("kvm_cpuid_signature",
	      r.ebx == 0x4b4d564b && r.ecx == 0x564b4d56 && r.edx == 0x0000004d,
	      "ebx:ecx:edx = %08x:%08x:%08x (\"%s\"), expected \"KVMKVMKVM\\0\\0\\0\"", r.ebx,
	      r.ecx, r.edx, sig);
	check("kvm_cpuid_max_leaf", r.eax >= KVM_CPUID_FEATURES,
	      "eax = 0x%x, expected >= 0x40000001", r.eax);

	r = cpuid(KVM_CPUID_FEATURES, 0);
	features = r.eax;
	note("cpuid 0x40000001: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x", r.eax, r.ebx, r.ecx, r.edx);
	for (unsigned int i = 0; i < ARRAY_SIZE(wanted_features); i++)
		check(wanted_features[i].name, features & (1u << wanted_features[i].bit),
		      "cpuid 0x40000001 eax 0x%x lacks bit %u", features, wanted_features[i].bit);
	check("kvm_features_not_advertised", !(features & UNWANTED_FEATURES),
	      "eax 0x%x has bits 0x%x (async PF, MAP_GPA_RANGE, MIGRATION_CONTROL)", features,
	      features & UNWANTED_FEATURES);
}

/* ---- kvmclock (section 2.3) ---- */

/* (delta * mul) >> 32 without overflow, as Linux's mul_u64_u32_shr. */
static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (delta >> 32) * mul + (((delta & 0xffffffffull) * mul) >> 32);
}

/* Section 2.3.3's reader. False if the version stayed odd or kept changing. */
static bool pvclock_read(const volatile struct pvclock_vcpu_time_info *p, uint64_t *ns,
			 uint64_t *tsc)
{
	for (unsigned int tries = 0; tries < 100000; tries++) {
		uint32_t version = p->version;
		uint64_t now, ts, sys;
		uint32_t mul;
		int8_t shift;

		if (version & 1)
			continue;
		ts = p->tsc_timestamp;
		sys = p->system_time;
		mul = p->tsc_to_system_mul;
		shift = p->tsc_shift;
		now = rdtsc_ordered();
		if (p->version != version)
			continue;
		*ns = sys + scale_delta(now - ts, mul, shift);
		*tsc = now;
		return true;
	}
	return false;
}

/* Section 2.3.5: the TSC frequency a Linux guest derives from the scale. */
static uint64_t pvclock_tsc_khz(uint32_t mul, int8_t shift)
{
	uint64_t khz = (1000000ull << 32) / mul;

	if (shift < 0)
		khz <<= -shift;
	else
		khz >>= shift;
	return khz;
}

static void spin_tsc(uint64_t ticks)
{
	uint64_t start = rdtsc_ordered();

	while (rdtsc_ordered() - start < ticks)
		asm volatile("pause");
}

/* "prefix_what" in name[NAME_SIZE], for checks named after the MSR they test. */
#define NAME_SIZE 64
static const char *join(char *name, const char *prefix, const char *what)
{
	snprintf(name, NAME_SIZE, "%s_%s", prefix, what);
	return name;
}

/* One registration of a system-time MSR, checked; prefix names the checks. */
static void test_system_time(const char *prefix, uint32_t msr,
			     volatile struct pvclock_vcpu_time_info *p)
{
	char name[NAME_SIZE];
	uint64_t value = gpa(p) | 1, readback = 0, t1 = 0, t2 = 0, tsc1 = 0, tsc2 = 0, khz;
	uint32_t mul;
	int f;

	f = wrmsr_safe(msr, value);
	if (!EXPECT_FAULT(join(name, prefix, "enable"), f, FAULT_NONE))
		return;
	f = rdmsr_safe(msr, &readback);
	check(join(name, prefix, "readback"), !f && readback == value,
	      "%s, read 0x%llx, wrote 0x%llx", fault_name(f), (unsigned long long)readback,
	      (unsigned long long)value);
	check(join(name, prefix, "version_even"), !(p->version & 1), "version %u", p->version);
	mul = p->tsc_to_system_mul;
	if (!check(join(name, prefix, "mul_nonzero"), mul != 0,
		   "tsc_to_system_mul is 0 (a Linux guest divides by it)"))
		return;
	khz = pvclock_tsc_khz(mul, p->tsc_shift);
	note("%s: version %u tsc_timestamp %llu system_time %llu mul 0x%x shift %d flags 0x%x "
	     "(tsc %llu kHz)",
	     prefix, p->version, (unsigned long long)p->tsc_timestamp,
	     (unsigned long long)p->system_time, mul, p->tsc_shift, p->flags,
	     (unsigned long long)khz);
	/* The guest takes its TSC frequency from mul/shift: it must look like a real CPU's. */
	check(join(name, prefix, "tsc_khz_plausible"), khz >= 10000 && khz <= 20000000,
	      "mul 0x%x shift %d give %llu kHz", mul, p->tsc_shift, (unsigned long long)khz);
	if (!check(join(name, prefix, "read"), pvclock_read(p, &t1, &tsc1),
		   "version stays odd or keeps changing"))
		return;
	check(join(name, prefix, "timestamp_not_ahead"), p->tsc_timestamp <= tsc1,
	      "tsc_timestamp %llu is ahead of the TSC %llu", (unsigned long long)p->tsc_timestamp,
	      (unsigned long long)tsc1);
	spin_tsc(1000000);
	pvclock_read(p, &t2, &tsc2);
	check(join(name, prefix, "advances"), t2 > t1, "%llu ns, then %llu ns %llu TSC ticks later",
	      (unsigned long long)t1, (unsigned long long)t2, (unsigned long long)(tsc2 - tsc1));
	/*
	 * CLOCKSOURCE_STABLE_BIT (section 2.3.6) promises flags bit 0 on the new MSR; KVM
	 * drops it for the old one (section 2.3.7), so only the new one is held to it.
	 */
	if (msr == MSR_KVM_SYSTEM_TIME_NEW && (features & (1u << 24)))
		check(join(name, prefix, "stable_bit"), p->flags & 1,
		      "CPUID advertises the stable bit but flags are 0x%x", p->flags);
}

static void test_wall_clock(const char *prefix, uint32_t msr, volatile struct pvclock_wall_clock *w)
{
	char name[NAME_SIZE];
	uint64_t readback = 0;
	int f;

	if (!EXPECT_FAULT(join(name, prefix, "write"), wrmsr_safe(msr, gpa(w)), FAULT_NONE))
		return;
	f = rdmsr_safe(msr, &readback);
	check(join(name, prefix, "readback"), !f && readback == gpa(w),
	      "%s, read 0x%llx, wrote 0x%llx", fault_name(f), (unsigned long long)readback,
	      (unsigned long long)gpa(w));
	note("%s: version %u sec %u nsec %u", prefix, w->version, w->sec, w->nsec);
	check(join(name, prefix, "version_even"), !(w->version & 1), "version %u", w->version);
	check(join(name, prefix, "sec_plausible"), w->sec > EPOCH_2020,
	      "sec %u is before 2020-01-01", w->sec);
	check(join(name, prefix, "nsec_below_1s"), w->nsec < NSEC_PER_SEC, "nsec %u", w->nsec);
}

static void test_clocks(void)
{
	test_system_time("kvm_system_time_new", MSR_KVM_SYSTEM_TIME_NEW, &pvti);
	test_wall_clock("kvm_wall_clock_new", MSR_KVM_WALL_CLOCK_NEW, &wall);
	/* CLOCKSOURCE (bit 0) advertises the old pair too (section 2.3.7). */
	test_system_time("kvm_system_time_old", MSR_KVM_SYSTEM_TIME, &pvti_old);
	test_wall_clock("kvm_wall_clock_old", MSR_KVM_WALL_CLOCK, &wall_old);
	/* Bit 0 clear stops updates (section 2.3.1): what a guest does before reboot. */
	EXPECT_FAULT("kvm_system_time_new_disable", wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, 0),
		     FAULT_NONE);
	EXPECT_FAULT("kvm_system_time_old_disable", wrmsr_safe(MSR_KVM_SYSTEM_TIME, 0), FAULT_NONE);
}

/* ---- Steal time, PV EOI, poll control (sections 2.5-2.7) ---- */

static void test_other_msrs(void)
{
	uint64_t v = 0;
	int f;

	f = wrmsr_safe(MSR_KVM_STEAL_TIME, gpa(&steal) | 1);
	EXPECT_FAULT("kvm_steal_time_enable", f, FAULT_NONE);
	f = rdmsr_safe(MSR_KVM_STEAL_TIME, &v);
	check("kvm_steal_time_readback", !f && v == (gpa(&steal) | 1), "%s, read 0x%llx",
	      fault_name(f), (unsigned long long)v);
	/* Bits 5:1 are reserved (KVM_STEAL_RESERVED_MASK 0x3e): an address 8 bytes off is #GP. */
	EXPECT_FAULT("kvm_steal_time_reserved_gp",
		     wrmsr_safe(MSR_KVM_STEAL_TIME, (gpa(&steal) + 8) | 1), FAULT(X86_GP));
	EXPECT_FAULT("kvm_steal_time_disable", wrmsr_safe(MSR_KVM_STEAL_TIME, 0), FAULT_NONE);
	note("steal time: steal %llu version %u preempted %u", (unsigned long long)steal.steal,
	     steal.version, steal.preempted);

	f = wrmsr_safe(MSR_KVM_PV_EOI_EN, gpa(&pv_eoi) | 1);
	EXPECT_FAULT("kvm_pv_eoi_enable", f, FAULT_NONE);
	f = rdmsr_safe(MSR_KVM_PV_EOI_EN, &v);
	check("kvm_pv_eoi_readback", !f && v == (gpa(&pv_eoi) | 1), "%s, read 0x%llx",
	      fault_name(f), (unsigned long long)v);
	EXPECT_FAULT("kvm_pv_eoi_disable", wrmsr_safe(MSR_KVM_PV_EOI_EN, 0), FAULT_NONE);

	/* 1 at vCPU creation (section 2.1); bit 0 only, the rest reserved (#GP). */
	f = rdmsr_safe(MSR_KVM_POLL_CONTROL, &v);
	check("kvm_poll_control_initial", !f && v == 1, "%s, read 0x%llx, expected 1",
	      fault_name(f), (unsigned long long)v);
	f = wrmsr_safe(MSR_KVM_POLL_CONTROL, 0);
	if (!f)
		f = rdmsr_safe(MSR_KVM_POLL_CONTROL, &v);
	check("kvm_poll_control_write0", !f && v == 0, "%s, read 0x%llx, expected 0", fault_name(f),
	      (unsigned long long)v);
	f = wrmsr_safe(MSR_KVM_POLL_CONTROL, 1);
	if (!f)
		f = rdmsr_safe(MSR_KVM_POLL_CONTROL, &v);
	check("kvm_poll_control_write1", !f && v == 1, "%s, read 0x%llx, expected 1", fault_name(f),
	      (unsigned long long)v);
	EXPECT_FAULT("kvm_poll_control_reserved_gp", wrmsr_safe(MSR_KVM_POLL_CONTROL, 2),
		     FAULT(X86_GP));

	/* KVM has no MSR there and injects #GP, as for any unknown MSR. */
	EXPECT_FAULT("kvm_msr_undefined_gp", rdmsr_safe(MSR_KVM_UNUSED, &v), FAULT(X86_GP));
}

/* ---- Hypercalls (section 3) ---- */

static void expect_hc(const char *name, enum hc_insn insn, uint64_t nr, uint64_t a0, uint64_t a1,
		      uint64_t want)
{
	uint64_t ret = 0;
	int f = hypercall(insn, nr, a0, a1, 0, 0, &ret);

	check(name, !f && ret == want, "%s %llu: %s, rax 0x%llx (%lld), expected %lld",
	      hc_insn_name(insn), (unsigned long long)nr, fault_name(f), (unsigned long long)ret,
	      (long long)ret, (long long)want);
}

/* Section 3.1: only RAX changes. */
static void test_hc_registers(void)
{
	uint64_t rax = HC_UNKNOWN, rbx = 0x1111, rcx = 0x2222, rdx = 0x3333, rsi = 0x4444;
	uint64_t rdi = 0x5555, r8 = 0x6666;
	int f;

	fault_arm();
	if (hc_native_insn() == HC_VMMCALL)
		asm volatile("mov %[r8], %%r8\n1: vmmcall\n2:\n\tmov %%r8, %[r8]\n\t" GUEST_EXTABLE(
				     1b, 2b)
			     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi),
			       "+D"(rdi), [r8] "+m"(r8)
			     :
			     : "r8", "memory");
	else
		asm volatile("mov %[r8], %%r8\n1: vmcall\n2:\n\tmov %%r8, %[r8]\n\t" GUEST_EXTABLE(
				     1b, 2b)
			     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi),
			       "+D"(rdi), [r8] "+m"(r8)
			     :
			     : "r8", "memory");
	f = fault_result();
	check("kvm_hc_preserves_registers",
	      !f && rax == neg(KVM_ENOSYS) && rbx == 0x1111 && rcx == 0x2222 && rdx == 0x3333 &&
		      rsi == 0x4444 && rdi == 0x5555 && r8 == 0x6666,
	      "%s: rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx r8 %llx", fault_name(f),
	      (unsigned long long)rax, (unsigned long long)rbx, (unsigned long long)rcx,
	      (unsigned long long)rdx, (unsigned long long)rsi, (unsigned long long)rdi,
	      (unsigned long long)r8);
}

struct user_hc {
	enum hc_insn insn;
	uint64_t nr;
	uint64_t ret;
	int fault;
};

/* Runs at CPL 3: only computes; the checks run back in ring 0. */
static uint64_t user_hypercall(uint64_t arg)
{
	struct user_hc *h = (struct user_hc *)arg;

	h->fault = hypercall(h->insn, h->nr, 0, 0, 0, 0, &h->ret);
	return read_cpl();
}

static void test_hypercalls(void)
{
	enum hc_insn native = hc_native_insn();
	enum hc_insn other = native == HC_VMMCALL ? HC_VMCALL : HC_VMMCALL;
	struct user_hc h;
	uint64_t ret = 0, cpl;
	int f;

	note("vendor %s: native hypercall instruction %s", cpu_vendor(), hc_insn_name(native));

	/* Section 3.5: the lead's promise is that both instructions work on either vendor. */
	expect_hc("kvm_hc_unknown_vmmcall", HC_VMMCALL, HC_UNKNOWN, 0, 0, neg(KVM_ENOSYS));
	expect_hc("kvm_hc_unknown_vmcall", HC_VMCALL, HC_UNKNOWN, 0, 0, neg(KVM_ENOSYS));
	expect_hc("kvm_hc_vapic_poll_irq_vmmcall", HC_VMMCALL, KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0);
	expect_hc("kvm_hc_vapic_poll_irq_vmcall", HC_VMCALL, KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0);
	/* Numbers are 64-bit in long mode: the upper half is not ignored. */
	expect_hc("kvm_hc_number_is_64bit", HC_NATIVE, (1ull << 32) | KVM_HC_VAPIC_POLL_IRQ, 0, 0,
		  neg(KVM_ENOSYS));
	test_hc_registers();

	/* Section 3.4: clock type 1 does not exist, so -KVM_EOPNOTSUPP. */
	expect_hc("kvm_hc_clock_pairing_bad_type", HC_NATIVE, KVM_HC_CLOCK_PAIRING, gpa(&pairing),
		  1, neg(KVM_EOPNOTSUPP));
	/*
	 * Wall-clock type: 0 with the structure filled, or -KVM_EOPNOTSUPP when the host
	 * clock is not TSC-based; never ENOSYS, which ptp_kvm reads as "no such call".
	 */
	f = hypercall(HC_NATIVE, KVM_HC_CLOCK_PAIRING, gpa(&pairing), 0, 0, 0, &ret);
	if (!f && ret == 0) {
		note("clock pairing: sec %lld nsec %lld tsc %llu", (long long)pairing.sec,
		     (long long)pairing.nsec, (unsigned long long)pairing.tsc);
		check("kvm_hc_clock_pairing", pairing.sec > EPOCH_2020 && pairing.tsc != 0,
		      "returned 0 with sec %lld tsc %llu", (long long)pairing.sec,
		      (unsigned long long)pairing.tsc);
	} else {
		check("kvm_hc_clock_pairing", !f && ret == neg(KVM_EOPNOTSUPP),
		      "%s, rax %lld, expected 0 or %lld", fault_name(f), (long long)ret,
		      (long long)neg(KVM_EOPNOTSUPP));
	}

	/* Section 3.1: any hypercall from CPL != 0 is -KVM_EPERM, whatever its number. */
	h = (struct user_hc){ .insn = native, .nr = KVM_HC_VAPIC_POLL_IRQ };
	cpl = user_call(user_hypercall, (uint64_t)&h);
	check("kvm_hc_cpl3_eperm", cpl == 3 && !h.fault && h.ret == neg(KVM_EPERM),
	      "cpl %llu, %s, rax %lld, expected %lld", (unsigned long long)cpl, fault_name(h.fault),
	      (long long)h.ret, (long long)neg(KVM_EPERM));
	h = (struct user_hc){ .insn = native, .nr = HC_UNKNOWN };
	cpl = user_call(user_hypercall, (uint64_t)&h);
	check("kvm_hc_cpl3_unknown_eperm", cpl == 3 && !h.fault && h.ret == neg(KVM_EPERM),
	      "cpl %llu, %s, rax %lld, expected %lld", (unsigned long long)cpl, fault_name(h.fault),
	      (long long)h.ret, (long long)neg(KVM_EPERM));
	/*
	 * The other vendor's instruction at CPL 3: KVM patches it and returns -KVM_EPERM;
	 * section 3.5's advice for a hypervisor (emulate only at CPL 0) reflects #UD.
	 * Either keeps ring 3 out, so both pass.
	 */
	h = (struct user_hc){ .insn = other, .nr = KVM_HC_VAPIC_POLL_IRQ };
	cpl = user_call(user_hypercall, (uint64_t)&h);
	check("kvm_hc_cpl3_other_insn",
	      cpl == 3 && ((!h.fault && h.ret == neg(KVM_EPERM)) || h.fault == FAULT(X86_UD)),
	      "%s: cpl %llu, %s, rax %lld, expected %lld or #UD", hc_insn_name(other),
	      (unsigned long long)cpl, fault_name(h.fault), (long long)h.ret,
	      (long long)neg(KVM_EPERM));
}

void guest_main(void)
{
	test_cpuid();
	test_clocks();
	test_other_msrs();
	test_hypercalls();
}
