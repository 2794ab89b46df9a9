// SPDX-License-Identifier: MIT
/*
 * Guest partitions on x86 (docs/guest-platform.md): their second-stage
 * tables, vCPUs and entry state, and the exit policies of a partition that
 * owns no hardware. Every port and MSR exits; RAM is mapped; the device
 * window [3.5 GiB, 4 GiB) exits to the emulated devices or reads as an
 * empty bus; any other address is outside the partition and stops it.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/decode.h>
#include <x86/guest.h>
#include <x86/io.h>
#include <x86/s2pt.h>
#include <x86/vioapic.h>
#include <x86/vlapic.h>
#include <keel/spinlock.h>
#include <keel/vdev.h>
#include <keel/vdev_cmos.h>
#include <keel/vdev_debug_exit.h>
#include <keel/vdev_fw_cfg.h>
#include <keel/vdev_legacy.h>
#include <keel/vdev_uart.h>
#include <keel/acpi_build.h>
#include <keel/config.h>
#include <keel/hypercall.h>
#include <keel/wallclock.h>
#include <x86/kvm_pv.h>
#include <x86/vlapic.h>

#define X86_GP 13
#define X86_NMI 2
#define RFLAGS_IF (1u << 9)

/*
 * A guest's emulated platform. One lock serializes every device model of
 * the partition: an EOI can run local APIC -> IOAPIC -> local APIC in one
 * chain, and IPIs cross vCPUs, so per-device locks would deadlock.
 */
struct guest_vcpu_devices {
	struct vlapic lapic;
	struct kvm_pv_vcpu kvm;
	/* A KVM_HC_KICK_CPU that arrived before the vCPU halted (fact sheet 3.4). */
	volatile bool pv_kicked;
	/* A 10 s halt with IF = 0 was reported (once per vCPU: a finished payload halts so). */
	bool halt_reported;
};

struct guest_platform {
	struct spinlock lock;
	struct vioapic ioapic;
	struct vuart uart;
	/* Console input waiting for room in the UART's receiver (hv/console_input.c). */
	uint8_t rx_pending[256];
	uint32_t rx_head, rx_count, rx_dropped;
	struct vcmos cmos;
	struct vlegacy legacy;
	struct vdebug_exit debug_exit;
	struct vfwcfg fw_cfg;
	struct vdev_unassigned_log unassigned;
	struct kvm_pv_config kvm;
	uint64_t tsc_base; /* kvm-clock counts from here: the partition's start */
	struct guest_vcpu_devices vcpu[];
};

static struct guest_platform *platform_of(struct partition *p)
{
	return p->platform;
}

static struct guest_vcpu_devices *devices_of(struct vcpu *v)
{
	return &platform_of(v->part)->vcpu[v->id];
}

static void *kvm_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
	return partition_gpa_to_hva(ctx, gpa, len);
}

static struct kvm_pv_env kvm_env(struct partition *p)
{
	struct guest_platform *gp = platform_of(p);

	return (struct kvm_pv_env){
		.cfg = &gp->kvm,
		.ctx = p,
		.gpa_to_hva = kvm_gpa_to_hva,
		.now_tsc = clock_real_tsc,
		.tsc_base = gp->tsc_base,
		.wall_clock_ns = clock_wall_ns,
	};
}

static struct s2pt guest_stage2[MAX_PARTITIONS];

static void *stage2_alloc(void *ctx, uint64_t *pa)
{
	void *p = page_alloc(1);

	if (p)
		*pa = virt_to_phys(p);
	return p;
}

static void *stage2_virt(void *ctx, uint64_t pa)
{
	return phys_to_virt(pa);
}

int guest_build_stage2(struct partition *p)
{
	struct s2pt *pt = &guest_stage2[p->id];
	uint32_t a, b, c, d;
	int ret;

	cpuid(0x80000001, &a, &b, &c, &d);
	pt->format = vcpu_ops->stage2_format;
	pt->alloc_page = stage2_alloc;
	pt->phys_to_virt = stage2_virt;
	pt->allow_1g = d & (1u << 26);
	ret = s2pt_init(pt);
	for (uint32_t i = 0; !ret && i < p->nr_ram; i++)
		ret = s2pt_map(pt, p->ram[i].gpa, p->ram[i].hpa, p->ram[i].size, S2PT_RWX, S2PT_WB);
	p->stage2 = pt;
	return ret;
}

