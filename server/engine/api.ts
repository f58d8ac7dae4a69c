// The engine's typed API: what the Docker API adapter, the REST API and the socket.io channels may
// call. The Engine class (engine.ts) implements it. Nothing here mentions HTTP.
import type { CgroupEventCounts, CgroupStats, CgroupUsage, CgroupWrite } from './cgroups/types.js';
import type { NetworkCreateRequest, NetworkInfo } from './network/index.js';
import type { NetDevCounters } from './network/net-dev.js';
import type { PullEvent, PullResult } from './images/pull.js';
import type { CommitOptions, CommitResult } from './images/commit.js';
import type { ImportedImage } from './images/layout.js';
import type { Readable, Writable } from 'node:stream';
import type { ImageView } from './images/view.js';
import type { BuildContainers, BuildEvent, BuildOptions, BuildResult } from './build/builder.js';
import type { SignalResult } from './lifecycle/signal-process.js';
import type { TenantLimits, TenantUsage } from './tenancy/tenant-groups.js';
import type { ContainerConfig, ContainerRecord, EngineEvent, LayerChange, ResourceLimits, TimelineStep } from './types.js';
import type { VolumeCreateRequest, VolumeRecord } from './volumes/store.js';
import type { PruneFilters, PruneResult } from './housekeeping/filters.js';
import type { DiskUsage, ImagePruneResult } from './housekeeping/prune.js';
import type { PathStat } from './files/archive.js';
import type { RuntimeAvailability, RuntimeCompareRequest, RuntimeComparison } from './compare/types.js';

export type { VolumeCreateRequest, VolumeRecord, PruneFilters, PruneResult, DiskUsage, ImagePruneResult, PathStat };
export type * from './compare/types.js';

/** A volume with what uses it: the containers (any state) whose mounts name it. */
export interface VolumeInfo extends VolumeRecord {
  /** ids of the containers that mount it */
  usedBy: string[];
}

/** docker import: a tar of a root filesystem becomes a one-layer image. */
export interface ImportOptions {
  /** repo[:tag]; unset: an untagged image named by its id */
  ref?: string;
  /** Dockerfile-like lines applied to the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL */
  changes?: string[];
  message?: string;
}

export interface ImageSummary {
  /** "sha256:<hex>" of the image config */
  id: string;
  repoTags: string[];
  /** ISO-8601 */
  created: string;
  /** bytes of all layers */
  size: number;
  layers: number;
}

export interface ImageDetail extends ImageSummary {
  /** the OCI image config (config.Env, config.Cmd ..., rootfs.diff_ids, history) */
  config: Record<string, unknown>;
  manifestDigest: string;
  /** bottom first */
  layerDetails: { diffId: string; dir: string; size: number; createdBy: string }[];
  history: { created: string; createdBy: string; emptyLayer: boolean; size: number; id: string }[];
}

/** A process started with setns into a running container (docker exec, browser terminals). */
export interface ExecProcess {
  readonly execId: string;
  readonly containerId: string;
  /** host pid of the helper (the process in the container is its child) */
  readonly pid: number;
  readonly tty: boolean;
  /** stdout (and, for a tty, everything). Buffers arrive in order. */
  onData(cb: (data: Buffer) => void): void;
  /** stderr, only when tty is false */
  onStderr(cb: (data: Buffer) => void): void;
  onExit(cb: (exitCode: number, signal: string | null) => void): void;
  /**
   * Why the helper could not start the command (its JSON error line: step, message, errno), once
   * it exited; null when the command ran. The user also reads it as text on stderr (or the tty).
   */
  failure(): HelperFailure | null;
  write(data: string | Buffer): void;
  /** close stdin (EOF) — only meaningful without a tty */
  end(): void;
  resize(cols: number, rows: number): void;
  /** flow control (xterm.js watermarks): stop/resume reading the process's output */
  pause(): void;
  resume(): void;
  kill(signal?: NodeJS.Signals): void;
}

/** The helper's error line, as `run` mode puts it on the status channel and `exec` mode in its STATUS file. */
export interface HelperFailure {
  /** the step that failed (runtime/helper-steps.ts) */
  step: string;
  message: string;
  errno?: string;
}

export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  env?: string[];
  user?: string;
  workingDir?: string;
  privileged?: boolean;
  cols?: number;
  rows?: number;
}

/** A connection to a container's monitor: its init's stdio (docker attach, docker run -it). */
export interface AttachSession {
  onStdout(cb: (data: Buffer) => void): void;
  /** never called for a tty container: all output is stdout */
  onStderr(cb: (data: Buffer) => void): void;
  /** init exited: its exit code */
  onExit(cb: (code: number) => void): void;
  /** the connection closed (after onExit, or when detached) */
  onClose(cb: () => void): void;
  write(data: string | Buffer): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  detach(): void;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds */
  time: string;
  /** raw text, including its newline */
  log: string;
}

