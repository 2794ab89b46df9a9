// SPDX-License-Identifier: MIT
/*
 * keel.cfg and the files it names become the boot modules. The loader
 * parses keel.cfg only to learn the file names; the core parses it again
 * and reports any error on its serial console, so both boot paths (UEFI
 * and multiboot2) behave the same.
 */
#include "loader.h"
#include <keel/config.h>
#include <keel/string.h>

#define CONFIG_NAME "keel.cfg"

static void add_module(struct boot_info *bi, const char *name, uint64_t base, uint64_t size)
{
	struct boot_module *m = &bi->modules[bi->nr_modules++];

	m->base = base;
	m->size = size;
	keel_strlcpy(m->name, name, sizeof(m->name));
}

/* Load one file named by keel.cfg; a missing one is skipped and the core reports it. */
static void load_named(struct loader *ld, const struct config_file *f)
{
	struct boot_info *bi = ld->bi;
	CHAR16 path[LOADER_PATH_MAX];
	uint64_t base, size;
	const char *what;
	EFI_STATUS st;

	if (!f->path[0])
		return;
	/* Several partitions may name one file (a test kernel run twice): load it once. */
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		if (strcmp(bi->modules[i].name, f->path) == 0)
			return;
	}
	if (bi->nr_modules == BOOT_MODULES_MAX) {
		warn(CONFIG_NAME ":%d: too many files, skipping %s", f->line, f->path);
		return;
	}
	if (!file_path(ld, f->path, path, ARRAY_SIZE(path))) {
		warn(CONFIG_NAME ":%d: path too long: %s", f->line, f->path);
		return;
	}
	st = file_load(ld, path, &base, &size, &what);
	if (EFI_ERROR(st)) {
		warn(CONFIG_NAME ":%d: cannot %s %s: %s", f->line, what, f->path, efi_strerror(st));
		return;
	}
	/* The name is the path exactly as written: the core looks it up with boot_find_module(). */
	add_module(bi, f->path, base, size);
	say("loaded %s: %lu bytes at 0x%lx", f->path, (unsigned long)size, (unsigned long)base);
}

void load_modules(struct loader *ld)
{
	static struct keel_config cfg;
	struct config_error err;
	CHAR16 path[LOADER_PATH_MAX];
	char name[LOADER_PATH_MAX], msg[CONFIG_ERROR_MAX + 64];
	uint64_t base, size;
	const char *what;
	EFI_STATUS st;

	if (!file_path(ld, CONFIG_NAME, path, ARRAY_SIZE(path)))
		fatal("path of " CONFIG_NAME " too long");
	ucs2_to_ascii(name, sizeof(name), path);
	st = file_load(ld, path, &base, &size, &what);
	if (EFI_ERROR(st))
		fatal("cannot %s %s: %s", what, name, efi_strerror(st));
	add_module(ld->bi, CONFIG_NAME, base, size);
	say("loaded %s: %lu bytes", name, (unsigned long)size);

	if (config_parse((const char *)base, size, &cfg, &err)) {
		config_format_error(msg, sizeof(msg), CONFIG_NAME, &err);
		say("%s", msg);
		say("loading no other files; the core reports this error and stops");
		return;
	}
	load_named(ld, &cfg.host.kernel);
	load_named(ld, &cfg.host.initrd);
	for (uint32_t i = 0; i < cfg.nr_partitions; i++) {
		load_named(ld, &cfg.partitions[i].kernel);
		load_named(ld, &cfg.partitions[i].initrd);
		load_named(ld, &cfg.partitions[i].image);
		for (uint32_t m = 0; m < cfg.partitions[i].nr_modules; m++)
			load_named(ld, &cfg.partitions[i].modules[m]);
	}
}
