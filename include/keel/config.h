/* SPDX-License-Identifier: MIT */
/*
 * keel.cfg: the human-edited configuration. The same parser runs in the
 * hypervisor core, in the UEFI loader (to learn which files to load) and in
 * the hosted validator tools/keel-cfgcheck. Format: docs/config.md.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <keel/types.h>

#define CONFIG_PATH_MAX 128
#define CONFIG_CMDLINE_MAX 1024
#define CONFIG_ERROR_MAX 256

#define CONFIG_MAX_PARTITIONS 8
#define CONFIG_NAME_MAX 32 /* a partition name: 1 to 31 of a-z, 0-9, '_', '-' */
/* Partitions name Keel CPUs 1 to 63 (bits of cpu_mask); CPU 0 runs the host. */
#define CONFIG_PARTITION_CPUS 64
#define CONFIG_MEMORY_MIN MiB		   /* a partition's memory: at least 1 MiB, */
#define CONFIG_MEMORY_MAX (1024 * GiB)	   /* at most 1 TiB, a multiple of 4 KiB */
#define CONFIG_HOST_MIN_RAM (256 * MiB)	   /* what partitions must leave to a host */
#define CONFIG_DEFAULT_LOAD_ADDRESS 0x7c00 /* where a raw image goes by default */
#define CONFIG_LOAD_ADDRESS_LIMIT 0x100000 /* raw images start below 1 MiB */
#define CONFIG_MODULES_MAX 8		   /* multiboot modules of one partition */
#define CONFIG_DEBUG_EXIT_PORT 0xf4	   /* the debug-exit device's default port */
#define CONFIG_DEBUG_EXIT_SIZE 4	   /* ports it decodes: PORT to PORT + 3 */

/* A file named by the config, and the config line that named it (for error messages). */
struct config_file {
	char path[CONFIG_PATH_MAX]; /* empty when not given */
	int line;		    /* 0 when not given */
};

struct config_console {
	uint16_t port; /* I/O port of the 16550 UART; 0 = no serial console */
	uint32_t baud;
};

struct config_host {
	/*
	 * false when keel.cfg has no [host] section, allowed only with at least
	 * one partition: CPU 0 then stays idle in Keel and only guests run.
	 */
	bool present;
	struct config_file kernel; /* required */
	struct config_file initrd; /* optional */
	char cmdline[CONFIG_CMDLINE_MAX];
};

enum config_partition_kind {
	CONFIG_PARTITION_LINUX,	    /* a bzImage, booted through the 64-bit boot protocol */
	CONFIG_PARTITION_RAW,	    /* a flat binary started in 16-bit real mode */
	CONFIG_PARTITION_MULTIBOOT, /* a multiboot v1 kernel (ELF32 or with load addresses) */
};

/* What a guest partition writes its console output to. */
enum config_console_kind {
	CONFIG_CONSOLE_SERIAL, /* an emulated 16550 UART at 0x3f8, and port 0xe9 */
	CONFIG_CONSOLE_DEBUG,  /* port 0xe9 only */
	CONFIG_CONSOLE_NONE,   /* neither: the output is dropped */
};

/* A [partition NAME] section: a guest with CPUs and memory of its own. */
struct config_partition {
	char name[CONFIG_NAME_MAX];
	int line; /* the [partition NAME] header line */
	/*
	 * cpus: a list sets cpu_mask (bit n = Keel CPU n, the n-th enabled CPU of
	 * the MADT; never bit 0) and nr_cpus to its weight. A count sets nr_cpus
	 * and leaves cpu_mask 0: config_assign_cpus() picks the CPUs.
	 */
	uint32_t nr_cpus;
	uint64_t cpu_mask;
	int cpus_line;
	uint64_t memory; /* bytes */
	int memory_line;
	enum config_partition_kind kind;
	struct config_file kernel,
		initrd;			  /* kernel: linux and multiboot, required; initrd: linux */
	struct config_file image;	  /* raw only; required */
	char cmdline[CONFIG_CMDLINE_MAX]; /* linux and multiboot */
	/* multiboot only: the modules, in order (each one's line is the modules line). */
	struct config_file modules[CONFIG_MODULES_MAX];
	uint32_t nr_modules;
	/* The debug-exit device's first port; 0: none. */
	uint16_t debug_exit_port;
	uint64_t load_address; /* raw only; below CONFIG_LOAD_ADDRESS_LIMIT */
	enum config_console_kind console;
	bool realtime;
};

