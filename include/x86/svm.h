/* SPDX-License-Identifier: MIT */
/*
 * AMD SVM: the VMCB (AMD APM Vol. 2, Appendix B) and exit codes (Appendix C).
 * Offsets are checked at compile time against the APM's tables.
 */
#ifndef X86_SVM_H
#define X86_SVM_H

#include <keel/types.h>

struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib; /* descriptor bits 40..47 and 52..55, packed (APM B.2) */
	uint32_t limit;
	uint64_t base;
} __packed;

struct vmcb_control {
	uint32_t intercept_cr;	       /* 000h: bits 0-15 reads, 16-31 writes */
	uint32_t intercept_dr;	       /* 004h */
	uint32_t intercept_exceptions; /* 008h: one bit per vector */
	uint32_t intercept_misc1;      /* 00Ch */
	uint32_t intercept_misc2;      /* 010h */
	uint32_t intercept_misc3;      /* 014h */
	uint8_t reserved1[0x3c - 0x18];
	uint16_t pause_filter_threshold; /* 03Ch */
	uint16_t pause_filter_count;	 /* 03Eh */
	uint64_t iopm_base_pa;		 /* 040h */
	uint64_t msrpm_base_pa;		 /* 048h */
	uint64_t tsc_offset;		 /* 050h */
	uint32_t asid;			 /* 058h */
	uint8_t tlb_control;		 /* 05Ch */
	uint8_t reserved2[3];
	uint64_t vintr;		   /* 060h: V_TPR, V_IRQ, V_INTR_MASKING (bit 24), ... */
	uint64_t interrupt_shadow; /* 068h */
	uint64_t exitcode;	   /* 070h */
	uint64_t exitinfo1;	   /* 078h */
	uint64_t exitinfo2;	   /* 080h */
	uint64_t exitintinfo;	   /* 088h */
	uint64_t np_enable;	   /* 090h: bit 0 nested paging */
	uint64_t avic_apic_bar;	   /* 098h */
	uint64_t ghcb_pa;	   /* 0A0h */
	uint64_t eventinj;	   /* 0A8h */
	uint64_t n_cr3;		   /* 0B0h: nested page table root */
	uint64_t lbr_virt;	   /* 0B8h */
	uint32_t clean_bits;	   /* 0C0h */
	uint32_t reserved3;
	uint64_t next_rip;	    /* 0C8h: with NRIP-save */
	uint8_t insn_bytes_fetched; /* 0D0h: with decode assists */
	uint8_t insn_bytes[15];	    /* 0D1h */
	uint8_t reserved4[0x400 - 0xe0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 400h..49Fh */
	uint8_t reserved1[0x4cb - 0x4a0];
	uint8_t cpl; /* 4CBh */
	uint32_t reserved2;
	uint64_t efer; /* 4D0h */
	uint8_t reserved3[0x548 - 0x4d8];
	uint64_t cr4; /* 548h */
	uint64_t cr3;
	uint64_t cr0;
	uint64_t dr7;
	uint64_t dr6;
	uint64_t rflags;
	uint64_t rip; /* 578h */
	uint8_t reserved4[0x5d8 - 0x580];
	uint64_t rsp; /* 5D8h */
	uint64_t s_cet, ssp, isst_addr;
	uint64_t rax; /* 5F8h */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2; /* 640h */
	uint8_t reserved5[0x668 - 0x648];
	uint64_t g_pat; /* 668h */
	uint64_t dbgctl;
	uint64_t br_from, br_to, last_excp_from, last_excp_to;
} __packed;

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
	uint8_t reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
} __packed;

STATIC_ASSERT(sizeof(struct vmcb) == 4096, "VMCB is one page");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, ctl.iopm_base_pa) == 0x40, "APM B.1");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, ctl.exitcode) == 0x70, "APM B.1");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, ctl.eventinj) == 0xa8, "APM B.1");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, ctl.next_rip) == 0xc8, "APM B.1");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.cr4) == 0x548, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.rsp) == 0x5d8, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.cr2) == 0x640, "APM B.2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "APM B.2");

/* Intercept vector 3 (misc1) and 4 (misc2) bits, APM Table B-1. */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_VINTR (1u << 4)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_INVD (1u << 22)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)

/* Exit codes, APM Appendix C. */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((uint64_t)-1)

/* EVENTINJ (APM 15.20): vector 7:0, type 10:8, error-code valid 11, valid 31. */
#define SVM_EVTINJ_VALID (1ull << 31)
#define SVM_EVTINJ_EV (1ull << 11)
#define SVM_EVTINJ_TYPE_NMI (2ull << 8)
#define SVM_EVTINJ_TYPE_EXCEPTION (3ull << 8)

/* VMCB vintr field (APM 15.21): V_IRQ bit 8, V_IGN_TPR bit 20, V_INTR_MASKING bit 24. */
#define SVM_VINTR_IRQ (1ull << 8)
#define SVM_VINTR_IGN_TPR (1ull << 20)
#define SVM_VINTR_MASKING (1ull << 24)

#define MSR_VM_HSAVE_PA 0xc0010117
#define EFER_SVME (1ull << 12)

#endif
