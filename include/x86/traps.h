/* SPDX-License-Identifier: MIT */
#ifndef X86_TRAPS_H
#define X86_TRAPS_H

#include <keel/types.h>

/* What arch/x86/isr.asm leaves on the stack; the CPU's frame (SDM Vol. 3A 6.14.1) at the end. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_handler(struct trap_frame *f);
void traps_init(void);
void print_stack_trace(uint64_t rbp);

#endif
