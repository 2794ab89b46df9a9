# SPDX-License-Identifier: MIT
"""Foundation boots: both boot paths, SMP, memory layouts, bad input.

Each case boots Keel under QEMU TCG (-cpu EPYC,+svm) and checks what a user
would read on the serial console.
"""
import os
import re

from keeltest import boot, host_images, write_esp, write_grub_iso

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


GOOD_CFG = """# Keel test configuration
[keel]
console = com1
baud = 115200

[host]
kernel = vmlinuz
initrd = initrd.img
cmdline = "console=ttyS0 quiet"
"""


def stand_in_images(work):
    """The host images: Debian's stock kernel and a busybox initramfs (loaded, not yet run)."""
    return host_images()


def check_good_boot(r, cpus, mem_mib):
    assert not r.timed_out, "timed out before 'keel: boot complete'"
    assert r.has(r"keel: boot complete"), "no 'keel: boot complete'"
    assert r.has(r"^\[cpu0\] keel: cpus online: %d/%d$" % (cpus, cpus)), \
        "expected 'cpus online: %d/%d'" % (cpus, cpus)
    for n in range(1, cpus):
        assert r.has(r"^\[cpu%d\] keel: cpu %d online \(apic id \d+\)$" % (n, n)), \
            "cpu %d did not report in on its own console prefix" % n
    assert r.has(r"keel: virtualization: svm=yes npt=yes nrip-save=no avic=no"), \
        "virtualization features not reported as QEMU TCG has them"
    m = r.find(r"keel: memory: (\d+) MiB usable RAM, Keel reserved (\d+) KiB")
    assert m, "no memory summary"
    usable = int(m.group(1))
    assert 0.9 * mem_mib <= usable <= mem_mib, \
        "usable RAM %d MiB not within 90%%..100%% of the machine's %d MiB" % (usable, mem_mib)
    assert int(m.group(2)) >= 16 * 1024, "Keel's reservation is not reported"
    assert r.has(r"keel: host kernel: vmlinuz, \d+ KiB at 0x"), "host kernel not found"
    assert not r.has(r"^\[cpu\d+\] .*(EXCEPTION|PANIC|error|warning)"), \
        "unexpected error or warning from Keel"


def check_high_memory(r):
    """With more than ~2.75 GiB, q35 puts RAM above 4 GiB: Keel must see it."""
    highs = [int(b, 16) for b in re.findall(
        r"keel: mem \[0x([0-9a-f]+)-0x[0-9a-f]+\] usable", r.log)]
    assert any(b >= 1 << 32 for b in highs), "no usable RAM above 4 GiB in Keel's map"


def uefi_boot(work, cfg=GOOD_CFG, files=None, smp=4, mem="2G", efi_path="EFI/BOOT/BOOTX64.EFI"):
    esp = write_esp(os.path.join(work, "esp"), cfg,
                    files if files is not None else stand_in_images(work), efi_path)
    return boot(work, smp=smp, mem=mem, firmware="ovmf", esp=esp)


def grub_boot(work, cfg=GOOD_CFG, modules=None, smp=4, mem="2G", firmware="bios",
              keel_cmdline=""):
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg,
                         modules if modules is not None else stand_in_images(work),
                         keel_cmdline)
    return boot(work, smp=smp, mem=mem, firmware=firmware, iso=iso)


@case
def uefi_removable_path_smp4(work):
    r = uefi_boot(work)
    check_good_boot(r, 4, 2048)
    assert r.has(r"keel: booted by UEFI .* via UEFI \(keel.efi\)"), "boot source not reported"
    return r


@case
def uefi_keel_directory_smp4(work):
    # \EFI\keel\keel.efi, started by the UEFI shell's startup.nsh as a boot entry would.
    esp = write_esp(os.path.join(work, "esp"), GOOD_CFG, stand_in_images(work),
                    "EFI/keel/keel.efi")
    with open(os.path.join(esp, "startup.nsh"), "w") as f:
        f.write("fs0:\\EFI\\keel\\keel.efi\r\n")
    r = boot(work, smp=4, mem="2G", firmware="ovmf", esp=esp)
    check_good_boot(r, 4, 2048)
    return r


