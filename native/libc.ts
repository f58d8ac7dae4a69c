// libc calls that Node's standard library does not offer, bound with koffi.
// The engine uses these instead of shelling out to mount(8), mknod(1) or setfattr(1): each call is
// one syscall, and an error names the call, its argument and the errno, so the timeline can show it.
import koffi from 'koffi';
import { constants as osConstants } from 'node:os';

/** the one handle on libc: other modules that bind a call of their own (util/spawner.ts) use it */
export const libc = koffi.load('libc.so.6');

// errno is thread-local in libc; koffi gives us __errno_location to read it right after a call.
const errnoLocation = libc.func('int *__errno_location(void)');
const strerror = libc.func('const char *strerror(int errnum)');

export function lastErrno(): number {
  return koffi.decode(errnoLocation(), 'int') as number;
}

const errnoNames: Record<number, string> = Object.fromEntries(
  Object.entries(osConstants.errno).map(([name, num]) => [num, name]),
);

/** EPERM, ENOENT ... for an errno number ("errno N" for one Node does not name) */
export function errnoName(n: number): string {
  return errnoNames[n] ?? `errno ${n}`;
}

/** An error from a libc call, carrying the call, its target and the errno name (EPERM, EBUSY...). */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly target: string,
    readonly errno: number,
  ) {
    super(`${call} ${target}: ${strerror(errno)} (${errnoNames[errno] ?? errno})`);
    this.name = 'SyscallError';
  }
  get code(): string {
    return errnoNames[this.errno] ?? String(this.errno);
  }
}

function check(ret: number | bigint, call: string, target: string): number {
  if (Number(ret) < 0) throw new SyscallError(call, target, lastErrno());
  return Number(ret);
}

// ---- mount(2) / umount2(2) ----
const _mount = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const _umount2 = libc.func('int umount2(const char *target, int flags)');

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  STRICTATIME: 1 << 24,
} as const;

export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(_mount(source, target, fstype, flags, data), `mount(${fstype ?? 'bind'})`, target);
}

export function umount2(target: string, flags = 0): void {
  check(_umount2(target, flags), 'umount2', target);
}

/**
 * umount2 on one of koffi's worker threads: an overlay unmount waits in the kernel for an RCU
 * grace period (~4 ms here), which 500 removals spent on the event loop. Resolves to the return
 * value only (0 or -1): errno belongs to the worker thread, so a caller that needs the reason
 * repeats the call with umount2(), which is quick when it fails.
 */
export function umount2Async(target: string, flags = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    (_umount2 as unknown as { async: (t: string, f: number, cb: (err: unknown, ret: number) => void) => void }).async(target, flags, (err, ret) => (err ? reject(err) : resolve(ret)));
  });
}

// ---- mknod(2): whiteouts are character devices 0:0 ----
const _mknod = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(_mknod(path, mode, makedev(major, minor)), 'mknod', path);
}

// ---- extended attributes (trusted.overlay.opaque, security.capability ...) ----
const _lsetxattr = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const _lgetxattr = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
const _llistxattr = libc.func('intptr_t llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
const ENODATA = 61;

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(_lsetxattr(path, name, value, value.length, 0), `lsetxattr(${name})`, path);
}

/** The attribute's value, or null when the file does not have it. */
export function lgetxattr(path: string, name: string): Buffer | null {
  const buf = Buffer.alloc(65536);
  const n = Number(_lgetxattr(path, name, buf, buf.length));
  if (n < 0) {
    const e = lastErrno();
    if (e === ENODATA || e === osConstants.errno.ENOTSUP) return null;
    throw new SyscallError(`lgetxattr(${name})`, path, e);
  }
  return buf.subarray(0, n);
}

export function llistxattr(path: string): string[] {
  const buf = Buffer.alloc(65536);
  const n = Number(_llistxattr(path, buf, buf.length));
  if (n < 0) {
    const e = lastErrno();
    if (e === osConstants.errno.ENOTSUP) return [];
    throw new SyscallError('llistxattr', path, e);
  }
  return buf.subarray(0, n).toString('latin1').split('\0').filter(Boolean);
}

// ---- statfs(2): which filesystem is at a path (cgroup2 vs tmpfs at /sys/fs/cgroup) ----
const _statfs = libc.func('int statfs(const char *path, _Out_ uint8_t *buf)');
export const FS_MAGIC = {
  CGROUP2: 0x63677270,
  CGROUP1: 0x27e0eb,
  TMPFS: 0x01021994,
  OVERLAYFS: 0x794c7630,
  PROC: 0x9fa0,
} as const;

