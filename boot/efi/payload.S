/* SPDX-License-Identifier: MIT */
/*
 * The core image (build/keel.bin), embedded in keel.efi. core.c copies it
 * to its final place, so it needs no particular alignment here.
 */
	.section .rodata.keel_payload, "a"
	.balign 16
	.globl keel_payload, keel_payload_size
	.hidden keel_payload, keel_payload_size
keel_payload:
	.incbin KEEL_BIN
keel_payload_end:

	.balign 8
keel_payload_size:
	.quad keel_payload_end - keel_payload

	.section .note.GNU-stack, "", @progbits