@case
def grub_bios_smp4(work):
    r = grub_boot(work)
    check_good_boot(r, 4, 2048)
    assert r.has(r"keel: booted by GRUB .* via multiboot2"), "boot source not reported"
    return r


@case
def grub_uefi_smp4(work):
    r = grub_boot(work, firmware="ovmf")
    check_good_boot(r, 4, 2048)
    assert r.has(r"keel: booted by GRUB .* via multiboot2"), "boot source not reported"
    return r


@case
def uefi_smp1(work):
    r = uefi_boot(work, smp=1)
    check_good_boot(r, 1, 2048)
    return r


@case
def grub_bios_smp1(work):
    r = grub_boot(work, smp=1)
    check_good_boot(r, 1, 2048)
    return r


@case
def uefi_memory_3584m_hole(work):
    r = uefi_boot(work, mem="3584M", smp=2)
    check_good_boot(r, 2, 3584)
    check_high_memory(r)
    return r


@case
def grub_bios_memory_5g(work):
    r = grub_boot(work, mem="5G", smp=2)
    check_good_boot(r, 2, 5120)
    check_high_memory(r)
    return r


@case
def grub_uefi_memory_5g(work):
    r = grub_boot(work, mem="5G", smp=2, firmware="ovmf")
    check_good_boot(r, 2, 5120)
    check_high_memory(r)
    return r


def check_clean_stop(r, message):
    assert not r.timed_out, "no clean stop: timed out without 'keel: boot stopped'"
    assert not r.exited, "QEMU exited (reset or triple fault) instead of a clean stop"
    assert r.has(re.escape(message)), "expected the message %r" % message
    assert r.has(r"keel: boot stopped"), "no 'keel: boot stopped'"
    assert not r.has(r"EXCEPTION|PANIC"), "Keel faulted instead of stopping cleanly"


@case
def uefi_config_syntax_error(work):
    r = uefi_boot(work, cfg="[host]\nkernel vmlinuz\n")
    check_clean_stop(r, "keel: error: keel.cfg:2: expected 'key = value'")
    return r


@case
def grub_config_syntax_error(work):
    r = grub_boot(work, cfg="[host]\nkernel = vmlinuz\ncmdline = \"unterminated\n")
    check_clean_stop(r, "keel: error: keel.cfg:3:")
    return r


@case
def uefi_config_missing_kernel(work):
    images = stand_in_images(work)
    del images["vmlinuz"]
    r = uefi_boot(work, files=images)
    check_clean_stop(r, "keel: error: keel.cfg:7: host kernel 'vmlinuz' was not loaded")
    return r


@case
def grub_config_missing_kernel(work):
    images = stand_in_images(work)
    r = grub_boot(work, cfg=GOOD_CFG.replace("kernel = vmlinuz", "kernel = bzImage-6.1"),
                  modules=images)
    check_clean_stop(r, "keel: error: keel.cfg:7: host kernel 'bzImage-6.1' was not loaded")
    return r


@case
def uefi_config_empty(work):
    r = uefi_boot(work, cfg="")
    check_clean_stop(r, "keel: error: keel.cfg: no [host] section")
    return r


@case
def grub_config_missing_file(work):
    r = grub_boot(work, cfg=None)
    check_clean_stop(r, "keel: error: keel.cfg not found")
    return r


@case
def grub_exception_in_keel(work):
    r = grub_boot(work, smp=2, keel_cmdline="keel.selftest=exception")
    assert r.has(r"keel: cpus online: 2/2"), "did not boot before the self-test"
    assert r.has(r"keel: EXCEPTION in Keel: vector 6 \(#UD invalid opcode\), error code 0x0"), \
        "no exception report"
    assert r.has(r"^\[cpu0\] rip ffffffff8[0-9a-f]{7} cs 0008"), "no register dump"
    assert r.has(r"stack trace:\n(\[cpu0\]   #\d+ [0-9a-f]{16}\n)+"), "no stack trace"
    assert r.has(r"keel: cpu 0 stopped"), "the CPU was not stopped"
    assert not r.exited, "QEMU exited: the exception escalated to a reset"
    return r
