; SPDX-License-Identifier: MIT
;
; AP start-up trampoline. The boot CPU copies [trampoline_start,
; trampoline_end) to a 4 KiB page below 1 MiB, fills the parameter block at
; its end (struct trampoline_params in arch/x86/smp.c) and sends INIT-SIPI-
; SIPI with that page as vector (Intel SDM Vol. 3A 9.4.4, AMD APM Vol. 2
; 15.27.8). The AP starts in real mode at CS:IP = page>>4 : 0.
;
; Everything here is addressed relative to the page: in real mode through
; CS-based offsets, afterwards through EBX = the page's linear address.

bits 16
section .rodata
align 16
global trampoline_start, trampoline_end, trampoline_params_offset
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4			; EBX = linear address of this page

	; Patch the GDT base and the two far-jump targets with our address.
	lea eax, [ebx + (tr_gdt - trampoline_start)]
	mov [tr_gdtr - trampoline_start + 2], eax
	lea eax, [ebx + (tr_pm32 - trampoline_start)]
	mov [tr_pm32_ptr - trampoline_start], eax
	lea eax, [ebx + (tr_lm64 - trampoline_start)]
	mov [tr_lm64_ptr - trampoline_start], eax

	lgdt [tr_gdtr - trampoline_start]
	mov eax, cr0
	or eax, 1			; PE
	mov cr0, eax
	jmp dword far [tr_pm32_ptr - trampoline_start]

bits 32
tr_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, 1 << 5			; PAE
	mov cr4, eax
	mov eax, [ebx + (tr_params - trampoline_start) + 0]	; cr3
	mov cr3, eax
	mov ecx, 0xc0000080		; IA32_EFER
	rdmsr
	or eax, [ebx + (tr_params - trampoline_start) + 4]	; EFER bits (LME, NXE)
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1	; PG, WP, PE
	mov cr0, eax
	jmp far [ebx + (tr_lm64_ptr - trampoline_start)]

bits 64
tr_lm64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, ebx
	mov rsp, [rax + (tr_params - trampoline_start) + 8]	; stack top
	mov rdi, [rax + (tr_params - trampoline_start) + 16]	; argument
	mov rcx, [rax + (tr_params - trampoline_start) + 24]	; entry (high address)
	xor ebp, ebp
	push 0				; fake return address: ends stack traces
	jmp rcx

align 8
tr_gdt:
	dq 0
	dq 0x00cf9a000000ffff		; 0x08: 32-bit code
	dq 0x00cf92000000ffff		; 0x10: data
	dq 0x00af9a000000ffff		; 0x18: 64-bit code
tr_gdt_end:
align 8
tr_gdtr:
	dw tr_gdt_end - tr_gdt - 1
	dd 0
align 8
tr_pm32_ptr:
	dd 0
	dw 0x08
align 8
tr_lm64_ptr:
	dd 0
	dw 0x18
align 16
tr_params:
	; struct trampoline_params: u32 cr3, u32 efer_bits, u64 stack_top, u64 arg, u64 entry
	times 32 db 0
trampoline_end:

trampoline_params_offset:
	dq tr_params - trampoline_start
