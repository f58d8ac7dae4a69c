// The Glassbox engine: containers from image to exit, on the real kernel.
//
// create  → validate, resolve the image, make the container's directories and record
// start   → mount the overlay, write config.json + the helper spec, create the cgroup,
//           start the helper (clone with namespaces, wait at the create barrier), wire the network,
//           release it, record every step in the timeline
// exit    → the monitor writes exit.json; the engine reads it, reads the OOM counters, removes the
//           cgroup, unmounts the overlay, applies the restart policy
//
// State is on disk (record.json, atomic), so a server killed with SIGKILL re-adopts running
// containers (pid + start time) at its next start and cleans up everything else.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, hostname as hostHostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { openCgroupDriver } from './cgroups/index.js';
import type { CgroupDriver, CgroupStats, CgroupWrite } from './cgroups/types.js';
import { ImageStore } from './images/store.js';
import { ImageService } from './images/service.js';
import type { PullEvent, PullResult } from './images/pull.js';
import type { CommitOptions, CommitResult } from './images/commit.js';
import type { ImportedImage } from './images/layout.js';
import type { Readable, Writable } from 'node:stream';
import { ensureBaseImage } from './images/base.js';
import { mountOverlay, unmountOverlay, isMounted, prepareContainerLayer } from './rootfs/overlay.js';
import { shiftedLayerDir } from './rootfs/shift.js';
import { listChanges } from './rootfs/changes.js';
import { NetworkManager } from './network/index.js';
import type { NetPlan, NetworkInfo } from './network/manager.js';
import { validateConfig, validateLimits, validateName } from './containers/validate.js';
import { RecordStore } from './containers/record-store.js';
import { newContainerId, randomName } from './containers/names.js';
import { attachSession, connectMonitor } from './containers/attach.js';
import { launchExec } from './containers/exec.js';
import { readLogs } from './containers/logs.js';
import { topProcesses } from './containers/top.js';
import { resolveUser } from './containers/users.js';
import { buildPlan, buildExecPlan } from './runtime/build-plan.js';
import { runSpec, execSpec } from './runtime/helper-spec.js';
import { ociConfig } from './runtime/spec.js';
import { helperPath, runHelper, releaseHelper, HelperError, type CreatedContainer } from './runtime/builtin.js';
import type { ChildProcess } from 'node:child_process';
import { readJson, writeFileAtomic, writeJsonAtomic } from './util/fsx.js';
import { isSameProcess, readStartTime } from './util/proc.js';
import { signalProcess } from '../../native/libc.js';
import type {
  AttachSession,
  EngineApi,
  EngineInfo,
  ExecOptions,
  ExecProcess,
  ImageDetail,
  ImageSummary,
  LogEntry,
  LogOptions,
  TopResult,
  WaitResult,
} from './api.js';
import {
  Conflict,
  InvalidArgument,
  NotFound,
  type ContainerConfig,
  type ContainerRecord,
  type EngineEvent,
  type LayerChange,
  type ResourceLimits,
  type TimelineStep,
} from './types.js';
import { constants as osConstants } from 'node:os';
import { SHIPPED_DEFAULTS, type DaemonConfig } from './config/daemon-config.js';
import { applyDaemonDefaults } from './config/apply-defaults.js';
import { NO_READING_MESSAGE } from './containers/log-config.js';
import { createLayerFs, mountLayerFs, removeLayerFs, storageUnsupportedReason } from './rootfs/quota.js';

export interface EngineOptions {
  /** state root (default GLASSBOX_ROOT or /var/lib/glassbox) */
  root?: string;
  /** runtime state (default GLASSBOX_RUN or /run/glassbox) */
  runRoot?: string;
  /** where the base image comes from: busybox when the host has it, else host binaries */
  baseImageSource?: 'auto' | 'busybox' | 'host';
  /** set false to skip networking (tests of the engine alone) */
  network?: boolean;
  /** registries reached over plain http besides loopback ones, as Docker's insecure-registries */
  insecureRegistries?: string[];
  /** the daemon configuration's defaults (the server reads /etc/glassbox/config.json); default: the shipped ones */
  daemonConfig?: DaemonConfig;
}

interface ExitFile {
  code: number;
  signal: string | null;
  finishedAt: string;
}

/** What the engine knows about a running container that is not on disk. */
interface Live {
  /** resolves when the monitor has gone (exit.json written, or it died) */
  gone: Promise<void>;
  watcher?: Socket;
  /** the helper we spawned (not for adopted containers) */
  helper?: ChildProcess;
  stopRequested: boolean;
}

