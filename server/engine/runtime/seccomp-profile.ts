// Docker's default seccomp profile (moby/profiles seccomp/default.json, the 2025 version with the
// socket address-family allowlist), as readable data, plus the step Docker does before handing it to
// the runtime: keep only the rules that apply to this container's capabilities, architecture and
// kernel.
//
// How to read a rule: `names` get `action` when every condition in `args` holds (no args: always).
// `when` narrows where the rule exists at all (all listed caps present, one of the listed arches,
// kernel at least minKernel); `unless` removes it (any listed cap present, or one of the arches).
// Whatever no rule allows gets the profile's default: ERRNO(EPERM).
import { release } from 'node:os';
import { InvalidArgument } from '../types.js';
import type { CapabilityName } from './capabilities.js';

export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill_process' }
  | { kind: 'kill_thread' }
  | { kind: 'trap' }
  | { kind: 'log' };

/**
 * One comparison of a syscall argument (always as a u64, like libseccomp):
 * eq/ne/lt/le/gt/ge compare `value`; masked_eq means (arg & mask) == value.
 */
export type ArgCondition =
  | { index: number; op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; value: number | bigint }
  | { index: number; op: 'masked_eq'; mask: number | bigint; value: number | bigint };

/** Docker's (Go's) architecture words, as the profile's includes/excludes use them. */
export type ProfileArch = 'amd64' | 'x32' | 'x86' | 'arm' | 'arm64' | 'ppc64le' | 's390' | 's390x' | 'riscv64';

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  /** all must hold */
  args?: ArgCondition[];
  when?: { caps?: CapabilityName[]; arches?: ProfileArch[]; minKernel?: string };
  unless?: { caps?: CapabilityName[]; arches?: ProfileArch[] };
  comment?: string;
}

export interface SeccompProfile {
  name: string;
  defaultAction: SeccompAction;
  rules: SeccompRule[];
}

export const EPERM = 1;
export const ENOSYS = 38;

const ALLOW: SeccompAction = { kind: 'allow' };
const words = (s: string) => s.trim().split(/\s+/);

// The unconditional allowlist. Names that do not exist on x86_64 (the *32 and *_time64 variants of
// 32-bit arches, _llseek, socketcall, riscv_hwprobe ...) are in Docker's list because one list serves
// every arch; the compiler skips names the target arch does not have.
const ALWAYS_ALLOWED = words(`
  accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
  clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
  dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
  epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group
  faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat
  fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
  fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
  futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
  getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
  getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
  getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname
  getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat
  inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
  io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill
  landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link
  linkat listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr
  lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat
  mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
  mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal
  msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
  _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
  pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease
  pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
  recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename
  renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction rt_sigpending
  rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
  rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
  sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
  sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
  semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
  setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
  setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
  setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
  setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
  sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount statx symlink
  symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
  timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
  timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate
  truncate64 ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat utimensat_time64
  utimes vfork vmsplice wait4 waitid waitpid write writev
`);

/**
 * socket(): the address families a container may open (arg0). Refused, with EPERM: AF_DECnet 12,
 * AF_ECONET 19, AF_ATMSVC 20, AF_IRDA 23, AF_WANPIPE 25, AF_ISDN 34, AF_CAIF 37, AF_ALG 38,
 * AF_VSOCK 40 (talks to the hypervisor) and anything from 46 on.
 */
export const SOCKET_FAMILIES_BELOW = 12; // AF_UNSPEC .. AF_ROSE (AF_UNIX 1, AF_INET 2, AF_INET6 10 ...)
export const SOCKET_FAMILIES_ALLOWED = [13, 14, 15, 16, 17, 18, 21, 22, 24, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45];
export const AF_VSOCK = 40;

