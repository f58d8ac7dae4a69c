// One place the diagrams' data comes from. The hub polls only what someone watches (a namespace
// scan, a container's layers, the network, the cgroup sampler), re-polls soon after the engine
// reports something (a start, an exec, an update: once its burst of events is over), and pushes a
// snapshot to the subscribers only when it changed (hash of the snapshot without its timestamps)
// and at most every minPushMs.
import { createHash } from 'node:crypto';
import { CgroupSampler } from './cgroups.js';
import { containerView, hostView, type ProcView } from './host-view.js';
import { emptyLayerSnapshot, layerSnapshot, whichLayer } from './layers.js';
import { emptyMountSnapshot, mountSnapshot } from './mounts.js';
import { NamespaceScanner } from './namespaces.js';
import { NetworkInspector, type NetworkManagerLike } from './network.js';
import { LearnerHub, type LearnerInspectEngine } from './learner-hub.js';
import type { InspectEngine } from './source.js';
import { InvalidArgument } from '../types.js';
import type { AnySnapshot, DiagramKind, LimitKind, SnapshotOf, WhichLayerResult } from './types.js';
import { DIAGRAM_KINDS } from './types.js';

/** quiet time after an engine event before the re-read (see refreshAfterBurst) */
const EVENT_SETTLE_MS = 100;
const EVENT_MAX_WAIT_MS = 400;
/**
 * A polled read waits this many times its own duration before the next poll: a namespace scan
 * of 200 containers' processes takes tens of ms, and re-read every 750 ms it was most of the CPU
 * a dashboard costs the server. At 60× a read costs at most ~1.7% of a core; a small host still
 * polls every pollMs, and an engine event (start, exec, update) re-reads at once either way.
 */
const POLL_COST_FACTOR = 60;

export interface InspectHubOptions {
  /** the network manager of issue 6, when the server has one */
  network?: NetworkManagerLike | null;
  /** how often watched diagrams are re-read (ms). Default 750: a change shows within a second */
  pollMs?: number;
  /** at most one push per diagram per this many ms. Default 333 (~3 a second) */
  minPushMs?: number;
  /** cgroup sampling (ms) and window (ms): default 1000 and 5 minutes */
  sampleMs?: number;
  windowMs?: number;
  /** host processes listed in the namespace snapshot before the rest are only counted */
  maxHostProcesses?: number;
}

type Callback<K extends DiagramKind = DiagramKind> = (snapshot: SnapshotOf<K>) => void;
/** a read found the snapshot unchanged: what is shown is current as of `time` (ms since epoch) */
type CheckedCallback = (time: number) => void;

/** at most one "checked, unchanged" note per channel per this many ms */
const CHECKED_EVERY_MS = 1_000;

interface Channel {
  kind: DiagramKind;
  containerId: string | undefined;
  subscribers: Set<Callback>;
  checked: Set<CheckedCallback>;
  lastChecked: number;
  hash: string | null;
  last: AnySnapshot | null;
  lastPush: number;
  timer: NodeJS.Timeout | null;
  /** the poll skips the channel until then (ms since epoch): see POLL_COST_FACTOR */
  notBefore: number;
  /** a cgroups channel keeps its container(s) sampled while it has subscribers */
  unwatch: (() => void) | null;
  pending: boolean;
  reading: Promise<AnySnapshot> | null;
}

/** The hash of a snapshot without the fields that change on every read. */
export function snapshotHash(s: AnySnapshot): string {
  const h = createHash('sha1');
  h.update(
    JSON.stringify(s, (k, v) => {
      if (k === 'time' || k === 'scanMs') return undefined;
      return v;
    }),
  );
  return h.digest('hex');
}

/** The engine.update() request a diagram's limit drag makes, or an error naming the value. */
export function limitChange(kind: LimitKind, value: number | null): { memory?: number | null; cpus?: number | null; pids?: number | null } {
  if (kind !== 'memory' && kind !== 'cpus' && kind !== 'pids') throw new InvalidArgument(`limit kind: expected memory, cpus or pids, got ${String(kind).slice(0, 20)}`);
  if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) throw new InvalidArgument(`invalid ${kind} limit: ${value}`);
  return kind === 'memory' ? { memory: value === null ? null : Math.round(value) } : kind === 'cpus' ? { cpus: value } : { pids: value === null ? null : Math.round(value) };
}