/* vCPU 0 at the partition's entry (docs/guest-platform.md). */
static void set_entry_state(struct partition *p)
{
	const struct partition_entry *entry = &p->entry;
	struct vcpu *v = p->vcpus[0];

	if (entry->real_mode) {
		vcpu_ops->set_real_mode_state(v, entry->cs, entry->ip);
	} else if (entry->prot32) {
		vcpu_ops->set_prot32_state(v, (uint32_t)entry->rip, entry->eax, entry->ebx);
	} else {
		v->regs.rsi = entry->rsi;
		vcpu_ops->set_linux64_state(v, entry->rip, entry->cr3, entry->gdt,
					    entry->gdt_limit);
	}
}

int guest_create_vcpus(struct partition *p)
{
	uint32_t n = 0;

	for (uint32_t cpu = 0; cpu < nr_cpus_online && cpu < 64; cpu++) {
		struct vcpu *v;
		int ret;

		if (!(p->cpu_mask & (1ull << cpu)))
			continue;
		v = page_alloc(ALIGN_UP(sizeof(*v), PAGE_SIZE) / PAGE_SIZE);
		if (!v)
			return -ENOMEM;
		v->part = p;
		v->id = n;
		v->apic_id = n; /* the guest's own numbering, as in its MADT */
		v->cpu = percpu_table[cpu];
		v->state = n == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
		ret = vcpu_ops->vcpu_create(v);
		if (ret)
			return ret;
		p->vcpus[n++] = v;
	}
	if (!n)
		return -EINVAL;
	p->nr_vcpus = n;
	p->nr_running = 1;
	set_entry_state(p);
	return 0;
}

/* Console input into the UART's receiver, as far as it has room. Under gp->lock. */
static void pump_console_input(struct guest_platform *gp)
{
	while (gp->rx_count && vuart_rx_push(&gp->uart, gp->rx_pending[gp->rx_head])) {
		gp->rx_head = (gp->rx_head + 1) % sizeof(gp->rx_pending);
		gp->rx_count--;
	}
}

void arch_partition_console_rx(struct partition *p, uint8_t c)
{
	struct guest_platform *gp = platform_of(p);

	spin_lock(&gp->lock);
	if (gp->rx_count < sizeof(gp->rx_pending))
		gp->rx_pending[(gp->rx_head + gp->rx_count++) % sizeof(gp->rx_pending)] = c;
	else
		gp->rx_dropped++; /* typed faster than the guest reads: as a real overrun */
	pump_console_input(gp);
	spin_unlock(&gp->lock);
}

/*
 * One byte of a guest's port space: the emulated devices, or an empty bus.
 * Returns false for a port nothing claims.
 */
static bool device_io(struct partition *p, uint16_t port, bool in, uint8_t *val)
{
	struct guest_platform *gp = platform_of(p);

	if (port >= ACPI_GUEST_UART_PORT && port < ACPI_GUEST_UART_PORT + 8 &&
	    p->console == CONFIG_CONSOLE_SERIAL) {
		if (in)
			pump_console_input(gp);
		return !(in ? vuart_io_read(&gp->uart, port - ACPI_GUEST_UART_PORT, val)
			    : vuart_io_write(&gp->uart, port - ACPI_GUEST_UART_PORT, *val));
	}
	if (port == 0x70 || port == 0x71)
		return !(in ? vcmos_io_read(&gp->cmos, port - 0x70, val)
			    : vcmos_io_write(&gp->cmos, port - 0x70, *val));
	if (port == ACPI_GUEST_SLEEP_PORT) {
		/*
		 * The FADT's sleep control and status register (hardware-reduced
		 * ACPI, spec 4.8.3.7): SLP_EN (bit 5) with SLP_TYP 5 is S5, power
		 * off. Reads are 0: no wake status.
		 */
		if (in)
			*val = 0;
		else if ((*val & 0x20) && ((*val >> 2) & 7) == ACPI_GUEST_S5_SLP_TYP)
			partition_power_off(p);
		return true;
	}
	if (vlegacy_claims(port))
		return !(in ? vlegacy_io_read(&gp->legacy, port, val)
			    : vlegacy_io_write(&gp->legacy, port, *val));
	return false;
}

/*
 * The devices that take an access whole rather than byte by byte
 * (debug-exit, fw_cfg: docs/guest-devices.md). True when one decodes port;
 * an access it does not take reads as the empty bus.
 */
static bool wide_device_io(struct partition *p, uint16_t port, unsigned int size, bool in,
			   uint32_t *val)
{
	struct guest_platform *gp = platform_of(p);
	int ret;

	if (vdebug_exit_claims(&gp->debug_exit, port)) {
		/* No state to guard: the write ends the partition (partition_exit()). */
		ret = vdebug_exit_io(&gp->debug_exit, port, size, in, val);
	} else if (vfwcfg_claims(port)) {
		spin_lock(&gp->lock);
		ret = vfwcfg_io(&gp->fw_cfg, port, size, in, val);
		spin_unlock(&gp->lock);
	} else {
		return false;
	}
	if (ret && in)
		*val = 0xffffffffu;
	return true;
}

