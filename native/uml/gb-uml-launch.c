/*
 * gb-uml-launch: runs User-mode Linux confined to one container's root filesystem.
 *
 *   gb-uml-launch ROOTFS KERNEL_DIR GUEST_SPEC MEM_MIB rw|ro KERNEL_ARG...
 *
 * ro (docker run --read-only): the rootfs is read-only on the host side too, so a guest root that
 * remounts its / read-write still cannot write the image through hostfs.
 *
 * hostfs lets the guest's root mount any path the UML process can open, with the UML process's
 * credentials (`mount -t hostfs none /mnt -o /etc`). So the UML process sees nothing but ROOTFS:
 *   - new mount, pid, ipc, uts and network namespaces; ROOTFS bind-mounted and pivot_root'ed
 *     into, the old root detached: no host path is left to name;
 *   - a tmpfs on ROOTFS/dev (UML's memory file, TMPDIR; the guest mounts its own /dev over it)
 *     holding KERNEL_DIR read-only at /dev/.gb-uml (copies of linux.uml, its loader and libc,
 *     and the guest init: a write through /proc/PID/exe gets EROFS) and the guest spec;
 *   - no /proc, /sys or device node in that tree but /dev/null (UML's "null" channel opens it),
 *     so hostfs reaches no process and no device;
 *   - capabilities: only CHOWN, DAC_OVERRIDE, FOWNER, FSETID (hostfs acts for the guest's root
 *     on the image's files); never MKNOD (a device node made through hostfs would be the host's);
 *   - no_new_privs and a seccomp filter: no mount, namespace, module, bpf, keyring ... calls.
 * The same filter makes PTRACE_{GET,SET}REGSET of NT_X86_XSTATE fail: on a host with AMX the
 * kernel wants the whole (11 kB) XSAVE area there, linux.uml 6.1 passes a smaller one and dies
 * with "ptrace set fp regs failed, errno = 14"; when that call fails, UML uses the x87/SSE
 * registers calls instead (the guest init then keeps glibc off AVX2/AVX-512, see gb-uml-init.c).
 *
 * Processes: this one stays outside (forwards signals, exits with the status), its child is pid 1
 * of the new pid namespace (does the mounts, forwards signals, reaps), and that one's child execs
 * linux.uml (not pid 1: a panicking UML abort()s, which pid 1 cannot).
 * The exit status is linux.uml's: the guest init writes the command's code to /proc/exitcode.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void __attribute__((noreturn)) fail(const char *what) {
  fprintf(stderr, "gb-uml-launch: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static pid_t child;
static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static int wait_for(pid_t pid) {
  int st;
  for (;;) {
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) return 125;
    if (p == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
}

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void forward_signals(void) {
  struct sigaction sa = {.sa_handler = forward};
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) sigaction(forwarded[i], &sa, NULL);
}

/*
 * The forwarded signals stay blocked from before each fork until the child's pid is known: one
 * that arrives meanwhile waits instead of being lost. (It matters for pid 1 of the namespace: a
 * signal from outside that finds it without a handler is dropped, unless it is blocked.)
 */
static void block_forwarded(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) sigaddset(&set, forwarded[i]);
  sigprocmask(how, &set, NULL);
}

#define KEEP_CAPS ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID))

static void drop_caps(void) {
  for (int c = 0; c <= 63; c++)
    if (!(KEEP_CAPS & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail("PR_CAPBSET_DROP");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{0}};
  d[0].effective = d[0].permitted = (unsigned)KEEP_CAPS;
  if (syscall(SYS_capset, &h, d) < 0) fail("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("no_new_privs");
}

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static void load_seccomp(void) {
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    LD_NR,
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), /* x32 */
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    /* ptrace(PTRACE_GETREGSET|PTRACE_SETREGSET, pid, NT_X86_XSTATE, ...) fails: see above */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 6),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4204, 1, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4205, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x202, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
    LD_NR,
    /* clone with a namespace flag: no new user namespace (its capabilities) or any other */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x7e020000, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    LD_NR,
    /* clone3 hides its flags in memory: ENOSYS, and glibc falls back to clone */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    DENY(SYS_mount), DENY(SYS_umount2), DENY(SYS_pivot_root), DENY(SYS_chroot), DENY(SYS_unshare), DENY(SYS_setns),
    DENY(SYS_bpf), DENY(SYS_keyctl), DENY(SYS_add_key), DENY(SYS_request_key), DENY(SYS_kexec_load), DENY(SYS_kexec_file_load),
    DENY(SYS_init_module), DENY(SYS_finit_module), DENY(SYS_delete_module), DENY(SYS_open_by_handle_at), DENY(SYS_name_to_handle_at),
    DENY(SYS_perf_event_open), DENY(SYS_userfaultfd), DENY(SYS_io_uring_setup), DENY(SYS_fsopen), DENY(SYS_fsmount), DENY(SYS_open_tree),
    DENY(SYS_move_mount), DENY(SYS_fspick), DENY(SYS_mount_setattr), DENY(SYS_swapon), DENY(SYS_swapoff), DENY(SYS_reboot), DENY(SYS_acct),
    DENY(SYS_quotactl), DENY(SYS_iopl), DENY(SYS_ioperm), DENY(SYS_settimeofday), DENY(SYS_clock_settime), DENY(SYS_adjtimex),
    DENY(SYS_clock_adjtime), DENY(SYS_syslog), DENY(SYS_mknod), DENY(SYS_mknodat), DENY(SYS_vhangup), DENY(SYS_personality),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) fail("seccomp");
}

