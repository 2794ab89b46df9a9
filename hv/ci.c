// SPDX-License-Identifier: MIT
/*
 * CI mode (docs/ci-test-kernels.md): once every guest partition has ended,
 * print each one's result and power the machine off, handing the combined
 * result (hv/ci_result.c) to the machine's isa-debug-exit port first. The
 * last partition to end does this, on its own CPU, from its exit handler.
 */
#include <keel/arch.h>
#include <keel/ci.h>
#include <keel/console.h>
#include <keel/string.h>

static struct {
	bool enabled;
	uint16_t exit_port;
	uint32_t success;
	uint32_t skipped;  /* in keel.cfg but never started */
	uint32_t expected; /* started: the run ends when all of them have ended */
	volatile uint32_t ended;
	bool have_s5;
	struct acpi_s5 s5;
	char no_s5[96];
} ci;

#define CI_POWER_OFF_WAIT_US 3000000

/* ACPI S5: SLP_TYP << 10 | SLP_EN to PM1a (and PM1b) control (ACPI 6.5, 4.8.3.2.1). */
static void power_off(void)
{
	if (!ci.have_s5) {
		printk("keel: ci: cannot power off (%s); halting\n", ci.no_s5);
		return;
	}
	arch_port_write(ci.s5.pm1a_cnt, (uint32_t)ci.s5.slp_typa << 10 | 1u << 13, 2);
	if (ci.s5.pm1b_cnt)
		arch_port_write(ci.s5.pm1b_cnt, (uint32_t)ci.s5.slp_typb << 10 | 1u << 13, 2);
	/*
	 * The machine may take a moment to act (QEMU turns the write into a
	 * shutdown request its main loop handles later): wait before saying so.
	 */
	for (uint64_t start = arch_time_us(); arch_time_us() - start < CI_POWER_OFF_WAIT_US;)
		arch_cpu_relax();
	printk("keel: ci: still running after the ACPI S5 write to port 0x%x; halting\n",
	       ci.s5.pm1a_cnt);
}

static const char *end_name(uint32_t end)
{
	switch (end) {
	case PARTITION_EXITED:
		return "exited";
	case PARTITION_POWERED_OFF:
		return "powered off";
	case PARTITION_FAILED:
		return "stopped by Keel";
	default:
		return "still running";
	}
}

static void ci_finish(void)
{
	struct ci_outcome o[MAX_PARTITIONS];
	uint32_t n = 0, failed, value;

	for (uint32_t i = 1; i < nr_partitions; i++) {
		struct partition *p = partitions[i];

		o[n] = (struct ci_outcome){ p->end, p->exit_status };
		if (p->end == PARTITION_EXITED)
			printk("keel: ci: partition %s: %s (exited with status %llu)\n", p->name,
			       ci_passed(&o[n], ci.success) ? "passed" : "FAILED",
			       (unsigned long long)p->exit_status);
		else
			printk("keel: ci: partition %s: %s (%s)\n", p->name,
			       ci_passed(&o[n], ci.success) ? "passed" : "FAILED",
			       end_name(p->end));
		n++;
	}
	value = ci_result_value(o, n, ci.skipped, ci.success, &failed);
	if (ci.skipped)
		printk("keel: ci: %u partitions in keel.cfg did not start: FAILED\n", ci.skipped);
	printk("keel: ci: %u partitions: %u passed, %u failed: %s\n", n + ci.skipped,
	       n + ci.skipped - failed, failed, failed ? "FAILURE" : "SUCCESS");
	if (ci.exit_port) {
		unsigned int size = value <= 0xff ? 1 : value <= 0xffff ? 2 : 4;

		printk("keel: ci: writing 0x%x to the debug-exit port 0x%x (QEMU exits with %u), "
		       "then powering off\n",
		       value, ci.exit_port, ci_qemu_exit_code(value));
		arch_port_write(ci.exit_port, value, size);
	} else {
		printk("keel: ci: powering off\n");
	}
	power_off();
}

void ci_start(const struct config_ci *cfg, uint32_t nr_configured, const struct acpi_s5 *s5,
	      const char *no_s5)
{
	uint32_t started = 0;

	if (!cfg->enabled)
		return;
	if (s5) {
		ci.s5 = *s5;
		ci.have_s5 = true;
	} else {
		keel_strlcpy(ci.no_s5, no_s5, sizeof(ci.no_s5));
	}
	ci.exit_port = cfg->exit_port;
	ci.success = cfg->success;
	for (uint32_t i = 1; i < nr_partitions; i++) {
		struct partition *p = partitions[i];

		if (p->stopped)
			p->end = PARTITION_FAILED; /* created, but its image did not load */
		else
			started++;
	}
	ci.skipped = nr_configured - (nr_partitions - 1);
	ci.expected = started;
	printk("keel: ci: waiting for %u partitions to end (success: debug-exit value 0x%x)\n",
	       started, ci.success);
	__atomic_store_n(&ci.enabled, true, __ATOMIC_RELEASE);
	if (!started)
		ci_finish();
}

void ci_partition_ended(struct partition *p)
{
	if (p->id == 0 || !__atomic_load_n(&ci.enabled, __ATOMIC_ACQUIRE))
		return;
	if (__atomic_add_fetch(&ci.ended, 1, __ATOMIC_ACQ_REL) == ci.expected)
		ci_finish();
}
