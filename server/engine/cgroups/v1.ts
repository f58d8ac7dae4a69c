// The cgroup v1 driver: one directory glassbox/<id> in each controller's hierarchy (memory, cpu,
// cpuacct, pids, blkio, freezer, cpuset, devices), as runc's cgroupfs driver does on a v1 or
// hybrid host. Co-mounted controllers ("cpu,cpuacct") share one directory. A learner's container
// is one level deeper, glassbox/learners/<lid>/<id>, in every hierarchy (groups.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, type ResourceLimits } from '../types.js';
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
import type { CgroupDriver, CgroupEventCounts, CgroupLayout, CgroupStats, CgroupUsage, CgroupWrite, CreateCgroupOptions } from './types.js';
import { CounterFiles } from './counter-files.js';
import { checkGroup, GroupIndex, GROUPS_DIR, subdirs } from './groups.js';
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
  /** where each container's directory is: <parent>/<id> or <parent>/learners/<lid>/<id> */
  private readonly index = new GroupIndex(() => this.roots().map(({ root }) => join(root, this.parent)));

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

  /** The directory at rel (a container's <id> or learners/<lid>/<id>, or a group) in the hierarchy holding controller c, or null if c is not mounted. */
  private dirAt(rel: string, c: V1Controller): string | null {
    const r = this.hierarchies[c];
    return r ? join(r, this.parent, rel) : null;
  }

  /** The container's directory in the hierarchy holding controller c. */
  private dir(id: string, c: V1Controller): string | null {
    return this.dirAt(this.index.rel(id), c);
  }

  private file(id: string, c: V1Controller, f: string): string | null {
    const d = this.dir(id, c);
    return d ? join(d, f) : null;
  }

  groupOf(id: string): string {
    return this.index.of(id);
  }

  paths(id: string): Record<string, string> {
    return this.groupPaths(this.index.rel(id));
  }

  groupPaths(rel: string): Record<string, string> {
    return Object.fromEntries(this.roots().map(({ name, root }) => [name, join(root, this.parent, rel)]));
  }

  procsFiles(id: string): string[] {
    return this.roots().map(({ root }) => join(root, this.parent, this.index.rel(id), 'cgroup.procs'));
  }

  /** The hierarchies that meter what the monitor does: CPU time and memory, not pids or the freezer. */
  private monitorRoots(): string[] {
    const roots = new Set<string>();
    for (const c of ['cpu', 'cpuacct', 'memory'] as const) if (this.hierarchies[c]) roots.add(this.hierarchies[c]!);
    return [...roots];
  }

  monitorProcsFiles(id: string): string[] {
    return this.monitorRoots().map((root) => join(root, this.parent, this.index.rel(id), MONITOR_CGROUP, 'cgroup.procs'));
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

  /**
   * cpuset: a new cpuset cgroup starts with empty cpus/mems and no task may join it until they
   * are set; copy them down from the root, level by level (glassbox/, learners/, <lid>/, <id>).
   */
  private fillCpuset(rel: string, log: WriteLog): void {
    const cpuset = this.hierarchies.cpuset;
    if (!cpuset) return;
    const parts = [this.parent, ...rel.split('/')].filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const parent = join(cpuset, ...parts.slice(0, i));
      const child = join(cpuset, ...parts.slice(0, i + 1));
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const cur = readText(join(child, f))?.trim();
        if (cur) continue;
        const val = readText(join(parent, f))?.trim();
        if (val) log.write(join(child, f), val);
      }
    }
  }

  async create(id: string, limits: ResourceLimits, opts: CreateCgroupOptions = {}): Promise<CgroupWrite[]> {
    checkId(id);
    const group = opts.group ?? '';
    checkGroup(group);
    validateLimits(limits, this.ctx());
    const log = new WriteLog();
    const made: string[] = [];
    const rel = group ? `${group}/${id}` : id;
    if (group) this.checkUnderGroupQuota(group, limits.cpus);
    this.index.set(id, group);
    try {
      for (const { root } of this.roots()) {
        const dir = join(root, this.parent, rel);
        makeCgroupDir(join(root, this.parent, group), dir);
        made.push(dir);
      }
      this.fillCpuset(rel, log);
      const devices = this.dir(id, 'devices');
      if (devices) {
        log.write(join(devices, 'devices.deny'), 'a');
        for (const rule of DEVICE_ALLOW_RULES) log.write(join(devices, 'devices.allow'), rule);
      }
      this.writeLimits(rel, limits, log, true);
      writeExtraLimitsV1({ cpuset: this.dirAt(rel, 'cpuset'), memory: this.dirAt(rel, 'memory'), blkio: this.dirAt(rel, 'blkio') }, limits, log);
      // a child for the monitor: the container's limits apply to it (v1 limits are hierarchical)
      for (const root of this.monitorRoots()) mkdirSync(join(root, this.parent, rel, MONITOR_CGROUP));
    } catch (e) {
      for (const dir of made.reverse()) await removeCgroupDir(dir).catch(() => {});
      // a group stays (it holds the learner's limits); an empty glassbox/ goes
      if (!group) for (const { root } of this.roots()) removeParentIfEmpty(join(root, this.parent));
      this.index.forget(id);
      throw e;
    }
    return log.writes;
  }

  async update(id: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    checkId(id);
    const group = this.index.of(id);
    if (group) this.checkUnderGroupQuota(group, limits.cpus);
    return this.updateAt(this.index.rel(id), limits);
  }

  /** A directory's CFS quota in CPUs, null for none. */
  private cpusAt(rel: string): number | null {
    const d = this.dirAt(rel, 'cpu');
    if (!d) return null;
    const quota = readInt(join(d, 'cpu.cfs_quota_us'));
    const period = readInt(join(d, 'cpu.cfs_period_us')) ?? DEFAULT_PERIOD;
    return quota !== null && quota > 0 ? quota / period : null;
  }

  /**
   * v1 refuses (EINVAL) a child's CFS quota above its parent's: say so in the learner's terms
   * before anything is written. (v2 takes it, and the parent's quota holds them both anyway.)
   */
  private checkUnderGroupQuota(group: string, cpus: number | null | undefined): void {
    if (cpus == null) return;
    const quota = this.cpusAt(group);
    if (quota !== null && cpus > quota + 1e-9) {
      throw new InvalidArgument(`--cpus ${cpus} is above the learner's CPU quota of ${quota} (the cgroup ${this.parent}/${group} holds all their containers)`);
    }
  }

  private async updateAt(rel: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    validateLimits(this.effectiveForValidation(rel, limits), this.ctx());
    const mem = this.dirAt(rel, 'memory') ?? this.dirAt(rel, 'cpu') ?? this.dirAt(rel, 'pids');
    if (mem && !existsSync(mem)) throw new Error(`cgroup ${this.parent}/${rel} does not exist`);
    const log = new WriteLog();
    this.writeLimits(rel, limits, log, false);
    return log.writes;
  }

  /** For an update, memorySwap is checked against the memory limit that will be in force. */
  private effectiveForValidation(rel: string, l: Partial<ResourceLimits>): Partial<ResourceLimits> {
    if (l.memorySwap != null && l.memorySwap !== -1 && l.memory === undefined) {
      const d = this.dirAt(rel, 'memory');
      return { ...l, memory: d ? readV1Limit(join(d, 'memory.limit_in_bytes')) : null };
    }
    return l;
  }

  /** Write limits in the directory at rel (a container's or a group's) in each hierarchy. */
  private writeLimits(rel: string, l: Partial<ResourceLimits>, log: WriteLog, creating: boolean): void {
    // memory and memory+swap: the kernel keeps memsw >= memory at every moment, so when the new
    // memsw is above the current memory limit write memsw first, else lower memory first (runc).
    const memDir = this.dirAt(rel, 'memory');
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
    const cpuDir = this.dirAt(rel, 'cpu');
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

    const pidsDir = this.dirAt(rel, 'pids');
    if (pidsDir && l.pids !== undefined && !(creating && (l.pids === null || l.pids === -1))) {
      log.write(join(pidsDir, 'pids.max'), l.pids === null || l.pids === -1 ? 'max' : String(l.pids));
    }

    const blkio = this.dirAt(rel, 'blkio');
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
    return this.statsAt(this.index.rel(id));
  }

  private readonly counters = new CounterFiles();

  usage(id: string): CgroupUsage | null {
    checkId(id);
    const at = (c: V1Controller, f: string) => {
      const d = this.dir(id, c);
      return d ? join(d, f) : null;
    };
    const mem = at('memory', 'memory.usage_in_bytes');
    const cpu = at('cpuacct', 'cpuacct.usage');
    const pids = at('pids', 'pids.current');
    const memory = mem ? this.counters.int(mem) : 0;
    if (memory === null) return null;
    return { time: Date.now(), memory, cpuUsageNs: (cpu && this.counters.int(cpu)) || 0, pids: (pids && this.counters.int(pids)) || 0 };
  }

  eventCounts(id: string): CgroupEventCounts | null {
    checkId(id);
    const oom = this.dir(id, 'memory');
    const pids = this.dir(id, 'pids');
    // v1 counts kills in memory.oom_control ("oom_kill N"), the container's own (not hierarchical)
    const oomKill = oom ? this.counters.key(join(oom, 'memory.oom_control'), 'oom_kill') : 0;
    if (oomKill === null) return null;
    return { oomKill, forksRefused: (pids && this.counters.key(join(pids, 'pids.events'), 'max')) || 0 };
  }

  /** The counters of the directory at rel: a container's, or a group's (v1 counters are hierarchical). */
  private statsAt(rel: string): CgroupStats {
    const time = Date.now();
    const at = (c: V1Controller, f: string) => {
      const d = this.dirAt(rel, c);
      return d ? join(d, f) : null;
    };
    const m = (f: string) => at('memory', f);
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

    const cpuacct = (f: string) => at('cpuacct', f);
    const cpuStat = parseKV(readText(at('cpu', 'cpu.stat') ?? ''));
    const acctStat = parseKV(readText(cpuacct('cpuacct.stat') ?? ''));
    const tickNs = 1e9 / USER_HZ;
    const period = rd(at('cpu', 'cpu.cfs_period_us')) ?? DEFAULT_PERIOD;
    const quota = rd(at('cpu', 'cpu.cfs_quota_us'));
    const shares = rd(at('cpu', 'cpu.shares')) ?? DEFAULT_SHARES;

    const pidsMax = at('pids', 'pids.max');
    const io = this.ioStats(rel);
    const freezer = at('freezer', 'freezer.state');

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
        current: rd(at('pids', 'pids.current')) ?? 0,
        limit: pidsMax ? readInt(pidsMax) : null,
        refused: parseKV(readText(at('pids', 'pids.events') ?? '')).max ?? 0,
      },
      io,
      frozen: freezer ? readText(freezer)?.trim() === 'FROZEN' : false,
    };
  }

  private ioStats(rel: string): CgroupStats['io'] {
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
    const blkio = this.dirAt(rel, 'blkio');
    const bytes = sum(blkio ? join(blkio, 'blkio.throttle.io_service_bytes_recursive') : null);
    const ops = sum(blkio ? join(blkio, 'blkio.throttle.io_serviced_recursive') : null);
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
    const rel = this.index.rel(id);
    for (const { root } of this.roots()) {
      const dir = join(root, this.parent, rel);
      for (const d of [dir, ...childDirsDeepestFirst(dir)]) for (const p of readPids(join(d, 'cgroup.procs'))) all.add(p);
    }
    return [...all].sort((a, b) => a - b);
  }

  async freeze(id: string): Promise<void> {
    checkId(id);
    const state = this.file(id, 'freezer', 'freezer.state');
    if (!state) throw new Error('cannot freeze: no freezer cgroup hierarchy is mounted');
    if (!existsSync(join(state, '..'))) throw new Error(`cgroup ${this.parent}/${this.index.rel(id)} does not exist`);
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
    const exists = this.roots().some(({ root }) => existsSync(join(root, this.parent, this.index.rel(id))));
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
    await killUntilEmpty(() => this.pidsSync(id), this.timeoutMs, `${this.parent}/${this.index.rel(id)}`);
  }

  async remove(id: string): Promise<void> {
    checkId(id);
    const errors: string[] = [];
    // the group stays when its last container goes: it holds the learner's limits (removeGroup)
    const rel = this.index.rel(id);
    for (const { root } of this.roots()) {
      this.counters.forget(join(root, this.parent, rel));
      try {
        await removeCgroupDir(join(root, this.parent, rel));
        removeParentIfEmpty(join(root, this.parent));
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
    this.index.forget(id);
  }

  async list(): Promise<string[]> {
    return [...this.index.scan().keys()].sort();
  }

  // ---------------------------------------------------------------- groups (learners/<lid>)

  async createGroup(group: string): Promise<CgroupWrite[]> {
    checkGroup(group);
    if (!group) return [];
    const log = new WriteLog();
    if (this.roots().every(({ root }) => existsSync(join(root, this.parent, group)))) return [];
    for (const { root } of this.roots()) mkdirSync(join(root, this.parent, group), { recursive: true });
    this.fillCpuset(group, log);
    return log.writes;
  }

  async updateGroup(group: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    checkGroup(group);
    if (!group) throw new InvalidArgument('updateGroup needs a group (learners/<id>)');
    if (limits.cpus != null) {
      // v1: a quota below one of the containers' own would be refused (EINVAL) halfway through
      for (const id of subdirs(this.dirAt(group, 'cpu') ?? '')) {
        const own = this.cpusAt(`${group}/${id}`);
        if (own !== null && own > limits.cpus + 1e-9) {
          throw new InvalidArgument(`learner quota cpus ${limits.cpus} is below the ${own} CPUs container ${id.slice(0, 12)} has itself: lower the container's --cpus first`);
        }
      }
    }
    return this.updateAt(group, limits);
  }

  async groupStats(group: string): Promise<CgroupStats | null> {
    checkGroup(group);
    const mem = this.dirAt(group, 'memory') ?? this.dirAt(group, 'pids');
    if (!group || !mem || !existsSync(mem)) return null;
    const st = this.statsAt(group);
    // v1 counts an OOM kill in the victim's own memcg (the container's), not where the limit was
    // hit: add up the containers' so the group shows the kills its quota caused
    const memDir = this.dirAt(group, 'memory');
    if (memDir) {
      let kills = 0;
      for (const d of subdirs(memDir)) kills += parseKV(readText(join(memDir, d, 'memory.oom_control'))).oom_kill ?? 0;
      const e = st.memory.events;
      e.oomKill = Math.max(e.oomKill, kills);
      e.oom = Math.max(e.oom, kills);
      e.max = Math.max(e.max, kills);
    }
    // likewise a fork the group's pids.max refused is counted in the forking task's cgroup
    const pidsDir = this.dirAt(group, 'pids');
    if (pidsDir) {
      let refused = 0;
      for (const d of subdirs(pidsDir)) refused += parseKV(readText(join(pidsDir, d, 'pids.events'))).max ?? 0;
      st.pids.refused = Math.max(st.pids.refused, refused);
    }
    return st;
  }

  async removeGroup(group: string): Promise<void> {
    checkGroup(group);
    if (!group) return;
    // refuse before touching anything: a container cgroup in any hierarchy keeps the whole group
    for (const { root } of this.roots()) {
      const inside = subdirs(join(root, this.parent, group));
      if (inside.length) throw new Conflict(`cgroup ${this.parent}/${group} still holds ${inside.length} container cgroup${inside.length > 1 ? 's' : ''} (${join(root, this.parent, group)}): remove the containers first`);
    }
    for (const { root } of this.roots()) {
      await removeCgroupDir(join(root, this.parent, group));
      removeParentIfEmpty(join(root, this.parent, GROUPS_DIR));
      removeParentIfEmpty(join(root, this.parent));
    }
  }

  async groups(): Promise<string[]> {
    return this.index.groups();
  }

  async oomKilled(id: string): Promise<boolean> {
    checkId(id);
    const f = this.file(id, 'memory', 'memory.oom_control');
    if (!f) return false;
    return (parseKV(readText(f)).oom_kill ?? 0) > 0;
  }
}
