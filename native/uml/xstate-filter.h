/*
 * The seccomp instructions that make ptrace(PTRACE_GETREGSET | PTRACE_SETREGSET, pid,
 * NT_X86_XSTATE, ...) fail with EIO. On a host CPU with AMX the kernel sizes that regset for the
 * whole XSAVE area (about 11 kB); linux.uml 6.1 passes a smaller buffer and dies at its first
 * process with "ptrace set fp regs failed, errno = 14". When the call fails, UML falls back to
 * PTRACE_{GET,SET}FPREGS (x87/SSE state), which works everywhere. On a host without AMX the
 * fallback costs nothing visible. Expects the syscall number loaded; leaves it loaded.
 */
#ifndef GB_UML_XSTATE_FILTER_H
#define GB_UML_XSTATE_FILTER_H
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#define XSTATE_REGSET_FAILS                                                   \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 6),                      \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])), \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4204 /* GETREGSET */, 1, 0),          \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4205 /* SETREGSET */, 0, 3),          \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])), \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x202 /* NT_X86_XSTATE */, 0, 1),       \
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),                         \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/* glibc's string functions stay off AVX and AVX-512 in the guest: under the x87/SSE fallback the
   upper halves of the vector registers are not kept across UML's switches between threads */
#define GUEST_GLIBC_TUNABLES "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load"
/* and Go's runtime (memmove, memclr) off AVX too: runc, runsc, the docker CLI crash without it */
#define GUEST_GODEBUG "cpu.avx=off,cpu.avx2=off"
#endif