enum exit_action guest_handle_io(struct vcpu *v, struct vm_exit *e)
{
	struct partition *p = v->part;
	struct guest_platform *gp = platform_of(p);
	uint64_t result = 0;
	uint32_t whole = (uint32_t)v->regs.rax;
	bool claimed = true;

	if (e->io.string) {
		partition_stop(p, "string I/O on port 0x%x is not emulated", e->io.port);
		return EXIT_STOP_VCPU;
	}
	/*
	 * The focused guest's UART reads route what was typed first (outside
	 * gp->lock: console input takes that lock after its own).
	 */
	if (e->io.in && console_input_focus() == p && e->io.port >= ACPI_GUEST_UART_PORT &&
	    e->io.port < ACPI_GUEST_UART_PORT + 8)
		console_input_poll();
	if (wide_device_io(p, e->io.port, e->io.size, e->io.in, &whole)) {
		result = whole;
		goto done;
	}
	/* Wider accesses are split into bytes, lowest port first, as the bus would. */
	spin_lock(&gp->lock);
	for (unsigned int i = 0; i < e->io.size; i++) {
		uint8_t b = (uint8_t)(v->regs.rax >> (8 * i));

		if (!device_io(p, (uint16_t)(e->io.port + i), e->io.in, &b)) {
			claimed = false;
			b = VDEV_EMPTY_BUS_BYTE;
		}
		result |= (uint64_t)b << (8 * i);
	}
	spin_unlock(&gp->lock);
	if (!claimed &&
	    vdev_unassigned_first_time(&gp->unassigned, VDEV_UNASSIGNED_PORT(e->io.port)))
		printk("keel: partition %s: %s of unassigned port 0x%x (empty bus; reported "
		       "once)\n",
		       p->name, e->io.in ? "read" : "write", e->io.port);
done:
	if (e->io.in) {
		uint64_t mask = e->io.size == 1 ? 0xff : e->io.size == 2 ? 0xffff : 0xffffffff;

		v->regs.rax = (v->regs.rax & ~mask) | (result & mask);
	}
	if (p->stopped)
		return EXIT_STOP_VCPU;
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

/* MMIO in the device window that no device claims: decode, all ones, or drop the write. */
static enum exit_action empty_bus_mmio(struct vcpu *v, struct vm_exit *e)
{
	uint8_t bytes[15];
	struct mmio_insn insn;
	uint64_t rip = vcpu_ops->get_rip(v);
	bool long_mode = vcpu_ops->get_efer(v) & (1ull << 10);
	int ret = guest_read_virt(v, rip, bytes, sizeof(bytes));

	if (ret)
		ret = guest_read_virt(v, rip, bytes, PAGE_SIZE - (rip & 0xfff));
	if (!ret)
		ret = x86_decode_mmio(bytes, MIN(sizeof(bytes), PAGE_SIZE - (rip & 0xfff)),
				      long_mode, &insn);
	if (ret) {
		partition_stop(v->part, "cannot decode the MMIO access at rip 0x%llx (gpa 0x%llx)",
			       (unsigned long long)rip, (unsigned long long)e->npf.gpa);
		return EXIT_STOP_VCPU;
	}
	if (vdev_unassigned_first_time(&platform_of(v->part)->unassigned,
				       VDEV_UNASSIGNED_MMIO(e->npf.gpa)))
		printk("keel: partition %s: %s of unassigned MMIO at 0x%llx (empty bus; reported "
		       "once)\n",
		       v->part->name, insn.op == MMIO_READ ? "read" : "write",
		       (unsigned long long)e->npf.gpa);
	if (insn.op == MMIO_READ) {
		uint64_t *reg = &((uint64_t *)&v->regs)[insn.reg];

		*reg = x86_mmio_merge(&insn, *reg, ~0ull);
	}
	vcpu_skip(v, insn.length);
	return EXIT_RESUME;
}

static enum exit_action device_mmio(struct vcpu *v, struct vm_exit *e, bool lapic);

enum exit_action guest_handle_npf(struct vcpu *v, struct vm_exit *e)
{
	uint64_t gpa = e->npf.gpa;

