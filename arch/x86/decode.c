// SPDX-License-Identifier: MIT
/*
 * Decoding the guest instruction behind an MMIO exit: the handful of moves
 * (mov, movzx, mov moffs) that drivers and the local APIC code use, in
 * 64-bit mode and 32-bit protected mode. Anything else is -EINVAL and the
 * caller decides what to do (usually: inject #UD or stop the guest).
 *
 * Encoding references: SDM Vol. 2A chapter 2 (2.1.1 legacy prefixes,
 * 2.1.3 ModR/M and SIB, 2.1.5 tables 2-1 (16-bit) and 2-2 (32-bit)
 * addressing forms and 2-3 (SIB), 2.2.1.2 REX fields, 2.2.1.4 direct
 * memory-offset MOVs, 2.2.1.5 immediates, 2.2.1.6 RIP-relative addressing),
 * APM Vol. 3 chapter 1 (instruction encoding) and the MOV/MOVZX reference
 * pages (SDM Vol. 2B chapter 4, APM Vol. 3 chapter 3).
 */
#include <keel/errno.h>
#include <x86/decode.h>

/* Architectural instruction length limit (SDM Vol. 2A 2.1, APM Vol. 3 1.1). */
#define INSN_MAX 15

/* REX bits (SDM Vol. 2A 2.2.1.2, table 2-4). */
#define REX_W 0x08
#define REX_R 0x04

struct cursor {
	const uint8_t *bytes;
	size_t len; /* available bytes, at most INSN_MAX */
	size_t pos;
};

/*
 * Can n more bytes be read? -EINVAL when the instruction would exceed 15
 * bytes (never valid, SDM Vol. 2A 2.1), -EAGAIN when the buffer is short.
 */
static int need(const struct cursor *c, size_t n)
{
	if (c->pos + n > INSN_MAX)
		return -EINVAL;
	if (c->pos + n > c->len)
		return -EAGAIN;
	return 0;
}

static uint64_t read_le(const struct cursor *c, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
	return v;
}

/*
 * Skip the ModRM byte and what follows it for the memory operand (SIB,
 * displacement). Stores the ModRM reg field in *reg_field. The effective
 * address itself is not needed: the exit reports the faulting GPA.
 */
static int skip_modrm(struct cursor *c, bool addr16, unsigned int *reg_field)
{
	unsigned int modrm, mod, rm;
	size_t disp = 0;
	int err;

	err = need(c, 1);
	if (err)
		return err;
	modrm = c->bytes[c->pos++];
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg_field = (modrm >> 3) & 7;

	/* mod = 11b names a register, not memory: it can't be the MMIO access. */
	if (mod == 3)
		return -EINVAL;

	if (addr16) {
		/*
		 * 16-bit addressing (SDM Vol. 2A table 2-1): no SIB; mod = 00b
		 * rm = 110b is a bare disp16, mod = 01b disp8, mod = 10b disp16.
		 */
		if (mod == 0 && rm == 6)
			disp = 2;
		else if (mod == 1)
			disp = 1;
		else if (mod == 2)
			disp = 2;
	} else {
		/*
		 * 32/64-bit addressing (SDM Vol. 2A table 2-2, 2.2.1.2): rm = 100b
		 * means a SIB byte follows and mod = 00b rm = 101b a disp32
		 * (absolute in 32-bit mode, RIP-relative in 64-bit mode, 2.2.1.6),
		 * both tested on the 3-bit fields, i.e. regardless of REX.B.
		 */
		if (rm == 4) {
			unsigned int base;

			err = need(c, 1);
			if (err)
				return err;
			base = c->bytes[c->pos++] & 7;
			/* SIB base = 101b with mod = 00b: no base, disp32 (table 2-3 note 1). */
			if (mod == 0 && base == 5)
				disp = 4;
		} else if (mod == 0 && rm == 5) {
			disp = 4;
		}
		if (mod == 1)
			disp = 1;
		else if (mod == 2)
			disp = 4;
	}
	err = need(c, disp);
	if (err)
		return err;
	c->pos += disp;
	return 0;
}