export class InspectHub {
  readonly engine: InspectEngine;
  readonly cgroups: CgroupSampler;
  private readonly ns = new NamespaceScanner();
  private readonly net: NetworkInspector;
  private readonly opts: Required<Omit<InspectHubOptions, 'network'>>;
  private channels = new Map<string, Channel>();
  private pollTimer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private offSampler: (() => void) | null = null;
  private nsCache: { at: number; p: Promise<SnapshotOf<'namespaces'>> } | null = null;
  // shared like the namespace scan: every learner's network view is cut from one read (and the
  // counters' rates need one reader: two reads 5 ms apart would show no traffic)
  private netCache: { at: number; p: Promise<SnapshotOf<'network'>> } | null = null;
  private burstTimer: NodeJS.Timeout | null = null;
  private burstStart: number | null = null;
  private closed = false;

  constructor(engine: InspectEngine, opts: InspectHubOptions = {}) {
    this.engine = engine;
    this.opts = {
      pollMs: opts.pollMs ?? 750,
      minPushMs: opts.minPushMs ?? 333,
      sampleMs: opts.sampleMs ?? 1000,
      windowMs: opts.windowMs ?? 5 * 60_000,
      maxHostProcesses: opts.maxHostProcesses ?? 400,
    };
    this.net = new NetworkInspector(opts.network ?? null);
    this.cgroups = new CgroupSampler(engine, { intervalMs: this.opts.sampleMs, windowMs: this.opts.windowMs });
    // Listens to the engine and checks the OOM / refused-fork counters of what nobody watches; the
    // full sampling runs only for the cgroups channels' containers (see CgroupSampler.watch).
    this.cgroups.start();
    this.offSampler = this.cgroups.onChange(() => {
      for (const ch of this.channels.values()) if (ch.kind === 'cgroups') this.refresh(ch);
    });
    this.offEvents = engine.onEvent((e) => {
      if (e.type !== 'container' && e.type !== 'network') return;
      // something changed in the kernel: re-read what is watched soon rather than at the next poll
      this.nsCache = null;
      this.netCache = null;
      this.refreshAfterBurst();
    });
  }

  /**
   * Making a container is a burst of events (create, network connect, start) and a snapshot reads
   * all of /proc: one read once the burst is over (EVENT_SETTLE_MS without an event, at most
   * EVENT_MAX_WAIT_MS after its first), not one per event in the middle of the creation, where it
   * would hold up the requests that follow it, like the new container's first terminal.
   */
  private refreshAfterBurst(): void {
    const now = Date.now();
    this.burstStart ??= now;
    if (this.burstTimer) clearTimeout(this.burstTimer);
    const wait = Math.max(0, Math.min(EVENT_SETTLE_MS, this.burstStart + EVENT_MAX_WAIT_MS - now));
    this.burstTimer = setTimeout(() => {
      this.burstTimer = null;
      this.burstStart = null;
      this.nsCache = null;
      this.netCache = null;
      this.refreshPolled(true);
    }, wait);
    this.burstTimer.unref?.();
  }

  /** A fresh snapshot (the namespace scan is shared for 300 ms between callers). */
  async snapshot<K extends DiagramKind>(kind: K, containerId?: string): Promise<SnapshotOf<K>> {
    if (!DIAGRAM_KINDS.includes(kind)) throw new Error(`unknown diagram ${kind}`);
    switch (kind) {
      case 'namespaces': {
        const now = Date.now();
        if (!this.nsCache || now - this.nsCache.at > 300) {
          const p = this.ns.scan({ containers: this.records(), maxHostProcesses: this.opts.maxHostProcesses }).then((snap) => this.withPids(snap));
          this.nsCache = { at: now, p };
        }
        return (await this.nsCache.p) as SnapshotOf<K>;
      }
      case 'layers': {
        const id = containerId ?? this.records().find((r) => r.state.status === 'running')?.id;
        if (!id) return emptyLayerSnapshot('not-found', null, 'no container chosen and none running') as SnapshotOf<K>;
        return (await layerSnapshot(this.engine, id)) as SnapshotOf<K>;
      }
      case 'mounts': {
        const id = containerId ?? this.records().find((r) => r.state.status === 'running')?.id;
        if (!id) return emptyMountSnapshot('not-found', null, 'no container chosen and none running') as SnapshotOf<K>;
        return (await mountSnapshot(this.engine, id)) as SnapshotOf<K>;
      }
      case 'network': {
        const now = Date.now();
        if (!this.netCache || now - this.netCache.at > 300) this.netCache = { at: now, p: this.net.snapshot(this.records(), this.engine) };
        return (await this.netCache.p) as SnapshotOf<K>;
      }
      case 'cgroups':
        // a one-off read (REST) of what no channel keeps sampled: read it now
        if (!this.watchedByChannel(containerId)) await (containerId ? this.cgroups.sampleNow(containerId) : this.cgroups.tick());
        return this.cgroups.snapshot(containerId) as SnapshotOf<K>;
    }
    throw new Error(`unknown diagram ${kind}`);
  }

