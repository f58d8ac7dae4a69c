// One learner's view of the engine: the same EngineApi the adapters already speak, narrowed to
// what the learner owns. The REST routes and socket.io channels take an EngineApi per request
// (the teacher's is the Engine itself), so a learner's sandbox needs no check in any adapter:
// a container, network or exec session of someone else is not found (NotFound, never "forbidden",
// so ids do not leak), and every create goes through the learner policy.
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import type { EngineApi, ExecOptions, ImportOptions, PruneFilters, VolumeCreateRequest, VolumeInfo } from '../api.js';
import type { NetworkCreateRequest } from '../network/index.js';
import { Conflict, InvalidArgument, NotFound, type ContainerConfig, type ContainerRecord, type EngineEvent } from '../types.js';
import { applyLearnerPolicy, isLabLabel, OWNER_LABEL, PermissionDenied, type LearnerPolicy } from './learner-policy.js';

type Mount = NonNullable<ContainerConfig['mounts']>[number];

const noSuchContainer = (idOrName: string) => new NotFound(`No such container: ${idOrName}`);
const noSuchNetwork = (idOrName: string) => new NotFound(`network ${idOrName} not found`);
const noSuchVolume = (name: string) => new NotFound(`get ${name}: no such volume`);

export class LearnerEngine implements EngineApi {
  constructor(
    private readonly engine: EngineApi,
    readonly policy: LearnerPolicy,
  ) {}

  get learnerId(): string {
    return this.policy.learnerId;
  }

  /** A learner names a container `web`; the host knows it as `<learner>-web` (names are host-wide). */
  private hostName(name: string): string {
    return `${this.learnerId}-${name.replace(/^\//, '')}`;
  }

  private owns(rec: { config: ContainerConfig }): boolean {
    return rec.config.labels?.[OWNER_LABEL] === this.learnerId;
  }

  /** The learner's container by id, id prefix or their own name; anything else is NotFound. */
  private own(idOrName: string): ContainerRecord {
    for (const key of [this.hostName(idOrName), idOrName]) {
      let rec: ContainerRecord;
      try {
        rec = this.engine.get(key);
      } catch {
        continue;
      }
      if (this.owns(rec)) return rec;
    }
    throw noSuchContainer(idOrName);
  }

  private ownNetworkNames(): Set<string> {
    return new Set(this.engine.listNetworks().filter((n) => n.labels[OWNER_LABEL] === this.learnerId).map((n) => n.name));
  }

  /** The learner's default network (their own bridge, shared with nobody), made on first use. */
  private async defaultNetwork(): Promise<string> {
    const name = `${this.learnerId}-net`;
    if (!this.ownNetworkNames().has(name)) await this.engine.createNetwork({ name, labels: { [OWNER_LABEL]: this.learnerId } });
    return name;
  }

  private async admit(input: ContainerConfig): Promise<ContainerConfig> {
    const config = this.admitVolumes(input);
    const wanted = config.network === undefined || config.network === 'bridge' ? await this.defaultNetwork() : config.network === 'none' ? 'none' : this.hostNetworkName(config.network);
    const admitted = applyLearnerPolicy({ ...config, network: wanted }, this.policy, { ownNetworks: this.ownNetworkNames(), containers: this.list({ all: true }).length });
    return config.name ? { ...admitted, name: this.hostName(config.name) } : admitted;
  }

  /**
   * A learner's volumes are named `<learner>-<name>` on the host and labelled theirs; a mount of a
   * volume that exists and is someone else's is refused, --volumes-from takes only their own
   * containers (which have no bind mounts). Volumes made for the container (missing names, the
   * image's VOLUMEs) get the container's owner label from the engine.
   */
  private admitVolumes(config: ContainerConfig): ContainerConfig {
    const mounts = (config.mounts ?? []).map((m) => {
      if (m.type !== 'volume' || !m.source) return m;
      const name = this.hostVolumeName(m.source);
      let existing: VolumeInfo | null = null;
      try {
        existing = this.engine.inspectVolume(name);
      } catch {
        /* made at create, with the owner label */
      }
      if (existing && existing.labels[OWNER_LABEL] !== this.learnerId) throw new PermissionDenied(`the volume ${m.source}: not allowed in a learner's sandbox (it is not theirs)`);
      return { ...m, source: name };
    });
    const volumesFrom = config.volumesFrom?.map((spec) => {
      const mode = /:(ro|rw)$/.exec(spec)?.[0] ?? '';
      return this.own(mode ? spec.slice(0, -mode.length) : spec).id + mode;
    });
    return { ...config, ...(config.mounts ? { mounts } : {}), ...(volumesFrom ? { volumesFrom } : {}) };
  }

  private hostVolumeName(name: string): string {
    return name.startsWith(`${this.learnerId}-`) ? name : `${this.learnerId}-${name}`;
  }

