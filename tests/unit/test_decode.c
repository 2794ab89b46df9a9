// SPDX-License-Identifier: MIT
/*
 * Unit tests for arch/x86/decode.c. The encodings were produced with GNU as
 * (--64 / --32, Intel syntax) and checked with objdump -d; the comment on
 * each row is the disassembly.
 */
#include "test.h"

#include <keel/types.h>
#include <keel/errno.h>
#include <x86/decode.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct row {
	const char *what;
	bool long_mode;
	uint8_t bytes[16];
	uint8_t len;
	/* Expected decode. */
	enum mmio_op op;
	uint8_t size;
	uint8_t reg;
	bool zero_extend;
	bool high_byte;
	uint64_t imm;
};

#define B(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct row good[] = {
	/* 64-bit mode */
	{ "mov [rax],ecx", true, B(0x89, 0x08), MMIO_WRITE_REG, 4, RCX, false, false, 0 },
	{ "mov ecx,[rip+0x1234]", true, B(0x8b, 0x0d, 0x34, 0x12, 0x00, 0x00), MMIO_READ, 4, RCX,
	  true, false, 0 },
	{ "mov dword [rbx+rcx*4+0x10],0x12345678", true,
	  B(0xc7, 0x44, 0x8b, 0x10, 0x78, 0x56, 0x34, 0x12), MMIO_WRITE_IMM, 4, 0, false, false,
	  0x12345678 },
	{ "mov byte [rdi],0x5", true, B(0xc6, 0x07, 0x05), MMIO_WRITE_IMM, 1, 0, false, false, 5 },
	{ "movzx eax,byte [rsi]", true, B(0x0f, 0xb6, 0x06), MMIO_READ, 1, RAX, true, false, 0 },
	{ "movzx eax,word [rsi+0x8]", true, B(0x0f, 0xb7, 0x46, 0x08), MMIO_READ, 2, RAX, true,
	  false, 0 },
	{ "mov ah,[rbx]", true, B(0x8a, 0x23), MMIO_READ, 1, RAX, false, true, 0 },
	{ "mov sil,[rbx]", true, B(0x40, 0x8a, 0x33), MMIO_READ, 1, RSI, false, false, 0 },
	{ "mov r9,[r10]", true, B(0x4d, 0x8b, 0x0a), MMIO_READ, 8, R9, false, false, 0 },
	{ "mov [r12+0x300],r13d", true, B(0x45, 0x89, 0xac, 0x24, 0x00, 0x03, 0x00, 0x00),
	  MMIO_WRITE_REG, 4, R13, false, false, 0 },
	{ "movabs rax,ds:0xfee00300", true,
	  B(0x48, 0xa1, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00), MMIO_READ, 8, RAX, false,
	  false, 0 },
	{ "movabs ds:0xfee00300,eax", true, B(0xa3, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00),
	  MMIO_WRITE_REG, 4, RAX, false, false, 0 },
	{ "addr32 mov eax,ds:0xfee00300", true, B(0x67, 0xa1, 0x00, 0x03, 0xe0, 0xfe), MMIO_READ, 4,
	  RAX, true, false, 0 },
	{ "addr32 mov rax,ds:0xfee00300", true, B(0x67, 0x48, 0xa1, 0x00, 0x03, 0xe0, 0xfe),
	  MMIO_READ, 8, RAX, false, false, 0 },
	{ "movabs ax,ds:0x0", true, B(0x66, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0), MMIO_READ, 2, RAX, false,
	  false, 0 },
	{ "movabs al,ds:0x807060504030201", true, B(0xa0, 1, 2, 3, 4, 5, 6, 7, 8), MMIO_READ, 1,
	  RAX, false, false, 0 },
	{ "movabs ds:0x807060504030201,al", true, B(0xa2, 1, 2, 3, 4, 5, 6, 7, 8), MMIO_WRITE_REG,
	  1, RAX, false, false, 0 },
	{ "mov word [rax],0x1234", true, B(0x66, 0xc7, 0x00, 0x34, 0x12), MMIO_WRITE_IMM, 2, 0,
	  false, false, 0x1234 },
	{ "mov qword [rax],-2", true, B(0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff), MMIO_WRITE_IMM,
	  8, 0, false, false, 0xfffffffffffffffeull },
	{ "mov qword [rip+0x100],0x11223344", true,
	  B(0x48, 0xc7, 0x05, 0x00, 0x01, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11), MMIO_WRITE_IMM, 8, 0,
	  false, false, 0x11223344 },
	{ "mov dword [rsp+0x12345678],0xdeadbeef", true,
	  B(0xc7, 0x84, 0x24, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde), MMIO_WRITE_IMM, 4, 0,
	  false, false, 0xdeadbeef },
	{ "mov byte [rip+0x100],0x7f", true, B(0xc6, 0x05, 0x00, 0x01, 0x00, 0x00, 0x7f),
	  MMIO_WRITE_IMM, 1, 0, false, false, 0x7f },
	{ "mov [rbp+0x0],bh", true, B(0x88, 0x7d, 0x00), MMIO_WRITE_REG, 1, RBX, false, true, 0 },
	{ "mov bh,[rbp+0x7f]", true, B(0x8a, 0x7d, 0x7f), MMIO_READ, 1, RBX, false, true, 0 },
	{ "mov [rax],spl", true, B(0x40, 0x88, 0x20), MMIO_WRITE_REG, 1, RSP, false, false, 0 },
	{ "mov [rax],r12b", true, B(0x44, 0x88, 0x20), MMIO_WRITE_REG, 1, R12, false, false, 0 },
	{ "mov [r12],spl", true, B(0x41, 0x88, 0x24, 0x24), MMIO_WRITE_REG, 1, RSP, false, false,
	  0 },
	{ "mov al,[rbx]", true, B(0x8a, 0x03), MMIO_READ, 1, RAX, false, false, 0 },
	{ "mov [r13+0x0],eax", true, B(0x41, 0x89, 0x45, 0x00), MMIO_WRITE_REG, 4, RAX, false,
	  false, 0 },
	{ "mov eax,[r12]", true, B(0x41, 0x8b, 0x04, 0x24), MMIO_READ, 4, RAX, true, false, 0 },
	{ "mov eax,[rsp+rax*8-0x80]", true, B(0x8b, 0x44, 0xc4, 0x80), MMIO_READ, 4, RAX, true,
	  false, 0 },
	{ "mov eax,ds:0x12345678 (SIB, no base)", true, B(0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12),
	  MMIO_READ, 4, RAX, true, false, 0 },
	{ "mov eax,[eax+0x10]", true, B(0x67, 0x8b, 0x40, 0x10), MMIO_READ, 4, RAX, true, false,
	  0 },
	{ "movzx r8,word [rdx]", true, B(0x4c, 0x0f, 0xb7, 0x02), MMIO_READ, 2, R8, true, false,
	  0 },
	{ "mov ax,[rcx]", true, B(0x66, 0x8b, 0x01), MMIO_READ, 2, RAX, false, false, 0 },
	{ "data16 mov rax,[rax] (REX.W beats 66)", true, B(0x66, 0x48, 0x8b, 0x00), MMIO_READ, 8,
	  RAX, false, false, 0 },
	{ "rex.W; mov ax,[rax] (REX before a prefix is ignored)", true, B(0x48, 0x66, 0x8b, 0x00),
	  MMIO_READ, 2, RAX, false, false, 0 },
	{ "rex; mov ah,[rax] (ignored REX: ah, not spl)", true, B(0x40, 0x66, 0x8a, 0x20),
	  MMIO_READ, 1, RAX, false, true, 0 },
	{ "mov eax,fs:[rax]", true, B(0x64, 0x8b, 0x00), MMIO_READ, 4, RAX, true, false, 0 },
	{ "cs ds es ss fs mov eax,gs:[rax]", true,
	  B(0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x8b, 0x00), MMIO_READ, 4, RAX, true, false, 0 },
	{ "lock mov [rax],eax", true, B(0xf0, 0x89, 0x00), MMIO_WRITE_REG, 4, RAX, false, false,
	  0 },
	{ "mov r15,[rax] (REX.RW)", true, B(0x4c, 0x8b, 0x38), MMIO_READ, 8, R15, false, false, 0 },
	/* 32-bit protected mode */
	{ "mov [ebx+0x300],eax", false, B(0x89, 0x83, 0x00, 0x03, 0x00, 0x00), MMIO_WRITE_REG, 4,
	  RAX, false, false, 0 },
	{ "mov eax,ds:0xfee00300 (modrm disp32)", false, B(0x8b, 0x05, 0x00, 0x03, 0xe0, 0xfe),
	  MMIO_READ, 4, RAX, true, false, 0 },
	{ "mov eax,ds:0xfee00300 (moffs)", false, B(0xa1, 0x00, 0x03, 0xe0, 0xfe), MMIO_READ, 4,
	  RAX, true, false, 0 },
	{ "mov ds:0xfee00300,eax", false, B(0xa3, 0x00, 0x03, 0xe0, 0xfe), MMIO_WRITE_REG, 4, RAX,
	  false, false, 0 },
	{ "addr16 mov eax,ds:0x1234", false, B(0x67, 0xa1, 0x34, 0x12), MMIO_READ, 4, RAX, true,
	  false, 0 },
	{ "mov ax,[ebx]", false, B(0x66, 0x8b, 0x03), MMIO_READ, 2, RAX, false, false, 0 },
	{ "mov word [esi+0x10],0xbeef", false, B(0x66, 0xc7, 0x46, 0x10, 0xef, 0xbe),
	  MMIO_WRITE_IMM, 2, 0, false, false, 0xbeef },
	{ "mov byte [ecx+edx*2+0x4],0x80", false, B(0xc6, 0x44, 0x51, 0x04, 0x80), MMIO_WRITE_IMM,
	  1, 0, false, false, 0x80 },
	{ "mov dword [ebp+0x8],0x11223344", false, B(0xc7, 0x45, 0x08, 0x44, 0x33, 0x22, 0x11),
	  MMIO_WRITE_IMM, 4, 0, false, false, 0x11223344 },
	{ "movzx ecx,byte [edi]", false, B(0x0f, 0xb6, 0x0f), MMIO_READ, 1, RCX, true, false, 0 },
	{ "movzx ax,word [ebx]", false, B(0x66, 0x0f, 0xb7, 0x03), MMIO_READ, 2, RAX, false, false,
	  0 },
	{ "mov dh,[eax]", false, B(0x8a, 0x30), MMIO_READ, 1, RDX, false, true, 0 },
	{ "mov eax,[bx+si]", false, B(0x67, 0x8b, 0x00), MMIO_READ, 4, RAX, true, false, 0 },
	{ "mov eax,ds:0x1234 (16-bit modrm)", false, B(0x67, 0x8b, 0x06, 0x34, 0x12), MMIO_READ, 4,
	  RAX, true, false, 0 },
	{ "mov eax,[si+0x12]", false, B(0x67, 0x8b, 0x44, 0x12), MMIO_READ, 4, RAX, true, false,
	  0 },
	{ "mov eax,[bx+di+0x1234]", false, B(0x67, 0x8b, 0x81, 0x34, 0x12), MMIO_READ, 4, RAX, true,
	  false, 0 },
	{ "mov eax,es:[edi]", false, B(0x26, 0x8b, 0x07), MMIO_READ, 4, RAX, true, false, 0 },
	{ "mov eax,[eiz*1+0xfee00300] (SIB, 32-bit)", false,
	  B(0x8b, 0x04, 0x25, 0x00, 0x03, 0xe0, 0xfe), MMIO_READ, 4, RAX, true, false, 0 },
};