  /**
   * Each container's pids.current / pids.max and refused forks, from the sampler: the pid view
   * explains "+ terminal fails with EAGAIN" when zombies fill pids.max.
   */
  private withPids(snap: SnapshotOf<'namespaces'>): SnapshotOf<'namespaces'> {
    const { usage, eventCounts } = this.engine;
    for (const c of snap.containers) {
      // cheap reads (files kept open) when the engine has them: no full cgroup sampling for this view
      if (usage && eventCounts) {
        const u = usage.call(this.engine, c.id);
        if (!u) continue;
        let limit: number | null = null;
        try {
          limit = this.engine.get(c.id).limits.pids ?? null;
        } catch {
          /* removed meanwhile */
        }
        c.pids = { current: u.pids, limit, refused: eventCounts.call(this.engine, c.id)?.forksRefused ?? 0 };
        continue;
      }
      const latest = this.cgroups.snapshot(c.id).containers.find((s) => s.containerId === c.id)?.latest;
      if (latest) c.pids = { current: latest.pids.current, limit: latest.pids.limit, refused: latest.pids.refused };
    }
    return snap;
  }

  whichLayer(containerId: string, path: string): Promise<WhichLayerResult> {
    return whichLayer(this.engine, containerId, path);
  }

  /**
   * The compare page (GET /api/host/view): the host's answers to ps, ip link, hostname and mount
   * beside the given containers' (at most 4). A learner's hub answers with their part only.
   */
  async compareView(containerIds: string[]): Promise<{ host: ProcView; containers: ProcView[] }> {
    const recs = containerIds.slice(0, 4).map((id) => this.engine.get(id));
    return { host: hostView(), containers: recs.map((r) => containerView(r)) };
  }

  /** Change a limit from a diagram (the cgroup chart's drag). Returns the files written. */
  async setLimit(containerId: string, kind: LimitKind, value: number | null): Promise<{ file: string; wrote: string }[]> {
    if (!this.engine.update) throw new Error('this engine cannot update limits');
    const writes = await this.engine.update(containerId, limitChange(kind, value));
    await this.cgroups.tick();
    return writes.map((w) => ({ file: w.file, wrote: w.wrote }));
  }

  /**
   * The diagrams as one learner may see them (the same methods as the hub's): their containers,
   * networks and processes only, cut from this hub's reads, so 30 learners watching the namespace
   * diagram still cost one /proc scan. Hand it the learner's LearnerEngine.
   */
  forLearner(learner: LearnerInspectEngine): LearnerHub {
    return new LearnerHub(this, learner);
  }

  /**
   * Calls cb with the current snapshot, then with every changed one; onChecked (at most once a
   * second) when a read found nothing changed — without it a page showed "updated 29s ago" for a
   * diagram re-read every 750 ms. Returns the unsubscribe.
   */
  subscribe<K extends DiagramKind>(kind: K, cb: Callback<K>, containerId?: string, onChecked?: CheckedCallback): () => void {
    if (this.closed) throw new Error('hub closed');
    const key = `${kind}:${containerId ?? ''}`;
    let ch = this.channels.get(key);
    if (!ch) {
      ch = { kind, containerId, subscribers: new Set(), checked: new Set(), lastChecked: 0, hash: null, last: null, lastPush: 0, timer: null, notBefore: 0, unwatch: null, pending: false, reading: null };
      if (kind === 'cgroups') ch.unwatch = this.cgroups.watch(containerId);
      this.channels.set(key, ch);
    }
    ch.subscribers.add(cb as Callback);
    if (onChecked) ch.checked.add(onChecked);
    if (ch.last) queueMicrotask(() => (cb as Callback)(ch!.last as never));
    this.refresh(ch);
    this.ensurePolling();
    const channel = ch;
    return () => {
      channel.subscribers.delete(cb as Callback);
      if (onChecked) channel.checked.delete(onChecked);
      if (!channel.subscribers.size) {
        if (channel.timer) clearTimeout(channel.timer);
        channel.unwatch?.();
        this.channels.delete(key);
      }
      if (!this.channels.size && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = null;
      }
    };
  }

