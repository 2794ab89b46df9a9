// SPDX-License-Identifier: MIT
/*
 * keel-probe: runs inside the host partition (static, from the test
 * initramfs) and prints what a user of the host can observe about Keel,
 * one "probe: ..." line per fact, for tests/integration/test_host.py:
 *   cpus      CPUs online, and a worker pinned to each one that ran there
 *   cpuid     the hypervisor bit, Keel's signature leaf, SVM and VMX hidden
 *   msr       EFER.SVME hidden; writes to VM_HSAVE_PA / VM_CR and reads of
 *             IA32_VMX_BASIC refused
 *   devmem    every reserved e820 range read through /dev/mem: no Keel data
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/*
 * One line, on the wire before the next action: the host's tty sends
 * asynchronously, and Keel's own lines (reporting what the probe does)
 * would otherwise end up in the middle of the probe's.
 */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
}

static void probe_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int ok = 0;

	say("probe: cpus online %ld\n", n);
	for (long cpu = 0; cpu < n; cpu++) {
		pid_t pid = fork();

		if (pid == 0) {
			cpu_set_t set;
			volatile uint64_t x = 0;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(2);
			for (int i = 0; i < 2000000; i++)
				x += i;
			_exit(sched_getcpu() == cpu ? 0 : 3);
		}
	}
	for (long i = 0; i < n; i++) {
		int st;

		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	say("probe: work ran on %d of %ld cpus\n", ok, n);
}

static void probe_cpuid(void)
{
	unsigned int a, b, c, d;
	char sig[13];

	__cpuid(1, a, b, c, d);
	say("probe: cpuid hypervisor bit %u\n", (c >> 31) & 1);
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	say("probe: cpuid signature '%s' max leaf 0x%x\n", sig, a);
	__cpuid(0x80000001, a, b, c, d);
	say("probe: cpuid svm %u\n", (c >> 2) & 1);
	__cpuid(1, a, b, c, d);
	say("probe: cpuid vmx %u\n", (c >> 5) & 1);
}

/* What a user sees: the "hypervisor" flag in each CPU's /proc/cpuinfo flags. */
static void probe_cpuinfo(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int cpus = 0, flagged = 0;

	if (!f) {
		say("probe: cpuinfo unavailable\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "flags", 5)) {
			cpus++;
			if (strstr(line, " hypervisor"))
				flagged++;
		}
	}
	fclose(f);
	say("probe: cpuinfo hypervisor flag on %d of %d cpus\n", flagged, cpus);
}

static void probe_msr(void)
{
	uint64_t efer = 0, v = 0x1000;
	int fd = open("/dev/cpu/0/msr", O_RDWR);

	if (fd < 0) {
		say("probe: msr unavailable (%s)\n", strerror(errno));
		return;
	}
	if (pread(fd, &efer, 8, 0xc0000080) == 8)
		say("probe: msr efer 0x%llx svme %llu\n", (unsigned long long)efer,
		    (unsigned long long)(efer >> 12) & 1);
	say("probe: msr write vm_hsave_pa %s\n",
	    pwrite(fd, &v, 8, 0xc0010117) == 8 ? "accepted" : "refused");
	v = 0;
	say("probe: msr write vm_cr %s\n",
	    pwrite(fd, &v, 8, 0xc0010114) == 8 ? "accepted" : "refused");
	/* IA32_VMX_BASIC: readable on every CPU with VMX, so a refusal is Keel's. */
	say("probe: msr read vmx_basic %s\n",
	    pread(fd, &v, 8, 0x480) == 8 ? "accepted" : "refused");
	efer &= ~(1ull << 12);
	say("probe: msr write efer %s\n",
	    pwrite(fd, &efer, 8, 0xc0000080) == 8 ? "accepted" : "refused");
	close(fd);
}

static int read_hex(const char *dir, const char *name, uint64_t *out)
{
	char path[512], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*out = strtoull(buf, NULL, 16);
	return 0;
}

/*
 * Keel's image starts with its magic and carries its banner; neither may be
 * readable. The needles are built at run time: as literals they would sit
 * in this program's own image, inside the initramfs module, which is
 * reserved memory too.
 */
static void needle(char *out, const char *rot13)
{
	for (; *rot13; rot13++, out++)
		*out = (*rot13 >= 'a' && *rot13 <= 'z')	  ? (char)('a' + (*rot13 - 'a' + 13) % 26)
		       : (*rot13 >= 'A' && *rot13 <= 'Z') ? (char)('A' + (*rot13 - 'A' + 13) % 26)
							  : *rot13;
	*out = 0;
}

static void probe_devmem(void)
{
	char magic[8], banner[32];
	DIR *d = opendir("/sys/firmware/memmap");
	int fd = open("/dev/mem", O_RDONLY);
	struct dirent *de;
	uint64_t scanned = 0, nonzero = 0, found = 0, ranges = 0;
	static char page[4096];

	needle(magic, "XRRY");
	needle(banner, "oner-zrgny ulcreivfbe");
	if (!d || fd < 0) {
		say("probe: devmem unavailable\n");
		return;
	}
	while ((de = readdir(d))) {
		char path[512], type[64] = "";
		uint64_t start, end;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/type", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(type, sizeof(type), f))
			type[0] = 0;
		fclose(f);
		if (strncmp(type, "Reserved", 8) || read_hex(de->d_name, "start", &start) ||
		    read_hex(de->d_name, "end", &end) || end - start > (256ull << 20))
			continue;
		ranges++;
		for (uint64_t pa = start & ~4095ull; pa < end; pa += 4096) {
			if (pread(fd, page, sizeof(page), pa) != sizeof(page))
				continue;
			scanned += sizeof(page);
			for (size_t i = 0; i < sizeof(page); i++)
				if (page[i]) {
					nonzero++;
					break;
				}
			if (!memcmp(page, magic, 4) ||
			    memmem(page, sizeof(page), banner, strlen(banner))) {
				say("probe: devmem Keel data at 0x%llx\n", (unsigned long long)pa);
				found++;
			}
		}
	}
	closedir(d);
	close(fd);
	say("probe: devmem scanned %llu KiB in %llu reserved ranges, %llu non-zero pages, "
	    "%llu pages with Keel data\n",
	    (unsigned long long)scanned / 1024, (unsigned long long)ranges,
	    (unsigned long long)nonzero, (unsigned long long)found);
}

/*
 * An exit Keel does not handle: string output to COM1's data port. Keel
 * must stop the host partition with a report and keep running itself.
 */
static void unhandled_exit(void)
{
	static const char bytes[] = "xyz";

	if (iopl(3)) {
		say("probe: iopl failed\n");
		return;
	}
	say("probe: doing string I/O on port 0x3f8\n");
	outsb(0x3f8, bytes, 3);
	say("probe: string I/O returned\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* one write per line: the kernel may print in between */
	if (argc > 1 && !strcmp(argv[1], "--unhandled-exit")) {
		unhandled_exit();
		return 0;
	}
	probe_cpus();
	probe_cpuid();
	probe_cpuinfo();
	probe_msr();
	probe_devmem();
	say("probe: done\n");
	return 0;
}
