// SPDX-License-Identifier: MIT
/*
 * VM-exit round trips, timed from inside a guest partition (bench/run, docs/
 * performance.md). Each operation runs in a window
 *
 *     lfence; rdtsc; (save the TSC); [set-up;] OP; lfence; rdtsc; (subtract)
 *
 * 100 times to warm up, then 1000 times timed; the payload prints the
 * minimum, median and maximum of the 1000 TSC deltas. "baseline" is the same
 * window with no operation: subtract it to get the cost of the operation
 * (which then includes its one or two set-up instructions). "calibration"
 * times a loop of a known number of instructions, so the log itself says
 * how TSC ticks relate to instructions on the machine it ran on (under
 * QEMU -icount shift=0: one tick per instruction).
 *
 * The partition needs console = serial (the UART is one of the devices
 * timed). Output: "bench: NAME min A median B max C" per operation, plus
 * the usual guest-test PASS/FAIL lines for the checks that each operation
 * reached what it is meant to reach.
 */
#include "guest.h"

/* bench/profile builds a copy with fewer runs. */
#ifndef WARMUP
#define WARMUP 100
#endif
#ifndef ITERATIONS
#define ITERATIONS 1000
#endif
#define CALIBRATION_LOOPS 1000
/* The loop below: mov, then dec+jnz per pass. */
#define CALIBRATION_INSNS (1 + 2 * CALIBRATION_LOOPS)

#define UART_SCRATCH_PORT 0x3ff /* COM1's scratch register: no side effect */
#define UNASSIGNED_PORT 0x2f8	/* COM2's data port: a Keel guest has no COM2 */
#define IOAPIC_IOREGSEL 0xfec00000ull
#define IOAPIC_IOWIN 0xfec00010ull
#define IOAPIC_VERSION_REG 1
#define MSR_IA32_TSC 0x10
#define HC_UNKNOWN 0x7fff /* a hypercall number KVM does not define */
#define KVM_ENOSYS 1000

/* Starts the window: the TSC goes to R8. */
#define WINDOW_BEGIN                                                                               \
	"lfence\n\t"                                                                               \
	"rdtsc\n\t"                                                                                \
	"shl $32, %%rdx\n\t"                                                                       \
	"or %%rdx, %%rax\n\t"                                                                      \
	"mov %%rax, %%r8\n\t"
/* Ends it: RAX = TSC now - R8. */
#define WINDOW_END                                                                                 \
	"lfence\n\t"                                                                               \
	"rdtsc\n\t"                                                                                \
	"shl $32, %%rdx\n\t"                                                                       \
	"or %%rdx, %%rax\n\t"                                                                      \
	"sub %%r8, %%rax\n\t"

static uint64_t op_baseline(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN WINDOW_END : "=a"(d) : : "rdx", "r8", "memory");
	return d;
}

