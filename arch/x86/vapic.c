// SPDX-License-Identifier: MIT
/*
 * The host partition's local APIC while it starts its CPUs. The host sees
 * the real APICs, but its INIT and STARTUP IPIs must not reach the real
 * CPUs: those run Keel. Until every host vCPU has started, the APIC page
 * (xAPIC MMIO) is left out of the host's nested page tables; each access
 * exits, is decoded (arch/x86/decode.c) and performed on the real APIC of
 * this CPU, except ICR writes of INIT or STARTUP, which Keel turns into
 * state changes of the target vCPU. Once all host vCPUs run, the page is
 * mapped through and the host's APIC accesses no longer exit.
 *
 * With the APIC in x2APIC mode (left on by firmware), the same is done
 * for writes to the ICR MSR, intercepted through the MSR map instead.
 *
 * An INIT to a running vCPU (CPU hot-plug: Linux starts an offline CPU
 * again) is applied at its next exit, which an NMI forces; the STARTUP
 * after it starts the vCPU again. Once the APIC is passed through (no guest
 * partitions), those IPIs are physical: the INIT exits, the vCPU waits in
 * the wait-for-SIPI state (VMX) and the STARTUP wakes it (vcpu_exit.c).
 */
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/partition.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/decode.h>
#include <x86/io.h>
#include <x86/s2pt.h>
#include <x86/vcpu.h>

#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_MODE(lo) (((lo) >> 8) & 7)
#define ICR_MODE_INIT 5
#define ICR_MODE_STARTUP 6
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_SHORTHAND(lo) (((lo) >> 18) & 3)

static uint64_t apic_page(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & 0xffffff000ull;
}

bool vapic_is_apic_page(uint64_t gpa)
{
	return (gpa & ~0xfffull) == apic_page();
}

#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_SHORTHAND_MASK (3u << 18)

/* Set when guest partitions exist: the host's IPIs are then re-sent to host CPUs only. */
bool vapic_host_isolated;

/* Logical destination match (SDM Vol. 3A 12.6.2.2): flat or cluster model, or x2APIC cluster. */
static bool logical_match(const struct vcpu *t, uint32_t dest)
{
	if (lapic_x2apic_mode()) {
		uint32_t ldr = ((t->apic_id >> 4) << 16) | (1u << (t->apic_id & 0xf));

		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	if ((t->host_dfr >> 28) == 0xf) /* flat */
		return (dest & (t->host_ldr >> 24) & 0xff) != 0;
	return (dest >> 4) == (t->host_ldr >> 28) && (dest & (t->host_ldr >> 24) & 0xf);
}

static bool icr_targets(struct vcpu *self, struct vcpu *t, uint32_t lo, uint32_t dest)
{
	switch (ICR_SHORTHAND(lo)) {
	case 1:
		return t == self;
	case 2:
		return true;
	case 3:
		return t != self;
	default:
		if (lo & ICR_DEST_LOGICAL)
			return logical_match(t, dest);
		return t->apic_id == dest;
	}
}

/*
 * With guest partitions on the machine, an IPI the host writes is sent by
 * Keel to each host CPU it names, one physical-destination IPI at a time;
 * anything naming another partition's CPU never leaves Keel.
 */
static void host_ipi_filtered(struct vcpu *v, uint32_t lo, uint32_t dest)
{
	static bool reported;
	struct partition *p = v->part;
	uint32_t sent = 0;
	uint32_t one = lo & ~(ICR_SHORTHAND_MASK | ICR_DEST_LOGICAL);

	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *t = p->vcpus[i];

		if (icr_targets(v, t, lo, dest)) {
			lapic_send_ipi(t->apic_id, one);
			sent++;
		}
	}
	if (!sent && !ICR_SHORTHAND(lo) && !reported) {
		reported = true;
		printk("keel: partition %s: IPI to APIC ID %u, not one of its CPUs, dropped "
		       "(reported once)\n",
		       p->name, dest);
	}
}

/*
 * An ICR write by the host (xAPIC: lo with the destination already in the
 * real ICR_HI; x2APIC: dest from the MSR's high half). INIT and STARTUP
 * become vCPU state; every other IPI is sent as written. Returns false for
 * an IPI Keel left to the caller to send.
 */
