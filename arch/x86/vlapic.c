// SPDX-License-Identifier: MIT
/*
 * Virtual local APIC: the device model behind include/x86/vlapic.h. No
 * hardware access; time comes from env.now_tsc, IPIs and level EOIs leave
 * through env callbacks. Section numbers are Intel SDM Vol. 3A, chapter
 * "Advanced Programmable Interrupt Controller (APIC)" (numbered 10 in the
 * editions cited).
 *
 * Register access rules:
 *  - xAPIC (MMIO): reserved bits are dropped; writes to read-only
 *    registers are ignored; reserved registers read 0, ignore writes and set
 *    ESR "illegal register address" (10.5.3).
 *  - x2APIC (MSR): reserved registers, reads of write-only and writes to
 *    read-only registers, non-zero upper halves (all but the ICR) and
 *    reserved bits set are #GP (10.12.1.2, 10.12.1.3). The ICR is lenient:
 *    its reserved bits are dropped, as KVM does. Read-only status bits in
 *    LVTs (delivery status, remote IRR) are ignored rather than faulted, so
 *    a read-modify-write never faults.
 *
 * Timer (10.5.4): counts run at VLAPIC_BUS_KHZ / divisor and are converted
 * to guest TSC ticks; the model keeps the TSC at which the count reaches 0
 * and computes the current count on reads. Before any register write that
 * can change the timer, expiries up to now are processed under the old
 * settings (vlapic_timer_check), so masking, mode and divisor changes
 * apply from the moment of the write.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <x86/vlapic.h>

enum { LVT_TIMER, LVT_THERMAL, LVT_PERFMON, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

STATIC_ASSERT(LVT_COUNT == ARRAY_SIZE(((struct vlapic *)0)->lvt), "LVT count");

/* Writable bits of each LVT (10.5.1, Figure 10-8). Bits 12 and 14 are read-only status. */
static const uint32_t lvt_mask[LVT_COUNT] = {
	[LVT_TIMER] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED | VLAPIC_LVT_TIMER_MODE,
	[LVT_THERMAL] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED,
	[LVT_PERFMON] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED,
	[LVT_LINT0] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_POLARITY |
		      VLAPIC_LVT_LEVEL | VLAPIC_LVT_MASKED,
	[LVT_LINT1] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_POLARITY |
		      VLAPIC_LVT_LEVEL | VLAPIC_LVT_MASKED,
	[LVT_ERROR] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED,
};
#define LVT_RO_BITS (VLAPIC_LVT_PENDING | VLAPIC_LVT_REMOTE_IRR)

#define SVR_MASK 0x3ffu	     /* vector, APIC enable, focus processor checking (10.9) */
#define DCR_MASK 0xbu	     /* bits 0, 1 and 3 (10.5.4, Figure 10-10) */
#define ICR_LO_MASK 0xccfffu /* vector, mode, dest mode, level, trigger, shorthand (10.6.1) */
#define DFR_MODEL_FLAT 0xfu  /* DFR[31:28] (10.6.2.2) */
#define DFR_MODEL_CLUSTER 0x0u

/* Register-access results inside this file (mapped to ESR or #GP by the callers). */
#define R_RESERVED (-ENOENT) /* no such register */
#define R_READONLY (-EPERM)  /* write to a read-only register / read of a write-only one */
#define R_BADBITS (-EINVAL)  /* x2APIC: reserved bits set */

static uint64_t now_tsc(const struct vlapic *l)
{
	return l->env.now_tsc(l->env.ctx);
}

static uint64_t tsc_khz(const struct vlapic *l)
{
	return l->env.tsc_khz ? l->env.tsc_khz : VLAPIC_BUS_KHZ;
}

