// What the v1 and v2 drivers share: timed writes, tolerant readers, the validation of limits
// (done before anything is touched) and the unit conversions between the two versions.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus as hostCpuList } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FS_MAGIC, statfsType } from '../../../native/libc.js';
import { Conflict, InvalidArgument, type IoThrottle, type ResourceLimits } from '../types.js';
import type { CgroupWrite } from './types.js';

export const MiB = 1024 * 1024;
/** Docker's minimum memory limit: the runtime itself needs about that much to start. */
export const MIN_MEMORY = 6 * MiB;
export const DEFAULT_SHARES = 1024;
export const DEFAULT_WEIGHT = 100;
export const DEFAULT_PERIOD = 100_000;
/** USER_HZ: the unit of cpuacct.stat (and /proc/PID/stat times) is fixed at 100 on Linux. */
export const USER_HZ = 100;
/** v1 counters read as PAGE_COUNTER_MAX * page size (9223372036854771712) when unlimited. */
const V1_UNLIMITED = 2 ** 62;

/** The child cgroup of glassbox/<id> the container's monitor runs in. */
export const MONITOR_CGROUP = 'monitor';

/** Directory names a container id may have: it becomes a path component. */
const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new InvalidArgument(`invalid cgroup id ${JSON.stringify(id)}: use letters, digits, '_', '.' and '-'`);
}

/** Collects the writes a driver makes, each one timed. */
export class WriteLog {
  readonly writes: CgroupWrite[] = [];

  write(file: string, value: string): void {
    const t0 = performance.now();
    try {
      writeFileSync(file, value);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const wrapped = new Error(`writing ${JSON.stringify(value)} to ${file}: ${err.code ?? err.message}`) as NodeJS.ErrnoException;
      wrapped.code = err.code;
      throw wrapped;
    }
    this.writes.push({ file, wrote: value, ms: +(performance.now() - t0).toFixed(3) });
  }
}

