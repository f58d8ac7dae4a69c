// The diagrams for one learner: the hub's methods (snapshot, subscribe, whichLayer, setLimit) with
// every answer cut down to what the learner owns (scope.ts). The reads are the hub's, shared by all
// learners and the teacher: a learner's subscription is a subscription to the hub's channel plus a
// filter, so 30 learners watching the namespace diagram still cost one /proc scan per poll.
//
// A container that is not the learner's is not found (the same NotFound as for an id that does not
// exist, so ids do not leak): snapshot() throws it, subscribe() pushes the empty "not-found"
// snapshot a missing container gets.
import type { EngineApi } from '../api.js';
import { NotFound } from '../types.js';
import { learnerContainerView, learnerHostView, type ProcView } from './host-view.js';
import { limitChange, snapshotHash, type InspectHub } from './hub.js';
import { emptyLayerSnapshot, whichLayer } from './layers.js';
import { emptyMountSnapshot } from './mounts.js';
import { scopeCgroups, scopeLayers, scopeMounts, scopeNamespaces, scopeNetwork, scopeOf, type LearnerScope } from './scope.js';
import type { InspectEngine } from './source.js';
import type { AnySnapshot, DiagramKind, LimitKind, SnapshotOf, WhichLayerResult } from './types.js';
import { DIAGRAM_KINDS } from './types.js';

/** What the learner's hub needs of a LearnerEngine. */
export type LearnerInspectEngine = InspectEngine & Pick<EngineApi, 'listNetworks' | 'update'> & { readonly learnerId: string };

/** The hub's public methods, as REST and socket.io call them: an InspectHub or a LearnerHub. */
export type DiagramHub = Pick<InspectHub, 'snapshot' | 'subscribe' | 'whichLayer' | 'setLimit' | 'compareView'>;

const PER_CONTAINER: readonly DiagramKind[] = ['layers', 'mounts'];

export class LearnerHub implements DiagramHub {
  constructor(
    private readonly base: InspectHub,
    readonly engine: LearnerInspectEngine,
  ) {}

  get learnerId(): string {
    return this.engine.learnerId;
  }

  /** What the learner owns right now. */
  scope(): LearnerScope {
    return scopeOf(this.learnerId, this.engine.list({ all: true }), this.engine.listNetworks());
  }

  /** true when the id, id prefix or name is one of the learner's containers */
  owns(idOrName: string): boolean {
    try {
      this.engine.get(idOrName);
      return true;
    } catch {
      return false;
    }
  }

  /** The learner's container's full id (their name or an id prefix works), or NotFound. */
  private resolve(idOrName: string): string {
    return this.engine.get(idOrName).id;
  }

  /** Ids of the containers on the host that are not the learner's (to scrub host mount points). */
  private foreignIds(scope: LearnerScope): string[] {
    return this.base.engine
      .list({ all: true })
      .map((r) => r.id)
      .filter((id) => !scope.containerIds.has(id));
  }

  /** The container a layers/mounts diagram without a container shows: the learner's first running one. */
  private defaultContainer(): string | undefined {
    return this.engine.list({ all: true }).find((r) => r.state.status === 'running')?.id;
  }

  private cut<K extends DiagramKind>(kind: K, snap: SnapshotOf<K>, scope = this.scope()): SnapshotOf<K> {
    switch (kind) {
      case 'namespaces':
        return scopeNamespaces(snap as SnapshotOf<'namespaces'>, scope) as SnapshotOf<K>;
      case 'network':
        return scopeNetwork(snap as SnapshotOf<'network'>, scope) as SnapshotOf<K>;
      case 'cgroups':
        return scopeCgroups(snap as SnapshotOf<'cgroups'>, scope) as SnapshotOf<K>;
      case 'mounts':
        return scopeMounts(snap as SnapshotOf<'mounts'>, this.foreignIds(scope)) as SnapshotOf<K>;
      case 'layers':
        return scopeLayers(snap as SnapshotOf<'layers'>) as SnapshotOf<K>;
    }
    throw new Error(`unknown diagram ${kind}`);
  }

  /** The empty answer for a layers/mounts diagram with no container of the learner's to show. */
  private nothing<K extends DiagramKind>(kind: K, containerId: string | undefined): SnapshotOf<K> {
    const message = containerId ? `No such container: ${containerId}` : 'no container chosen and none running';
    if (kind === 'layers') return emptyLayerSnapshot('not-found', containerId ?? null, message) as SnapshotOf<K>;
    if (kind === 'mounts') return emptyMountSnapshot('not-found', containerId ?? null, message) as SnapshotOf<K>;
    if (kind === 'cgroups') return { kind: 'cgroups', time: Date.now(), intervalMs: this.base.cgroups.intervalMs, windowMs: this.base.cgroups.windowMs, containers: [] } as unknown as SnapshotOf<K>;
    throw new NotFound(message);
  }