	if ((gpa & ~0xfffull) == GUEST_LAPIC_BASE && vlapic_mode(v->lapic) == VLAPIC_MODE_XAPIC)
		return device_mmio(v, e, true);
	if ((gpa & ~0xfffull) == GUEST_IOAPIC_BASE)
		return device_mmio(v, e, false);
	if (gpa >= GUEST_DEVICE_WINDOW && gpa < 4 * GiB)
		return empty_bus_mmio(v, e);
	partition_stop(v->part, "%s of guest-physical 0x%llx, outside its memory (rip 0x%llx)",
		       e->npf.fetch   ? "instruction fetch"
		       : e->npf.write ? "write"
				      : "read",
		       (unsigned long long)gpa, (unsigned long long)vcpu_ops->get_rip(v));
	return EXIT_STOP_VCPU;
}

/* CPUID as a guest sees it: the real CPU minus what Keel does not virtualize. */
void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
		 uint32_t *d)
{
	if (leaf >= 0x40000000 && leaf <= 0x400000ff) {
		kvm_cpuid(&platform_of(v->part)->kvm, leaf, sub, a, b, c, d);
		return;
	}
	cpuid_count(leaf, sub, a, b, c, d);
	switch (leaf) {
	case 1:
		*b = (*b & 0x00ffffff) | (v->apic_id << 24); /* initial APIC ID */
		*c |= 1u << 31;				     /* hypervisor */
		*c |= (1u << 21) |
		      (1u << 24); /* x2APIC, TSC-deadline: the emulated APIC has both */
		*c &= ~((1u << 5) | (1u << 3));		      /* VMX, MONITOR/MWAIT */
		*d &= ~((1u << 7) | (1u << 12) | (1u << 14)); /* MCE, MTRR, MCA */
		break;
	case 0xb:
		*d = v->apic_id; /* x2APIC ID */
		break;
	case 0x80000001:
		*c &= ~(1u << 2); /* SVM */
		break;
	case 0x8000000a:
		*a = *b = *c = *d = 0;
		break;
	}
}

int guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct kvm_pv_env env = kvm_env(v->part);
	int kret = kvm_msr_read(&devices_of(v)->kvm, &env, msr, value);

	if (kret != -ENOENT)
		return kret;
	if (msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff)) {
		struct guest_platform *gp = platform_of(v->part);
		int ret;

		spin_lock(&gp->lock);
		ret = vlapic_msr_read(v->lapic, msr, value);
		spin_unlock(&gp->lock);
		return ret ? -EINVAL : 0;
	}
	switch (msr) {
	case MSR_EFER:
		*value = vcpu_ops->get_efer(v);
		return 0;
	case 0x10: /* TSC: the guest runs on the real TSC, offset 0 */
		*value = rdtsc();
		return 0;
	case 0x277: /* PAT */
		*value = vcpu_ops->get_pat(v);
		return 0;
	default:
		/*
		 * An MSR Keel does not model reads 0, as on a CPU without the
		 * feature behind it: nothing reaches the hardware either way.
		 */
		if (vdev_unassigned_first_time(&platform_of(v->part)->unassigned,
					       VDEV_UNASSIGNED_MSR(msr)))
			printk("keel: partition %s: rdmsr 0x%x not modelled: reads 0 (reported "
			       "once)\n",
			       v->part->name, msr);
		*value = 0;
		return 0;
	}
}

int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct kvm_pv_env env = kvm_env(v->part);
	int kret = kvm_msr_write(&devices_of(v)->kvm, &env, msr, value);

	if (kret != -ENOENT)
		return kret;
	if (msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff)) {
		struct guest_platform *gp = platform_of(v->part);
		int ret;

		spin_lock(&gp->lock);
		ret = vlapic_msr_write(v->lapic, msr, value);
		spin_unlock(&gp->lock);
		return ret ? -EINVAL : 0;
	}
	switch (msr) {
	case MSR_EFER:
		vcpu_ops->set_efer(v, value);
		return 0;
	case 0x277:
		vcpu_ops->set_pat(v, value);
		return 0;
	default:
		if (vdev_unassigned_first_time(&platform_of(v->part)->unassigned,
					       VDEV_UNASSIGNED_MSR(msr)))
			printk("keel: partition %s: wrmsr 0x%x not modelled: dropped (reported "
			       "once)\n",
			       v->part->name, msr);
		return 0;
	}
}

#define CONSOLE_POLL_US 20000