export function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** First token as an integer; null when the file is missing or reads "max". */
export function readInt(file: string): number | null {
  const t = readText(file)?.trim();
  if (t === undefined || t === '' || t === 'max') return null;
  const n = Number(t.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : null;
}

/** v1 limit files: -1 or a huge number means unlimited. */
export function readV1Limit(file: string): number | null {
  const n = readInt(file);
  if (n === null || n < 0 || n >= V1_UNLIMITED) return null;
  return n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, pids.events ...). */
export function parseKV(text: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

export function readPids(file: string): number[] {
  const t = readText(file);
  if (!t) return [];
  return t
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Subdirectories of dir (child cgroups), depth-first, deepest first. */
export function childDirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    out.push(...childDirsDeepestFirst(sub), sub);
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isCgroupFs(dir: string): boolean {
  try {
    const t = statfsType(dir);
    return t === FS_MAGIC.CGROUP1 || t === FS_MAGIC.CGROUP2;
  } catch {
    return false;
  }
}

/**
 * rmdir a cgroup and the cgroups inside it, deepest first. EBUSY (a process still leaving) is
 * retried for a while; a missing directory is fine. On a fixture tree (not a cgroup filesystem)
 * the interface files are plain files, so the directory is removed with its contents.
 */
export async function removeCgroupDir(dir: string, timeoutMs = 3000): Promise<void> {
  if (!existsSync(dir)) return;
  if (!isCgroupFs(dir)) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const deadline = Date.now() + timeoutMs;
  for (const d of [...childDirsDeepestFirst(dir), dir]) {
    for (;;) {
      try {
        rmdirSync(d);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && Date.now() < deadline) {
          await sleep(20);
          continue;
        }
        throw new Error(`rmdir ${d}: ${code ?? (e as Error).message}`, { cause: e });
      }
    }
  }
}

/** runc ≤1.3 / crun ≤1.22: cpu.shares (2..262144) -> cpu.weight (1..10000), integer arithmetic. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return DEFAULT_WEIGHT;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The inverse, for showing a v2 weight in Docker's units. */
export function weightToShares(weight: number): number {
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

export function hostCpuCount(): number {
  return hostCpuList().length || 1;
}

export interface ValidateContext {
  /** whether swap can be limited (v1 memory.memsw.*, v2 memory.swap.max) */
  swap: boolean;
  /** which limits the hierarchy can carry; a request for a missing one is refused */
  controllers: { memory: boolean; cpu: boolean; pids: boolean; io: boolean };
  /** does the block device MAJ:MIN exist */
  blockDeviceExists(major: number, minor: number): boolean;
  hostCpus: number;
  /** the swap file named in the message when swap accounting is off */
  swapFile: string;
}

function isInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n);
}

/**
 * Check every limit that is present (undefined = not asked for) before anything is written.
 * The messages follow Docker's where Docker has one.
 */
export function validateLimits(l: Partial<ResourceLimits>, ctx: ValidateContext): void {
  if (l.memory !== undefined && l.memory !== null) {
    if (!isInt(l.memory)) throw new InvalidArgument(`memory limit must be a whole number of bytes (asked for ${l.memory})`);
    if (l.memory < MIN_MEMORY) throw new InvalidArgument(`Minimum memory limit allowed is 6MB (asked for ${l.memory} bytes)`);
    if (l.memory > Number.MAX_SAFE_INTEGER) throw new InvalidArgument(`memory limit is too large (asked for ${l.memory} bytes)`);
  }
  if ((l.memory != null || (l.memorySwap != null && l.memorySwap !== -1)) && !ctx.controllers.memory) {
    throw new InvalidArgument('memory limit is not supported: the memory cgroup controller is not available on this host');
  }
  if (l.memorySwap !== undefined && l.memorySwap !== null && l.memorySwap !== -1) {
    if (!isInt(l.memorySwap)) throw new InvalidArgument(`memoryswap limit must be a whole number of bytes (asked for ${l.memorySwap})`);
    if (l.memorySwap > Number.MAX_SAFE_INTEGER) throw new InvalidArgument(`memoryswap limit is too large (asked for ${l.memorySwap} bytes)`);
    if (l.memory === undefined || l.memory === null) {
      throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit');
    }
    if (l.memorySwap < l.memory) throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
    if (!ctx.swap) {
      throw new InvalidArgument(
        `Your kernel does not support swap limit capabilities or the cgroup is not mounted (${ctx.swapFile} does not exist: swap accounting is off, boot with swapaccount=1): a memoryswap limit cannot be set`,
      );
    }
  }
  if (l.cpus !== undefined && l.cpus !== null) {
    if (typeof l.cpus !== 'number' || !(l.cpus >= 0.01) || l.cpus > ctx.hostCpus) {
      throw new InvalidArgument(`Range of CPUs is from 0.01 to ${ctx.hostCpus.toFixed(2)}, as there are only ${ctx.hostCpus} CPUs available`);
    }
    if (!ctx.controllers.cpu) throw new InvalidArgument('CPU quota is not supported: the cpu cgroup controller is not available on this host');
  }
  if (l.cpuPeriod !== undefined) {
    if (!isInt(l.cpuPeriod) || l.cpuPeriod < 1000 || l.cpuPeriod > 1_000_000) {
      throw new InvalidArgument(`CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000) (asked for ${l.cpuPeriod})`);
    }
  }
  if (l.cpus != null && l.cpuPeriod !== undefined && Math.round(l.cpus * l.cpuPeriod) < 1000) {
    throw new InvalidArgument(`CPU cfs quota can not be less than 1ms (i.e. 1000): ${l.cpus} CPUs of a ${l.cpuPeriod}µs period is ${Math.round(l.cpus * l.cpuPeriod)}µs`);
  }
  if (l.cpuShares !== undefined && l.cpuShares !== null && l.cpuShares !== 0) {
    if (!isInt(l.cpuShares) || l.cpuShares < 2 || l.cpuShares > 262144) {
      throw new InvalidArgument(`cpu shares must be between 2 and 262144 (asked for ${l.cpuShares})`);
    }
    if (!ctx.controllers.cpu) throw new InvalidArgument('CPU shares are not supported: the cpu cgroup controller is not available on this host');
  }
  if (l.pids !== undefined && l.pids !== null && l.pids !== -1) {
    if (!isInt(l.pids) || l.pids < 1) throw new InvalidArgument(`pids limit must be at least 1, or -1 for unlimited (asked for ${l.pids})`);
    if (l.pids > 2 ** 31) throw new InvalidArgument(`pids limit is too large (asked for ${l.pids})`);
    if (!ctx.controllers.pids) throw new InvalidArgument('PIDs limit is not supported: the pids cgroup controller is not available on this host');
  }
  if (l.io !== undefined) {
    if (!Array.isArray(l.io)) throw new InvalidArgument('io throttles must be a list');
    if (l.io.length > 0 && !ctx.controllers.io) throw new InvalidArgument('IO throttling is not supported: the blkio/io cgroup controller is not available on this host');
    const seen = new Set<string>();
    for (const t of l.io) {
      if (!isInt(t.major) || !isInt(t.minor) || t.major < 0 || t.minor < 0) {
        throw new InvalidArgument(`invalid block device ${t.major}:${t.minor}`);
      }
      const dev = `${t.major}:${t.minor}`;
      if (seen.has(dev)) throw new InvalidArgument(`block device ${dev} is given twice in the io throttles`);
      seen.add(dev);
      for (const k of ['readBps', 'writeBps', 'readIops', 'writeIops'] as const) {
        const v = t[k];
        if (v !== undefined && (!isInt(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)) {
          throw new InvalidArgument(`invalid ${k} for device ${dev}: must be a positive integer (asked for ${v})`);
        }
      }
      if (!ctx.blockDeviceExists(t.major, t.minor)) {
        throw new InvalidArgument(`no such block device ${dev}: io throttling needs an existing block device (see /sys/dev/block)`);
      }
    }
  }
}

export function defaultBlockDeviceExists(devBlockDir = '/sys/dev/block'): (major: number, minor: number) => boolean {
  return (major, minor) => existsSync(join(devBlockDir, `${major}:${minor}`));
}

export function ioKey(t: IoThrottle): string {
  return `${t.major}:${t.minor}`;
}

/** Wait until check() is true, polling; false on timeout. */
export async function waitFor(check: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/** SIGKILL each pid (the container's own processes, read from its cgroup.procs); gone is fine. */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/**
 * SIGKILL the listed processes until the list stays empty: a process may have forked after the
 * list was read (v1 freezes first to make that rare, v2's cgroup.kill rules it out).
 */
export async function killUntilEmpty(list: () => number[], timeoutMs: number, what: string): Promise<void> {
  let last: number[] = [];
  const ok = await waitFor(
    () => {
      last = list();
      if (last.length) killPids(last);
      return last.length === 0;
    },
    timeoutMs,
    20,
  );
  if (!ok) throw new Error(`${what} still has processes after SIGKILL: ${last.join(' ')}`);
}

/**
 * Make a container's cgroup directory under the shared parent (glassbox/). The parent is removed
 * when its last container goes (removeParentIfEmpty), so another engine may remove it between our
 * mkdirs: then it is made again, and prepared again (cpuset values, v2 subtree_control).
 */
export function makeCgroupDir(parent: string, dir: string, prepareParent: () => void = () => {}): void {
  for (let attempt = 0; ; attempt++) {
    mkdirSync(parent, { recursive: true }); // no EEXIST when two creates race for the parent
    prepareParent();
    try {
      mkdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new Conflict(`cgroup ${dir} already exists`);
      if (code !== 'ENOENT' || attempt >= 3) throw e;
    }
  }
}

/** rmdir the shared parent once no container cgroup is left in it; busy or not empty is fine. */
export function removeParentIfEmpty(parent: string): void {
  try {
    rmdirSync(parent);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw e;
  }
}
