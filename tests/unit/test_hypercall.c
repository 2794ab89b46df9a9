// SPDX-License-Identifier: MIT
/*
 * Unit tests for hv/hypercall.c against a fake partition: a set of vCPUs
 * known by APIC ID that records kicks, yields and IPIs. Expected values come
 * from the fact sheet (/work/shared/docs/kvm-pv-abi-and-linux-boot.md 3) and Linux v6.1
 * arch/x86/kvm/x86.c kvm_emulate_hypercall(), arch/x86/kvm/lapic.c
 * kvm_pv_send_ipi(); the guest's IPI clustering is replicated from
 * arch/x86/kernel/kvm.c __send_ipi_mask().
 */
#include "test.h"

#include <keel/hypercall.h>

#define MAX_VCPUS 64

struct fake {
	uint32_t ids[MAX_VCPUS];
	int nr;
	int ipis[MAX_VCPUS];
	uint8_t last_vector, last_mode;
	uint32_t kicked[16], yielded[16];
	int nr_kicked, nr_yielded;
	int calls; /* any callback */
};

static int fake_find(struct fake *f, uint32_t id)
{
	for (int i = 0; i < f->nr; i++)
		if (f->ids[i] == id)
			return i;
	return -1;
}

static void fake_kick(void *ctx, uint32_t apic_id)
{
	struct fake *f = ctx;

	f->calls++;
	if (f->nr_kicked < 16)
		f->kicked[f->nr_kicked++] = apic_id;
}

static void fake_yield(void *ctx, uint32_t apic_id)
{
	struct fake *f = ctx;

	f->calls++;
	if (f->nr_yielded < 16)
		f->yielded[f->nr_yielded++] = apic_id;
}

static bool fake_send_ipi(void *ctx, uint32_t apic_id, uint8_t vector, uint8_t mode)
{
	struct fake *f = ctx;
	int i = fake_find(f, apic_id);

	f->calls++;
	f->last_vector = vector;
	f->last_mode = mode;
	if (i < 0)
		return false;
	f->ipis[i]++;
	return true;
}

static struct kvm_hc_env env_for(struct fake *f)
{
	return (struct kvm_hc_env){
		.ctx = f,
		.kick = fake_kick,
		.send_ipi = fake_send_ipi,
		.yield_to = fake_yield,
	};
}

static void fake_init(struct fake *f, const uint32_t *ids, int nr)
{
	memset(f, 0, sizeof(*f));
	if (nr)
		memcpy(f->ids, ids, (size_t)nr * sizeof(*ids));
	f->nr = nr;
}

static int total_ipis(const struct fake *f)
{
	int n = 0;

	for (int i = 0; i < f->nr; i++)
		n += f->ipis[i];
	return n;
}

TEST(error_values)
{
	/* Fact sheet 3.2: the RAX values. */
	CHECK_EQ((uint64_t)(int64_t)-KVM_ENOSYS, 0xfffffffffffffc18ull);
	CHECK_EQ((uint64_t)(int64_t)-KVM_EFAULT, 0xfffffffffffffff2ull);
	CHECK_EQ((uint64_t)(int64_t)-KVM_EINVAL, 0xffffffffffffffeaull);
	CHECK_EQ((uint64_t)(int64_t)-KVM_EPERM, 0xffffffffffffffffull);
	CHECK_EQ((uint64_t)(int64_t)-KVM_EOPNOTSUPP, 0xffffffffffffffa1ull);
	CHECK_EQ(KVM_E2BIG, 7);
}

TEST(cpl_nonzero_is_eperm)
{
	static const uint32_t ids[] = { 0, 1 };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, 2);
	env = env_for(&f);
	for (unsigned int cpl = 1; cpl <= 3; cpl++) {
		CHECK_EQ(kvm_hypercall(&env, cpl, KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0), -KVM_EPERM);
		CHECK_EQ(kvm_hypercall(&env, cpl, KVM_HC_KICK_CPU, 0, 1, 0, 0), -KVM_EPERM);
		CHECK_EQ(kvm_hypercall(&env, cpl, KVM_HC_SEND_IPI, 3, 0, 0, 0xfd), -KVM_EPERM);
		CHECK_EQ(kvm_hypercall(&env, cpl, KVM_HC_SCHED_YIELD, 1, 0, 0, 0), -KVM_EPERM);
		CHECK_EQ(kvm_hypercall(&env, cpl, KVM_HC_CLOCK_PAIRING, 0, 0, 0, 0), -KVM_EPERM);
		CHECK_EQ(kvm_hypercall(&env, cpl, 12345, 0, 0, 0, 0), -KVM_EPERM);
	}
	CHECK_EQ(f.calls, 0);
}