/*
 * a * b / c rounded down or up, saturating at UINT64_MAX; c != 0. The
 * 128-by-64 division is done by hand: a 128-bit '/' would call libgcc's
 * __udivti3, which the hypervisor does not link.
 */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c, bool round_up)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p, q, r;

	if (hi >= c)
		return UINT64_MAX;
	if (!hi) {
		q = lo / c;
		r = lo % c;
	} else {
		q = 0;
		for (int i = 0; i < 64; i++) {
			uint64_t carry = hi >> 63;

			hi = (hi << 1) | (lo >> 63);
			lo <<= 1;
			q <<= 1;
			if (carry || hi >= c) {
				hi -= c;
				q |= 1;
			}
		}
		r = hi;
	}
	if (round_up && r && q != UINT64_MAX)
		q++;
	return q;
}

/* ---- Bitmaps: IRR, ISR, TMR are 256 bits in 8 registers of 32 (10.8.4). ---- */

static void bit_set(uint32_t *map, uint8_t v)
{
	map[v >> 5] |= 1u << (v & 31);
}

static void bit_clear(uint32_t *map, uint8_t v)
{
	map[v >> 5] &= ~(1u << (v & 31));
}

static bool bit_test(const uint32_t *map, uint8_t v)
{
	return map[v >> 5] & (1u << (v & 31));
}

/* Highest set bit, or -1. */
static int bit_highest(const uint32_t *map)
{
	/* Usually empty (checked before every guest entry): one test for all eight words. */
	if (!(map[0] | map[1] | map[2] | map[3] | map[4] | map[5] | map[6] | map[7]))
		return -1;
	for (int i = 7; i >= 0; i--)
		if (map[i])
			return i * 32 + 31 - __builtin_clz(map[i]);
	return -1;
}

/* ---- Modes ---- */

static enum vlapic_mode base_mode(uint64_t base)
{
	if (!(base & VLAPIC_BASE_EN))
		return VLAPIC_MODE_DISABLED;
	return (base & VLAPIC_BASE_EXTD) ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
}

enum vlapic_mode vlapic_mode(const struct vlapic *l)
{
	return base_mode(l->apic_base);
}

uint64_t vlapic_mmio_base(const struct vlapic *l)
{
	return l->apic_base & ~0xfffull;
}

uint32_t vlapic_id(const struct vlapic *l)
{
	return l->id;
}

static bool sw_enabled(const struct vlapic *l)
{
	return l->svr & VLAPIC_SVR_ENABLE;
}

/* The logical x2APIC ID (10.12.10.2): cluster ID[31:4] in bits 31:16, bit ID[3:0]. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* ---- Init / reset ---- */

void vlapic_reset(struct vlapic *l)
{
	/* 10.4.7.1 and 10.12.5.1: state after RESET/INIT, ID and IA32_APIC_BASE kept. */
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = 0;
	l->esr_pending = 0;
	l->icr_lo = 0;
	l->icr_hi = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->timer_icr = 0;
	l->timer_dcr = 0;
	l->tsc_deadline = 0;
	l->timer_armed = false;
	l->timer_expiry = 0;
	l->timer_period = 0;
}

void vlapic_init(struct vlapic *l, const struct vlapic_env *env, uint32_t apic_id, bool is_bsp)
{
	memset(l, 0, sizeof(*l));
	l->env = *env;
	l->id = apic_id;
	l->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (is_bsp ? VLAPIC_BASE_BSP : 0);
	vlapic_reset(l);
}

