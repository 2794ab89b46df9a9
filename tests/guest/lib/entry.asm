; SPDX-License-Identifier: MIT
;
; Entry of a raw guest payload (tests/guest/README.md). Keel starts a raw
; partition like a CPU after INIT, with no firmware: 16-bit real mode at
; CS:IP = 0x1000:0000, interrupts off, nothing set up in memory but the image.
; This file takes the CPU to 64-bit long mode on an identity map of the first
; 4 GiB and calls the C runtime. It also holds everything that has to be
; assembly: the interrupt stubs and the switch to ring 3 and back.
;
; The image is linked at LOAD_ADDR (tests/guest/lib/guest.ld); only the real-mode
; part below is position-independent, because it has to run before anything can
; check where the image landed.

%define LOAD_ADDR	0x10000

%define SEL_CODE32	0x08
%define SEL_DATA	0x10
%define SEL_CODE64	0x18
%define SEL_UDATA	0x20	; user selectors are ORed with RPL 3 when loaded
%define SEL_UCODE64	0x28

%define USER_RETURN_VECTOR 0x80	; must match guest.h

%define PTE_P		0x001
%define PTE_RW		0x002
%define PTE_US		0x004	; every page is user-accessible: ring-3 tests run C code
%define PTE_PWT		0x008
%define PTE_PCD		0x010
%define PTE_PS		0x080

extern guest_runtime_init
extern guest_main
extern guest_done
extern guest_trap
extern __bss_start
extern __bss_end

global _start
global gdt
global boot_stack_top
global isr_stubs
global user_return_entry
global user_call
global pml4

; ---------------------------------------------------------------------------
; 16-bit real mode, at offset 0 of the image.
section .text.entry progbits alloc exec nowrite align=16
bits 16
_start:
	cli
	cld
	; The image was built for CS = LOAD_ADDR >> 4. Anywhere else every
	; absolute address in it is wrong, so say so on port 0xE9 and stop.
	; Offsets from the start of the image are right wherever it is.
	mov ax, cs
	mov ds, ax
	cmp ax, LOAD_ADDR >> 4
	jne .wrong_place

	; DS = CS, so the GDT pointer's offset is its distance from the start.
	o32 lgdt [gdt_ptr - LOAD_ADDR]
	mov eax, cr0
	and eax, 0x9fffffff	; clear CD and NW: the INIT state has caching off
	or eax, 1		; PE
	mov cr0, eax
	jmp dword SEL_CODE32:pm32

.wrong_place:
	mov si, wrong_place_msg - LOAD_ADDR
	mov dx, 0xe9
.next:
	lodsb
	test al, al
	jz .stop
	out dx, al
	jmp .next
.stop:
	hlt
	jmp .stop

wrong_place_msg:
	db "guest-test: FAIL boot: image not started at CS:IP 1000:0000", 10
	db "guest-test: done 0 passed, 1 failed", 10, 0

; ---------------------------------------------------------------------------
; 32-bit protected mode: clear .bss, build the page tables, enter long mode.
bits 32
pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax

	; Nothing guarantees zeroed RAM without firmware, and the page tables
	; live in .bss, so clear it before building them.
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	mov esp, boot_stack_top

	; PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages.
	mov dword [pml4], pdpt + (PTE_P | PTE_RW | PTE_US)
	mov edi, pdpt
	mov eax, pd + (PTE_P | PTE_RW | PTE_US)
	mov ecx, 4
.pdpt_loop:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .pdpt_loop

	; 2048 2 MiB pages: GPA 0 to 4 GiB, identity. All of them are mapped,
	; including addresses a partition does not own, so that a test can touch
	; them on purpose (tests/guest/isolation.c).
	mov edi, pd
	mov eax, PTE_P | PTE_RW | PTE_US | PTE_PS
	xor ebx, ebx		; page index
.pd_loop:
	mov edx, eax
	; The device window [3.5 GiB, 4 GiB) holds the local APIC, the IOAPIC and
	; other MMIO: uncached, so every access reaches the device.
	cmp ebx, 1792
	jb .pd_store
	or edx, PTE_PCD | PTE_PWT