static void check_row(const struct row *r)
{
	int before = test_failed_checks;
	struct mmio_insn insn;
	uint8_t buf[32];
	int ret;

	/* Trailing bytes after the instruction must not change the result. */
	memset(buf, 0x90, sizeof(buf));
	memcpy(buf, r->bytes, r->len);
	for (size_t avail = r->len; avail <= 15; avail++) {
		memset(&insn, 0xa5, sizeof(insn));
		ret = x86_decode_mmio(buf, avail, r->long_mode, &insn);
		if (ret != 0) {
			printf("  %s (avail %zu): ret %d\n", r->what, avail, ret);
			CHECK_EQ(ret, 0);
			return;
		}
		CHECK_EQ(insn.length, r->len);
		CHECK_EQ(insn.op, r->op);
		CHECK_EQ(insn.size, r->size);
		if (insn.op != MMIO_WRITE_IMM)
			CHECK_EQ(insn.reg, r->reg);
		CHECK_EQ(insn.zero_extend, r->zero_extend);
		CHECK_EQ(insn.high_byte, r->high_byte);
		if (insn.op == MMIO_WRITE_IMM)
			CHECK_EQ(insn.imm, r->imm);
		if (test_failed_checks != before) {
			printf("  in row \"%s\"\n", r->what);
			return;
		}
	}
	/* Every proper prefix is a truncated instruction. */
	for (size_t avail = 0; avail < r->len; avail++) {
		ret = x86_decode_mmio(buf, avail, r->long_mode, &insn);
		if (ret != -EAGAIN)
			printf("  %s (truncated to %zu): ret %d\n", r->what, avail, ret);
		CHECK_EQ(ret, -EAGAIN);
	}
}

