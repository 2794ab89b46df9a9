; SPDX-License-Identifier: MIT
;
; Multiboot2 header and 32-bit entry (Multiboot2 specification 2.0, 3.1).
;
; The header uses the address tag (3.1.5) rather than ELF loading, so GRUB
; copies the image bytes as one block, and the relocatable tag (3.1.12),
; so GRUB on UEFI can put us wherever firmware left room (2 MiB aligned,
; below 4 GiB). GRUB adjusts the entry address by the relocation itself.
;
; Machine state at entry (3.2): EAX = 0x36d76289, EBX = boot information
; (physical), protected mode, paging off, flat segments, no usable stack.
; This stub finds its own load address, builds an identity map of the low
; 4 GiB, enters long mode and jumps to keel_entry64 (arch/x86/head.asm).

%define MB2_MAGIC	0xe85250d6
%define MB2_ARCH_I386	0

extern __link_phys_start
extern __link_phys_load_end
extern __link_phys_bss_end
extern __link_phys_mb2_header
extern __link_phys_mb2_entry32
extern __mb2_entry32_offset
extern __entry64_offset
extern __mb2_pt_offset
extern __mb2_stack_top_offset

section .head.mb2 progbits alloc exec nowrite align=8
global keel_mb2_header
keel_mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - keel_mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - keel_mb2_header))

	; Address tag: load the file from the image start up to the end of .data.
	align 8
	dw 2, 0
	dd 24
	dd __link_phys_mb2_header	; header_addr
	dd __link_phys_start		; load_addr
	dd __link_phys_load_end		; load_end_addr
	dd __link_phys_bss_end		; bss_end_addr: GRUB zeroes .bss

	; Entry address tag.
	align 8
	dw 3, 0
	dd 12
	dd __link_phys_mb2_entry32

	; Relocatable tag: anywhere in [2 MiB, 4 GiB), 2 MiB aligned, low preferred.
	align 8
	dw 10, 0
	dd 24
	dd 0x200000			; min_addr
	dd 0xffffffff			; max_addr (end of the image)
	dd 0x200000			; align
	dd 1				; preference: low

	; Framebuffer tag (3.1.10), optional, no preferred mode: GRUB on UEFI then
	; hands over the GOP framebuffer instead of failing to find a text mode.
	align 8
	dw 5, 1
	dd 20
	dd 0, 0, 0

	; End tag.
	align 8
	dw 0, 0
	dd 8
mb2_header_end:

bits 32
global keel_mb2_entry32
keel_mb2_entry32:
	cli
	cld
	mov edi, eax			; loader magic
	mov esi, ebx			; boot information

	; Find where we run. There is no stack yet; the 'reserved' word of the
	; boot information (offset 4, unused by the spec) holds the return
	; address of this one call, and is cleared again right after.
	lea esp, [ebx + 8]
	call .here
.here:
	pop ebp
	mov dword [ebx + 4], 0
	sub ebp, .here - keel_mb2_entry32	; ebp = where keel_mb2_entry32 runs

	; A stack inside our own (zeroed) .bss.
	lea esp, [ebp + __mb2_stack_top_offset]

	; Zero and fill this stub's page tables: identity map 0..4 GiB with
	; 2 MiB pages. keel_entry64 builds its own tables; these only get it there.
	lea edx, [ebp + __mb2_pt_offset]
	push edi
	mov edi, edx
	mov ecx, (6 * 4096) / 4
	xor eax, eax
	rep stosd
	pop edi

	lea eax, [edx + 4096]		; PML4[0] -> PDPT
	or eax, 0x3
	mov [edx], eax
	lea ebx, [edx + 4096]		; PDPT
	lea eax, [edx + 2 * 4096]	; first of four PDs
	or eax, 0x3
	mov ecx, 4
.pdpt:
	mov [ebx], eax
	add ebx, 8
	add eax, 4096
	loop .pdpt
	lea ebx, [edx + 2 * 4096]
	mov eax, 0x83			; present, writable, 2 MiB
	mov ecx, 2048
.pd:
	mov [ebx], eax
	mov dword [ebx + 4], 0
	add ebx, 8
	add eax, 0x200000
	loop .pd

	; Long mode (Intel SDM Vol. 3A 10.8.5 / AMD APM Vol. 2 14.6):
	; PAE, CR3, EFER.LME, then CR0.PG.
	mov eax, cr4
	or eax, 1 << 5			; CR4.PAE
	mov cr4, eax
	mov cr3, edx
	mov ecx, 0xc0000080		; IA32_EFER
	rdmsr
	or eax, 1 << 8			; LME
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | 1		; PG, PE
	mov cr0, eax

	; Our GDT lives in the image: patch its base to where we run, load it,
	; and far-return into 64-bit code.
	lea eax, [ebp + mb2_gdt_off]
	mov [ebp + mb2_gdtr_off + 2], eax
	lgdt [ebp + mb2_gdtr_off]
	lea eax, [ebp + mb2_long_off]
	push 0x08
	push eax
	retf

bits 64
mb2_long:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	; RDI = loader magic and RSI = boot information, zero-extended.
	mov edi, edi
	mov esi, esi
	mov eax, ebp
	mov rbx, __mb2_entry32_offset
	sub rax, rbx			; image base
	mov rbx, __entry64_offset
	add rax, rbx
	jmp rax

align 8
mb2_gdt:
	dq 0
	dq 0x00af9a000000ffff		; 0x08: 64-bit code
	dq 0x00cf92000000ffff		; 0x10: data
mb2_gdt_end:
align 8
mb2_gdtr:
	dw mb2_gdt_end - mb2_gdt - 1
	dd 0				; base, patched at run time
	dd 0

; Offsets from keel_mb2_entry32, which EBP holds at run time.
mb2_gdt_off	equ mb2_gdt - keel_mb2_entry32
mb2_gdtr_off	equ mb2_gdtr - keel_mb2_entry32
mb2_long_off	equ mb2_long - keel_mb2_entry32

section .bss.mb2 nobits alloc noexec write align=4096
global mb2_page_tables, mb2_stack_top
mb2_page_tables:	resb 6 * 4096	; PML4, PDPT, 4 PDs
mb2_stack:		resb 1024
mb2_stack_top:
