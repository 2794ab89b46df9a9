; SPDX-License-Identifier: MIT
;
; void svm_enter_guest(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmsave_pa)
;
; VMRUN saves and restores only part of the host state (APM 15.5.1): FS,
; GS, TR, LDTR, KernelGSBase and the SYSCALL/SYSENTER MSRs are swapped with
; VMSAVE/VMLOAD, Keel's into its per-CPU page, the guest's into its VMCB.
; GIF is cleared around the switch so nothing interrupts it (15.17); Keel
; runs with RFLAGS.IF = 0, so interrupts stay pending for the guest.
; RAX and RSP are in the VMCB; the other GPRs in struct guest_regs
; (include/x86/vcpu.h, x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15).

bits 64
default rel

%define R_RCX 8
%define R_RDX 16
%define R_RBX 24
%define R_RBP 40
%define R_RSI 48
%define R_RDI 56
%define R_R8 64

section .text
global svm_enter_guest
svm_enter_guest:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; [rsp + 8]: regs
	push rdx			; [rsp]: host VMSAVE page

	clgi
	mov rax, rdx
	vmsave
	mov rax, rsi
	vmload

	mov rcx, [rdi + R_RCX]
	mov rdx, [rdi + R_RDX]
	mov rbx, [rdi + R_RBX]
	mov rbp, [rdi + R_RBP]
	mov rsi, [rdi + R_RSI]
	mov r8, [rdi + R_R8]
	mov r9, [rdi + R_R8 + 8]
	mov r10, [rdi + R_R8 + 16]
	mov r11, [rdi + R_R8 + 24]
	mov r12, [rdi + R_R8 + 32]
	mov r13, [rdi + R_R8 + 40]
	mov r14, [rdi + R_R8 + 48]
	mov r15, [rdi + R_R8 + 56]
	mov rdi, [rdi + R_RDI]

	vmrun				; RAX = VMCB physical address

	; #VMEXIT: RAX is the VMCB address again, the other GPRs are the guest's.
	vmsave
	push rdi
	mov rdi, [rsp + 16]		; regs
	mov [rdi + R_RCX], rcx
	mov [rdi + R_RDX], rdx
	mov [rdi + R_RBX], rbx
	mov [rdi + R_RBP], rbp
	mov [rdi + R_RSI], rsi
	mov [rdi + R_R8], r8
	mov [rdi + R_R8 + 8], r9
	mov [rdi + R_R8 + 16], r10
	mov [rdi + R_R8 + 24], r11
	mov [rdi + R_R8 + 32], r12
	mov [rdi + R_R8 + 40], r13
	mov [rdi + R_R8 + 48], r14
	mov [rdi + R_R8 + 56], r15
	pop qword [rdi + R_RDI]

	mov rax, [rsp]
	vmload
	stgi

	add rsp, 16
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
