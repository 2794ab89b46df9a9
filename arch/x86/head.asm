; SPDX-License-Identifier: MIT
;
; The start of Keel's image: the header the UEFI loader reads, and
; keel_entry64, the 64-bit entry both boot paths converge on.
;
; keel_entry64 runs at the image's physical address with an identity map
; of at least the low 4 GiB (UEFI firmware's tables, or the multiboot2
; stub's), RDI = boot magic, RSI = boot info (physical). It maps the image
; at KEEL_VBASE, switches to Keel's boot GDT and stack and calls keel_main.

bits 64
default rel

%define KEEL_VBASE 0xffffffff80000000
%define BOOT_STACK_SIZE (16 * 1024)

extern __image_start
extern __entry64_offset
extern __load_size
extern __mem_size
extern keel_main

section .head progbits alloc exec nowrite align=16
global keel_image_header
keel_image_header:
	dd 0x4c45454b			; KEEL_IMAGE_MAGIC, see include/keel/bootinfo.h
	dd 1				; version
	dq __entry64_offset
	dq __load_size			; file_size
	dq __mem_size			; mem_size
	dq 0x200000			; align: the image is mapped with 2 MiB pages

section .head.text progbits alloc exec nowrite align=16
global keel_entry64
keel_entry64:
	cli
	cld
	mov r12, rdi			; boot magic
	mov r13, rsi			; boot info
	lea r14, [rel __image_start]	; physical base: we run identity-mapped

	; The image is mapped with 2 MiB pages, so its base must be 2 MiB aligned.
	test r14, 0x1fffff
	jnz .misaligned

	; Zero the boot page tables (the loader may not have cleared .bss yet).
	lea rdi, [rel boot_pt_start]
	mov rcx, (boot_pt_end - boot_pt_start) / 8
	xor eax, eax
	rep stosq

	; PML4[0] -> identity PDPT, PML4[511] -> high PDPT.
	lea rax, [rel boot_pdpt_low]
	or rax, 0x3			; present, writable
	mov [rel boot_pml4], rax
	lea rax, [rel boot_pdpt_high]
	or rax, 0x3
	mov [rel boot_pml4 + 511 * 8], rax

	; Identity map 0..4 GiB with 2 MiB pages: four page directories.
	lea rdi, [rel boot_pdpt_low]
	lea rax, [rel boot_pd_low]
	or rax, 0x3
	mov ecx, 4
.pdpt_low:
	mov [rdi], rax
	add rdi, 8
	add rax, 4096
	loop .pdpt_low

	lea rdi, [rel boot_pd_low]
	mov eax, 0x83			; present, writable, PS (2 MiB)
	mov ecx, 2048
.pd_low:
	mov [rdi], rax
	add rdi, 8
	add rax, 0x200000
	loop .pd_low

	; KEEL_VBASE (PML4 511, PDPT 510) -> the image, 2 MiB at a time.
	lea rax, [rel boot_pd_high]
	or rax, 0x3
	mov [rel boot_pdpt_high + 510 * 8], rax
	mov rcx, __mem_size
	add rcx, 0x1fffff
	shr rcx, 21
	lea rdi, [rel boot_pd_high]
	mov rax, r14
	or rax, 0x83
.pd_high:
	mov [rdi], rax
	add rdi, 8
	add rax, 0x200000
	loop .pd_high

	; Long mode is already on; paging stays 4-level (Keel never enables LA57).
	lea rax, [rel boot_pml4]
	mov cr3, rax

	mov rax, .high
	jmp rax
.high:
	lgdt [boot_gdtr]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	; Reload CS through a far return.
	push 0x08
	lea rax, [rel .cs_loaded]
	push rax
	retfq
.cs_loaded:
	xor ebp, ebp			; terminates stack traces
	mov rdi, r12
	mov rsi, r13
	mov rdx, r14
	call keel_main
.halt:
	cli
	hlt
	jmp .halt

.misaligned:
	; No console yet: report on COM1 directly, then stop.
	lea rsi, [rel misaligned_msg]
.msg_loop:
	lodsb
	test al, al
	jz .halt
	mov dx, 0x3fd
.wait_tx:
	in al, dx
	test al, 0x20
	jz .wait_tx
	mov al, [rsi - 1]
	mov dx, 0x3f8
	out dx, al
	jmp .msg_loop

misaligned_msg:
	db "keel: error: image not loaded at a 2 MiB boundary", 13, 10
	db "keel: boot stopped", 13, 10, 0

section .data
align 16
global boot_gdt
boot_gdt:
	dq 0				; null
	dq 0x00af9a000000ffff		; 0x08: 64-bit code, DPL 0
	dq 0x00cf92000000ffff		; 0x10: data, DPL 0
boot_gdt_end:
boot_gdtr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

section .bss nobits alloc noexec write align=4096
global boot_pml4
boot_pt_start:
boot_pml4:	resb 4096
boot_pdpt_low:	resb 4096
boot_pdpt_high:	resb 4096
boot_pd_high:	resb 4096
boot_pd_low:	resb 4 * 4096
boot_pt_end:
global boot_stack_top
boot_stack:	resb BOOT_STACK_SIZE
boot_stack_top:
