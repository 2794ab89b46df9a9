// SPDX-License-Identifier: MIT
/*
 * VMX setup (SDM Vol. 3C chapter 24 and Appendix A): what this CPU offers,
 * which controls Keel uses and why, VMXON on each CPU, and the I/O and MSR
 * bitmaps of the host and of guest partitions. arch/x86/vmx.c runs vCPUs
 * with what is chosen here.
 */
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/percpu.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <x86/cr.h>
#include <x86/cpu.h>
#include <x86/host_kvm.h>
#include <x86/io.h>
#include <x86/vcpu.h>
#include <x86/vmx.h>
#include <x86/vmx_setup.h>

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID7_EBX_INVPCID (1u << 10)
#define CPUID7_ECX_WAITPKG (1u << 5)
#define CPUIDD1_EAX_XSAVES (1u << 3)
#define CPUID81_EDX_RDTSCP (1u << 27)

/* What the CPU offers and what Keel chose, read once (vmx_setup()). */
struct vmx_caps vmx_caps;
static int setup_result = 1; /* 1: not done yet, else 0 or -errno */
static struct spinlock setup_lock = SPINLOCK_INIT;

static uint64_t vmxon_pa[KEEL_MAX_CPUS];

/* The host partition's I/O bitmaps (A and B, 25.6.4) and MSR bitmap (25.6.9), shared. */
static uint8_t *host_io, *host_msr;

/* A guest partition's: every port and every MSR exits but a few (as in svm.c). */
struct guest_maps {
	uint8_t *io, *msr;
};
static struct guest_maps guest_maps[MAX_PARTITIONS];

/*
 * A control word from its capability MSR (A.3-A.5): bits 31:0 are the
 * allowed-0 settings (1 there: must be 1), bits 63:32 the allowed-1
 * settings. want must all be allowed; optional is taken where it is.
 */
static int control(const char *what, uint32_t msr, uint32_t want, uint32_t optional, uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	if (want & ~may1) {
		printk("keel: vmx: the %s controls lack 0x%x (allowed-1 settings 0x%x)\n", what,
		       want & ~may1, may1);
		return -ENODEV;
	}
	*out = must1 | want | (optional & may1);
	return 0;
}

/* The controls a capability MSR forces to 1 (its allowed-0 settings). */
static uint32_t forced1(uint32_t msr)
{
	return (uint32_t)rdmsr(msr);
}

static void msr_bitmap_set(uint8_t *bm, uint32_t msr, bool rd, bool wr, bool on)
{
	uint32_t base;

	/* Read low, read high, write low, write high: 1 KiB each (25.6.9). */
	if (msr < 0x2000) {
		base = 0;
	} else if (msr >= 0xc0000000 && msr < 0xc0002000) {
		base = 1024;
		msr -= 0xc0000000;
	} else {
		return; /* MSRs outside both ranges always exit */
	}
	for (int w = 0; w < 2; w++) {
		uint8_t *byte = &bm[base + w * 2048 + msr / 8];

		if (!(w ? wr : rd))
			continue;
		if (on)
			*byte |= (uint8_t)(1u << (msr % 8));
		else
			*byte &= (uint8_t) ~(1u << (msr % 8));
	}
}

void vmx_intercept_msr_write(uint32_t msr, bool intercept)
{
	msr_bitmap_set(host_msr, msr, false, true, intercept);
}

static int setup_host_maps(void)
{
	host_io = page_alloc(2);
	host_msr = page_alloc(1);
	if (!host_io || !host_msr)
		return -ENOMEM;
	/*
	 * COM1's data port and LSR: Keel shares the serial line with the host
	 * (hv/console.c, hv/console_input.c).
	 */
	host_io[0x3f8 / 8] |= 1u << (0x3f8 % 8);
	host_io[0x3fd / 8] |= 1u << (0x3fd % 8);
	/*
	 * VMX is Keel's: the host's writes to IA32_FEATURE_CONTROL and its
	 * reads of the VMX capability MSRs exit and get #GP, as on a CPU
	 * without VMX (CPUID hides it). EFER is not intercepted: VM entry and
	 * exit load and save it (load/save IA32_EFER), so the guest's EFER is
	 * its own.
	 */
	msr_bitmap_set(host_msr, MSR_IA32_FEATURE_CONTROL, false, true, true);
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		msr_bitmap_set(host_msr, msr, true, false, true);
	/* x2APIC: the host's INIT/STARTUP IPIs go through the ICR MSR (arch/x86/vapic.c). */
	if (lapic_x2apic_mode())
		msr_bitmap_set(host_msr, MSR_X2APIC_ICR, false, true, true);
	/* kvm-clock's MSRs (arch/x86/host_kvm.c). */
	for (uint32_t i = 0; i < ARRAY_SIZE(host_kvm_msrs); i++)
		msr_bitmap_set(host_msr, host_kvm_msrs[i], true, true, true);
	return 0;
}