static void report_stuck_halt(struct vcpu *v)
{
	struct partition *p = v->part;

	printk("keel: partition %s: vcpu %u halted with interrupts disabled for 10 s (no PV kick, "
	       "NMI or INIT)\n",
	       p->name, v->id);
	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *o = p->vcpus[i];

		printk("keel:   vcpu %u: state %d rip %llx rflags %llx kicked %d irq %d\n", o->id,
		       (int)o->state, (unsigned long long)vcpu_ops->get_rip(o),
		       (unsigned long long)vcpu_ops->get_rflags(o), (int)devices_of(o)->pv_kicked,
		       vlapic_highest_deliverable(o->lapic));
	}
}

enum exit_action guest_handle_hlt(struct vcpu *v, struct vm_exit *e)
{
	vcpu_skip(v, e->insn_len);
	if (!(vcpu_ops->get_rflags(v) & (1u << 9))) {
		/*
		 * Nothing wakes it but a PV kick (Linux's kvm_wait() halts so,
		 * waiting for a spinlock's holder), an NMI or INIT. A wait of
		 * more than 10 s is reported (once), with where every vCPU is, and
		 * ends: a lost kick must not hang the guest.
		 */
		uint64_t start = rdtsc(), limit = 10000000ull * tsc_per_us;

		while (!v->part->stopped && !v->nmi_pending && !v->init_pending &&
		       !v->part->reset_pending && !devices_of(v)->pv_kicked) {
			if (rdtsc() - start > limit) {
				/* pv_wait() may return spuriously: the guest checks again. */
				if (!devices_of(v)->halt_reported)
					report_stuck_halt(v);
				devices_of(v)->halt_reported = true;
				break;
			}
			lapic_timer_arm(rdtsc() + 1000000ull * tsc_per_us);
			cpu_wait_for_interrupt();
		}
		devices_of(v)->pv_kicked = false;
		return EXIT_RESUME;
	}
	/* Wait for the next interrupt this vCPU can take, its timer, or a kick. */
	for (;;) {
		struct guest_platform *gp = platform_of(v->part);
		uint64_t deadline;
		bool focused;
		int vec;

		if (v->part->stopped || v->nmi_pending || v->init_pending || v->part->reset_pending)
			break;
		if (devices_of(v)->pv_kicked) {
			devices_of(v)->pv_kicked = false;
			break;
		}
		/*
		 * What is typed for the focused partition moves only when
		 * someone reads the UART: look every CONSOLE_POLL_US while idle.
		 */
		focused = console_input_focus() == v->part;
		if (focused)
			console_input_poll();
		spin_lock(&gp->lock);
		vlapic_timer_check(v->lapic);
		vec = vlapic_highest_deliverable(v->lapic);
		deadline = vlapic_timer_deadline_tsc(v->lapic);
		spin_unlock(&gp->lock);
		if (vec >= 0)
			break;
		if (focused) {
			uint64_t poll = rdtsc() + CONSOLE_POLL_US * tsc_per_us;

			if (!deadline || deadline > poll)
				deadline = poll;
		}
		lapic_timer_arm(deadline);
		cpu_wait_for_interrupt();
	}
	return EXIT_RESUME;
}

static void kick(struct vcpu *t);
static void deliver_to(struct vcpu *t, uint8_t mode, uint8_t vector, bool level);

static struct vcpu *vcpu_by_apic_id(struct partition *p, uint32_t apic_id)
{
	for (uint32_t i = 0; i < p->nr_vcpus; i++)
		if (p->vcpus[i]->apic_id == apic_id)
			return p->vcpus[i];
	return NULL;
}

static void hc_kick(void *ctx, uint32_t apic_id)
{
	struct vcpu *t = vcpu_by_apic_id(((struct vcpu *)ctx)->part, apic_id);

	if (t) {
		devices_of(t)->pv_kicked = true;
		kick(t);
	}
}

static bool hc_send_ipi(void *ctx, uint32_t apic_id, uint8_t vector, uint8_t mode)
{
	struct vcpu *v = ctx;
	struct vcpu *t = vcpu_by_apic_id(v->part, apic_id);
	struct guest_platform *gp = platform_of(v->part);

	if (!t)
		return false;
	spin_lock(&gp->lock);
	deliver_to(t, mode == KVM_IPI_DM_NMI ? VLAPIC_DM_NMI : VLAPIC_DM_FIXED, vector, false);
	spin_unlock(&gp->lock);
	return true;
}

static void hc_yield_to(void *ctx, uint32_t apic_id)
{
	/* Every vCPU has a CPU of its own: there is nobody to yield to. */
}

