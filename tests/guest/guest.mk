# Raw guest payloads (tests/guest/README.md): tests/guest/NAME.c becomes
# $(BUILD)/guest/NAME.bin, a flat image that Keel loads at 0x10000 and starts in
# real mode. Included by the top Makefile (BUILD, Q, CC, NASM, LD, OBJCOPY, WARN,
# GCC_INCLUDE).

GUEST_PAYLOADS := $(patsubst tests/guest/%.c,%,$(wildcard tests/guest/*.c))
GUEST_BINS := $(patsubst %,$(BUILD)/guest/%.bin,$(GUEST_PAYLOADS))

# The runtime, plus Keel's own vsnprintf and string functions (freestanding already).
GUEST_LIB_OBJS := $(BUILD)/guest/lib/entry.o $(BUILD)/guest/lib/runtime.o \
	$(BUILD)/guest/hv/printf.o $(BUILD)/guest/hv/string.o

# Small code model: the image and everything it touches in its own RAM sit below 2 GiB.
# No SSE (nothing sets up the FPU), no red zone (traps push onto the same stack).
GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
	-Iinclude -Itests/guest/lib -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer -fno-builtin \
	-fno-common -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
	--gc-sections -T tests/guest/lib/guest.ld

.PHONY: guest-payloads
guest-payloads: $(GUEST_BINS)
all: guest-payloads

$(BUILD)/guest/%.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/hv/%.o: hv/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/lib/%.o: tests/guest/lib/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf64 -MD $(@:.o=.d) $< -o $@

$(BUILD)/guest/%.elf: $(BUILD)/guest/%.o $(GUEST_LIB_OBJS) tests/guest/lib/guest.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(GUEST_LDFLAGS) -Map=$(@:.elf=.map) -o $@ $< $(GUEST_LIB_OBJS)

$(BUILD)/guest/%.bin: $(BUILD)/guest/%.elf
	@echo "  OBJCOPY $@"
	$(Q)$(OBJCOPY) -O binary $< $@

# Kept, not deleted as intermediates: the .elf files hold the symbols for reading a
# stopped partition's RIP, and the objects spare rebuilds.
.SECONDARY: $(GUEST_LIB_OBJS) $(patsubst %,$(BUILD)/guest/%.o,$(GUEST_PAYLOADS)) \
	$(patsubst %,$(BUILD)/guest/%.elf,$(GUEST_PAYLOADS))

-include $(GUEST_LIB_OBJS:.o=.d) $(patsubst %,$(BUILD)/guest/%.d,$(GUEST_PAYLOADS))
