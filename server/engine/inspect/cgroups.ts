// A ring buffer of cgroup stats per container: one sample a second for the last five minutes, and
// the events worth marking on the timeline. Events come from three places: counters that went up
// between two samples (memory.events oom_kill, pids.events max, cpu.stat nr_throttled, a limit that
// changed under us — say from the docker CLI), the engine's own events ('oom', 'update'), and a
// cheap check of the containers nobody watches (below).
//
// Only what someone watches is sampled (watch(id), or watch() for all): a full reading opens about
// twenty cgroup files, and 200 idle containers read once a second whether anyone looked or not
// were most of an idle server's CPU. The containers nobody watches still get their OOM kills and
// refused forks on the timeline: every EVENT_CHECK_MS their two counters (v1 memory.oom_control and
// pids.events, v2 memory.events and pids.events) are re-read from files kept open, one pread each.
// A learner's containers sit in the learner's group (learners/<lid>/): the snapshot carries the
// groups' counters too, so the diagram draws glassbox → learners → <lid> → containers.
import type { CgroupStats } from '../cgroups/types.js';
import type { ContainerRecord, EngineEvent } from '../types.js';
import type { InspectEngine } from './source.js';
import type { CgroupEvent, CgroupGroup, CgroupSample, CgroupSeries, CgroupSnapshot } from './types.js';
import { isActive } from '../lifecycle/state.js';
import { OWNER_LABEL } from '../tenancy/learner-policy.js';
import { GROUPS_DIR } from '../cgroups/groups.js';

/**
 * Where a container's cgroup sits, from its record: the group ('learners/<lid>' for a learner's,
 * '' for the teacher's) and the parent's name (the directory above, in the paths start() wrote).
 */
export function cgroupPlace(rec: Pick<ContainerRecord, 'id' | 'config' | 'paths'>): { group: string; parent: string | null } {
  const owner = rec.config.labels?.[OWNER_LABEL];
  const group = owner ? `${GROUPS_DIR}/${owner}` : '';
  const dir = Object.values(rec.paths?.cgroups ?? {})[0];
  const parts = dir ? dir.split('/').filter(Boolean) : [];
  const at = parts.lastIndexOf(rec.id);
  const depth = group ? 3 : 1;
  return { group, parent: at >= depth ? parts[at - depth] : null };
}

interface GroupState {
  group: string;
  learnerId: string;
  latest: Omit<CgroupGroup, 'containers'> | null;
  prevNs: number | null;
  prevTime: number;
}

export interface CgroupSamplerOptions {
  intervalMs?: number;
  windowMs?: number;
  /** how many containers are read at once */
  concurrency?: number;
}

/** how often the containers nobody watches have their OOM / refused-fork counters checked */
export const EVENT_CHECK_MS = 2_000;
/** every running container, for watch() */
const ALL = '*';

const STAT_KEYS = ['anon', 'file', 'kernel', 'slab', 'shmem', 'sock'];

interface Series {
  id: string;
  name: string;
  status: string;
  samples: CgroupSample[];
  events: CgroupEvent[];
  latest: CgroupStats | null;
  /** when the container stopped being sampled: its series stays for one window */
  goneAt: number | null;
  throttling: boolean;
  lastUpdateEvent: number;
  group: string;
}

export function sampleFrom(cur: CgroupStats, prev: CgroupStats | null): CgroupSample {
  const dt = prev ? (cur.time - prev.time) / 1000 : 0;
  const stat: Record<string, number> = {};
  for (const k of STAT_KEYS) if (typeof cur.memory.stat[k] === 'number') stat[k] = cur.memory.stat[k];
  return {
    time: cur.time,
    memory: cur.memory.current,
    memoryLimit: cur.memory.limit,
    stat,
    cpu: prev && dt > 0 ? Math.max(0, (cur.cpu.usageNs - prev.cpu.usageNs) / 1e9 / dt) : 0,
    cpuLimit: cur.cpu.cpus,
    throttled: prev ? Math.max(0, cur.cpu.nrThrottled - prev.cpu.nrThrottled) : 0,
    pids: cur.pids.current,
    pidsLimit: cur.pids.limit,
    readBps: prev && dt > 0 ? Math.max(0, (cur.io.readBytes - prev.io.readBytes) / dt) : 0,
    writeBps: prev && dt > 0 ? Math.max(0, (cur.io.writeBytes - prev.io.writeBytes) / dt) : 0,
  };
}

