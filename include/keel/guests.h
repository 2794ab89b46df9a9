/* SPDX-License-Identifier: MIT */
/*
 * Guest partitions from keel.cfg (docs/guest-platform.md): their CPUs and
 * memory are taken away from the host before the host is built, then their
 * images are loaded and their entry prepared; the arch launches them.
 */
#ifndef KEEL_GUESTS_H
#define KEEL_GUESTS_H

#include <keel/bootinfo.h>
#include <keel/partition.h>

/*
 * A guest partition named name with the CPUs in cpu_mask and mem bytes of
 * RAM (reserved from Keel's memory map now). 0, or -ENOMEM/-E2BIG with a
 * message in err.
 */
int guest_partition_create(const char *name, int config_line, enum partition_kind kind,
			   uint64_t cpu_mask, uint64_t mem, bool realtime, struct partition **out,
			   char *err, size_t errlen);

/* A raw image at guest-physical load_address, started in real mode there. */
int guest_load_raw(struct partition *p, const struct boot_module *image, uint64_t load_address,
		   char *err, size_t errlen);

/* A Linux bzImage with its initrd and command line, on Keel's guest platform (ACPI, e820). */
int guest_load_linux(struct partition *p, const struct boot_module *kernel,
		     const struct boot_module *initrd, const char *cmdline, char *err,
		     size_t errlen);

/*
 * A multiboot v1 kernel with its modules (hv/multiboot1.c), entered in
 * 32-bit protected mode. Its command line is the kernel's name, a space and
 * cmdline (as GRUB and QEMU pass it); each module's string is its name.
 */
int guest_load_multiboot(struct partition *p, const struct boot_module *kernel, const char *cmdline,
			 const struct boot_module *const *mods, uint32_t nr_mods, char *err,
			 size_t errlen);

/* Load p again from the images it was started from (a reset): RAM cleared first. */
int guest_reload(struct partition *p, char *err, size_t errlen);

#endif