export interface LogOptions {
  follow?: boolean;
  /** number of last lines, or undefined for all */
  tail?: number;
  /** unix seconds */
  since?: number;
  until?: number;
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
  /**
   * follow only: a follower further behind than this many bytes skips ahead to the last ones and
   * is told so by an entry of its own. The dashboard sets it: a `yes` writes faster than any page
   * can show, and reading all of it would take the server's whole CPU. Docker's follow never
   * skips (unset).
   */
  maxLagBytes?: number;
}

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** A runtime driver as listed (runtime/drivers/index.ts). */
export type { RuntimeListing } from './runtime/drivers/index.js';
import type { RuntimeListing } from './runtime/drivers/index.js';

export interface EngineInfo {
  id: string;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  cpus: number;
  memTotal: number;
  cgroupLayout: 'v1' | 'hybrid' | 'v2';
  cgroupVersion: 1 | 2;
  cgroupDriver: string;
  storageDriver: 'overlay2';
  root: string;
  runRoot: string;
  containers: number;
  containersRunning: number;
  containersPaused: number;
  containersStopped: number;
  images: number;
  runtimes: string[];
  defaultRuntime: string;
  helperVersion: string;
  swapLimitSupport: boolean;
  /** the host's MAC modules (none here: nothing confines SYS_ADMIN beyond capabilities and seccomp) */
  securityModules?: { apparmor: boolean; selinux: boolean };
  /** the daemon configuration's log-driver (json-file unless /etc/glassbox/config.json says otherwise) */
  loggingDriver?: string;
}

export interface ContainerStats extends CgroupStats {
  /** by interface name: /proc/<init>/net/dev of the container's namespace; {} with the host's */
  networks?: Record<string, NetDevCounters>;
}

export interface WaitResult {
  exitCode: number;
  oomKilled: boolean;
  error?: string;
}

export interface EngineApi {
  info(): EngineInfo;
  /** every runtime driver with its availability on this host (probed once): docker info, the form */
  runtimes(): Promise<RuntimeListing[]>;

