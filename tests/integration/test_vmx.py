# SPDX-License-Identifier: MIT
"""Keel's Intel VMX backend, in Bochs 2.7 (cpu model corei7_skylake_x: VMX with EPT,
VPID and unrestricted guest, emulated in software).

Bochs is slow (a Debian kernel takes minutes to reach userspace), so this file
holds one long boot that checks everything the SVM tests check without a
guest OS of their own, on VMX, beside the stock Debian host (and one short
boot: CI mode with multiboot test kernels, which ends before the host is up):
- the host (2 CPUs, its AP started through Keel in real mode, after waiting
  for its STARTUP in the CPU's wait-for-SIPI state) reaches userspace and runs
  tests/host/keel-probe: CPUs, the CPUID view (SVM and VMX hidden), MSR
  refusals, the /dev/mem scan of Keel's memory; then takes CPU 1 offline and
  starts it again (INIT, STARTUP through Keel's APIC emulation; the vCPU
  sleeps in the wait-for-SIPI state in between), runs work on it and powers
  off through ACPI;
- guest partitions on the other CPUs run the raw payloads of tests/guest:
  kvm_abi (the KVM paravirtual ABI, hypercalls through VMCALL and VMMCALL),
  isolation (a read outside its memory stops it) and triple_fault (stops it);
  the host keeps running through both stops.
"""
import os
import re

from bochs import boot, bochs_output
from keeltest import BUILD, host_images, write_grub_iso
from test_host import check_probe

CASES = []
# Minutes per boot: tests/run.py starts these first.
LONG = True


def case(fn):
    CASES.append(fn)
    return fn


KEEL_FAILED = re.compile(r"keel: boot stopped|keel: PANIC|EXCEPTION in Keel|"
                         r"partition host stopped|keel: vmx: .*failed")

HOST = ("[host]\nkernel = vmlinuz\ninitrd = initrd.img\n"
        "cmdline = \"console=ttyS0,115200 panic=-1 no_timer_check keel.test=probe\"\n")


def raw_partition(name, payload):
    return ("\n[partition %s]\nkind = raw\nimage = %s.bin\ncpus = 1\nmemory = 16M\n"
            "load_address = 0x10000\nconsole = debug\n" % (name, payload))


@case
def vmx_bochs_host_smp2_probe_and_partitions(work):
    payloads = {"t1": "kvm_abi", "t2": "isolation", "t3": "triple_fault"}
    mods = dict(host_images())
    cfg = HOST.replace("keel.test=probe", "keel.test=probe keel.hotplug=1")
    for name, payload in payloads.items():
        cfg += raw_partition(name, payload)
        mods[payload + ".bin"] = os.path.join(BUILD, "guest", payload + ".bin")
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg, mods)
    cpus = 2 + len(payloads)
    # The host powers off after the probe, which ends Bochs (about 6.5 min idle, 9 under load;
    # the timeout leaves room for a machine busy with parallel QEMU boots); Keel's failures
    # end it early.
    r = boot(work, iso, cpus=cpus, megs=1024, timeout=1200, settle=3, until=KEEL_FAILED)
    detail = "\nBochs said:\n" + "\n".join(
        l for l in bochs_output(work).splitlines()[-30:] if "RDMSR" not in l and "WRMSR" not in l)

    # VMX on every CPU, the host and every partition on it.
    for cpu in range(cpus):
        assert r.has(r"^\[cpu%d\] keel: vmx: VMXON on cpu %d " % (cpu, cpu)), \
            "VMX was not turned on on cpu %d" % cpu + detail
    assert r.has(r"keel: host: 2 vcpus on vmx with nested paging"), "the host is not on VMX"
    assert r.has(r"keel: host: ACPI tables at 0x[0-9a-f]+ list 3 CPUs fewer"), \
        "the host's MADT still lists the partitions' CPUs"
    assert not r.has(KEEL_FAILED.pattern), "Keel or the host partition failed" + detail

    # kvm_abi: the KVM ABI checks pass, with VMCALL as the native hypercall.
    assert r.has(r"^\[t1\] guest-test: info: vendor GenuineIntel: native hypercall "
                 r"instruction VMCALL"), "the payload did not see an Intel CPU"
    m = r.find(r"^\[t1\] guest-test: done (\d+) passed, (\d+) failed")
    assert m, "the KVM ABI payload did not finish" + detail
    fails = re.findall(r"^\[t1\] guest-test: FAIL .*", r.log, re.M)
    assert int(m.group(2)) == 0, "KVM ABI checks failed on VMX:\n" + "\n".join(fails)
    assert int(m.group(1)) >= 60, "too few KVM ABI checks ran"

    # isolation and triple_fault: each stops only its own partition.
    assert r.has(r"keel: partition t2 stopped: read of guest-physical 0x40000000, outside its "
                 r"memory"), "no report of t2's forbidden read"
    assert not r.has(r"guest-test: FAIL isolation"), "the forbidden read returned to the guest"
    assert r.has(r"keel: partition t3 stopped: triple fault on vcpu 0"), \
        "no report of t3's triple fault"
    assert not r.has(r"^\[t3\] guest-test: FAIL"), "t3 survived its triple fault"

    # The host: userspace with 2 CPUs, the probe's checks (as on SVM), and the VMX view.
    check_probe(r, 2)
    assert r.has(r"^\[host\] probe: cpuid vmx 0$"), "VMX is not hidden from the host"
    assert r.has(r"^\[host\] probe: msr read vmx_basic refused$"), \
        "the host could read IA32_VMX_BASIC"

    # The host's AP waited for its STARTUPs in the CPU's wait-for-SIPI state, at boot and
    # after CPU hot-plug; then work ran on it.
    assert r.has(r"keel: vmx: controls .*, wait-for-SIPI state$"), "no wait-for-SIPI state"
    assert r.has(r"^\[host\] keel-host: cpu1 offline, online 0$"), "CPU 1 did not go offline"
    assert r.has(r"^\[host\] keel-host: cpu1 online again, online 0-1$"), \
        "CPU 1 did not come back" + detail
    assert r.has(r"^\[host\] keel-host: work result 658996 on cpu 1$"), "no work on CPU 1"
    starts = re.findall(r"keel: partition host: vcpu 1 started at 0x[0-9a-f]+ by STARTUP "
                        r"\(it waited in the wait-for-SIPI state\)$", r.log, re.M)
    assert len(starts) == 2, "vcpu 1 did not start twice from the wait-for-SIPI state"


