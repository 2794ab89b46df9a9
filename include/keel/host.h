/* SPDX-License-Identifier: MIT */
#ifndef KEEL_HOST_H
#define KEEL_HOST_H

#include <keel/bootinfo.h>
#include <keel/config.h>

/*
 * Boot the host partition: Linux from the config's kernel/initrd modules,
 * in all of the machine's memory that Keel does not keep. Does not return
 * on success; on failure prints why (keel.cfg:LINE: ...) and stops Keel.
 */
__noreturn void host_boot(const struct keel_config *cfg, const struct boot_info *bi, uint64_t rsdp);

#endif
