# make bench (bench/run): the programs the boot-cost runs need. Included by
# the top Makefile after boot/efi/efi.mk (EFI_CFLAGS, EFI_LDFLAGS, ...).
#
#   build/bench/linuxboot.efi  starts \EFI\BOOT\vmlinuz with load options (OVMF alone)
#   build/bench/init           the bench initramfs's /init: prints the TSC, powers off

.PHONY: bench-bins
bench-bins: $(BUILD)/bench/linuxboot.efi $(BUILD)/bench/init

$(BUILD)/bench/linuxboot.o: bench/linuxboot.c
	@mkdir -p $(dir $@)
	@echo "  EFICC   $<"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/bench/linuxboot.so: $(BUILD)/bench/linuxboot.o $(EFI_CRT0) $(EFI_LDS)
	@echo "  EFILD   $@"
	$(Q)$(LD) $(EFI_LDFLAGS) -o $@ $(EFI_CRT0) $< -lgnuefi -lefi

$(BUILD)/bench/linuxboot.efi: $(BUILD)/bench/linuxboot.so
	@echo "  EFIAPP  $@"
	$(Q)$(OBJCOPY) $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 $< $@

$(BUILD)/bench/init: bench/init.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@ (static, the bench initramfs's /init)"
	$(Q)$(HOSTCC) -static -O2 $(WARN) -o $@ $<

-include $(BUILD)/bench/linuxboot.d
