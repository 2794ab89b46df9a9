# SPDX-License-Identifier: MIT
"""Guest partitions beside the Debian host, on SVM (QEMU TCG).

Raw partitions run the freestanding payloads of tests/guest (built into
build/guest/*.bin); each prints 'guest-test: PASS/FAIL ...' lines on port
0xE9, which Keel prints as '[NAME] ...'. The host boots to userspace at the
same time, on the CPUs the partitions leave it.
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


def raw_partition(name, payload, cpus="1", memory="16M"):
    return ("\n[partition %s]\nkind = raw\nimage = %s.bin\ncpus = %s\nmemory = %s\n"
            "load_address = 0x10000\nconsole = debug\n" % (name, payload, cpus, memory))


def images(*payloads):
    mods = dict(host_images())
    for p in payloads:
        mods[p + ".bin"] = os.path.join(BUILD, "guest", p + ".bin")
    return mods


def host_up(cpus):
    return re.compile(r"^\[host\] keel-host: userspace reached, %d CPUs" % cpus, re.M)


def run(work, cfg, mods, until, path="grub", smp=4, **kw):
    if path == "uefi":
        esp = write_esp(os.path.join(work, "esp"), cfg, mods)
        return boot(work, timeout=300, settle=2, until=until, smp=smp, mem="2G",
                    firmware="ovmf", esp=esp, **kw)
    iso = write_grub_iso(os.path.join(work, "keel.iso"), os.path.join(work, "iso"), cfg, mods)
    return boot(work, timeout=300, settle=2, until=until, smp=smp, mem="2G", firmware="bios",
                iso=iso, **kw)


def both(*patterns):
    """Done when every pattern has matched, or Keel failed."""
    failed = re.compile(r"keel: boot stopped|keel: PANIC|EXCEPTION in Keel|partition host stopped")
    return lambda text: failed.search(text) or all(p.search(text) for p in patterns)


def check_keel_fine(r):
    assert not r.timed_out, "timed out"
    assert not r.has(r"keel: boot stopped|keel: PANIC|EXCEPTION in Keel|partition host stopped"), \
        "Keel or the host failed"


@case
def partition_kvm_abi_beside_host(work):
    done = re.compile(r"^\[t1\] guest-test: done", re.M)
    r = run(work, HOST + raw_partition("t1", "kvm_abi"), images("kvm_abi"),
            both(done, host_up(3)))
    check_keel_fine(r)
    assert r.has(r"keel: host: ACPI tables at 0x[0-9a-f]+ list 1 CPUs fewer"), \
        "the host's MADT still lists the partition's CPU"
    assert r.has(host_up(3).pattern), "the host did not reach userspace on its 3 CPUs"
    m = r.find(r"^\[t1\] guest-test: done (\d+) passed, (\d+) failed")
    assert m, "the KVM ABI payload did not finish"
    fails = re.findall(r"^\[t1\] guest-test: FAIL .*", r.log, re.M)
    assert int(m.group(2)) == 0, "KVM ABI checks failed:\n" + "\n".join(fails)
    assert int(m.group(1)) >= 60, "too few KVM ABI checks ran"


@case
def partition_two_guests_and_host_uefi(work):
    done1 = re.compile(r"^\[g1\] guest-test: done", re.M)
    done2 = re.compile(r"^\[g2\] guest-test: done", re.M)
    cfg = HOST + raw_partition("g1", "hello", cpus="2-2") + raw_partition("g2", "kvm_abi")
    r = run(work, cfg, images("hello", "kvm_abi"), both(done1, done2, host_up(2)), path="uefi")
    check_keel_fine(r)
    assert r.has(r"keel: partition g1: 1 vcpus on cpus 0x4"), "g1 is not on CPU 2"
    assert r.has(r"keel: partition g2: 1 vcpus on cpus 0x8"), "g2 did not get the highest CPU"
    assert r.has(r"^\[g1\] guest-test: done 1 passed, 0 failed"), "g1 failed"
    assert r.has(r"^\[g2\] guest-test: done \d+ passed, 0 failed"), "g2 failed"
    assert r.has(host_up(2).pattern), "the host did not reach userspace on its 2 CPUs"


@case
def partition_read_outside_memory_stops_only_it(work):
    stopped = re.compile(r"keel: partition t1 stopped;")
    r = run(work, HOST + raw_partition("t1", "isolation"), images("isolation"),
            both(stopped, host_up(3)))
    check_keel_fine(r)
    assert r.has(r"keel: partition t1 stopped: read of guest-physical 0x40000000, outside its "
                 r"memory"), "no report of the forbidden read"
    assert r.has(r"^\[cpu3\]   vcpu 0: rip [0-9a-f]+"), "no register dump"
    assert not r.has(r"guest-test: FAIL isolation"), "the read returned to the guest"
    assert r.has(host_up(3).pattern), "the host did not keep running"


@case
def partition_triple_fault_stops_only_it(work):
    stopped = re.compile(r"keel: partition t1 stopped;")
    r = run(work, HOST + raw_partition("t1", "triple_fault"), images("triple_fault"),
            both(stopped, host_up(3)))
    check_keel_fine(r)
    assert r.has(r"keel: partition t1 stopped: triple fault on vcpu 0"), "no triple-fault report"
    assert not r.has(r"guest-test: FAIL"), "the guest survived its triple fault"
    assert r.has(host_up(3).pattern), "the host did not keep running"


@case
def partition_missing_image_is_skipped(work):
    mods = images()
    r = run(work, HOST + raw_partition("t1", "nothere"), mods, both(host_up(4)))
    check_keel_fine(r)
    assert r.has(r"keel: error: keel.cfg:\d+: partition t1: image 'nothere.bin' was not loaded; "
                 r"the partition is skipped"), "no clear error for the missing image"
    assert r.has(host_up(4).pattern), "the host should get every CPU"


@case
def partition_config_error_stops_keel(work):
    cfg = HOST + raw_partition("t1", "hello", cpus="5-5")
    r = run(work, cfg, images("hello"), re.compile(r"keel: boot stopped"))
    assert r.has(r"keel: error: keel.cfg:\d+: .*CPU 5"), "no clear error naming CPU 5"
    assert r.has(r"keel: boot stopped") and not r.exited, "Keel did not stop cleanly"


def linux_partition(name, cpus="2", memory="256M", cmdline=""):
    return ("\n[partition %s]\ncpus = %s\nmemory = %s\nkernel = vmlinuz\ninitrd = initrd.img\n"
            "cmdline = \"console=ttyS0 panic=-1 no_timer_check %s\"\n" % (name, cpus, memory,
                                                                        cmdline))


def work_result(iters):
    """What tools/mkinitramfs's keel.test=work loop prints for each worker."""
    s = 0
    for j in range(1, iters + 1):
        s = (s + j * j) % 1000003
    return s


