# keel.efi: the UEFI loader, a GNU-EFI application with build/keel.bin embedded.
# Included by the top Makefile (BUILD, Q, CC, LD, OBJCOPY, WARN, GCC_INCLUDE).
#
# KEEL_BIN is the core image to embed; point it elsewhere to test the loader
# with another image: make build/keel.efi KEEL_BIN=/tmp/fake/keel.bin

KEEL_BIN ?= $(BUILD)/keel.bin

EFI_INC := /usr/include/efi
EFI_LIBDIR := /usr/lib
EFI_CRT0 := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS := $(EFI_LIBDIR)/elf_x86_64_efi.lds

# GNU_EFI_USE_MS_ABI: firmware function pointers are declared ms_abi, so they are
# called directly (no uefi_call_wrapper). Nothing may use the red zone: firmware
# interrupt handlers run on the loader's stack.
EFI_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INCLUDE) \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -Iinclude \
	-fpic -fshort-wchar -mno-red-zone -maccumulate-outgoing-args -fno-stack-protector \
	-fno-strict-aliasing -fno-asynchronous-unwind-tables -fno-common \
	-DGNU_EFI_USE_MS_ABI -DGNU_EFI_USE_EXTERNAL_STDARG -MMD -MP
# -znocombreloc keeps the .rela.* sections that elf_x86_64_efi.lds collects into .rela;
# --no-undefined: a shared object would otherwise link with unresolved symbols.
EFI_LDFLAGS := -nostdlib -shared -Bsymbolic -znocombreloc --no-undefined -T $(EFI_LDS) \
	-L$(EFI_LIBDIR)
EFI_SECTIONS := .text .sdata .data .dynamic .dynsym .rel .rela .reloc

# The loader's own files, and the core's code it shares (keel.cfg parser, string
# functions, efi_mem_type_to_keel, boot_find_module).
EFI_SHARED_C ?= hv/config.c hv/strutil.c hv/string.c hv/printf.c hv/bootinfo.c \
	boot/multiboot2.c
EFI_C := $(wildcard boot/efi/*.c) $(EFI_SHARED_C)
EFI_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(EFI_C)) $(BUILD)/efi/boot/efi/payload.o

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  EFICC   $<"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# libefi defines memcpy and memset too, in the object that also holds
# InitializeLib. Keel's copies become weak here, so libefi's take over and
# the link has exactly one definition of each.
$(BUILD)/efi/hv/string.o: hv/string.c
	@mkdir -p $(dir $@)
	@echo "  EFICC   $<"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@
	$(Q)$(OBJCOPY) --weaken-symbol=memcpy --weaken-symbol=memset $@

$(BUILD)/efi/boot/efi/payload.o: boot/efi/payload.S $(KEEL_BIN)
	@mkdir -p $(dir $@)
	@echo "  EFIAS   $< ($(KEEL_BIN))"
	$(Q)$(CC) $(EFI_CFLAGS) -DKEEL_BIN='"$(KEEL_BIN)"' -c $< -o $@

# crt0 relocates the image (_relocate, libgnuefi) and calls efi_main.
$(BUILD)/keel.efi.so: $(EFI_OBJS) $(EFI_CRT0) $(EFI_LDS)
	@echo "  EFILD   $@"
	$(Q)$(LD) $(EFI_LDFLAGS) -o $@ $(EFI_CRT0) $(EFI_OBJS) -lgnuefi -lefi

$(BUILD)/keel.efi: $(BUILD)/keel.efi.so $(KEEL_BIN)
	@echo "  EFIAPP  $@"
	$(Q)$(OBJCOPY) $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 $< $@

-include $(EFI_OBJS:.o=.d)