TEST(unknown_numbers_are_enosys)
{
	static const uint64_t nrs[] = {
		0,
		KVM_HC_MMU_OP,
		KVM_HC_FEATURES,
		KVM_HC_PPC_MAP_MAGIC_PAGE,
		6,
		7,
		8,
		KVM_HC_MAP_GPA_RANGE,
		13,
		1000,
		0x100000001ull,
		~0ull,
	};
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, NULL, 0);
	env = env_for(&f);
	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++)
		CHECK_EQ(kvm_hypercall(&env, 0, nrs[i], 1, 2, 3, 4), -KVM_ENOSYS);
	CHECK_EQ(f.calls, 0);
}

TEST(simple_calls)
{
	static const uint32_t ids[] = { 0, 1, 2 };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, 3);
	env = env_for(&f);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_VAPIC_POLL_IRQ, 9, 9, 9, 9), 0);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_CLOCK_PAIRING, 0x1000, 0, 0, 0), -KVM_EOPNOTSUPP);
	CHECK_EQ(f.calls, 0);

	/* KICK_CPU: a0 flags, a1 APIC ID. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_KICK_CPU, 0, 2, 0, 0), 0);
	CHECK_EQ(f.nr_kicked, 1);
	CHECK_EQ(f.kicked[0], 2);
	/* No vCPU can have the broadcast ID or one past 32 bits: nothing to kick. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_KICK_CPU, 0, 0xffffffffull, 0, 0), 0);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_KICK_CPU, 0, 0x100000002ull, 0, 0), 0);
	CHECK_EQ(f.nr_kicked, 1);

	/* SCHED_YIELD: a0 APIC ID. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SCHED_YIELD, 1, 7, 7, 7), 0);
	CHECK_EQ(f.nr_yielded, 1);
	CHECK_EQ(f.yielded[0], 1);
}

TEST(features_not_offered_are_enosys)
{
	static const uint32_t ids[] = { 0, 1 };
	struct fake f;
	struct kvm_hc_env env = { 0 };

	fake_init(&f, ids, 2);
	env.ctx = &f;
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_KICK_CPU, 0, 1, 0, 0), -KVM_ENOSYS);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1, 0, 0, 0xfd), -KVM_ENOSYS);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SCHED_YIELD, 1, 0, 0, 0), -KVM_ENOSYS);
	/* Not gated. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0), 0);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_CLOCK_PAIRING, 0, 0, 0, 0), -KVM_EOPNOTSUPP);
}

TEST(send_ipi_bitmap_walk)
{
	static const uint32_t ids[] = { 0, 1, 2, 3, 64, 65, 127, 128, 200 };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, ARRAY_SIZE(ids));
	env = env_for(&f);

	/* a0 bits 0, 1, 3 -> IDs 0, 1, 3. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0xb, 0, 0, 0xec), 3);
	CHECK_EQ(f.ipis[0], 1);
	CHECK_EQ(f.ipis[1], 1);
	CHECK_EQ(f.ipis[2], 0);
	CHECK_EQ(f.ipis[3], 1);
	CHECK_EQ(f.last_vector, 0xec);
	CHECK_EQ(f.last_mode, KVM_IPI_DM_FIXED);

	/* a1 covers min + 64 .. min + 127: bits 0, 1, 63 -> 64, 65, 127. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0, 0x8000000000000003ull, 0, 0xfb), 3);
	CHECK_EQ(f.ipis[4], 1);
	CHECK_EQ(f.ipis[5], 1);
	CHECK_EQ(f.ipis[6], 1);
	CHECK_EQ(total_ipis(&f), 3);

	/* Bits for IDs with no vCPU are not counted. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0xf0, 0x10, 0, 0x30), 0);
	CHECK_EQ(total_ipis(&f), 0);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0, 0, 0, 0x30), 0);

	/* min = 100: a0 bit 28 -> 128; a1 bit 36 -> 100 + 64 + 36 = 200. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1ull << 28, 1ull << 36, 100, 0x31), 2);
	CHECK_EQ(f.ipis[7], 1);
	CHECK_EQ(f.ipis[8], 1);

	/* min is a u32 (KVM's parameter type): the upper half of a2 is dropped. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1, 0, 0x100000002ull, 0x31), 1);
	CHECK_EQ(f.ipis[2], 1);

	/* NMI: APIC_DM_NMI with vector 0, as the 6.1 guest sends it. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 4, 0, 0, 0x400), 1);
	CHECK_EQ(f.last_mode, KVM_IPI_DM_NMI);
	CHECK_EQ(f.last_vector, 0);
	CHECK_EQ(f.ipis[2], 1);

	/* Level/trigger bits and the ICR high half are not the hypercall's business. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1, 0, 0, 0xffffffff0000c0f2ull), 1);
	CHECK_EQ(f.last_vector, 0xf2);
	CHECK_EQ(f.last_mode, KVM_IPI_DM_FIXED);
}

TEST(send_ipi_einval)
{
	static const uint32_t ids[] = { 0, 1 };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, 2);
	env = env_for(&f);
	/* Logical destination mode, or any shorthand (self, all, all-but-self). */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 3, 0, 0, 0x8fd), -KVM_EINVAL);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 3, 0, 0, 0x400fd), -KVM_EINVAL);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 3, 0, 0, 0x800fd), -KVM_EINVAL);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 3, 0, 0, 0xc00fd), -KVM_EINVAL);
	/* Even with an empty bitmap. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0, 0, 0, 0x800), -KVM_EINVAL);
	CHECK_EQ(f.calls, 0);
}

TEST(send_ipi_top_of_x2apic_range)
{
	static const uint32_t ids[] = { 0, 0xfffffffeu, 0xffffffc0u };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, ARRAY_SIZE(ids));
	env = env_for(&f);
	/*
	 * min = 0xffffffc0: a0 bit 0 -> 0xffffffc0, bit 62 -> 0xfffffffe, bit 63 ->
	 * 0xffffffff (broadcast: never a vCPU); the whole of a1 lies past 32 bits
	 * and must not wrap to ID 0.
	 */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 0xc000000000000001ull, ~0ull, 0xffffffc0u,
			       0x40),
		 2);
	CHECK_EQ(f.ipis[0], 0);
	CHECK_EQ(f.ipis[1], 1);
	CHECK_EQ(f.ipis[2], 1);
	CHECK_EQ(f.calls, 2);
}

