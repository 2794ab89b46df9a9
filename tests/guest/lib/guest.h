/* SPDX-License-Identifier: MIT */
/*
 * The runtime of raw guest payloads (tests/guest/README.md): output on the
 * debug port, CPU helpers, instructions that may fault (caught through the
 * IDT and reported, not fatal), calls at CPL 3, and the PASS/FAIL lines that
 * Keel's integration tests read. A payload defines guest_main(); when it
 * returns, the runtime prints the summary line and halts.
 */
#ifndef KEEL_GUEST_H
#define KEEL_GUEST_H

#include <keel/types.h>
#include <keel/string.h>

/* Where Keel loads the image and starts it (CS:IP = 0x1000:0000); see guest.ld. */
#define GUEST_LOAD_ADDR 0x10000ull
#define GUEST_DEBUG_PORT 0xe9
/* INT 0x80 from ring 3 ends a user_call(); its gate has DPL 3 (entry.asm). */
#define USER_RETURN_VECTOR 0x80

#define X86_DE 0
#define X86_DB 1
#define X86_NMI 2
#define X86_BP 3
#define X86_UD 6
#define X86_DF 8
#define X86_TS 10
#define X86_NP 11
#define X86_SS 12
#define X86_GP 13
#define X86_PF 14

/* The payload's test body, called in 64-bit mode at CPL 0 with interrupts off. */
void guest_main(void);

/* ---- Port I/O and CPU helpers ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

/* RDTSC after LFENCE, so it is not executed ahead of the loads before it (as Linux's rdtsc_ordered). */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline unsigned int read_cpl(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* ---- Instructions that may fault ----
 *
 * An instruction listed in the exception table (section .extable: pairs of
 * "may fault at" and "resume at" addresses) does not stop the payload when it
 * faults: the trap handler records the fault in guest_last_fault and resumes
 * at the second address. The *_safe helpers below return 0 if the
 * instruction completed, or FAULT(vector) if it raised that exception.
 */
#define FAULT(vector) (0x100 | (vector))
#define FAULT_NONE 0

/* Lists the instruction at local label `from` as allowed to fault; resume at `to`. */
#define GUEST_EXTABLE(from, to)                                                                    \
	".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad " #from ", " #to "\n\t.popsection\n\t"

struct guest_fault {
	bool hit;
	uint8_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cr2;
	unsigned int cpl; /* of the code that faulted */
};

/* Written by the trap handler; read with fault_result() after the instruction. */
extern volatile struct guest_fault guest_last_fault;

static inline void fault_arm(void)
{
	guest_last_fault.hit = false;
}

static inline int fault_result(void)
{
	return guest_last_fault.hit ? FAULT(guest_last_fault.vector) : FAULT_NONE;
}

/* "none", "#GP", ... for FAULT_NONE or FAULT(vector). */
const char *fault_name(int fault);

int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);

/* ---- Hypercalls (KVM ABI: nr in RAX, arguments in RBX, RCX, RDX, RSI, result in RAX) ---- */

enum hc_insn {
	HC_NATIVE,  /* the one the CPUID vendor implies, as Linux picks it */
	HC_VMCALL,  /* 0F 01 C1, Intel */
	HC_VMMCALL, /* 0F 01 D9, AMD and Hygon */
};

/* HC_VMMCALL on AuthenticAMD/HygonGenuine, HC_VMCALL otherwise. */
enum hc_insn hc_native_insn(void);
const char *hc_insn_name(enum hc_insn insn);
/* The CPUID vendor string, e.g. "AuthenticAMD". */
const char *cpu_vendor(void);

/* *ret = RAX after the call (the number itself if it faulted); returns FAULT_NONE or FAULT(v). */
int hypercall(enum hc_insn insn, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	      uint64_t *ret);

/* ---- CPL 3 ----
 *
 * Runs fn(arg) in ring 3 on a separate stack with interrupts off and IOPL 0,
 * and returns what it returns. All memory is user-accessible, so fn may read
 * and write globals and call runtime helpers that do not do port I/O; it must
 * not print (OUT faults at CPL 3). Faults of instructions in the exception
 * table are caught as at CPL 0 and resume in ring 3.
 */
uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg);

/* ---- Output ---- */

void guest_putc(char c);
void guest_puts(const char *s);
/* Formatted output on the debug port (hv/printf.c's vsnprintf); lines over 512 bytes are cut. */
int guest_printf(const char *fmt, ...) __printf(1, 2);

/* ---- Tests ----
 *
 * Each check prints "guest-test: PASS name" or "guest-test: FAIL name: detail";
 * guest_done() prints "guest-test: done N passed, M failed" and halts. An
 * unexpected exception counts as one failure and ends the payload.
 */
bool check(const char *name, bool ok, const char *fmt, ...) __printf(3, 4);
/* An informational line, "guest-test: info: ...", ignored by the pass/fail count. */
void note(const char *fmt, ...) __printf(1, 2);

#define EXPECT(name, cond) check((name), (cond), "expected %s", #cond)

#define EXPECT_EQ(name, got, want)                                                                 \
	({                                                                                         \
		uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);                         \
		check((name), got_ == want_, "%s is 0x%llx, expected 0x%llx", #got,                \
		      (unsigned long long)got_, (unsigned long long)want_);                        \
	})

#define EXPECT_FAULT(name, got, want)                                                              \
	({                                                                                         \
		int gotf_ = (got), wantf_ = (want);                                                \
		check((name), gotf_ == wantf_, "got %s, expected %s", fault_name(gotf_),           \
		      fault_name(wantf_));                                                         \
	})

unsigned int tests_passed(void);
unsigned int tests_failed(void);

/* Prints the summary line and halts for good (CLI; HLT in a loop). */
__noreturn void guest_done(void);
/* CLI; HLT in a loop, without a summary. */
__noreturn void guest_halt(void);

#endif
