// SPDX-License-Identifier: MIT
/*
 * Checks of the runtime itself, meaningful anywhere (plain QEMU as well as a
 * Keel partition): long mode, the exception-table fixups at CPL 0 and CPL 3,
 * the ring-3 round trip, and the printf the reports rely on.
 */
#include "guest.h"

#define MSR_EFER 0xc0000080u
#define MSR_NONEXISTENT 0x12345678u
/* PML4[0] maps 512 GiB but only its first 4 PDPT entries are present. */
#define UNMAPPED_ADDR 0x100000000ull
/* Bits 63:47 not all equal: any access is #GP before paging is consulted. */
#define NONCANONICAL_ADDR 0x8000000000000000ull

static uint8_t zeroed[4096];

static int ud2_safe(void)
{
	fault_arm();
	asm volatile("1: ud2\n2:\n\t" GUEST_EXTABLE(1b, 2b) : : : "memory");
	return fault_result();
}

static int read_safe(uint64_t addr, uint64_t *v)
{
	uint64_t x = 0;

	fault_arm();
	asm volatile("1: mov (%1), %0\n2:\n\t" GUEST_EXTABLE(1b, 2b)
		     : "+r"(x)
		     : "r"(addr)
		     : "memory");
	*v = x;
	return fault_result();
}

static uint64_t user_cpl(uint64_t arg)
{
	return read_cpl() * 1000 + arg;
}

/* CLI at CPL 3 with IOPL 0 is #GP; the fixup must come back to ring 3. */
static uint64_t user_cli(uint64_t arg)
{
	int f;

	fault_arm();
	asm volatile("1: cli\n2:\n\t" GUEST_EXTABLE(1b, 2b) : : : "memory");
	f = fault_result();
	return (uint64_t)f << 8 | read_cpl();
}

/* Port I/O at CPL 3: IOPL 0 and no I/O bitmap in the TSS, so #GP. */
static uint64_t user_out(uint64_t arg)
{
	fault_arm();
	asm volatile("1: outb %%al, $0xe9\n2:\n\t" GUEST_EXTABLE(1b, 2b) : : "a"('!') : "memory");
	return (uint64_t)fault_result();
}

static uint64_t user_msr(uint64_t arg)
{
	uint64_t v;

	return (uint64_t)rdmsr_safe(MSR_EFER, &v);
}

/* QEMU's TCG (signature "TCGTCGTCGTCG") returns 0 for unknown MSRs instead of #GP. */
static bool on_qemu_tcg(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);

	return r.ebx == 0x54474354 && r.ecx == 0x43544743 && r.edx == 0x47435447;
}

void guest_main(void)
{
	uint64_t v = 0, r;
	int f;
	char buf[64];
	bool all_zero = true;
	/* Lives across user_call in a callee-saved register or on the stack. */
	volatile uint64_t canary = 0x5eed5eed5eed5eedull;

	note("vendor %s, native hypercall %s", cpu_vendor(), hc_insn_name(HC_NATIVE));

	for (unsigned int i = 0; i < sizeof(zeroed); i++)
		all_zero &= zeroed[i] == 0;
	EXPECT("selftest_bss_zeroed", all_zero);
	EXPECT_EQ("selftest_cpl0", read_cpl(), 0);

	f = rdmsr_safe(MSR_EFER, &v);
	EXPECT_FAULT("selftest_rdmsr_efer", f, FAULT_NONE);
	/* LME (8) and LMA (10). */
	EXPECT_EQ("selftest_efer_long_mode", v & 0x500, 0x500);

	if (on_qemu_tcg()) {
		note("skipped selftest_rdmsr_gp, selftest_wrmsr_gp: QEMU TCG does not fault "
		     "unknown "
		     "MSRs");
	} else {
		EXPECT_FAULT("selftest_rdmsr_gp", rdmsr_safe(MSR_NONEXISTENT, &v), FAULT(X86_GP));
		EXPECT_FAULT("selftest_wrmsr_gp", wrmsr_safe(MSR_NONEXISTENT, 0), FAULT(X86_GP));
	}
	EXPECT_FAULT("selftest_gp_fixup", read_safe(NONCANONICAL_ADDR, &v), FAULT(X86_GP));
	EXPECT_FAULT("selftest_ud_fixup", ud2_safe(), FAULT(X86_UD));
	f = read_safe(UNMAPPED_ADDR, &v);
	EXPECT_FAULT("selftest_pf_fixup", f, FAULT(X86_PF));
	EXPECT_EQ("selftest_pf_cr2", guest_last_fault.cr2, UNMAPPED_ADDR);

	r = user_call(user_cpl, 7);
	EXPECT_EQ("selftest_user_cpl3", r, 3007);
	r = user_call(user_cli, 0);
	EXPECT_EQ("selftest_user_gp_fixup", r, (uint64_t)FAULT(X86_GP) << 8 | 3);
	EXPECT_EQ("selftest_user_fault_cpl", guest_last_fault.cpl, 3);
	EXPECT_EQ("selftest_user_port_io_gp", user_call(user_out, 0), FAULT(X86_GP));
	EXPECT_EQ("selftest_user_rdmsr_gp", user_call(user_msr, 0), FAULT(X86_GP));
	EXPECT_EQ("selftest_back_in_ring0", read_cpl(), 0);
	EXPECT_EQ("selftest_stack_preserved", canary, 0x5eed5eed5eed5eedull);

	snprintf(buf, sizeof(buf), "%d %u %x %s %llx %5s|%-3d|", -42, 42u, 0xbeefu, "ok",
		 0x123456789abcull, "pad", 7);
	check("selftest_printf", !strcmp(buf, "-42 42 beef ok 123456789abc   pad|7  |"),
	      "got \"%s\"", buf);
}
