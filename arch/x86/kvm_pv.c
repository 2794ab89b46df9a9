// SPDX-License-Identifier: MIT
/*
 * KVM paravirtual CPUID leaves and MSRs for guest partitions
 * (include/x86/kvm_pv.h). Behaviour follows Linux v6.1 host KVM
 * (arch/x86/kvm/x86.c kvm_set_msr_common/kvm_get_msr_common,
 * kvm_write_wall_clock, kvm_setup_guest_pvclock, record_steal_time;
 * arch/x86/kvm/lapic.c kvm_lapic_set_pv_eoi, apic_sync_pv_eoi_*) as
 * summarised in /work/shared/docs/kvm-pv-abi-and-linux-boot.md 1 and 2, with two
 * deliberate differences:
 *   - an MSR whose feature bit is not offered is #GP (KVM does that only with
 *     KVM_CAP_ENFORCE_PV_FEATURE_CPUID);
 *   - a registration whose address is misaligned or not guest RAM is #GP at
 *     the WRMSR (KVM accepts it and then silently writes nothing), so a bad
 *     address is visible in the guest's log instead of a clock that never
 *     ticks.
 *
 * Guest memory is reached through env->gpa_to_hva() once, at the WRMSR; the
 * pointer is kept while the registration lasts (guest RAM does not move).
 */
#include <keel/errno.h>
#include <keel/pvclock.h>
#include <x86/kvm_pv.h>

static inline void kvm_pv_wmb(void)
{
	/* smp_wmb(): x86 keeps stores in order, so this only stops the compiler. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

uint32_t kvm_pv_features(const struct kvm_pv_config *cfg)
{
	uint32_t f = cfg->features & KVM_PV_FEATURES_SUPPORTED;

	if (cfg->tsc_stable)
		f |= KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	return f;
}

static bool offered(const struct kvm_pv_env *env, uint32_t feature)
{
	return (kvm_pv_features(env->cfg) & feature) != 0;
}

void kvm_cpuid(const struct kvm_pv_config *cfg, uint32_t leaf, uint32_t sub, uint32_t *a,
	       uint32_t *b, uint32_t *c, uint32_t *d)
{
	*a = *b = *c = *d = 0;
	switch (leaf) {
	case KVM_CPUID_SIGNATURE:
		/* The 6.1 guest does not check EAX; cpuid.rst: the highest leaf. */
		*a = cfg->tsc_khz ? KVM_CPUID_TIMING : KVM_CPUID_FEATURES;
		*b = KVM_SIGNATURE_EBX;
		*c = KVM_SIGNATURE_ECX;
		*d = KVM_SIGNATURE_EDX;
		break;
	case KVM_CPUID_FEATURES:
		*a = kvm_pv_features(cfg);
		*d = cfg->realtime ? KVM_HINTS_REALTIME : 0;
		break;
	case KVM_CPUID_TIMING:
		/* Only valid when the signature leaf's EAX reaches it (fact sheet 1.6). */
		if (cfg->tsc_khz) {
			*a = cfg->tsc_khz;
			*b = cfg->apic_bus_khz;
		}
		break;
	default:
		break;
	}
}

void kvm_pv_vcpu_init(struct kvm_pv_vcpu *s)
{
	*s = (struct kvm_pv_vcpu){ 0 };
	/* kvm_arch_vcpu_postcreate(): the host may halt-poll until told not to. */
	s->poll_control_msr = 1;
}

void kvm_pv_vcpu_reset(struct kvm_pv_vcpu *s)
{
	s->system_time_msr = 0;
	s->time = NULL;
	s->time_stop_request = false;
	s->steal_time_msr = 0;
	s->steal = NULL;
	s->pv_eoi_msr = 0;
	s->pv_eoi = NULL;
	s->pv_eoi_armed = NULL; /* INIT clears the ISR too */
}

/* The kvmclock scale of the partition. */
static void clock_scale(const struct kvm_pv_env *env, uint32_t *mul, int8_t *shift)
{
	pvclock_scale_for_khz(env->cfg->tsc_khz, mul, shift);
}

uint64_t kvm_pv_system_time_ns(const struct kvm_pv_env *env)
{
	uint64_t tsc = env->now_tsc(env->ctx);
	uint32_t mul;
	int8_t shift;

	if (tsc < env->tsc_base)
		return 0;
	clock_scale(env, &mul, &shift);
	return pvclock_scale_delta(tsc - env->tsc_base, mul, shift);
}

void kvm_pv_update_time(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env)
{
	struct pvclock_params p = {
		.tsc_timestamp = env->tsc_base,
		.system_time = 0,
		/*
		 * KVM also drops its master clock, and so this bit, while vCPU 0 uses
		 * MSR 0x12 (2.3.7), a workaround for 2.6.16-era guests. Keel does not:
		 * a guest offered CLOCKSOURCE2 never uses 0x12.
		 */
		.tsc_stable = env->cfg->tsc_stable,
		.guest_stopped = s->time_stop_request,
	};

	if (!s->time)
		return;
	clock_scale(env, &p.mul, &p.shift);
	pvclock_write_vcpu_time(s->time, &p);
	s->time_stop_request = false;
}