def output_of(log, who):
    """A partition's console output as one string, its lines joined without separators, and
    where each line began in it and in the log. Keel ends a written-through (focused)
    partition's unfinished line when another partition's line must be printed (hv/console.c),
    so one of its lines may come in pieces; joined, the pieces are whole again."""
    text, starts = "", []
    for m in re.finditer(r"^\[%s\] (.*)$" % re.escape(who), log, re.M):
        starts.append((len(text), m.start()))
        text += m.group(1)
    return text, starts


class OutputHas:
    """A done-condition for run(): who's joined output (output_of()) holds needle."""

    def __init__(self, who, needle):
        self.who, self.needle = who, needle

    def search(self, text):
        return self.needle in output_of(text, self.who)[0]


def output_pos(log, who, needle):
    """Where in the log the line holding needle (in who's joined output) began, or -1."""
    text, starts = output_of(log, who)
    i = text.find(needle)
    if i < 0:
        return -1
    return max(pos for off, pos in starts if off <= i)


# What a stock Debian kernel prints when it finds KVM's paravirtual ABI (arch/x86/kernel/kvm.c,
# kvmclock.c): every line must appear in the guest's log, prefixed with its name.
KVM_GUEST_LINES = [
    r"Hypervisor detected: KVM",
    r"kvm-clock: Using msrs 4b564d01 and 4b564d00",
    r"clocksource: Switched to clocksource kvm-clock",
    r"Booting paravirtualized kernel on KVM",
    r"kvm-guest: setup PV IPIs",
    r"kvm-guest: PV spinlocks enabled",
    r"kvm-guest: setup PV sched yield",
    r"kvm-guest: KVM setup pv remote TLB flush",
]


