/* SPDX-License-Identifier: MIT */
/*
 * A virtual local APIC: a pure device model (no hardware access) of the
 * xAPIC and x2APIC programming interfaces, Intel SDM Vol. 3A, chapter
 * "Advanced Programmable Interrupt Controller (APIC)". Section numbers below
 * are those of the editions where that is chapter 10 (later editions
 * renumber the chapter; the subsection order is unchanged).
 *
 * The caller embeds a struct vlapic per vCPU and drives it:
 *  - guest accesses: vlapic_mmio_read/write (xAPIC page), vlapic_msr_read/
 *    write (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC MSRs 0x800..0x8FF);
 *  - interrupts from elsewhere: vlapic_accept (a fixed interrupt routed here
 *    by the caller, from an IPI, the IOAPIC or an MSI);
 *  - injection: vlapic_highest_deliverable, then vlapic_ack once the vector
 *    is injected into the guest;
 *  - time: vlapic_timer_check on exits (and when the physical timer
 *    programmed from vlapic_timer_deadline_tsc fires).
 *
 * After any call, the caller re-evaluates vlapic_highest_deliverable and
 * vlapic_timer_deadline_tsc: both can change on any register access.
 *
 * The model has no locks. The caller serializes all calls on one vlapic
 * (in particular vlapic_accept from another CPU's IPI routing against the
 * owning vCPU's accesses).
 *
 * Not modelled: NMI, SMI, INIT and STARTUP are only decoded from the ICR and
 * handed to the caller (send_ipi), which handles them as vCPU state; LINT0/1
 * inputs (the LVT registers are kept); CMCI (max LVT entry is 5, no LVT CMCI
 * register); EOI-broadcast suppression (Version bit 24 = 0); the APR and
 * Remote Read registers of old APICs (read as 0); focus processor checking.
 */
#ifndef X86_VLAPIC_H
#define X86_VLAPIC_H

#include <keel/types.h>

/*
 * The APIC timer's input clock (the "bus clock" the Divide Configuration
 * Register divides), in kHz: 1 GHz. Guests learn it from CPUID leaf
 * 0x40000010 EBX (APIC bus frequency in kHz). Timer counts convert to guest
 * TSC ticks as count * divisor * tsc_khz / VLAPIC_BUS_KHZ, in 128-bit
 * arithmetic.
 */
#define VLAPIC_BUS_KHZ 1000000u

/*
 * Shortest period of the periodic timer mode, in nanoseconds: a smaller
 * initial count * divisor is run at this period, so a guest cannot make
 * the hypervisor take a timer exit every few cycles. One-shot and
 * TSC-deadline timers are not clamped (each costs one interrupt per write).
 */
#define VLAPIC_MIN_PERIOD_NS 100000u

/* Version register: version 0x14 (integrated APIC), max LVT entry 5 (6 LVTs). */
#define VLAPIC_VERSION 0x00050014u

/* Default IA32_APIC_BASE address (SDM 10.4.4). */
#define VLAPIC_DEFAULT_BASE 0xfee00000ull

/* MSRs (SDM 10.4.4, 10.5.4.1, 10.12.1.2). */
#define VLAPIC_MSR_APIC_BASE 0x1bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST 0x8ffu

/* IA32_APIC_BASE bits (SDM 10.4.4, 10.12.1). */
#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_EN (1ull << 11)