static bool host_icr_virtualize(struct vcpu *v, uint32_t lo, uint32_t dest)
{
	struct partition *p = v->part;
	uint32_t mode = ICR_MODE(lo);

	if (mode != ICR_MODE_INIT && mode != ICR_MODE_STARTUP) {
		if (!vapic_host_isolated)
			return false;
		host_ipi_filtered(v, lo, dest);
		return true;
	}
	/* INIT level de-assert (SDM Vol. 3A 12.6.1) does nothing on current CPUs. */
	if (mode == ICR_MODE_INIT && !(lo & ICR_LEVEL_ASSERT))
		return true;
	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *t = p->vcpus[i];

		if (!icr_targets(v, t, lo, dest))
			continue;
		if (mode == ICR_MODE_INIT) {
			/* CPU hot-plug: the vCPU goes back to the state after INIT at its next exit. */
			if (t->state == VCPU_RUNNING && t != v) {
				__atomic_store_n(&t->init_pending, true, __ATOMIC_SEQ_CST);
				lapic_send_ipi(t->cpu->apic_id, ICR_DM_NMI); /* an NMI exit */
			}
			continue;
		}
		/* After INIT only; an INIT not applied yet counts (Linux sends STARTUP at once). */
		if (t->state == VCPU_WAIT_SIPI || t->init_pending) {
			t->sipi_vector = lo & 0xff;
			__atomic_store_n(&t->sipi_pending, true, __ATOMIC_SEQ_CST);
			vcpu_wake(t);
		}
	}
	return true;
}

/* The host's write to the x2APIC ICR MSR (0x830), intercepted while its CPUs start. */
void vapic_host_x2apic_icr(struct vcpu *v, uint64_t value)
{
	if (!host_icr_virtualize(v, (uint32_t)value, (uint32_t)(value >> 32)))
		wrmsr(MSR_X2APIC_ICR, value);
}

enum exit_action vapic_host_mmio(struct vcpu *v, struct vm_exit *e)
{
	uint8_t bytes[15];
	struct mmio_insn insn;
	uint64_t rip = vcpu_ops->get_rip(v);
	size_t n = MIN(sizeof(bytes), PAGE_SIZE - (rip & 0xfff));
	uint32_t off = e->npf.gpa & 0xfff;
	uint64_t *reg;
	int ret;

	ret = guest_read_virt(v, rip, bytes, n);
	if (!ret) {
		ret = x86_decode_mmio(bytes, n, vcpu_ops->get_efer(v) & (1ull << 10), &insn);
		if (ret == -EAGAIN && n < sizeof(bytes) &&
		    !guest_read_virt(v, rip, bytes, sizeof(bytes)))
			ret = x86_decode_mmio(bytes, sizeof(bytes),
					      vcpu_ops->get_efer(v) & (1ull << 10), &insn);
	}
	if (ret) {
		partition_stop(v->part,
			       "cannot decode the instruction at 0x%llx accessing the "
			       "local APIC (offset 0x%x): %d",
			       (unsigned long long)rip, off, ret);
		return EXIT_STOP_VCPU;
	}
	reg = &((uint64_t *)&v->regs)[insn.reg];
	if (insn.op == MMIO_READ) {
		uint64_t value = mmio_read32(apic_page() + (off & ~3u)) >> ((off & 3) * 8);
		*reg = x86_mmio_merge(&insn, *reg, value);
	} else {
		uint32_t value = (uint32_t)(insn.op == MMIO_WRITE_IMM ? insn.imm : *reg);

		if ((off & ~3u) == APIC_ICR_LO) {
			uint32_t dest = mmio_read32(apic_page() + APIC_ICR_HI) >> 24;

			if (!host_icr_virtualize(v, value, dest))
				mmio_write32(apic_page() + APIC_ICR_LO, value);
		} else {
			/* The logical destination registers are needed to filter IPIs. */
			if ((off & ~3u) == APIC_LDR)
				v->host_ldr = value;
			else if ((off & ~3u) == APIC_DFR)
				v->host_dfr = value;
			mmio_write32(apic_page() + (off & ~3u), value);
		}
	}
	vcpu_skip(v, insn.length);
	return EXIT_RESUME;
}

/* Map the APIC page through once every host vCPU runs (called from the exit loop). */
void vapic_host_passthrough(struct partition *p)
{
	static bool done; /* all vCPUs run again after a CPU hot-plug: nothing new */

	if (done)
		return;
	done = true;
	if (vapic_host_isolated) {
		printk("keel: partition %s: all %u vcpus started; its local APIC stays emulated so "
		       "its IPIs cannot reach guest partitions\n",
		       p->name, p->nr_vcpus);
		return;
	}
	if (lapic_x2apic_mode()) {
		vcpu_ops->intercept_msr_write(MSR_X2APIC_ICR, false);
		printk("keel: partition %s: all %u vcpus started; x2APIC ICR passed through\n",
		       p->name, p->nr_vcpus);
		return;
	}
	if (s2pt_map(p->stage2, apic_page(), apic_page(), PAGE_SIZE, S2PT_RWX, S2PT_UC))
		return; /* out of memory: keep emulating, which stays correct */
	__atomic_fetch_add(&p->stage2_gen, 1, __ATOMIC_RELEASE);
	printk("keel: partition %s: all %u vcpus started; local APIC passed through\n", p->name,
	       p->nr_vcpus);
}