/** f_type of the filesystem holding path. */
export function statfsType(path: string): number {
  const buf = Buffer.alloc(120); // struct statfs is 120 bytes on x86_64/aarch64; f_type is first
  check(_statfs(path, buf), 'statfs', path);
  return Number(buf.readBigInt64LE(0));
}

// ---- pidfds: signal a process without racing against pid reuse ----
const _syscall3 = libc.func('long syscall(long number, int a, int b, int c)');
const _syscall4 = libc.func('long syscall(long number, int a, int b, void *c, unsigned int d)');
const SYS = process.arch === 'arm64'
  ? { pidfd_open: 434, pidfd_send_signal: 424 }
  : { pidfd_open: 434, pidfd_send_signal: 424 };

export function pidfdOpen(pid: number): number {
  return check(_syscall3(SYS.pidfd_open, pid, 0, 0), 'pidfd_open', String(pid));
}

export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(_syscall4(SYS.pidfd_send_signal, pidfd, signal, null, 0), 'pidfd_send_signal', `fd ${pidfd}`);
}

// ---- openat2(2): a lookup the kernel keeps inside a directory (RESOLVE_IN_ROOT) ----
const _openat2 = libc.func('long syscall(long number, int dirfd, const char *path, void *how, size_t size)');
const SYS_openat2 = 437; // the same number on every architecture (one unified table since 5.1)
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;

/** openat2(dirfd, path, {flags, mode 0, resolve}): a descriptor, or a SyscallError (ENOENT, ELOOP...). */
export function openat2(dirfd: number, path: string, flags: number, resolve: number): number {
  const how = Buffer.alloc(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return check(_openat2(SYS_openat2, dirfd, path, how, how.length), 'openat2', path);
}

const _close = libc.func('int close(int fd)');
export function closeFd(fd: number): void {
  _close(fd);
}

/**
 * Send a signal to pid only if it is still the process that started at startTime
 * (field 22 of /proc/PID/stat). Opening the pidfd first and checking afterwards closes the
 * window in which the pid could be reused. Returns false when the process is gone.
 */
export function signalProcess(pid: number, signal: number, startTime: string, readStartTime: (pid: number) => string | null): boolean {
  let fd: number;
  try {
    fd = pidfdOpen(pid);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'ESRCH') return false;
    throw e;
  }
  try {
    if (readStartTime(pid) !== startTime) return false;
    try {
      pidfdSendSignal(fd, signal);
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ESRCH') return false;
      throw e;
    }
    return true;
  } finally {
    closeFd(fd);
  }
}

// ---- descriptors: close-on-exec, and memfds (a sealed in-memory copy of the helper) ----
const _fcntl = libc.func('int fcntl(int fd, int cmd, ...)');
const _memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
export const MFD = { CLOEXEC: 1, ALLOW_SEALING: 2, EXEC: 0x10 } as const;
export const F_SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8, EXEC: 0x20 } as const;

/**
 * Mark fd close-on-exec. Descriptors a native addon opened without O_CLOEXEC (node-pty's pty
 * masters) would otherwise be inherited by every process the server starts after them.
 */
export function setCloexec(fd: number): void {
  const flags = check(_fcntl(fd, F_GETFD), 'fcntl(F_GETFD)', `fd ${fd}`);
  check(_fcntl(fd, F_SETFD, 'int', flags | FD_CLOEXEC), 'fcntl(F_SETFD, FD_CLOEXEC)', `fd ${fd}`);
}

// close_range(2) is 436 in the generic syscall table (x86_64 and arm64 alike)
const _closeRange = libc.func('long syscall(long number, unsigned int first, unsigned int last, unsigned int flags)');
const SYS_close_range = 436;
const CLOSE_RANGE_CLOEXEC = 1 << 2;

/**
 * Mark every descriptor from `first` up close-on-exec (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)).
 * For the server at start: whatever its parent left it (an IPC channel of tsx or a test runner)
 * is then not handed on to the helpers it starts. Node and libuv dup2 what they pass on purpose.
 */
export function cloexecFrom(first: number): void {
  check(_closeRange(SYS_close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC), 'close_range(CLOSE_RANGE_CLOEXEC)', `from fd ${first}`);
}