TEST(decode_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		check_row(&good[i]);
}

struct bad {
	const char *what;
	bool long_mode;
	uint8_t bytes[16];
	uint8_t len;
	int ret;
};

static const struct bad bad[] = {
	{ "add [rax],eax", true, B(0x01, 0x00), -EINVAL },
	{ "mov eax,ecx", true, B(0x89, 0xc8), -EINVAL },
	{ "mov ecx,eax (8B form)", true, B(0x8b, 0xc8), -EINVAL },
	{ "mov byte al,imm (C6 mod=11)", true, B(0xc6, 0xc0, 0x05), -EINVAL },
	{ "C7 /1 with memory operand", true, B(0xc7, 0x08, 0, 0, 0, 0), -EINVAL },
	{ "movzx ax,byte [rax] (66 0F B6)", true, B(0x66, 0x0f, 0xb6, 0x00), -EINVAL },
	{ "movzx eax,eax-ish (0F B6 mod=11)", true, B(0x0f, 0xb6, 0xc0), -EINVAL },
	{ "0F 0B (ud2)", true, B(0x0f, 0x0b), -EINVAL },
	{ "inc eax (40 in 32-bit mode)", false, B(0x40, 0x8b, 0x00), -EINVAL },
	{ "rep prefix", true, B(0xf3, 0x8b, 0x00), -EINVAL },
	{ "movsd (A5)", true, B(0xa5), -EINVAL },
	{ "VEX (C5)", true, B(0xc5, 0xf8, 0x77), -EINVAL },
	{ "16 prefixes", true,
	  B(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
	    0x3e, 0x3e),
	  -EINVAL },
	{ "16 bytes long", true,
	  B(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0xc7, 0x00, 1, 2, 3, 4),
	  -EINVAL },
	{ "empty", true, { 0 }, 0, -EAGAIN },
	{ "opcode only", true, B(0x8b), -EAGAIN },
	{ "prefixes only", true, B(0x66, 0x67, 0xf0), -EAGAIN },
	{ "REX only", true, B(0x48), -EAGAIN },
	{ "SIB missing", true, B(0x8b, 0x04), -EAGAIN },
	{ "disp32 cut", true, B(0x8b, 0x0d, 0x34, 0x12), -EAGAIN },
	{ "imm32 cut", true, B(0xc7, 0x00, 0x78, 0x56, 0x34), -EAGAIN },
	{ "moffs64 cut", true, B(0x48, 0xa1, 0, 3, 0xe0, 0xfe, 0, 0, 0), -EAGAIN },
	{ "0F only", true, B(0x0f), -EAGAIN },
};

