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
#define CONFIG_ERROR_MAX 192

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
	struct config_file kernel; /* required */
	struct config_file initrd; /* optional */
	char cmdline[CONFIG_CMDLINE_MAX];
};

struct keel_config {
	struct config_console console;
	struct config_host host;
};

struct config_error {
	int line; /* 1-based; 0 when the error is about the file as a whole */
	char msg[CONFIG_ERROR_MAX];
};

/*
 * Parse text (len bytes, need not be NUL-terminated) into cfg. Defaults are
 * applied first (console COM1 at 115200). Returns 0, or -EINVAL with *err
 * filled in at the first error.
 */
int config_parse(const char *text, size_t len, struct keel_config *cfg, struct config_error *err);

/* Format "FILE:LINE: msg" (or "FILE: msg" for line 0) into buf. */
void config_format_error(char *buf, size_t size, const char *file, const struct config_error *err);

#endif