/* ---- Priorities (10.8.3) ---- */

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = bit_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xf0);

	/* 10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
	if ((l->tpr & 0xf0) >= isr_class)
		return l->tpr & 0xff;
	return isr_class;
}

uint32_t vlapic_get_tpr(const struct vlapic *l)
{
	return l->tpr;
}

void vlapic_set_tpr(struct vlapic *l, uint32_t tpr)
{
	l->tpr = tpr & 0xff;
}

int vlapic_highest_deliverable(struct vlapic *l)
{
	int v = bit_highest(l->irr);

	/* 10.8.3.1: delivered only if its priority class is above PPR[7:4]. */
	if (v < 0 || ((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	/* 10.8.4: on dispatch to the core, the IRR bit moves to the ISR. */
	if (!bit_test(l->irr, vector))
		return;
	bit_clear(l->irr, vector);
	bit_set(l->isr, vector);
}

/* ---- Acceptance and errors ---- */

static bool accept(struct vlapic *l, uint8_t vector, bool trigger_level);

/* 10.5.3: log an error and raise the LVT error interrupt if it is unmasked. */
static void set_error(struct vlapic *l, uint32_t bits)
{
	uint32_t lvt = l->lvt[LVT_ERROR];

	l->esr_pending |= bits;
	/* An illegal error vector cannot raise another error: no recursion. */
	if (!(lvt & VLAPIC_LVT_MASKED) && (lvt & VLAPIC_LVT_VECTOR) >= 16)
		accept(l, lvt & VLAPIC_LVT_VECTOR, false);
}

static bool accept(struct vlapic *l, uint8_t vector, bool trigger_level)
{
	/* 10.4.3, 10.4.7.2: no fixed interrupts while globally or software disabled. */
	if (vlapic_mode(l) == VLAPIC_MODE_DISABLED || !sw_enabled(l))
		return false;
	/* 10.5.3: vectors 0..15 are illegal. */
	if (vector < 16) {
		set_error(l, VLAPIC_ESR_RECV_ILLEGAL);
		return false;
	}
	bit_set(l->irr, vector);
	/* 10.8.4: TMR records the trigger mode of the accepted interrupt. */
	if (trigger_level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
	return true;
}

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool trigger_level)
{
	return accept(l, vector, trigger_level);
}

/* 10.8.5: EOI retires the highest-priority in-service interrupt. */
static void do_eoi(struct vlapic *l)
{
	int v = bit_highest(l->isr);

	if (v < 0)
		return;
	bit_clear(l->isr, (uint8_t)v);
	/* Level-triggered: the EOI is broadcast to the IOAPIC(s). */
	if (bit_test(l->tmr, (uint8_t)v) && l->env.eoi_level)
		l->env.eoi_level(l->env.ctx, (uint8_t)v);
}

void vlapic_eoi(struct vlapic *l)
{
	do_eoi(l);
}

/*
 * PV EOI may be offered for the current interrupt only when the guest's EOI
 * would change nothing but ISR: nothing waits in IRR and the in-service
 * vector is edge-triggered (no IOAPIC to tell). Fact sheet 2.6.
 */
bool vlapic_pv_eoi_allowed(const struct vlapic *l)
{
	int v = bit_highest(l->isr);

	return v >= 0 && bit_highest(l->irr) < 0 && !bit_test(l->tmr, (uint8_t)v);
}

/* ---- Timer (10.5.4) ---- */

static uint32_t timer_mode(const struct vlapic *l)
{
	return l->lvt[LVT_TIMER] & VLAPIC_LVT_TIMER_MODE;
}

/* Divide Configuration Register bits 3,1:0 -> divisor (Figure 10-10): 000 = 2 ... 111 = 1. */
static uint64_t timer_divisor(const struct vlapic *l)
{
	uint32_t v = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);

	return 1ull << ((v + 1) & 7);
}

/* Guest TSC ticks for count timer ticks, rounded up. */
static uint64_t count_to_tsc(const struct vlapic *l, uint64_t count)
{
	return mul_div(count * timer_divisor(l), tsc_khz(l), VLAPIC_BUS_KHZ, true);
}

/* Timer ticks left in tsc guest TSC ticks, rounded up (non-zero until the expiry). */
static uint64_t tsc_to_count(const struct vlapic *l, uint64_t tsc)
{
	return mul_div(tsc, VLAPIC_BUS_KHZ, tsc_khz(l) * timer_divisor(l), true);
}

static uint64_t min_period_tsc(const struct vlapic *l)
{
	return mul_div(VLAPIC_MIN_PERIOD_NS, tsc_khz(l), 1000000, true);
}

/* Start counting down from the initial count (one-shot / periodic). */
static void timer_start(struct vlapic *l, uint64_t now)
{
	uint64_t len;

	l->timer_armed = false;
	if (!l->timer_icr ||
	    (timer_mode(l) != VLAPIC_TIMER_ONESHOT && timer_mode(l) != VLAPIC_TIMER_PERIODIC))
		return;
	len = count_to_tsc(l, l->timer_icr);
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC)
		len = MAX(len, min_period_tsc(l));
	l->timer_period = len;
	l->timer_expiry = now + len;
	l->timer_armed = true;
}