TEST(decode_rejects)
{
	struct mmio_insn insn;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct bad *b = &bad[i];
		int ret = x86_decode_mmio(b->bytes, b->len, b->long_mode, &insn);

		if (ret != b->ret)
			printf("  %s: ret %d, want %d\n", b->what, ret, b->ret);
		CHECK_EQ(ret, b->ret);
	}
	/* 15 bytes of prefixes: nothing more can make it valid. */
	{
		uint8_t p[15];

		memset(p, 0x26, sizeof(p));
		CHECK_EQ(x86_decode_mmio(p, sizeof(p), true, &insn), -EINVAL);
		CHECK_EQ(x86_decode_mmio(p, 14, true, &insn), -EAGAIN);
	}
	/* A 15-byte instruction is fine (10 prefixes + mov dword [rax], imm32). */
	{
		static const uint8_t p[] = { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
					     0x3e, 0xc7, 0x00, 1,    2,	   3,	 4 };

		CHECK_EQ(x86_decode_mmio(p, sizeof(p), true, &insn), 0);
		CHECK_EQ(insn.length, 15);
		CHECK_EQ(insn.imm, 0x04030201);
	}
	CHECK_EQ(x86_decode_mmio(NULL, 4, true, &insn), -EINVAL);
	CHECK_EQ(x86_decode_mmio(bad[0].bytes, 2, true, NULL), -EINVAL);
}

