/* SPDX-License-Identifier: MIT */
/*
 * Partitions: a set of CPUs and memory running one OS. The host partition
 * (Linux, owning the devices) is partition 0; guest partitions get CPUs and
 * memory of their own and see only emulated devices (docs/guest-platform.md).
 * A partition that faults is stopped with a report; the others and Keel keep
 * running.
 */
#ifndef KEEL_PARTITION_H
#define KEEL_PARTITION_H

#include <keel/types.h>
#include <keel/percpu.h>

#define PARTITION_NAME_MAX 32
#define MAX_PARTITIONS 9 /* the host and up to 8 guests */
#define PARTITION_RAM_RANGES 2
#define CONSOLE_RING_SIZE 4096
#define PARTITION_MODS_MAX 8 /* multiboot modules */

/*
 * A guest's physical address space: RAM from 0 (and above 4 GiB for what
 * does not fit below the device window), the device window at the top of
 * the low 4 GiB, and nothing else: any other access stops the partition.
 */
#define GUEST_LOW_RAM_MAX 0xc0000000ull	  /* 3 GiB */
#define GUEST_DEVICE_WINDOW 0xe0000000ull /* [3.5 GiB, 4 GiB): emulated devices, empty bus */
#define GUEST_LAPIC_BASE 0xfee00000ull
#define GUEST_IOAPIC_BASE 0xfec00000ull

struct vcpu;
struct boot_module;

enum partition_kind {
	PARTITION_HOST,
	PARTITION_LINUX,
	PARTITION_RAW,
	PARTITION_MULTIBOOT,
};

/* How a guest partition ended (for CI mode, hv/ci.c). */
enum partition_end {
	PARTITION_RUNNING,
	PARTITION_EXITED,      /* through its debug-exit port: exit_status is set */
	PARTITION_POWERED_OFF, /* ACPI S5 */
	PARTITION_FAILED,      /* stopped by Keel (a fault), or never started */
};

struct partition_ram {
	uint64_t gpa, hpa, size;
};

/* How a guest's first vCPU starts (set by hv/guests.c, applied by the arch). */
struct partition_entry {
	bool real_mode; /* raw images: 16-bit real mode at cs:ip */
	uint16_t cs, ip;
	/* Linux: the boot protocol's 64-bit entry, RSI = boot_params, Keel's page tables/GDT. */
	uint64_t rip, rsi, cr3, gdt;
	uint16_t gdt_limit;
	/* Multiboot v1: 32-bit protected mode, paging off, at rip with EAX/EBX as given. */
	bool prot32;
	uint32_t eax, ebx;
};

struct partition {
	char name[PARTITION_NAME_MAX];
	uint32_t id; /* 0: the host */
	enum partition_kind kind;
	uint32_t nr_vcpus;
	struct vcpu *vcpus[KEEL_MAX_CPUS];
	uint64_t cpu_mask; /* Keel CPU numbers (guests) */
	bool realtime;
	/* Guests: where console output goes (enum config_console_kind). */
	uint32_t console;
	/* Guest RAM: at most two ranges (below the device window, and above 4 GiB). */
	uint32_t nr_ram;
	struct partition_ram ram[PARTITION_RAM_RANGES];
	uint64_t mem_size;
	struct partition_entry entry;
	/* What it was loaded from, to load it again on a reset. */
	const struct boot_module *boot_image, *boot_initrd;
	const char *boot_cmdline;
	uint64_t boot_load_address;
	const struct boot_module *boot_mods[PARTITION_MODS_MAX]; /* multiboot modules */
	uint32_t boot_nr_mods;
	/* The debug-exit device's I/O port (0: none), and how the partition ended. */
	uint16_t debug_exit_port;
	volatile uint32_t end; /* enum partition_end */
	uint64_t exit_status;
	/* A reset in progress: its vCPUs meet, vCPU 0 reloads, then they go on. */
	volatile bool reset_pending;
	volatile uint32_t reset_arrived;
	volatile uint32_t reset_gen;
	uint32_t resets;
	int config_line; /* its [partition] line in keel.cfg */
	/* Set once, by whichever CPU stops the partition; read by all its vCPUs. */
	volatile bool stopped;
	/* The second-stage page tables (arch-specific, opaque here). */
	void *stage2;
	/* The emulated platform of a guest (arch-specific, opaque here). */
	void *platform;
	/* Bumped when the second-stage tables lose a mapping: vCPUs flush their TLBs. */
	volatile uint32_t stage2_gen;
	/* vCPUs that have left the wait-for-SIPI state. */
	volatile uint32_t nr_running;
	/* The last CONSOLE_RING_SIZE bytes of its console output (serial and port 0xE9). */
	char console_ring[CONSOLE_RING_SIZE];
	uint32_t console_head;
	/* The unfinished line of a partition without the console focus (hv/console.c). */
	char console_line[200];
	uint32_t console_line_len;
};

extern struct partition host_partition;
extern struct partition *partitions[MAX_PARTITIONS];
extern uint32_t nr_partitions;

/* Pointer to guest-physical [gpa, gpa+len) of a guest's RAM; NULL if not all RAM. */
void *partition_gpa_to_hva(struct partition *p, uint64_t gpa, uint64_t len);

/*
 * Stop partition p for the reason given (printed with the partition's name);
 * its other vCPUs stop at their next exit. The caller's vCPU stops too.
 */
void partition_stop(struct partition *p, const char *fmt, ...) __printf(2, 3);

/* The partition turned itself off (ACPI S5): stop it cleanly, without a report of a fault. */
void partition_power_off(struct partition *p);
/*
 * The partition wrote value to its debug-exit port: stop it cleanly with
 * status (value << 1) | 1, as QEMU's isa-debug-exit does.
 */
void partition_exit(struct partition *p, uint32_t value);
/* The partition asked for a reset (why: through which register): restart only it. */
void partition_request_reset(struct partition *p, const char *why);
/*
 * Called by each of p's vCPUs at an exit while p->reset_pending: the vCPUs
 * meet here, vCPU 0 reloads p and resets them, then all go on (vCPU 0 at the
 * entry, the others waiting for STARTUP).
 */
void partition_reset_rendezvous(struct partition *p, uint32_t vcpu_id);

/*
 * Console output from a partition's serial port, one byte at a time
 * (hv/console.c): the partition with the console focus (the host) writes
 * through; the others are printed a whole line at a time.
 */
void console_partition_putc(struct partition *p, char c);
/* Print what is left of p's unfinished line (it stopped). */
void console_partition_flush(struct partition *p);

#endif