@case
def partition_debian_guest_beside_debian_host(work):
    """The headline: a stock Debian kernel in a 2-vCPU, 256 MiB partition sees KVM, uses its
    paravirtual features and computes on both its CPUs while the host computes on its own."""
    host_iters, guest_iters = 120000, 120000
    host = HOST.replace("no_timer_check", "no_timer_check keel.test=work keel.work=%d "
                        "keel.work_go=1" % host_iters)
    cfg = host + linux_partition("guest", cmdline="keel.test=work keel.work=%d keel.work_go=1" %
                                 guest_iters)
    gdone, hdone = OutputHas("guest", "keel-work: done"), OutputHas("host", "keel-work: done")
    # Both wait for "go" on the console: typed to the host, then (Ctrl-A three times) to the
    # guest, so their work starts within a moment of each other whichever booted first.
    typed = [
        (r"(?s)\[host\] keel-work: ready.*\[guest\] keel-work: ready|"
         r"\[guest\] keel-work: ready.*\[host\] keel-work: ready", b"go\n"),
        (r"^\[host\] keel-work: started", b"\x01\x01\x01"),
        (r"console input now goes to partition guest", b"go\n"),
        # The host gets the focus back: the guest's lines are then collected whole.
        (r"^\[guest\] keel-work: started", b"\x01\x01\x01"),
    ]
    r = run(work, cfg, images(), both(gdone, hdone), path="uefi", typed=typed)
    check_keel_fine(r)
    assert r.has(r"keel: partition guest: 2 vcpus on cpus 0xc"), "guest not on CPUs 2-3"
    for line in KVM_GUEST_LINES:
        assert r.has(r"^\[guest\] \[ *[0-9.]+\] " + line), "guest log lacks '%s'" % line
    assert r.has(r"^\[guest\] keel-host: userspace reached, 2 CPUs"), "guest nproc is not 2"
    assert r.has(r"^\[host\] keel-host: userspace reached, 2 CPUs"), "host nproc is not 2"
    assert not r.has(r"^\[guest\] .*(Oops|BUG:|Kernel panic|WARNING: CPU|cut here|"
                     r"XSAVE consistency)"), \
        "the guest kernel complained"
    for who, iters in (("guest", guest_iters), ("host", host_iters)):
        results = re.findall(r"keel-work: worker \d+ result (\d+)", output_of(r.log, who)[0])
        assert results == [str(work_result(iters))] * 2, \
            "%s: wrong or missing work results %s" % (who, results)
    # Both partitions were computing at the same time: each one's work started before the
    # other's ended.
    pos = {k: output_pos(r.log, w, "keel-work: " + e) for k, (w, e) in {
        "gs": ("guest", "started"), "gd": ("guest", "done"),
        "hs": ("host", "started"), "hd": ("host", "done")}.items()}
    assert -1 not in pos.values(), "work markers missing: %s" % pos
    assert pos["gs"] < pos["hd"] and pos["hs"] < pos["gd"], \
        "the host and the guest did not run their work at the same time"


HOTPLUG_RESULT = 658996  # tools/mkinitramfs's hotplug() work loop, 2000 iterations


@case
def partition_cpu_hotplug_in_host_and_guest(work):
    """Linux takes CPU 1 offline and starts it again (INIT, STARTUP, STARTUP), in the host and
    in a guest at the same time: both go through Keel's APIC emulation (the host's APIC stays
    emulated beside a guest), the vCPU goes back to the state after INIT and starts again at
    the STARTUP's vector, and work pinned to CPU 1 runs on it."""
    host = HOST.replace("no_timer_check", "no_timer_check keel.test=hotplug")
    cfg = host + linux_partition("guest", cmdline="keel.test=hotplug")
    done = [re.compile(r"^\[%s\] keel-host: (work result|work on cpu1 failed)" % who, re.M)
            for who in ("host", "guest")]
    r = run(work, cfg, images(), both(*done), path="grub")
    check_keel_fine(r)
    for who in ("host", "guest"):
        assert r.has(r"^\[%s\] keel-host: cpu1 offline, online 0$" % who), \
            "%s: CPU 1 did not go offline" % who
        assert r.has(r"^\[%s\] keel-host: cpu1 online again, online 0-1$" % who), \
            "%s: CPU 1 did not come back" % who
        assert r.has(r"^\[%s\] keel-host: work result %d on cpu 1$" % (who, HOTPLUG_RESULT)), \
            "%s: no work ran on CPU 1" % who
        # Started twice: at boot and after the hot-plug INIT.
        starts = re.findall(r"keel: partition %s: vcpu 1 started at 0x[0-9a-f]+ by STARTUP" % who,
                            r.log)
        assert len(starts) == 2, "%s: vcpu 1 started %d times, not 2" % (who, len(starts))
    assert not r.has(r"^\[guest\] .*(Oops|BUG:|Kernel panic|WARNING: CPU|cut here)"), \
        "the guest kernel complained"