TEST(op_32bit_truncation)
{
	static const uint32_t ids[] = { 0, 5, 32, 40, 64 };
	struct fake f;
	struct kvm_hc_env env;

	fake_init(&f, ids, ARRAY_SIZE(ids));
	env = env_for(&f);
	env.op_32bit = true;

	/* Results are truncated to 32 bits (KVM: ret = (u32)ret). */
	CHECK_EQ(kvm_hypercall(&env, 0, 99, 0, 0, 0, 0), 0xfffffc18ull);
	CHECK_EQ(kvm_hypercall(&env, 3, KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0), 0xffffffffull);
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1, 0, 0, 0x800), 0xffffffeaull);
	/* So is the number: 0x1_00000001 is VAPIC_POLL_IRQ. */
	CHECK_EQ(kvm_hypercall(&env, 0, 0x100000001ull, 0, 0, 0, 0), 0);

	/* Halves of 32 IDs: a1 bit 0 is min + 32; a0 bits 32..63 are dropped. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, (1ull << 40) | (1ull << 5),
			       1 | (1ull << 8), 0, 0x22),
		 3);
	CHECK_EQ(f.ipis[1], 1); /* 5 */
	CHECK_EQ(f.ipis[2], 1); /* 32 */
	CHECK_EQ(f.ipis[3], 1); /* 40 */
	CHECK_EQ(f.ipis[4], 0); /* 64: only reachable through a0 bit 40, dropped */
	/* Upper ICR half dropped too: no longer a shorthand. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_SEND_IPI, 1, 0, 0, 0xc0000000000000f0ull), 1);

	/* KICK: a1 truncated. */
	CHECK_EQ(kvm_hypercall(&env, 0, KVM_HC_KICK_CPU, 0, 0x500000005ull, 0, 0), 0);
	CHECK_EQ(f.kicked[0], 5);
}