void kvm_pv_request_guest_stopped(struct kvm_pv_vcpu *s)
{
	s->time_stop_request = true;
}

/*
 * MSR_KVM_WALL_CLOCK(_NEW) (2.2): the whole value is the GPA of a 4-byte
 * aligned struct pvclock_wall_clock, filled at once with the wall-clock time
 * at kvmclock 0: now minus kvmclock now (KVM kvm_write_wall_clock).
 */
static int write_wall_clock(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint64_t value)
{
	volatile struct pvclock_wall_clock *wc;
	uint64_t now, up;

	if (value & 3)
		return -EINVAL;
	wc = env->gpa_to_hva(env->ctx, value, sizeof(*wc));
	if (!wc)
		return -EINVAL;
	now = env->wall_clock_ns ? env->wall_clock_ns(env->ctx) : 0;
	up = kvm_pv_system_time_ns(env);
	pvclock_write_wall_clock(wc, now > up ? now - up : 0);
	s->wall_clock_msr = value;
	return 0;
}

/*
 * MSR_KVM_SYSTEM_TIME(_NEW) (2.3.1): bit 0 enables, bits 63:1 are the GPA of
 * this vCPU's struct pvclock_vcpu_time_info, 4-byte aligned (msr.rst), so bit
 * 1 of an enabling value is #GP. Enabling writes the structure at once: the
 * guest reads it right after its WRMSR. Bit 0 clear stops all updates.
 */
static int write_system_time(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint64_t value)
{
	uint64_t gpa = value & ~KVM_MSR_ENABLED;
	volatile struct pvclock_vcpu_time_info *t = NULL;

	if (value & KVM_MSR_ENABLED) {
		if (gpa & 3)
			return -EINVAL;
		t = env->gpa_to_hva(env->ctx, gpa, sizeof(*t));
		if (!t)
			return -EINVAL;
	}
	s->system_time_msr = value;
	s->time = t;
	s->time_stop_request = false;
	kvm_pv_update_time(s, env);
	return 0;
}

/*
 * MSR_KVM_STEAL_TIME (2.5): bit 0 enables, bits 5:1 are reserved (#GP),
 * bits 63:6 the GPA of a 64-byte struct kvm_steal_time.
 */
static int write_steal_time(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint64_t value)
{
	uint64_t gpa = value & ~((1ull << KVM_STEAL_ALIGNMENT_BITS) - 1);
	volatile struct kvm_steal_time *st = NULL;

	if (value & KVM_STEAL_RESERVED_MASK)
		return -EINVAL;
	if (value & KVM_MSR_ENABLED) {
		st = env->gpa_to_hva(env->ctx, gpa, sizeof(*st));
		if (!st)
			return -EINVAL;
	}
	s->steal_time_msr = value;
	s->steal = st;
	/* KVM's first record_steal_time(): make the version even. */
	kvm_pv_record_steal(s, 0);
	return 0;
}

/*
 * MSR_KVM_PV_EOI_EN (2.6): bit 0 enables, bits 63:1 are the GPA, which must be
 * 4-byte aligned (KVM kvm_lapic_set_pv_eoi: bit 1 set is #GP, enabled or not).
 * One byte is used. A bit armed at the last entry stays armed until
 * kvm_pv_eoi_sync_from_guest().
 */
static int write_pv_eoi(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint64_t value)
{
	uint64_t gpa = value & ~KVM_MSR_ENABLED;
	volatile uint8_t *p = NULL;

	if (gpa & 3)
		return -EINVAL;
	if (value & KVM_MSR_ENABLED) {
		p = env->gpa_to_hva(env->ctx, gpa, 1);
		if (!p)
			return -EINVAL;
	}
	s->pv_eoi_msr = value;
	s->pv_eoi = p;
	return 0;
}

