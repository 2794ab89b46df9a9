// SPDX-License-Identifier: MIT
/*
 * linuxboot.efi: the "OVMF alone" side of the boot-cost figure (bench/run,
 * docs/performance.md). It stands in for a firmware boot entry with load
 * options (what efibootmgr would create): it loads \EFI\BOOT\vmlinuz from
 * its own volume, hands it the command line in \EFI\BOOT\cmdline.txt (ASCII,
 * e.g. "initrd=\EFI\BOOT\initrd.img console=ttyS0") as load options, and
 * starts it, so Linux boots through its own EFI stub, which reads the initrd.
 */
#include <efi.h>
#include <efilib.h>

#define KERNEL_PATH L"\\EFI\\BOOT\\vmlinuz"
#define CMDLINE_PATH L"\\EFI\\BOOT\\cmdline.txt"
#define CMDLINE_MAX 1024

static CHAR16 options[CMDLINE_MAX];

static EFI_STATUS read_cmdline(EFI_HANDLE device)
{
	EFI_FILE_HANDLE root, f;
	char buf[CMDLINE_MAX];
	UINTN size = sizeof(buf) - 1, i, n = 0;
	EFI_STATUS st;

	root = LibOpenRoot(device);
	if (!root)
		return EFI_NOT_FOUND;
	st = root->Open(root, &f, CMDLINE_PATH, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = f->Read(f, &size, buf);
	f->Close(f);
	if (EFI_ERROR(st))
		return st;
	for (i = 0; i < size && buf[i] != '\n' && buf[i] != '\r'; i++)
		options[n++] = (unsigned char)buf[i];
	options[n] = 0;
	return EFI_SUCCESS;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *self, *kernel_image;
	EFI_DEVICE_PATH *path;
	EFI_HANDLE kernel;
	EFI_STATUS st;

	InitializeLib(image, systab);
	st = BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&self);
	if (EFI_ERROR(st))
		goto fail;
	st = read_cmdline(self->DeviceHandle);
	if (EFI_ERROR(st))
		goto fail;
	path = FileDevicePath(self->DeviceHandle, KERNEL_PATH);
	st = path ? BS->LoadImage(FALSE, image, path, NULL, 0, &kernel) : EFI_OUT_OF_RESOURCES;
	if (EFI_ERROR(st))
		goto fail;
	st = BS->HandleProtocol(kernel, &gEfiLoadedImageProtocolGuid, (void **)&kernel_image);
	if (EFI_ERROR(st))
		goto fail;
	kernel_image->LoadOptions = options;
	kernel_image->LoadOptionsSize = (StrLen(options) + 1) * sizeof(CHAR16);
	Print(L"linuxboot.efi: starting %s %s\n", KERNEL_PATH, options);
	st = BS->StartImage(kernel, NULL, NULL);
fail:
	Print(L"linuxboot.efi: error %r\n", st);
	return st;
}
