// SPDX-License-Identifier: MIT
/*
 * Progress and error messages on the firmware console (OVMF mirrors ConOut
 * to the serial port). Messages are formatted in ASCII with Keel's own
 * vsnprintf, so the format strings are checked by the compiler.
 */
#include "loader.h"
#include <keel/string.h>

#define LINE_MAX 320

/* EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL wants UCS-2 with CR LF line ends (UEFI 2.10 section 12.4). */
static void out(const char *s)
{
	CHAR16 buf[128];
	size_t n = 0;

	for (; *s; s++) {
		if (n + 3 > ARRAY_SIZE(buf)) {
			buf[n] = 0;
			ST->ConOut->OutputString(ST->ConOut, buf);
			n = 0;
		}
		if (*s == '\n')
			buf[n++] = L'\r';
		buf[n++] = (unsigned char)*s;
	}
	buf[n] = 0;
	ST->ConOut->OutputString(ST->ConOut, buf);
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char msg[LINE_MAX];
	size_t n;

	n = keel_strlcpy(msg, "keel.efi: ", sizeof(msg));
	n += keel_strlcpy(msg + n, prefix, sizeof(msg) - n);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	out(msg);
	out("\n");
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("warning: ", fmt, ap);
	va_end(ap);
}

static __noreturn void halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("error: ", fmt, ap);
	va_end(ap);
	out("keel: boot stopped\n");
	/*
	 * The boot manager arms a 5 minute watchdog before it starts a boot
	 * option (UEFI 2.10 section 3.1.2); stop it so that a stopped boot
	 * stays on screen instead of turning into a reset loop.
	 */
	BS->SetWatchdogTimer(0, 0, 0, NULL);
	halt();
}

void fatal_late(const char *fmt, ...)
{
	va_list ap;

	/*
	 * After a failed ExitBootServices only GetMemoryMap and
	 * ExitBootServices may be called (UEFI 2.10 section 7.4); ConOut
	 * usually still works, so this message is a best effort.
	 */
	va_start(ap, fmt);
	vline("error: ", fmt, ap);
	va_end(ap);
	out("keel: boot stopped\n");
	halt();
}

const char *efi_strerror(EFI_STATUS status)
{
	static char text[64];
	CHAR16 buf[64];

	/* gnu-efi's table of the spec's status names; unknown codes come out in hex. */
	StatusToString(buf, status);
	buf[ARRAY_SIZE(buf) - 1] = 0;
	ucs2_to_ascii(text, sizeof(text), buf);
	return text;
}

size_t ucs2_to_ascii(char *dst, size_t size, const CHAR16 *src)
{
	size_t n = 0;

	if (!size)
		return 0;
	for (; *src && n + 1 < size; src++)
		dst[n++] = (*src >= 0x20 && *src < 0x7f) ? (char)*src : '?';
	dst[n] = 0;
	return n;
}