/*
 * Linux v6.1 __send_ipi_mask(), 64-bit: walks the target APIC IDs in CPU order
 * and issues one KVM_HC_SEND_IPI per cluster of 128 IDs.
 */
static long guest_send_ipi_mask(const struct kvm_hc_env *env, const uint32_t *apic_ids, int n,
				int vector, int *calls)
{
	unsigned __int128 ipi_bitmap = 0;
	int min = 0, max = 0;
	long total = 0, ret;
	int icr = vector == 2 ? 0x400 : vector; /* NMI_VECTOR -> APIC_DM_NMI */

	for (int i = 0; i < n; i++) {
		int apic_id = (int)apic_ids[i];

		if (!ipi_bitmap) {
			min = max = apic_id;
		} else if (apic_id < min && max - apic_id < 128) {
			ipi_bitmap <<= min - apic_id;
			min = apic_id;
		} else if (apic_id > min && apic_id < min + 128) {
			max = apic_id < max ? max : apic_id;
		} else {
			ret = (long)kvm_hypercall(env, 0, KVM_HC_SEND_IPI, (uint64_t)ipi_bitmap,
						  (uint64_t)(ipi_bitmap >> 64), (uint64_t)min,
						  (uint64_t)icr);
			(*calls)++;
			if (ret < 0)
				return ret;
			total += ret;
			min = max = apic_id;
			ipi_bitmap = 0;
		}
		ipi_bitmap |= (unsigned __int128)1 << (apic_id - min);
	}
	if (ipi_bitmap) {
		ret = (long)kvm_hypercall(env, 0, KVM_HC_SEND_IPI, (uint64_t)ipi_bitmap,
					  (uint64_t)(ipi_bitmap >> 64), (uint64_t)min,
					  (uint64_t)icr);
		(*calls)++;
		if (ret < 0)
			return ret;
		total += ret;
	}
	return total;
}

TEST(guest_clusters_reach_every_target)
{
	/* x2APIC IDs, sparse and out of order as CPU numbering can make them. */
	static const uint32_t ids[] = {
		300, 0, 1, 2, 129, 128, 255, 256, 383, 40000, 39900, 40127, 70000, 5, 4, 3,
	};
	struct fake f;
	struct kvm_hc_env env;
	int calls = 0;

	fake_init(&f, ids, ARRAY_SIZE(ids));
	env = env_for(&f);
	CHECK_EQ(guest_send_ipi_mask(&env, ids, ARRAY_SIZE(ids), 0xfd, &calls), ARRAY_SIZE(ids));
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		CHECK_EQ(f.ipis[i], 1);
	CHECK(calls > 1);

	/* NMI to all. */
	fake_init(&f, ids, ARRAY_SIZE(ids));
	calls = 0;
	CHECK_EQ(guest_send_ipi_mask(&env, ids, ARRAY_SIZE(ids), 2, &calls), ARRAY_SIZE(ids));
	CHECK_EQ(f.last_mode, KVM_IPI_DM_NMI);

	/* A subset, including IDs that have no vCPU in the bitmap of a call. */
	{
		static const uint32_t some[] = { 255, 256, 1000, 70000 };

		fake_init(&f, ids, ARRAY_SIZE(ids));
		calls = 0;
		CHECK_EQ(guest_send_ipi_mask(&env, some, ARRAY_SIZE(some), 0xfd, &calls), 3);
		CHECK_EQ(total_ipis(&f), 3);
	}
}

TEST_MAIN(TEST_CASE(error_values), TEST_CASE(cpl_nonzero_is_eperm),
	  TEST_CASE(unknown_numbers_are_enosys), TEST_CASE(simple_calls),
	  TEST_CASE(features_not_offered_are_enosys), TEST_CASE(send_ipi_bitmap_walk),
	  TEST_CASE(send_ipi_einval), TEST_CASE(send_ipi_top_of_x2apic_range),
	  TEST_CASE(op_32bit_truncation), TEST_CASE(guest_clusters_reach_every_target))
