// The engine's public vocabulary. The Docker API, the REST API and the socket.io channels speak
// only these types; nothing here knows about HTTP, cgroup files or syscalls.

export { NAMESPACES, NAMESPACE_ISOLATES, type Namespace } from '../../common/namespaces.js';

export type { ContainerConfig, IdMapping, RestartPolicy } from './containers/config-schema.js';
import type { ContainerConfig, IdMapping } from './containers/config-schema.js';

export interface ResourceLimits {
  /** bytes; null = no limit */
  memory: number | null;
  /** memory + swap in bytes (Docker's --memory-swap); -1 = unlimited swap; null = same as Docker default (2x memory) */
  memorySwap: number | null;
  /** fraction of CPUs (Docker's --cpus); null = no quota */
  cpus: number | null;
  /** period in microseconds for the quota; default 100000 */
  cpuPeriod?: number;
  /** Docker's --cpu-shares (2..262144); null = default (1024 / weight 100) */
  cpuShares: number | null;
  /** pids.max; null = no limit */
  pids: number | null;
  /** per-device throttles: "MAJ:MIN" -> bytes or ops per second */
  io: IoThrottle[];
  /** set at create only (cgroups/extra-limits.ts): --cpuset-cpus/-mems, --memory-reservation, --blkio-weight; v1: --memory-swappiness, --oom-kill-disable */
  cpusetCpus?: string | null;
  cpusetMems?: string | null;
  memoryReservation?: number | null;
  memorySwappiness?: number | null;
  oomKillDisable?: boolean;
  blkioWeight?: number | null;
}

export interface IoThrottle {
  major: number;
  minor: number;
  readBps?: number;
  writeBps?: number;
  readIops?: number;
  writeIops?: number;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  /** field 22 of /proc/PID/stat: with pid it identifies the process across a server restart */
  pidStartTime: string | null;
  monitorPid: number;
  monitorStartTime: string | null;
  exitCode: number;
  /** the signal that ended init, if any */
  signal: string | null;
  oomKilled: boolean;
  error: string;
  startedAt: string | null;
  finishedAt: string | null;
  restartCount: number;
  /** with a healthcheck: its status, failures in a row and the last results (lifecycle/health.ts) */
  health?: {
    status: 'starting' | 'healthy' | 'unhealthy';
    failingStreak: number;
    log: { start: string; end: string; exitCode: number; output: string }[];
  };
}

export interface TimelineStep {
  /** short machine name: "mount-overlay", "cgroup-create", "clone", "uid_map", "pivot_root" ... */
  step: string;
  /** who did it: the engine (Node) or the helper's monitor/child side */
  by: 'engine' | 'monitor' | 'child';
  /** milliseconds since the timeline began */
  at: number;
  /** duration of the step in milliseconds */
  ms: number;
  /** the syscall made, as a learner would write it */
  call?: string;
  /** the file written and what was written to it */
  file?: string;
  wrote?: string;
  detail?: string;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  config: ContainerConfig;
  /** the resolved image: reference and config digest */
  image: { ref: string; id: string };
  /** the argv that init runs (entrypoint + cmd resolved against the image) */
  path: string;
  args: string[];
  /** effective limits after defaults */
  limits: ResourceLimits;
  /** the log driver and its rotation, after the daemon's defaults (absent in records made before them: json-file, no rotation) */
  logging?: { driver: 'json-file' | 'local' | 'none'; maxSize: number | null; maxFiles: number };
  /** a size-limited container layer: a loop-mounted ext4 image that holds upper/ and work/ */
  storage?: { size: number; image: string; mountPoint: string };
  state: ContainerState;
  /** the last start's timeline */
  timeline: TimelineStep[];
  /** paths on the host, for inspect and the diagrams */
  paths: {
    bundle: string;
    rootfs: string;
    upper: string;
    work: string;
    lowers: string[];
    log: string;
    cgroups: Record<string, string>;
  };
  /**
   * A user-namespaced container's maps: a host range of its own (allocated at create, freed at
   * remove, userns/ranges.ts), or the maps the config gave; and how its layers were mapped.
   */
  userns?: {
    uidMap: IdMapping[];
    gidMap: IdMapping[];
    /** set when the range was allocated (not given in the config) */
    range?: { uid: number; gid: number; size: number };
    /** the last start's layers: idmapped mounts, or shifted copies */
    layers?: 'idmapped' | 'shifted';
  };
  network: {
    mode: string;
    ipAddress?: string;
    gateway?: string;
    macAddress?: string;
    networkId?: string;
    prefixLen?: number;
    /** the ports as bound while running (a requested host port 0 replaced by the one chosen) */
    ports?: NonNullable<ContainerConfig['ports']>;
  };
}

export type EngineEvent =
  | { type: 'container'; action: 'create' | 'start' | 'die' | 'oom' | 'stop' | 'kill' | 'pause' | 'unpause' | 'destroy' | 'restart' | 'update' | 'rename' | 'exec_create' | 'exec_start' | 'exec_die' | 'health_status'; id: string; name: string; image: string; time: number; attributes?: Record<string, string> }
  | { type: 'image'; action: 'pull' | 'tag' | 'untag' | 'delete' | 'import' | 'load' | 'commit'; id: string; ref?: string; time: number }
  /** isolation-missing/-restored: the firewall check found this engine's isolation rules gone (and re-added them), or back; detail says what */
  | { type: 'network'; action: 'create' | 'connect' | 'disconnect' | 'destroy' | 'isolation-missing' | 'isolation-restored'; id: string; name: string; container?: string; detail?: string; time: number }
  | { type: 'volume'; action: 'create' | 'mount' | 'unmount' | 'destroy'; id: string; name: string; container?: string; time: number };

/** A change in the container layer, from the upper dir (docker diff's A/C/D plus detail). */
export interface LayerChange {
  path: string;
  kind: 'added' | 'modified' | 'deleted' | 'opaque';
  /** for added/modified files: size in the upper dir (a copy-up copies the whole file) */
  size?: number;
  isDir?: boolean;
  /** for modified: size of the file in the lower layer it hides */
  lowerSize?: number;
}

/**
 * What went wrong, as a kind rather than a status code (containerd's errdefs are the model): the
 * engine knows nothing of HTTP, and each adapter maps kinds to its own codes (the Docker API's 400
 * / 404 / 409 / 503, REST's JSON errors). Any other error is an internal one.
 */
export type ErrorKind = 'invalid' | 'not-found' | 'conflict' | 'permission-denied' | 'unavailable' | 'not-implemented' | 'internal';

export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** The kind of any error: an EngineError's own, 'internal' for everything else. */
export function errorKind(e: unknown): ErrorKind {
  return e instanceof EngineError ? e.kind : 'internal';
}

/** Bad input: the message is meant for the user as is. Nothing was created. */
export class InvalidArgument extends EngineError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'InvalidArgument';
  }
}

/** No such container, image, network or exec session. */
export class NotFound extends EngineError {
  constructor(message: string) {
    super('not-found', message);
    this.name = 'NotFound';
  }
}

/** The object is in the wrong state for this (running, paused, in use, name taken). */
export class Conflict extends EngineError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'Conflict';
  }
}

/** Something the host cannot give now (a runtime it lacks, a registry that does not answer). */
export class Unavailable extends EngineError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'Unavailable';
  }
}
