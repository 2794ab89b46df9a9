# SPDX-License-Identifier: MIT
"""The exit-cost benchmark (bench/, docs/performance.md) is deterministic.

Two boots of Keel with tests/guest/bench_exits.c as its only partition under
QEMU -icount must report identical figures for every operation. No speed is
asserted: only that each operation was measured and that a TSC tick is one
emulated instruction, as the figures assume.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench"))

import benchlib  # noqa: E402

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def bench_exit_costs_repeat_exactly(work):
    first, log = benchlib.exit_costs(os.path.join(work, "run1"))
    assert "keel: no [host] in keel.cfg" in log, "Keel did not run without a host"
    second, _ = benchlib.exit_costs(os.path.join(work, "run2"))
    wanted = ["baseline", "calibration"] + [op for op, _ in benchlib.EXIT_OPS]
    missing = [op for op in wanted if op not in first]
    assert not missing, "not measured: %s" % ", ".join(missing)
    for op in wanted:
        assert first[op]["n"] == 1000, "%s: %d timed runs, expected 1000" % (op, first[op]["n"])
        assert first[op]["min"] > 0, "%s: no time measured" % op
    base = first["baseline"]["min"]
    assert first["calibration"]["min"] - base == 2001, \
        "a loop of 2001 instructions took %d TSC ticks: ticks are not instructions" % (
            first["calibration"]["min"] - base)
    for op in wanted[2:]:
        assert first[op]["min"] > base, "%s did not exit (%d ticks)" % (op, first[op]["min"])
    diff = ["%s: %s vs %s" % (op, first[op], second[op]) for op in wanted
            if first[op] != second[op]]
    assert not diff, "two runs differ:\n  " + "\n  ".join(diff)
