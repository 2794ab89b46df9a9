# Keel: a thin Type-1 hypervisor for x86-64.
#
#   make            build build/keel.elf (multiboot2), build/keel.efi (UEFI), tools
#   make run        boot Keel in QEMU+OVMF with the console on this terminal
#   make test       unit tests + integration boots (QEMU TCG, Bochs)
#   make check      format check, static analysis and unit tests (as CI does)
#   make bench      exit costs, boot cost and footprint under QEMU -icount (docs/performance.md)
#
# Missing Debian packages are installed by tools/ensure-deps (it says what it does).

BUILD ?= build
CACHE ?= .cache
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

CC := gcc
LD := ld
NASM := nasm
OBJCOPY := objcopy
HOSTCC := gcc

GCC_INCLUDE := $(shell $(CC) -print-file-name=include)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla

# The hypervisor core: freestanding, kernel code model, linked at 0xffffffff80000000.
CORE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
	-Iinclude -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-omit-frame-pointer -fno-builtin -fno-common \
	-fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -MMD -MP
CORE_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments --gc-sections \
	-T linker.ld
NASMFLAGS := -f elf64 -Iarch/x86/ -Iboot/

# Hosted (unit tests, tools).
HOST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -DKEEL_HOSTED
UNIT_CFLAGS := $(HOST_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all

# Core sources. Each area lists its files; hv/ is arch-neutral.
CORE_C := $(wildcard hv/*.c) $(wildcard hv/vdev/*.c) $(wildcard arch/x86/*.c) \
	$(wildcard drivers/*.c) \
	boot/multiboot2.c
CORE_ASM := boot/mb2_entry.asm $(wildcard arch/x86/*.asm)
CORE_OBJS := $(patsubst %.c,$(BUILD)/core/%.o,$(CORE_C)) \
	$(patsubst %.asm,$(BUILD)/core/%.o,$(CORE_ASM))

.PHONY: all clean distclean run test check format format-check static unit deps bench help
all: $(BUILD)/keel.elf $(BUILD)/keel.efi tools

help:
	@sed -n '3,10p' Makefile

$(BUILD)/core/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/core/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

# keel.elf is the multiboot2 image; keel.bin is the same image, flat, for the UEFI loader.
$(BUILD)/keel.elf: $(CORE_OBJS) linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(CORE_LDFLAGS) -Map=$(BUILD)/keel.map -o $@ $(CORE_OBJS)

$(BUILD)/keel.bin: $(BUILD)/keel.elf
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -O binary $< $@

-include boot/efi/efi.mk
-include tools/tools.mk
-include tests/unit/unit.mk
-include tests/guest/guest.mk
-include tests/guest/mb/mb.mk
-include bench/bench.mk

deps:
	$(Q)tools/ensure-deps

# Debian's stock kernel (cached in $(CACHE), kept by 'make clean') and the host's initramfs.
.PHONY: kernel
kernel:
	$(Q)tools/fetch-kernel >/dev/null

$(BUILD)/keel-probe: tests/host/keel-probe.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@ (static, runs in the host partition)"
	$(Q)$(HOSTCC) -static -O2 $(WARN) -o $@ $<

$(BUILD)/initramfs.cpio.gz: tools/mkinitramfs $(BUILD)/keel-probe | kernel
	@echo "  INITRD  $@ (busybox)"
	$(Q)tools/mkinitramfs $@ $(BUILD)/keel-probe $(CACHE)/kernel/msr.ko

run: all
	$(Q)tools/ensure-deps
	$(Q)$(MAKE) -s $(BUILD)/initramfs.cpio.gz
	$(Q)tests/integration/run-qemu

test: all unit-bins
	$(Q)tools/ensure-deps
	$(Q)$(MAKE) -s $(BUILD)/initramfs.cpio.gz
	$(Q)python3 tests/run.py

check: format-check static unit

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FORMAT_SRCS)

format-check:
	@echo "  FORMAT  checking $(words $(FORMAT_SRCS)) files against .clang-format"
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)

static:
	@echo "  CPPCHECK"
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--std=c11 --inline-suppr --suppress=missingIncludeSystem -Iinclude \
		hv arch drivers boot tools tests/unit tests/host

bench: all
	$(Q)tools/ensure-deps
	$(Q)$(MAKE) -s bench-bins
	$(Q)bench/run

clean:
	rm -rf $(BUILD)

# The download cache (.cache: Debian kernel, ...) survives 'make clean'.
distclean: clean
	rm -rf $(CACHE)

-include $(CORE_OBJS:.o=.d)