static void copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC), out;
  if (in < 0) fail(from);
  if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0) fail(to);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) fail(to);
  if (n < 0) fail(from);
  close(in);
  close(out);
}

int main(int argc, char **argv) {
  if (argc < 7 || (strcmp(argv[5], "rw") && strcmp(argv[5], "ro"))) {
    fprintf(stderr, "usage: gb-uml-launch ROOTFS KERNEL_DIR GUEST_SPEC MEM_MIB rw|ro KERNEL_ARG...\n");
    return 125;
  }
  unsigned long ro = strcmp(argv[5], "ro") ? 0 : MS_RDONLY;
  const char *rootfs = argv[1], *kdir = argv[2], *spec = argv[3];
  long mem = strtol(argv[4], NULL, 10);
  if (mem < 16 || mem > 65536) {
    fprintf(stderr, "gb-uml-launch: MEM_MIB %s is not 16..65536\n", argv[4]);
    return 125;
  }
  if (syscall(SYS_close_range, 3U, ~0U, 0) < 0) fail("close_range");
  /* a mask or an ignored signal inherited from whoever started us would reach linux.uml (and
     SIGTERM, which makes UML exit, would never arrive): start clean */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) < 0) fail("unshare");
  forward_signals();
  block_forwarded(SIG_BLOCK);
  if ((child = fork()) < 0) fail("fork");
  if (child > 0) {
    block_forwarded(SIG_UNBLOCK);
    return wait_for(child);
  }

  /* pid 1 of the new namespace (the forwarded signals still blocked) */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make / private");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind the rootfs");
  /* no device node and no set-id bit of the image works for the UML process (hostfs opens) */
  if (mount(NULL, rootfs, NULL, MS_BIND | MS_REMOUNT | MS_NODEV | MS_NOSUID | ro, NULL) < 0) fail("remount the rootfs nodev");
  if (chdir(rootfs) < 0) fail("chdir to the rootfs");
  struct stat st;
  if (lstat("dev", &st) < 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    fail("the image's /dev must be a directory");
  }
  char opts[64];
  /* no size=: linux.uml makes its memory file mem= plus ~1 GB of "exec-shield gap" long (sparse);
   what it touches is charged to the container's cgroup */
  snprintf(opts, sizeof opts, "mode=755");
  if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID, opts) < 0) fail("tmpfs on /dev");
  if (mkdir("dev/.gb-uml", 0755) < 0 || mkdir("dev/uml", 0700) < 0) fail("mkdir in /dev");
  if (mount(kdir, "dev/.gb-uml", NULL, MS_BIND, NULL) < 0) fail("bind the kernel dir");
  if (mount(NULL, "dev/.gb-uml", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) fail("read-only kernel dir");
  copy_file(spec, "dev/gb-uml.spec");
  /* UML's "null" console channel opens the host's /dev/null: the one device node in this tree */
  if (mknod("dev/null", S_IFCHR | 0666, makedev(1, 3)) < 0) fail("mknod /dev/null");
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) fail("detach the old root");
  if (chdir("/") < 0) fail("chdir /");
  drop_caps();
  load_seccomp();

  forward_signals();
  if ((child = fork()) < 0) fail("fork");
  if (child > 0) {
    block_forwarded(SIG_UNBLOCK);
    return wait_for(child);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) signal(forwarded[i], SIG_DFL);
  block_forwarded(SIG_UNBLOCK);
  char **kargv = calloc((size_t)argc, sizeof(char *));
  if (!kargv) fail("calloc");
  kargv[0] = "linux.uml";
  for (int i = 6; i < argc; i++) kargv[i - 5] = argv[i];
  char *envp[] = {"TMPDIR=/dev", "LD_LIBRARY_PATH=/dev/.gb-uml", "PATH=/dev/.gb-uml", NULL};
  execve("/dev/.gb-uml/linux.uml", kargv, envp);
  fail("exec linux.uml");
}
