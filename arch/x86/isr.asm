; SPDX-License-Identifier: MIT
;
; Exception entry stubs for Keel's own IDT. Each stub makes the stack look
; the same (a struct trap_frame, include/x86/traps.h) whether or not the CPU
; pushed an error code (Intel SDM Vol. 3A 6.13), then calls trap_handler.

bits 64
default rel
extern trap_handler

%macro ISR_NOERR 1
isr_%1:
	push 0
	push %1
	jmp isr_common
%endmacro
%macro ISR_ERR 1
isr_%1:
	push %1
	jmp isr_common
%endmacro

section .text
; Vectors that push an error code: 8, 10-14, 17, 21, 29, 30.
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31

; Keel's own interrupt vectors (include/x86/cpu.h): the local APIC timer
; that ends a guest's time slice or wakes a halted vCPU, the kick IPI other
; CPUs send to make this one look at its vCPU, and the spurious vector.
ISR_NOERR 0xed
ISR_NOERR 0xee
ISR_NOERR 0xff

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
	cld
	mov rdi, rsp
	; Align the stack for the C call; trap_handler does not return for
	; fatal vectors, but keep the path correct for ones that do.
	mov rbx, rsp
	and rsp, -16
	call trap_handler
	mov rsp, rbx
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
	add rsp, 16			; vector, error code
	iretq

section .rodata
align 8
global isr_table
isr_table:
%assign i 0
%rep 32
	dq isr_ %+ i
%assign i i + 1
%endrep
global isr_kick, isr_timer, isr_spurious
isr_kick:	dq isr_0xed
isr_timer:	dq isr_0xee
isr_spurious:	dq isr_0xff
