// The cgroup v2 driver: one directory <root>/glassbox/<id> in the unified hierarchy. Controllers
// must be enabled top-down: "+memory +cpu +pids +io" in the root's cgroup.subtree_control, then in
// glassbox/'s, before the container's directory is made (a cgroup only gets the interface files
// of the controllers its parent hands down). A learner's container is two levels deeper,
// glassbox/learners/<lid>/<id> (groups.ts): learners/ and <lid>/ hand the controllers down too, and
// hold no process themselves (v2's "no internal processes" rule), only the learner's limits.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, type ResourceLimits } from '../types.js';
import { FS_MAGIC, statfsType } from '../../../native/libc.js';
import { DEFAULT_CGROUP_ROOT } from './detect.js';
import { attachDeviceFilter } from './device-filter.js';
import { DEVICE_ALLOW_RULES } from './v1-files.js';
import {
  checkId,
  childDirsDeepestFirst,
  DEFAULT_PERIOD,
  DEFAULT_WEIGHT,
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
  removeCgroupDir,
  removeParentIfEmpty,
  sharesToWeight,
  validateLimits,
  waitFor,
  weightToShares,
  WriteLog,
} from './util.js';
import type { CgroupDriver, CgroupEventCounts, CgroupStats, CgroupUsage, CgroupWrite, CreateCgroupOptions } from './types.js';
import { CounterFiles } from './counter-files.js';
import { checkGroup, GroupIndex, GROUPS_DIR, subdirs } from './groups.js';
import { writeExtraLimitsV2 } from './extra-limits.js';

export interface CgroupV2Options {
  /** the cgroup2 mount (default /sys/fs/cgroup); a fixture tree in tests */
  root?: string;
  /** override swap detection (default: memory.swap.max exists in a memory-enabled cgroup) */
  swapAccounting?: boolean;
  /** default /sys/dev/block */
  devBlockDir?: string;
  hostCpus?: number;
  /** how long freeze and killAll wait (ms) */
  timeoutMs?: number;
  /** the parent directory (default glassbox; a test prefix's glassbox-t7; nested: glassbox/learners/<id>) */
  parent?: string;
}

const WANTED = ['memory', 'cpu', 'pids', 'io'];

/** Tasks of the container's monitor (one single-threaded process), counted by pids.max on v2. */
export const MONITOR_TASKS = 1;

function isCgroup2(dir: string): boolean {
  try {
    return statfsType(dir) === FS_MAGIC.CGROUP2;
  } catch {
    return false;
  }
}

export class CgroupV2Driver implements CgroupDriver {
  readonly layout = 'v2' as const;
  readonly name = 'cgroupfs';
  readonly version = 2 as const;
  readonly root: string;
  private readonly swapOverride: boolean | undefined;
  private readonly blockDeviceExists: (major: number, minor: number) => boolean;
  private readonly hostCpus: number;
  private readonly timeoutMs: number;
  /** glassbox, or a test prefix's own parent (host/naming.ts) */
  readonly parentName: string;
  /** where each container's directory is: glassbox/<id> or glassbox/learners/<lid>/<id> */
  private readonly index = new GroupIndex(() => [this.parent]);