static uint32_t timer_current_count(const struct vlapic *l, uint64_t now)
{
	uint64_t left;

	/* 10.5.4.1: the current count reads 0 in TSC-deadline mode. */
	if (!l->timer_armed || timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	if (now < l->timer_expiry)
		left = l->timer_expiry - now;
	else if (timer_mode(l) == VLAPIC_TIMER_PERIODIC)
		left = l->timer_period - (now - l->timer_expiry) % l->timer_period;
	else
		return 0;
	return (uint32_t)MIN(tsc_to_count(l, left), (uint64_t)l->timer_icr);
}

static void timer_fire(struct vlapic *l)
{
	uint32_t lvt = l->lvt[LVT_TIMER];

	/* The count expires even when masked; only the interrupt is suppressed. */
	if (!(lvt & VLAPIC_LVT_MASKED))
		accept(l, lvt & VLAPIC_LVT_VECTOR, false);
}

void vlapic_timer_check(struct vlapic *l)
{
	uint64_t now;

	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE) {
		if (!l->tsc_deadline)
			return;
		now = now_tsc(l);
		/* 10.5.4.1: fires when TSC >= deadline, then disarms and clears the MSR. */
		if (now >= l->tsc_deadline) {
			l->tsc_deadline = 0;
			timer_fire(l);
		}
		return;
	}
	if (!l->timer_armed)
		return;
	now = now_tsc(l);
	if (now < l->timer_expiry)
		return;
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC) {
		/* Reload; periods missed since are coalesced into this one interrupt. */
		l->timer_expiry +=
			((now - l->timer_expiry) / l->timer_period + 1) * l->timer_period;
	} else {
		l->timer_armed = false;
	}
	timer_fire(l);
}

uint64_t vlapic_timer_deadline_tsc(const struct vlapic *l)
{
	uint64_t t;

	if (l->lvt[LVT_TIMER] & VLAPIC_LVT_MASKED)
		return 0;
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		t = l->tsc_deadline;
	else if (l->timer_armed)
		t = l->timer_expiry ? l->timer_expiry : 1;
	else
		t = 0;
	return t;
}

static void timer_write_lvt(struct vlapic *l, uint32_t val)
{
	uint32_t old_mode = timer_mode(l);

	l->lvt[LVT_TIMER] = val;
	/* 10.5.4.1: a write that changes the timer mode disarms the timer. */
	if (timer_mode(l) != old_mode) {
		l->timer_armed = false;
		l->timer_icr = 0;
		l->tsc_deadline = 0;
	}
}

static void timer_write_dcr(struct vlapic *l, uint32_t val)
{
	uint64_t now, count;

	if (!l->timer_armed) {
		l->timer_dcr = val;
		return;
	}
	/* Keep counting from the current count at the new rate. */
	now = now_tsc(l);
	count = timer_current_count(l, now);
	l->timer_dcr = val;
	if (!count)
		count = l->timer_icr;
	l->timer_expiry = now + count_to_tsc(l, count);
	l->timer_period = count_to_tsc(l, l->timer_icr);
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC)
		l->timer_period = MAX(l->timer_period, min_period_tsc(l));
}

/* ---- IPIs (10.6) ---- */