export function isCloexec(fd: number): boolean {
  return (check(_fcntl(fd, F_GETFD), 'fcntl(F_GETFD)', `fd ${fd}`) & FD_CLOEXEC) !== 0;
}

export function memfdCreate(name: string, flags: number): number {
  return check(_memfdCreate(name, flags), 'memfd_create', name);
}

export function addSeals(fd: number, seals: number): void {
  check(_fcntl(fd, F_ADD_SEALS, 'int', seals), 'fcntl(F_ADD_SEALS)', `fd ${fd}`);
}

/** The seals of a memfd (F_SEAL_* bits); -1 for a file that cannot be sealed. */
export function getSeals(fd: number): number {
  return Number(_fcntl(fd, F_GET_SEALS));
}


// ---- bpf(2): load an eBPF program and attach it to a cgroup (cgroups/device-filter.ts) ----
const SYS_bpf = process.arch === 'arm64' ? 280 : 321;
export const BPF_CMD = { PROG_LOAD: 5, PROG_ATTACH: 8 } as const;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
// union bpf_attr, the BPF_PROG_LOAD part up to expected_attach_type (the kernel zero-fills the rest)
const BpfProgLoadAttr = koffi.struct('gb_bpf_prog_load_attr', {
  prog_type: 'uint32',
  insn_cnt: 'uint32',
  insns: 'void *',
  license: 'const char *',
  log_level: 'uint32',
  log_size: 'uint32',
  log_buf: 'void *',
  kern_version: 'uint32',
  prog_flags: 'uint32',
  prog_name: koffi.array('char', 16, 'Array'),
  prog_ifindex: 'uint32',
  expected_attach_type: 'uint32',
});
const _bpfLoad = libc.func('long syscall(long number, int cmd, gb_bpf_prog_load_attr *attr, unsigned int size)');
const _bpfBuf = libc.func('long syscall(long number, int cmd, void *attr, unsigned int size)');

/**
 * BPF_PROG_LOAD: a program fd. insns is the eBPF code (8 bytes an instruction). On EINVAL/EACCES
 * the load is repeated with the verifier's log, and the error carries the log's last line.
 */
export function bpfProgLoad(progType: number, insns: Buffer, name: string, license = 'GPL'): number {
  const attr = (logBuf: Buffer | null) => ({
    prog_type: progType,
    insn_cnt: insns.length / 8,
    insns,
    license,
    log_level: logBuf ? 1 : 0,
    log_size: logBuf ? logBuf.length : 0,
    log_buf: logBuf,
    kern_version: 0,
    prog_flags: 0,
    prog_name: [...Buffer.from(name.slice(0, 15).padEnd(16, '\0'))],
    prog_ifindex: 0,
    expected_attach_type: 0,
  });
  const fd = Number(_bpfLoad(SYS_bpf, BPF_CMD.PROG_LOAD, attr(null), koffi.sizeof(BpfProgLoadAttr)));
  if (fd >= 0) return fd;
  const errno = lastErrno();
  const log = Buffer.alloc(64 * 1024);
  // the second load, with the verifier's log, may well succeed (the first failed for a moment:
  // EAGAIN, memory): then that program is the one, not a descriptor left open and an error
  const again = Number(_bpfLoad(SYS_bpf, BPF_CMD.PROG_LOAD, attr(log), koffi.sizeof(BpfProgLoadAttr)));
  if (again >= 0) return again;
  const lines = log.toString('utf8').replace(/\0[\s\S]*$/, '').trim().split('\n');
  throw new SyscallError('bpf(BPF_PROG_LOAD)', `${name}${lines[0] ? ` (verifier: ${lines.slice(-2).join(' / ')})` : ''}`, errno);
}

/** BPF_PROG_ATTACH of progFd to the cgroup open at targetFd (flags 0: children cannot add their own). */
export function bpfProgAttach(targetFd: number, progFd: number, attachType: number, target: string, flags = 0): void {
  const attr = Buffer.alloc(20); // target_fd, attach_bpf_fd, attach_type, attach_flags, replace_bpf_fd
  attr.writeUInt32LE(targetFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  attr.writeUInt32LE(flags, 12);
  check(_bpfBuf(SYS_bpf, BPF_CMD.PROG_ATTACH, attr, attr.length), 'bpf(BPF_PROG_ATTACH)', target);
}