  constructor(opts: CgroupV2Options = {}) {
    this.root = opts.root ?? DEFAULT_CGROUP_ROOT;
    this.parentName = opts.parent ?? 'glassbox';
    this.swapOverride = opts.swapAccounting;
    this.blockDeviceExists = defaultBlockDeviceExists(opts.devBlockDir);
    this.hostCpus = opts.hostCpus ?? hostCpuCount();
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  private get parent(): string {
    return join(this.root, this.parentName);
  }

  /**
   * Each directory from the root's child down to `under` (relative to the parent): glassbox/, then
   * for a group glassbox/learners/ and glassbox/learners/<id>/ (a nested parent name works the same).
   */
  private parentLevels(under = ''): string[] {
    const parts = [...this.parentName.split('/'), ...under.split('/')].filter(Boolean);
    return parts.map((_, i) => join(this.root, ...parts.slice(0, i + 1)));
  }

  /** The parent directories our containers were in, deepest first, each once it is empty (a group stays). */
  private removeParentsIfEmpty(): void {
    for (const level of [join(this.parent, GROUPS_DIR), ...this.parentLevels().reverse()]) removeParentIfEmpty(level);
  }

  private dir(id: string): string {
    return join(this.parent, this.index.rel(id));
  }

  groupOf(id: string): string {
    return this.index.of(id);
  }

  paths(id: string): Record<string, string> {
    return { unified: this.dir(id) };
  }

  groupPaths(group: string): Record<string, string> {
    return { unified: join(this.parent, group) };
  }

  /** Enable the controllers at each level down to `under` (each level hands down what it has). */
  private handDown(under: string, offered: string[], log: WriteLog): void {
    for (const level of this.parentLevels(under)) {
      // what a level can hand down is its cgroup.controllers (a fixture has none: the root's)
      const levelOffered = readText(join(level, 'cgroup.controllers'))?.trim().split(/\s+/).filter(Boolean) ?? offered;
      this.enableControllers(level, levelOffered, log);
    }
  }

  procsFiles(id: string): string[] {
    return [join(this.dir(id), 'cgroup.procs')];
  }

  monitorProcsFiles(id: string): string[] {
    return [join(this.dir(id), MONITOR_CGROUP, 'cgroup.procs')];
  }

  /** Controllers the root offers (cgroup.controllers). */
  private available(): string[] {
    return (readText(join(this.root, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
  }

  /**
   * memory.swap.max exists only when the kernel accounts swap. The root cgroup has no memory.*
   * limit files, so look in a cgroup that has memory enabled: glassbox/ or any first-level one.
   */
  swapSupported(): boolean {
    if (this.swapOverride !== undefined) return this.swapOverride;
    const candidates = [this.parent];
    try {
      for (const d of readdirSync(this.root, { withFileTypes: true })) if (d.isDirectory()) candidates.push(join(this.root, d.name));
    } catch {
      // unreadable root: assume the usual kernel
    }
    for (const c of candidates) {
      if (existsSync(join(c, 'memory.max'))) return existsSync(join(c, 'memory.swap.max'));
    }
    return true;
  }

  private ctx() {
    const avail = this.available();
    return {
      swap: this.swapSupported(),
      swapFile: 'memory.swap.max',
      controllers: {
        memory: avail.includes('memory'),
        cpu: avail.includes('cpu'),
        pids: avail.includes('pids'),
        io: avail.includes('io'),
      },
      blockDeviceExists: this.blockDeviceExists,
      hostCpus: this.hostCpus,
    };
  }

  /** Write "+a +b" for the wanted controllers that dir's subtree_control does not have yet. */
  private enableControllers(dir: string, offered: string[], log: WriteLog): void {
    const file = join(dir, 'cgroup.subtree_control');
    const have = (readText(file) ?? '').trim().split(/\s+/).filter(Boolean);
    const want = [...WANTED, 'cpuset'].filter((c) => offered.includes(c) && !have.includes(c));
    if (want.length) log.write(file, want.map((c) => `+${c}`).join(' '));
  }

  async create(id: string, limits: ResourceLimits, opts: CreateCgroupOptions = {}): Promise<CgroupWrite[]> {
    checkId(id);
    const group = opts.group ?? '';
    checkGroup(group);
    validateLimits(limits, this.ctx());
    const log = new WriteLog();
    this.index.set(id, group);
    const dir = this.dir(id);
    let made = false;
    try {
      const offered = this.available();
      this.enableControllers(this.root, offered, log);
      // every level below the root hands the controllers down: glassbox/, and for a learner's
      // container learners/ and learners/<lid>/ on the way
      makeCgroupDir(join(this.parent, group), dir, () => this.handDown(group, offered, log));
      made = true;
      // v2 has no devices.allow: the same rules as v1's, as an eBPF program the kernel runs on
      // every open and mknod of a device node (a fixture tree is no cgroup2: nothing to attach)
      if (isCgroup2(dir)) log.writes.push(attachDeviceFilter(dir, DEVICE_ALLOW_RULES));
      this.writeLimits(dir, limits, log, true);
      writeExtraLimitsV2(dir, limits, log);
      // A child for the monitor. glassbox/<id> enables no controller for its children, so the
      // "no internal processes" rule does not apply (init stays in glassbox/<id>) and what the
      // monitor uses is charged to glassbox/<id>, under its limits. Freezing glassbox/<id>
      // freezes the monitor too (cgroup.freeze is hierarchical): it resumes at unpause.
      mkdirSync(join(dir, MONITOR_CGROUP));
    } catch (e) {
      if (made) await removeCgroupDir(dir).catch(() => {});
      // a group stays (it holds the learner's limits); an empty glassbox/ goes
      if (!group) this.removeParentsIfEmpty();
      this.index.forget(id);
      throw e;
    }
    return log.writes;
  }

  async update(id: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    checkId(id);
    return this.updateAt(this.dir(id), limits, MONITOR_TASKS);
  }

  /** monitorTasks: the tasks in dir that are not the container's own (its monitor's) */
  private async updateAt(dir: string, limits: Partial<ResourceLimits>, monitorTasks: number): Promise<CgroupWrite[]> {
    const effective =
      limits.memorySwap != null && limits.memorySwap !== -1 && limits.memory === undefined
        ? { ...limits, memory: readInt(join(dir, 'memory.max')) }
        : limits;
    validateLimits(effective, this.ctx());
    if (!existsSync(dir)) throw new Error(`cgroup ${dir.slice(this.root.length + 1)} does not exist`);
    const log = new WriteLog();
    this.writeLimits(dir, limits, log, false, monitorTasks);
    return log.writes;
  }

  /** Write limits in dir: a container's (its monitor's task added to pids.max) or a group's. */
  private writeLimits(dir: string, l: Partial<ResourceLimits>, log: WriteLog, creating: boolean, monitorTasks = MONITOR_TASKS): void {
    const f = (name: string) => join(dir, name);

    // memory.max and memory.swap.max (swap alone: Docker's memory+swap minus memory)
    if (l.memory !== undefined || l.memorySwap !== undefined) {
      const memory = l.memory !== undefined ? l.memory : readInt(f('memory.max'));
      if (l.memory !== undefined && !(creating && l.memory === null)) log.write(f('memory.max'), l.memory === null ? 'max' : String(l.memory));
      let swap: string | undefined;
      if (l.memorySwap === undefined) {
        if (l.memory === null && !creating) swap = 'max';
      } else if (l.memorySwap === null) {
        // Docker's default: as much swap as memory (memory+swap = 2 x memory)
        if (memory !== null) swap = String(memory);
        else if (!creating) swap = 'max';
      } else if (l.memorySwap === -1) swap = 'max';
      else swap = String(l.memorySwap - (memory ?? 0));
      if (swap !== undefined && this.swapSupported()) log.write(f('memory.swap.max'), swap);
    }

    // cpu.max "QUOTA PERIOD": an update of one of the two keeps the other's meaning
    if (l.cpus !== undefined || l.cpuPeriod !== undefined) {
      const [curQuota, curPeriodStr] = (readText(f('cpu.max')) ?? 'max 100000').trim().split(/\s+/);
      const curPeriod = Number(curPeriodStr) || DEFAULT_PERIOD;
      const period = l.cpuPeriod ?? (creating ? DEFAULT_PERIOD : curPeriod);
      const cpus = l.cpus !== undefined ? l.cpus : curQuota !== 'max' && Number(curQuota) > 0 ? Number(curQuota) / curPeriod : null;
      if (!(creating && cpus === null && l.cpuPeriod === undefined)) {
        log.write(f('cpu.max'), `${cpus === null ? 'max' : Math.round(cpus * period)} ${period}`);
      }
    }
    if (l.cpuShares !== undefined && !(creating && (l.cpuShares === null || l.cpuShares === 0))) {
      log.write(f('cpu.weight'), String(l.cpuShares ? sharesToWeight(l.cpuShares) : DEFAULT_WEIGHT));
    }

    if (l.pids !== undefined && !(creating && (l.pids === null || l.pids === -1))) {
      // the monitor's task lives in glassbox/<id>/monitor, inside this limit (v2 has one tree):
      // one more, so the container itself gets the pids it asked for (pids 1 could not start)
      log.write(f('pids.max'), l.pids === null || l.pids === -1 ? 'max' : String(l.pids + monitorTasks));
    }

    if (l.io !== undefined) {
      const wanted = new Map(l.io.map((t) => [ioKey(t), t]));
      if (!creating) {
        // devices throttled now but not in the new list: every limit back to max
        for (const line of (readText(f('io.max')) ?? '').split('\n')) {
          const dev = line.trim().split(/\s+/)[0];
          if (dev && !wanted.has(dev)) log.write(f('io.max'), `${dev} rbps=max wbps=max riops=max wiops=max`);
        }
      }
      for (const [dev, t] of wanted) {
        const v = (n: number | undefined) => (n === undefined || n === 0 ? 'max' : String(n));
        log.write(f('io.max'), `${dev} rbps=${v(t.readBps)} wbps=${v(t.writeBps)} riops=${v(t.readIops)} wiops=${v(t.writeIops)}`);
      }
    }
  }

  async stats(id: string): Promise<CgroupStats> {
    checkId(id);
    return this.statsAt(this.dir(id), true);
  }

  private readonly counters = new CounterFiles();

  usage(id: string): CgroupUsage | null {
    checkId(id);
    const dir = this.dir(id);
    const memory = this.counters.int(join(dir, 'memory.current'));
    if (memory === null) return null;
    const usec = this.counters.key(join(dir, 'cpu.stat'), 'usage_usec') ?? 0;
    // the container's own pids, without its monitor's task (as stats() counts them)
    const monitorThreads = (this.counters.read(join(dir, MONITOR_CGROUP, 'cgroup.threads')) ?? '').split('\n').filter(Boolean).length;
    const pids = Math.max(0, (this.counters.int(join(dir, 'pids.current')) ?? 0) - monitorThreads);
    return { time: Date.now(), memory, cpuUsageNs: usec * 1000, pids };
  }

  eventCounts(id: string): CgroupEventCounts | null {
    checkId(id);
    const dir = this.dir(id);
    const oomKill = this.counters.key(join(dir, 'memory.events'), 'oom_kill');
    if (oomKill === null) return null;
    return { oomKill, forksRefused: this.counters.key(join(dir, 'pids.events'), 'max') ?? 0 };
  }

  /**
   * The counters of dir. A container's pids are shown without its monitor's task; a group's are
   * the kernel's own (its containers' monitors are inside it and count against its pids.max).
   */
  private statsAt(dir: string, container: boolean): CgroupStats {
    const time = Date.now();
    const f = (name: string) => join(dir, name);

    const stat = parseKV(readText(f('memory.stat')));
    if (stat.kernel === undefined && (stat.kernel_stack !== undefined || stat.slab !== undefined)) {
      // before Linux 5.18 memory.stat had no "kernel" line: add up its parts
      stat.kernel = (stat.kernel_stack ?? 0) + (stat.pagetables ?? 0) + (stat.percpu ?? 0) + (stat.slab ?? 0);
    }
    const events = parseKV(readText(f('memory.events')));
    const memLimit = readInt(f('memory.max'));
    const swapMax = readInt(f('memory.swap.max'));

    const pidsMax = readInt(f('pids.max'));
    const cpuStat = parseKV(readText(f('cpu.stat')));
    const [quota, periodStr] = (readText(f('cpu.max')) ?? 'max 100000').trim().split(/\s+/);
    const period = Number(periodStr) || DEFAULT_PERIOD;
    const weight = readInt(f('cpu.weight')) ?? DEFAULT_WEIGHT;

    const io = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
    for (const line of (readText(f('io.stat')) ?? '').split('\n')) {
      const kv = Object.fromEntries(
        line
          .trim()
          .split(/\s+/)
          .slice(1)
          .map((p) => p.split('='))
          .filter((p) => p.length === 2)
          .map(([k, v]) => [k, Number(v) || 0]),
      );
      io.readBytes += kv.rbytes ?? 0;
      io.writeBytes += kv.wbytes ?? 0;
      io.readOps += kv.rios ?? 0;
      io.writeOps += kv.wios ?? 0;
    }

    return {
      time,
      memory: {
        current: readInt(f('memory.current')) ?? 0,
        limit: memLimit,
        // memory + swap, in Docker's terms; null when either is unlimited
        swapLimit: memLimit !== null && swapMax !== null ? memLimit + swapMax : null,
        peak: readInt(f('memory.peak')),
        stat,
        events: { max: events.max ?? 0, oom: events.oom ?? 0, oomKill: events.oom_kill ?? 0 },
      },
      cpu: {
        usageNs: (cpuStat.usage_usec ?? 0) * 1000,
        userNs: (cpuStat.user_usec ?? 0) * 1000,
        systemNs: (cpuStat.system_usec ?? 0) * 1000,
        nrPeriods: cpuStat.nr_periods ?? 0,
        nrThrottled: cpuStat.nr_throttled ?? 0,
        throttledNs: (cpuStat.throttled_usec ?? 0) * 1000,
        cpus: quota !== undefined && quota !== 'max' && Number(quota) > 0 ? Number(quota) / period : null,
        weight,
        shares: weightToShares(weight),
      },
      pids: {
        // the container's own: without the monitor's task (see writeLimits)
        current: container ? Math.max(0, (readInt(f('pids.current')) ?? 0) - readPids(join(dir, MONITOR_CGROUP, 'cgroup.threads')).length) : (readInt(f('pids.current')) ?? 0),
        limit: pidsMax === null ? null : container ? Math.max(1, pidsMax - MONITOR_TASKS) : pidsMax,
        refused: parseKV(readText(f('pids.events'))).max ?? 0,
      },
      io,
      frozen: parseKV(readText(f('cgroup.events'))).frozen === 1,
    };
  }

  private pidsSync(id: string): number[] {
    const dir = this.dir(id);
    const all = new Set<number>();
    for (const d of [dir, ...childDirsDeepestFirst(dir)]) for (const p of readPids(join(d, 'cgroup.procs'))) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  async pids(id: string): Promise<number[]> {
    checkId(id);
    return this.pidsSync(id);
  }

  private frozen(id: string): boolean {
    return parseKV(readText(join(this.dir(id), 'cgroup.events'))).frozen === 1;
  }

  async freeze(id: string): Promise<void> {
    checkId(id);
    if (!existsSync(this.dir(id))) throw new Error(`cgroup ${this.parentName}/${this.index.rel(id)} does not exist`);
    new WriteLog().write(join(this.dir(id), 'cgroup.freeze'), '1');
    if (!(await waitFor(() => this.frozen(id), this.timeoutMs))) {
      new WriteLog().write(join(this.dir(id), 'cgroup.freeze'), '0');
      throw new Error(`freezing ${this.parentName}/${this.index.rel(id)} timed out: cgroup.events never read "frozen 1"`);
    }
  }

  async thaw(id: string): Promise<void> {
    checkId(id);
    if (!existsSync(this.dir(id))) return;
    new WriteLog().write(join(this.dir(id), 'cgroup.freeze'), '0');
    // a fixture's cgroup.events is a plain file that nobody updates: only wait on a real kernel
    if (existsSync(join(this.dir(id), 'cgroup.kill')) || existsSync(join(this.dir(id), 'cgroup.type'))) {
      await waitFor(() => !this.frozen(id), this.timeoutMs);
    }
  }

  async killAll(id: string): Promise<void> {
    checkId(id);
    const dir = this.dir(id);
    if (!existsSync(dir)) return;
    const killFile = join(dir, 'cgroup.kill');
    if (existsSync(killFile)) {
      // Linux 5.14+: the kernel kills the whole subtree at once, no race with fork
      new WriteLog().write(killFile, '1');
    } else {
      let frozen = false;
      try {
        frozen = await this.freeze(id).then(() => true, () => false);
        killPids(this.pidsSync(id));
      } finally {
        if (frozen) await this.thaw(id);
      }
    }
    await killUntilEmpty(() => this.pidsSync(id), this.timeoutMs, `${this.parentName}/${this.index.rel(id)}`);
  }

  async remove(id: string): Promise<void> {
    checkId(id);
    this.counters.forget(this.dir(id));
    await removeCgroupDir(this.dir(id));
    // the group stays when its last container goes: it holds the learner's limits (removeGroup)
    this.removeParentsIfEmpty();
    this.index.forget(id);
  }

  async list(): Promise<string[]> {
    return [...this.index.scan().keys()].sort();
  }

  // ---------------------------------------------------------------- groups (learners/<lid>)

  async createGroup(group: string): Promise<CgroupWrite[]> {
    checkGroup(group);
    const dir = join(this.parent, group);
    if (!group || existsSync(dir)) return [];
    const log = new WriteLog();
    const offered = this.available();
    this.enableControllers(this.root, offered, log);
    mkdirSync(dir, { recursive: true });
    // down to the group itself: its subtree_control hands the controllers to its containers
    this.handDown(group, offered, log);
    return log.writes;
  }

  async updateGroup(group: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]> {
    checkGroup(group);
    if (!group) throw new InvalidArgument('updateGroup needs a group (learners/<id>)');
    return this.updateAt(join(this.parent, group), limits, 0);
  }

  async groupStats(group: string): Promise<CgroupStats | null> {
    checkGroup(group);
    const dir = join(this.parent, group);
    if (!group || !existsSync(dir)) return null;
    const st = this.statsAt(dir, false);
    // before Linux 6.13 a fork refused by the group's pids.max is counted in the forking
    // container's pids.events, not the group's: add them up (later kernels count it in both)
    let refused = 0;
    for (const d of subdirs(dir)) refused += parseKV(readText(join(dir, d, 'pids.events'))).max ?? 0;
    st.pids.refused = Math.max(st.pids.refused, refused);
    return st;
  }

  async removeGroup(group: string): Promise<void> {
    checkGroup(group);
    if (!group) return;
    const dir = join(this.parent, group);
    const inside = subdirs(dir);
    if (inside.length) throw new Conflict(`cgroup ${this.parentName}/${group} still holds ${inside.length} container cgroup${inside.length > 1 ? 's' : ''}: remove the containers first`);
    await removeCgroupDir(dir);
    this.removeParentsIfEmpty();
  }

  async groups(): Promise<string[]> {
    return this.index.groups();
  }

  async oomKilled(id: string): Promise<boolean> {
    checkId(id);
    return (parseKV(readText(join(this.dir(id), 'memory.events'))).oom_kill ?? 0) > 0;
  }
}