  /** A fresh snapshot of what the learner owns. A container that is not theirs: NotFound. */
  async snapshot<K extends DiagramKind>(kind: K, containerId?: string): Promise<SnapshotOf<K>> {
    if (!DIAGRAM_KINDS.includes(kind)) throw new Error(`unknown diagram ${kind}`);
    const id = containerId === undefined ? undefined : this.resolve(containerId);
    if (PER_CONTAINER.includes(kind)) {
      const target = id ?? this.defaultContainer();
      if (!target) return this.nothing(kind, undefined);
      return this.cut(kind, await this.base.snapshot(kind, target));
    }
    return this.cut(kind, await this.base.snapshot(kind, kind === 'cgroups' ? id : undefined));
  }

  /**
   * The hub's subscribe, for the learner: cb gets the learner's cut of the hub's snapshot, and only
   * when that cut changed (another learner's new process changes the hub's snapshot, not this one).
   * Never throws for a container that is not theirs (a socket handler calls it): the subscriber gets
   * the empty not-found snapshot once. Returns the unsubscribe.
   */
  subscribe<K extends DiagramKind>(kind: K, cb: (snapshot: SnapshotOf<K>) => void, containerId?: string, onChecked?: (time: number) => void): () => void {
    if (!DIAGRAM_KINDS.includes(kind)) throw new Error(`unknown diagram ${kind}`);
    let id: string | undefined;
    try {
      // the namespace and network pictures are not per container: the id is not used there
      id = containerId === undefined || kind === 'namespaces' || kind === 'network' ? undefined : this.resolve(containerId);
    } catch {
      queueMicrotask(() => cb(this.nothing(kind, containerId)));
      return () => {};
    }
    if (PER_CONTAINER.includes(kind)) {
      id ??= this.defaultContainer();
      if (!id) {
        queueMicrotask(() => cb(this.nothing(kind, undefined)));
        return () => {};
      }
    }
    let lastHash: string | null = null;
    const channelId = PER_CONTAINER.includes(kind) || kind === 'cgroups' ? id : undefined;
    return this.base.subscribe(
      kind,
      (snap) => {
        let mine: SnapshotOf<K>;
        try {
          mine = this.cut(kind, snap);
        } catch {
          return; // the learner's engine went (revoked): nothing to show
        }
        const hash = snapshotHash(mine as AnySnapshot);
        if (hash === lastHash) return onChecked?.(mine.time);
        lastHash = hash;
        cb(mine);
      },
      channelId,
      onChecked,
    );
  }

  /** Which layer a path of the learner's container comes from; NotFound for a container not theirs. */
  whichLayer(containerId: string, path: string): Promise<WhichLayerResult> {
    return whichLayer(this.engine, containerId, path);
  }

  /** A limit drag on the learner's container, through their engine (and so their quota). */
  async setLimit(containerId: string, kind: LimitKind, value: number | null): Promise<{ file: string; wrote: string }[]> {
    const id = this.resolve(containerId);
    const writes = await this.engine.update(id, limitChange(kind, value));
    await this.base.cgroups.tick();
    return writes.map((w) => ({ file: w.file, wrote: w.wrote }));
  }

  /**
   * The compare page (GET /api/host/view) for the learner: the host column shows only their
   * containers' processes (host pids), their veths and bridges and their containers' mounts; the
   * containers asked for must be theirs (NotFound otherwise). At most 4, as the route takes.
   */
  async compareView(containerIds: string[]): Promise<{ host: ProcView; containers: ProcView[] }> {
    const recs = containerIds.slice(0, 4).map((id) => this.engine.get(id));
    const scope = this.scope();
    const [ns, net] = await Promise.all([this.base.snapshot('namespaces'), this.base.snapshot('network')]);
    const mineNs = scopeNamespaces(ns, scope);
    const mineNet = scopeNetwork(net, scope);
    const own = {
      processes: mineNs.processes,
      links: new Set([...mineNet.bridges.map((b) => b.name), ...mineNet.endpoints.map((e) => e.hostVeth).filter((v): v is string => !!v)]),
      containers: this.engine.list({ all: true }),
    };
    const host = learnerHostView(own);
    return { host, containers: recs.map((r) => learnerContainerView(r, host)) };
  }
}