/* Register offsets in the xAPIC page (SDM Table 10-1); x2APIC MSR = 0x800 + offset / 16. */
#define VLAPIC_REG_ID 0x020
#define VLAPIC_REG_VERSION 0x030
#define VLAPIC_REG_TPR 0x080
#define VLAPIC_REG_APR 0x090
#define VLAPIC_REG_PPR 0x0a0
#define VLAPIC_REG_EOI 0x0b0
#define VLAPIC_REG_RRD 0x0c0
#define VLAPIC_REG_LDR 0x0d0
#define VLAPIC_REG_DFR 0x0e0
#define VLAPIC_REG_SVR 0x0f0
#define VLAPIC_REG_ISR 0x100 /* 8 registers, 0x100..0x170 */
#define VLAPIC_REG_TMR 0x180 /* 0x180..0x1f0 */
#define VLAPIC_REG_IRR 0x200 /* 0x200..0x270 */
#define VLAPIC_REG_ESR 0x280
#define VLAPIC_REG_LVT_CMCI 0x2f0
#define VLAPIC_REG_ICR_LO 0x300
#define VLAPIC_REG_ICR_HI 0x310
#define VLAPIC_REG_LVT_TIMER 0x320
#define VLAPIC_REG_LVT_THERMAL 0x330
#define VLAPIC_REG_LVT_PERFMON 0x340
#define VLAPIC_REG_LVT_LINT0 0x350
#define VLAPIC_REG_LVT_LINT1 0x360
#define VLAPIC_REG_LVT_ERROR 0x370
#define VLAPIC_REG_TIMER_ICR 0x380 /* initial count */
#define VLAPIC_REG_TIMER_CCR 0x390 /* current count */
#define VLAPIC_REG_TIMER_DCR 0x3e0 /* divide configuration */
#define VLAPIC_REG_SELF_IPI 0x3f0  /* x2APIC only (MSR 0x83F) */

/* Spurious-interrupt vector register (SDM 10.9). */
#define VLAPIC_SVR_ENABLE (1u << 8)

/* LVT fields (SDM 10.5.1, Figure 10-8). */
#define VLAPIC_LVT_VECTOR 0xffu
#define VLAPIC_LVT_DM_MASK (7u << 8)
#define VLAPIC_LVT_PENDING (1u << 12)
#define VLAPIC_LVT_POLARITY (1u << 13)
#define VLAPIC_LVT_REMOTE_IRR (1u << 14)
#define VLAPIC_LVT_LEVEL (1u << 15)
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_TIMER_MODE (3u << 17)
#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_TSC_DEADLINE (2u << 17)

/* Error Status Register bits (SDM 10.5.3). */
#define VLAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REG (1u << 7)

/* ICR fields (SDM 10.6.1, Figure 10-12; x2APIC 10.12.9, Figure 10-28). */
#define VLAPIC_ICR_VECTOR 0xffu
#define VLAPIC_ICR_DM_SHIFT 8
#define VLAPIC_ICR_LOGICAL (1u << 11)
#define VLAPIC_ICR_BUSY (1u << 12)
#define VLAPIC_ICR_ASSERT (1u << 14)
#define VLAPIC_ICR_LEVEL (1u << 15)
#define VLAPIC_ICR_SH_SHIFT 18

/* Delivery modes (ICR, LVT and IOAPIC redirection entries use the same values). */
#define VLAPIC_DM_FIXED 0
#define VLAPIC_DM_LOWEST 1
#define VLAPIC_DM_SMI 2
#define VLAPIC_DM_NMI 4
#define VLAPIC_DM_INIT 5
#define VLAPIC_DM_STARTUP 6
#define VLAPIC_DM_EXTINT 7

/* Destination shorthands (ICR bits 19:18). */
#define VLAPIC_SH_NONE 0
#define VLAPIC_SH_SELF 1
#define VLAPIC_SH_ALL_INCL 2
#define VLAPIC_SH_ALL_EXCL 3

/* Broadcast destinations: 8-bit (xAPIC, IOAPIC, MSI) and 32-bit (x2APIC). */
#define VLAPIC_BCAST_XAPIC 0xffu
#define VLAPIC_BCAST_X2APIC 0xffffffffu

enum vlapic_mode {
	VLAPIC_MODE_DISABLED, /* IA32_APIC_BASE.EN = 0 */
	VLAPIC_MODE_XAPIC,    /* EN = 1, EXTD = 0: MMIO page */
	VLAPIC_MODE_X2APIC,   /* EN = 1, EXTD = 1: MSRs 0x800.. */
};