  // ---- containers ----
  create(config: ContainerConfig): Promise<ContainerRecord>;
  start(idOrName: string): Promise<ContainerRecord>;
  /** create + start */
  run(config: ContainerConfig): Promise<ContainerRecord>;
  /** SIGTERM (or the given signal), then SIGKILL after timeoutSeconds (default 10) */
  stop(idOrName: string, opts?: { timeoutSeconds?: number; signal?: string }): Promise<void>;
  kill(idOrName: string, signal?: string): Promise<void>;
  restart(idOrName: string, opts?: { timeoutSeconds?: number }): Promise<void>;
  pause(idOrName: string): Promise<void>;
  unpause(idOrName: string): Promise<void>;
  /** volumes: its anonymous volumes go too (docker rm -v), unless another container uses them */
  remove(idOrName: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  rename(idOrName: string, newName: string): Promise<void>;
  /** resolves when the container is not running (condition 'not-running', default), exits next ('next-exit') or is removed ('removed') */
  wait(idOrName: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<WaitResult>;
  /** throws NotFound. Accepts full id, unique id prefix, or name. */
  get(idOrName: string): ContainerRecord;
  list(opts?: { all?: boolean }): ContainerRecord[];
  /** live limit change; returns the cgroup files written */
  update(idOrName: string, limits: Partial<ResourceLimits> & { restartPolicy?: ContainerConfig['restartPolicy'] }): Promise<CgroupWrite[]>;
  /** the cgroup's counters, and each interface of the container's network namespace (lo left out) */
  stats(idOrName: string): Promise<ContainerStats>;
  /**
   * A running container's memory, CPU time and pids only, by full id: three reads of files kept
   * open, cheap enough every second for hundreds of containers (the list's figures). Null when it
   * is not running. Optional: an engine without it is read with stats().
   */
  usage?(id: string): CgroupUsage | null;
  /** A running container's OOM kills and refused forks, read the same cheap way (the idle event check). */
  eventCounts?(id: string): CgroupEventCounts | null;
  top(idOrName: string, psArgs?: string): Promise<TopResult>;
  changes(idOrName: string): Promise<LayerChange[]>;
  logs(idOrName: string, opts?: LogOptions): AsyncIterable<LogEntry>;
  /** the OCI runtime config.json of the container's bundle */
  ociConfig(idOrName: string): Record<string, unknown>;
  timeline(idOrName: string): TimelineStep[];
  /**
   * Send a signal to one process of the container, named by its host pid. NotFound for a pid that
   * is not the container's (a host or another container's process), Conflict for a zombie.
   */
  signalProcess(idOrName: string, hostPid: number, signal: string | number): SignalResult;

  // ---- learners' quotas: the cgroup <parent>/learners/<lid>/ above all of a learner's containers
  /**
   * Set a learner's quota (memory bytes, cpus, pids; null = none, absent = unchanged) on their
   * group; returns the cgroup files written. InvalidArgument naming the field, nothing written.
   * The teacher's: a learner's view refuses it (PermissionDenied).
   */
  setTenantLimits(learnerId: string, limits: TenantLimits): Promise<CgroupWrite[]>;
  /** The group's usage against the quota. A learner's view answers for that learner only (NotFound otherwise). */
  tenantUsage(learnerId: string): Promise<TenantUsage>;
  /** Remove the learner's (empty) group and forget the quota: remove their containers first (Conflict). The teacher's only. */
  removeTenant(learnerId: string): Promise<void>;
  /**
   * Attach to init's stdio. Before start it waits, and is connected at the create/start barrier,
   * so no output is lost (docker run -it attaches before it starts).
   */
  attach(idOrName: string): Promise<AttachSession>;
  exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess>;

  // ---- images ----
  listImages(): ImageSummary[];
  inspectImage(ref: string): ImageDetail;
  /** manifest, config, layers (blob digest and diff_id) and history, from the content store */
  imageView(ref: string): ImageView;
  tagImage(source: string, target: string): void;
  removeImage(ref: string, opts?: { force?: boolean }): { untagged: string[]; deleted: string[] };

  /** docker pull, with Docker's per-layer progress events */
  pullImage(ref: string, onProgress?: (e: PullEvent) => void): Promise<PullResult>;
  /** docker load */
  loadImages(source: string | Readable): Promise<ImportedImage[]>;
  /** docker save (format "docker") or an OCI layout tar ("oci") */
  saveImages(refs: string[], format: 'oci' | 'docker', out: Writable): Promise<void>;
  /** docker commit */
  commit(idOrName: string, opts?: CommitOptions & { pause?: boolean }): Promise<CommitResult>;
  /**
   * docker build (the classic builder): `context` is the build context tar; each step's output
   * comes through onEvent. A tenant's view (LearnerEngine) passes itself as `runner`, so the RUN
   * containers go through its policy, and a cache scope of its own.
   */
  build(context: Readable, opts?: BuildOptions & { runner?: BuildContainers; cacheScope?: string }, onEvent?: (e: BuildEvent) => void): Promise<BuildResult>;

  // ---- networks (docker network ...) — NotFound/InvalidArgument when the engine runs without networking ----
  listNetworks(): NetworkInfo[];
  inspectNetwork(idOrName: string): NetworkInfo;
  createNetwork(req: NetworkCreateRequest): Promise<NetworkInfo>;
  removeNetwork(idOrName: string): Promise<void>;
  /** attach a container (running or not) to a network: a running one gets its interface at once */
  /** opts: Docker's EndpointConfig (--ip, --alias) on this network */
  connectNetwork(network: string, container: string, opts?: { ip?: string; aliases?: string[] }): Promise<void>;
  disconnectNetwork(network: string, container: string): Promise<void>;

  // ---- volumes (docker volume ...): the local driver, directories outside every union ----
  listVolumes(): VolumeInfo[];
  /** NotFound for a name that is not a volume */
  inspectVolume(name: string): VolumeInfo;
  /** an existing volume of that name is returned as it is (as Docker does) */
  createVolume(req: VolumeCreateRequest): VolumeInfo;
  /** Conflict while a container mounts it, unless force (then the containers keep an empty directory) */
  removeVolume(name: string, opts?: { force?: boolean }): void;

  // ---- files in and out (docker cp, export, import) ----
  /** lstat of a path inside the container (its last component not followed); NotFound if missing */
  statPath(idOrName: string, path: string): Promise<PathStat>;
  /** a tar of the path (named by its last component) written to out; resolves with its stat */
  getArchive(idOrName: string, path: string, out: Writable): Promise<PathStat>;
  /** extract a tar into the directory at path, inside the container's root; copyUIDGID keeps the tar's owners */
  putArchive(idOrName: string, path: string, tar: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void>;
  /** docker export: the container's filesystem (its union, no volumes), as a tar */
  exportContainer(idOrName: string, out: Writable): Promise<void>;
  /** docker import */
  importImage(tar: Readable, opts?: ImportOptions): Promise<{ id: string; ref: string | null }>;

  // ---- housekeeping (docker * prune, docker system df) ----
  pruneContainers(filters?: PruneFilters): Promise<PruneResult>;
  /** dangling images no container uses; with all, every image no container uses */
  pruneImages(opts?: PruneFilters & { all?: boolean }): ImagePruneResult;
  pruneNetworks(filters?: PruneFilters): Promise<{ deleted: string[] }>;
  /** unused anonymous volumes; with all, unused named ones too */
  pruneVolumes(opts?: PruneFilters & { all?: boolean }): PruneResult;
  diskUsage(): DiskUsage;

  // ---- runtimes side by side (compare/): the teacher's engine only (a learner's view lacks them)
  /** every runtime the engine lists, with whether this host can run it */
  comparableRuntimes?(): Promise<RuntimeAvailability[]>;
  /**
   * The same image and command under 2–5 runtimes, one at a time: start times, memory overhead,
   * what the processes see inside. InvalidArgument / NotFound before anything runs; Conflict while
   * another comparison runs. Every container it makes is removed; the result is kept.
   */
  compareRuntimes?(req: RuntimeCompareRequest): Promise<RuntimeComparison>;
  /** the comparisons kept, newest first */
  runtimeComparisons?(): RuntimeComparison[];
  /** NotFound for an id that is not kept */
  runtimeComparison?(id: string): RuntimeComparison;

  // ---- events ----
  onEvent(cb: (e: EngineEvent) => void): () => void;
}