@case
def partition_console_input_switches_with_ctrl_a(work):
    """What is typed on Keel's console goes to one partition at a time; Ctrl-A three times
    moves it from the host to the guest and back."""
    switch = b"\x01\x01\x01"
    typed = [
        (r"^\[host\] keel-host: userspace reached", b""),
        (r"^\[guest\] keel-host: userspace reached", switch),
        (r"console input now goes to partition guest", b"echo guest-$((6 * 7))-typed\n"),
        (r"^\[guest\] guest-42-typed", switch),
        (r"console input now goes to partition host", b"echo host-$((5 * 5))-typed\n"),
    ]
    cfg = HOST + linux_partition("guest", cpus="1", memory="128M")
    r = run(work, cfg, images(), both(re.compile(r"^\[host\] host-25-typed", re.M)),
            typed=typed)
    check_keel_fine(r)
    assert r.has(r"keel: console input now goes to partition guest"), "no switch to the guest"
    assert r.has(r"^\[guest\] guest-42-typed"), "the guest did not run what was typed for it"
    assert r.has(r"keel: console input now goes to partition host"), "no switch back"
    assert r.has(r"^\[host\] host-25-typed"), "the host did not run what was typed for it"
    assert not r.has(r"^\[host\] guest-42-typed"), "the host got the guest's input"
    assert not r.has(r"^\[guest\] host-25-typed"), "the guest got the host's input"
    assert not r.has(r"not found"), "a command line was garbled (Ctrl-A not swallowed?)"


@case
def partition_reboot_and_poweroff_touch_only_that_guest(work):
    """A guest's reboot restarts only it (from its images again); a guest's poweroff stops
    only it; the host and the other guest see nothing of either."""
    cfg = (HOST + linux_partition("rb", cpus="1", memory="128M", cmdline="keel.test=reboot") +
           linux_partition("off", cpus="1", memory="128M", cmdline="keel.test=poweroff"))
    again = re.compile(r"keel: partition rb restarted \(1\)(.|\n)*\[rb\] keel-host: userspace "
                       r"reached(.|\n)*\[rb\] keel-host: rebooting")
    off = re.compile(r"keel: partition off powered off")
    r = run(work, cfg, images(), both(again, off, host_up(2)))
    check_keel_fine(r)
    assert r.has(r"keel: partition rb: reset through (port 0xcf9|keyboard controller); "
                 r"restarting it"), "the guest's reboot was not seen as a reset"
    assert again.search(r.log), "the rebooted guest did not start again"
    assert off.search(r.log), "the guest's poweroff was not seen"
    assert not r.has(r"keel: partition (rb|off) stopped"), "a guest was stopped as faulty"
    assert r.has(host_up(2).pattern), "the host did not keep running"
    assert not r.exited, "the machine was reset or powered off"


@case
def partition_ipi_storm_reaches_nobody_else(work):
    """A partition sends NMI, INIT, STARTUP and fixed IPIs to every APIC ID by every means
    (xAPIC physical, logical, broadcast, shorthand; x2APIC; PV SEND_IPI) while the host boots:
    the host must not notice, and the partition itself carries on."""
    done = re.compile(r"^\[t1\] guest-test: done", re.M)
    r = run(work, HOST + raw_partition("t1", "ipi_isolation"), images("ipi_isolation"),
            both(done, host_up(3)))
    check_keel_fine(r)
    m = r.find(r"^\[t1\] guest-test: done (\d+) passed, (\d+) failed")
    assert m, "the payload did not finish"
    fails = re.findall(r"^\[t1\] guest-test: FAIL .*", r.log, re.M)
    assert int(m.group(2)) == 0, "IPI checks failed:\n" + "\n".join(fails)
    assert r.has(r"^\[t1\] guest-test: PASS ipi_x2apic_storm_survived"), "no x2APIC storm"
    assert r.has(host_up(3).pattern), "the host did not reach userspace on its 3 CPUs"
    assert not r.has(r"^\[host\] .*(NMI received|NMI:|Kernel panic|Oops|BUG:|WARNING: CPU)"), \
        "the host saw something of the storm"
    assert not r.has(r"keel: partition t1 stopped"), "the partition was stopped"