/* An IPI decoded from an ICR write (SDM 10.6.1), for the caller to route. */
struct vlapic_ipi {
	uint32_t dest;	       /* destination field: 8 bits (xAPIC) or 32 bits (x2APIC) */
	uint8_t vector;	       /* STARTUP: the start page number */
	uint8_t delivery_mode; /* VLAPIC_DM_*: never 3 (reserved) or 7 (ExtINT) */
	uint8_t shorthand;     /* VLAPIC_SH_* */
	bool logical;	       /* destination mode: logical (true) or physical */
	bool level_assert;     /* level bit; INIT level de-assert is never sent */
	bool trigger_level;    /* trigger mode bit */
	bool x2apic;	       /* sent in x2APIC mode: dest is a 32-bit x2APIC destination */
};

/*
 * The environment: filled in by the caller, copied by vlapic_init.
 * Callbacks are called synchronously from inside vlapic_* calls.
 */
struct vlapic_env {
	void *ctx;
	/* The guest's current TSC. */
	uint64_t (*now_tsc)(void *ctx);
	/* Guest TSC frequency in kHz (0 is taken as VLAPIC_BUS_KHZ). */
	uint64_t tsc_khz;
	/*
	 * An IPI to route (ICR write, including shorthands self / all
	 * including self, and the x2APIC SELF IPI register). The caller finds
	 * the targets in the sender's partition (vlapic_ipi_match), filters
	 * anything outside it, and for fixed / lowest-priority interrupts calls
	 * vlapic_accept on the target(s), this vlapic included.
	 */
	void (*send_ipi)(void *ctx, const struct vlapic_ipi *ipi);
	/* A vector accepted as level-triggered (TMR set) was EOI'd: tell the IOAPIC. May be NULL. */
	void (*eoi_level)(void *ctx, uint8_t vector);
	/* The guest's CPUID lacks x2APIC: IA32_APIC_BASE.EXTD is reserved (#GP). */
	bool no_x2apic;
	/* Guest MAXPHYADDR for IA32_APIC_BASE's reserved bits (0 is taken as 52). */
	uint8_t phys_bits;
};

struct vlapic {
	struct vlapic_env env;
	uint32_t id; /* x2APIC ID; the xAPIC ID is its low 8 bits */
	uint64_t apic_base;

	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending; /* visible ESR; errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[6]; /* timer, thermal, perfmon, LINT0, LINT1, error */
	uint32_t irr[8], isr[8], tmr[8];

	/* Timer (SDM 10.5.4). */
	uint32_t timer_icr, timer_dcr;
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE (TSC-deadline mode) */
	bool timer_armed;      /* one-shot / periodic counting */
	uint64_t timer_expiry; /* TSC at which the count reaches 0 */
	uint64_t timer_period; /* periodic: TSC ticks per period */
};

/* Power-on: registers in their reset state, xAPIC mode at VLAPIC_DEFAULT_BASE. */
void vlapic_init(struct vlapic *l, const struct vlapic_env *env, uint32_t apic_id, bool is_bsp);
/*
 * INIT (SDM 10.12.5.1, Figure 10-27): every register back to its reset
 * value except the APIC ID and IA32_APIC_BASE (the mode is kept).
 */
void vlapic_reset(struct vlapic *l);

enum vlapic_mode vlapic_mode(const struct vlapic *l);
/* The xAPIC page's guest-physical address (IA32_APIC_BASE[51:12]); meaningful in xAPIC mode. */
uint64_t vlapic_mmio_base(const struct vlapic *l);
uint32_t vlapic_id(const struct vlapic *l);

/*
 * xAPIC MMIO read of size bytes (1, 2, 4) at offset (0..0xFFF) in the APIC
 * page. The 32-bit register at offset & 0xFF0 is read and the bytes at
 * offset & 0xF returned.
 * Returns 0, or -EINVAL (size not 1/2/4, offset > 0xFFF, or the access
 * reaches past the register's first dword: *val is 0), or -ENODEV (not in
 * xAPIC mode: the page is not the APIC's; *val is 0). A reserved register
 * reads 0 and sets ESR bit 7 (SDM 10.5.3).
 */
int vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned int size, uint32_t *val);
/*
 * xAPIC MMIO write. Only 32-bit writes at a register's start (offset & 0xF
 * == 0) are performed (SDM 10.4.1: registers are 128-bit aligned, accessed
 * as 32 bits); anything else is ignored and returns -EINVAL. Writes to
 * read-only registers are ignored; reserved ones set ESR bit 7. Returns 0,
 * -EINVAL or -ENODEV (not in xAPIC mode, ignored).
 */
int vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned int size, uint32_t val);

/*
 * RDMSR/WRMSR of IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0) and the
 * x2APIC registers (0x800..0x8FF). Returns 0, -EINVAL for #GP (x2APIC MSRs
 * outside x2APIC mode, reserved registers, reads of write-only / writes to
 * read-only registers, reserved bits set, illegal IA32_APIC_BASE
 * transitions), or -ENOENT (not an APIC MSR: nothing done).
 */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val);

/*
 * Accept a fixed (or lowest-priority) interrupt routed here (SDM 10.8.4):
 * set IRR, and TMR if level-triggered (cleared if edge). Returns false when
 * not accepted: the APIC is disabled (globally or by software, SDM
 * 10.4.7.2) or the vector is illegal (0..15: ESR bit 6).
 */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool trigger_level);
/* Highest IRR vector whose priority class is above the PPR's (SDM 10.8.3.1), or -1. */
int vlapic_highest_deliverable(struct vlapic *l);
/* The caller injected vector into the guest: IRR -> ISR (no-op if its IRR bit is clear). */
void vlapic_ack(struct vlapic *l, uint8_t vector);
/* Processor priority (SDM 10.8.3.1), e.g. for lowest-priority arbitration. */
uint32_t vlapic_ppr(const struct vlapic *l);
/* Retire the highest in-service vector, as a write to the EOI register would. */
void vlapic_eoi(struct vlapic *l);
/* Could the guest skip the EOI of its in-service vector (PV EOI)? */
bool vlapic_pv_eoi_allowed(const struct vlapic *l);
/* TPR (bits 7:0) for CR8 / virtual-TPR synchronization: CR8 = TPR >> 4. */
uint32_t vlapic_get_tpr(const struct vlapic *l);
void vlapic_set_tpr(struct vlapic *l, uint32_t tpr);

/*
 * Fire the timer if it is due (SDM 10.5.4): accept its vector if the LVT is
 * unmasked, re-arm a periodic timer, clear IA32_TSC_DEADLINE. Call on exits
 * and when the physical timer set from vlapic_timer_deadline_tsc fires.
 */
void vlapic_timer_check(struct vlapic *l);
/* Guest TSC at which the timer next raises an interrupt, or 0 if none is due (masked/idle). */
uint64_t vlapic_timer_deadline_tsc(const struct vlapic *l);

/*
 * Does l match destination dest (SDM 10.6.2)? logical: logical destination
 * mode. x2apic_dest: dest is a 32-bit x2APIC destination (an IPI sent in
 * x2APIC mode); false for 8-bit destinations (xAPIC IPIs, IOAPIC, MSI).
 * Physical: dest is the APIC ID or the broadcast ID. Logical: flat or
 * cluster model per the DFR in xAPIC mode; in x2APIC mode the LDR is
 * derived from the x2APIC ID (cluster = ID[31:4] in bits 31:16, bit
 * ID[3:0] in bits 15:0). A globally disabled APIC matches nothing.
 */
bool vlapic_matches(const struct vlapic *l, uint32_t dest, bool logical, bool x2apic_dest);
/* Is target a destination of ipi sent by sender (shorthand, then vlapic_matches)? */
bool vlapic_ipi_match(const struct vlapic *target, const struct vlapic *sender,
		      const struct vlapic_ipi *ipi);

#endif
