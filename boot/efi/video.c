// SPDX-License-Identifier: MIT
/*
 * The framebuffer, from the Graphics Output Protocol (UEFI 2.10 section
 * 12.9). The current mode is kept: the firmware console already uses it.
 */
#include "loader.h"
#include <keel/string.h>

/* Position and width of a colour's bits; the masks are contiguous runs of bits. */
static void mask_pos(uint32_t mask, uint8_t *pos, uint8_t *size)
{
	*pos = 0;
	*size = 0;
	if (!mask)
		return;
	*pos = (uint8_t)__builtin_ctz(mask);
	for (mask >>= *pos; mask & 1; mask >>= 1)
		(*size)++;
}

/* Fill fb from one GOP; false if it has no linear framebuffer (PixelBltOnly). */
static bool fb_from_gop(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, struct boot_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	EFI_PIXEL_BITMASK *m;
	uint32_t all;

	if (!gop->Mode || !gop->Mode->Info || !gop->Mode->FrameBufferBase)
		return false;
	info = gop->Mode->Info;
	memset(fb, 0, sizeof(*fb));
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor: /* byte 0 is red */
		fb->bpp = 32;
		fb->red_pos = 0;
		fb->green_pos = 8;
		fb->blue_pos = 16;
		fb->red_size = fb->green_size = fb->blue_size = 8;
		break;
	case PixelBlueGreenRedReserved8BitPerColor: /* byte 0 is blue */
		fb->bpp = 32;
		fb->red_pos = 16;
		fb->green_pos = 8;
		fb->blue_pos = 0;
		fb->red_size = fb->green_size = fb->blue_size = 8;
		break;
	case PixelBitMask:
		m = &info->PixelInformation;
		mask_pos(m->RedMask, &fb->red_pos, &fb->red_size);
		mask_pos(m->GreenMask, &fb->green_pos, &fb->green_size);
		mask_pos(m->BlueMask, &fb->blue_pos, &fb->blue_size);
		/* The pixel is as wide as its highest mask bit, in whole bytes. */
		all = m->RedMask | m->GreenMask | m->BlueMask | m->ReservedMask;
		if (!all)
			return false;
		fb->bpp = (uint8_t)ALIGN_UP(32 - __builtin_clz(all), 8);
		break;
	default:
		return false;
	}
	fb->base = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->pitch = info->PixelsPerScanLine * (fb->bpp / 8);
	return true;
}

/*
 * Several GOPs may exist (one per display adapter, and a virtual one from
 * the console splitter without a framebuffer); prefer one on a handle that
 * is also a text console, as that is the screen the user is looking at.
 */
void video_fill(struct boot_framebuffer *fb)
{
	EFI_HANDLE *handles = NULL;
	UINTN count = 0, i;
	struct boot_framebuffer cand;
	bool found = false;
	void *conout;

	if (EFI_ERROR(BS->LocateHandleBuffer(ByProtocol, &gEfiGraphicsOutputProtocolGuid, NULL,
					     &count, &handles)))
		count = 0;
	for (i = 0; i < count; i++) {
		EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;

		if (EFI_ERROR(BS->HandleProtocol(handles[i], &gEfiGraphicsOutputProtocolGuid,
						 (void **)&gop)) ||
		    !fb_from_gop(gop, &cand))
			continue;
		if (!found)
			*fb = cand;
		found = true;
		if (!EFI_ERROR(BS->HandleProtocol(handles[i], &gEfiSimpleTextOutProtocolGuid,
						  &conout))) {
			*fb = cand;
			break;
		}
	}
	if (handles)
		FreePool(handles);
	if (found)
		say("framebuffer: %ux%u, %u bpp, pitch %u at 0x%lx", fb->width, fb->height, fb->bpp,
		    fb->pitch, (unsigned long)fb->base);
	else
		say("no framebuffer");
}