/* What this CPU has, what Keel needs of it, and the controls it will use. */
static int setup_caps(void)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	uint32_t a, b, c, d, proc2_opt = PROC2_ENABLE_VPID;
	uint64_t cap;
	int ret;

	vmx_caps.revision = VMX_BASIC_REVISION(basic);
	vmx_caps.true_ctls = true_ctls;
	if (VMX_BASIC_REGION_SIZE(basic) > PAGE_SIZE || VMX_BASIC_MEMTYPE(basic) != 6) {
		printk("keel: vmx: unsupported VMCS region (IA32_VMX_BASIC 0x%llx: size %llu, "
		       "memory type %llu; Keel needs at most 4 KiB, write-back)\n",
		       (unsigned long long)basic, (unsigned long long)VMX_BASIC_REGION_SIZE(basic),
		       (unsigned long long)VMX_BASIC_MEMTYPE(basic));
		return -ENODEV;
	}

	/*
	 * Pin-based (25.6.1): NMI exiting, so Keel's NMI kicks reach it (the
	 * NMI is then re-injected, as on SVM), with virtual NMIs so the
	 * guest's own NMI blocking is tracked and the NMI window can exit.
	 * External-interrupt exiting stays off for the host: its devices
	 * interrupt it directly; guests turn it on (vmx_vcpu_create()).
	 */
	ret = control("pin-based",
		      true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
		      PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, 0, &vmx_caps.pin);
	/*
	 * Primary (25.6.2): I/O and MSR bitmaps, secondary controls. HLT, CR3,
	 * CR8, INVLPG, RDTSC, MWAIT, MOV-DR exiting stay 0: the host runs them
	 * natively. The TRUE MSR (bit 55 of IA32_VMX_BASIC) lets CR3-load/store
	 * exiting be 0 (A.3.2); without it they are forced and Keel stops. HLT
	 * exiting (guests) and the interrupt and NMI windows must be possible;
	 * they are set per vCPU when needed.
	 */
	if (!ret)
		ret = control("primary processor-based",
			      true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					: MSR_IA32_VMX_PROCBASED_CTLS,
			      PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY |
				      PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING |
				      PROC_HLT_EXITING,
			      0, &vmx_caps.proc);
	if (!ret &&
	    (forced1(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS) &
	     (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_HLT_EXITING |
	      PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING))) {
		printk("keel: vmx: CR3 accesses or HLT would always exit (no "
		       "IA32_VMX_TRUE_PROCBASED_CTLS)\n");
		ret = -ENODEV;
	}
	vmx_caps.proc &= ~(PROC_HLT_EXITING | PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);

	/*
	 * Secondary (25.6.2): EPT, unrestricted guest (the host's APs start in
	 * real mode after STARTUP, and Linux's boot code runs with paging off),
	 * VPID when there (no TLB flush on every entry and exit). RDTSCP,
	 * INVPCID, XSAVES/XRSTORS and TPAUSE/UMWAIT raise #UD in the guest unless
	 * enabled: enable those the CPU has.
	 */
	cpuid(0x80000001, &a, &b, &c, &d);
	if (d & CPUID81_EDX_RDTSCP)
		proc2_opt |= PROC2_ENABLE_RDTSCP;
	cpuid_count(7, 0, &a, &b, &c, &d);
	if (b & CPUID7_EBX_INVPCID)
		proc2_opt |= PROC2_ENABLE_INVPCID;
	if (c & CPUID7_ECX_WAITPKG)
		proc2_opt |= PROC2_ENABLE_USER_WAIT_PAUSE;
	cpuid_count(0xd, 1, &a, &b, &c, &d);
	if (a & CPUIDD1_EAX_XSAVES)
		proc2_opt |= PROC2_ENABLE_XSAVES;
	if (!ret)
		ret = control("secondary processor-based", MSR_IA32_VMX_PROCBASED_CTLS2,
			      PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST, proc2_opt,
			      &vmx_caps.proc2);

	/*
	 * VM-exit (25.7.1): back to 64-bit Keel; save the guest's EFER and PAT
	 * and load Keel's (the guest owns both MSRs); save DR7/DEBUGCTL (the
	 * exit resets them, 28.5.1). Not "acknowledge interrupt on exit": an
	 * interrupt that made a guest exit stays pending for Keel's IDT.
	 */
	if (!ret)
		ret = control("VM-exit",
			      true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
			      EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
				      EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CONTROLS,
			      0, &vmx_caps.exit);
	if (!ret && (vmx_caps.exit & EXIT_ACK_INTR_ON_EXIT)) {
		printk("keel: vmx: 'acknowledge interrupt on exit' cannot be turned off\n");
		ret = -ENODEV;
	}
	/* VM-entry (25.8.1): load EFER, PAT, DR7/DEBUGCTL; IA-32e mode follows EFER.LMA. */
	if (!ret)
		ret = control("VM-entry",
			      true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
			      ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS |
				      ENTRY_IA32E_MODE_GUEST,
			      0, &vmx_caps.entry);
	vmx_caps.entry &= ~ENTRY_IA32E_MODE_GUEST;
	if (ret)
		return ret;

	/*
	 * EPT (29.3, A.10): a 4-level walk, 2 MiB pages (arch/x86/s2pt.c uses
	 * them), the tables write-back (else uncached), and INVEPT.
	 */
	cap = vmx_caps.ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!(cap & EPT_CAP_PWL4) || !(cap & EPT_CAP_2M) || !(cap & EPT_CAP_INVEPT) ||
	    !(cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)) ||
	    !(cap & (EPT_CAP_MEMTYPE_WB | EPT_CAP_MEMTYPE_UC))) {
		printk("keel: vmx: EPT lacks what Keel needs (IA32_VMX_EPT_VPID_CAP 0x%llx: "
		       "4-level walk, 2 MiB pages, INVEPT)\n",
		       (unsigned long long)cap);
		return -ENODEV;
	}
	vmx_caps.eptp_flags = (cap & EPT_CAP_MEMTYPE_WB ? 6 : 0) | (3 << 3); /* walk length 4 - 1 */
	vmx_caps.vpid = (vmx_caps.proc2 & PROC2_ENABLE_VPID) && (cap & VPID_CAP_INVVPID) &&
			(cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
	if (!vmx_caps.vpid)
		vmx_caps.proc2 &= ~PROC2_ENABLE_VPID;
	vmx_caps.exit_saves_lma = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_EXIT_SAVES_LMA;
	/* APs waiting for STARTUP sleep in the CPU where it can (arch/x86/vcpu_exit.c). */
	vmx_caps.wait_sipi = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_ACTIVITY_WAIT_SIPI;

	/*
	 * CR0/CR4 in VMX operation (24.8, A.7, A.8): bits set in FIXED0 must
	 * be 1, bits clear in FIXED1 must be 0 -- in Keel's registers and in
	 * the guest's. An unrestricted guest may clear PE and PG (25.6.2).
	 */
	vmx_caps.cr0_must1 = rdmsr(MSR_IA32_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
	vmx_caps.cr0_must0 = ~rdmsr(MSR_IA32_VMX_CR0_FIXED1) & 0xffffffffull;
	vmx_caps.cr4_must1 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_caps.cr4_must0 = ~rdmsr(MSR_IA32_VMX_CR4_FIXED1) & 0xffffffffull;

	printk("keel: vmx: controls pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x (%s), EPT "
	       "%s, %s, %s\n",
	       vmx_caps.pin, vmx_caps.proc, vmx_caps.proc2, vmx_caps.exit, vmx_caps.entry,
	       true_ctls ? "TRUE_* capability MSRs" : "default1 classes forced",
	       vmx_caps.eptp_flags & 7 ? "tables write-back" : "tables uncached",
	       vmx_caps.vpid ? "VPID" : "no VPID",
	       vmx_caps.wait_sipi ? "wait-for-SIPI state" : "no wait-for-SIPI state");

	cpuid(1, &a, &b, &c, &d);
	if (c & CPUID1_ECX_XSAVE) {
		cpuid_count(0xd, 0, &a, &b, &c, &d);
		vmx_caps.xcr0_mask = ((uint64_t)d << 32) | a;
	}
	return setup_host_maps();
}

bool vmx_ept_1g_pages(void)
{
	return rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_1G;
}

/* Once, on whichever CPU comes first (the boot CPU creating the vCPUs). */
int vmx_setup(void)
{
	uint32_t a, b, c, d;

	spin_lock(&setup_lock);
	if (setup_result == 1) {
		cpuid(1, &a, &b, &c, &d);
		if (!(c & CPUID1_ECX_VMX)) {
			printk("keel: vmx: this CPU has no VMX (CPUID.1:ECX[5])\n");
			setup_result = -ENODEV;
		} else {
			setup_result = setup_caps();
		}
	}
	spin_unlock(&setup_lock);
	return setup_result;
}

int vmx_cpu_enable(void)
{
	unsigned int cpu = this_cpu_id();
	uint64_t fc, cr0, cr4;
	uint32_t *region;
	int ret = vmx_setup();

	if (ret)
		return ret;
	if (vmxon_pa[cpu])
		return 0;
	/*
	 * IA32_FEATURE_CONTROL (24.7): VMXON needs the lock bit and "VMXON
	 * outside SMX". Firmware that locked it without them disabled VMX;
	 * unlocked, Keel enables and locks it (until the next reset).
	 */
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_VMXON_OUTSIDE_SMX | FEATURE_CONTROL_LOCK;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		printk("keel: vmx: disabled by firmware on cpu %u (IA32_FEATURE_CONTROL 0x%llx is "
		       "locked without VMXON outside SMX)\n",
		       cpu, (unsigned long long)fc);
		return -EPERM;
	}
	/* Keel's own CR0/CR4 must obey the fixed bits too (24.8), and CR4.VMXE enables VMXON. */
	cr0 = (read_cr0() | vmx_caps.cr0_must1 | CR0_PE | CR0_PG) & ~vmx_caps.cr0_must0;
	write_cr0(cr0);
	cr4 = (read_cr4() | vmx_caps.cr4_must1 | CR4_VMXE) & ~vmx_caps.cr4_must0;
	write_cr4(cr4);
	/* The VMXON region (25.11.5): a page with the VMCS revision identifier. */
	region = page_alloc(1);
	if (!region)
		return -ENOMEM;
	*region = vmx_caps.revision;
	if (!vmx_on(virt_to_phys(region))) {
		printk("keel: vmx: VMXON failed on cpu %u (CR0 0x%llx CR4 0x%llx)\n", cpu,
		       (unsigned long long)cr0, (unsigned long long)cr4);
		return -EIO;
	}
	vmxon_pa[cpu] = virt_to_phys(region);
	printk("keel: vmx: VMXON on cpu %u (VMCS revision 0x%x)\n", cpu, vmx_caps.revision);
	/* Nothing cached from before (firmware, a previous hypervisor) may survive (29.4.3). */
	if (vmx_caps.ept_vpid_cap & EPT_CAP_INVEPT_ALL)
		vmx_invept(INVEPT_ALL_CONTEXT, 0);
	if (vmx_caps.vpid && (vmx_caps.ept_vpid_cap & VPID_CAP_INVVPID_ALL))
		vmx_invvpid(INVVPID_ALL_CONTEXT, 0);
	return 0;
}