@case
def vmx_bochs_ci_mode_multiboot(work):
    """CI mode on VMX (the CI issue's Bochs case): a multiboot v1 test kernel on 2 vCPUs starts
    its AP, reads a module and fw_cfg and exits through its debug-exit port; a second one
    fails; Keel reports both, sums them up as FAILURE and powers Bochs off through ACPI (Bochs
    has no isa-debug-exit device, so there is no exit code to hand on). The host only starts:
    CI mode ends the run as soon as every guest has ended."""
    from test_ci_mode import MODULE_TEXT, files, keel, multiboot, with_module
    cfg = (keel(success="0x10", exit_port="none") + HOST.replace(" keel.test=probe", "") +
           multiboot("mb", "mbtest.elf", "2", cmdline="pass=0x10 fail=0x11 cpus=2 module=" +
                     MODULE_TEXT, modules=["module.txt"]) +
           multiboot("bad", "mbtest-flat.bin", "1", memory="16M",
                     cmdline="pass=0x10 fail=0x11 cpus=2"))
    mods = with_module(work, files("mbtest.elf", "mbtest-flat.bin"))
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg, mods)
    r = boot(work, iso, cpus=4, megs=512, timeout=900, settle=3, until=KEEL_FAILED)
    detail = "\nBochs said:\n" + "\n".join(bochs_output(work).splitlines()[-20:])
    assert not r.timed_out, "timed out: Keel did not end the run" + detail
    assert not r.has(KEEL_FAILED.pattern), "Keel failed" + detail
    assert r.has(r"^\[mb\] mbtest: AP 1 up \(apic id 1"), "mb's AP did not start on VMX"
    assert r.has(r"keel: partition mb: vcpu 1 started at 0x0 by STARTUP \(it waited in the "
                 r"wait-for-SIPI state\)$"), "mb's AP did not wait in the wait-for-SIPI state"
    assert r.has(r"^\[mb\] mbtest: module 1: 'module.txt'"), "mb did not see its module"
    assert r.has(r"^\[mb\] mbtest: fw_cfg: 2 CPUs, 32 MiB of RAM"), "mb: fw_cfg"
    assert r.has(r"^\[mb\] mbtest: done \d+ passed, 0 failed; exiting with 0x10"), "mb failed"
    assert r.has(r"keel: partition mb exited with status 33$"), "no exit report for mb"
    assert r.has(r"^\[bad\] mbtest: FAIL"), "bad did not notice its wrong CPU count"
    assert r.has(r"keel: partition bad exited with status 35$"), "no exit report for bad"
    assert r.has(r"keel: ci: 2 partitions: 1 passed, 1 failed: FAILURE"), "no CI summary"
    assert r.has(r"keel: ci: powering off$"), "no power-off"
    assert not r.has(r"keel: ci: still running after"), "the ACPI power-off did not work"
    assert r.exited, "Bochs did not end with the power-off" + detail
