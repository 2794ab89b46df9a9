# SPDX-License-Identifier: MIT
"""Keel's deterministic benchmarks (docs/performance.md), used by bench/run and
tests/integration/test_bench.py.

Every boot runs QEMU 7.2 TCG, -machine q35 -cpu EPYC,+svm -smp 1, with
-icount shift=0,align=off,sleep=off, a fixed -rtc base and a fixed -seed:
the guest's TSC then advances by one per emulated instruction (plus the
time skipped while the CPU idles), so every figure repeats exactly on any
host, loaded or not.
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from keeltest import BUILD, boot, host_images, write_esp  # noqa: E402

DETERMINISTIC = ["-icount", "shift=0,align=off,sleep=off",
                 "-rtc", "base=2024-01-01T00:00:00,clock=vm", "-seed", "1"]
MEMORY = "1G"

# The operations tests/guest/bench_exits.c times, in its order, and what each is.
EXIT_OPS = [
    ("cpuid", "CPUID leaf 0"),
    ("vmmcall", "VMMCALL, unknown hypercall number"),
    ("rdmsr_tsc", "RDMSR IA32_TSC (intercepted)"),
    ("out_uart", "OUT to the emulated UART (COM1 scratch, 0x3ff)"),
    ("mmio_ioapic", "MMIO write to the emulated IOAPIC (IOREGSEL)"),
    ("out_unassigned", "OUT to an unassigned port (0x2f8)"),
]
# Targets from the design (docs/performance.md): round trips, in instructions, net of baseline.
EXIT_TARGETS = {"cpuid": 150, "vmmcall": 150, "rdmsr_tsc": 150, "out_uart": 250,
                "mmio_ioapic": 250, "out_unassigned": 250}
BOOT_OVERHEAD_TARGET = 0.02
IMAGE_TARGET = 512 * 1024

BENCH_CFG = ("[partition bench]\nkind = raw\nimage = bench_exits.bin\ncpus = 1\nmemory = 16M\n"
             "load_address = 0x10000\nconsole = serial\n")
BOOT_CMDLINE = "console=ttyS0,115200 quiet panic=-1"

BENCH_LINE = re.compile(r"^\[bench\] bench: (\w+) min (\d+) median (\d+) max (\d+) n (\d+)$", re.M)
INIT_LINE = re.compile(r"keel-bench: init tsc (\d+)")


class BenchError(Exception):
    pass


def make(*targets):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    subprocess.run(["make", "-s", "-C", ROOT] + list(targets), check=True, env=env)


def exit_costs(work):
    """Boot Keel with the bench payload as its only partition (no host: the one CPU is the
    partition's) and return ({op: {min, median, max, n}}, serial log)."""
    os.makedirs(work, exist_ok=True)
    esp = write_esp(os.path.join(work, "esp"), BENCH_CFG,
                    {"bench_exits.bin": os.path.join(BUILD, "guest", "bench_exits.bin")})
    done = re.compile(r"^\[bench\] (bench: end|guest-test: done)|keel: boot stopped|keel: PANIC|"
                      r"partition bench stopped", re.M)
    r = boot(work, timeout=600, settle=0.5, until=done, smp=1, mem=MEMORY, firmware="ovmf",
             esp=esp, extra=DETERMINISTIC)
    ops = {}
    for m in BENCH_LINE.finditer(r.log):
        ops[m.group(1)] = {"min": int(m.group(2)), "median": int(m.group(3)),
                           "max": int(m.group(4)), "n": int(m.group(5))}
    if r.timed_out or not re.search(r"^\[bench\] bench: end", r.log, re.M):
        fails = re.findall(r"^\[bench\] guest-test: FAIL .*$", r.log, re.M)
        raise BenchError("the exit-cost payload did not finish (%s)%s; log: %s/serial.log" % (
            "timed out" if r.timed_out else "stopped", "".join("\n  " + f for f in fails), work))
    return ops, r.log


def write_cpio(path, entries):
    """A gzip'd newc cpio of entries: (name, mode, data or None, (major, minor) or None)."""
    out = bytearray()
    ino = 1
    for name, mode, data, dev in entries + [("TRAILER!!!", 0, None, None)]:
        data = data or b""
        rmaj, rmin = dev or (0, 0)
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, rmaj, rmin, len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(bytes(out))


def bench_initramfs():
    """build/bench/initramfs.cpio.gz: /init (bench/init.c) and /dev/console, nothing else."""
    path = os.path.join(BUILD, "bench", "initramfs.cpio.gz")
    with open(os.path.join(BUILD, "bench", "init"), "rb") as f:
        init = f.read()
    write_cpio(path, [("dev", 0o040755, None, None),
                      ("dev/console", 0o020600, None, (5, 1)),
                      ("init", 0o100755, init, None)])
    return path


def _boot_to_init(work, esp):
    r = boot(work, timeout=900, settle=0.5, until=INIT_LINE, smp=1, mem=MEMORY, firmware="ovmf",
             esp=esp, extra=DETERMINISTIC)
    m = INIT_LINE.search(r.log)
    if not m:
        raise BenchError("the host's init did not report (%s); log: %s/serial.log" % (
            "timed out" if r.timed_out else "QEMU exited" if r.exited else "?", work))
    return int(m.group(1)), r.log


def boot_cost_keel(work, kernel, initrd):
    """Reset to the host's /init with Keel (keel.efi from the ESP, the host alone)."""
    os.makedirs(work, exist_ok=True)
    cfg = ("[host]\nkernel = vmlinuz\ninitrd = initrd.img\ncmdline = \"%s\"\n" % BOOT_CMDLINE)
    esp = write_esp(os.path.join(work, "esp"), cfg, {"vmlinuz": kernel, "initrd.img": initrd})
    return _boot_to_init(work, esp)


def boot_cost_ovmf(work, kernel, initrd):
    """Reset to /init with OVMF starting the same kernel through its EFI stub."""
    os.makedirs(work, exist_ok=True)
    esp = os.path.join(work, "esp")
    if os.path.exists(esp):
        shutil.rmtree(esp)
    boot_dir = os.path.join(esp, "EFI", "BOOT")
    os.makedirs(boot_dir)
    shutil.copy(os.path.join(BUILD, "bench", "linuxboot.efi"),
                os.path.join(boot_dir, "BOOTX64.EFI"))
    shutil.copy(kernel, os.path.join(boot_dir, "vmlinuz"))
    shutil.copy(initrd, os.path.join(boot_dir, "initrd.img"))
    with open(os.path.join(boot_dir, "cmdline.txt"), "w") as f:
        f.write("initrd=\\EFI\\BOOT\\initrd.img %s\n" % BOOT_CMDLINE)
    return _boot_to_init(work, esp)


def sections(path):
    """{text, data, bss} of an ELF or PE file, as binutils' size(1) counts them."""
    out = subprocess.run(["size", path], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.splitlines()[1].split()
    return {"text": int(out[0]), "data": int(out[1]), "bss": int(out[2])}


def footprint(keel_log=None):
    fp = {}
    for name in ("keel.efi", "keel.elf"):
        path = os.path.join(BUILD, name)
        fp[name] = dict(file=os.path.getsize(path), **sections(path))
    # What is loaded: the flat image keel.efi embeds (text, rodata, data) plus the zeroed bss.
    fp["image_loaded"] = os.path.getsize(os.path.join(BUILD, "keel.bin")) + \
        fp["keel.elf"]["bss"]
    m = keel_log and re.search(r"keel: memory: \d+ MiB usable RAM, Keel reserved (\d+) KiB "
                               r"\(image (\d+) KiB, pool (\d+) KiB, (\d+) KiB used\)", keel_log)
    if m:
        fp["reserved_kib"] = {"total": int(m.group(1)), "image": int(m.group(2)),
                              "pool": int(m.group(3)), "pool_used": int(m.group(4))}
    return fp


def exit_table(ops):
    base = ops["baseline"]["min"]
    rows = []
    for key, what in EXIT_OPS:
        o = ops[key]
        net_min, net_med = o["min"] - base, o["median"] - base
        rows.append({"op": key, "what": what, "min": o["min"], "median": o["median"],
                     "max": o["max"], "net_min": net_min, "net_median": net_med,
                     "target": EXIT_TARGETS[key], "meets_target": net_med <= EXIT_TARGETS[key]})
    return rows


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) // 2


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def kernel_and_initramfs():
    kernel = host_images()["vmlinuz"]
    return kernel, bench_initramfs()
