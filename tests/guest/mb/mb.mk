# mbtest, the multiboot v1 test kernel (tests/guest/mb/README.md), built twice:
#   $(BUILD)/mbtest/mbtest.elf       ELF32, header flags 0x3
#   $(BUILD)/mbtest/mbtest-flat.bin  flat binary, header with load addresses (0x10003)
# Included by the top Makefile (BUILD, Q, CC, NASM, LD, OBJCOPY, WARN, GCC_INCLUDE).
# Its own directory under $(BUILD): tests/guest/guest.mk's pattern rules build 64-bit code.

MBTEST_DIR := $(BUILD)/mbtest
MBTEST_CFLAGS := -m32 -march=i686 -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc \
	-isystem $(GCC_INCLUDE) -fno-pic -fno-pie -mgeneral-regs-only -fno-stack-protector \
	-fno-builtin -fno-common -fno-asynchronous-unwind-tables -fno-delete-null-pointer-checks \
	-MMD -MP
MBTEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T tests/guest/mb/link.ld
MBTEST_BINS := $(MBTEST_DIR)/mbtest.elf $(MBTEST_DIR)/mbtest-flat.bin

.PHONY: mbtest
mbtest: $(MBTEST_BINS)
all: mbtest

$(MBTEST_DIR)/main.o: tests/guest/mb/main.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (i386)"
	$(Q)$(CC) $(MBTEST_CFLAGS) -c $< -o $@

$(MBTEST_DIR)/entry.o: tests/guest/mb/entry.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf32 -MD $(@:.o=.d) $< -o $@

$(MBTEST_DIR)/entry-aout.o: tests/guest/mb/entry.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $< (a.out kludge)"
	$(Q)$(NASM) -f elf32 -DAOUT_KLUDGE -MD $(@:.o=.d) $< -o $@

$(MBTEST_DIR)/mbtest.elf: $(MBTEST_DIR)/entry.o $(MBTEST_DIR)/main.o tests/guest/mb/link.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(MBTEST_LDFLAGS) -Map=$(@:.elf=.map) -o $@ $(MBTEST_DIR)/entry.o \
		$(MBTEST_DIR)/main.o

$(MBTEST_DIR)/mbtest-flat.elf: $(MBTEST_DIR)/entry-aout.o $(MBTEST_DIR)/main.o \
		tests/guest/mb/link.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(MBTEST_LDFLAGS) -Map=$(@:.elf=.map) -o $@ $(MBTEST_DIR)/entry-aout.o \
		$(MBTEST_DIR)/main.o

$(MBTEST_DIR)/mbtest-flat.bin: $(MBTEST_DIR)/mbtest-flat.elf
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -O binary $< $@

-include $(MBTEST_DIR)/main.d $(MBTEST_DIR)/entry.d $(MBTEST_DIR)/entry-aout.d