int kvm_msr_write(struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_KVM_WALL_CLOCK:
		if (!offered(env, KVM_FEATURE_CLOCKSOURCE))
			return -EINVAL;
		return write_wall_clock(s, env, value);
	case MSR_KVM_WALL_CLOCK_NEW:
		if (!offered(env, KVM_FEATURE_CLOCKSOURCE2))
			return -EINVAL;
		return write_wall_clock(s, env, value);
	case MSR_KVM_SYSTEM_TIME:
		if (!offered(env, KVM_FEATURE_CLOCKSOURCE))
			return -EINVAL;
		return write_system_time(s, env, value);
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!offered(env, KVM_FEATURE_CLOCKSOURCE2))
			return -EINVAL;
		return write_system_time(s, env, value);
	case MSR_KVM_ASYNC_PF_EN:
		/*
		 * ASYNC_PF is never offered (Keel does not page guest RAM out). A 6.1
		 * guest without the bit never writes this MSR; "off" is accepted
		 * anyway, enabling is #GP.
		 */
		return value ? -EINVAL : 0;
	case MSR_KVM_STEAL_TIME:
		if (!offered(env, KVM_FEATURE_STEAL_TIME))
			return -EINVAL;
		return write_steal_time(s, env, value);
	case MSR_KVM_PV_EOI_EN:
		if (!offered(env, KVM_FEATURE_PV_EOI))
			return -EINVAL;
		return write_pv_eoi(s, env, value);
	case MSR_KVM_POLL_CONTROL:
		/* Bit 0 only (2.7). Keel never halt-polls: the value is only kept. */
		if (!offered(env, KVM_FEATURE_POLL_CONTROL) || (value & ~1ull))
			return -EINVAL;
		s->poll_control_msr = value;
		return 0;
	default:
		/* ASYNC_PF_INT/ACK, MIGRATION_CONTROL (never offered), the rest of the range. */
		if (msr >= MSR_KVM_FIRST && msr <= MSR_KVM_LAST)
			return -EINVAL;
		return -ENOENT;
	}
}

int kvm_msr_read(const struct kvm_pv_vcpu *s, const struct kvm_pv_env *env, uint32_t msr,
		 uint64_t *value)
{
	/* Reads return the last value written (KVM kvm_get_msr_common). */
	switch (msr) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		if (!offered(env, msr == MSR_KVM_WALL_CLOCK ? KVM_FEATURE_CLOCKSOURCE
							    : KVM_FEATURE_CLOCKSOURCE2))
			return -EINVAL;
		*value = s->wall_clock_msr;
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!offered(env, msr == MSR_KVM_SYSTEM_TIME ? KVM_FEATURE_CLOCKSOURCE
							     : KVM_FEATURE_CLOCKSOURCE2))
			return -EINVAL;
		*value = s->system_time_msr;
		return 0;
	case MSR_KVM_ASYNC_PF_EN:
		*value = 0;
		return 0;
	case MSR_KVM_STEAL_TIME:
		if (!offered(env, KVM_FEATURE_STEAL_TIME))
			return -EINVAL;
		*value = s->steal_time_msr;
		return 0;
	case MSR_KVM_PV_EOI_EN:
		if (!offered(env, KVM_FEATURE_PV_EOI))
			return -EINVAL;
		*value = s->pv_eoi_msr;
		return 0;
	case MSR_KVM_POLL_CONTROL:
		if (!offered(env, KVM_FEATURE_POLL_CONTROL))
			return -EINVAL;
		*value = s->poll_control_msr;
		return 0;
	default:
		if (msr >= MSR_KVM_FIRST && msr <= MSR_KVM_LAST)
			return -EINVAL;
		return -ENOENT;
	}
}

void kvm_pv_record_steal(struct kvm_pv_vcpu *s, uint64_t ns)
{
	volatile struct kvm_steal_time *st = s->steal;
	uint32_t version;

	if (!st)
		return;
	/* KVM record_steal_time(): junk odd version made even, +1, steal, +1. */
	version = st->version;
	if (version & 1)
		version++;
	st->version = version + 1;
	kvm_pv_wmb();
	st->steal = st->steal + ns;
	kvm_pv_wmb();
	st->version = version + 2;
}

void kvm_pv_set_preempted(struct kvm_pv_vcpu *s)
{
	if (s->steal)
		__atomic_store_n(&s->steal->preempted, KVM_VCPU_PREEMPTED, __ATOMIC_RELEASE);
}

bool kvm_pv_clear_preempted(struct kvm_pv_vcpu *s)
{
	uint8_t old;

	if (!s->steal)
		return false;
	/*
	 * Other vCPUs may set KVM_VCPU_FLUSH_TLB with cmpxchg while
	 * KVM_VCPU_PREEMPTED is set: exchange, so no request is lost.
	 */
	old = __atomic_exchange_n(&s->steal->preempted, 0, __ATOMIC_ACQ_REL);
	return (old & KVM_VCPU_FLUSH_TLB) != 0;
}

bool kvm_pv_eoi_sync_to_guest(struct kvm_pv_vcpu *s)
{
	if (!s->pv_eoi)
		return false;
	/* Only this vCPU's context touches the byte; the guest uses no LOCK. */
	*s->pv_eoi = KVM_PV_EOI_PENDING_BIT;
	s->pv_eoi_armed = s->pv_eoi;
	return true;
}

bool kvm_pv_eoi_sync_from_guest(struct kvm_pv_vcpu *s)
{
	volatile uint8_t *p = s->pv_eoi_armed;

	if (!p)
		return false;
	s->pv_eoi_armed = NULL;
	if (*p & KVM_PV_EOI_PENDING_BIT) {
		*p = 0; /* not used: take the bit back */
		return false;
	}
	return true; /* the guest cleared it: its EOI is ours to do */
}
