; SPDX-License-Identifier: MIT
; mbtest's entry (tests/guest/mb/README.md): the multiboot v1 header, the
; 32-bit entry Keel (or any multiboot loader) jumps to, and the real-mode
; AP trampoline that main.c copies to physical address 0, where a STARTUP
; IPI with vector 0 starts an AP (at 0000:0000).
;
; Built twice: as an ELF32 image (header flags 0x3), and with -DAOUT_KLUDGE
; as a flat binary whose header carries the load addresses (flags 0x10003).

MB_MAGIC	equ 0x1badb002
%ifdef AOUT_KLUDGE
MB_FLAGS	equ 0x00010003	; page-aligned modules, memory information, addresses
%else
MB_FLAGS	equ 0x00000003	; page-aligned modules, memory information
%endif

extern kmain, ap_main
extern __load_start, __load_end, __bss_end
global _start, ap_trampoline, ap_trampoline_end, gdt, ap_count

section .multiboot progbits alloc exec nowrite align=4
mb_header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)
%ifdef AOUT_KLUDGE
	dd mb_header		; header_addr
	dd __load_start		; load_addr
	dd __load_end		; load_end_addr
	dd __bss_end		; bss_end_addr
	dd _start		; entry_addr
%endif

section .text
bits 32
; EAX = 0x2BADB002, EBX = the multiboot information, protected mode, paging
; off, no usable GDT or stack: load ours before anything else.
_start:
	cli
	mov esp, boot_stack_top
	lgdt [gdt_desc]
	jmp 0x08:.flat
.flat:	mov cx, 0x10
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx
	push ebx
	push eax
	call kmain
.halt:	cli
	hlt
	jmp .halt

; An AP in 32-bit mode: take a number and a stack, run ap_main(number).
ap_entry32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov eax, 1
	lock xadd [ap_count], eax	; eax = this AP's number, from 0
	mov esp, eax
	inc esp
	shl esp, 12
	add esp, ap_stacks
	push eax
	call ap_main
.halt:	cli
	hlt
	jmp .halt

; Copied to physical 0 and run there by APs: only offsets from its start.
bits 16
ap_trampoline:
	cli
	xor ax, ax
	mov ds, ax
	o32 lgdt [gdt_desc_copy - ap_trampoline]
	mov eax, cr0
	and eax, 0x9fffffff		; caching on (INIT leaves CD and NW set)
	or eax, 1			; PE
	mov cr0, eax
	jmp dword 0x08:ap_entry32
gdt_desc_copy:
	dw gdt_end - gdt - 1
	dd gdt
ap_trampoline_end:

section .rodata
align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff		; 0x08: code, 4 GiB, 32-bit
	dq 0x00cf92000000ffff		; 0x10: data, 4 GiB
gdt_end:
gdt_desc:
	dw gdt_end - gdt - 1
	dd gdt

section .data
align 4
ap_count:
	dd 0

section .bss
alignb 4096
	resb 16384
boot_stack_top:
ap_stacks:
	resb 4096 * 16