  private ownVolume(name: string): VolumeInfo {
    for (const key of [this.hostVolumeName(name), name]) {
      let v: VolumeInfo;
      try {
        v = this.engine.inspectVolume(key);
      } catch {
        continue;
      }
      if (v.labels[OWNER_LABEL] === this.learnerId) return v;
    }
    throw noSuchVolume(name);
  }

  /** Prune filters narrowed to what carries this learner's owner label. */
  private ownFilters(filters: PruneFilters = {}): PruneFilters {
    return { ...filters, labels: [...(filters.labels ?? []), { key: OWNER_LABEL, value: this.learnerId }] };
  }

  private hostNetworkName(name: string): string {
    return name.startsWith(`${this.learnerId}-`) ? name : `${this.learnerId}-${name}`;
  }

  /**
   * The engine's facts (kernel, cgroup driver, runtimes…) with the counts Docker's `info` shows
   * narrowed to the learner: their containers; the images are the class's shared ones (the same
   * list listImages gives). Host-wide counts would tell a learner how busy the others are.
   */
  runtimes() {
    return this.engine.runtimes();
  }

  info() {
    const own = this.list({ all: true });
    const count = (st: string) => own.filter((r) => r.state.status === st).length;
    return {
      ...this.engine.info(),
      containers: own.length,
      containersRunning: count('running'),
      containersPaused: count('paused'),
      containersStopped: own.length - count('running') - count('paused'),
      images: this.engine.listImages().length,
    };
  }

  /**
   * A lab session's container (server/labs/sessions.ts only; no adapter calls this): the config
   * goes through the learner policy like any other, then the runner adds what a learner may not
   * ask for themselves — its glassbox.lab* labels, and bind mounts of directories inside the
   * session's own scratch directory (made empty by the runner for this session; no host path of
   * the learner's choosing).
   */
  async createForLab(config: ContainerConfig, lab: { labels: Record<string, string>; scratchDir: string; binds?: Mount[] }): Promise<ContainerRecord> {
    for (const k of Object.keys(lab.labels)) if (!isLabLabel(k)) throw new InvalidArgument(`lab label ${k}: the runner sets glassbox.lab* labels only`);
    const scratch = realpathSync(lab.scratchDir);
    for (const m of lab.binds ?? []) {
      const real = m.type === 'bind' && m.source ? realpathSync(m.source) : '';
      if (m.type !== 'bind' || real !== m.source || (real !== scratch && !real.startsWith(`${scratch}/`))) throw new PermissionDenied(`bind mount of ${m.source ?? '(none)'}: a lab's bind mounts are its session's scratch directory only`);
    }
    const admitted = await this.admit(config);
    return this.engine.create({ ...admitted, mounts: [...(admitted.mounts ?? []), ...(lab.binds ?? [])], labels: { ...(admitted.labels ?? {}), ...lab.labels } });
  }

  // ---------------------------------------------------------------- containers

  async create(config: ContainerConfig) {
    return this.engine.create(await this.admit(config));
  }
  async run(config: ContainerConfig) {
    return this.engine.run(await this.admit(config));
  }
  start(idOrName: string) {
    return this.engine.start(this.own(idOrName).id);
  }
  stop(idOrName: string, opts?: { timeoutSeconds?: number; signal?: string }) {
    return this.engine.stop(this.own(idOrName).id, opts);
  }
  kill(idOrName: string, signal?: string) {
    return this.engine.kill(this.own(idOrName).id, signal);
  }
  restart(idOrName: string, opts?: { timeoutSeconds?: number }) {
    return this.engine.restart(this.own(idOrName).id, opts);
  }
  pause(idOrName: string) {
    return this.engine.pause(this.own(idOrName).id);
  }
  unpause(idOrName: string) {
    return this.engine.unpause(this.own(idOrName).id);
  }
  remove(idOrName: string, opts?: { force?: boolean; volumes?: boolean }) {
    return this.engine.remove(this.own(idOrName).id, opts);
  }
  rename(idOrName: string, newName: string) {
    return this.engine.rename(this.own(idOrName).id, this.hostName(newName));
  }
  wait(idOrName: string, condition?: 'not-running' | 'next-exit' | 'removed') {
    return this.engine.wait(this.own(idOrName).id, condition);
  }
  get(idOrName: string) {
    return this.own(idOrName);
  }
  list(opts?: { all?: boolean }) {
    return this.engine.list(opts).filter((r) => this.owns(r));
  }
  update(idOrName: string, limits: Parameters<EngineApi['update']>[1]) {
    return this.engine.update(this.own(idOrName).id, limits);
  }
  stats(idOrName: string) {
    return this.engine.stats(this.own(idOrName).id);
  }
  top(idOrName: string, psArgs?: string) {
    return this.engine.top(this.own(idOrName).id, psArgs);
  }
  changes(idOrName: string) {
    return this.engine.changes(this.own(idOrName).id);
  }
  logs(idOrName: string, opts?: Parameters<EngineApi['logs']>[1]) {
    return this.engine.logs(this.own(idOrName).id, opts);
  }
  ociConfig(idOrName: string) {
    return this.engine.ociConfig(this.own(idOrName).id);
  }
  timeline(idOrName: string) {
    return this.engine.timeline(this.own(idOrName).id);
  }
  attach(idOrName: string) {
    return this.engine.attach(this.own(idOrName).id);
  }
  signalProcess(idOrName: string, hostPid: number, signal: string | number) {
    return this.engine.signalProcess(this.own(idOrName).id, hostPid, signal);
  }
  exec(idOrName: string, opts: ExecOptions) {
    if (opts.privileged) throw new PermissionDenied("exec --privileged: not allowed in a learner's sandbox");
    return this.engine.exec(this.own(idOrName).id, opts);
  }

