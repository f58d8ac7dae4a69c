// The cgroup v1 driver: one directory glassbox/<id> in each controller's hierarchy (memory, cpu,
// cpuacct, pids, blkio, freezer, cpuset, devices), as runc's cgroupfs driver does on a v1 or
// hybrid host. Co-mounted controllers ("cpu,cpuacct") share one directory.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, type ResourceLimits } from '../types.js';
import {
  checkId,
  DEFAULT_PERIOD,
  DEFAULT_SHARES,
  defaultBlockDeviceExists,
  hostCpuCount,
  ioKey,
  killPids,
  killUntilEmpty,
  makeCgroupDir,
  MONITOR_CGROUP,
  parseKV,
  readInt,
  readPids,
  readText,
  readV1Limit,
  removeCgroupDir,
  removeParentIfEmpty,
  childDirsDeepestFirst,
  sharesToWeight,
  USER_HZ,
  validateLimits,
  waitFor,
  WriteLog,
} from './util.js';
import { findV1Hierarchies, V1_CONTROLLERS, type V1Controller } from './detect.js';
import type { CgroupDriver, CgroupLayout, CgroupStats, CgroupWrite } from './types.js';
import { BLKIO_FILES, DEVICE_ALLOW_RULES, V1_STAT_NAMES } from './v1-files.js';
import { writeExtraLimitsV1 } from './extra-limits.js';

export interface CgroupV1Options {
  /** controller -> hierarchy directory; default: from /proc/self/mountinfo */
  hierarchies?: Partial<Record<V1Controller, string>>;
  /** 'v1' or 'hybrid' (only reported) */
  layout?: CgroupLayout;
  /** override swap-accounting detection (default: memory.memsw.limit_in_bytes exists in the memory root) */
  swapAccounting?: boolean;
  /** default /sys/dev/block: where MAJ:MIN of block devices are looked up */
  devBlockDir?: string;
  /** host CPU count for the --cpus range check (default os.cpus().length) */
  hostCpus?: number;
  /** how long freeze and killAll wait (ms) */
  timeoutMs?: number;
  /** the parent directory's name in each hierarchy (default glassbox; a test prefix's glassbox-t7) */
  parent?: string;
}

export { DEVICE_ALLOW_RULES };

export class CgroupV1Driver implements CgroupDriver {
  readonly layout: CgroupLayout;
  readonly name = 'cgroupfs';
  readonly version = 1 as const;
  /** controller -> hierarchy root */
  readonly hierarchies: Partial<Record<V1Controller, string>>;
  private readonly swap: boolean;
  private readonly blockDeviceExists: (major: number, minor: number) => boolean;
  private readonly hostCpus: number;
  private readonly timeoutMs: number;
  /** glassbox, or a test prefix's own parent (host/naming.ts) */
  readonly parent: string;

