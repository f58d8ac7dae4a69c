// The Glassbox engine: containers from image to exit, on the real kernel.
//
// This class is the engine's one public surface (with index.ts): it owns the stores and drivers,
// and each verb lives in a file of its own under lifecycle/ (youki's container_*.rs are the model):
//
//   create.ts   validate, resolve the image, make the container's directories and record
//   start.ts    mount the overlay, write config.json + the helper spec, create the cgroup,
//               start the helper (clone with namespaces, wait at the create barrier), wire the
//               network, release it, record every step in the timeline
//   exit.ts     the monitor wrote exit.json: read it and the OOM counters, remove the cgroup,
//               unmount the overlay, apply the restart policy
//   kill.ts, pause.ts, remove.ts, wait.ts, exec.ts, info.ts, restore.ts
//   state.ts    the state machine every status change goes through
//
// State is on disk (record.json, atomic), so a server killed with SIGKILL re-adopts running
// containers (pid + start time) at its next start and cleans up everything else.
import { listRuntimes, type RuntimeListing } from './runtime/drivers/index.js';
import { probeOptions } from './lifecycle/runtime-driver.js';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type {
  AttachSession,
  ContainerStats,
  EngineApi,
  EngineInfo,
  ExecOptions,
  ExecProcess,
  ImageDetail,
  ImageSummary,
  ImportOptions,
  LogEntry,
  LogOptions,
  PathStat,
  TopResult,
  VolumeInfo,
  WaitResult,
} from './api.js';
import { VolumeStore, volumeInUse, type VolumeCreateRequest } from './volumes/store.js';
import { containersUsing } from './volumes/container-volumes.js';
import type { PruneFilters, PruneResult } from './housekeeping/filters.js';
import { diskUsage, pruneContainers, pruneImages, pruneNetworks, pruneVolumes, type DiskUsage, type ImagePruneResult } from './housekeeping/prune.js';
import { archivePath, extractArchive, statPath } from './files/archive.js';
import { ownerShift, withContainerRoot } from './files/container-root.js';
import { importImage } from './files/import.js';
import { openCgroupDriver } from './cgroups/index.js';
import type { CgroupDriver, CgroupEventCounts, CgroupUsage, CgroupWrite } from './cgroups/types.js';
import { readLogs } from './containers/logs.js';
import { RecordStore } from './containers/record-store.js';
import { topProcesses } from './containers/top.js';
import { validateLimits } from './containers/validate.js';
import { ensureBaseImage } from './images/base.js';
import type { CommitOptions, CommitResult } from './images/commit.js';
import type { ImportedImage } from './images/layout.js';
import type { PullEvent, PullResult } from './images/pull.js';
import { ImageService } from './images/service.js';
import { ImageStore } from './images/store.js';
import { NetworkManager, type NetworkCreateRequest, type NetworkInfo } from './network/index.js';
import { checkPrefix, DEFAULT_LOCK_DIR, hostNames, prefixFromEnv, type HostNames } from './host/naming.js';
import { OwnerLock } from './host/owner-lock.js';
import { checkStateDir, markStateDir } from './host/state-prefix.js';
import { parsePool, UsernsRanges } from './userns/ranges.js';
import { SHIPPED_DEFAULTS } from './config/daemon-config.js';
import { NO_READING_MESSAGE } from './containers/log-config.js';
import { storageUnsupportedReason } from './rootfs/quota.js';
import { listChanges } from './rootfs/changes.js';
import { readNetDev } from './network/net-dev.js';
import { helperPath, releaseHelper } from './runtime/builtin.js';
import {
  Conflict,
  EngineError,
  InvalidArgument,
  NotFound,
  type ContainerConfig,
  type ContainerRecord,
  type EngineEvent,
  type LayerChange,
  type ResourceLimits,
  type TimelineStep,
} from './types.js';
import { readJson, writeFileAtomic } from './util/fsx.js';
import { cloexecFrom } from '../../native/libc.js';
import { TenantGroups, type TenantLimits, type TenantUsage } from './tenancy/tenant-groups.js';
import { containerEvent, type EngineContext, type ExecEntry, type Live } from './lifecycle/context.js';
import { createContainer } from './lifecycle/create.js';
import { hostnameOf } from './lifecycle/etc-files.js';
import { execInContainer, execInfo } from './lifecycle/exec.js';
import { engineInfo } from './lifecycle/info.js';
import { killContainer, stopContainer } from './lifecycle/kill.js';
import { signalContainerProcess, type SignalResult } from './lifecycle/signal-process.js';
import { imageView, type ImageView } from './images/view.js';
import { Builder, type BuildContainers, type BuildEvent, type BuildOptions, type BuildResult } from './build/builder.js';
import { attachContainer } from './lifecycle/attach.js';
import { pauseContainer, unpauseContainer } from './lifecycle/pause.js';
import { removeContainer, renameContainer } from './lifecycle/remove.js';
import { restore } from './lifecycle/restore.js';
import { startContainer, startLocked } from './lifecycle/start.js';
import { isActive, isAlive } from './lifecycle/state.js';
import { waitStatus } from './lifecycle/wait.js';
import { validateExtras } from './containers/validate-extras.js';
import { waitContainer } from './lifecycle/wait.js';
import { compareRuntimes } from './compare/runtime-compare.js';
import { comparableRuntimes } from './compare/listing.js';
import { ComparisonStore } from './compare/store.js';
import type { RuntimeAvailability, RuntimeCompareRequest, RuntimeComparison } from './compare/types.js';