const DEFAULT_LIMITS: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };

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
  private readonly events = new EventEmitter();
  private readonly live = new Map<string, Live>();
  /** one operation at a time per container: start/stop/remove never interleave */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pendingAttach = new Map<string, ((s: AttachSession) => void)[]>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly execs = new Map<string, { containerId: string; process: ExecProcess; exitCode: number | null; config: ExecOptions }>();
  private closed = false;
  private readonly engineId: string;
  /** defaults for what a request does not set (pids, log rotation, /dev/shm, tmpfs ...) */
  readonly daemonConfig: DaemonConfig;

  private constructor(opts: Required<Pick<EngineOptions, 'root' | 'runRoot'>> & Pick<EngineOptions, 'insecureRegistries' | 'daemonConfig'>, images: ImageStore, cgroups: CgroupDriver, network: NetworkManager | null) {
    this.root = opts.root;
    this.daemonConfig = opts.daemonConfig ?? SHIPPED_DEFAULTS;
    this.runRoot = opts.runRoot;
    this.images = images;
    this.imageService = new ImageService(images, { insecureRegistries: opts.insecureRegistries }, (e) => this.events.emit('event', e));
    this.cgroups = cgroups;
    this.network = network;
    this.records = new RecordStore(join(this.root, 'containers'));
    this.events.setMaxListeners(0);
    const idFile = join(this.root, 'engine-id');
    if (!existsSync(idFile)) writeFileAtomic(idFile, randomBytes(16).toString('hex'));
    this.engineId = readFileSync(idFile, 'utf8').trim();
  }

  static async open(opts: EngineOptions = {}): Promise<Engine> {
    const root = opts.root ?? process.env.GLASSBOX_ROOT ?? '/var/lib/glassbox';
    const runRoot = opts.runRoot ?? process.env.GLASSBOX_RUN ?? '/run/glassbox';
    // A unix socket path holds at most 107 bytes: runRoot/<64 hex>/monitor.sock must fit.
    if (runRoot.length > 28) throw new InvalidArgument(`the run directory path is too long for unix sockets (${runRoot.length} > 28 characters): ${runRoot}`);
    // 0711: a container's root in a user namespace is an unprivileged uid on the host, and must
    // be able to walk (not list) the path to its rootfs, as with Docker's userns-remap root.
    mkdirSync(root, { recursive: true, mode: 0o711 });
    chmodSync(root, 0o711);
    mkdirSync(runRoot, { recursive: true, mode: 0o700 });
    helperPath();
    // a daemon-wide layer size that this host cannot give would fail every create: refuse to open
    const noStorage = opts.daemonConfig?.storageSize ? storageUnsupportedReason() : null;
    if (noStorage) throw new InvalidArgument(`storage-opts.size cannot be applied on this host: ${noStorage}`);
    const images = new ImageStore(root);
    images.sweepTmp(); // half-made layers a killed server left
    await ensureBaseImage(images, { source: opts.baseImageSource ?? 'auto' });
    let network: NetworkManager | null = null;
    if (opts.network !== false) {
      network = new NetworkManager({ root, runRoot });
      await network.init();
    }
    const engine = new Engine({ root, runRoot, insecureRegistries: opts.insecureRegistries, daemonConfig: opts.daemonConfig }, images, openCgroupDriver(), network);
    engine.imageService.gc(); // blobs no image uses, scratch files of pulls that died
    await engine.restore();
    return engine;
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
    await this.network?.close();
    this.events.removeAllListeners();
  }

  // ------------------------------------------------------------------ events

  onEvent(cb: (e: EngineEvent) => void): () => void {
    this.events.on('event', cb);
    return () => this.events.off('event', cb);
  }

  private emit(action: Extract<EngineEvent, { type: 'container' }>['action'], rec: ContainerRecord, attributes?: Record<string, string>): void {
    const e: EngineEvent = { type: 'container', action, id: rec.id, name: rec.name, image: rec.image.ref, time: Date.now(), attributes };
    this.events.emit('event', e);
  }

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

  // ------------------------------------------------------------------ info

  /** What does not change while the engine runs: read once, on the first info(). */
  private hostFacts?: { osName: string; helperVersion: string };

  info(): EngineInfo {
    const all = this.records.all();
    if (!this.hostFacts) {
      let osName = 'Linux';
      try {
        osName = /PRETTY_NAME="?([^"\n]*)"?/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
      } catch {
        /* keep "Linux" */
      }
      let helperVersion = 'unknown';
      try {
        helperVersion = execFileSync(helperPath(), ['version'], { encoding: 'utf8' }).trim();
      } catch {
        /* reported as unknown */
      }
      this.hostFacts = { osName, helperVersion };
    }
    const { osName, helperVersion } = this.hostFacts;
    return {
      id: this.engineId,
      kernelVersion: release(),
      operatingSystem: osName,
      architecture: arch() === 'x64' ? 'x86_64' : arch(),
      cpus: cpus().length,
      memTotal: totalmem(),
      cgroupLayout: this.cgroups.layout,
      cgroupVersion: this.cgroups.version,
      cgroupDriver: this.cgroups.name,
      storageDriver: 'overlay2',
      root: this.root,
      runRoot: this.runRoot,
      containers: all.length,
      containersRunning: all.filter((r) => r.state.status === 'running').length,
      containersPaused: all.filter((r) => r.state.status === 'paused').length,
      containersStopped: all.filter((r) => !['running', 'paused'].includes(r.state.status)).length,
      images: this.images.list().length,
      runtimes: ['builtin'],
      defaultRuntime: 'builtin',
      helperVersion,
      swapLimitSupport: this.swapSupported(),
      loggingDriver: this.daemonConfig.logDriver,
    };
  }

  private swapSupported(): boolean {
    // v2: the root has no memory.* files; any non-root cgroup with the memory controller shows it
    if (this.cgroups.version === 2) return ['glassbox', 'init.scope', 'system.slice'].some((d) => existsSync(join('/sys/fs/cgroup', d, 'memory.swap.max')));
    return existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  }

  // ------------------------------------------------------------------ create

  async create(input: ContainerConfig): Promise<ContainerRecord> {
    const t0 = performance.now();
    const timeline: TimelineStep[] = [];
    const step = (name: string, started: number, extra: Partial<TimelineStep> = {}) =>
      timeline.push({ step: name, by: 'engine', at: started - t0, ms: performance.now() - started, ...extra });

    let s = performance.now();
    const config = validateConfig(input);
    step('validate', s, { detail: 'limits, names and namespaces checked before anything is made' });

    s = performance.now();
    const image = this.images.resolve(config.image);
    step('resolve-image', s, { detail: `${config.image} → ${image.id} (${image.layers.length} layer${image.layers.length === 1 ? '' : 's'})` });

    if (config.name && this.records.nameTaken(config.name)) {
      throw new Conflict(`Conflict. The container name "/${config.name}" is already in use by container "${this.records.find(config.name).id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.checkShareTargets(config); // "container:x" must name an existing container, before anything is made

    const imageConfig = (image.config.config ?? {}) as { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[]; WorkingDir?: string; User?: string };
    const entrypoint = config.entrypoint ?? imageConfig.Entrypoint ?? [];
    // Docker: a new entrypoint drops the image's Cmd unless a command is given too.
    const cmd = config.cmd ?? (config.entrypoint ? [] : (imageConfig.Cmd ?? []));
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw new InvalidArgument('No command specified');

    const id = newContainerId();
    const name = config.name ?? randomName((n) => this.records.nameTaken(n));
    const dir = this.records.containerDir(id);
    const applied = applyDaemonDefaults(config, { ...DEFAULT_LIMITS, ...(config.limits ?? {}), io: config.limits?.io ?? [] }, this.daemonConfig);
    const limits = applied.limits;
    const storageSize = applied.config.storageSize;
    const noStorage = storageSize !== undefined ? storageUnsupportedReason() : null;
    if (noStorage) throw new InvalidArgument(`--storage-opt size is not supported here: ${noStorage}`);

    s = performance.now();
    mkdirSync(join(dir, 'bundle', 'rootfs'), { recursive: true, mode: 0o711 });
    // --storage-opt size: upper/ and work/ on a filesystem of that size (rootfs/quota.ts)
    let storage;
    try {
      storage = storageSize !== undefined ? createLayerFs(dir, storageSize) : undefined;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true }); // nothing is left of a create that failed
      throw e;
    }
    if (storage) step('storage-quota', s, { file: storage.image, detail: `a ${storageSize}-byte ext4 image, loop-mounted on ${storage.mountPoint}: the container layer lives on it` });
    const layerDir = storage ? storage.mountPoint : dir;
    const userns = config.namespaces?.user === true;
    const hostRoot = userns ? (config.uidMap?.[0]?.hostId ?? 100000) : 0;
    const hostGid = userns ? (config.gidMap?.[0]?.hostId ?? 100000) : 0;
    prepareContainerLayer(layerDir, { uidShift: userns ? hostRoot : undefined, gidShift: userns ? hostGid : undefined, merged: join(dir, 'bundle', 'rootfs') });
    step('make-dirs', s, { file: dir, detail: 'bundle/rootfs (mount point), upper/ (the container layer), work/ (overlayfs scratch)' });

    const rec: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      config: applied.config,
      image: { ref: config.image, id: image.id },
      path: argv[0],
      args: argv.slice(1),
      limits,
      logging: applied.logging,
      ...(storage ? { storage } : {}),
      state: {
        status: 'created',
        pid: 0,
        pidStartTime: null,
        monitorPid: 0,
        monitorStartTime: null,
        exitCode: 0,
        signal: null,
        oomKilled: false,
        error: '',
        startedAt: null,
        finishedAt: null,
        restartCount: 0,
      },
      timeline,
      paths: {
        bundle: join(dir, 'bundle'),
        rootfs: join(dir, 'bundle', 'rootfs'),
        upper: join(layerDir, 'upper'),
        work: join(layerDir, 'work'),
        lowers: image.layers.map((l) => l.dir),
        log: join(dir, 'container.log'),
        cgroups: {},
      },
      network: { mode: this.defaultNetworkMode(config) },
    };
    s = performance.now();
    this.records.save(rec);
    step('write-record', s, { file: join(dir, 'record.json') });
    this.emit('create', rec);
    return rec;
  }

  /** Docker's default is the bridge network; without networking, a lone loopback. */
  private defaultNetworkMode(config: ContainerConfig): string {
    if (config.namespaces?.net === false || config.shareNamespaces?.net === 'host') return 'host';
    if (config.network) {
      if (!this.network && !['none', 'host'].includes(config.network) && !config.network.startsWith('container:')) {
        throw new InvalidArgument(`network "${config.network}" is not available: this engine runs without networking`);
      }
      return config.network === 'default' ? 'bridge' : config.network;
    }
    return this.network ? 'bridge' : 'none';
  }

  private checkShareTargets(config: ContainerConfig): void {
    for (const target of Object.values(config.shareNamespaces ?? {})) {
      if (target.startsWith('container:')) this.records.find(target.slice('container:'.length));
    }
    if (config.network?.startsWith('container:')) this.records.find(config.network.slice('container:'.length));
  }

  // ------------------------------------------------------------------ start

  async run(config: ContainerConfig): Promise<ContainerRecord> {
    const rec = await this.create(config);
    try {
      return await this.start(rec.id);
    } catch (e) {
      if (config.autoRemove) await this.remove(rec.id, { force: true }).catch(() => {});
      throw e;
    }
  }

  start(idOrName: string): Promise<ContainerRecord> {
    const rec = this.records.find(idOrName);
    return this.withLock(rec.id, () => this.startLocked(rec.id, false));
  }

  private async startLocked(id: string, isRestart: boolean): Promise<ContainerRecord> {
    const rec = this.records.find(id);
    if (rec.state.status === 'running' || rec.state.status === 'paused') return rec; // docker start on a running container is a no-op
    const t0 = performance.now();
    // A fresh start keeps the creation steps; a restart starts a new timeline.
    const timeline: TimelineStep[] = rec.state.startedAt || isRestart ? [] : [...rec.timeline];
    const shift = timeline.length ? timeline[timeline.length - 1].at + timeline[timeline.length - 1].ms : 0;
    const step = (name: string, started: number, extra: Partial<TimelineStep> = {}) =>
      timeline.push({ step: name, by: 'engine', at: shift + started - t0, ms: performance.now() - started, ...extra });
    const runDir = join(this.runRoot, id);
    const cleanups: (() => Promise<void> | void)[] = [];
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));

    try {
      const image = this.images.resolve(rec.image.id);
      const userns = rec.config.namespaces?.user === true;
      const uidMap = rec.config.uidMap ?? (userns ? [{ containerId: 0, hostId: 100000, size: 65536 }] : []);
      const gidMap = rec.config.gidMap ?? (userns ? [{ containerId: 0, hostId: 100000, size: 65536 }] : []);

      // 1. the image's layers, shifted to the container's uid range when it has a user namespace
      let s = performance.now();
      const lowers = userns
        ? await Promise.all(image.layers.map((l) => shiftedLayerDir(this.images, l.diffId, uidMap[0].hostId, gidMap[0].hostId)))
        : image.layers.map((l) => l.dir);
      if (userns) step('shift-layers', s, { detail: `layers copied once with uid/gid + ${uidMap[0].hostId} so root inside owns its files` });

      // 2. the overlay mount
      s = performance.now();
      if (!isMounted(rec.paths.rootfs)) mountOverlay({ lowers, upper: rec.paths.upper, work: rec.paths.work, target: rec.paths.rootfs });
      cleanups.push(() => unmountOverlay(rec.paths.rootfs));
      step('mount-overlay', s, {
        call: `mount("overlay", "${rec.paths.rootfs}", "overlay", 0, "lowerdir=${[...lowers].reverse().join(':')},upperdir=${rec.paths.upper},workdir=${rec.paths.work}")`,
      });
      rec.paths.lowers = lowers;

      // 3. the cgroup and its limits
      s = performance.now();
      const writes = await this.cgroups.create(id, rec.limits);
      cleanups.push(async () => {
        await this.cgroups.killAll(id);
        await this.cgroups.remove(id);
      });
      step('cgroup-create', s, { detail: `${this.cgroups.version === 1 ? 'one directory per v1 hierarchy' : 'one v2 directory'}: glassbox/${id.slice(0, 12)}…` });
      for (const w of writes) timeline.push({ step: 'cgroup-limit', by: 'engine', at: shift + performance.now() - t0, ms: w.ms, file: w.file, wrote: w.wrote });
      rec.paths.cgroups = this.cgroups.paths(id);

      // 4. the plan → config.json + helper spec (+ seccomp BPF)
      s = performance.now();
      const user = resolveUser(rec.paths.rootfs, rec.config.user ?? (image.config.config as { User?: string } | undefined)?.User);
      let netPlan: NetPlan | null = null;
      let etc: { hostname: string; hosts: string; resolvConf: string };
      if (this.network) {
        s = performance.now();
        netPlan = await this.network.prepare(id, { mode: rec.network.mode, name: rec.name, hostname: this.hostnameOf(rec), ports: rec.config.ports });
        cleanups.push(() => this.network!.detach(id));
        etc = netPlan.files;
        step('network-plan', s, { detail: netPlan.ipAddress ? `${netPlan.networkName ?? 'bridge'}: ${netPlan.ipAddress}/${netPlan.prefixLen} via ${netPlan.gateway}` : `network mode ${netPlan.mode}` });
        rec.network = {
          mode: rec.network.mode,
          ipAddress: netPlan.ipAddress,
          gateway: netPlan.gateway,
          macAddress: netPlan.macAddress,
          networkId: netPlan.networkId,
          prefixLen: netPlan.prefixLen,
          ports: netPlan.ports,
        };
      } else {
        etc = this.writeEtcFiles(rec);
      }
      const plan = buildPlan({
        rec,
        image,
        user,
        uidMap,
        gidMap,
        runDir,
        cgroupProcs: this.cgroups.procsFiles(id),
        monitorCgroupProcs: this.cgroups.monitorProcsFiles(id),
        cgroupPaths: this.cgroups.paths(id),
        cgroupVersion: this.cgroups.version,
        etcFiles: etc,
        joinNamespaces: this.joinPaths(rec),
      });
      writeJsonAtomic(join(rec.paths.bundle, 'config.json'), ociConfig(plan));
      const specPath = join(runDir, 'helper.spec');
      writeFileSync(specPath, runSpec(plan, { createBarrier: true }), { mode: 0o600 });
      step('write-config', s, { file: join(rec.paths.bundle, 'config.json'), detail: `OCI runtime spec; helper spec at ${specPath}` });

      // 5. the helper: clone with the namespaces, maps, cgroup join ... up to the create barrier
      if (existsSync(join(runDir, 'exit.json'))) rmSync(join(runDir, 'exit.json'));
      let created: CreatedContainer;
      try {
        created = await runHelper(specPath, timeline, t0 - shift);
      } catch (e) {
        throw this.helperFailure(e);
      }
      cleanups.push(() => created.abort());

      // 6. the network, wired while the namespaces exist and the command has not run yet
      if (this.network && netPlan) {
        s = performance.now();
        const netSteps = await this.network.attach(id, created.pid);
        for (const n of netSteps) timeline.push({ step: n.step, by: 'engine', at: shift + n.started - t0, ms: n.ms, call: n.call, detail: n.detail });
        if (netSteps.length) step('network', s, { detail: `${netSteps.length} ip/iptables steps` });
      }

      // 7. release: the command is exec'd
      await this.connectPendingAttach(id, runDir);
      s = performance.now();
      try {
        await created.start();
      } catch (e) {
        throw this.helperFailure(e);
      }
      step('start', s, { detail: 'released the create barrier: the helper dropped privileges and called execve' });

      rec.state = {
        ...rec.state,
        status: 'running',
        pid: created.pid,
        pidStartTime: readStartTime(created.pid),
        monitorPid: created.monitorPid,
        monitorStartTime: readStartTime(created.monitorPid),
        exitCode: 0,
        signal: null,
        oomKilled: false,
        error: '',
        startedAt: new Date().toISOString(),
        finishedAt: null,
        restartCount: isRestart ? rec.state.restartCount + 1 : rec.state.restartCount,
      };
      rec.timeline = timeline;
      this.records.save(rec);
      const live: Live = { gone: created.exited, helper: created.process, stopRequested: false };
      this.live.set(id, live);
      void created.exited.then(() => this.onMonitorGone(id, created.monitorPid));
      this.emit(isRestart ? 'restart' : 'start', rec);
      return rec;
    } catch (e) {
      for (const c of cleanups.reverse()) {
        try {
          await c();
        } catch {
          /* keep cleaning */
        }
      }
      rec.state.status = rec.state.startedAt ? 'exited' : 'created';
      rec.state.error = (e as Error).message;
      if (e instanceof HelperError && /execve|exec/.test(e.step)) {
        rec.state.status = 'exited';
        rec.state.exitCode = e.errno === 'ENOENT' ? 127 : 126;
      }
      rec.timeline = timeline;
      this.records.save(rec);
      throw e;
    }
  }

  private helperFailure(e: unknown): Error {
    if (e instanceof HelperError && /exec/.test(e.step) && /ENOENT/.test(e.errno ?? e.message)) {
      return new InvalidArgument(`failed to create the container: exec: ${e.message}: executable file not found in $PATH`);
    }
    return e as Error;
  }

  /** /etc/hostname, /etc/hosts, /etc/resolv.conf for the container, bind-mounted by the helper. */
  private writeEtcFiles(rec: ContainerRecord): { hostname: string; hosts: string; resolvConf: string } {
    const dir = this.records.containerDir(rec.id);
    const hostname = this.hostnameOf(rec);
    const files = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
    writeFileSync(files.hostname, hostname + '\n');
    writeFileSync(
      files.hosts,
      ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `127.0.1.1\t${hostname}`, ''].join('\n'),
    );
    writeFileSync(files.resolvConf, resolvConfForContainer());
    return files;
  }

  hostnameOf(rec: ContainerRecord): string {
    if (rec.config.namespaces?.uts === false || rec.config.shareNamespaces?.uts === 'host') return hostHostname();
    return rec.config.hostname ?? rec.id.slice(0, 12);
  }

  private joinPaths(rec: ContainerRecord): Record<string, string> {
    const out: Record<string, string> = {};
    const targets: [string, string][] = Object.entries(rec.config.shareNamespaces ?? {}).filter(([, v]) => v.startsWith('container:'));
    if (rec.config.network?.startsWith('container:')) targets.push(['net', rec.config.network]);
    for (const [ns, t] of targets) {
      const other = this.records.find(t.slice('container:'.length));
      if (other.state.status !== 'running' && other.state.status !== 'paused') {
        throw new Conflict(`cannot join the ${ns} namespace of container ${other.name}: it is not running`);
      }
      out[ns] = `/proc/${other.state.pid}/ns/${ns}`;
    }
    return out;
  }

  private async connectPendingAttach(id: string, runDir: string): Promise<void> {
    const waiting = this.pendingAttach.get(id);
    if (!waiting?.length) return;
    this.pendingAttach.delete(id);
    for (const resolve of waiting) {
      try {
        resolve(attachSession(await connectMonitor(join(runDir, 'monitor.sock'))));
      } catch {
        /* the waiter's promise stays pending for the next start; it will be retried */
        this.pendingAttach.set(id, [...(this.pendingAttach.get(id) ?? []), resolve]);
      }
    }
  }

  // ------------------------------------------------------------------ exit

  /** The monitor has gone: read exit.json, collect OOM, clean up, maybe restart. */
  private async onMonitorGone(id: string, monitorPid: number): Promise<void> {
    if (this.closed) return;
    await this.withLock(id, () => this.finalize(id, monitorPid));
  }

  private async finalize(id: string, monitorPid: number): Promise<void> {
    let rec: ContainerRecord;
    try {
      rec = this.records.find(id);
    } catch {
      return;
    }
    if (rec.state.monitorPid !== monitorPid || !['running', 'paused', 'restarting'].includes(rec.state.status)) return;
    const live = this.live.get(id);
    this.live.delete(id);
    live?.watcher?.destroy();
    const runDir = join(this.runRoot, id);
    const exit = readJson<ExitFile>(join(runDir, 'exit.json'));
    let oomKilled = false;
    try {
      if (Object.values(this.cgroups.paths(id)).some((p) => existsSync(p))) {
        oomKilled = await this.cgroups.oomKilled(id);
        if (rec.state.status === 'paused') await this.cgroups.thaw(id).catch(() => {});
        await this.cgroups.killAll(id);
        await this.cgroups.remove(id);
      }
    } catch (e) {
      rec.state.error = `cleaning the cgroup: ${(e as Error).message}`;
    }
    try {
      if (isMounted(rec.paths.rootfs)) unmountOverlay(rec.paths.rootfs);
    } catch (e) {
      rec.state.error = `unmounting the root filesystem: ${(e as Error).message}`;
    }
    await this.network?.detach(id).catch((e: Error) => (rec.state.error = `removing the network: ${e.message}`));
    rmSync(runDir, { recursive: true, force: true });
    rec.state.status = 'exited';
    rec.state.exitCode = exit?.code ?? 255;
    rec.state.signal = exit?.signal ?? null;
    rec.state.oomKilled = oomKilled;
    rec.state.finishedAt = exit?.finishedAt ?? new Date().toISOString();
    if (!exit && !rec.state.error) rec.state.error = 'the container monitor died without writing an exit status';
    rec.state.pid = 0;
    rec.state.pidStartTime = null;
    rec.state.monitorPid = 0;
    rec.state.monitorStartTime = null;
    this.records.save(rec);
    if (oomKilled) this.emit('oom', rec);
    this.emit('die', rec, { exitCode: String(rec.state.exitCode), ...(rec.state.signal ? { signal: rec.state.signal } : {}) });
    this.maybeRestart(rec, live?.stopRequested ?? false);
  }

  private maybeRestart(rec: ContainerRecord, stoppedByUser: boolean): void {
    if (this.closed) return;
    const policy = rec.config.restartPolicy ?? { name: 'no' };
    const failed = rec.state.exitCode !== 0;
    const wanted =
      !stoppedByUser &&
      (policy.name === 'always' ||
        policy.name === 'unless-stopped' ||
        (policy.name === 'on-failure' && failed && (!policy.maximumRetryCount || rec.state.restartCount < policy.maximumRetryCount)));
    if (!wanted) {
      if (rec.config.autoRemove) void this.remove(rec.id, { force: true }).catch(() => {});
      return;
    }
    // Docker's back-off: 100 ms, doubling, at most a minute; reset after 10 s of running.
    const ranFor = rec.state.startedAt ? Date.now() - Date.parse(rec.state.startedAt) : 0;
    const attempt = ranFor > 10_000 ? 0 : rec.state.restartCount;
    const delay = Math.min(60_000, 100 * 2 ** Math.min(attempt, 10));
    rec.state.status = 'restarting';
    this.records.save(rec);
    const timer = setTimeout(() => {
      this.restartTimers.delete(rec.id);
      void this.withLock(rec.id, async () => {
        const cur = this.records.all().find((r) => r.id === rec.id);
        if (!cur || cur.state.status !== 'restarting') return;
        cur.state.status = 'exited';
        await this.startLocked(rec.id, true).catch((e: Error) => {
          cur.state.error = e.message;
          this.records.save(cur);
        });
      });
    }, delay);
    timer.unref();
    this.restartTimers.set(rec.id, timer);
  }

  // ------------------------------------------------------------------ restore after a restart

  private async restore(): Promise<void> {
    const records = this.records.load();
    for (const rec of records) {
      // after a reboot a size-limited layer is a bare image file: mount it again
      if (rec.storage) {
        try {
          mountLayerFs(rec.storage);
        } catch (e) {
          rec.state.error = `mounting the container layer: ${(e as Error).message}`;
        }
      }
    }
    const keep = new Set<string>();
    for (const rec of records) {
      const { status, monitorPid, monitorStartTime } = rec.state;
      if (status === 'running' || status === 'paused' || status === 'restarting') {
        if (monitorPid && isSameProcess(monitorPid, monitorStartTime)) {
          keep.add(rec.id);
          this.adopt(rec);
          continue;
        }
        // The monitor is gone while we were away: finalize from exit.json (or as dead).
        await this.finalize(rec.id, monitorPid);
      } else if (rec.config.autoRemove && status === 'exited') {
        await this.removeLocked(rec.id, true).catch(() => {});
      }
    }
    await this.sweep(keep);
  }

  /** Watch a running container whose monitor a previous server started. */
  private adopt(rec: ContainerRecord): void {
    const id = rec.id;
    const monitorPid = rec.state.monitorPid;
    let resolveGone!: () => void;
    const gone = new Promise<void>((r) => (resolveGone = r));
    const live: Live = { gone, stopRequested: false };
    this.live.set(id, live);
    const poll = () => {
      // The socket closes when the monitor exits; the pid check covers a monitor killed hard.
      if (!isSameProcess(monitorPid, rec.state.monitorStartTime)) return resolveGone();
      setTimeout(poll, 250).unref();
    };
    connectMonitor(join(this.runRoot, id, 'monitor.sock'))
      .then((sock) => {
        live.watcher = sock;
        sock.on('data', () => {});
        sock.on('error', () => {});
        sock.on('close', () => poll());
        sock.unref();
      })
      .catch(() => poll());
    void gone.then(() => this.onMonitorGone(id, monitorPid));
  }

  /** Remove what a crash left: cgroups, overlay mounts and run dirs of containers not running. */
  private async sweep(running: Set<string>): Promise<void> {
    await this.network?.sweep(new Set(this.records.all().map((r) => r.id)), running);
    // Only cgroups of containers this state root knows: another engine on the same host (a test
    // run beside a server) owns the rest. A cgroup is made after its record, so none is orphaned.
    const ours = new Set(this.records.all().map((r) => r.id));
    for (const id of await this.cgroups.list()) {
      if (running.has(id) || !ours.has(id)) continue;
      await this.cgroups.thaw(id).catch(() => {});
      await this.cgroups.killAll(id).catch(() => {});
      await this.cgroups.remove(id).catch(() => {});
    }
    for (const rec of this.records.all()) {
      if (running.has(rec.id)) continue;
      if (isMounted(rec.paths.rootfs)) unmountOverlay(rec.paths.rootfs);
    }
    if (existsSync(this.runRoot)) {
      for (const name of readdirSync(this.runRoot)) {
        if (/^[0-9a-f]{64}$/.test(name) && !running.has(name)) rmSync(join(this.runRoot, name), { recursive: true, force: true });
      }
    }
  }

  // ------------------------------------------------------------------ stop, kill, pause

  private signalInit(rec: ContainerRecord, signal: number): boolean {
    return signalProcess(rec.state.pid, signal, rec.state.pidStartTime ?? '', readStartTime);
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.records.find(idOrName);
    const num = parseSignal(signal);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new Conflict(`Cannot kill container: ${rec.name}: container ${rec.id} is not running`);
    }
    const live = this.live.get(rec.id);
    if (live && (num === osConstants.signals.SIGKILL || num === osConstants.signals.SIGTERM)) live.stopRequested = true;
    this.signalInit(rec, num);
    // a frozen init dies only when thawed (v1), and on v2 the monitor is frozen with it: as Docker
    // does, SIGKILL on a paused container thaws it so that it can end
    if (rec.state.status === 'paused' && num === osConstants.signals.SIGKILL) await this.cgroups.thaw(rec.id).catch(() => {});
    this.emit('kill', rec, { signal: String(num) });
  }

  stop(idOrName: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    return this.stopContainer(rec, opts.timeoutSeconds ?? 10, opts.signal ?? 'SIGTERM');
  }

  private async stopContainer(rec: ContainerRecord, timeoutSeconds: number, signal: string): Promise<void> {
    const timer = this.restartTimers.get(rec.id);
    if (timer) {
      clearTimeout(timer);
      this.restartTimers.delete(rec.id);
      rec.state.status = 'exited';
      this.records.save(rec);
    }
    const live = this.live.get(rec.id);
    if (!live || (rec.state.status !== 'running' && rec.state.status !== 'paused')) return;
    live.stopRequested = true;
    if (rec.state.status === 'paused') await this.cgroups.thaw(rec.id);
    const num = parseSignal(signal);
    this.signalInit(rec, num);
    const timedOut = await Promise.race([live.gone.then(() => false), delay(timeoutSeconds * 1000).then(() => true)]);
    if (timedOut) {
      this.signalInit(rec, osConstants.signals.SIGKILL);
      await live.gone;
    }
    await this.waitStatus(rec.id, (r) => r.state.status !== 'running' && r.state.status !== 'paused');
    this.emit('stop', rec);
  }

  async restart(idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    await this.stopContainer(rec, opts.timeoutSeconds ?? 10, 'SIGTERM');
    await this.withLock(rec.id, () => this.startLocked(rec.id, false));
    this.emit('restart', rec);
  }

  async pause(idOrName: string): Promise<void> {
    const rec = this.records.find(idOrName);
    if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is already paused`);
    if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
    await this.cgroups.freeze(rec.id);
    rec.state.status = 'paused';
    this.records.save(rec);
    this.emit('pause', rec);
  }

  async unpause(idOrName: string): Promise<void> {
    const rec = this.records.find(idOrName);
    if (rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not paused`);
    await this.cgroups.thaw(rec.id);
    rec.state.status = 'running';
    this.records.save(rec);
    this.emit('unpause', rec);
  }

  // ------------------------------------------------------------------ remove

  remove(idOrName: string, opts: { force?: boolean } = {}): Promise<void> {
    const rec = this.records.find(idOrName);
    if ((rec.state.status === 'running' || rec.state.status === 'paused') && !opts.force) {
      return Promise.reject(
        new Conflict(`You cannot remove a ${rec.state.status} container ${rec.id}. Stop the container before attempting removal or force remove`),
      );
    }
    return this.removeLocked(rec.id, opts.force ?? false);
  }

  private async removeLocked(id: string, force: boolean): Promise<void> {
    const rec = this.records.find(id);
    if (force) {
      const t = this.restartTimers.get(id);
      if (t) clearTimeout(t);
      this.restartTimers.delete(id);
      if (rec.state.status === 'restarting') {
        rec.state.status = 'exited';
        this.records.save(rec);
      }
      await this.stopContainer(rec, 0, 'SIGKILL');
    }
    await this.withLock(id, async () => {
      for (const [execId, e] of this.execs) if (e.containerId === id) this.execs.delete(execId);
      if (isMounted(rec.paths.rootfs)) unmountOverlay(rec.paths.rootfs);
      if ((await this.cgroups.list()).includes(id)) {
        await this.cgroups.killAll(id);
        await this.cgroups.remove(id);
      }
      if (rec.storage) removeLayerFs(rec.storage); // after the last process that could hold it open
      rmSync(join(this.runRoot, id), { recursive: true, force: true });
      await this.network?.release(id);
      this.records.delete(id);
      this.emit('destroy', rec);
    });
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const rec = this.records.find(idOrName);
    const name = validateName(newName);
    if (this.records.nameTaken(name) && rec.name !== name) throw new Conflict(`Error when allocating new name: The container name "/${name}" is already in use`);
    const old = rec.name;
    rec.name = name;
    this.records.save(rec);
    this.emit('rename', rec, { oldName: old });
  }

  // ------------------------------------------------------------------ wait

  private waitStatus(id: string, done: (r: ContainerRecord) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const r = this.records.all().find((x) => x.id === id);
        if (!r || done(r)) {
          off();
          resolve();
        }
      };
      const off = this.onEvent((e) => {
        if (e.type === 'container' && e.id === id) check();
      });
      check();
    });
  }

  async wait(idOrName: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<WaitResult> {
    const rec = this.records.find(idOrName);
    const result = (): WaitResult => ({ exitCode: rec.state.exitCode, oomKilled: rec.state.oomKilled, error: rec.state.error || undefined });
    if (condition === 'removed') {
      await new Promise<void>((resolve) => {
        const off = this.onEvent((e) => {
          if (e.type === 'container' && e.id === rec.id && e.action === 'destroy') {
            off();
            resolve();
          }
        });
      });
      return result();
    }
    if (condition === 'not-running' && !['running', 'paused', 'restarting'].includes(rec.state.status)) return result();
    await new Promise<void>((resolve) => {
      const off = this.onEvent((e) => {
        if (e.type === 'container' && e.id === rec.id && (e.action === 'die' || e.action === 'destroy')) {
          off();
          resolve();
        }
      });
    });
    return result();
  }

  // ------------------------------------------------------------------ queries

  get(idOrName: string): ContainerRecord {
    return this.records.find(idOrName);
  }

  list(opts: { all?: boolean } = {}): ContainerRecord[] {
    const all = this.records.all().sort((a, b) => b.created.localeCompare(a.created));
    return opts.all ? all : all.filter((r) => r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting');
  }

  async update(idOrName: string, change: Partial<ResourceLimits> & { restartPolicy?: ContainerConfig['restartPolicy'] }): Promise<CgroupWrite[]> {
    const rec = this.records.find(idOrName);
    const { restartPolicy, ...limits } = change;
    const merged = { ...rec.limits, ...limits };
    validateLimits(merged);
    let writes: CgroupWrite[] = [];
    if (rec.state.status === 'running' || rec.state.status === 'paused') writes = await this.cgroups.update(rec.id, limits);
    rec.limits = merged;
    rec.config.limits = { ...(rec.config.limits ?? {}), ...limits };
    if (restartPolicy) rec.config.restartPolicy = restartPolicy;
    this.records.save(rec);
    this.emit('update', rec, Object.fromEntries(writes.map((w) => [w.file, w.wrote])));
    return writes;
  }

  async stats(idOrName: string): Promise<CgroupStats> {
    const rec = this.records.find(idOrName);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new Conflict(`container ${rec.name} is not running`);
    return this.cgroups.stats(rec.id);
  }

  async top(idOrName: string, psArgs?: string): Promise<TopResult> {
    const rec = this.records.find(idOrName);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not running`);
    // the monitor runs in glassbox/<id>/monitor (charged to the container) but is not one of its processes
    return topProcesses((await this.cgroups.pids(rec.id)).filter((p) => p !== rec.state.monitorPid), psArgs);
  }

  async changes(idOrName: string): Promise<LayerChange[]> {
    const rec = this.records.find(idOrName);
    const lowers = rec.paths.lowers.length ? rec.paths.lowers : this.images.resolve(rec.image.id).layers.map((l) => l.dir);
    return listChanges(rec.paths.upper, lowers);
  }

  logs(idOrName: string, opts: LogOptions = {}): AsyncIterable<LogEntry> {
    const rec = this.records.find(idOrName);
    if (rec.logging?.driver === 'none') throw new NotImplemented(NO_READING_MESSAGE);
    return readLogs(rec.paths.log, opts, () => {
      const r = this.records.all().find((x) => x.id === rec.id);
      return !!r && ['running', 'paused', 'restarting'].includes(r.state.status);
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

  // ------------------------------------------------------------------ attach, exec

  async attach(idOrName: string): Promise<AttachSession> {
    const rec = this.records.find(idOrName);
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      return attachSession(await connectMonitor(join(this.runRoot, rec.id, 'monitor.sock')));
    }
    return new Promise((resolve) => {
      this.pendingAttach.set(rec.id, [...(this.pendingAttach.get(rec.id) ?? []), resolve]);
    });
  }

  async exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    const rec = this.records.find(idOrName);
    if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is paused, unpause the container before exec`);
    if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
    if (!opts.cmd?.length) throw new InvalidArgument('No exec command specified');
    const execId = randomBytes(32).toString('hex');
    const runDir = join(this.runRoot, rec.id);
    const specPath = join(runDir, `exec-${execId.slice(0, 16)}.spec`);
    const user = resolveUser(rec.paths.rootfs, opts.user ?? rec.config.user);
    const plan = buildExecPlan({
      rec,
      image: this.images.resolve(rec.image.id),
      user,
      opts,
      runDir,
      cgroupProcs: this.cgroups.procsFiles(rec.id),
      targetPid: rec.state.pid,
      targetStart: rec.state.pidStartTime ?? '',
    });
    writeFileSync(specPath, execSpec(plan), { mode: 0o600 });
    const entry = { containerId: rec.id, process: undefined as unknown as ExecProcess, exitCode: null as number | null, config: opts };
    const proc = launchExec({
      execId,
      containerId: rec.id,
      helper: helperPath(),
      specPath,
      extraFiles: plan.seccompBpf ? [plan.seccompBpf] : [],
      tty: opts.tty ?? false,
      cols: opts.cols,
      rows: opts.rows,
      onExit: (code) => {
        entry.exitCode = code;
        this.emit('exec_die', rec, { execID: execId, exitCode: String(code) });
      },
    });
    entry.process = proc;
    this.execs.set(execId, entry);
    this.emit('exec_start', rec, { execID: execId, command: opts.cmd.join(' ') });
    return proc;
  }

  /** An exec session's state, for docker's exec inspect. */
  execInfo(execId: string): { containerId: string; running: boolean; exitCode: number | null; pid: number; config: ExecOptions } {
    const e = this.execs.get(execId);
    if (!e) throw new NotFound(`No such exec instance: ${execId}`);
    return { containerId: e.containerId, running: e.exitCode === null, exitCode: e.exitCode, pid: e.process.pid, config: e.config };
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
    const pause = rec.state.status === 'running' && opts.pause !== false;
    if (pause) await this.pause(rec.id);
    try {
      return await this.imageService.commit(rec, opts);
    } finally {
      if (pause) await this.unpause(rec.id);
    }
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

  async createNetwork(req: { name: string; subnet?: string; gateway?: string; labels?: Record<string, string> }): Promise<NetworkInfo> {
    const n = await this.requireNetwork().createNetwork(req);
    this.events.emit('event', { type: 'network', action: 'create', id: n.id, name: n.name, time: Date.now() } satisfies EngineEvent);
    return n;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    const n = this.requireNetwork().inspectNetwork(idOrName);
    await this.requireNetwork().removeNetwork(idOrName);
    this.events.emit('event', { type: 'network', action: 'destroy', id: n.id, name: n.name, time: Date.now() } satisfies EngineEvent);
  }

  async connectNetwork(network: string, container: string): Promise<void> {
    const rec = this.records.find(container);
    const running = rec.state.status === 'running' || rec.state.status === 'paused';
    await this.requireNetwork().connect(network, rec.id, running ? rec.state.pid : null);
    const n = this.requireNetwork().inspectNetwork(network);
    this.events.emit('event', { type: 'network', action: 'connect', id: n.id, name: n.name, container: rec.id, time: Date.now() } satisfies EngineEvent);
  }

  async disconnectNetwork(network: string, container: string): Promise<void> {
    const rec = this.records.find(container);
    await this.requireNetwork().disconnect(network, rec.id);
    const n = this.requireNetwork().inspectNetwork(network);
    this.events.emit('event', { type: 'network', action: 'disconnect', id: n.id, name: n.name, container: rec.id, time: Date.now() } satisfies EngineEvent);
  }

  // ------------------------------------------------------------------ images

  listImages(): ImageSummary[] {
    return this.images.list();
  }

  inspectImage(ref: string): ImageDetail {
    return this.images.inspect(ref);
  }

  tagImage(source: string, target: string): void {
    this.images.tag(source, target);
    const img = this.images.resolve(target);
    this.events.emit('event', { type: 'image', action: 'tag', id: img.id, ref: target, time: Date.now() } satisfies EngineEvent);
  }

  removeImage(ref: string, opts: { force?: boolean } = {}): { untagged: string[]; deleted: string[] } {
    const result = this.images.remove(ref, {
      force: opts.force,
      isInUse: (imageId: string) => this.records.all().some((r) => r.image.id === imageId),
    });
    for (const u of result.untagged) this.events.emit('event', { type: 'image', action: 'untag', id: u, time: Date.now() } satisfies EngineEvent);
    for (const d of result.deleted) this.events.emit('event', { type: 'image', action: 'delete', id: d, time: Date.now() } satisfies EngineEvent);
    return result;
  }
}

// ------------------------------------------------------------------ helpers

/** Docker answers 501 when a log driver keeps nothing to read. */
class NotImplemented extends Error {
  readonly status = 501;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export function parseSignal(signal: string | number): number {
  if (typeof signal === 'number' || /^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n < 1 || n > 64) throw new InvalidArgument(`Invalid signal: ${signal}`);
    return n;
  }
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (!n) throw new InvalidArgument(`Invalid signal: ${signal}`);
  return n;
}

/**
 * A resolv.conf that works inside: the host's nameservers unless they are loopback addresses
 * (a 127.0.0.x resolver on the host is unreachable from the container's own loopback).
 */
function resolvConfForContainer(): string {
  let host = '';
  try {
    host = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    /* no host resolver */
  }
  const lines = host.split('\n').filter((l) => /^(nameserver|search|options)\s/.test(l));
  const usable = lines.filter((l) => !/^nameserver\s+(127\.|::1)/.test(l));
  if (!usable.some((l) => l.startsWith('nameserver'))) {
    return '# Glassbox: the host has no nameserver a container can reach. Container names on the same\n# network resolve through /etc/hosts; other names do not resolve offline.\n';
  }
  return `# Glassbox: from the host's resolv.conf, loopback nameservers removed\n${usable.join('\n')}\n`;
}
