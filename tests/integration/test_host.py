# SPDX-License-Identifier: MIT
"""The host partition: Debian's stock kernel booted by Keel on SVM.

Each boot runs the host's initramfs with keel.test=ACTION (tools/mkinitramfs):
'probe' runs tests/host/keel-probe, which reports what the host can see of
Keel, then powers off through ACPI, which must end QEMU.
"""
import os
import re

from keeltest import boot, host_images, write_esp, write_grub_iso

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# Keel's failure lines: any of them ends the boot early.
KEEL_FAILED = re.compile(r"keel: boot stopped|keel: PANIC|EXCEPTION in Keel|partition host stopped")



def host_cfg(action, kernel="vmlinuz"):
    # no_timer_check: Linux's IO-APIC timer check busy-waits for PIT ticks and fails when the
    # emulator is starved by parallel boots; KVM guests skip it for the same reason.
    return ("[host]\nkernel = %s\ninitrd = initrd.img\n"
            "cmdline = \"console=ttyS0,115200 panic=-1 no_timer_check keel.test=%s\"\n"
            % (kernel, action))


def host_boot(work, path, action, smp=4, firmware="bios", mem="2G", cfg=None):
    cfg = cfg or host_cfg(action)
    if path == "uefi":
        esp = write_esp(os.path.join(work, "esp"), cfg, host_images())
        return boot(work, timeout=400, settle=3, until=KEEL_FAILED, smp=smp, mem=mem,
                    firmware="ovmf", esp=esp)
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg,
                         host_images())
    return boot(work, timeout=400, settle=3, until=KEEL_FAILED, smp=smp, mem=mem,
                firmware=firmware, iso=iso)


def check_probe(r, cpus):
    assert not r.timed_out, "the host did not finish (timed out)"
    assert not r.has(KEEL_FAILED.pattern), "Keel or the host partition failed"
    assert r.has(r"^\[host\] keel-host: userspace reached, %d CPUs" % cpus), \
        "the host did not reach userspace with %d CPUs" % cpus
    assert r.has(r"keel: partition host: all %d vcpus started" % cpus) or cpus == 1, \
        "host APs were not all started through Keel"
    assert r.has(r"^\[host\] probe: cpus online %d$" % cpus), "nproc in the host is wrong"
    assert r.has(r"^\[host\] probe: work ran on %d of %d cpus$" % (cpus, cpus)), \
        "the host could not run work on every CPU"
    assert r.has(r"^\[host\] probe: cpuid hypervisor bit 1$"), "no hypervisor bit in CPUID"
    assert r.has(r"^\[host\] probe: cpuinfo hypervisor flag on %d of %d cpus$" % (cpus, cpus)), \
        "/proc/cpuinfo lacks the hypervisor flag"
    assert r.has(r"^\[host\] probe: cpuid signature 'KeelHVKeelHV'"), "no Keel signature leaf"
    assert r.has(r"^\[host\] probe: cpuid svm 0$"), "SVM is not hidden from the host"
    # kvm-clock for the host: KVM's signature at 0x40000100 beside Keel's own.
    for line in (r"Hypervisor detected: KVM", r"kvm-clock: Using msrs 4b564d01 and 4b564d00",
                 r"clocksource: Switched to clocksource kvm-clock"):
        assert r.has(r"^\[host\] \[ *[0-9.]+\] " + line), "host log lacks '%s'" % line
    assert r.has(r"^\[host\] probe: msr efer 0x[0-9a-f]+ svme 0$"), "EFER.SVME is visible"
    assert r.has(r"^\[host\] probe: msr write vm_hsave_pa refused$"), "VM_HSAVE_PA write not refused"
    assert r.has(r"^\[host\] probe: msr write vm_cr refused$"), "VM_CR write not refused"
    assert r.has(r"^\[host\] probe: msr write efer accepted$"), "EFER write (SVME clear) failed"
    m = r.find(r"^\[host\] probe: devmem scanned (\d+) KiB in (\d+) reserved ranges, (\d+) "
               r"non-zero pages, (\d+) pages with Keel data$")
    assert m, "no /dev/mem scan result"
    assert int(m.group(1)) >= 16 * 1024, "the scan did not cover Keel's reserved memory"
    assert int(m.group(4)) == 0, "the host read Keel's memory through /dev/mem"
    assert r.has(r"^\[host\] probe: done$"), "the probe did not finish"
    assert r.has(r"reboot: Power down"), "the host did not power off"
    assert r.exited, "QEMU did not exit after the host's ACPI power-off"


@case
def host_grub_bios_smp4_probe(work):
    r = host_boot(work, "grub", "probe")
    check_probe(r, 4)


@case
def host_uefi_smp4_probe(work):
    r = host_boot(work, "uefi", "probe")
    check_probe(r, 4)


@case
def host_grub_uefi_smp2_poweroff(work):
    r = host_boot(work, "grub", "poweroff", smp=2, firmware="ovmf")
    assert not r.has(KEEL_FAILED.pattern), "Keel or the host partition failed"
    assert r.has(r"^\[host\] keel-host: userspace reached, 2 CPUs"), "no host userspace"
    assert r.has(r"reboot: Power down") and r.exited, "ACPI power-off did not end QEMU"


@case
def host_reboot_resets_machine(work):
    r = host_boot(work, "grub", "reboot", smp=2)
    assert not r.has(KEEL_FAILED.pattern), "Keel or the host partition failed"
    assert r.has(r"^\[host\] keel-host: rebooting"), "the host did not ask for a reboot"
    assert r.has(r"reboot: Restarting system"), "Linux did not restart"
    # QEMU runs with -no-reboot: a machine reset ends it instead of hanging.
    assert r.exited and not r.timed_out, "the reboot request did not reset the machine"


@case
def host_kernel_not_a_bzimage(work):
    r = host_boot(work, "grub", "poweroff", smp=1, cfg=host_cfg("poweroff", kernel="initrd.img"))
    assert r.has(r"keel: error: keel.cfg:2: host kernel 'initrd.img': not a bzImage"), \
        "no clear error for a kernel that is not a bzImage"
    assert r.has(r"keel: boot stopped") and not r.exited, "Keel did not stop cleanly"


@case
def host_unhandled_exit_stops_only_the_host(work):
    r = host_boot(work, "grub", "unhandledexit", smp=2)
    assert r.has(r"^\[host\] probe: doing string I/O on port 0x3f8"), "the probe did not run"
    assert r.has(r"keel: partition host stopped: unexpected I/O exit: port 0x3f8 size 1 "
                 r"\(string\)"), "no report naming the partition and the reason"
    assert r.has(r"^\[cpu\d\]   rax [0-9a-f]{16} rbx"), "no register dump"
    assert r.has(r"keel: partition host stopped; Keel and the other partitions keep running")
    for cpu in range(2):
        assert r.has(r"^\[cpu%d\] keel: partition host: vcpu %d stopped" % (cpu, cpu)), \
            "cpu %d did not stop its vcpu (Keel not responsive there)" % cpu
    assert not r.has(r"probe: string I/O returned"), "the host went on after the stop"
    assert not r.has(r"EXCEPTION in Keel|PANIC") and not r.exited, "Keel itself failed"
