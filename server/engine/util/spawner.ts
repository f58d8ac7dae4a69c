// Starting a program at the same cost whatever the server's size. Node's child_process forks:
// the kernel copies the server's page tables before the child can exec, so a spawn costs 2 ms
// with a 75 MB server and 18 ms at 374 MB, and every container start spawns the helper and `ip`
// a few times. glibc's posix_spawn(3) clones with CLONE_VM | CLONE_VFORK instead: the child runs
// in the server's memory (nothing copied) until its execve, so the cost is flat. It is also safe
// in a threaded process (the child runs on its own stack with every signal blocked, and resets
// them all to their defaults, as libuv does for its children).
//
// What Node would do for us, done here: pipes for stdio (wrapped as net.Sockets), the exit status
// (waitpid on SIGCHLD, only for the children that can have ended: see Reaper), and a fallback to
// child_process.spawn if posix_spawn fails for a reason of its own (not the program's: ENOENT,
// EACCES ... are reported as 'error', as Node does), so nothing fails because this path did.
//
// Descriptors: the child gets stdio and nothing else (posix_spawn_file_actions_addclosefrom_np;
// Node's spawn passes on whatever the server left without O_CLOEXEC); gb-helper closes
// everything above 2 itself before anything else anyway.
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { errnoName, lastErrno, libc, O_CLOEXEC } from '../../../native/libc.js';

// posix_spawnp: a bare name (`ip`) is looked up in PATH, as child_process does
const _posixSpawn = libc.func('int posix_spawnp(_Out_ int *pid, const char *path, void *fileActions, void *attr, const char **argv, const char **envp)');
const _faInit = libc.func('int posix_spawn_file_actions_init(void *fa)');
const _faDestroy = libc.func('int posix_spawn_file_actions_destroy(void *fa)');
const _faDup2 = libc.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
// glibc 2.34+: the child closes every descriptor above 2 before its exec, so nothing the server
// opened without O_CLOEXEC (a library's pipe, say) reaches the program. Where it is missing, the
// child gets what a child_process child gets.
const _faCloseFrom = (() => {
  try {
    return libc.func('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)');
  } catch {
    return null;
  }
})();
const _attrInit = libc.func('int posix_spawnattr_init(void *attr)');
const _attrDestroy = libc.func('int posix_spawnattr_destroy(void *attr)');
const _attrSetFlags = libc.func('int posix_spawnattr_setflags(void *attr, short flags)');
const _attrSetSigmask = libc.func('int posix_spawnattr_setsigmask(void *attr, void *set)');
const _attrSetSigdefault = libc.func('int posix_spawnattr_setsigdefault(void *attr, void *set)');
const _sigemptyset = libc.func('int sigemptyset(void *set)');
const _sigfillset = libc.func('int sigfillset(void *set)');
const _pipe2 = libc.func('int pipe2(void *fds, int flags)');
const _close = libc.func('int close(int fd)');
const _waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');

// glibc's sizes on x86_64 (and aarch64): posix_spawn_file_actions_t 80, posix_spawnattr_t 336,
// sigset_t 128 bytes. Allocated larger: libc writes into them, and a short buffer would be a
// heap overwrite.
const FA_SIZE = 256;
const ATTR_SIZE = 512;
const SIGSET_SIZE = 256;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const WNOHANG = 1;

