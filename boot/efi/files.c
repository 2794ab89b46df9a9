// SPDX-License-Identifier: MIT
/*
 * Files on the volume keel.efi was loaded from: find keel.efi's own
 * directory and read whole files into pages below 4 GiB.
 */
#include "loader.h"
#include <keel/string.h>

/* Reads per Read() call: some firmware file systems misbehave on very large reads. */
#define READ_CHUNK (16 * MiB)

/* EFI_FILE_INFO with room for the longest FAT long name (255 characters and the NUL). */
#define FILE_INFO_MAX (offsetof(EFI_FILE_INFO, FileName) + 256 * sizeof(CHAR16))

static bool is_sep(CHAR16 c)
{
	return c == L'\\' || c == L'/';
}

/* Append c to out[*len], turning '/' into '\' and dropping doubled separators. */
static bool put_char(CHAR16 *out, size_t size, size_t *len, CHAR16 c)
{
	if (is_sep(c)) {
		c = L'\\';
		if (*len && out[*len - 1] == L'\\')
			return true;
	}
	if (*len + 1 >= size)
		return false;
	out[(*len)++] = c;
	out[*len] = 0;
	return true;
}

/*
 * LoadedImage->FilePath is the image's path relative to DeviceHandle: one
 * or more File Path Media Device Path nodes (UEFI 2.10 section 10.3.5.4)
 * whose PathNames concatenate to "\EFI\BOOT\BOOTX64.EFI". Nodes need not be
 * aligned, so the names are read byte by byte.
 */
static void image_dir(const EFI_DEVICE_PATH *dp, CHAR16 *out, size_t size)
{
	size_t len = 0, i, last_sep = 0;

	out[0] = 0;
	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		size_t node_len = DevicePathNodeLength(dp), name_len;
		const uint8_t *name = (const uint8_t *)dp + SIZE_OF_FILEPATH_DEVICE_PATH;

		if (node_len < SIZE_OF_FILEPATH_DEVICE_PATH)
			break;
		name_len = node_len - SIZE_OF_FILEPATH_DEVICE_PATH;
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
			continue;
		/* Each node is a path component (or several): join them with '\'. */
		put_char(out, size, &len, L'\\');
		for (i = 0; i + 2 <= name_len; i += 2) {
			CHAR16 c = name[i] | (CHAR16)(name[i + 1] << 8);

			if (!c || !put_char(out, size, &len, c))
				break;
		}
	}
	/* Keep everything before the last separator: "\EFI\BOOT" ("" for the root). */
	for (i = 0; i < len; i++)
		if (out[i] == L'\\')
			last_sep = i;
	out[last_sep] = 0;
}

void files_init(struct loader *ld, EFI_HANDLE image)
{
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	char dir[LOADER_PATH_MAX];
	EFI_STATUS st;

	ld->image = image;
	st = BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&ld->li);
	if (EFI_ERROR(st))
		fatal("no LoadedImage protocol: %s", efi_strerror(st));
	image_dir(ld->li->FilePath, ld->dir, ARRAY_SIZE(ld->dir));
	ucs2_to_ascii(dir, sizeof(dir), ld->dir);
	say("loaded from %s\\", dir);

	st = BS->HandleProtocol(ld->li->DeviceHandle, &gEfiSimpleFileSystemProtocolGuid,
				(void **)&fs);
	if (EFI_ERROR(st))
		fatal("the boot device has no file system: %s", efi_strerror(st));
	st = fs->OpenVolume(fs, &ld->root);
	if (EFI_ERROR(st))
		fatal("cannot open the boot volume: %s", efi_strerror(st));
}

bool file_path(const struct loader *ld, const char *name, CHAR16 *out, size_t size)
{
	size_t len = 0;
	const CHAR16 *d;

	out[0] = 0;
	/* Relative names are relative to keel.efi's directory. */
	if (!is_sep((unsigned char)name[0]))
		for (d = ld->dir; *d; d++)
			if (!put_char(out, size, &len, *d))
				return false;
	if (!put_char(out, size, &len, L'\\'))
		return false;
	for (; *name; name++)
		if (!put_char(out, size, &len, (unsigned char)*name))
			return false;
	return true;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE fh, uint8_t *buf, uint64_t size)
{
	uint64_t done = 0;
	EFI_STATUS st;

	while (done < size) {
		UINTN n = MIN(size - done, READ_CHUNK);

		st = fh->Read(fh, &n, buf + done);
		if (EFI_ERROR(st))
			return st;
		if (n == 0) /* shorter than its directory entry said */
			return EFI_END_OF_FILE;
		done += n;
	}
	return EFI_SUCCESS;
}

EFI_STATUS file_load(const struct loader *ld, const CHAR16 *path, uint64_t *base, uint64_t *size,
		     const char **what)
{
	static uint64_t info_buf[FILE_INFO_MAX / sizeof(uint64_t) + 1];
	EFI_FILE_INFO *info = (EFI_FILE_INFO *)info_buf;
	UINTN info_size = sizeof(info_buf);
	EFI_FILE_HANDLE fh;
	EFI_STATUS st;

	*what = "open";
	st = ld->root->Open(ld->root, &fh, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = fh->GetInfo(fh, &gEfiFileInfoGuid, &info_size, info);
	if (!EFI_ERROR(st) && (info->Attribute & EFI_FILE_DIRECTORY))
		st = EFI_UNSUPPORTED;
	if (EFI_ERROR(st))
		goto out;

	*what = "load";
	*size = info->FileSize;
	st = alloc_pages(EfiLoaderData, *size, LOADER_MAX_ADDR, base);
	if (EFI_ERROR(st))
		goto out;
	*what = "read";
	st = read_all(fh, (uint8_t *)*base, *size);
	if (EFI_ERROR(st))
		free_pages(*base, *size);
out:
	fh->Close(fh);
	return st;
}
