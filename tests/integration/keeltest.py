# SPDX-License-Identifier: MIT
"""Boot Keel in QEMU (TCG) and read what it printed on the serial port.

A boot is described by a Machine (CPUs, memory, firmware) and a Medium
(an ESP directory for keel.efi, or a GRUB ISO with keel.elf). boot() runs
QEMU until Keel prints one of its terminal lines, QEMU exits, or a timeout
passes, and returns the serial log with what happened.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"

# Lines after which Keel does nothing more (see hv/main.c, hv/console.c, arch/x86/traps.c).
TERMINAL = re.compile(r"keel: boot complete|keel: boot stopped|keel: cpu \d+ stopped|"
                      r"keel: PANIC")


def host_images():
    """{name: path} of Debian's stock kernel (fetched once, cached) and the busybox initramfs."""
    kernel = subprocess.run([os.path.join(ROOT, "tools", "fetch-kernel")], cwd=ROOT, check=True,
                            stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    initrd = os.path.join(BUILD, "initramfs.cpio.gz")
    # A make of its own (not the caller's jobserver): this runs inside 'make test' too.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    subprocess.run(["make", "-s", "-C", ROOT, "build/initramfs.cpio.gz"], check=True, env=env)
    return {"vmlinuz": os.path.join(ROOT, kernel), "initrd.img": initrd}


class BootResult:
    def __init__(self, log, exited, rc, elapsed, timed_out):
        self.log = log
        self.exited = exited          # QEMU exited by itself (reset with -no-reboot, poweroff)
        self.rc = rc
        self.elapsed = elapsed
        self.timed_out = timed_out

    def has(self, pattern):
        return re.search(pattern, self.log, re.M) is not None

    def find(self, pattern):
        m = re.search(pattern, self.log, re.M)
        return m


def write_esp(dirpath, cfg_text, files=None, efi_path="EFI/BOOT/BOOTX64.EFI"):
    """An ESP directory with keel.efi at efi_path and keel.cfg beside it."""
    if os.path.exists(dirpath):
        shutil.rmtree(dirpath)
    efi_dir = os.path.join(dirpath, os.path.dirname(efi_path))
    os.makedirs(efi_dir)
    shutil.copy(os.path.join(BUILD, "keel.efi"), os.path.join(dirpath, efi_path))
    if cfg_text is not None:
        with open(os.path.join(efi_dir, "keel.cfg"), "w") as f:
            f.write(cfg_text)
    for name, src in (files or {}).items():
        shutil.copy(src, os.path.join(efi_dir, name))
    return dirpath


def write_grub_iso(iso, workdir, cfg_text, modules=None, keel_cmdline="", extra_entries=""):
    """A GRUB rescue ISO (BIOS and UEFI) booting keel.elf with multiboot2.

    modules: {module string: source file}; keel.cfg is added as a module
    named 'keel.cfg' unless cfg_text is None.
    """
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(os.path.join(workdir, "boot", "grub"))
    shutil.copy(os.path.join(BUILD, "keel.elf"), os.path.join(workdir, "boot", "keel.elf"))
    lines = ["multiboot2 /boot/keel.elf %s" % keel_cmdline]
    if cfg_text is not None:
        with open(os.path.join(workdir, "boot", "keel.cfg"), "w") as f:
            f.write(cfg_text)
        lines.append("module2 /boot/keel.cfg keel.cfg")
    for name, src in (modules or {}).items():
        dst = os.path.join(workdir, "boot", os.path.basename(name))
        shutil.copy(src, dst)
        lines.append("module2 /boot/%s %s" % (os.path.basename(name), name))
    with open(os.path.join(workdir, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("set timeout=0\nset default=0\ninsmod all_video\n")
        f.write("menuentry \"Keel\" {\n  %s\n}\n" % "\n  ".join(lines))
        f.write(extra_entries)
    subprocess.run(["grub-mkrescue", "-o", iso, workdir], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def qemu_cmd(log, smp=4, mem="2G", firmware="ovmf", esp=None, iso=None, vars_copy=None,
             extra=(), serial_socket=None, monitor_socket=None):
    """serial_socket: a path for a UNIX socket carrying the serial port both ways (typed
    input); the output goes to log either way. monitor_socket: a UNIX socket for QEMU's
    human monitor (to read the CPUs' registers when a boot times out)."""
    if serial_socket:
        serial = ["-chardev", "socket,id=com1,path=%s,server=on,wait=off,logfile=%s" %
                  (serial_socket, log), "-serial", "chardev:com1"]
    else:
        serial = ["-serial", "file:" + log]
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", "EPYC,+svm",
           "-smp", str(smp), "-m", str(mem), "-display", "none", "-no-reboot", "-net", "none",
           "-monitor", ("unix:%s,server=on,wait=off" % monitor_socket) if monitor_socket
           else "none"] + serial
    if firmware == "ovmf":
        shutil.copy(OVMF_VARS, vars_copy)
        cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,file=" + vars_copy]
    if esp:
        cmd += ["-drive", "format=raw,file=fat:rw:" + esp]
    if iso:
        cmd += ["-cdrom", iso]
    return cmd + list(extra)


class Typist:
    """Types on the serial console: each step is (pattern, bytes); once pattern (a regex,
    re.M) is in the log, the bytes are sent, then the next step waits for its pattern."""

    def __init__(self, path, steps):
        self.path, self.steps, self.sock = path, list(steps), None

    def poll(self, text):
        if not self.steps:
            return
        if self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.path)
            except OSError:
                return
            self.sock = s
            # QEMU's output must not back up in the socket: read and drop it (the log has it).
            threading.Thread(target=self._drain, daemon=True).start()
        pattern, data = self.steps[0]
        if re.search(pattern, text, re.M):
            self.steps.pop(0)
            for b in data:  # one byte at a time, as typed: a burst could overrun the UART
                self.sock.sendall(bytes([b]))
                time.sleep(0.01)

    def _drain(self):
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def close(self):
        if self.sock:
            self.sock.close()


def boot(workdir, timeout=180, settle=1.0, until=TERMINAL, typed=None, **kw):
    """Run QEMU until until says so (a compiled regex matching the log, or a function of the
    log text; default: Keel's terminal lines), QEMU exits, or timeout; return a BootResult.
    typed: steps for a Typist, to type on the serial console."""
    log = os.path.join(workdir, "serial.log")
    if os.path.exists(log):
        os.remove(log)
    typist = None
    # Not in workdir: a UNIX socket's path must stay short (108 bytes).
    sockdir = tempfile.mkdtemp(prefix="keel-")
    kw["monitor_socket"] = os.path.join(sockdir, "monitor")
    if typed:
        sock = os.path.join(sockdir, "com1")
        kw["serial_socket"] = sock
        typist = Typist(sock, typed)
    cmd = qemu_cmd(log, vars_copy=os.path.join(workdir, "vars.fd"), **kw)
    with open(os.path.join(workdir, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(workdir, "qemu.err"), "w"))
    try:
        return wait_for(proc, log, start, until, settle, timeout, 0.2,
                        on_text=typist.poll if typist else None,
                        on_timeout=lambda: dump_cpus(kw["monitor_socket"],
                                                     os.path.join(workdir, "cpus-at-timeout.txt")))
    finally:
        if typist:
            typist.close()
        shutil.rmtree(sockdir, ignore_errors=True)


def dump_cpus(monitor, out):
    """Ask QEMU's monitor for every CPU's registers (where a hung boot is stuck) into out."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(monitor)
        s.sendall(b"info registers -a\n")
        data, end = b"", time.time() + 5
        while time.time() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if data.count(b"RIP=") >= 1 and data.rstrip().endswith(b"(qemu)") and \
                    data.count(b"(qemu)") >= 2:
                break
        s.close()
        with open(out, "wb") as f:
            f.write(data)
    except OSError as e:
        with open(out, "w") as f:
            f.write("could not read the CPUs from QEMU's monitor: %s\n" % e)


def wait_for(proc, log, start, until, settle, timeout, interval, on_text=None,
             on_timeout=None):
    """Watch an emulator (proc) writing the serial log until until says so (a compiled regex
    or a function of the log text) and settle seconds have passed, the emulator exits, or
    timeout (from start) passes; kill it if still running and return a BootResult.
    on_text(text) sees the log at every look; on_timeout() runs before the kill."""
    timed_out = False
    seen_end = None
    while True:
        rc = proc.poll()
        text = read_log(log)
        if rc is not None:
            break
        if on_text:
            on_text(text)
        done = until(text) if callable(until) else until.search(text)
        if seen_end is None and done:
            seen_end = time.time()
        if seen_end is not None and time.time() - seen_end >= settle:
            break
        if time.time() - start > timeout:
            timed_out = True
            if on_timeout:
                on_timeout()
            break
        time.sleep(interval)
    exited = proc.poll() is not None
    if not exited:
        proc.kill()
    proc.wait()
    return BootResult(read_log(log), exited, proc.returncode, time.time() - start, timed_out)


def read_log(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""