.pd_store:
	mov [edi], edx
	mov dword [edi + 4], 0
	add eax, 0x200000
	add edi, 8
	inc ebx
	cmp ebx, 2048
	jb .pd_loop

	mov eax, pml4
	mov cr3, eax
	mov eax, cr4
	or eax, 1 << 5		; PAE
	mov cr4, eax
	mov ecx, 0xc0000080	; EFER
	rdmsr
	or eax, 1 << 8		; LME
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | (1 << 5)	; PG, WP, NE
	mov cr0, eax
	jmp SEL_CODE64:lm64

; ---------------------------------------------------------------------------
; 64-bit long mode.
bits 64
lm64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp		; ends frame-pointer walks
	call guest_runtime_init
	call guest_main
	call guest_done		; does not return
.hang:
	cli
	hlt
	jmp .hang

; uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg)
; Runs fn(arg) at CPL 3 on the user stack and returns its result. The user
; side ends with INT USER_RETURN_VECTOR, whose gate (DPL 3) lands in
; user_return_entry on the TSS's RSP0 stack; that entry restores the stack
; saved here and returns to our caller as if fn had been called directly.
section .text
user_call:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [user_saved_rsp], rsp
	push SEL_UDATA | 3		; SS
	mov rax, user_stack_top
	push rax			; RSP
	push 0x2			; RFLAGS: IF = 0, IOPL = 0 (port I/O faults in ring 3)
	push SEL_UCODE64 | 3		; CS
	mov rax, user_trampoline
	push rax			; RIP
	mov ax, SEL_UDATA | 3
	mov ds, ax
	mov es, ax
	iretq

; Ring 3: rdi = fn, rsi = arg.
user_trampoline:
	mov rax, rdi
	mov rdi, rsi
	call rax
	int USER_RETURN_VECTOR
	ud2				; not reached

; Ring 0, on RSP0. rax = the user function's result.
user_return_entry:
	test byte [rsp + 8], 3		; CS of the interrupted code
	jz .not_from_user
	cmp qword [user_saved_rsp], 0
	je .not_from_user
	mov rsp, [user_saved_rsp]
	mov qword [user_saved_rsp], 0
	mov cx, SEL_DATA
	mov ds, cx
	mov es, cx
	mov ss, cx			; the CPU loaded a null SS on the way in
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
.not_from_user:
	; INT 0x80 from ring 0, or without user_call: an ordinary unexpected interrupt.
	push 0
	push USER_RETURN_VECTOR
	jmp isr_common

; ---------------------------------------------------------------------------
; Interrupt stubs: one per vector, so every report names its vector. Each
; makes the stack look the same (struct trap_frame in guest.h) whether or not
; the CPU pushed an error code (vectors 8, 10-14, 17, 21, 29, 30).
%assign v 0
%rep 256
isr_stub_ %+ v:
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
%else
	push 0
%endif
	push v
	jmp isr_common
%assign v v + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	; 15 registers + vector + error code + the CPU's 5 = 22 quadwords, and the
	; CPU aligned RSP to 16 before its pushes: the call below is aligned.
	mov rdi, rsp
	cld
	call guest_trap		; returns only if the fault was expected (fixup)
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16
	iretq

section .rodata
align 8
isr_stubs:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep

; ---------------------------------------------------------------------------
section .data
align 16
; Flat segments. The TSS descriptor (0x30, two slots) is filled in by
; guest_runtime_init, which knows the TSS address as a 64-bit value.
gdt:
	dq 0				; 0x00 null
	dq 0x00cf9a000000ffff		; 0x08 code, 32-bit, base 0, 4 GiB
	dq 0x00cf92000000ffff		; 0x10 data, base 0, 4 GiB
	dq 0x00af9a000000ffff		; 0x18 code, 64-bit
	dq 0x00cff2000000ffff		; 0x20 user data, DPL 3
	dq 0x00affa000000ffff		; 0x28 user code, 64-bit, DPL 3
	dq 0, 0				; 0x30 TSS
gdt_end:

gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

section .bss
align 4096
pml4:	resb 4096
pdpt:	resb 4096
pd:	resb 4 * 4096

align 16
boot_stack:	resb 16384
boot_stack_top:
user_stack:	resb 16384
user_stack_top:
user_saved_rsp:	resq 1