  close(): void {
    this.closed = true;
    if (this.burstTimer) clearTimeout(this.burstTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    for (const ch of this.channels.values()) {
      if (ch.timer) clearTimeout(ch.timer);
      ch.unwatch?.();
    }
    this.channels.clear();
    this.offEvents?.();
    this.offSampler?.();
    this.cgroups.stop();
  }

  /** Whether a cgroups channel keeps this container (or all, without an id) sampled. */
  private watchedByChannel(containerId: string | undefined): boolean {
    const all = this.channels.get('cgroups:');
    if (all?.subscribers.size) return true;
    return !!containerId && !!this.channels.get(`cgroups:${containerId}`)?.subscribers.size;
  }

  private records() {
    try {
      return this.engine.list({ all: true });
    } catch {
      return [];
    }
  }

  private ensurePolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.refreshPolled(), this.opts.pollMs);
    this.pollTimer.unref?.();
  }

  /** Every watched channel the poll reads (the cgroup channels follow the sampler instead); `now` after an engine event. */
  private refreshPolled(now = false): void {
    const t = Date.now();
    for (const ch of this.channels.values()) if (ch.kind !== 'cgroups' && (now || t >= ch.notBefore)) this.refresh(ch);
  }

  /** Read the channel's snapshot (one read at a time) and push it if it changed, throttled. */
  private refresh(ch: Channel): void {
    if (this.closed) return;
    if (ch.reading) {
      ch.pending = true;
      return;
    }
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    ch.reading = this.snapshot(ch.kind, ch.containerId) as Promise<AnySnapshot>;
    ch.reading
      .then((snap) => {
        // the read's cost: its wall time, or the process's CPU meanwhile when more (the scan's
        // file reads run on libuv's threads, several at once)
        const cpu = process.cpuUsage(cpu0);
        const cost = Math.max(performance.now() - started, (cpu.user + cpu.system) / 1000);
        ch.notBefore = Date.now() + cost * POLL_COST_FACTOR - this.opts.pollMs;
        const hash = snapshotHash(snap);
        if (hash === ch.hash) {
          this.noteChecked(ch, snap.time);
          return;
        }
        ch.hash = hash;
        ch.last = snap;
        this.push(ch);
      })
      .catch(() => {
        /* the next poll tries again */
      })
      .finally(() => {
        ch.reading = null;
        if (ch.pending) {
          ch.pending = false;
          setTimeout(() => this.refresh(ch), 50).unref?.();
        }
      });
  }

  /** Tells the channel's subscribers that a read found their snapshot still true (throttled). */
  private noteChecked(ch: Channel, time: number): void {
    const now = Date.now();
    if (!ch.checked.size || now - ch.lastChecked < CHECKED_EVERY_MS || ch.timer) return; // a push due says it anyway
    ch.lastChecked = now;
    for (const cb of ch.checked) {
      try {
        cb(time);
      } catch {
        /* a subscriber's problem */
      }
    }
  }

  private push(ch: Channel): void {
    if (ch.timer) return; // a trailing push is already due; it sends the latest snapshot
    const wait = ch.lastPush + this.opts.minPushMs - Date.now();
    const send = () => {
      ch.timer = null;
      ch.lastPush = Date.now();
      const snap = ch.last;
      if (!snap) return;
      for (const cb of ch.subscribers) {
        try {
          cb(snap as never);
        } catch {
          /* a subscriber's problem */
        }
      }
    };
    if (wait <= 0) send();
    else {
      ch.timer = setTimeout(send, wait);
      ch.timer.unref?.();
    }
  }
}
