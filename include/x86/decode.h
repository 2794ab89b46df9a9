/* SPDX-License-Identifier: MIT */
/*
 * Decoding the guest instruction behind an MMIO exit (nested page fault on
 * an emulated or protected page): just enough of x86 for the moves that
 * drivers and the APIC code use. Hosted-testable; no state.
 */
#ifndef X86_DECODE_H
#define X86_DECODE_H

#include <keel/types.h>

enum mmio_op {
	MMIO_WRITE_REG, /* memory <- register (mov m, r) */
	MMIO_WRITE_IMM, /* memory <- immediate (mov m, imm) */
	MMIO_READ,	/* register <- memory (mov r, m / movzx) */
};

struct mmio_insn {
	enum mmio_op op;
	uint8_t length; /* instruction bytes, prefixes included: RIP advances by this */
	uint8_t size;	/* access size in bytes: 1, 2, 4 or 8 */
	uint8_t reg; /* GPR number 0..15 in the x86 encoding order (rax, rcx, rdx, rbx, rsp, ...) */
	bool zero_extend; /* MMIO_READ: zero-extend into the full register (movzx, or 32-bit dest) */
	bool high_byte;	  /* 8-bit access to ah/ch/dh/bh (no REX, reg 4..7) */
	uint64_t imm;	  /* MMIO_WRITE_IMM */
};

/*
 * Decode bytes[0..len) (the guest's instruction at RIP; len up to 15) for
 * a 64-bit (long_mode) or 32-bit protected-mode guest. Supported: 88 89 8A
 * 8B C6 C7 (mov), 0F B6 / 0F B7 (movzx), A1/A3 (mov moffs), with prefixes
 * 66, 67, F0(lock: ignored), 2E 3E 26 36 64 65 (segments: ignored), REX.
 * Returns 0, -EINVAL (not a supported instruction), -EAGAIN (len too
 * short: fetch more bytes).
 */
int x86_decode_mmio(const uint8_t *bytes, size_t len, bool long_mode, struct mmio_insn *out);

/*
 * Apply a decoded MMIO read to a GPR value following x86 rules: 32-bit
 * destination writes zero the upper half; 8/16-bit destinations merge
 * (unless zero_extend); high_byte writes bits 8..15.
 */
uint64_t x86_mmio_merge(const struct mmio_insn *insn, uint64_t old, uint64_t value);

#endif