TEST(merge)
{
	const uint64_t old = 0x1122334455667788ull;
	struct mmio_insn i = { .op = MMIO_READ };

	/* mov r64, m64 */
	i.size = 8;
	CHECK_EQ(x86_mmio_merge(&i, old, 0xcafef00ddeadbeefull), 0xcafef00ddeadbeefull);
	/* mov r32, m32: the upper half is cleared */
	i.size = 4;
	i.zero_extend = true;
	CHECK_EQ(x86_mmio_merge(&i, old, 0xffffffffdeadbeefull), 0xdeadbeefull);
	/* mov r16, m16: merge */
	i.size = 2;
	i.zero_extend = false;
	CHECK_EQ(x86_mmio_merge(&i, old, 0xabcd), 0x112233445566abcdull);
	CHECK_EQ(x86_mmio_merge(&i, old, 0xffffabcd), 0x112233445566abcdull);
	/* mov r8, m8: merge */
	i.size = 1;
	CHECK_EQ(x86_mmio_merge(&i, old, 0x1ab), 0x11223344556677abull);
	/* mov ah, m8 */
	i.high_byte = true;
	CHECK_EQ(x86_mmio_merge(&i, old, 0xab), 0x112233445566ab88ull);
	i.high_byte = false;
	/* movzx r32/r64, m8 / m16 */
	i.zero_extend = true;
	CHECK_EQ(x86_mmio_merge(&i, old, 0x1ab), 0xabull);
	i.size = 2;
	CHECK_EQ(x86_mmio_merge(&i, old, 0x1abcd), 0xabcdull);
	/* writes leave the register alone */
	i.op = MMIO_WRITE_REG;
	CHECK_EQ(x86_mmio_merge(&i, old, 0), old);
}

/* Decode, then merge: the whole path a read exit takes. */
TEST(decode_then_merge)
{
	static const uint8_t mov_ah[] = { 0x8a, 0x23 };
	static const uint8_t mov_ecx[] = { 0x8b, 0x0d, 0x34, 0x12, 0x00, 0x00 };
	static const uint8_t movzx_w[] = { 0x0f, 0xb7, 0x46, 0x08 };
	static const uint8_t mov_ax[] = { 0x66, 0x8b, 0x01 };
	struct mmio_insn insn;

	CHECK_EQ(x86_decode_mmio(mov_ah, sizeof(mov_ah), true, &insn), 0);
	CHECK_EQ(x86_mmio_merge(&insn, 0xffffffffffffffffull, 0x12), 0xffffffffffff12ffull);
	CHECK_EQ(x86_decode_mmio(mov_ecx, sizeof(mov_ecx), true, &insn), 0);
	CHECK_EQ(x86_mmio_merge(&insn, 0xffffffffffffffffull, 0x12345678), 0x12345678ull);
	CHECK_EQ(x86_decode_mmio(movzx_w, sizeof(movzx_w), true, &insn), 0);
	CHECK_EQ(x86_mmio_merge(&insn, 0xffffffffffffffffull, 0x8001), 0x8001ull);
	CHECK_EQ(x86_decode_mmio(mov_ax, sizeof(mov_ax), true, &insn), 0);
	CHECK_EQ(x86_mmio_merge(&insn, 0xffffffffffffffffull, 0x8001), 0xffffffffffff8001ull);
}

TEST_MAIN(TEST_CASE(decode_table), TEST_CASE(decode_rejects), TEST_CASE(merge),
	  TEST_CASE(decode_then_merge))
