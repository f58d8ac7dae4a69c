import { describe, expect, it } from 'vitest';
import { resolveCapabilities } from '../../server/engine/runtime/capabilities';
import {
  BPF_JA,
  BPF_JMP,
  BPF_MAXINSNS,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  decodeFilter,
  runBpf,
  seccompVerdict,
} from '../../server/engine/runtime/bpf-interpreter';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  askFilter,
  compileSeccomp,
  compileSeccompProgram,
  disassembleSeccomp,
  expectedVerdict,
  type CompiledSeccomp,
} from '../../server/engine/runtime/seccomp-bpf';
import {
  dockerDefaultProfile,
  kernelAtLeast,
  profileForOci,
  resolveProfile,
  type SeccompProfile,
} from '../../server/engine/runtime/seccomp-profile';
import { SYSCALLS_X86_64 } from '../../server/engine/runtime/syscalls-x86_64';
import { InvalidArgument } from '../../server/engine/types';

const OPTS = { arch: 'x86_64', kernel: '6.8.0' } as const;
const DEFAULT_CAPS = resolveCapabilities({ lastCap: 40 }).names;
const ALLOW = SECCOMP_RET_ALLOW;
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET_ERRNO | 38) >>> 0;

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what pthread_create passes: VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID
const SIGCHLD = 17;

function compile(caps: readonly string[] = DEFAULT_CAPS, profile = dockerDefaultProfile()) {
  return compileSeccompProgram(profile, caps, OPTS);
}

function say(c: CompiledSeccomp, name: string, args: (number | bigint)[] = []) {
  return askFilter(c.buffer, name, args).ret;
}

function maxJump(c: CompiledSeccomp) {
  return Math.max(...c.program.filter((i) => (i.code & 0x07) === BPF_JMP && (i.code & 0xf0) !== BPF_JA).map((i) => Math.max(i.jt, i.jf)));
}

/** Interesting argument values for a syscall's rules: each value, its neighbours, high-word variants. */
function argCases(c: CompiledSeccomp, nr: number): (number | bigint)[][] {
  const o = c.plan.bySyscall.get(nr);
  const cases: (number | bigint)[][] = [[], [1], [0xffffffff], [1n << 32n], [-1n]];
  if (o?.kind !== 'cond') return cases;
  for (const r of o.rules) {
    for (const a of r.args) {
      const v = BigInt(a.value);
      const variants = [v, v + 1n, v - 1n, v | (1n << 32n), v | (1n << 63n), 0n];
      if (a.op === 'masked_eq') {
        const m = BigInt(a.mask);
        variants.push(m, m & -m, v | (m & -m), ~m & 0xffffffffffffffffn);
      }
      for (const x of variants) {
        const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
        args[a.index] = BigInt.asUintN(64, x);
        cases.push(args);
      }
    }
  }
  return cases;
}

/** The BPF and the reference evaluator agree on every syscall number and every interesting argument. */
function crossCheck(c: CompiledSeccomp) {
  const nrs = [...Array(600).keys(), 1000, 0xffff, 0x3fffffff, 0x40000000, 0x40000027, 0x7fffffff, 0xffffffff];
  let checked = 0;
  for (const nr of nrs) {
    for (const args of argCases(c, nr)) {
      const data = { nr, arch: AUDIT_ARCH_X86_64, args };
      const got = runBpf(c.program, data).ret;
      const want = expectedVerdict(c.plan, c.arch, data);
      if (got !== want) throw new Error(`nr ${nr} args ${args.join(',')}: filter says ${got.toString(16)}, profile says ${want.toString(16)}`);
      checked++;
    }
  }
  return checked;
}

