// SPDX-License-Identifier: MIT
/*
 * The C half of the raw-payload runtime (tests/guest/README.md): descriptor
 * tables, the trap handler with its exception table, output on port 0xE9,
 * the test counters, and the helpers whose instructions may fault.
 * entry.asm has already switched to long mode and cleared .bss.
 */
#include "guest.h"

#define SEL_CODE64 0x18
#define SEL_TSS 0x30
#define GDT_TSS_SLOT 6

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct extable_entry {
	uint64_t from, to;
};

/* entry.asm and guest.ld */
extern uint64_t gdt[];
extern const uint64_t isr_stubs[256];
extern const char user_return_entry[];
extern const struct extable_entry __extable_start[], __extable_end[];

volatile struct guest_fault guest_last_fault;

static struct idt_gate idt[256] __aligned(16);
static struct tss tss __aligned(16);
/* Ring-0 stack for traps and INT 0x80 from ring 3 (TSS.RSP0). */
static uint8_t ring0_stack[16384] __aligned(16);
/* #DF runs on its own stack (IST1), so a blown stack still gets reported. */
static uint8_t df_stack[8192] __aligned(16);

static char vendor[13];
static unsigned int nr_passed, nr_failed;

static void set_gate(unsigned int vector, uint64_t handler, uint8_t ist, unsigned int dpl)
{
	struct idt_gate *g = &idt[vector];

	g->offset_lo = handler & 0xffff;
	g->selector = SEL_CODE64;
	g->ist = ist;
	g->type_attr = 0x8e | (dpl << 5); /* present 64-bit interrupt gate: IF stays 0 */
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

static void setup_tss(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)(ring0_stack + sizeof(ring0_stack));
	tss.ist[0] = (uint64_t)(df_stack + sizeof(df_stack));
	/* An I/O bitmap offset past the limit means no bitmap: every port faults at CPL 3. */
	tss.iomap_base = sizeof(tss);
	gdt[GDT_TSS_SLOT] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			    ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[GDT_TSS_SLOT + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(SEL_TSS));
}

static void setup_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned int v = 0; v < 256; v++)
		set_gate(v, isr_stubs[v], v == X86_DF ? 1 : 0, 0);
	set_gate(USER_RETURN_VECTOR, (uint64_t)user_return_entry, 0, 3);
	asm volatile("lidt %0" : : "m"(idtr));
}

/* Called by entry.asm before guest_main. */
void guest_runtime_init(void);
void guest_runtime_init(void)
{
	struct cpuid_regs r = cpuid(0, 0);

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = 0;
	setup_tss();
	setup_idt();
}

/* ---- Output ---- */

void guest_putc(char c)
{
	outb(GUEST_DEBUG_PORT, (uint8_t)c);
}

void guest_puts(const char *s)
{
	/* One OUT per byte: Keel does not emulate string I/O (REP OUTSB stops the partition). */
	while (*s)
		guest_putc(*s++);
}

static int guest_vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	guest_puts(buf);
	return n;
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* ---- Tests ---- */

