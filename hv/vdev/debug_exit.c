// SPDX-License-Identifier: MIT
/*
 * The debug-exit device: a test kernel's way to end its partition with a
 * status, as QEMU's isa-debug-exit ends QEMU (include/keel/vdev_debug_exit.h).
 */
#include <keel/errno.h>
#include <keel/vdev_debug_exit.h>

void vdebug_exit_init(struct vdebug_exit *d, const struct vdebug_exit_env *env, uint16_t base)
{
	d->env = *env;
	d->base = base;
	d->writes = 0;
}

bool vdebug_exit_claims(const struct vdebug_exit *d, uint16_t port)
{
	return d->base && port >= d->base && port - d->base < VDEBUG_EXIT_PORTS;
}

int vdebug_exit_io(struct vdebug_exit *d, uint16_t port, unsigned int size, bool in, uint32_t *val)
{
	uint32_t mask;

	if (!vdebug_exit_claims(d, port) || (size != 1 && size != 2 && size != 4))
		return -EINVAL;
	if (in) {
		*val = 0;
		return 0;
	}
	mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	d->writes++;
	if (d->env.exit)
		d->env.exit(d->env.ctx, *val & mask);
	return 0;
}