/** personality(): the personas Docker allows: PER_LINUX, PER_LINUX32, UNAME26, both, and 0xffffffff (query). */
export const PERSONALITY_ALLOWED = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** clone() flags that create namespaces: NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET (0x7E020000). */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Docker's default seccomp profile. A fresh copy on each call: callers may tweak it. */
export function dockerDefaultProfile(): SeccompProfile {
  const rules: SeccompRule[] = [
    { names: ALWAYS_ALLOWED, action: ALLOW },
    // ptrace became safe to allow with 4.8 (before it, ptrace could bypass seccomp)
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: ALLOW, when: { minKernel: '4.8' } },
    { names: ['socket'], action: ALLOW, args: [{ index: 0, op: 'lt', value: SOCKET_FAMILIES_BELOW }], comment: 'AF_UNSPEC..AF_ROSE' },
    ...SOCKET_FAMILIES_ALLOWED.map((af): SeccompRule => ({ names: ['socket'], action: ALLOW, args: [{ index: 0, op: 'eq', value: af }] })),
    ...PERSONALITY_ALLOWED.map((p): SeccompRule => ({ names: ['personality'], action: ALLOW, args: [{ index: 0, op: 'eq', value: p }] })),
    // arch-specific calls
    { names: ['sync_file_range2', 'swapcontext'], action: ALLOW, when: { arches: ['ppc64le'] } },
    { names: words('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'), action: ALLOW, when: { arches: ['arm', 'arm64'] } },
    { names: ['arch_prctl'], action: ALLOW, when: { arches: ['amd64', 'x32'] } },
    { names: ['modify_ldt'], action: ALLOW, when: { arches: ['amd64', 'x32', 'x86'] } },
    { names: words('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'), action: ALLOW, when: { arches: ['s390', 's390x'] } },
    { names: ['riscv_flush_icache'], action: ALLOW, when: { arches: ['riscv64'] } },
    // what capabilities open up
    { names: ['open_by_handle_at'], action: ALLOW, when: { caps: ['CAP_DAC_READ_SEARCH'] } },
    {
      names: words(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
        lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree
        perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare`),
      action: ALLOW,
      when: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 0, op: 'masked_eq', mask: CLONE_NAMESPACE_FLAGS, value: 0 }],
      unless: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
      comment: 'clone without namespace flags',
    },
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 1, op: 'masked_eq', mask: CLONE_NAMESPACE_FLAGS, value: 0 }],
      when: { arches: ['s390', 's390x'] },
      unless: { caps: ['CAP_SYS_ADMIN'] },
      comment: 's390 passes the clone flags second',
    },
    {
      names: ['clone3'],
      action: { kind: 'errno', errno: ENOSYS },
      unless: { caps: ['CAP_SYS_ADMIN'] },
      comment: 'clone3 flags live in memory, out of seccomp\'s reach: ENOSYS makes libcs fall back to clone',
    },
    { names: ['reboot'], action: ALLOW, when: { caps: ['CAP_SYS_BOOT'] } },
    { names: ['chroot'], action: ALLOW, when: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['delete_module', 'init_module', 'finit_module'], action: ALLOW, when: { caps: ['CAP_SYS_MODULE'] } },
    { names: ['acct'], action: ALLOW, when: { caps: ['CAP_SYS_PACCT'] } },
    { names: words('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'), action: ALLOW, when: { caps: ['CAP_SYS_PTRACE'] } },
    { names: ['iopl', 'ioperm'], action: ALLOW, when: { caps: ['CAP_SYS_RAWIO'] } },
    { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], action: ALLOW, when: { caps: ['CAP_SYS_TIME'] } },
    { names: ['vhangup'], action: ALLOW, when: { caps: ['CAP_SYS_TTY_CONFIG'] } },
    { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], action: ALLOW, when: { caps: ['CAP_SYS_NICE'] } },
    { names: ['syslog'], action: ALLOW, when: { caps: ['CAP_SYSLOG'] } },
    { names: ['bpf'], action: ALLOW, when: { caps: ['CAP_BPF'] } },
    { names: ['perf_event_open'], action: ALLOW, when: { caps: ['CAP_PERFMON'] } },
  ];
  return { name: 'docker-default', defaultAction: { kind: 'errno', errno: EPERM }, rules };
}

// ---------------------------------------------------------------------------------------------
// Resolving a profile for one container

/** Architectures the compiler can target. */
export type TargetArch = 'x86_64';

export interface ResolveOptions {
  /** default: the host's (x64 → x86_64; anything else is refused) */
  arch?: TargetArch;
  /** kernel release for `minKernel` ("6.8.0-generic"); default: the host's */
  kernel?: string;
}

/** The profile after includes/excludes: what the runtime actually gets (Docker does this in the daemon). */
export interface ResolvedProfile {
  arch: TargetArch;
  defaultAction: SeccompAction;
  rules: Omit<SeccompRule, 'when' | 'unless'>[];
}

/** Go's GOARCH word for a target arch, as the profile's `arches` lists use them. */
const PROFILE_ARCH: Record<TargetArch, ProfileArch> = { x86_64: 'amd64' };

export function hostTargetArch(): TargetArch {
  if (process.arch === 'x64') return 'x86_64';
  throw new InvalidArgument(`seccomp: Glassbox compiles filters for x86_64 only; this host is ${process.arch} (run with seccomp "unconfined")`);
}

export function checkTargetArch(arch: string): TargetArch {
  if (arch === 'x86_64') return arch;
  throw new InvalidArgument(`seccomp: unsupported architecture ${JSON.stringify(arch)} (only x86_64 has a syscall table here)`);
}

/** "6.8.0-45-generic" → [6, 8, 0]; compare as numbers. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (s: string) => (s.match(/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/) ?? []).slice(1).map((x) => Number(x ?? 0));
  const a = parse(kernel);
  const b = parse(min);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * Keep the rules that apply to a container with these capabilities (its capability list, i.e. the
 * bounding set, as Docker matches them), on this arch and kernel. A `when.caps` rule needs all of its
 * caps; an `unless.caps` rule goes away with any of them.
 */
export function resolveProfile(profile: SeccompProfile, capNames: readonly string[], opts: ResolveOptions = {}): ResolvedProfile {
  const arch = opts.arch ? checkTargetArch(opts.arch) : hostTargetArch();
  const kernel = opts.kernel ?? release();
  const have = new Set(capNames.map((c) => c.toUpperCase()));
  const parch = PROFILE_ARCH[arch];
  const rules: ResolvedProfile['rules'] = [];
  for (const r of profile.rules) {
    if (r.when?.caps && !r.when.caps.every((c) => have.has(c))) continue;
    if (r.when?.arches && !r.when.arches.includes(parch)) continue;
    if (r.when?.minKernel && !kernelAtLeast(kernel, r.when.minKernel)) continue;
    if (r.unless?.caps && r.unless.caps.some((c) => have.has(c))) continue;
    if (r.unless?.arches && r.unless.arches.includes(parch)) continue;
    const { when: _w, unless: _u, ...rest } = r;
    rules.push(rest);
  }
  return { arch, defaultAction: profile.defaultAction, rules };
}

// ---------------------------------------------------------------------------------------------
// The OCI spelling (config.json linux.seccomp)

const OCI_ACTION: Record<SeccompAction['kind'], string> = {
  allow: 'SCMP_ACT_ALLOW',
  errno: 'SCMP_ACT_ERRNO',
  kill_process: 'SCMP_ACT_KILL_PROCESS',
  kill_thread: 'SCMP_ACT_KILL_THREAD',
  trap: 'SCMP_ACT_TRAP',
  log: 'SCMP_ACT_LOG',
};
const OCI_OP: Record<ArgCondition['op'], string> = {
  eq: 'SCMP_CMP_EQ',
  ne: 'SCMP_CMP_NE',
  lt: 'SCMP_CMP_LT',
  le: 'SCMP_CMP_LE',
  gt: 'SCMP_CMP_GT',
  ge: 'SCMP_CMP_GE',
  masked_eq: 'SCMP_CMP_MASKED_EQ',
};
const OCI_ARCH: Record<TargetArch, string> = { x86_64: 'SCMP_ARCH_X86_64' };

function jsonNumber(v: number | bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgument(`seccomp: argument value ${v} does not fit a JSON number`);
  return n;
}

/**
 * The resolved profile in the OCI runtime-spec format, for config.json. `architectures` lists only
 * the native arch: the compiled filter (seccomp-bpf.ts) kills any other audit arch, and the two
 * spellings must say the same thing. (Docker also lists SCMP_ARCH_X86 and SCMP_ARCH_X32 and allows
 * their syscalls through the same names.)
 */
export function profileForOci(profile: SeccompProfile, capNames: readonly string[], opts: ResolveOptions = {}): Record<string, unknown> {
  const r = resolveProfile(profile, capNames, opts);
  const action = (a: SeccompAction) => ({
    action: OCI_ACTION[a.kind],
    ...(a.kind === 'errno' ? { errnoRet: a.errno } : {}),
  });
  const def = action(r.defaultAction);
  return {
    defaultAction: def.action,
    ...(def.errnoRet !== undefined ? { defaultErrnoRet: def.errnoRet } : {}),
    architectures: [OCI_ARCH[r.arch]],
    syscalls: r.rules.map((rule) => ({
      names: rule.names,
      ...action(rule.action),
      ...(rule.args
        ? {
            args: rule.args.map((a) =>
              a.op === 'masked_eq'
                ? { index: a.index, value: jsonNumber(a.mask), valueTwo: jsonNumber(a.value), op: OCI_OP[a.op] }
                : { index: a.index, value: jsonNumber(a.value), op: OCI_OP[a.op] },
            ),
          }
        : {}),
      ...(rule.comment ? { comment: rule.comment } : {}),
    })),
  };
}
