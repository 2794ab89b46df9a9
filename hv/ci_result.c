// SPDX-License-Identifier: MIT
/*
 * CI mode's verdict: which partitions passed and the one value handed on to
 * the machine's debug-exit port (include/keel/ci.h). Pure, unit-tested.
 */
#include <keel/ci.h>

bool ci_passed(const struct ci_outcome *o, uint32_t success)
{
	if (o->end == PARTITION_POWERED_OFF)
		return true;
	return o->end == PARTITION_EXITED && o->status == (((uint64_t)success << 1) | 1);
}

uint32_t ci_result_value(const struct ci_outcome *o, uint32_t n, uint32_t skipped, uint32_t success,
			 uint32_t *failed)
{
	const struct ci_outcome *first = NULL;
	uint32_t nr_failed = skipped;

	for (uint32_t i = 0; i < n; i++) {
		if (ci_passed(&o[i], success))
			continue;
		nr_failed++;
		if (!first && o[i].end == PARTITION_EXITED)
			first = &o[i];
	}
	*failed = nr_failed;
	if (!nr_failed)
		return success;
	if (first) {
		uint32_t value = (uint32_t)(first->status >> 1);

		if (ci_qemu_exit_code(value) != ci_qemu_exit_code(success))
			return value;
	}
	return success ^ 1;
}