static void send_ipi(struct vlapic *l, uint32_t lo, uint32_t dest, bool x2apic)
{
	struct vlapic_ipi ipi = {
		.dest = dest,
		.vector = lo & VLAPIC_ICR_VECTOR,
		.delivery_mode = (lo >> VLAPIC_ICR_DM_SHIFT) & 7,
		.shorthand = (lo >> VLAPIC_ICR_SH_SHIFT) & 3,
		.logical = lo & VLAPIC_ICR_LOGICAL,
		.level_assert = lo & VLAPIC_ICR_ASSERT,
		.trigger_level = lo & VLAPIC_ICR_LEVEL,
		.x2apic = x2apic,
	};

	/* Reserved delivery modes (011) and ExtINT, which an ICR cannot send. */
	if (ipi.delivery_mode == 3 || ipi.delivery_mode == VLAPIC_DM_EXTINT)
		return;
	/* INIT level de-assert (10.6.1): a no-op since the Pentium 4. */
	if (ipi.delivery_mode == VLAPIC_DM_INIT && !ipi.level_assert && ipi.trigger_level)
		return;
	/* 10.5.3: fixed / lowest-priority IPIs with vectors 0..15 are not sent. */
	if ((ipi.delivery_mode == VLAPIC_DM_FIXED || ipi.delivery_mode == VLAPIC_DM_LOWEST) &&
	    ipi.vector < 16) {
		set_error(l, VLAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (l->env.send_ipi)
		l->env.send_ipi(l->env.ctx, &ipi);
}

bool vlapic_matches(const struct vlapic *l, uint32_t dest, bool logical, bool x2apic_dest)
{
	enum vlapic_mode mode = vlapic_mode(l);
	uint32_t bcast = x2apic_dest ? VLAPIC_BCAST_X2APIC : VLAPIC_BCAST_XAPIC;
	uint32_t id, ldr, model;

	if (mode == VLAPIC_MODE_DISABLED)
		return false;
	if (dest == bcast)
		return true;
	if (!logical) {
		/* 10.6.2.1: physical destination = APIC ID. */
		id = mode == VLAPIC_MODE_X2APIC ? l->id : (l->id & 0xff);
		return dest == id;
	}
	if (mode == VLAPIC_MODE_X2APIC) {
		/* 10.12.10.2: cluster must match, then any common bit in the 16-bit mask. */
		ldr = x2apic_ldr(l->id);
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	/* 10.6.2.2: xAPIC logical destination, 8-bit logical ID in LDR[31:24]. */
	dest &= 0xff;
	ldr = l->ldr >> 24;
	model = l->dfr >> 28;
	if (model == DFR_MODEL_FLAT)
		return dest & ldr;
	if (model == DFR_MODEL_CLUSTER)
		return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
	return false;
}

bool vlapic_ipi_match(const struct vlapic *target, const struct vlapic *sender,
		      const struct vlapic_ipi *ipi)
{
	if (vlapic_mode(target) == VLAPIC_MODE_DISABLED)
		return false;
	switch (ipi->shorthand) {
	case VLAPIC_SH_SELF:
		return target == sender;
	case VLAPIC_SH_ALL_INCL:
		return true;
	case VLAPIC_SH_ALL_EXCL:
		return target != sender;
	default:
		return vlapic_matches(target, ipi->dest, ipi->logical, ipi->x2apic);
	}
}

/* ---- Registers ---- */

static int lvt_index(uint32_t reg)
{
	if (reg >= VLAPIC_REG_LVT_TIMER && reg <= VLAPIC_REG_LVT_ERROR)
		return (int)((reg - VLAPIC_REG_LVT_TIMER) >> 4);
	return -1;
}

/* Read the 32-bit register at reg (a 16-byte aligned offset). */
static int reg_read(struct vlapic *l, uint32_t reg, bool x2, uint32_t *out)
{
	int lvt = lvt_index(reg);

	*out = 0;
	if (lvt >= 0) {
		*out = l->lvt[lvt];
		return 0;
	}
	if (reg >= VLAPIC_REG_ISR && reg < VLAPIC_REG_ESR) {
		uint32_t i = (reg - VLAPIC_REG_ISR) >> 4;

		if (i < 8)
			*out = l->isr[i];
		else if (i < 16)
			*out = l->tmr[i - 8];
		else
			*out = l->irr[i - 16];
		return 0;
	}
	switch (reg) {
	case VLAPIC_REG_ID:
		/* 10.4.6, 10.12.5.1: 8-bit xAPIC ID in bits 31:24; the 32-bit x2APIC ID. */
		*out = x2 ? l->id : (l->id & 0xff) << 24;
		return 0;
	case VLAPIC_REG_VERSION:
		*out = VLAPIC_VERSION;
		return 0;
	case VLAPIC_REG_TPR:
		*out = l->tpr;
		return 0;
	case VLAPIC_REG_PPR:
		*out = vlapic_ppr(l);
		return 0;
	case VLAPIC_REG_APR:
	case VLAPIC_REG_RRD:
		/* Not supported since the Pentium 4: read 0 in xAPIC mode, reserved in x2APIC. */
		return x2 ? R_RESERVED : 0;
	case VLAPIC_REG_EOI:
		return x2 ? R_READONLY : 0; /* write-only */
	case VLAPIC_REG_LDR:
		*out = x2 ? x2apic_ldr(l->id) : l->ldr;
		return 0;
	case VLAPIC_REG_DFR:
		if (x2)
			return R_RESERVED; /* 10.12.1.2: no DFR in x2APIC mode */
		*out = l->dfr;
		return 0;
	case VLAPIC_REG_SVR:
		*out = l->svr;
		return 0;
	case VLAPIC_REG_ESR:
		*out = l->esr;
		return 0;
	case VLAPIC_REG_ICR_LO:
		*out = l->icr_lo; /* delivery status always 0: sent at once */
		return 0;
	case VLAPIC_REG_ICR_HI:
		if (x2)
			return R_RESERVED; /* MSR 0x831 */
		*out = l->icr_hi;
		return 0;
	case VLAPIC_REG_TIMER_ICR:
		*out = l->timer_icr;
		return 0;
	case VLAPIC_REG_TIMER_CCR:
		*out = timer_current_count(l, now_tsc(l));
		return 0;
	case VLAPIC_REG_TIMER_DCR:
		*out = l->timer_dcr;
		return 0;
	case VLAPIC_REG_SELF_IPI:
		return x2 ? R_READONLY : R_RESERVED; /* write-only, x2APIC only */
	default:
		return R_RESERVED;
	}
}

/* x2APIC: #GP if val has bits outside mask (RsvdZ, 10.12.1.3); xAPIC: drop them. */
static int check_bits(bool x2, uint32_t *val, uint32_t mask)
{
	if (x2 && (*val & ~mask))
		return R_BADBITS;
	*val &= mask;
	return 0;
}

/* Write the 32-bit register at reg; an ICR low write sends the IPI. */
static int reg_write(struct vlapic *l, uint32_t reg, uint32_t val, bool x2)
{
	int lvt = lvt_index(reg), r;

	if (lvt >= 0) {
		r = check_bits(x2, &val, lvt_mask[lvt] | LVT_RO_BITS);
		if (r)
			return r;
		val &= lvt_mask[lvt];
		/* 10.4.7.2: while software-disabled, the LVT mask bits cannot be cleared. */
		if (!sw_enabled(l))
			val |= VLAPIC_LVT_MASKED;
		if (lvt == LVT_TIMER) {
			if (x2 && (val & VLAPIC_LVT_TIMER_MODE) == VLAPIC_LVT_TIMER_MODE)
				return R_BADBITS; /* timer mode 11b is reserved */
			vlapic_timer_check(l);
			timer_write_lvt(l, val);
		} else {
			l->lvt[lvt] = val;
		}
		return 0;
	}
	switch (reg) {
	case VLAPIC_REG_TPR:
		r = check_bits(x2, &val, 0xff);
		if (!r)
			l->tpr = val;
		return r;
	case VLAPIC_REG_EOI:
		/* 10.12.1.2: a non-zero x2APIC EOI write is #GP; xAPIC takes any value. */
		if (x2 && val)
			return R_BADBITS;
		do_eoi(l);
		return 0;
	case VLAPIC_REG_LDR:
		if (x2)
			return R_READONLY; /* 10.12.10.2: derived from the x2APIC ID */
		l->ldr = val & 0xff000000u;
		return 0;
	case VLAPIC_REG_DFR:
		if (x2)
			return R_RESERVED;
		l->dfr = val | 0x0fffffffu;
		return 0;
	case VLAPIC_REG_SVR:
		r = check_bits(x2, &val, SVR_MASK);
		if (r)
			return r;
		vlapic_timer_check(l);
		l->svr = val;
		/* 10.4.7.2: software disable sets every LVT mask bit. */
		if (!sw_enabled(l))
			for (int i = 0; i < LVT_COUNT; i++)
				l->lvt[i] |= VLAPIC_LVT_MASKED;
		return 0;
	case VLAPIC_REG_ESR:
		/* 10.5.3: a write latches the errors logged since the last write. */
		if (x2 && val)
			return R_BADBITS;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return 0;
	case VLAPIC_REG_ICR_LO:
		if (x2)
			return R_RESERVED; /* the 64-bit MSR is handled by the caller */
		l->icr_lo = val & ICR_LO_MASK;
		send_ipi(l, l->icr_lo, l->icr_hi >> 24, false);
		return 0;
	case VLAPIC_REG_ICR_HI:
		if (x2)
			return R_RESERVED;
		l->icr_hi = val & 0xff000000u;
		return 0;
	case VLAPIC_REG_TIMER_ICR:
		vlapic_timer_check(l);
		/* 10.5.4.1: ignored in TSC-deadline mode. */
		if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
			return 0;
		/* 10.5.4: a write (re)starts the count; 0 stops the timer. */
		l->timer_icr = val;
		timer_start(l, now_tsc(l));
		return 0;
	case VLAPIC_REG_TIMER_DCR:
		r = check_bits(x2, &val, DCR_MASK);
		if (r)
			return r;
		vlapic_timer_check(l);
		timer_write_dcr(l, val);
		return 0;
	case VLAPIC_REG_SELF_IPI:
		if (!x2)
			return R_RESERVED;
		r = check_bits(x2, &val, 0xff);
		if (r)
			return r;
		/* 10.12.11: a fixed, edge-triggered IPI to self. */
		send_ipi(l, val | (VLAPIC_SH_SELF << VLAPIC_ICR_SH_SHIFT), l->id, true);
		return 0;
	case VLAPIC_REG_ID:
		/* Read-only here (writable on some processors, 10.4.6); ignored in xAPIC mode. */
	case VLAPIC_REG_VERSION:
	case VLAPIC_REG_PPR:
	case VLAPIC_REG_TIMER_CCR:
		return R_READONLY;
	case VLAPIC_REG_APR:
	case VLAPIC_REG_RRD:
		return x2 ? R_RESERVED : 0; /* xAPIC: ignored without an error */
	default:
		if (reg >= VLAPIC_REG_ISR && reg < VLAPIC_REG_ESR)
			return R_READONLY;
		return R_RESERVED;
	}
}

int vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned int size, uint32_t *val)
{
	uint32_t v, byte = offset & 0xf;

	*val = 0;
	if (vlapic_mode(l) != VLAPIC_MODE_XAPIC)
		return -ENODEV;
	if ((size != 1 && size != 2 && size != 4) || offset > 0xfff || byte + size > 4)
		return -EINVAL;
	if (reg_read(l, offset & 0xff0, false, &v) == R_RESERVED) {
		set_error(l, VLAPIC_ESR_ILLEGAL_REG);
		return 0;
	}
	v >>= byte * 8;
	*val = size == 4 ? v : v & ((1u << (size * 8)) - 1);
	return 0;
}

int vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned int size, uint32_t val)
{
	if (vlapic_mode(l) != VLAPIC_MODE_XAPIC)
		return -ENODEV;
	if (size != 4 || offset > 0xfff || (offset & 0xf))
		return -EINVAL;
	if (reg_write(l, offset, val, false) == R_RESERVED)
		set_error(l, VLAPIC_ESR_ILLEGAL_REG);
	return 0;
}

/* ---- MSRs ---- */

/* IA32_APIC_BASE writes (10.4.4, 10.12.5.1, Figure 10-27): legal transitions only. */
static int apic_base_write(struct vlapic *l, uint64_t val)
{
	unsigned int bits = l->env.phys_bits ? l->env.phys_bits : 52;
	uint64_t reserved = 0x2ffull | (bits < 64 ? ~0ull << bits : 0);
	enum vlapic_mode old = vlapic_mode(l), new;

	if (l->env.no_x2apic)
		reserved |= VLAPIC_BASE_EXTD;
	if (val & reserved)
		return -EINVAL;
	/* EXTD without EN is the invalid state. */
	if ((val & VLAPIC_BASE_EXTD) && !(val & VLAPIC_BASE_EN))
		return -EINVAL;
	new = base_mode(val);
	/* x2APIC -> xAPIC and disabled -> x2APIC are illegal transitions. */
	if ((old == VLAPIC_MODE_X2APIC && new == VLAPIC_MODE_XAPIC) ||
	    (old == VLAPIC_MODE_DISABLED && new == VLAPIC_MODE_X2APIC))
		return -EINVAL;
	l->apic_base = val;
	/*
	 * 10.4.3: a global disable may lose the APIC's state; here it always
	 * does, so the APIC is re-enabled in its reset state (ID kept).
	 * xAPIC -> x2APIC keeps the registers; the LDR becomes the derived
	 * logical x2APIC ID (computed on reads).
	 */
	if (new == VLAPIC_MODE_DISABLED && old != VLAPIC_MODE_DISABLED)
		vlapic_reset(l);
	return 0;
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	uint32_t v;
	int r;

	*val = 0;
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = l->apic_base;
		return 0;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		/* 10.5.4.1: reads 0 in the other timer modes. */
		if (timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
			return 0;
		vlapic_timer_check(l);
		*val = l->tsc_deadline;
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return -ENOENT;
	if (vlapic_mode(l) != VLAPIC_MODE_X2APIC)
		return -EINVAL;
	if (msr == VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_REG_ICR_LO >> 4)) {
		/* 10.12.9: the ICR is one 64-bit MSR, destination in bits 63:32. */
		*val = ((uint64_t)l->icr_hi << 32) | l->icr_lo;
		return 0;
	}
	r = reg_read(l, (msr - VLAPIC_MSR_X2APIC_FIRST) << 4, true, &v);
	if (r)
		return -EINVAL;
	*val = v;
	return 0;
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val)
{
	if (msr == VLAPIC_MSR_APIC_BASE)
		return apic_base_write(l, val);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		/* 10.5.4.1: ignored in the other timer modes; 0 disarms; a past value fires now. */
		if (timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
			return 0;
		vlapic_timer_check(l);
		l->tsc_deadline = val;
		vlapic_timer_check(l);
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return -ENOENT;
	if (vlapic_mode(l) != VLAPIC_MODE_X2APIC)
		return -EINVAL;
	if (msr == VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_REG_ICR_LO >> 4)) {
		/* 10.12.9: one write sends; no delivery status bit in x2APIC mode. */
		l->icr_lo = (uint32_t)val & ICR_LO_MASK;
		l->icr_hi = (uint32_t)(val >> 32);
		send_ipi(l, l->icr_lo, l->icr_hi, true);
		return 0;
	}
	/* 10.12.1.2: the upper 32 bits of every other x2APIC MSR are reserved. */
	if (val >> 32)
		return -EINVAL;
	return reg_write(l, (msr - VLAPIC_MSR_X2APIC_FIRST) << 4, (uint32_t)val, true) ? -EINVAL
										       : 0;
}
