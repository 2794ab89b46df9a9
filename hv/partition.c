// SPDX-License-Identifier: MIT
/*
 * Stopping a partition. Whatever the cause (triple fault, an exit Keel
 * cannot handle, a forbidden access), the partition's vCPUs stop, the
 * console says which partition, why and with what registers, and every
 * other partition and Keel itself keep running.
 */
#include <keel/arch.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/partition.h>
#include <keel/string.h>

struct partition host_partition = { .name = "host", .id = 0, .kind = PARTITION_HOST };
struct partition *partitions[MAX_PARTITIONS] = { &host_partition };
uint32_t nr_partitions = 1;

void *partition_gpa_to_hva(struct partition *p, uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < p->nr_ram; i++) {
		const struct partition_ram *r = &p->ram[i];

		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return phys_to_virt(r->hpa + (gpa - r->gpa));
	}
	return NULL;
}

void partition_stop(struct partition *p, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (__atomic_exchange_n(&p->stopped, true, __ATOMIC_ACQ_REL)) {
		printk("keel: partition %s: also: %s\n", p->name, why);
		return;
	}
	printk("keel: partition %s stopped: %s\n", p->name, why);
	arch_dump_current_vcpu();
	arch_partition_kick(p);
	printk("keel: partition %s stopped; Keel and the other partitions keep running\n", p->name);
}