describe('Docker default profile data', () => {
  it('allows ~360 syscalls unconditionally and keeps the conditional rules', () => {
    const p = dockerDefaultProfile();
    const always = p.rules[0].names;
    expect(always.length).toBeGreaterThan(330);
    expect(always).toContain('read');
    expect(always).not.toContain('mount');
    expect(always).not.toContain('clone');
    expect(p.defaultAction).toEqual({ kind: 'errno', errno: 1 });
    expect(p.rules.find((r) => r.names.length === 1 && r.names[0] === 'clone3')?.action).toEqual({ kind: 'errno', errno: 38 });
  });

  it('names only syscalls that exist on some arch (x86_64 knows most of them)', () => {
    const c = compile();
    // skipped names are the 32-bit / other-arch spellings, never a typo of an x86_64 call
    const otherArchOnly = `_llseek _newselect chown32 clock_adjtime64 clock_getres_time64 clock_gettime64
      clock_nanosleep_time64 fadvise64_64 fchown32 fcntl64 fstat64 fstatat64 fstatfs64 ftruncate64
      futex_time64 getegid32 geteuid32 getgid32 getgroups32 getresgid32 getresuid32 getuid32
      io_pgetevents_time64 ipc lchown32 lstat64 mmap2 mq_timedreceive_time64 mq_timedsend_time64
      ppoll_time64 pselect6_time64 recv recvmmsg_time64 riscv_hwprobe rt_sigtimedwait_time64
      sched_rr_get_interval_time64 semtimedop_time64 send sendfile64 setfsgid32 setfsuid32 setgid32
      setgroups32 setregid32 setresgid32 setresuid32 setreuid32 setuid32 sigprocmask sigreturn
      socketcall stat64 statfs64 timer_gettime64 timer_settime64 timerfd_gettime64 timerfd_settime64
      truncate64 ugetrlimit utimensat_time64 waitpid`.split(/\s+/);
    expect(c.plan.skipped).toEqual(otherArchOnly.sort());
  });

  it('compares kernel versions', () => {
    expect(kernelAtLeast('6.18.44-fc-v857', '4.8')).toBe(true);
    expect(kernelAtLeast('4.8.0', '4.8')).toBe(true);
    expect(kernelAtLeast('4.4.0-210-generic', '4.8')).toBe(false);
    expect(kernelAtLeast('10.0', '4.8')).toBe(true);
  });

  it('refuses architectures it has no syscall table for', () => {
    expect(() => resolveProfile(dockerDefaultProfile(), DEFAULT_CAPS, { arch: 'aarch64' as never })).toThrow(InvalidArgument);
    expect(() => compileSeccomp(dockerDefaultProfile(), DEFAULT_CAPS, { arch: 'riscv64' as never })).toThrow(/only x86_64/);
  });

  it('spells the resolved profile in the OCI format', () => {
    const oci = profileForOci(dockerDefaultProfile(), DEFAULT_CAPS, OPTS) as {
      defaultAction: string; defaultErrnoRet: number; architectures: string[];
      syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
    };
    expect(oci.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(oci.defaultErrnoRet).toBe(1);
    expect(oci.architectures).toEqual(['SCMP_ARCH_X86_64']);
    const clone = oci.syscalls.find((s) => s.names.includes('clone') && s.args);
    expect(clone?.args).toEqual([{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
    expect(oci.syscalls.find((s) => s.names.includes('clone3'))).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    expect(oci.syscalls.some((s) => s.names.includes('mount'))).toBe(false);
    expect(oci.syscalls.some((s) => s.names.includes('s390_runtime_instr'))).toBe(false);
    expect(JSON.parse(JSON.stringify(oci))).toEqual(oci);

    const admin = profileForOci(dockerDefaultProfile(), [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], OPTS) as typeof oci;
    expect(admin.syscalls.some((s) => s.names.includes('mount') && s.action === 'SCMP_ACT_ALLOW')).toBe(true);
    expect(admin.syscalls.some((s) => s.names.includes('clone') && s.args)).toBe(false);
    expect(admin.syscalls.some((s) => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO')).toBe(false);
  });
});

describe('compiled filter, default capabilities', () => {
  const c = compile();

  it('fits the kernel: < 4096 instructions, no conditional jump beyond 255', () => {
    expect(c.program.length).toBeLessThan(BPF_MAXINSNS);
    expect(maxJump(c)).toBeLessThanOrEqual(255);
    expect(c.buffer.length).toBe(c.program.length * 8);
    expect(decodeFilter(c.buffer)).toEqual(c.program);
    // checks the arch first, ends with returns
    expect(disassembleSeccomp(c.buffer)[0]).toBe('0000: ld arch');
    expect((c.program[c.program.length - 1].code & 0x07)).toBe(0x06);
  });

  it('allows the everyday syscalls', () => {
    for (const n of ['read', 'write', 'openat', 'execve', 'exit_group', 'mmap', 'futex', 'fork', 'vfork', 'wait4', 'arch_prctl', 'chroot', 'ptrace', 'seccomp']) {
      expect(say(c, n), n).toBe(ALLOW);
    }
  });

  it('allows clone without namespace flags (fork, threads)', () => {
    expect(say(c, 'clone', [SIGCHLD])).toBe(ALLOW);
    expect(say(c, 'clone', [CLONE_THREAD_FLAGS])).toBe(ALLOW);
    // bits above 32 are outside the mask: still allowed (as libseccomp's masked_eq)
    expect(say(c, 'clone', [(1n << 40n) | BigInt(SIGCHLD)])).toBe(ALLOW);
  });

  it('refuses clone with namespace flags', () => {
    expect(say(c, 'clone', [CLONE_NEWUSER | SIGCHLD])).toBe(EPERM);
    expect(say(c, 'clone', [CLONE_NEWNS])).toBe(EPERM);
    expect(say(c, 'clone', [CLONE_NEWNET | CLONE_THREAD_FLAGS])).toBe(EPERM);
  });

  it('answers ENOSYS to clone3, so libcs fall back to clone', () => {
    expect(say(c, 'clone3')).toBe(ENOSYS);
    expect(askFilter(c.buffer, 'clone3')).toMatchObject({ action: 'errno', errno: 38 });
  });

  it('refuses what needs capabilities the container lacks', () => {
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'kexec_load', 'kexec_file_load', 'bpf', 'init_module', 'finit_module', 'delete_module', 'settimeofday', 'clock_settime', 'acct', 'swapon', 'pivot_root', 'open_by_handle_at', 'perf_event_open', 'keyctl', 'add_key', 'userfaultfd', 'io_uring_setup', 'sethostname', 'syslog', 'iopl', 'vhangup', 'mbind']) {
      expect(say(c, n), n).toBe(EPERM);
    }
  });

  it('allows socket families on the list, refuses AF_VSOCK and the rest', () => {
    for (const af of [1, 2, 10, 16, 17]) expect(say(c, 'socket', [af]), `af ${af}`).toBe(ALLOW);
    for (const af of [12, 19, 38, 40, 46, 1000]) expect(say(c, 'socket', [af]), `af ${af}`).toBe(EPERM);
    expect(say(c, 'socket', [(1n << 32n) | 2n])).toBe(EPERM); // compared as u64
  });

  it('allows only the listed personalities', () => {
    for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(say(c, 'personality', [p])).toBe(ALLOW);
    for (const p of [0x0040000 /* ADDR_NO_RANDOMIZE */, 1, 0x20009]) expect(say(c, 'personality', [p])).toBe(EPERM);
  });

  it('kills other architectures and refuses x32 syscalls', () => {
    expect(runBpf(c.program, { nr: 20, arch: AUDIT_ARCH_I386 }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(seccompVerdict(runBpf(c.program, { nr: 0, arch: 0xc00000b7 }).ret)).toEqual({ action: 'kill_process' });
    expect(runBpf(c.program, { nr: 0x40000000 | SYSCALLS_X86_64.getpid, arch: AUDIT_ARCH_X86_64 }).ret).toBe(EPERM);
    expect(runBpf(c.program, { nr: 0xffffffff, arch: AUDIT_ARCH_X86_64 }).ret).toBe(EPERM);
    expect(runBpf(c.program, { nr: 9999, arch: AUDIT_ARCH_X86_64 }).ret).toBe(EPERM);
  });

  it('agrees with the profile on every syscall number and argument case', () => {
    expect(crossCheck(c)).toBeGreaterThan(700);
  });

  it('is quick: any syscall decided in a handful of instructions', () => {
    const steps = Object.values(SYSCALLS_X86_64).map((nr) => runBpf(c.program, { nr, arch: AUDIT_ARCH_X86_64 }).steps);
    expect(Math.max(...steps)).toBeLessThan(20);
  });
});

describe('compiled filter, capabilities change the answers', () => {
  it('CAP_SYS_ADMIN allows mount, unshare, setns, namespace clones and clone3', () => {
    const c = compile([...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'bpf', 'perf_event_open', 'fsopen']) expect(say(c, n), n).toBe(ALLOW);
    expect(say(c, 'clone', [CLONE_NEWUSER | SIGCHLD])).toBe(ALLOW);
    expect(say(c, 'clone3')).toBe(ALLOW);
    expect(say(c, 'reboot')).toBe(EPERM);
    expect(say(c, 'kexec_load')).toBe(EPERM);
    expect(crossCheck(c)).toBeGreaterThan(600);
    expect(maxJump(c)).toBeLessThanOrEqual(255);
  });

  it('CAP_BPF alone allows bpf(), CAP_SYS_BOOT reboot(), CAP_SYS_TIME settimeofday, CAP_SYS_MODULE modules', () => {
    expect(say(compile([...DEFAULT_CAPS, 'CAP_BPF']), 'bpf')).toBe(ALLOW);
    expect(say(compile([...DEFAULT_CAPS, 'CAP_SYS_BOOT']), 'reboot')).toBe(ALLOW);
    const time = compile([...DEFAULT_CAPS, 'CAP_SYS_TIME']);
    expect(say(time, 'settimeofday')).toBe(ALLOW);
    expect(say(time, 'clock_settime')).toBe(ALLOW);
    const mod = compile([...DEFAULT_CAPS, 'CAP_SYS_MODULE']);
    for (const n of ['init_module', 'finit_module', 'delete_module']) expect(say(mod, n)).toBe(ALLOW);
    const ptrace = compile([...DEFAULT_CAPS, 'CAP_SYS_PTRACE']);
    expect(say(ptrace, 'kcmp')).toBe(ALLOW);
    expect(say(ptrace, 'pidfd_getfd')).toBe(ALLOW);
  });

  it('without CAP_SYS_CHROOT, chroot is refused; ptrace needs 4.8 or CAP_SYS_PTRACE', () => {
    const noChroot = compile(resolveCapabilities({ capDrop: ['SYS_CHROOT'], lastCap: 40 }).names);
    expect(say(noChroot, 'chroot')).toBe(EPERM);
    const old = compileSeccompProgram(dockerDefaultProfile(), DEFAULT_CAPS, { arch: 'x86_64', kernel: '4.4.0' });
    expect(say(old, 'ptrace')).toBe(EPERM);
    expect(say(compile(DEFAULT_CAPS), 'ptrace')).toBe(ALLOW);
  });

  it('every capability at once still compiles and agrees with the profile', () => {
    const c = compile(resolveCapabilities({ privileged: true, lastCap: 40 }).names);
    expect(c.program.length).toBeLessThan(BPF_MAXINSNS);
    expect(maxJump(c)).toBeLessThanOrEqual(255);
    expect(say(c, 'reboot')).toBe(ALLOW);
    expect(say(c, 'kexec_load')).toBe(EPERM); // not in Docker's profile at all
    crossCheck(c);
  });
});

describe('the assembler keeps long programs legal', () => {
  it('adds trampolines when targets are more than 255 instructions away', () => {
    // 200 syscalls, each allowed only for one argument value: blocks far from the search tree
    const names = Object.keys(SYSCALLS_X86_64).slice(0, 200);
    const profile: SeccompProfile = {
      name: 'long',
      defaultAction: { kind: 'errno', errno: 1 },
      rules: [
        ...names.map((n, i) => ({ names: [n], action: { kind: 'allow' as const }, args: [{ index: i % 6, op: 'eq' as const, value: i + 1 }] })),
        ...names.slice(0, 100).map((n, i) => ({ names: [n], action: { kind: 'errno' as const, errno: 22 }, args: [{ index: 0, op: 'ge' as const, value: 1000 + i }] })),
      ],
    };
    const c = compileSeccompProgram(profile, [], OPTS);
    expect(c.program.length).toBeGreaterThan(600);
    expect(c.program.length).toBeLessThan(BPF_MAXINSNS);
    expect(maxJump(c)).toBeLessThanOrEqual(255);
    crossCheck(c);
    const n0 = SYSCALLS_X86_64[names[5]];
    expect(runBpf(c.program, { nr: n0, arch: AUDIT_ARCH_X86_64, args: [0, 0, 0, 0, 0, 6] }).ret).toBe(ALLOW);
    expect(runBpf(c.program, { nr: n0, arch: AUDIT_ARCH_X86_64, args: [5000] }).ret).toBe((SECCOMP_RET_ERRNO | 22) >>> 0);
    expect(runBpf(c.program, { nr: SYSCALLS_X86_64[names[150]], arch: AUDIT_ARCH_X86_64, args: [5000] }).ret).toBe(EPERM);
  });

  it('handles every comparison operator on 64-bit values', () => {
    const big = (1n << 32n) + 5n;
    const ops = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
    const profile: SeccompProfile = {
      name: 'ops',
      defaultAction: { kind: 'errno', errno: 1 },
      rules: [
        ...ops.map((op, i) => ({ names: [['read', 'write', 'open', 'close', 'stat', 'fstat'][i]], action: { kind: 'allow' as const }, args: [{ index: 1, op, value: big }] })),
        { names: ['lstat'], action: { kind: 'allow' }, args: [{ index: 2, op: 'masked_eq', mask: 0xff00000000n | 0xf0n, value: 0x1200000030n }] },
        { names: ['poll'], action: { kind: 'allow' }, args: [{ index: 0, op: 'eq', value: 1 }, { index: 1, op: 'lt', value: 10 }] },
      ],
    };
    const c = compileSeccompProgram(profile, [], OPTS);
    crossCheck(c);
    const at = (name: string, i: number, v: bigint) => {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[i] = v;
      return runBpf(c.program, { nr: SYSCALLS_X86_64[name], arch: AUDIT_ARCH_X86_64, args }).ret === ALLOW;
    };
    const table: [string, bigint, boolean][] = [
      ['read', big, true], ['read', 5n, false],
      ['write', big, false], ['write', 5n, true],
      ['open', big - 1n, true], ['open', big, false], ['open', 1n << 33n, false],
      ['close', big, true], ['close', big + 1n, false],
      ['stat', big + 1n, true], ['stat', big, false], ['stat', 0xffffffffn, false], ['stat', 1n << 40n, true],
      ['fstat', big, true], ['fstat', big - 1n, false],
    ];
    for (const [name, v, ok] of table) expect(at(name, 1, v), `${name} ${v}`).toBe(ok);
    expect(at('lstat', 2, 0x12ab00003fn)).toBe(true);
    expect(at('lstat', 2, 0x13ab00003fn)).toBe(false);
    expect(at('lstat', 2, 0x1200000020n)).toBe(false);
    expect(runBpf(c.program, { nr: SYSCALLS_X86_64.poll, arch: AUDIT_ARCH_X86_64, args: [1, 9] }).ret).toBe(ALLOW);
    expect(runBpf(c.program, { nr: SYSCALLS_X86_64.poll, arch: AUDIT_ARCH_X86_64, args: [1, 10] }).ret).toBe(EPERM);
    expect(runBpf(c.program, { nr: SYSCALLS_X86_64.poll, arch: AUDIT_ARCH_X86_64, args: [2, 9] }).ret).toBe(EPERM);
  });
});