  // ---------------------------------------------------------------- quota: the teacher sets it, the learner reads it

  setTenantLimits(): never {
    throw new PermissionDenied("setting a learner's quota: only the teacher can");
  }
  removeTenant(): never {
    throw new PermissionDenied("removing a learner's quota group: only the teacher can");
  }
  /** The learner's own group only: anyone else's is not found (ids do not leak). */
  tenantUsage(learnerId: string) {
    if (learnerId !== this.learnerId) return Promise.reject(new NotFound(`no such learner: ${learnerId}`));
    return this.engine.tenantUsage(learnerId);
  }

  // ---------------------------------------------------------------- images: shared, read-only

  listImages() {
    return this.engine.listImages();
  }
  inspectImage(ref: string) {
    return this.engine.inspectImage(ref);
  }
  imageView(ref: string) {
    return this.engine.imageView(ref);
  }
  /** A learner pulls one image at a time: a class's disk and bandwidth are shared. */
  async pullImage(ref: string, onProgress?: Parameters<EngineApi['pullImage']>[1]) {
    if (this.pulling) throw new Conflict(`a pull is already running for you (${this.pulling}): wait for it to finish`);
    this.pulling = ref;
    try {
      return await this.engine.pullImage(ref, onProgress);
    } finally {
      this.pulling = null;
    }
  }
  private pulling: string | null = null;
  saveImages(refs: string[], format: 'oci' | 'docker', out: Writable) {
    return this.engine.saveImages(refs, format, out);
  }
  tagImage(): void {
    throw new PermissionDenied("tagging images: not allowed in a learner's sandbox (images are shared by the class)");
  }
  removeImage(): never {
    throw new PermissionDenied("removing images: not allowed in a learner's sandbox (images are shared by the class)");
  }
  loadImages(_source: string | Readable): never {
    throw new PermissionDenied("loading images: not allowed in a learner's sandbox (images are shared by the class)");
  }
  /**
   * A learner builds: each RUN container is one of theirs, made through their policy (user
   * namespace, no privileges, their network, their container quota), and their cache is their
   * own. Tagging is refused as for tagImage (images are shared by the class): the image is theirs
   * to run by its id.
   */
  build(context: Readable, opts: Parameters<EngineApi['build']>[1] = {}, onEvent?: Parameters<EngineApi['build']>[2]) {
    if (opts.tags?.length) throw new PermissionDenied("build -t: tagging images is not allowed in a learner's sandbox (images are shared by the class); run the image by its id");
    const { runner: _ignored, cacheScope: _scope, ...rest } = opts;
    return this.engine.build(context, { ...rest, runner: this, cacheScope: `learner:${this.learnerId}` }, onEvent);
  }
  commit(): never {
    throw new PermissionDenied("committing images: not allowed in a learner's sandbox (images are shared by the class)");
  }

  // ---------------------------------------------------------------- networks: the learner's own

  private ownNetwork(idOrName: string) {
    for (const key of [this.hostNetworkName(idOrName), idOrName]) {
      let n;
      try {
        n = this.engine.inspectNetwork(key);
      } catch {
        continue;
      }
      if (n.labels[OWNER_LABEL] === this.learnerId) return n;
    }
    throw noSuchNetwork(idOrName);
  }

  listNetworks() {
    return this.engine.listNetworks().filter((n) => n.labels[OWNER_LABEL] === this.learnerId);
  }
  inspectNetwork(idOrName: string) {
    return this.ownNetwork(idOrName);
  }
  createNetwork(req: NetworkCreateRequest) {
    if (req.labels && OWNER_LABEL in req.labels) throw new PermissionDenied(`the label ${OWNER_LABEL}: not allowed in a learner's sandbox`);
    return this.engine.createNetwork({ ...req, name: this.hostNetworkName(req.name), labels: { ...(req.labels ?? {}), [OWNER_LABEL]: this.learnerId } });
  }
  removeNetwork(idOrName: string) {
    return this.engine.removeNetwork(this.ownNetwork(idOrName).id);
  }
  connectNetwork(network: string, container: string, opts?: { ip?: string; aliases?: string[] }) {
    return this.engine.connectNetwork(this.ownNetwork(network).id, this.own(container).id, opts);
  }
  disconnectNetwork(network: string, container: string) {
    return this.engine.disconnectNetwork(this.ownNetwork(network).id, this.own(container).id);
  }