bool check(const char *name, bool ok, const char *fmt, ...)
{
	char detail[384];
	va_list ap;

	if (ok) {
		nr_passed++;
		guest_printf("guest-test: PASS %s\n", name);
		return true;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	nr_failed++;
	guest_printf("guest-test: FAIL %s: %s\n", name, detail);
	return false;
}

void note(const char *fmt, ...)
{
	va_list ap;

	guest_puts("guest-test: info: ");
	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
	guest_putc('\n');
}

unsigned int tests_passed(void)
{
	return nr_passed;
}

unsigned int tests_failed(void)
{
	return nr_failed;
}

void guest_halt(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

void guest_done(void)
{
	guest_printf("guest-test: done %u passed, %u failed\n", nr_passed, nr_failed);
	guest_halt();
}

/* ---- Traps ---- */

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	"#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *fault_name(int fault)
{
	static char other[16];
	unsigned int v = (unsigned int)fault & 0xff;

	if (fault == FAULT_NONE)
		return "no fault";
	if ((fault & ~0xff) != FAULT(0))
		return "(not a fault code)";
	if (v < 32)
		return exception_names[v];
	snprintf(other, sizeof(other), "vector %u", v);
	return other;
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* Called by isr_common; returns only after a fixup from the exception table. */
void guest_trap(struct trap_frame *f);
void guest_trap(struct trap_frame *f)
{
	static bool reporting;
	/* Through integers: the two symbols are distinct objects as far as C knows. */
	size_t n =
		((uintptr_t)__extable_end - (uintptr_t)__extable_start) / sizeof(*__extable_start);

	for (size_t i = 0; i < n; i++) {
		const struct extable_entry *e = &__extable_start[i];

		if (e->from != f->rip)
			continue;
		guest_last_fault.vector = (uint8_t)f->vector;
		guest_last_fault.error_code = f->error_code;
		guest_last_fault.rip = f->rip;
		guest_last_fault.cr2 = f->vector == X86_PF ? read_cr2() : 0;
		guest_last_fault.cpl = f->cs & 3;
		guest_last_fault.hit = true;
		f->rip = e->to;
		return;
	}
	if (reporting) /* faulted while reporting a fault: nothing more to try */
		guest_halt();
	reporting = true;
	nr_failed++;
	guest_printf("guest-test: FAIL exception: unexpected %s (vector %llu) error 0x%llx at "
		     "rip 0x%llx cpl %llu cr2 0x%llx\n",
		     fault_name(FAULT(f->vector & 0xff)), (unsigned long long)f->vector,
		     (unsigned long long)f->error_code, (unsigned long long)f->rip,
		     (unsigned long long)(f->cs & 3), (unsigned long long)read_cr2());
	guest_printf("guest-test: info: rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx "
		     "rbp %llx rsp %llx rflags %llx\n",
		     (unsigned long long)f->rax, (unsigned long long)f->rbx,
		     (unsigned long long)f->rcx, (unsigned long long)f->rdx,
		     (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		     (unsigned long long)f->rbp, (unsigned long long)f->rsp,
		     (unsigned long long)f->rflags);
	guest_done();
}

/* ---- Instructions that may fault ---- */

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	fault_arm();
	asm volatile("1: rdmsr\n2:\n\t" GUEST_EXTABLE(1b, 2b)
		     : "+a"(lo), "+d"(hi)
		     : "c"(msr)
		     : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return fault_result();
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
	fault_arm();
	asm volatile("1: wrmsr\n2:\n\t" GUEST_EXTABLE(1b, 2b)
		     :
		     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
		     : "memory");
	return fault_result();
}

const char *cpu_vendor(void)
{
	return vendor;
}

enum hc_insn hc_native_insn(void)
{
	/* As Linux: X86_FEATURE_VMMCALL is set for AMD and Hygon only. */
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		return HC_VMMCALL;
	return HC_VMCALL;
}

const char *hc_insn_name(enum hc_insn insn)
{
	switch (insn) {
	case HC_VMCALL:
		return "VMCALL";
	case HC_VMMCALL:
		return "VMMCALL";
	default:
		return hc_insn_name(hc_native_insn());
	}
}

int hypercall(enum hc_insn insn, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	      uint64_t *ret)
{
	uint64_t rax = nr;

	if (insn == HC_NATIVE)
		insn = hc_native_insn();
	fault_arm();
	if (insn == HC_VMMCALL)
		asm volatile("1: vmmcall\n2:\n\t" GUEST_EXTABLE(1b, 2b)
			     : "+a"(rax)
			     : "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	else
		asm volatile("1: vmcall\n2:\n\t" GUEST_EXTABLE(1b, 2b)
			     : "+a"(rax)
			     : "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			     : "memory");
	*ret = rax;
	return fault_result();
}