function fmtBytes(n: number | null): string {
  if (n === null) return 'unlimited';
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The events between two readings of the same cgroup. */
export function eventsBetween(id: string, cur: CgroupStats, prev: CgroupStats, wasThrottling: boolean): { events: CgroupEvent[]; throttling: boolean } {
  const t = cur.time;
  const ev: CgroupEvent[] = [];
  const d = (a: number, b: number) => Math.max(0, a - b);
  const kills = d(cur.memory.events.oomKill, prev.memory.events.oomKill);
  if (kills) ev.push({ time: t, kind: 'oom-kill', containerId: id, detail: `OOM killer killed ${kills} process${kills > 1 ? 'es' : ''} (memory limit ${fmtBytes(cur.memory.limit)})` });
  else if (d(cur.memory.events.oom, prev.memory.events.oom)) ev.push({ time: t, kind: 'oom', containerId: id, detail: `out of memory at the limit ${fmtBytes(cur.memory.limit)}` });
  const refused = d(cur.pids.refused, prev.pids.refused);
  if (refused) ev.push({ time: t, kind: 'fork-refused', containerId: id, detail: `${refused} fork${refused > 1 ? 's' : ''} refused: pids.max = ${cur.pids.limit ?? 'max'}` });
  const throttledNow = d(cur.cpu.nrThrottled, prev.cpu.nrThrottled) > 0;
  if (throttledNow && !wasThrottling) ev.push({ time: t, kind: 'throttling', containerId: id, detail: `CPU throttled: quota ${cur.cpu.cpus ?? '-'} CPU used up within a period` });
  const changes: string[] = [];
  if (cur.memory.limit !== prev.memory.limit) changes.push(`memory ${fmtBytes(prev.memory.limit)} → ${fmtBytes(cur.memory.limit)}`);
  if (cur.cpu.cpus !== prev.cpu.cpus) changes.push(`cpus ${prev.cpu.cpus ?? 'unlimited'} → ${cur.cpu.cpus ?? 'unlimited'}`);
  if (cur.pids.limit !== prev.pids.limit) changes.push(`pids.max ${prev.pids.limit ?? 'max'} → ${cur.pids.limit ?? 'max'}`);
  if (changes.length) ev.push({ time: t, kind: 'limit-changed', containerId: id, detail: changes.join(', ') });
  return { events: ev, throttling: throttledNow };
}

export class CgroupSampler {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly concurrency: number;
  private series = new Map<string, Series>();
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private listeners = new Set<() => void>();
  private ticking = false;
  private tickP: Promise<void> | null = null;
  private groups = new Map<string, GroupState>();
  private parent: string | null = null;
  /** what subscribers watch: full ids, prefixes or names (as snapshot() matches them), or ALL; a count each */
  private watched = new Map<string, number>();
  private sampleTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  /** the last OOM-kill / refused-fork counts seen of each running container (sampled or checked) */
  private counts = new Map<string, { oomKill: number; forksRefused: number }>();

  constructor(
    private readonly engine: InspectEngine,
    opts: CgroupSamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    this.concurrency = opts.concurrency ?? 16;
  }

  get capacity(): number {
    return Math.ceil(this.windowMs / this.intervalMs);
  }

  /** Listen to the engine's events and check the unwatched containers' event counters; samples only what watch() asks for. */
  start(): void {
    if (this.offEvents) return;
    this.offEvents = this.engine.onEvent((e) => this.onEngineEvent(e));
    if (this.engine.eventCounts) {
      this.checkTimer = setInterval(() => this.checkEvents(), EVENT_CHECK_MS);
      this.checkTimer.unref?.();
    }
  }

  stop(): void {
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.sampleTimer = this.checkTimer = null;
    this.offEvents?.();
    this.offEvents = null;
  }

  /**
   * Sample a container (by id, id prefix or name) every intervalMs, or every running one (no
   * argument), until the returned function is called. Watches add up: the sampling stops with the
   * last one.
   */
  watch(containerId?: string): () => void {
    const key = containerId || ALL;
    this.watched.set(key, (this.watched.get(key) ?? 0) + 1);
    if (!this.sampleTimer) {
      this.sampleTimer = setInterval(() => void this.tickWatched(), this.intervalMs);
      this.sampleTimer.unref?.();
    }
    void this.tickWatched();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.watched.get(key) ?? 1) - 1;
      if (n > 0) this.watched.set(key, n);
      else this.watched.delete(key);
      if (!this.watched.size && this.sampleTimer) {
        clearInterval(this.sampleTimer);
        this.sampleTimer = null;
      }
    };
  }

  /** Whether a subscriber watches this container (directly, by prefix or name, or all). */
  isWatched(r: Pick<ContainerRecord, 'id' | 'name'>): boolean {
    if (this.watched.has(ALL)) return true;
    for (const k of this.watched.keys()) if (r.id === k || r.id.startsWith(k) || r.name === k) return true;
    return false;
  }

  /** One sample of the watched containers now (a REST read of one container's chart asks for it too). */
  tickWatched(): Promise<void> {
    return this.tick((r) => this.isWatched(r));
  }

  /** One sample of a container now, watched or not (a one-off read of its chart). */
  sampleNow(containerId: string): Promise<void> {
    return this.tick((r) => r.id === containerId || r.id.startsWith(containerId) || r.name === containerId);
  }

  /**
   * The cheap check of the containers nobody watches (every EVENT_CHECK_MS; exposed for tests): two
   * counters each, from open files. A counter that went up is an event on the container's timeline, as a sample would have found it.
   */
  checkEvents(): void {
    if (!this.engine.eventCounts) return;
    let records: ContainerRecord[];
    try {
      records = this.engine.list();
    } catch {
      return;
    }
    let changed = false;
    const live = new Set<string>();
    for (const r of records) {
      if (!isActive(r.state.status)) continue;
      live.add(r.id);
      if (this.isWatched(r)) continue; // sampled: eventsBetween sees the counters
      const now = this.engine.eventCounts(r.id);
      if (!now) continue;
      const before = this.counts.get(r.id);
      this.counts.set(r.id, now);
      if (!before) continue; // the first look at a container found running: its baseline
      const time = Date.now();
      const kills = now.oomKill - before.oomKill;
      const refused = now.forksRefused - before.forksRefused;
      if (kills <= 0 && refused <= 0) continue;
      const s = this.ensure(r.id, r.name, r.state.status);
      s.group = cgroupPlace(r).group;
      if (kills > 0) this.addEvent(s, { time, kind: 'oom-kill', containerId: r.id, detail: `OOM killer killed ${kills} process${kills > 1 ? 'es' : ''} (memory limit ${fmtBytes(r.limits.memory ?? null)})` });
      if (refused > 0) this.addEvent(s, { time, kind: 'fork-refused', containerId: r.id, detail: `${refused} fork${refused > 1 ? 's' : ''} refused: pids.max = ${r.limits.pids ?? 'max'}` });
      changed = true;
    }
    for (const id of this.counts.keys()) if (!live.has(id)) this.counts.delete(id);
    if (changed) this.notify();
  }

  /** called after every tick and every event */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private notify(): void {
    for (const cb of this.listeners) {
      try {
        cb();
      } catch {
        /* a listener's problem */
      }
    }
  }

  private ensure(id: string, name: string, status: string): Series {
    let s = this.series.get(id);
    if (!s) {
      s = { id, name, status, samples: [], events: [], latest: null, goneAt: null, throttling: false, lastUpdateEvent: 0, group: '' };
      this.series.set(id, s);
    }
    s.name = name;
    s.status = status;
    return s;
  }

  private addEvent(s: Series, e: CgroupEvent): void {
    // the same event from the counters and from the engine within 3 s: keep one
    if (s.events.some((x) => x.kind === e.kind && Math.abs(x.time - e.time) < 3000)) return;
    s.events.push(e);
    const cutoff = Date.now() - this.windowMs;
    while (s.events.length && s.events[0].time < cutoff) s.events.shift();
    if (s.events.length > 500) s.events.splice(0, s.events.length - 500);
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.type !== 'container') return;
    const time = e.time > 1e12 ? e.time : e.time * 1000;
    // a container that starts for the first time has counted nothing yet: its baseline is zero
    if (e.action === 'start' && !this.counts.has(e.id)) this.counts.set(e.id, { oomKill: 0, forksRefused: 0 });
    if (e.action === 'destroy') {
      this.counts.delete(e.id);
      this.series.delete(e.id);
      this.notify();
      return;
    }
    const s = this.series.get(e.id) ?? (e.action === 'start' ? this.ensure(e.id, e.name, 'running') : null);
    if (!s) return;
    if (e.action === 'oom') this.addEvent(s, { time, kind: 'oom-kill', containerId: e.id, detail: 'the kernel OOM killer killed a process of the container (memory limit reached)' });
    else if (e.action === 'update') {
      const files = Object.entries(e.attributes ?? {}).map(([f, v]) => `${f.split('/').slice(-1)[0]} = ${v}`);
      s.lastUpdateEvent = time;
      this.addEvent(s, { time, kind: 'limit-changed', containerId: e.id, detail: files.length ? `wrote ${files.join(', ')}` : 'limits updated' });
    } else if (e.action === 'die') this.addEvent(s, { time, kind: 'die', containerId: e.id, detail: `init exited${e.attributes?.exitCode ? ` with ${e.attributes.exitCode}` : ''}` });
    else if (e.action === 'start' || e.action === 'restart') this.addEvent(s, { time, kind: 'start', containerId: e.id, detail: 'started' });
    this.notify();
  }

  /** One sample of every running container (or those `which` picks). Exposed for tests (call it instead of waiting). */
  tick(which?: (r: ContainerRecord) => boolean): Promise<void> {
    // one reading at a time: a caller during one waits for it
    if (this.tickP) return this.tickP;
    this.tickP = this.readAll(which).finally(() => (this.tickP = null));
    return this.tickP;
  }

  private async readAll(which?: (r: ContainerRecord) => boolean): Promise<void> {
    if (this.ticking || !this.engine.stats) return;
    this.ticking = true;
    try {
      let records: ContainerRecord[];
      try {
        records = this.engine.list({ all: true });
      } catch {
        return;
      }
      const active = records.filter((r) => isActive(r.state.status));
      const running = which ? active.filter(which) : active;
      const now = Date.now();
      const live = new Set(active.map((r) => r.id));
      for (const r of records) if (this.series.has(r.id)) this.series.get(r.id)!.status = r.state.status;
      for (const s of this.series.values()) {
        if (!live.has(s.id) && s.goneAt === null) s.goneAt = now;
        if (live.has(s.id)) s.goneAt = null;
        if (s.goneAt !== null && now - s.goneAt > this.windowMs) this.series.delete(s.id);
      }
      let i = 0;
      const worker = async () => {
        while (i < running.length) {
          const r = running[i++];
          let st: CgroupStats;
          try {
            st = await this.engine.stats!(r.id);
          } catch {
            continue; // stopped between list and read
          }
          const s = this.ensure(r.id, r.name, r.state.status);
          const prev = s.latest;
          s.samples.push(sampleFrom(st, prev));
          if (s.samples.length > this.capacity) s.samples.splice(0, s.samples.length - this.capacity);
          if (prev) {
            const { events, throttling } = eventsBetween(r.id, st, prev, s.throttling);
            s.throttling = throttling;
            for (const e of events) {
              if (e.kind === 'limit-changed' && st.time - s.lastUpdateEvent < 3000) continue; // the engine already said so, with file names
              this.addEvent(s, e);
            }
          }
          s.latest = st;
          this.counts.set(r.id, { oomKill: st.memory.events.oomKill, forksRefused: st.pids.refused });
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, running.length) }, worker));
      for (const r of running) {
        const place = cgroupPlace(r);
        const s = this.series.get(r.id);
        if (s) s.group = place.group;
        if (place.parent) this.parent = place.parent;
      }
      await this.readGroups(running);
    } finally {
      this.ticking = false;
    }
    this.notify();
  }

  /** The learners' groups of the running containers: their counters, and the CPU rate since the last read. */
  private async readGroups(running: ContainerRecord[]): Promise<void> {
    const wanted = new Set(running.map((r) => cgroupPlace(r).group).filter(Boolean));
    for (const g of this.groups.keys()) if (!wanted.has(g)) this.groups.delete(g);
    if (!this.engine.tenantUsage) return;
    for (const group of wanted) {
      const learnerId = group.slice(GROUPS_DIR.length + 1);
      let st = this.groups.get(group);
      if (!st) {
        st = { group, learnerId, latest: null, prevNs: null, prevTime: 0 };
        this.groups.set(group, st);
      }
      try {
        const u = await this.engine.tenantUsage(learnerId);
        const now = Date.now();
        const dt = (now - st.prevTime) / 1000;
        const cpu = st.prevNs !== null && dt > 0 ? Math.max(0, (u.cpuUsageNs - st.prevNs) / 1e9 / dt) : 0;
        st.prevNs = u.cpuUsageNs;
        st.prevTime = now;
        st.latest = {
          group,
          learnerId,
          memory: u.memory.current,
          memoryLimit: u.memory.limit,
          cpu,
          cpuLimit: u.cpus,
          pids: u.pids.current,
          pidsLimit: u.pids.limit,
          oomKills: u.memory.oomKills,
          forksRefused: u.pids.refused,
        };
      } catch {
        /* the group went between the list and the read */
      }
    }
  }

  snapshot(containerId?: string): CgroupSnapshot {
    const pick = (s: Series): CgroupSeries => ({ containerId: s.id, name: s.name, status: s.status, samples: s.samples, events: s.events, latest: s.latest, group: s.group });
    let list = [...this.series.values()];
    if (containerId) list = list.filter((s) => s.id === containerId || s.id.startsWith(containerId) || s.name === containerId);
    // the groups of the containers shown (a learner's view shows their own containers: their own group)
    const groups: CgroupGroup[] = [];
    for (const g of this.groups.values()) {
      const members = list.filter((s) => s.group === g.group).map((s) => s.id);
      if (g.latest && members.length) groups.push({ ...g.latest, containers: members });
    }
    return { kind: 'cgroups', time: Date.now(), intervalMs: this.intervalMs, windowMs: this.windowMs, containers: list.map(pick), parent: this.parent ?? undefined, groups };
  }
}

/**
 * A snapshot narrowed to some containers (a learner's own): the groups go with them, so no
 * other learner's group, id or usage is in it.
 */
export function cgroupSnapshotFor(s: CgroupSnapshot, keep: ReadonlySet<string>): CgroupSnapshot {
  const containers = s.containers.filter((c) => keep.has(c.containerId));
  const groups = (s.groups ?? []).map((g) => ({ ...g, containers: g.containers.filter((id) => keep.has(id)) })).filter((g) => g.containers.length > 0);
  return { ...s, containers, groups };
}