export { parseSignal } from './lifecycle/signals.js';
import type { EngineOptions } from './engine-options.js';

export type { EngineOptions };

export class Engine implements EngineApi {
  readonly root: string;
  readonly runRoot: string;
  readonly images: ImageStore;
  /** pull, load, save, commit: the OCI image and distribution specs at work */
  readonly imageService: ImageService;
  readonly cgroups: CgroupDriver;
  /** null when the engine was opened without networking (every container then gets "none") */
  readonly network: NetworkManager | null;
  private readonly records: RecordStore;
  readonly volumes: VolumeStore;
  private readonly events = new EventEmitter();
  private readonly live = new Map<string, Live>();
  private readonly execs = new Map<string, ExecEntry>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private closed = false;
  private readonly engineId: string;
  /** the names of this engine's host objects (bridge, chains, veths, cgroup parent) */
  readonly names: HostNames;
  private readonly ownerLock: OwnerLock;
  /** what the verbs in lifecycle/ share */
  private readonly ctx: EngineContext;
  /** the learners' cgroup groups and their quotas (tenancy/tenant-groups.ts) */
  private readonly tenants: TenantGroups;
  /** the runtime comparisons kept (compare/store.ts) */
  private readonly comparisons: ComparisonStore;

  private constructor(
    opts: Required<Pick<EngineOptions, 'root' | 'runRoot'>> & Pick<EngineOptions, 'insecureRegistries' | 'usernsLayers' | 'daemonConfig'> & { names: HostNames; lock: OwnerLock; ranges: UsernsRanges },
    images: ImageStore,
    cgroups: CgroupDriver,
    network: NetworkManager | null,
  ) {
    this.root = opts.root;
    this.runRoot = opts.runRoot;
    this.names = opts.names;
    this.ownerLock = opts.lock;
    this.images = images;
    this.imageService = new ImageService(images, { insecureRegistries: opts.insecureRegistries }, (e) => this.emitEvent(e));
    this.cgroups = cgroups;
    this.network = network;
    this.tenants = new TenantGroups(cgroups, this.root);
    this.records = new RecordStore(join(this.root, 'containers'));
    this.volumes = new VolumeStore(this.root);
    this.comparisons = new ComparisonStore(this.root);
    this.events.setMaxListeners(0);
    const idFile = join(this.root, 'engine-id');
    if (!existsSync(idFile)) writeFileAtomic(idFile, randomBytes(16).toString('hex'));
    this.engineId = readFileSync(idFile, 'utf8').trim();
    this.ctx = {
      root: this.root,
      runRoot: this.runRoot,
      images,
      imageService: this.imageService,
      cgroups,
      network,
      records: this.records,
      volumes: this.volumes,
      daemonConfig: opts.daemonConfig ?? SHIPPED_DEFAULTS,
      names: opts.names,
      usernsRanges: opts.ranges,
      tenants: this.tenants,
      usernsLayers: opts.usernsLayers,
      live: this.live,
      pendingAttach: new Map(),
      restartTimers: this.restartTimers,
      execs: this.execs,
      isClosed: () => this.closed,
      emit: (e) => this.emitEvent(e),
      onEvent: (cb) => this.onEvent(cb),
      withLock: (id, fn) => this.withLock(id, fn),
    };
  }