enum exit_action guest_handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	struct guest_regs *r = &v->regs;
	struct kvm_hc_env env = {
		.ctx = v,
		.op_32bit = !(vcpu_ops->get_efer(v) & (1ull << 10)),
		.kick = hc_kick,
		.send_ipi = hc_send_ipi,
		.yield_to = hc_yield_to,
	};

	/* KVM's convention: number in RAX, arguments in RBX, RCX, RDX, RSI (fact sheet 3.1). */
	r->rax = (uint64_t)kvm_hypercall(&env, vcpu_ops->get_cpl(v), r->rax, r->rbx, r->rcx, r->rdx,
					 r->rsi);
	vcpu_skip(v, e->insn_len);
	return EXIT_RESUME;
}

/*
 * #UD: the other vendor's hypercall instruction (VMCALL on AMD, VMMCALL on
 * Intel) is accepted as a hypercall, as KVM does (fact sheet 3.5); any
 * other #UD goes back to the guest.
 */
enum exit_action guest_handle_ud(struct vcpu *v, struct vm_exit *e)
{
	uint8_t insn[3];

	if (!guest_read_virt(v, vcpu_ops->get_rip(v), insn, sizeof(insn)) && insn[0] == 0x0f &&
	    insn[1] == 0x01 && (insn[2] == 0xc1 || insn[2] == 0xd9)) {
		e->insn_len = 3;
		return guest_handle_hypercall(v, e);
	}
	vcpu_ops->inject_exception(v, 6, false, 0);
	return EXIT_RESUME;
}

/* Make t's CPU look at t: an exit if it runs the guest, a wake-up if it waits. */
static void kick(struct vcpu *t)
{
	if (t->cpu != this_cpu())
		lapic_send_ipi(t->cpu->apic_id, KEEL_VECTOR_KICK);
}

static void deliver_to(struct vcpu *t, uint8_t mode, uint8_t vector, bool level)
{
	switch (mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		if (vlapic_accept(t->lapic, vector, level))
			kick(t);
		break;
	case VLAPIC_DM_NMI:
		t->nmi_pending = true;
		kick(t);
		break;
	case VLAPIC_DM_INIT:
		if (t->state == VCPU_WAIT_SIPI) {
			/* Already waiting (the usual INIT, STARTUP sequence): reset it in place. */
			vlapic_reset(t->lapic);
			kvm_pv_vcpu_reset(&devices_of(t)->kvm);
		} else {
			t->init_pending = true; /* applied at its next exit */
			kick(t);
		}
		break;
	case VLAPIC_DM_STARTUP:
		/* After INIT only; an INIT not applied yet counts (Linux sends STARTUP at once). */
		if (t->state == VCPU_WAIT_SIPI || t->init_pending) {
			t->sipi_vector = vector;
			__atomic_store_n(&t->sipi_pending, true, __ATOMIC_SEQ_CST);
			vcpu_wake(t);
		}
		break;
	default:
		break; /* SMI, ExtINT: not part of Keel's guest platform */
	}
}

/* Called by a vlapic (with the partition's lock held): route an IPI within the partition. */
static void route_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
	struct vcpu *sender = ctx;
	struct partition *p = sender->part;

	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *t = p->vcpus[i];

		if (!vlapic_ipi_match(t->lapic, sender->lapic, ipi))
			continue;
		deliver_to(t, ipi->delivery_mode, ipi->vector, ipi->trigger_level);
		if (ipi->delivery_mode == VLAPIC_DM_LOWEST)
			break; /* lowest priority: one target is enough */
	}
}

static void route_eoi(void *ctx, uint8_t vector)
{
	struct vcpu *v = ctx;

	vioapic_eoi(&platform_of(v->part)->ioapic, vector);
}

/* Called by the IOAPIC (lock held): deliver an interrupt message to the partition's APICs. */
static bool route_irq(void *ctx, uint32_t dest, bool logical, uint8_t vector, uint8_t mode,
		      bool level)
{
	struct partition *p = ctx;
	bool any = false;

	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *t = p->vcpus[i];

		if (!vlapic_matches(t->lapic, dest, logical, false))
			continue;
		deliver_to(t, mode, vector, level);
		any = true;
		if (mode == VLAPIC_DM_LOWEST)
			break;
	}
	return any;
}

static void guest_uart_putc(void *ctx, uint8_t c)
{
	struct partition *p = ctx;

	if (p->console == CONFIG_CONSOLE_SERIAL)
		console_partition_putc(p, (char)c);
}

static void uart_irq(void *ctx, bool level)
{
	struct partition *p = ctx;

	/* ISA IRQ 4 is GSI 4 on the guest's IOAPIC (docs/guest-platform.md). */
	vioapic_set_irq(&platform_of(p)->ioapic, ACPI_GUEST_UART_IRQ, level);
}