  // ---------------------------------------------------------------- volumes: the learner's own

  listVolumes() {
    return this.engine.listVolumes().filter((v) => v.labels[OWNER_LABEL] === this.learnerId);
  }
  inspectVolume(name: string) {
    return this.ownVolume(name);
  }
  createVolume(req: VolumeCreateRequest) {
    if (req.labels && Object.keys(req.labels).some((k) => k === OWNER_LABEL || k.startsWith(`${OWNER_LABEL}.`))) throw new PermissionDenied(`the label ${OWNER_LABEL}: not allowed in a learner's sandbox`);
    const name = this.hostVolumeName(req.name || randomBytes(16).toString('hex'));
    let existing: VolumeInfo | null = null;
    try {
      existing = this.engine.inspectVolume(name);
    } catch {
      /* a new one */
    }
    if (existing) {
      if (existing.labels[OWNER_LABEL] === this.learnerId) return existing; // theirs: as it is, as Docker does
      throw new PermissionDenied(`the volume name ${req.name}: not allowed in a learner's sandbox (taken by someone else)`);
    }
    // in the learner's pool: all their volumes together get one container's disk share
    const disk = this.policy.diskPerContainer;
    const pool = disk !== undefined ? { name: this.learnerId, size: disk } : undefined;
    return this.engine.createVolume({ ...req, name, pool, labels: { ...(req.labels ?? {}), [OWNER_LABEL]: this.learnerId } });
  }
  removeVolume(name: string, opts?: { force?: boolean }) {
    let v: VolumeInfo;
    try {
      v = this.ownVolume(name);
    } catch (e) {
      if (opts?.force) return;
      throw e;
    }
    return this.engine.removeVolume(v.name, opts);
  }

  // ---------------------------------------------------------------- files in and out: their containers

  statPath(idOrName: string, path: string) {
    return this.engine.statPath(this.own(idOrName).id, path);
  }
  getArchive(idOrName: string, path: string, out: Writable) {
    return this.engine.getArchive(this.own(idOrName).id, path, out);
  }
  putArchive(idOrName: string, path: string, tar: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }) {
    return this.engine.putArchive(this.own(idOrName).id, path, tar, opts);
  }
  exportContainer(idOrName: string, out: Writable) {
    return this.engine.exportContainer(this.own(idOrName).id, out);
  }
  importImage(_tar: Readable, _opts?: ImportOptions): never {
    throw new PermissionDenied("importing images: not allowed in a learner's sandbox (images are shared by the class)");
  }

  // ---------------------------------------------------------------- housekeeping: their own objects only

  pruneContainers(filters?: PruneFilters) {
    return this.engine.pruneContainers(this.ownFilters(filters));
  }
  pruneImages(): never {
    throw new PermissionDenied("pruning images: not allowed in a learner's sandbox (images are shared by the class)");
  }
  pruneNetworks(filters?: PruneFilters) {
    return this.engine.pruneNetworks(this.ownFilters(filters));
  }
  pruneVolumes(opts?: PruneFilters & { all?: boolean }) {
    return this.engine.pruneVolumes({ ...this.ownFilters(opts), all: opts?.all });
  }
  diskUsage() {
    const du = this.engine.diskUsage();
    const mine = new Set(this.list({ all: true }).map((r) => r.id));
    const volumes = new Set(this.listVolumes().map((v) => v.name));
    return { ...du, containers: du.containers.filter((c) => mine.has(c.id)), volumes: du.volumes.filter((v) => volumes.has(v.name)) };
  }

  // ---------------------------------------------------------------- events: about what they own

  onEvent(cb: (e: EngineEvent) => void) {
    // a removed container's record is gone by its destroy event: remember what was theirs
    const theirs = new Set(this.list({ all: true }).map((r) => r.id));
    return this.engine.onEvent((e) => {
      if (e.type === 'image') return cb(e);
      if (e.type === 'container') {
        let rec: ContainerRecord | null = null;
        try {
          rec = this.engine.get(e.id);
        } catch {
          /* destroyed */
        }
        if (rec && this.owns(rec)) theirs.add(e.id);
        if (!theirs.has(e.id)) return;
        if (e.action === 'destroy') theirs.delete(e.id);
        return cb(e);
      }
      if (e.name.startsWith(`${this.learnerId}-`)) cb(e);
    });
  }
}