  static async open(opts: EngineOptions = {}): Promise<Engine> {
    const root = opts.root ?? process.env.GLASSBOX_ROOT ?? '/var/lib/glassbox';
    const runRoot = opts.runRoot ?? process.env.GLASSBOX_RUN ?? '/run/glassbox';
    // A unix socket path holds at most 107 bytes: runRoot/<64 hex>/monitor.sock must fit.
    if (runRoot.length > 28) throw new InvalidArgument(`the run directory path is too long for unix sockets (${runRoot.length} > 28 characters): ${runRoot}`);
    // a daemon-wide layer size that this host cannot give would fail every create: refuse to open
    const noStorage = opts.daemonConfig?.storageSize ? storageUnsupportedReason() : null;
    if (noStorage) throw new InvalidArgument(`storage-opts.size cannot be applied on this host: ${noStorage}`);
    const names = hostNames(opts.prefix !== undefined ? checkPrefix(opts.prefix, 'prefix') : prefixFromEnv(), opts.lockDir ?? DEFAULT_LOCK_DIR);
    const pool = opts.usernsPool ?? (process.env.GLASSBOX_USERNS_POOL ? parsePool(process.env.GLASSBOX_USERNS_POOL) : undefined);
    // First of all: one owner for this prefix's bridge, chains and cgroups (refused: nothing changed)
    const lock = OwnerLock.acquire(names);
    let network: NetworkManager | null = null;
    try {
      // one prefix per state root and run dir: another prefix's sweep would remove our run dirs
      checkStateDir(root, names.prefix, 'GLASSBOX_ROOT');
      checkStateDir(runRoot, names.prefix, 'GLASSBOX_RUN');
      // 0711: a container's root in a user namespace is an unprivileged uid on the host, and must
      // be able to walk (not list) the path to its rootfs, as with Docker's userns-remap root.
      mkdirSync(root, { recursive: true, mode: 0o711 });
      chmodSync(root, 0o711);
      mkdirSync(runRoot, { recursive: true, mode: 0o700 });
      markStateDir(root, names.prefix);
      markStateDir(runRoot, names.prefix);
      helperPath();
      // nothing this process inherited goes on to the helpers (and so the containers) it starts
      cloexecFrom(3);
      const images = new ImageStore(root);
      images.sweepTmp(); // half-made layers a killed server left
      await ensureBaseImage(images, { source: opts.baseImageSource ?? 'auto' });
      if (opts.network !== false) {
        network = new NetworkManager({ root, runRoot, names });
        await network.init();
      }
      const ranges = new UsernsRanges(join(opts.lockDir ?? DEFAULT_LOCK_DIR, 'userns'), root, { pool });
      const engine = new Engine(
        { root, runRoot, insecureRegistries: opts.insecureRegistries, usernsLayers: opts.usernsLayers, daemonConfig: opts.daemonConfig, names, lock, ranges },
        images,
        openCgroupDriver({ parent: names.cgroupParent }),
        network,
      );
      engine.imageService.gc(); // blobs no image uses, scratch files of pulls that died
      await restore(engine.ctx);
      const every = opts.reconcileMs ?? 2000;
      if (network && every > 0) {
        network.startReconcile(every, (c) => {
          const action = c.state === 'missing' ? 'isolation-missing' : 'isolation-restored';
          engine.emitEvent({ type: 'network', action, id: '', name: names.bridge, detail: c.detail, time: c.time });
        });
      }
      return engine;
    } catch (e) {
      network?.stopReconcile();
      lock.release();
      throw e;
    }
  }

