# SPDX-License-Identifier: MIT
"""CI mode with multiboot test kernels, on SVM (QEMU TCG).

The partitions run mbtest (tests/guest/mb), a multiboot v1 kernel that
starts its APs, reads fw_cfg and a module, prints on COM1 and ends with a
write to its debug-exit port. With [keel] ci = yes, Keel powers the machine
off once every partition has ended; QEMU's isa-debug-exit device turns the
combined result Keel writes into QEMU's exit code, which is what a CI job
sees. docs/ci-test-kernels.md describes the setup these tests use.
"""
import os
import re

from keeltest import BUILD, boot, host_images, write_esp, write_grub_iso

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


HOST = ("[host]\nkernel = vmlinuz\ninitrd = initrd.img\n"
        "cmdline = \"console=ttyS0,115200 panic=-1 no_timer_check\"\n")
MODULE_TEXT = "hello-from-module"
DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
FAILED = re.compile(r"keel: boot stopped|keel: PANIC|EXCEPTION in Keel|partition host stopped")


def keel(success="0x10", exit_port=None):
    text = "[keel]\nci = yes\nci_success = %s\n" % success
    if exit_port:
        text += "ci_exit_port = %s\n" % exit_port
    return text


def multiboot(name, kernel, cpus, memory="32M", cmdline="", modules=None):
    text = ("\n[partition %s]\nkind = multiboot\nkernel = %s\ncpus = %s\nmemory = %s\n"
            "console = serial\ncmdline = \"%s\"\n" % (name, kernel, cpus, memory, cmdline))
    if modules:
        text += "modules = %s\n" % ", ".join(modules)
    return text


def files(*names):
    mods = dict(host_images())
    where = {
        "mbtest.elf": os.path.join(BUILD, "mbtest", "mbtest.elf"),
        "mbtest-flat.bin": os.path.join(BUILD, "mbtest", "mbtest-flat.bin"),
        "hello.bin": os.path.join(BUILD, "guest", "hello.bin"),
        "triple_fault.bin": os.path.join(BUILD, "guest", "triple_fault.bin"),
    }
    for n in names:
        if n == "module.txt":
            continue
        mods[n] = where[n]
    return mods


def with_module(work, mods):
    path = os.path.join(work, "module.txt")
    with open(path, "w") as f:
        f.write(MODULE_TEXT + "\nthe rest of the module\n")
    mods["module.txt"] = path
    return mods


def run(work, cfg, mods, path="grub", extra=DEBUG_EXIT, smp=4):
    """Boot until QEMU exits by itself (the point of CI mode) or Keel fails."""
    if path == "uefi":
        esp = write_esp(os.path.join(work, "esp"), cfg, mods)
        return boot(work, timeout=300, settle=2, until=FAILED, smp=smp, mem="2G",
                    firmware="ovmf", esp=esp, extra=extra)
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg, mods)
    return boot(work, timeout=300, settle=2, until=FAILED, smp=smp, mem="2G", firmware="bios",
                iso=iso, extra=extra)


def check_exited(r):
    assert not r.timed_out, "timed out: Keel did not end the run"
    assert not r.has(FAILED.pattern), "Keel or the host failed"
    assert r.exited, "QEMU did not exit"


def mbtest_lines(r, name):
    return re.findall(r"^\[%s\] mbtest: .*" % name, r.log, re.M)