/** errnos that are the program's, not the spawn path's: reported as Node reports them */
const PROGRAM_ERRNOS = new Set(['ENOENT', 'EACCES', 'ENOEXEC', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EPERM', 'ETXTBSY', 'EISDIR']);
const signalName = (n: number) => (Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? null) as NodeJS.Signals | null;

export interface SpawnOptions {
  /** the whole environment (default: the server's) */
  env?: Record<string, string | undefined>;
  /** its own session (setsid), as child_process' `detached`: not killed with our process group */
  detached?: boolean;
}

/** The part of a ChildProcess the engine uses: stdio pipes, 'exit' (code, signal), 'error', kill, unref. */
export interface SpawnedProcess extends EventEmitter {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  unref(): void;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (e: NodeJS.ErrnoException) => void): this;
}

function closeQuietly(fd: number): void {
  if (fd >= 0) _close(fd);
}

function pipe(): [number, number] {
  const b = Buffer.alloc(8);
  if (_pipe2(b, O_CLOEXEC) < 0) {
    const e = new Error(`pipe2: ${errnoName(lastErrno())}`);
    throw e;
  }
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

/** A child started by posix_spawn: its exit comes from the Reaper. */
class FlatChild extends EventEmitter implements SpawnedProcess {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** once its stdio is all closed, its end is near: only then is it polled for (see Reaper) */
  openStreams = 0;
  refd = true;
  constructor(
    readonly pid: number,
    readonly stdin: Writable,
    readonly stdout: Readable,
    readonly stderr: Readable,
  ) {
    super();
  }
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false; // reaped: the pid may be another's now
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
  unref(): void {
    this.refd = false;
    reaper.update();
  }
}

/**
 * Reaps the children posix_spawn started (libuv waits only for its own). On SIGCHLD it calls
 * waitpid(pid, WNOHANG) for the children that may have ended: those marked `eager` at spawn
 * (short commands, exec sessions) and those whose stdio is closed (a monitor closes its status
 * channel only by ending). A container's monitor runs for days: it is not polled for each
 * SIGCHLD any other child sends, so the cost of a SIGCHLD does not grow with the containers.
 * A timer backs the signal (a SIGCHLD handled before the child was marked), and holds the
 * event loop open only while a referenced child is about to end.
 */
class Reaper {
  private readonly all = new Map<number, FlatChild>();
  private readonly due = new Set<FlatChild>();
  private listening = false;
  private timer: NodeJS.Timeout | null = null;

  add(c: FlatChild, eager: boolean): void {
    this.all.set(c.pid, c);
    if (!this.listening) {
      process.on('SIGCHLD', () => this.sweep());
      this.listening = true;
    }
    // not now: a quick command may have ended already, and its 'exit' must come after the
    // caller's listeners are on
    if (eager) process.nextTick(() => this.markDue(c));
  }

  markDue(c: FlatChild): void {
    if (!this.all.has(c.pid)) return;
    this.due.add(c);
    this.sweep();
  }

  sweep(): void {
    for (const c of this.due) {
      const st = [0];
      const r = _waitpid(c.pid, st, WNOHANG) as number;
      if (r === 0) continue;
      this.due.delete(c);
      this.all.delete(c.pid);
      const status = st[0];
      if (r < 0) {
        // ECHILD: someone else reaped it; its status is lost
        c.exitCode = 255;
        c.emit('exit', 255, null);
      } else if ((status & 0x7f) === 0) {
        c.exitCode = (status >> 8) & 0xff;
        c.emit('exit', c.exitCode, null);
      } else {
        c.signalCode = signalName(status & 0x7f);
        c.emit('exit', null, c.signalCode);
      }
    }
    this.update();
  }

  update(): void {
    if (!this.due.size) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    if (!this.timer) this.timer = setInterval(() => this.sweep(), 20);
    const keepAlive = [...this.due].some((c) => c.refd);
    if (keepAlive) this.timer.ref();
    else this.timer.unref();
  }

  /** for the tests: children started and not yet reaped */
  get pending(): number {
    return this.all.size;
  }
}

const reaper = new Reaper();

/** Children posix_spawn started that were not reaped yet (tests). */
export function unreapedChildren(): number {
  return reaper.pending;
}

/** Whether the last spawnProcess fell back to child_process.spawn (tests, and the curious). */
export let lastSpawnFellBack = false;

/** for the tests: make posix_spawn fail as if for a reason of its own (EAGAIN) */
let failNextForTest = false;
export function failNextPosixSpawnForTest(): void {
  failNextForTest = true;
}

function envList(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

/**
 * Start `file` with `args`, stdio all pipes. `eager`: poll for its exit from the start (a command
 * whose exit status matters while its output may still be open); otherwise it is reaped once its
 * stdio is closed.
 */
export function spawnProcess(file: string, args: string[], opts: SpawnOptions & { eager?: boolean } = {}): SpawnedProcess {
  const env = opts.env ?? process.env;
  const fds: number[] = [];
  let inP: [number, number] | null = null;
  let outP: [number, number] | null = null;
  let errP: [number, number] | null = null;
  const fa = Buffer.alloc(FA_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  let pid = -1;
  let err = 0;
  try {
    inP = pipe();
    outP = pipe();
    errP = pipe();
    fds.push(...inP, ...outP, ...errP);
    _faInit(fa);
    _attrInit(attr);
    try {
      // dup2 onto 0/1/2 clears O_CLOEXEC on the copies; the originals close at exec
      _faDup2(fa, inP[0], 0);
      _faDup2(fa, outP[1], 1);
      _faDup2(fa, errP[1], 2);
      if (_faCloseFrom) _faCloseFrom(fa, 3);
      const none = Buffer.alloc(SIGSET_SIZE);
      const every = Buffer.alloc(SIGSET_SIZE);
      _sigemptyset(none);
      _sigfillset(every);
      _attrSetSigmask(attr, none);
      // Node ignores SIGPIPE: the child must not inherit that (libuv resets every signal too)
      _attrSetSigdefault(attr, every);
      _attrSetFlags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (opts.detached ? POSIX_SPAWN_SETSID : 0));
      const out = [0];
      if (failNextForTest) {
        failNextForTest = false;
        err = osConstants.errno.EAGAIN;
      } else {
        err = _posixSpawn(out, file, fa, attr, [file, ...args, null], [...envList(env), null]) as number;
      }
      pid = out[0];
    } finally {
      _faDestroy(fa);
      _attrDestroy(attr);
    }
  } catch (e) {
    for (const fd of fds) closeQuietly(fd);
    return fallback(file, args, opts, e as Error);
  }
  // the child's ends are its own now
  closeQuietly(inP[0]);
  closeQuietly(outP[1]);
  closeQuietly(errP[1]);
  if (err !== 0) {
    closeQuietly(inP[1]);
    closeQuietly(outP[0]);
    closeQuietly(errP[0]);
    const name = errnoName(err);
    if (!PROGRAM_ERRNOS.has(name)) return fallback(file, args, opts, new Error(`posix_spawn: ${name}`));
    return failed(file, args, name, err);
  }
  lastSpawnFellBack = false;
  const stdin = new Socket({ fd: inP[1], readable: false, writable: true });
  const stdout = new Socket({ fd: outP[0], readable: true, writable: false });
  const stderr = new Socket({ fd: errP[0], readable: true, writable: false });
  const child = new FlatChild(pid, stdin, stdout, stderr);
  child.openStreams = 2;
  for (const s of [stdout, stderr]) {
    s.once('close', () => {
      if (--child.openStreams === 0) reaper.markDue(child);
    });
  }
  reaper.add(child, opts.eager ?? false);
  return child;
}

/** posix_spawn refused the program (ENOENT ...): an 'error' event, as child_process gives. */
function failed(file: string, args: string[], code: string, errno: number): SpawnedProcess {
  const e = Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: -errno, syscall: `spawn ${file}`, path: file, spawnargs: args });
  const ee = new EventEmitter() as SpawnedProcess & { pid: undefined };
  Object.assign(ee, { pid: undefined, stdin: null, stdout: null, stderr: null, exitCode: null, signalCode: null, kill: () => false, unref: () => {} });
  lastSpawnFellBack = false;
  process.nextTick(() => ee.emit('error', e));
  return ee;
}

/** posix_spawn itself failed (EAGAIN, ENOMEM ...): Node's fork path, slower but working. */
function fallback(file: string, args: string[], opts: SpawnOptions, why: Error): SpawnedProcess {
  lastSpawnFellBack = true;
  void why;
  const c: ChildProcess = nodeSpawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: (opts.env ?? process.env) as NodeJS.ProcessEnv, detached: opts.detached ?? false });
  return c as unknown as SpawnedProcess;
}