  /** Stop watching. Containers keep running: the next server adopts them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.restartTimers.values()) clearTimeout(t);
    for (const l of this.live.values()) {
      l.watcher?.destroy();
      if (l.helper) releaseHelper(l.helper);
    }
    for (const e of this.execs.values()) if (e.exitCode === null) e.process.kill('SIGKILL');
    // the link to this process's sealed helper would dangle (running monitors do not need it)
    rmSync(join(this.runRoot, 'gb-helper'), { force: true });
    await this.network?.close();
    this.events.removeAllListeners();
    this.ownerLock.release();
  }

  // ------------------------------------------------------------------ events

  onEvent(cb: (e: EngineEvent) => void): () => void {
    this.events.on('event', cb);
    return () => this.events.off('event', cb);
  }

  /** The one way an event leaves the engine (the verbs call it through their context). */
  emitEvent(e: EngineEvent): void {
    this.events.emit('event', e);
  }

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  // ------------------------------------------------------------------ lifecycle (lifecycle/*.ts)

  info(): EngineInfo {
    return engineInfo(this.ctx, this.engineId);
  }

  runtimes(): Promise<RuntimeListing[]> {
    return listRuntimes(probeOptions(this.ctx));
  }

  create(config: ContainerConfig): Promise<ContainerRecord> {
    return createContainer(this.ctx, config);
  }

  async run(config: ContainerConfig): Promise<ContainerRecord> {
    const rec = await this.create(config);
    try {
      return await this.start(rec.id);
    } catch (e) {
      if (config.autoRemove) await this.remove(rec.id, { force: true, volumes: true }).catch(() => {});
      throw e;
    }
  }

  start(idOrName: string): Promise<ContainerRecord> {
    return startContainer(this.ctx, idOrName);
  }

  kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this.ctx, idOrName, signal);
  }

  /** --stop-signal, else the image's STOPSIGNAL, else SIGTERM; --stop-timeout, else 10 s (Docker's defaults) */
  private stopDefaults(rec: ContainerRecord): { signal: string; timeoutSeconds: number } {
    let imageSignal: string | undefined;
    try {
      imageSignal = (this.images.resolve(rec.image.id).config.config as { StopSignal?: string } | undefined)?.StopSignal || undefined;
    } catch {
      imageSignal = undefined; // the image is gone (removed with force): its signal with it
    }
    return { signal: rec.config.stopSignal ?? imageSignal ?? 'SIGTERM', timeoutSeconds: rec.config.stopTimeout ?? 10 };
  }

  stop(idOrName: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    const d = this.stopDefaults(rec);
    return stopContainer(this.ctx, rec, opts.timeoutSeconds ?? d.timeoutSeconds, opts.signal ?? d.signal);
  }

  async restart(idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    const d = this.stopDefaults(rec);
    await stopContainer(this.ctx, rec, opts.timeoutSeconds ?? d.timeoutSeconds, d.signal);
    await this.withLock(rec.id, () => startLocked(this.ctx, rec.id, false));
    this.emitEvent(containerEvent('restart', rec));
  }

  pause(idOrName: string): Promise<void> {
    return pauseContainer(this.ctx, idOrName);
  }

  unpause(idOrName: string): Promise<void> {
    return unpauseContainer(this.ctx, idOrName);
  }

  remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return removeContainer(this.ctx, idOrName, opts);
  }

  rename(idOrName: string, newName: string): Promise<void> {
    return renameContainer(this.ctx, idOrName, newName);
  }

  wait(idOrName: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<WaitResult> {
    return waitContainer(this.ctx, idOrName, condition);
  }

  exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    return execInContainer(this.ctx, idOrName, opts);
  }

  /** An exec session's state, for docker's exec inspect. */
  execInfo(execId: string): { containerId: string; running: boolean; exitCode: number | null; pid: number; config: ExecOptions } {
    return execInfo(this.ctx, execId);
  }

  hostnameOf(rec: ContainerRecord): string {
    return hostnameOf(rec);
  }

  // ------------------------------------------------------------------ queries and live changes

  get(idOrName: string): ContainerRecord {
    return this.records.find(idOrName);
  }

  list(opts: { all?: boolean } = {}): ContainerRecord[] {
    const all = this.records.all().sort((a, b) => b.created.localeCompare(a.created));
    return opts.all ? all : all.filter((r) => isAlive(r.state.status));
  }

  async update(idOrName: string, change: Partial<ResourceLimits> & { restartPolicy?: ContainerConfig['restartPolicy'] }): Promise<CgroupWrite[]> {
    const rec = this.records.find(idOrName);
    const { restartPolicy, ...limits } = change;
    const merged = { ...rec.limits, ...limits };
    validateLimits(merged);
    let writes: CgroupWrite[] = [];
    if (isActive(rec.state.status)) writes = await this.cgroups.update(rec.id, limits);
    rec.limits = merged;
    rec.config.limits = { ...(rec.config.limits ?? {}), ...limits };
    if (restartPolicy) rec.config.restartPolicy = restartPolicy;
    this.records.save(rec);
    this.emitEvent(containerEvent('update', rec, Object.fromEntries(writes.map((w) => [w.file, w.wrote]))));
    return writes;
  }

  // ------------------------------------------------------------------ learners' quotas

  /**
   * A learner's quota on their group, <cgroupParent>/learners/<lid>/: memory (swap held to none
   * beyond it where the host accounts swap), cpus, pids for all their containers together. Made
   * if missing; checked before anything is written (InvalidArgument naming the field). Kept in
   * <root>/tenants.json, so the group gets it again when it is made again.
   */
  setTenantLimits(learnerId: string, limits: TenantLimits): Promise<CgroupWrite[]> {
    return this.tenants.setLimits(learnerId, limits);
  }

  /** The group's counters and limits (all the learner's containers together), for the roster. */
  tenantUsage(learnerId: string): Promise<TenantUsage> {
    return this.tenants.usage(learnerId);
  }

  /** Remove the learner's group and forget the quota. Remove their containers first: Conflict while one is in it. */
  removeTenant(learnerId: string): Promise<void> {
    return this.tenants.remove(learnerId);
  }

  async stats(idOrName: string): Promise<ContainerStats> {
    const rec = this.records.find(idOrName);
    if (!isActive(rec.state.status)) throw new Conflict(`container ${rec.name} is not running`);
    const cg = await this.cgroups.stats(rec.id);
    // a container in the host's namespace would show the host's interfaces: none, as Docker
    const ownNetns = rec.network.mode !== 'host' && !(rec.config.namespaces?.net === false);
    return { ...cg, networks: ownNetns ? readNetDev(rec.state.pid) : {} };
  }

  usage(id: string): CgroupUsage | null {
    const rec = this.records.byFullId(id);
    if (!rec || !isActive(rec.state.status)) return null;
    return this.cgroups.usage(rec.id);
  }

  eventCounts(id: string): CgroupEventCounts | null {
    const rec = this.records.byFullId(id);
    if (!rec || !isActive(rec.state.status)) return null;
    return this.cgroups.eventCounts(rec.id);
  }

  async top(idOrName: string, psArgs?: string): Promise<TopResult> {
    const rec = this.records.find(idOrName);
    if (!isActive(rec.state.status)) throw new Conflict(`Container ${rec.id} is not running`);
    // the monitor runs in <parent>/<id>/monitor (charged to the container) but is not one of its processes
    return topProcesses((await this.cgroups.pids(rec.id)).filter((p) => p !== rec.state.monitorPid), psArgs);
  }

  async changes(idOrName: string): Promise<LayerChange[]> {
    const rec = this.records.find(idOrName);
    const lowers = rec.paths.lowers.length ? rec.paths.lowers : this.images.resolve(rec.image.id).layers.map((l) => l.dir);
    return listChanges(rec.paths.upper, lowers);
  }

  logs(idOrName: string, opts: LogOptions = {}): AsyncIterable<LogEntry> {
    const rec = this.records.find(idOrName);
    // Docker answers 501 when a log driver keeps nothing to read
    if (rec.logging?.driver === 'none') throw new EngineError('not-implemented', NO_READING_MESSAGE);
    return readLogs(rec.paths.log, opts, () => {
      const r = this.records.all().find((x) => x.id === rec.id);
      return !!r && isAlive(r.state.status);
    });
  }

  ociConfig(idOrName: string): Record<string, unknown> {
    const rec = this.records.find(idOrName);
    const cfg = readJson<Record<string, unknown>>(join(rec.paths.bundle, 'config.json'));
    if (!cfg) throw new NotFound(`container ${rec.name} has not been started yet: its config.json is written at start`);
    return cfg;
  }

  timeline(idOrName: string): TimelineStep[] {
    return this.records.find(idOrName).timeline;
  }

  /** Signal one process of the container by host pid; refuses any pid that is not the container's (signal-process.ts). */
  signalProcess(idOrName: string, hostPid: number, signal: string | number): SignalResult {
    return signalContainerProcess(this.ctx, idOrName, hostPid, signal);
  }

  attach(idOrName: string): Promise<AttachSession> {
    return attachContainer(this.ctx, idOrName);
  }

  // ------------------------------------------------------------------ pull, load, save, commit

  /** docker pull: progress per layer through onProgress */
  pullImage(ref: string, onProgress?: (e: PullEvent) => void): Promise<PullResult> {
    return this.imageService.pull(ref, { onProgress });
  }

  /** docker load: a docker-save tar, or an OCI layout (tar or directory) */
  loadImages(source: string | Readable): Promise<ImportedImage[]> {
    return this.imageService.importArchive(source);
  }

  /** docker save (format docker) or an OCI layout tar (format oci) */
  saveImages(refs: string[], format: 'oci' | 'docker', out: Writable): Promise<void> {
    return this.imageService.exportImage(refs, format, out);
  }

  /** docker commit: the container layer becomes an image layer; a running container is paused meanwhile, as Docker does */
  async commit(idOrName: string, opts: CommitOptions & { pause?: boolean } = {}): Promise<CommitResult> {
    const rec = this.records.find(idOrName);
    let paused = false;
    if (rec.state.status === 'running' && opts.pause !== false) {
      try {
        await this.pause(rec.id);
        paused = true;
      } catch (e) {
        // the container exited between the look and the freeze (its cgroup is gone): an exited
        // container's layer is still, so it is committed as it is, without a pause (as Docker does)
        await Promise.race([waitStatus(this.ctx, rec.id, (r) => !isActive(r.state.status)), new Promise((r) => setTimeout(r, 2000).unref())]);
        if (isActive(this.records.find(rec.id).state.status)) throw e;
      }
    }
    try {
      return await this.imageService.commit(this.records.find(rec.id), opts);
    } finally {
      if (paused) await this.unpause(rec.id).catch((e: unknown) => {
        if (isActive(this.records.find(rec.id).state.status)) throw e;
      });
    }
  }

  /** docker build: RUN steps run in real containers (this engine's, or the runner's: a learner's policy) */
  async build(context: Readable, opts: BuildOptions & { runner?: BuildContainers; cacheScope?: string } = {}, onEvent: (e: BuildEvent) => void = () => {}): Promise<BuildResult> {
    const { runner, cacheScope, ...options } = opts;
    const builder = new Builder(
      { content: this.imageService.content, containers: runner ?? this, tag: (id, ref) => this.tagImage(id, ref), cacheScope },
      options,
      onEvent,
    );
    return builder.build(context);
  }

  // ------------------------------------------------------------------ networks

  private requireNetwork(): NetworkManager {
    if (!this.network) throw new InvalidArgument('this engine runs without networking: only "none", "host" and "container:<id>" exist');
    return this.network;
  }

  listNetworks(): NetworkInfo[] {
    return this.network ? this.network.listNetworks() : [];
  }

  inspectNetwork(idOrName: string): NetworkInfo {
    return this.requireNetwork().inspectNetwork(idOrName);
  }

  async createNetwork(req: NetworkCreateRequest): Promise<NetworkInfo> {
    const n = await this.requireNetwork().createNetwork(req);
    this.emitEvent({ type: 'network', action: 'create', id: n.id, name: n.name, time: Date.now() });
    return n;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    const n = this.requireNetwork().inspectNetwork(idOrName);
    await this.requireNetwork().removeNetwork(idOrName);
    this.emitEvent({ type: 'network', action: 'destroy', id: n.id, name: n.name, time: Date.now() });
  }

  async connectNetwork(network: string, container: string, opts: { ip?: string; aliases?: string[] } = {}): Promise<void> {
    const rec = this.records.find(container);
    validateExtras({ image: rec.config.image, endpoint: { ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.aliases?.length ? { aliases: opts.aliases } : {}) } }, { cgroupVersion: this.cgroups.version });
    await this.requireNetwork().connect(network, rec.id, isActive(rec.state.status) ? rec.state.pid : null, opts);
    const n = this.requireNetwork().inspectNetwork(network);
    this.emitEvent({ type: 'network', action: 'connect', id: n.id, name: n.name, container: rec.id, time: Date.now() });
  }

  async disconnectNetwork(network: string, container: string): Promise<void> {
    const rec = this.records.find(container);
    await this.requireNetwork().disconnect(network, rec.id);
    const n = this.requireNetwork().inspectNetwork(network);
    this.emitEvent({ type: 'network', action: 'disconnect', id: n.id, name: n.name, container: rec.id, time: Date.now() });
  }

  // ------------------------------------------------------------------ images

  listImages(): ImageSummary[] {
    return this.images.list();
  }

  inspectImage(ref: string): ImageDetail {
    return this.images.inspect(ref);
  }

  imageView(ref: string): ImageView {
    return imageView(this.images, ref);
  }

  tagImage(source: string, target: string): void {
    this.images.tag(source, target);
    const img = this.images.resolve(target);
    this.emitEvent({ type: 'image', action: 'tag', id: img.id, ref: target, time: Date.now() });
  }

  removeImage(ref: string, opts: { force?: boolean } = {}): { untagged: string[]; deleted: string[] } {
    const result = this.images.remove(ref, {
      force: opts.force,
      isInUse: (imageId: string) => this.records.all().some((r) => r.image.id === imageId),
    });
    for (const u of result.untagged) this.emitEvent({ type: 'image', action: 'untag', id: u, time: Date.now() });
    for (const d of result.deleted) this.emitEvent({ type: 'image', action: 'delete', id: d, time: Date.now() });
    return result;
  }

  // ------------------------------------------------------------------ volumes (volumes/)

  private volumeInfo(name: string): VolumeInfo {
    return { ...this.volumes.get(name), usedBy: containersUsing(this.records, name) };
  }

  listVolumes(): VolumeInfo[] {
    return this.volumes.list().map((v) => ({ ...v, usedBy: containersUsing(this.records, v.name) }));
  }

  inspectVolume(name: string): VolumeInfo {
    return this.volumeInfo(name);
  }

  createVolume(req: VolumeCreateRequest): VolumeInfo {
    const { volume, created } = this.volumes.create(req);
    if (created) this.emitEvent({ type: 'volume', action: 'create', id: volume.name, name: volume.name, time: Date.now() });
    return this.volumeInfo(volume.name);
  }

  removeVolume(name: string, opts: { force?: boolean } = {}): void {
    if (!this.volumes.find(name)) {
      if (opts.force) return; // docker volume rm -f: a missing volume is no error
      this.volumes.get(name);
    }
    const users = containersUsing(this.records, name);
    // Docker refuses even with force while a container uses it: force only makes a missing one no error
    if (users.length) throw volumeInUse(name, users);
    this.volumes.remove(name);
    this.emitEvent({ type: 'volume', action: 'destroy', id: name, name, time: Date.now() });
  }

  // ------------------------------------------------------------------ files in and out (files/)

  statPath(idOrName: string, path: string): Promise<PathStat> {
    const rec = this.records.find(idOrName);
    return withContainerRoot(this.ctx, rec, 'view', async (root) => statPath(root, path));
  }

  getArchive(idOrName: string, path: string, out: Writable): Promise<PathStat> {
    const rec = this.records.find(idOrName);
    return withContainerRoot(this.ctx, rec, 'view', (root) => archivePath(root, path, out, ownerShift(rec)));
  }

  putArchive(idOrName: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    if (rec.config.readOnlyRoot) return Promise.reject(new Conflict(`container ${rec.name} has a read-only root filesystem: nothing can be copied into it`));
    return withContainerRoot(this.ctx, rec, 'view', (root) => extractArchive(root, path, tar, { ...opts, shift: ownerShift(rec) }));
  }

  exportContainer(idOrName: string, out: Writable): Promise<void> {
    const rec = this.records.find(idOrName);
    return withContainerRoot(this.ctx, rec, 'union', async (root) => {
      await archivePath(root, '/', out, ownerShift(rec));
    });
  }

  async importImage(tar: Readable, opts: ImportOptions = {}): Promise<{ id: string; ref: string | null }> {
    const r = await importImage(this.imageService.content, tar, opts);
    this.emitEvent({ type: 'image', action: 'import', id: r.id, ref: r.ref, time: Date.now() });
    return r;
  }

  // ------------------------------------------------------------------ housekeeping (housekeeping/)

  pruneContainers(filters: PruneFilters = {}): Promise<PruneResult> {
    return pruneContainers(this.ctx, filters);
  }

  pruneImages(opts: PruneFilters & { all?: boolean } = {}): ImagePruneResult {
    return pruneImages(this.ctx, opts, (action, id) => this.emitEvent({ type: 'image', action, id, time: Date.now() }));
  }

  async pruneNetworks(filters: PruneFilters = {}): Promise<{ deleted: string[] }> {
    const r = await pruneNetworks(this.ctx, filters);
    for (const n of r.deleted) this.emitEvent({ type: 'network', action: 'destroy', id: n.id, name: n.name, time: Date.now() });
    return { deleted: r.deleted.map((n) => n.name) };
  }

  pruneVolumes(opts: PruneFilters & { all?: boolean } = {}): PruneResult {
    const r = pruneVolumes(this.ctx, opts);
    for (const name of r.deleted) this.emitEvent({ type: 'volume', action: 'destroy', id: name, name, time: Date.now() });
    return r;
  }

  diskUsage(): DiskUsage {
    return diskUsage(this.ctx);
  }

  // ------------------------------------------------------------------ runtimes side by side (compare/)

  comparableRuntimes(): Promise<RuntimeAvailability[]> {
    return comparableRuntimes({ runRoot: this.runRoot, cgroupParent: this.names.cgroupParent });
  }

  compareRuntimes(req: RuntimeCompareRequest): Promise<RuntimeComparison> {
    return compareRuntimes({ engine: this, runtimes: () => this.comparableRuntimes(), cgroupPids: (id) => this.cgroups.pids(id), store: this.comparisons }, req);
  }

  runtimeComparisons(): RuntimeComparison[] {
    return this.comparisons.list();
  }

  runtimeComparison(id: string): RuntimeComparison {
    return this.comparisons.get(id);
  }
}