@case
def ci_multiboot_all_pass_grub(work):
    """An ELF kernel on 2 CPUs with a module and a flat one with load addresses: QEMU exits 33."""
    cfg = (keel() + HOST +
           multiboot("elf", "mbtest.elf", "2", cmdline="pass=0x10 fail=0x11 cpus=2 module=" +
                     MODULE_TEXT, modules=["module.txt"]) +
           multiboot("flat", "mbtest-flat.bin", "1", memory="16M",
                     cmdline="pass=0x10 fail=0x11 cpus=1"))
    r = run(work, cfg, with_module(work, files("mbtest.elf", "mbtest-flat.bin")))
    check_exited(r)
    for name in ("elf", "flat"):
        fails = [l for l in mbtest_lines(r, name) if "FAIL" in l]
        assert not fails, "%s failed:\n%s" % (name, "\n".join(fails))
        assert r.has(r"^\[%s\] mbtest: done \d+ passed, 0 failed; exiting with 0x10" % name), \
            "%s did not finish" % name
        assert r.has(r"keel: partition %s exited with status 33$" % name), \
            "no exit report for %s" % name
    assert r.has(r"keel: partition elf: multiboot kernel mbtest.elf at 0x100000-0x[0-9a-f]+ "
                 r"\(ELF\)"), "the ELF was not loaded as ELF"
    assert r.has(r"keel: partition flat: multiboot kernel mbtest-flat.bin at 0x100000-"
                 r"0x[0-9a-f]+ \(header addresses\)"), "the flat image was not loaded"
    assert r.has(r"^\[elf\] mbtest: AP 1 up \(apic id 1, cr0 0x[0-9a-f]+\)"), "no AP started"
    assert r.has(r"^\[elf\] mbtest: module 1: 'module.txt' at 0x[0-9a-f]+000-"), \
        "module not seen"
    assert r.has(r"^\[elf\] mbtest: fw_cfg: 2 CPUs, 32 MiB of RAM"), "fw_cfg"
    assert r.has(r"keel: ci: 2 partitions: 2 passed, 0 failed: SUCCESS"), "no CI summary"
    assert r.rc == 33, "QEMU exited with %s, expected 33 ((0x10 << 1) | 1)" % r.rc


@case
def ci_multiboot_failure_uefi(work):
    """One kernel fails a check, one image is not multiboot: QEMU exits 35, the first failure."""
    cfg = (keel() + HOST +
           multiboot("good", "mbtest-flat.bin", "1", memory="16M", cmdline="pass=0x10") +
           multiboot("bad", "mbtest.elf", "1", cmdline="pass=0x10 fail=0x11 module=" +
                     MODULE_TEXT) +
           multiboot("broken", "hello.bin", "1", memory="16M"))
    r = run(work, cfg, files("mbtest.elf", "mbtest-flat.bin", "hello.bin"), path="uefi")
    check_exited(r)
    assert r.has(r"keel: error: keel.cfg:\d+: partition broken: no multiboot header "
                 r"\(magic 0x1badb002\) in the first \d+ bytes: not a multiboot v1 kernel; "
                 r"the partition is skipped"), "no clear error for the image without a header"
    assert r.has(r"^\[bad\] mbtest: FAIL module_present: no module"), \
        "the missing module was not noticed"
    assert r.has(r"keel: partition bad exited with status 35$"), "no exit report for bad"
    assert r.has(r"keel: partition good exited with status 33$"), "no exit report for good"
    assert r.has(r"keel: ci: partition good: passed"), "good not counted as passed"
    assert r.has(r"keel: ci: partition bad: FAILED \(exited with status 35\)"), "bad"
    assert r.has(r"keel: ci: partition broken: FAILED \(stopped by Keel\)"), "broken"
    assert r.has(r"keel: ci: 3 partitions: 1 passed, 2 failed: FAILURE"), "no CI summary"
    assert r.rc == 35, "QEMU exited with %s, expected 35 (bad's 0x11)" % r.rc


@case
def ci_fault_and_acpi_power_off(work):
    """No isa-debug-exit: a triple-faulting partition fails the run; Keel powers off by ACPI."""
    cfg = (keel(success="0", exit_port="none") + HOST +
           multiboot("mb", "mbtest-flat.bin", "2", memory="16M", cmdline="cpus=2") +
           "\n[partition tf]\nkind = raw\nimage = triple_fault.bin\ncpus = 1\nmemory = 16M\n"
           "load_address = 0x10000\nconsole = debug\n")
    r = run(work, cfg, files("mbtest-flat.bin", "triple_fault.bin"), extra=())
    check_exited(r)
    assert r.has(r"keel: ci: power off through PM1a control 0x604, SLP_TYP 0"), \
        "Keel did not find q35's ACPI S5"
    assert r.has(r"^\[mb\] mbtest: AP 1 up"), "mb's AP did not start"
    assert r.has(r"keel: partition mb exited with status 1$"), "no exit report for mb"
    assert r.has(r"keel: partition tf stopped: triple fault"), "no triple fault"
    assert r.has(r"keel: ci: partition tf: FAILED \(stopped by Keel\)"), "tf"
    assert r.has(r"keel: ci: 2 partitions: 1 passed, 1 failed: FAILURE"), "no CI summary"
    assert r.has(r"keel: ci: powering off$"), "no power-off"
    assert not r.has(r"keel: ci: still running after"), "the ACPI power-off did not work"
    assert r.rc == 0, "QEMU exited with %s after an ACPI power-off" % r.rc
