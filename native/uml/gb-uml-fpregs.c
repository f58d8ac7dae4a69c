/*
 * gb-uml-fpregs: run a command (linux.uml) with the XSTATE ptrace regset calls failing, so that
 * User-mode Linux 6.1 boots on a host CPU with AMX (see xstate-filter.h).
 *
 *   gb-uml-fpregs PROGRAM ARG...
 *
 * scripts/uml/boot.ts starts the kernel-test guests through it. Nothing else is filtered: those
 * guests run the project's own test suite, trusted; the uml runtime's containers go through
 * gb-uml-launch, which confines them as well.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "xstate-filter.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: gb-uml-fpregs PROGRAM ARG...\n");
    return 125;
  }
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    XSTATE_REGSET_FAILS,
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  /* as root (CAP_SYS_ADMIN) no no_new_privs is needed, and UML keeps what it may do */
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    fprintf(stderr, "gb-uml-fpregs: seccomp: %s\n", strerror(errno));
    return 125;
  }
  execv(argv[1], argv + 1);
  fprintf(stderr, "gb-uml-fpregs: exec %s: %s\n", argv[1], strerror(errno));
  return 127;
}
