#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keel's test runner: hosted unit tests, then integration boots.

Unit test binaries (build/unit/test_*) run first. Integration cases (the
CASES lists of tests/integration/test_*.py) run in parallel, one QEMU per
host core. Each result is printed as it comes; the last line is
'N passed, N failed'. Exit status 0 only if nothing failed.

  tests/run.py                 everything
  tests/run.py -k grub         only cases whose name contains 'grub'
  tests/run.py --unit-only / --integration-only
"""
import argparse
import concurrent.futures
import glob
import importlib
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def run_unit():
    """One result per unit test case (the PASS/FAIL lines of tests/unit/test.h)."""
    results = []
    for binary in sorted(glob.glob(os.path.join(ROOT, "build", "unit", "test_*"))):
        if binary.endswith(".log") or not os.access(binary, os.X_OK):
            continue
        name = "unit/" + os.path.basename(binary)
        p = subprocess.run([binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        mine = []
        for line in p.stdout.splitlines():
            if line.startswith(("PASS ", "FAIL ")):
                mine.append((line.startswith("PASS"), "%s: %s" % (name, line.split(": ", 1)[-1]),
                             ""))
        if p.returncode != 0:
            # Show the checks that failed (or the sanitizer's report if it crashed).
            detail = p.stdout[-4000:]
            if all(ok for ok, _, _ in mine):
                mine.append((False, name + " (exit status %d)" % p.returncode, detail))
            else:
                mine = [(ok, n, "" if ok else detail) for ok, n, _ in mine]
        results += mine
    return results


def load_cases():
    """Every case; those of modules with LONG = True (the Bochs boots) first, so they
    overlap the short ones instead of running alone at the end."""
    cases = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        for fn in getattr(mod, "CASES", []):
            cases.append((not getattr(mod, "LONG", False),
                          "%s/%s" % (mod.__name__, fn.__name__), fn))
    return [(n, f) for _, n, f in sorted(cases, key=lambda c: c[0])]


def run_case(name, fn):
    work = os.path.join(ROOT, "build", "test", name.replace("/", "-"))
    os.makedirs(work, exist_ok=True)
    start = time.time()
    try:
        fn(work)
        return True, name, "", time.time() - start
    except Exception as e:  # an assertion or a harness failure: both fail the case
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        log = ""
        try:
            with open(os.path.join(work, "serial.log"), "rb") as f:
                log = f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            pass
        tail = "\n".join(log.splitlines()[-40:])
        return False, name, "%s\n  serial log (%s/serial.log), last lines:\n%s" % (
            detail, work, tail), time.time() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="", help="run only integration cases whose name has this")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2, help="parallel boots")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true")
    args = ap.parse_args()

    passed = failed = 0
    if not args.integration_only:
        print("== unit tests")
        for ok, name, detail in run_unit():
            print("%s %s" % ("PASS" if ok else "FAIL", name))
            if detail:
                print(detail)
            passed += ok
            failed += not ok
    if not args.unit_only:
        cases = [(n, f) for n, f in load_cases() if args.k in n]
        # Fetch and build shared inputs once, before boots run in parallel.
        import keeltest
        keeltest.host_images()
        print("== integration tests: %d boots under QEMU TCG, %d at a time" % (len(cases), args.j))
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
            futures = [pool.submit(run_case, n, f) for n, f in cases]
            for fut in concurrent.futures.as_completed(futures):
                ok, name, detail, secs = fut.result()
                print("%s %s (%.1f s)" % ("PASS" if ok else "FAIL", name, secs), flush=True)
                if not ok:
                    print("  " + detail.replace("\n", "\n  "), flush=True)
                passed += ok
                failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
