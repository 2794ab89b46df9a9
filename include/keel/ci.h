/* SPDX-License-Identifier: MIT */
/*
 * CI mode (docs/ci-test-kernels.md): with [keel] ci = yes, Keel waits for
 * every guest partition to end, then powers the machine off, first handing
 * one combined result to the machine's isa-debug-exit port (under QEMU, the
 * exit code a CI job sees).
 */
#ifndef KEEL_CI_H
#define KEEL_CI_H

#include <keel/acpi.h>
#include <keel/config.h>
#include <keel/partition.h>

/* How one guest partition ended: enum partition_end, and its status when it exited. */
struct ci_outcome {
	uint32_t end;
	uint64_t status;
};

/*
 * Did the partition succeed? It exited through its debug-exit port with
 * the value success (status (success << 1) | 1), or powered itself off.
 */
bool ci_passed(const struct ci_outcome *o, uint32_t success);

/*
 * The value Keel writes to the machine's debug-exit port for n outcomes
 * and `skipped` partitions that never started: success when all passed;
 * else the value the first failed partition wrote to its debug-exit port,
 * so QEMU exits with the code that partition would have given alone; else
 * (no such value, or one whose exit code QEMU would truncate to the
 * success code) success ^ 1. *failed: how many did not pass.
 */
uint32_t ci_result_value(const struct ci_outcome *o, uint32_t n, uint32_t skipped, uint32_t success,
			 uint32_t *failed);

/* The exit code QEMU gives for a debug-exit write of value (its low 8 bits, as a process's). */
static inline uint32_t ci_qemu_exit_code(uint32_t value)
{
	return ((value << 1) | 1) & 0xff;
}

/*
 * Core glue (hv/ci.c). After the guest partitions are set up: remember the
 * config and count those that run; nr_configured is the number in keel.cfg,
 * so the skipped ones count as failed. s5 says how to power off (NULL: no
 * way known, then no_s5 says why). Ends at once when none runs.
 */
void ci_start(const struct config_ci *cfg, uint32_t nr_configured, const struct acpi_s5 *s5,
	      const char *no_s5);
/* A guest partition ended (exited, powered off, stopped): the last one ends the run. */
void ci_partition_ended(struct partition *p);

#endif
