// SPDX-License-Identifier: MIT
/*
 * The small legacy ports of an emulated PC (include/keel/vdev_legacy.h,
 * docs/guest-devices.md) and the empty-bus log (include/keel/vdev.h).
 */
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/vdev_legacy.h>

#define SLOT_USED (1ull << 63)

bool vdev_unassigned_first_time(struct vdev_unassigned_log *log, uint64_t key)
{
	uint64_t want = key | SLOT_USED;

	/* Slots fill in order and never change once used, so a key sits in one slot. */
	for (uint32_t i = 0; i < VDEV_UNASSIGNED_SLOTS; i++) {
		uint64_t cur = __atomic_load_n(&log->slot[i], __ATOMIC_ACQUIRE);

		if (!cur) {
			uint64_t expected = 0;

			if (__atomic_compare_exchange_n(&log->slot[i], &expected, want, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return true;
			cur = expected; /* another vCPU took the slot */
		}
		if (cur == want)
			return false;
	}
	__atomic_fetch_add(&log->dropped, 1, __ATOMIC_RELAXED);
	return false;
}

/* i8042 "pulse output lines" commands 0xf0-0xff: a clear bit pulses that line; bit 0 is reset. */
static bool kbc_pulses_reset(uint8_t cmd)
{
	return (cmd & 0xf0) == 0xf0 && !(cmd & 1);
}

static void reset(struct vlegacy *l, enum vlegacy_reset_source source, uint8_t value)
{
	if (l->env.reset)
		l->env.reset(l->env.ctx, source, value);
}

void vlegacy_init(struct vlegacy *l, const struct vlegacy_env *env)
{
	memset(l, 0, sizeof(*l));
	l->env = *env;
}

bool vlegacy_claims(uint16_t port)
{
	switch (port) {
	case VLEGACY_PORT_KBC_DATA:
	case VLEGACY_PORT_SYSCTL_B:
	case VLEGACY_PORT_KBC_CMD:
	case VLEGACY_PORT_POST:
	case VLEGACY_PORT_DEBUGCON:
	case VLEGACY_PORT_RESET:
		return true;
	default:
		return false;
	}
}

int vlegacy_io_read(struct vlegacy *l, uint16_t port, uint8_t *val)
{
	switch (port) {
	case VLEGACY_PORT_KBC_DATA:
	case VLEGACY_PORT_KBC_CMD:
	case VLEGACY_PORT_POST:
		*val = VDEV_EMPTY_BUS_BYTE;
		return 0;
	case VLEGACY_PORT_SYSCTL_B: {
		bool out2 = l->env.pit_out2 ? l->env.pit_out2(l->env.ctx) : true;

		l->refresh = !l->refresh;
		*val = (uint8_t)(l->sysctl_b | (l->refresh ? 0x10 : 0) | (out2 ? 0x20 : 0));
		return 0;
	}
	case VLEGACY_PORT_DEBUGCON:
		*val = VLEGACY_PORT_DEBUGCON; /* the readback that says the port is there */
		return 0;
	case VLEGACY_PORT_RESET:
		*val = l->cf9;
		return 0;
	default:
		return -ENODEV;
	}
}

int vlegacy_io_write(struct vlegacy *l, uint16_t port, uint8_t val)
{
	switch (port) {
	case VLEGACY_PORT_KBC_DATA:
		return 0;
	case VLEGACY_PORT_KBC_CMD:
		if (kbc_pulses_reset(val))
			reset(l, VLEGACY_RESET_KBC, val);
		return 0;
	case VLEGACY_PORT_SYSCTL_B:
		l->sysctl_b = val & 0x0f;
		return 0;
	case VLEGACY_PORT_POST:
		l->post = val;
		return 0;
	case VLEGACY_PORT_DEBUGCON:
		if (l->env.debug_putc)
			l->env.debug_putc(l->env.ctx, val);
		return 0;
	case VLEGACY_PORT_RESET:
		l->cf9 = val & (VLEGACY_CF9_SYS_RST | VLEGACY_CF9_RST_CPU | VLEGACY_CF9_FULL_RST);
		if (val & VLEGACY_CF9_RST_CPU)
			reset(l, VLEGACY_RESET_CF9, val);
		return 0;
	default:
		return -ENODEV;
	}
}
