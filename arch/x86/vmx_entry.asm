; SPDX-License-Identifier: MIT
;
; int vmx_enter_guest(struct guest_regs *regs, bool launched)
;
; Enters the guest of the current VMCS: VMLAUNCH the first time, VMRESUME
; after (SDM Vol. 3C 27.1; VMLAUNCH needs a clear VMCS, VMRESUME a
; launched one). The guest's GPRs come from struct guest_regs
; (include/x86/vcpu.h, x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi
; r8..r15); RSP and RIP live in the VMCS. Everything else the switch needs
; is in the VMCS host-state area, filled by arch/x86/vmx.c: the VM exit
; loads Keel's CR0/3/4, segments, GDTR/IDTR/TR, FS/GS bases, EFER and PAT
; and jumps to vmx_exit_stub with RSP = the value written below (28.5).
; RFLAGS is 0x2 after an exit (IF clear), as Keel runs.
;
; Returns 0 after a VM exit (including a VM-entry failure that exits with
; bit 31 of the exit reason set, 27.8), 1 for VMfailInvalid (CF) and 2 for
; VMfailValid (ZF; the VM-instruction error field says why, 31.4).

bits 64
default rel

%define R_RAX 0
%define R_RCX 8
%define R_RDX 16
%define R_RBX 24
%define R_RBP 40
%define R_RSI 48
%define R_RDI 56
%define R_R8 64

%define VMCS_HOST_RSP 0x6c14

section .text
global vmx_enter_guest
global vmx_exit_stub
vmx_enter_guest:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; [rsp]: regs, found again at the exit

	; The exit comes back on this stack, at this depth.
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp

	test sil, sil			; launched? (the flags survive the MOVs below)
	mov rax, rdi
	mov rcx, [rax + R_RCX]
	mov rdx, [rax + R_RDX]
	mov rbx, [rax + R_RBX]
	mov rbp, [rax + R_RBP]
	mov rsi, [rax + R_RSI]
	mov rdi, [rax + R_RDI]
	mov r8, [rax + R_R8]
	mov r9, [rax + R_R8 + 8]
	mov r10, [rax + R_R8 + 16]
	mov r11, [rax + R_R8 + 24]
	mov r12, [rax + R_R8 + 32]
	mov r13, [rax + R_R8 + 40]
	mov r14, [rax + R_R8 + 48]
	mov r15, [rax + R_R8 + 56]
	mov rax, [rax + R_RAX]
	jnz .resume
	vmlaunch
	jmp .fail
.resume:
	vmresume

.fail:
	; VMfail: nothing was entered; the flags still say which failure.
	mov eax, 1
	jc .out
	mov eax, 2
.out:
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; The VM exit: RSP as written above, every GPR but RSP the guest's.
vmx_exit_stub:
	push rax
	mov rax, [rsp + 8]		; regs
	mov [rax + R_RCX], rcx
	mov [rax + R_RDX], rdx
	mov [rax + R_RBX], rbx
	mov [rax + R_RBP], rbp
	mov [rax + R_RSI], rsi
	mov [rax + R_RDI], rdi
	mov [rax + R_R8], r8
	mov [rax + R_R8 + 8], r9
	mov [rax + R_R8 + 16], r10
	mov [rax + R_R8 + 24], r11
	mov [rax + R_R8 + 32], r12
	mov [rax + R_R8 + 40], r13
	mov [rax + R_R8 + 48], r14
	mov [rax + R_R8 + 56], r15
	pop qword [rax + R_RAX]
	xor eax, eax
	jmp vmx_enter_guest.out