/*
 * Passed through to guests, as in svm.c. VMX switches SYSENTER_* and the
 * FS/GS bases; STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE stay the
 * guest's on its own CPU (Keel uses none of them; docs/architecture.md).
 */
static const uint32_t guest_msr_passthrough[] = {
	0x174,	    0x175,	0x176,			/* SYSENTER_CS/ESP/EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102,		/* FS_BASE, GS_BASE, KERNEL_GS_BASE */
};

int vmx_bitmaps(struct partition *p, uint8_t **io, uint8_t **msr)
{
	struct guest_maps *m = &guest_maps[p->id];

	if (p->kind == PARTITION_HOST) {
		*io = host_io;
		*msr = host_msr;
		return 0;
	}
	if (!m->io) {
		uint8_t *gio = page_alloc(2), *gmsr = page_alloc(1);

		if (!gio || !gmsr)
			return -ENOMEM;
		memset(gio, 0xff, 2 * PAGE_SIZE);
		memset(gmsr, 0xff, PAGE_SIZE);
		for (size_t i = 0; i < ARRAY_SIZE(guest_msr_passthrough); i++)
			msr_bitmap_set(gmsr, guest_msr_passthrough[i], true, true, false);
		m->msr = gmsr;
		m->io = gio;
	}
	*io = m->io;
	*msr = m->msr;
	return 0;
}