  constructor(opts: CgroupV1Options = {}) {
    this.parent = opts.parent ?? 'glassbox';
    this.hierarchies = opts.hierarchies ?? findV1Hierarchies();
    this.layout = opts.layout ?? 'v1';
    const mem = this.hierarchies.memory;
    this.swap = opts.swapAccounting ?? (mem ? existsSync(join(mem, 'memory.memsw.limit_in_bytes')) : false);
    this.blockDeviceExists = defaultBlockDeviceExists(opts.devBlockDir);
    this.hostCpus = opts.hostCpus ?? hostCpuCount();
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  swapSupported(): boolean {
    return this.swap;
  }

  /** Distinct hierarchy roots, named by their controllers ("cpu,cpuacct" when co-mounted). */
  private roots(): { name: string; root: string }[] {
    const byRoot = new Map<string, string[]>();
    for (const c of V1_CONTROLLERS) {
      const r = this.hierarchies[c];
      if (!r) continue;
      const list = byRoot.get(r) ?? [];
      list.push(c);
      byRoot.set(r, list);
    }
    return [...byRoot].map(([root, cs]) => ({ name: cs.sort().join(','), root }));
  }

  /** The container's directory in the hierarchy holding controller c, or null if c is not mounted. */
  private dir(id: string, c: V1Controller): string | null {
    const r = this.hierarchies[c];
    return r ? join(r, this.parent, id) : null;
  }

  private file(id: string, c: V1Controller, f: string): string | null {
    const d = this.dir(id, c);
    return d ? join(d, f) : null;
  }

  paths(id: string): Record<string, string> {
    return Object.fromEntries(this.roots().map(({ name, root }) => [name, join(root, this.parent, id)]));
  }

  procsFiles(id: string): string[] {
    return this.roots().map(({ root }) => join(root, this.parent, id, 'cgroup.procs'));
  }

  /** The hierarchies that meter what the monitor does: CPU time and memory, not pids or the freezer. */
  private monitorRoots(): string[] {
    const roots = new Set<string>();
    for (const c of ['cpu', 'cpuacct', 'memory'] as const) if (this.hierarchies[c]) roots.add(this.hierarchies[c]!);
    return [...roots];
  }

  monitorProcsFiles(id: string): string[] {
    return this.monitorRoots().map((root) => join(root, this.parent, id, MONITOR_CGROUP, 'cgroup.procs'));
  }

  private ctx() {
    return {
      swap: this.swap,
      swapFile: 'memory.memsw.limit_in_bytes',
      controllers: {
        memory: !!this.hierarchies.memory,
        cpu: !!this.hierarchies.cpu,
        pids: !!this.hierarchies.pids,
        io: !!this.hierarchies.blkio,
      },
      blockDeviceExists: this.blockDeviceExists,
      hostCpus: this.hostCpus,
    };
  }

  async create(id: string, limits: ResourceLimits): Promise<CgroupWrite[]> {
    checkId(id);
    validateLimits(limits, this.ctx());
    const log = new WriteLog();
    const made: string[] = [];
    try {
      for (const { root } of this.roots()) {
        const dir = join(root, this.parent, id);
        makeCgroupDir(join(root, this.parent), dir);
        made.push(dir);
      }
      // cpuset: a new cpuset cgroup starts with empty cpus/mems and no task may join it until they
      // are set; copy them from the parent, for glassbox/ first and then for the container.
      const cpuset = this.hierarchies.cpuset;
      if (cpuset) {
        for (const [parent, child] of [
          [cpuset, join(cpuset, this.parent)],
          [join(cpuset, this.parent), join(cpuset, this.parent, id)],
        ]) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            const cur = readText(join(child, f))?.trim();
            if (cur) continue;
            const val = readText(join(parent, f))?.trim();
            if (val) log.write(join(child, f), val);
          }
        }
      }
      const devices = this.dir(id, 'devices');
      if (devices) {
        log.write(join(devices, 'devices.deny'), 'a');
        for (const rule of DEVICE_ALLOW_RULES) log.write(join(devices, 'devices.allow'), rule);
      }
      this.writeLimits(id, limits, log, true);
      writeExtraLimitsV1({ cpuset: this.dir(id, 'cpuset'), memory: this.dir(id, 'memory'), blkio: this.dir(id, 'blkio') }, limits, log);
      // a child for the monitor: the container's limits apply to it (v1 limits are hierarchical)
      for (const root of this.monitorRoots()) mkdirSync(join(root, this.parent, id, MONITOR_CGROUP));
    } catch (e) {
      for (const dir of made.reverse()) await removeCgroupDir(dir).catch(() => {});
      for (const { root } of this.roots()) removeParentIfEmpty(join(root, this.parent));
      throw e;
    }
    return log.writes;
  }

  async update(id: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    checkId(id);
    validateLimits(this.effectiveForValidation(id, limits), this.ctx());
    const mem = this.dir(id, 'memory') ?? this.dir(id, 'cpu') ?? this.dir(id, 'pids');
    if (mem && !existsSync(mem)) throw new Error(`cgroup ${this.parent}/${id} does not exist`);
    const log = new WriteLog();
    this.writeLimits(id, limits, log, false);
    return log.writes;
  }

  /** For an update, memorySwap is checked against the memory limit that will be in force. */
  private effectiveForValidation(id: string, l: Partial<ResourceLimits>): Partial<ResourceLimits> {
    if (l.memorySwap != null && l.memorySwap !== -1 && l.memory === undefined) {
      const f = this.file(id, 'memory', 'memory.limit_in_bytes');
      return { ...l, memory: f ? readV1Limit(f) : null };
    }
    return l;
  }

  private writeLimits(id: string, l: Partial<ResourceLimits>, log: WriteLog, creating: boolean): void {
    // memory and memory+swap: the kernel keeps memsw >= memory at every moment, so when the new
    // memsw is above the current memory limit write memsw first, else lower memory first (runc).
    const memDir = this.dir(id, 'memory');
    if (memDir && (l.memory !== undefined || l.memorySwap !== undefined)) {
      const limitFile = join(memDir, 'memory.limit_in_bytes');
      const swFile = join(memDir, 'memory.memsw.limit_in_bytes');
      const memory = l.memory !== undefined ? l.memory : readV1Limit(limitFile);
      let swap: number | null | undefined; // undefined: leave memsw alone; null: unlimited
      if (l.memorySwap === undefined) {
        if (l.memory === null) swap = null; // lifting the memory limit lifts memsw with it
        else if (l.memory != null && this.swap) {
          const curSw = readV1Limit(swFile);
          if (curSw !== null && l.memory > curSw) {
            throw new InvalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
          }
        }
      } else if (l.memorySwap === null) {
        swap = memory === null ? null : memory * 2; // Docker's default: as much swap as memory
      } else if (l.memorySwap === -1) swap = null;
      else swap = l.memorySwap;
      if (!this.swap) swap = undefined;
      if (creating && memory === null && swap === null) swap = undefined; // unlimited already
      const memVal = memory === null ? '-1' : String(memory);
      const writeMem = l.memory !== undefined && !(creating && memory === null);
      if (swap === undefined) {
        if (writeMem) log.write(limitFile, memVal);
      } else {
        const swVal = swap === null ? '-1' : String(swap);
        const curMem = readV1Limit(limitFile);
        const swapFirst = swap === null || curMem === null ? swap === null : curMem < swap;
        if (swapFirst) {
          log.write(swFile, swVal);
          if (writeMem) log.write(limitFile, memVal);
        } else {
          if (writeMem) log.write(limitFile, memVal);
          log.write(swFile, swVal);
        }
      }
    }

    // cpu quota: cpus x period. An update of only one of the two keeps the other's meaning.
    const cpuDir = this.dir(id, 'cpu');
    if (cpuDir && (l.cpus !== undefined || l.cpuPeriod !== undefined)) {
      const periodFile = join(cpuDir, 'cpu.cfs_period_us');
      const quotaFile = join(cpuDir, 'cpu.cfs_quota_us');
      const curPeriod = readInt(periodFile) ?? DEFAULT_PERIOD;
      const curQuota = readInt(quotaFile);
      const period = l.cpuPeriod ?? (creating ? DEFAULT_PERIOD : curPeriod);
      const cpus = l.cpus !== undefined ? l.cpus : curQuota !== null && curQuota > 0 ? curQuota / curPeriod : null;
      if (!(creating && cpus === null && l.cpuPeriod === undefined)) {
        if (period !== curPeriod || l.cpuPeriod !== undefined) log.write(periodFile, String(period));
        log.write(quotaFile, cpus === null ? '-1' : String(Math.round(cpus * period)));
      }
    }
    if (cpuDir && l.cpuShares !== undefined && !(creating && (l.cpuShares === null || l.cpuShares === 0))) {
      log.write(join(cpuDir, 'cpu.shares'), String(l.cpuShares || DEFAULT_SHARES));
    }

    const pidsDir = this.dir(id, 'pids');
    if (pidsDir && l.pids !== undefined && !(creating && (l.pids === null || l.pids === -1))) {
      log.write(join(pidsDir, 'pids.max'), l.pids === null || l.pids === -1 ? 'max' : String(l.pids));
    }

    const blkio = this.dir(id, 'blkio');
    if (blkio && l.io !== undefined) {
      const wanted = new Map(l.io.map((t) => [ioKey(t), t]));
      for (const [field, file] of Object.entries(BLKIO_FILES) as [keyof typeof BLKIO_FILES, string][]) {
        const path = join(blkio, file);
        // devices throttled now but not in the new list: "MAJ:MIN 0" removes the rule
        if (!creating) {
          for (const line of (readText(path) ?? '').split('\n')) {
            const dev = line.trim().split(/\s+/)[0];
            if (dev && !wanted.has(dev)) log.write(path, `${dev} 0`);
          }
        }
        for (const [dev, t] of wanted) {
          const v = t[field];
          if (v !== undefined) log.write(path, `${dev} ${v}`);
          else if (!creating) log.write(path, `${dev} 0`);
        }
      }
    }
  }

  async stats(id: string): Promise<CgroupStats> {
    checkId(id);
    const time = Date.now();
    const m = (f: string) => this.file(id, 'memory', f);
    const rd = (f: string | null) => (f ? readInt(f) : null);

    const rawStat = parseKV(readText(m('memory.stat') ?? ''));
    const stat: Record<string, number> = {};
    for (const [k, v] of Object.entries(rawStat)) {
      if (k.startsWith('total_') || k.startsWith('hierarchical_')) continue;
      // the container's numbers include its sub-cgroups: prefer total_<k> when there is one
      const val = rawStat[`total_${k}`] ?? v;
      stat[V1_STAT_NAMES[k] ?? k] = val;
    }
    const kmem = rd(m('memory.kmem.usage_in_bytes'));
    if (kmem !== null) stat.kernel = kmem;
    const tcp = rd(m('memory.kmem.tcp.usage_in_bytes'));
    if (tcp !== null) stat.sock = tcp;
    const oomControl = parseKV(readText(m('memory.oom_control') ?? ''));
    const limit = m('memory.limit_in_bytes');
    const memswLimit = m('memory.memsw.limit_in_bytes');

    const cpuacct = (f: string) => this.file(id, 'cpuacct', f);
    const cpuStat = parseKV(readText(this.file(id, 'cpu', 'cpu.stat') ?? ''));
    const acctStat = parseKV(readText(cpuacct('cpuacct.stat') ?? ''));
    const tickNs = 1e9 / USER_HZ;
    const period = rd(this.file(id, 'cpu', 'cpu.cfs_period_us')) ?? DEFAULT_PERIOD;
    const quota = rd(this.file(id, 'cpu', 'cpu.cfs_quota_us'));
    const shares = rd(this.file(id, 'cpu', 'cpu.shares')) ?? DEFAULT_SHARES;

    const pidsMax = this.file(id, 'pids', 'pids.max');
    const io = this.ioStats(id);
    const freezer = this.file(id, 'freezer', 'freezer.state');

    return {
      time,
      memory: {
        current: rd(m('memory.usage_in_bytes')) ?? 0,
        limit: limit ? readV1Limit(limit) : null,
        swapLimit: memswLimit ? readV1Limit(memswLimit) : null,
        peak: rd(m('memory.max_usage_in_bytes')),
        stat,
        events: {
          // how often a charge hit the limit: memory.failcnt, or memsw's when memory+swap is the
          // tighter limit. Some kernels (6.x) leave failcnt at 0 even then, so an OOM kill counts as
          // at least one hit: this is a lower bound.
          max: Math.max(rd(m('memory.failcnt')) ?? 0, rd(m('memory.memsw.failcnt')) ?? 0, oomControl.oom_kill ?? 0),
          // v1 counts no "oom" events apart from the kills
          oom: oomControl.oom_kill ?? 0,
          oomKill: oomControl.oom_kill ?? 0,
        },
      },
      cpu: {
        usageNs: rd(cpuacct('cpuacct.usage')) ?? 0,
        userNs: (acctStat.user ?? 0) * tickNs,
        systemNs: (acctStat.system ?? 0) * tickNs,
        nrPeriods: cpuStat.nr_periods ?? 0,
        nrThrottled: cpuStat.nr_throttled ?? 0,
        throttledNs: cpuStat.throttled_time ?? 0,
        cpus: quota !== null && quota > 0 ? quota / period : null,
        weight: sharesToWeight(shares),
        shares,
      },
      pids: {
        current: rd(this.file(id, 'pids', 'pids.current')) ?? 0,
        limit: pidsMax ? readInt(pidsMax) : null,
        refused: parseKV(readText(this.file(id, 'pids', 'pids.events') ?? '')).max ?? 0,
      },
      io,
      frozen: freezer ? readText(freezer)?.trim() === 'FROZEN' : false,
    };
  }

  private ioStats(id: string): CgroupStats['io'] {
    const out = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
    const sum = (file: string | null): { read: number; write: number } => {
      let read = 0;
      let write = 0;
      let text = file ? readText(file) : null;
      if (text === null && file) text = readText(file.replace('blkio.throttle.', 'blkio.'));
      for (const line of (text ?? '').split('\n')) {
        const parts = line.trim().split(/\s+/);
        if (parts.length !== 3) continue; // "Total N" has two fields: per-device Read/Write are summed instead
        if (parts[1] === 'Read') read += Number(parts[2]) || 0;
        else if (parts[1] === 'Write') write += Number(parts[2]) || 0;
      }
      return { read, write };
    };
    const bytes = sum(this.file(id, 'blkio', 'blkio.throttle.io_service_bytes_recursive'));
    const ops = sum(this.file(id, 'blkio', 'blkio.throttle.io_serviced_recursive'));
    out.readBytes = bytes.read;
    out.writeBytes = bytes.write;
    out.readOps = ops.read;
    out.writeOps = ops.write;
    return out;
  }

  async pids(id: string): Promise<number[]> {
    checkId(id);
    return this.pidsSync(id);
  }

  private pidsSync(id: string): number[] {
    const all = new Set<number>();
    for (const { root } of this.roots()) {
      const dir = join(root, this.parent, id);
      for (const d of [dir, ...childDirsDeepestFirst(dir)]) for (const p of readPids(join(d, 'cgroup.procs'))) all.add(p);
    }
    return [...all].sort((a, b) => a - b);
  }

  async freeze(id: string): Promise<void> {
    checkId(id);
    const state = this.file(id, 'freezer', 'freezer.state');
    if (!state) throw new Error('cannot freeze: no freezer cgroup hierarchy is mounted');
    if (!existsSync(join(state, '..'))) throw new Error(`cgroup ${this.parent}/${id} does not exist`);
    // FREEZING means some task has not stopped yet: writing FROZEN again retries, as runc does
    const ok = await waitFor(
      () => {
        if (readText(state)?.trim() === 'FROZEN') return true;
        new WriteLog().write(state, 'FROZEN');
        return readText(state)?.trim() === 'FROZEN';
      },
      this.timeoutMs,
      10,
    );
    if (!ok) {
      new WriteLog().write(state, 'THAWED');
      throw new Error(`freezing ${this.parent}/${id} timed out: ${state} still reads ${readText(state)?.trim()}`);
    }
  }

  async thaw(id: string): Promise<void> {
    checkId(id);
    const state = this.file(id, 'freezer', 'freezer.state');
    if (!state || !existsSync(join(state, '..'))) return;
    new WriteLog().write(state, 'THAWED');
    await waitFor(() => readText(state)?.trim() === 'THAWED', this.timeoutMs);
  }

  async killAll(id: string): Promise<void> {
    checkId(id);
    const exists = this.roots().some(({ root }) => existsSync(join(root, this.parent, id)));
    if (!exists) return;
    if (this.pidsSync(id).length === 0) return; // the usual case at exit: nothing to freeze or kill
    let frozen = false;
    try {
      // a freeze that times out (a task stuck in D state) must not stop the kill
      if (this.hierarchies.freezer) frozen = await this.freeze(id).then(() => true, () => false);
      killPids(this.pidsSync(id));
    } finally {
      if (frozen) await this.thaw(id);
    }
    await killUntilEmpty(() => this.pidsSync(id), this.timeoutMs, `${this.parent}/${id}`);
  }

  async remove(id: string): Promise<void> {
    checkId(id);
    const errors: string[] = [];
    for (const { root } of this.roots()) {
      try {
        await removeCgroupDir(join(root, this.parent, id));
        removeParentIfEmpty(join(root, this.parent));
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const { root } of this.roots()) {
      try {
        for (const d of readdirSync(join(root, this.parent), { withFileTypes: true })) if (d.isDirectory()) ids.add(d.name);
      } catch {
        // no glassbox/ in this hierarchy yet
      }
    }
    return [...ids].sort();
  }

  async oomKilled(id: string): Promise<boolean> {
    checkId(id);
    const f = this.file(id, 'memory', 'memory.oom_control');
    if (!f) return false;
    return (parseKV(readText(f)).oom_kill ?? 0) > 0;
  }
}
