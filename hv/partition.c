// SPDX-License-Identifier: MIT
/*
 * Stopping a partition. Whatever the cause (triple fault, an exit Keel
 * cannot handle, a forbidden access), the partition's vCPUs stop, the
 * console says which partition, why and with what registers, and every
 * other partition and Keel itself keep running.
 */
#include <keel/arch.h>
#include <keel/ci.h>
#include <keel/console.h>
#include <keel/guests.h>
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
	console_partition_flush(p);
	printk("keel: partition %s stopped: %s\n", p->name, why);
	arch_dump_current_vcpu();
	arch_partition_kick(p);
	printk("keel: partition %s stopped; Keel and the other partitions keep running\n", p->name);
	p->end = PARTITION_FAILED;
	ci_partition_ended(p);
}

void partition_power_off(struct partition *p)
{
	if (__atomic_exchange_n(&p->stopped, true, __ATOMIC_ACQ_REL))
		return;
	console_partition_flush(p);
	printk("keel: partition %s powered off\n", p->name);
	arch_partition_kick(p);
	p->end = PARTITION_POWERED_OFF;
	ci_partition_ended(p);
}

void partition_exit(struct partition *p, uint32_t value)
{
	uint64_t status = ((uint64_t)value << 1) | 1;

	if (__atomic_exchange_n(&p->stopped, true, __ATOMIC_ACQ_REL))
		return;
	console_partition_flush(p);
	p->exit_status = status;
	printk("keel: partition %s exited with status %llu\n", p->name, (unsigned long long)status);
	arch_partition_kick(p);
	p->end = PARTITION_EXITED;
	ci_partition_ended(p);
}

void partition_request_reset(struct partition *p, const char *why)
{
	if (__atomic_exchange_n(&p->reset_pending, true, __ATOMIC_ACQ_REL))
		return;
	printk("keel: partition %s: reset through %s; restarting it\n", p->name, why);
	arch_partition_kick(p);
}

void partition_reset_rendezvous(struct partition *p, uint32_t vcpu_id)
{
	uint32_t gen = p->reset_gen;
	char err[192];

	__atomic_fetch_add(&p->reset_arrived, 1, __ATOMIC_ACQ_REL);
	if (vcpu_id != 0) {
		while (p->reset_gen == gen && !p->stopped)
			arch_cpu_relax();
		return;
	}
	while (p->reset_arrived < p->nr_vcpus && !p->stopped)
		arch_cpu_relax();
	if (guest_reload(p, err, sizeof(err))) {
		p->reset_arrived = 0;
		p->reset_pending = false;
		__atomic_fetch_add(&p->reset_gen, 1, __ATOMIC_RELEASE);
		partition_stop(p, "cannot restart: %s", err);
		return;
	}
	arch_partition_reset(p);
	p->resets++;
	p->reset_arrived = 0;
	p->reset_pending = false;
	__atomic_fetch_add(&p->reset_gen, 1, __ATOMIC_RELEASE);
	printk("keel: partition %s restarted (%u)\n", p->name, p->resets);
}