export class ExecError extends Error {
  constructor(
    message: string,
    /** the exit code, or the errno name when it did not start (as child_process.execFile's) */
    readonly code: number | string | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

/** execFile's job on spawnProcess: run to the end, collect stdout/stderr; non-zero exit rejects. */
export function execProcess(file: string, args: string[], opts: { input?: string; timeoutMs?: number; maxBuffer?: number; env?: Record<string, string | undefined> } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(file, args, { env: opts.env, eager: true });
    const max = opts.maxBuffer ?? 64 * 1024 * 1024;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let open = 2;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, opts.timeoutMs)
      : null;
    const done = () => {
      if (!exit || open > 0) return;
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const call = [file, ...args].join(' ');
      if (tooBig) return reject(new ExecError(`${call}: output over ${max} bytes`, exit.code, exit.signal, stdout, stderr));
      if (timedOut) return reject(new ExecError(`${call}: timed out after ${opts.timeoutMs} ms`, exit.code, exit.signal, stdout, stderr));
      if (exit.code !== 0) return reject(new ExecError(`Command failed: ${call}\n${stderr}`, exit.code, exit.signal, stdout, stderr));
      resolve({ stdout, stderr });
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new ExecError(e.message, e.code ?? null, null, '', ''));
    });
    if (!child.stdout || !child.stderr || !child.stdin) return; // 'error' follows
    for (const [s, into] of [
      [child.stdout, out],
      [child.stderr, err],
    ] as const) {
      s.on('data', (d: Buffer) => {
        size += d.length;
        if (size > max) {
          tooBig = true;
          child.kill('SIGTERM');
        } else into.push(d);
      });
      s.once('close', () => (open--, done()));
    }
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      exit = { code, signal };
      done();
    });
    child.stdin.on('error', () => {}); // it may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}