static void debug_putc(void *ctx, uint8_t c)
{
	struct partition *p = ctx;

	if (p->console != CONFIG_CONSOLE_NONE)
		console_partition_putc(p, (char)c);
}

static void legacy_reset(void *ctx, enum vlegacy_reset_source source, uint8_t value)
{
	struct partition *p = ctx;

	partition_request_reset(p,
				source == VLEGACY_RESET_CF9 ? "port 0xcf9" : "keyboard controller");
}

static void debug_exit(void *ctx, uint32_t value)
{
	partition_exit(ctx, value);
}

static uint64_t cmos_now(void *ctx)
{
	return wallclock_ns(rdtsc()) / 1000000000ull;
}

/* The devices and per-vCPU state of p at power-on (also after a reset). */
static void platform_power_on(struct partition *p)
{
	struct guest_platform *gp = platform_of(p);
	struct vioapic_env ioenv = { .ctx = p, .deliver = route_irq };
	struct vuart_env uenv = { .ctx = p, .putc = guest_uart_putc, .set_irq = uart_irq };
	struct vcmos_env cenv = { .ctx = p, .now = cmos_now };
	struct vlegacy_env lenv = { .ctx = p, .debug_putc = debug_putc, .reset = legacy_reset };
	struct vdebug_exit_env denv = { .ctx = p, .exit = debug_exit };
	uint32_t a, b, c, d;

	vioapic_init(&gp->ioapic, &ioenv, (uint8_t)p->nr_vcpus);
	vuart_init(&gp->uart, &uenv);
	vcmos_init(&gp->cmos, &cenv);
	vlegacy_init(&gp->legacy, &lenv);
	vdebug_exit_init(&gp->debug_exit, &denv, p->debug_exit_port);
	vfwcfg_init(&gp->fw_cfg, (uint16_t)p->nr_vcpus, p->mem_size);
	/*
	 * The KVM paravirtual ABI (docs/kvm-abi.md). kvm-clock is stable only
	 * with an invariant TSC (CPUID 8000_0007h:EDX[8]): then every CPU's TSC
	 * ticks at one rate and the guest may trust one clock across vCPUs.
	 */
	cpuid(0x80000007, &a, &b, &c, &d);
	gp->kvm.features = KVM_PV_FEATURES_SUPPORTED;
	gp->kvm.tsc_khz = (uint32_t)tsc_khz;
	gp->kvm.apic_bus_khz = VLAPIC_BUS_KHZ;
	gp->kvm.tsc_stable = d & (1u << 8);
	gp->kvm.realtime = p->realtime;
	gp->tsc_base = rdtsc();
	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *v = p->vcpus[i];
		struct vlapic_env env = {
			.ctx = v,
			.now_tsc = clock_real_tsc, /* guests run on the real TSC, offset 0 */
			.tsc_khz = tsc_khz,
			.send_ipi = route_ipi,
			.eoi_level = route_eoi,
		};

		v->lapic = &gp->vcpu[i].lapic;
		vlapic_init(v->lapic, &env, v->apic_id, i == 0);
		kvm_pv_vcpu_init(&gp->vcpu[i].kvm);
		gp->vcpu[i].pv_kicked = false;
		gp->vcpu[i].halt_reported = false;
	}
}