int x86_decode_mmio(const uint8_t *bytes, size_t len, bool long_mode, struct mmio_insn *out)
{
	struct cursor c = { .bytes = bytes, .len = len < INSN_MAX ? len : INSN_MAX, .pos = 0 };
	bool opsize16 = false, addrsize = false;
	unsigned int rex = 0, opcode, reg_field, size;
	struct mmio_insn insn = { 0 };
	int err;

	if (!out || (!bytes && len))
		return -EINVAL;

	/*
	 * Prefixes (SDM Vol. 2A 2.1.1, 2.2.1): any order and repeats of the
	 * legacy ones. A REX prefix counts only immediately before the opcode
	 * (a legacy prefix after it makes the CPU ignore it); 40h-4Fh are REX
	 * only in 64-bit mode (inc/dec in 32-bit mode, not accepted here).
	 */
	for (;;) {
		uint8_t b;

		err = need(&c, 1);
		if (err)
			return err;
		b = c.bytes[c.pos];
		if (b == 0x66) {
			opsize16 = true; /* operand-size override */
		} else if (b == 0x67) {
			addrsize = true; /* address-size override */
		} else if (b == 0xf0 || b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 ||
			   b == 0x64 || b == 0x65) {
			/* lock, segment overrides: the exit reports the GPA */
		} else if (long_mode && (b & 0xf0) == 0x40) {
			rex = b;
			c.pos++;
			continue;
		} else {
			break;
		}
		rex = 0;
		c.pos++;
	}

	/* Operand size: REX.W takes precedence over 66h (SDM Vol. 2A 2.2.1.2, table 2-4). */
	if (rex & REX_W)
		size = 8;
	else if (opsize16)
		size = 2;
	else
		size = 4;

	opcode = c.bytes[c.pos++];
	switch (opcode) {
	case 0x88: /* mov r/m8, r8 */
	case 0x89: /* mov r/m16/32/64, r */
		insn.op = MMIO_WRITE_REG;
		break;
	case 0x8a: /* mov r8, r/m8 */
	case 0x8b: /* mov r, r/m16/32/64 */
		insn.op = MMIO_READ;
		break;
	case 0xc6: /* C6 /0: mov r/m8, imm8 */
	case 0xc7: /* C7 /0: mov r/m16/32, imm16/32; REX.W: r/m64, sign-extended imm32 */
		insn.op = MMIO_WRITE_IMM;
		break;
	case 0xa0: /* mov al, moffs8 */
	case 0xa1: /* mov (e/r)ax, moffs */
	case 0xa2: /* mov moffs8, al */
	case 0xa3: /* mov moffs, (e/r)ax */ {
		/*
		 * The offset is address-sized: 8 bytes in 64-bit mode, 4 with 67h;
		 * 4 bytes in 32-bit mode, 2 with 67h (SDM Vol. 2A 2.2.1.4, and
		 * the MOV page). The register is always rAX.
		 */
		size_t moffs = long_mode ? (addrsize ? 4 : 8) : (addrsize ? 2 : 4);

		err = need(&c, moffs);
		if (err)
			return err;
		c.pos += moffs;
		insn.op = (opcode & 2) ? MMIO_WRITE_REG : MMIO_READ;
		insn.size = (opcode & 1) ? size : 1;
		insn.reg = 0;
		insn.zero_extend = insn.op == MMIO_READ && insn.size == 4;
		insn.length = (uint8_t)c.pos;
		*out = insn;
		return 0;
	}
	case 0x0f: /* two-byte opcodes: movzx only */
		err = need(&c, 1);
		if (err)
			return err;
		opcode = 0x0f00 | c.bytes[c.pos++];
		if (opcode != 0x0fb6 && opcode != 0x0fb7)
			return -EINVAL;
		/*
		 * 66 0F B6 (movzx r16, m8) writes only bits 15:0 of the register,
		 * which struct mmio_insn can't express: not supported. 66 0F B7
		 * (movzx r16, m16) is a plain 16-bit load (merge).
		 */
		if (opcode == 0x0fb6 && size == 2)
			return -EINVAL;
		insn.op = MMIO_READ;
		break;
	default:
		return -EINVAL;
	}

	/*
	 * ModRM. In 64-bit mode 67h selects 32-bit addressing (same ModRM
	 * forms); in 32-bit mode it selects the 16-bit forms (SDM Vol. 2A
	 * 2.1.1, table 2-1).
	 */
	err = skip_modrm(&c, !long_mode && addrsize, &reg_field);
	if (err)
		return err;

	switch (opcode) {
	case 0x88:
	case 0x8a:
		insn.size = 1;
		break;
	case 0xc6:
	case 0xc7:
		/* Only /0 is mov; other reg values with a memory operand are #UD. */
		if (reg_field != 0)
			return -EINVAL;
		insn.size = opcode == 0xc6 ? 1 : size;
		break;
	case 0x0fb6:
		insn.size = 1;
		insn.zero_extend = true;
		break;
	case 0x0fb7:
		insn.size = 2;
		/* Zero-extends into a 32/64-bit destination; with 66h it is a 16-bit move. */
		insn.zero_extend = size != 2;
		break;
	default: /* 89, 8B */
		insn.size = size;
		/* A 32-bit destination zero-extends to 64 bits (SDM Vol. 1 3.4.1.1). */
		insn.zero_extend = insn.op == MMIO_READ && size == 4;
		break;
	}

	if (insn.op == MMIO_WRITE_IMM) {
		/* imm8 for C6; imm16 with 66h, else imm32, sign-extended with REX.W (2.2.1.5). */
		size_t immlen = insn.size == 8 ? 4 : insn.size;
		uint64_t imm;

		err = need(&c, immlen);
		if (err)
			return err;
		imm = read_le(&c, immlen);
		if (insn.size == 8 && (imm & 0x80000000u))
			imm |= 0xffffffff00000000ull;
		c.pos += immlen;
		insn.imm = imm;
		insn.reg = 0;
	} else {
		/* REX.R extends the ModRM reg field to r8..r15 (SDM Vol. 2A 2.2.1.2). */
		insn.reg = (uint8_t)(reg_field | ((rex & REX_R) ? 8 : 0));
		/*
		 * Byte registers (SDM Vol. 1 3.7.2.1, Vol. 2A 2.2.1.2): without any REX
		 * prefix, 4..7 are ah, ch, dh, bh (bits 15:8 of rax..rbx); with a
		 * REX prefix (even 40h) they are spl, bpl, sil, dil. movzx's
		 * destination is never a byte register.
		 */
		if (insn.size == 1 && (opcode == 0x88 || opcode == 0x8a) && !rex &&
		    reg_field >= 4) {
			insn.high_byte = true;
			insn.reg = (uint8_t)(reg_field - 4);
		}
	}

	insn.length = (uint8_t)c.pos;
	*out = insn;
	return 0;
}

uint64_t x86_mmio_merge(const struct mmio_insn *insn, uint64_t old, uint64_t value)
{
	uint64_t mask;

	if (insn->op != MMIO_READ)
		return old;
	if (insn->size >= 8)
		return value;
	mask = (1ull << (8 * insn->size)) - 1;
	value &= mask;
	/* ah, ch, dh, bh: bits 15:8, the rest kept (SDM Vol. 1 3.4.1.1). */
	if (insn->high_byte)
		return (old & ~0xff00ull) | (value << 8);
	/* movzx, and 32-bit destinations: the whole register is written. */
	if (insn->zero_extend)
		return value;
	/* 8/16-bit destinations: the upper bits are kept. */
	return (old & ~mask) | value;
}