static uint64_t op_calibration(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "mov %[n], %%ecx\n\t"
				  "1: dec %%ecx\n\t"
				  "jnz 1b\n\t" WINDOW_END
		     : "=a"(d)
		     : [n] "i"(CALIBRATION_LOOPS)
		     : "rcx", "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_cpuid(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "xor %%eax, %%eax\n\t"
				  "xor %%ecx, %%ecx\n\t"
				  "cpuid\n\t" WINDOW_END
		     : "=a"(d)
		     :
		     : "rbx", "rcx", "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_vmmcall(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "mov %[nr], %%eax\n\t"
				  "vmmcall\n\t" WINDOW_END
		     : "=a"(d)
		     : [nr] "i"(HC_UNKNOWN)
		     : "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_rdmsr(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "mov %[msr], %%ecx\n\t"
				  "rdmsr\n\t" WINDOW_END
		     : "=a"(d)
		     : [msr] "i"(MSR_IA32_TSC)
		     : "rcx", "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_out_uart(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "mov %[port], %%edx\n\t"
				  "outb %%al, %%dx\n\t" WINDOW_END
		     : "=a"(d)
		     : [port] "i"(UART_SCRATCH_PORT)
		     : "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_mmio_write(void)
{
	uint64_t d;

	/* IOREGSEL = 1 (the version register): a write the IOAPIC model takes, harmlessly. */
	asm volatile(WINDOW_BEGIN "movl %[reg], (%[sel])\n\t" WINDOW_END
		     : "=a"(d)
		     : [sel] "S"(IOAPIC_IOREGSEL), [reg] "i"(IOAPIC_VERSION_REG)
		     : "rdx", "r8", "memory", "cc");
	return d;
}

static uint64_t op_out_unassigned(void)
{
	uint64_t d;

	asm volatile(WINDOW_BEGIN "mov %[port], %%edx\n\t"
				  "outb %%al, %%dx\n\t" WINDOW_END
		     : "=a"(d)
		     : [port] "i"(UNASSIGNED_PORT)
		     : "rdx", "r8", "memory", "cc");
	return d;
}

struct op {
	const char *name;
	uint64_t (*run)(void);
};

static const struct op ops[] = {
	{ "baseline", op_baseline },
	{ "calibration", op_calibration },
	{ "cpuid", op_cpuid },
	{ "vmmcall", op_vmmcall },
	{ "rdmsr_tsc", op_rdmsr },
	{ "out_uart", op_out_uart },
	{ "mmio_ioapic", op_mmio_write },
	{ "out_unassigned", op_out_unassigned },
};

static uint64_t samples[ITERATIONS];

static void sort(uint64_t *a, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		uint64_t v = a[i];
		unsigned int j = i;

		while (j && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

static void measure(const struct op *op)
{
	for (unsigned int i = 0; i < WARMUP; i++)
		op->run();
	for (unsigned int i = 0; i < ITERATIONS; i++)
		samples[i] = op->run();
	sort(samples, ITERATIONS);
	/* The median of an even count: the lower middle sample, an integer that was observed. */
	guest_printf("bench: %s min %llu median %llu max %llu n %u\n", op->name,
		     (unsigned long long)samples[0],
		     (unsigned long long)samples[(ITERATIONS - 1) / 2],
		     (unsigned long long)samples[ITERATIONS - 1], ITERATIONS);
}

/* Each operation reaches what it is meant to, so the figures are for the right path. */
static void check_targets(void)
{
	volatile uint32_t *sel = (volatile uint32_t *)IOAPIC_IOREGSEL;
	volatile uint32_t *win = (volatile uint32_t *)IOAPIC_IOWIN;
	struct cpuid_regs r = cpuid(0, 0);
	uint64_t ret = 0, tsc0, tsc = 0, tsc1;
	uint32_t version;

	EXPECT("cpuid_vendor", r.ebx != 0);
	EXPECT_EQ("vmmcall_unknown", hypercall(HC_VMMCALL, HC_UNKNOWN, 0, 0, 0, 0, &ret),
		  FAULT_NONE);
	EXPECT_EQ("vmmcall_enosys", ret, (uint64_t)-KVM_ENOSYS);
	tsc0 = rdtsc_ordered();
	EXPECT_EQ("rdmsr_tsc_ok", rdmsr_safe(MSR_IA32_TSC, &tsc), FAULT_NONE);
	tsc1 = rdtsc_ordered();
	check("rdmsr_tsc_value", tsc0 <= tsc && tsc <= tsc1, "0x%llx not in [0x%llx, 0x%llx]",
	      (unsigned long long)tsc, (unsigned long long)tsc0, (unsigned long long)tsc1);
	outb(UART_SCRATCH_PORT, 0x5a);
	EXPECT_EQ("uart_scratch", inb(UART_SCRATCH_PORT), 0x5a);
	*sel = IOAPIC_VERSION_REG;
	version = *win;
	check("ioapic_version", (version & 0xff) != 0 && (version & 0xff) != 0xff,
	      "IOAPIC version register reads 0x%x", version);
	EXPECT_EQ("unassigned_port", inb(UNASSIGNED_PORT), 0xff);
}

void guest_main(void)
{
	check_targets();
	if (tests_failed())
		return;
	guest_printf("bench: runs warmup %u timed %u calibration_insns %u\n", WARMUP, ITERATIONS,
		     CALIBRATION_INSNS);
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		measure(&ops[i]);
	guest_printf("bench: end\n");
}