/* CI mode ([keel] ci = yes): see docs/ci-test-kernels.md. */
struct config_ci {
	bool enabled;
	int line;	    /* the ci line; 0 when not given */
	uint16_t exit_port; /* the machine's isa-debug-exit port for the result; 0: none */
	uint32_t success;   /* the debug-exit value that means success */
};

struct keel_config {
	struct config_console console;
	struct config_ci ci;
	struct config_host host;
	uint32_t nr_partitions;
	struct config_partition partitions[CONFIG_MAX_PARTITIONS]; /* in file order */
};

struct config_error {
	int line; /* 1-based; 0 when the error is about the file as a whole */
	char msg[CONFIG_ERROR_MAX];
};

/*
 * Parse text (len bytes, need not be NUL-terminated) into cfg. Defaults are
 * applied first (console COM1 at 115200). Returns 0, or -EINVAL with *err
 * filled in at the first error. Everything the text alone decides is checked
 * here, partitions included (no two name the same CPU, none names CPU 0);
 * what depends on the machine is left to config_check_machine().
 */
int config_parse(const char *text, size_t len, struct keel_config *cfg, struct config_error *err);

/*
 * Check a parsed config against the machine: nr_cpus_online CPUs (Keel's
 * numbering, the boot CPU is 0) and free_ram_bytes of RAM for the host and
 * the partitions together. Fails, with the line of the partition's cpus or
 * memory key, when a CPU list names a CPU the machine lacks, when the
 * partitions ask for more CPUs than there are besides CPU 0, or for more
 * memory than free_ram_bytes less CONFIG_HOST_MIN_RAM (less nothing when
 * there is no [host]). Returns 0 or -EINVAL.
 */
int config_check_machine(const struct keel_config *cfg, uint32_t nr_cpus_online,
			 uint64_t free_ram_bytes, struct config_error *err);

/*
 * The CPUs of each partition on a machine with nr_cpus_online CPUs, into
 * masks_out[0 .. nr_partitions) (the rest are zeroed): a list as given; a
 * count takes the highest CPUs no list names, partitions in file order (the
 * first gets the highest). Fails like config_check_machine() when a list
 * names a missing CPU or the CPUs run out. Returns 0 or -EINVAL.
 */
int config_assign_cpus(const struct keel_config *cfg, uint32_t nr_cpus_online,
		       uint64_t masks_out[CONFIG_MAX_PARTITIONS], struct config_error *err);

/*
 * Parse a size as the memory key writes it ("256M", "1G", "512 KiB"): a
 * decimal number and a unit K, M, G or T (or KiB, MiB, GiB, TiB), powers of
 * 1024. No range check. Returns 0, -EINVAL (malformed) or -ERANGE (overflow).
 */
int config_parse_size(const char *s, size_t len, uint64_t *bytes);

/* Format "FILE:LINE: msg" (or "FILE: msg" for line 0) into buf. */
void config_format_error(char *buf, size_t size, const char *file, const struct config_error *err);

/*
 * A raw image starts in 16-bit real mode at its load address: CS:IP is
 * 0:addr below 64 KiB, else (addr >> 4):(addr & 0xf).
 */
static inline void config_raw_entry(uint64_t load_address, uint16_t *cs, uint16_t *ip)
{
	if (load_address < 0x10000) {
		*cs = 0;
		*ip = (uint16_t)load_address;
	} else {
		*cs = (uint16_t)(load_address >> 4);
		*ip = (uint16_t)(load_address & 0xf);
	}
}

#endif