int guest_platform_init(struct partition *p)
{
	struct guest_platform *gp;
	size_t bytes = sizeof(*gp) + p->nr_vcpus * sizeof(struct guest_vcpu_devices);

	gp = page_alloc(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
	if (!gp)
		return -ENOMEM;
	p->platform = gp;
	platform_power_on(p);
	return 0;
}

/* vCPU 0 at the partition's entry; the others wait for STARTUP. */
static void vcpus_power_on(struct partition *p)
{
	for (uint32_t i = 0; i < p->nr_vcpus; i++) {
		struct vcpu *v = p->vcpus[i];

		memset(&v->regs, 0, sizeof(v->regs));
		v->sipi_pending = false;
		v->nmi_pending = false;
		v->init_pending = false;
		v->state = i == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
		vcpu_ops->set_real_mode_state(v, 0xf000, 0xfff0); /* INIT state, events dropped */
		vcpu_ops->flush_tlb(v);
	}
	p->nr_running = 1;
	set_entry_state(p);
}

void arch_partition_reset(struct partition *p)
{
	struct guest_platform *gp = platform_of(p);

	spin_lock(&gp->lock);
	platform_power_on(p);
	spin_unlock(&gp->lock);
	vcpus_power_on(p);
}

void guest_vcpu_init(struct vcpu *v)
{
	struct guest_platform *gp = platform_of(v->part);

	spin_lock(&gp->lock);
	vlapic_reset(v->lapic);
	kvm_pv_vcpu_reset(&devices_of(v)->kvm);
	spin_unlock(&gp->lock);
}

/*
 * Before each entry: fire due timers, inject the highest deliverable
 * interrupt if the guest can take it (else ask for an exit when it can),
 * and arm this CPU's timer for the next virtual deadline.
 */
void guest_prepare_entry(struct vcpu *v)
{
	struct guest_platform *gp = platform_of(v->part);
	uint64_t deadline;
	int vec;

	spin_lock(&gp->lock);
	vlapic_timer_check(v->lapic);
	vec = vlapic_highest_deliverable(v->lapic);
	if (vec >= 0) {
		if (vcpu_ops->irq_window_open(v)) {
			vlapic_ack(v->lapic, (uint8_t)vec);
			vcpu_ops->inject_irq(v, (uint8_t)vec);
		} else {
			vcpu_ops->request_irq_window(v, true);
		}
	}
	/* PV EOI enabled first: scanning the ISR and IRR costs more than the test. */
	if (devices_of(v)->kvm.pv_eoi && vlapic_pv_eoi_allowed(v->lapic))
		kvm_pv_eoi_sync_to_guest(&devices_of(v)->kvm);
	deadline = vlapic_timer_deadline_tsc(v->lapic);
	spin_unlock(&gp->lock);
	if (kvm_pv_clear_preempted(&devices_of(v)->kvm))
		vcpu_ops->flush_tlb(v); /* the guest asked for it (PV TLB flush) */
	lapic_timer_arm(deadline);
}

bool guest_fast_exit_ok(struct vcpu *v)
{
	/* Armed: the guest may have done its EOI by clearing the flag (guest_after_exit()). */
	return !devices_of(v)->kvm.pv_eoi_armed;
}

/* Right after each exit: an EOI the guest did through PV EOI, without exiting. */
void guest_after_exit(struct vcpu *v)
{
	struct guest_platform *gp = platform_of(v->part);

	if (!kvm_pv_eoi_sync_from_guest(&devices_of(v)->kvm))
		return;
	spin_lock(&gp->lock);
	vlapic_eoi(v->lapic);
	spin_unlock(&gp->lock);
}

/* Guest-physical accesses to the local APIC and IOAPIC pages. */
static enum exit_action device_mmio(struct vcpu *v, struct vm_exit *e, bool lapic)
{
	struct guest_platform *gp = platform_of(v->part);
	uint8_t bytes[15];
	struct mmio_insn insn;
	uint64_t rip = vcpu_ops->get_rip(v);
	bool long_mode = vcpu_ops->get_efer(v) & (1ull << 10);
	size_t n = MIN(sizeof(bytes), PAGE_SIZE - (rip & 0xfff));
	uint32_t off = e->npf.gpa & 0xfff;
	int ret = guest_read_virt(v, rip, bytes, n);

	if (!ret)
		ret = x86_decode_mmio(bytes, n, long_mode, &insn);
	if (ret == -EAGAIN && !guest_read_virt(v, rip, bytes, sizeof(bytes)))
		ret = x86_decode_mmio(bytes, sizeof(bytes), long_mode, &insn);
	if (ret) {
		partition_stop(v->part, "cannot decode the %s access at rip 0x%llx",
			       lapic ? "local APIC" : "IOAPIC", (unsigned long long)rip);
		return EXIT_STOP_VCPU;
	}
	spin_lock(&gp->lock);
	if (insn.op == MMIO_READ) {
		uint32_t val = 0;
		uint64_t *reg = &((uint64_t *)&v->regs)[insn.reg];

		if (lapic)
			vlapic_mmio_read(v->lapic, off, MIN(insn.size, 4), &val);
		else
			vioapic_mmio_read(&gp->ioapic, off, MIN(insn.size, 4), &val);
		*reg = x86_mmio_merge(&insn, *reg, val);
	} else {
		uint32_t val =
			(uint32_t)(insn.op == MMIO_WRITE_IMM ? insn.imm
							     : ((uint64_t *)&v->regs)[insn.reg] >>
								       (insn.high_byte ? 8 : 0));

		if (lapic)
			vlapic_mmio_write(v->lapic, off, MIN(insn.size, 4), val);
		else
			vioapic_mmio_write(&gp->ioapic, off, MIN(insn.size, 4), val);
	}
	spin_unlock(&gp->lock);
	vcpu_skip(v, insn.length);
	return EXIT_RESUME;
}
