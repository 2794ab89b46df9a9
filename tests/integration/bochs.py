# SPDX-License-Identifier: MIT
"""Boot Keel in Bochs 2.7 (Intel VMX + EPT emulated in software) and read its serial log.

The counterpart of keeltest.boot() for the Intel backend. Bochs takes its
machine from a bochsrc (written here into the work directory), and Debian's
build always has its debugger on: it stops before the first instruction and
reads commands, so it is started with '-rc cmds', a file holding 'c'
(continue) and 'quit' (once the simulation stops: power-off, panic).

Settings that work with Debian's bochs 2.7 (see /work/shared/docs/test-platforms.md):
- cpu model=corei7_skylake_x: VMX with EPT, VPID and unrestricted guest.
- display_library rfb with timeout=0: the only headless display in the build
  (it listens on the first free port from 5900 and never waits for a viewer).
- clock sync=none: emulated time follows the instruction count (ips), so a
  slow or busy machine makes the boot slower but never changes what happens.
- serial to a file; the BIOS is Bochs' own (rombios with ACPI tables and an
  MADT for 'count' CPUs); boot from a GRUB BIOS ISO on the first ATA channel.
"""
import os
import subprocess
import time

from keeltest import TERMINAL, read_log, wait_for

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/bochs/VGABIOS-lgpl-latest"


def bochsrc(log, iso, cpus=2, megs=1024, ips=50000000, model="corei7_skylake_x"):
    """The text of a bochsrc booting iso with cpus CPUs and megs MiB of RAM, COM1 into log."""
    return "\n".join([
        # count: processors (Debian's bochs is built with SMP). quantum: instructions a CPU
        # runs before the next one gets its turn (the default, 16, is kept: a larger one
        # makes spinning CPUs waste more of the emulator's time).
        "cpu: model=%s, count=%d, ips=%d, reset_on_triple_fault=0" % (model, cpus, ips),
        "megs: %d" % megs,
        "romimage: file=%s" % BIOS,
        "vgaromimage: file=%s" % VGABIOS,
        "pci: enabled=1, chipset=i440fx",
        "display_library: rfb, options=\"timeout=0\"",
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        "ata0-master: type=cdrom, path=\"%s\", status=inserted" % iso,
        "boot: cdrom",
        "com1: enabled=1, mode=file, dev=\"%s\"" % log,
        "clock: sync=none, time0=local",
        "mouse: enabled=0",
        # The ALSA sound driver aborts ('buffer overflow detected') where no sound card is.
        "sound: driver=dummy",
        "speaker: enabled=0",
        # No VBE: GRUB 2.06 crashes (its stack overwritten, EIP 0x66666666) right after
        # setting a VBE mode on Bochs' VGA; plain VGA leaves it in text mode.
        "vga: extension=none",
        "log: -",
        "panic: action=fatal",
        "error: action=report",
        "info: action=ignore",
        "debug: action=ignore",
        "",
    ])


def boot(workdir, iso, cpus=2, megs=1024, timeout=600, settle=1.0, until=TERMINAL,
         ips=50000000):
    """Run Bochs until until says so (a compiled regex matching the log, or a function of the
    log text), Bochs' exit, or timeout;
    return a keeltest.BootResult (exited: Bochs ended by itself, e.g. ACPI power-off)."""
    log = os.path.join(workdir, "serial.log")
    if os.path.exists(log):
        os.remove(log)
    rc_path = os.path.join(workdir, "bochsrc")
    with open(rc_path, "w") as f:
        f.write(bochsrc(log, iso, cpus=cpus, megs=megs, ips=ips))
    cmds = os.path.join(workdir, "bochs.cmds")
    with open(cmds, "w") as f:
        f.write("c\nquit\n")
    cmd = ["bochs", "-q", "-f", rc_path, "-rc", cmds]
    with open(os.path.join(workdir, "bochs.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    start = time.time()
    out = open(os.path.join(workdir, "bochs.out"), "w")
    # Its own session: the debugger must not read the test runner's terminal.
    proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return wait_for(proc, log, start, until, settle, timeout, 0.5)
    finally:
        out.close()


def bochs_output(workdir):
    """What Bochs itself printed (its panics and errors), for failure reports."""
    return read_log(os.path.join(workdir, "bochs.out"))

