// SPDX-License-Identifier: MIT
/*
 * What this CPU is and which virtualization features it has. AMD reports
 * SVM in CPUID 8000_0001h:ECX[2] and its sub-features in leaf 8000_000Ah
 * EDX (APM Vol. 3, Appendix E.4.10); Intel reports VMX in CPUID 1:ECX[5]
 * and the rest through the VMX capability MSRs (SDM Vol. 3D, Appendix A).
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/string.h>
#include <x86/io.h>

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID81_ECX_SVM (1u << 2)
#define SVM_EDX_NPT (1u << 0)
#define SVM_EDX_NRIPS (1u << 3)
#define SVM_EDX_AVIC (1u << 13)
/* Secondary processor-based controls, allowed-1 bits (SDM Vol. 3C 25.6.2). */
#define PROC2_EPT (1u << 1)
#define PROC2_VPID (1u << 5)
#define PROC2_UNRESTRICTED (1u << 7)
#define PROC2_APIC_REG_VIRT (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define PROC_ACTIVATE_SECONDARY (1u << 31)

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

static void print_svm(uint32_t ecx1)
{
	uint32_t a, b, c, d = 0, max_ext;

	cpuid(0x80000000, &max_ext, &b, &c, &d);
	d = 0;
	if (max_ext >= 0x8000000a)
		cpuid(0x8000000a, &a, &b, &c, &d);
	printk("keel: virtualization: svm=yes npt=%s nrip-save=%s avic=%s x2apic=%s\n",
	       yn(d & SVM_EDX_NPT), yn(d & SVM_EDX_NRIPS), yn(d & SVM_EDX_AVIC),
	       yn(ecx1 & CPUID1_ECX_X2APIC));
}

static void print_vmx(uint32_t ecx1)
{
	uint64_t proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	uint32_t proc2 = 0;

	if ((proc >> 32) & PROC_ACTIVATE_SECONDARY)
		proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
	printk("keel: virtualization: vmx=yes ept=%s vpid=%s unrestricted-guest=%s apicv=%s "
	       "x2apic=%s\n",
	       yn(proc2 & PROC2_EPT), yn(proc2 & PROC2_VPID), yn(proc2 & PROC2_UNRESTRICTED),
	       yn((proc2 & PROC2_APIC_REG_VIRT) && (proc2 & PROC2_VIRT_INTR_DELIVERY)),
	       yn(ecx1 & CPUID1_ECX_X2APIC));
}

void arch_print_cpu_summary(void)
{
	uint32_t a, b, c, d, max_ext;
	char vendor[13];
	char brand[49] = "";
	uint32_t family, model, stepping;
	uint32_t ecx1, ecx81 = 0;

	cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';

	cpuid(1, &a, &b, &ecx1, &d);
	stepping = a & 0xf;
	family = (a >> 8) & 0xf;
	model = (a >> 4) & 0xf;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	if (family >= 0x6)
		model |= ((a >> 16) & 0xf) << 4;

	cpuid(0x80000000, &max_ext, &b, &c, &d);
	if (max_ext >= 0x80000001)
		cpuid(0x80000001, &a, &b, &ecx81, &d);
	if (max_ext >= 0x80000004) {
		uint32_t *w = (uint32_t *)brand;

		for (uint32_t leaf = 0; leaf < 3; leaf++)
			cpuid(0x80000002 + leaf, &w[leaf * 4], &w[leaf * 4 + 1], &w[leaf * 4 + 2],
			      &w[leaf * 4 + 3]);
		brand[48] = '\0';
	}
	printk("keel: cpu: %s \"%s\" family 0x%x model 0x%x stepping %u%s\n", vendor, brand, family,
	       model, stepping, (ecx1 & CPUID1_ECX_HYPERVISOR) ? " (under a hypervisor)" : "");

	if (ecx81 & CPUID81_ECX_SVM)
		print_svm(ecx1);
	else if (ecx1 & CPUID1_ECX_VMX)
		print_vmx(ecx1);
	else
		printk("keel: virtualization: none (neither SVM nor VMX): Keel cannot run "
		       "partitions on this CPU\n");
}
