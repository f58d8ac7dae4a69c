// Plain snapshot types, one per diagram. They cross the wire as JSON (socket.io `diagram:<kind>`,
// GET /api/diagrams/<kind>) and are all a diagram component gets: no functions, no classes.
import type { CgroupStats } from '../cgroups/types.js';
import type { LayerChange, Namespace } from '../types.js';

export type DiagramKind = 'namespaces' | 'layers' | 'network' | 'cgroups' | 'mounts';
export const DIAGRAM_KINDS: readonly DiagramKind[] = ['namespaces', 'layers', 'network', 'cgroups', 'mounts'];

/** Who lives in a namespace: a container id, or 'host' for processes that belong to no container. */
export type NsOwner = string;

// ---------------------------------------------------------------- namespaces

export interface IdMapLine {
  /** id inside the namespace */
  inside: number;
  /** id in the parent user namespace */
  outside: number;
  count: number;
}

export interface NsProcess {
  /** host pid */
  pid: number;
  ppid: number;
  /** NSpid from /proc/PID/status: the pid in each pid namespace level, outermost (host) first */
  nspid: number[];
  comm: string;
  /** argv joined with spaces, cut at 200 characters */
  cmdline: string;
  /** real uid as the host sees it */
  uid: number;
  /** namespace type -> inode, as readlink /proc/PID/ns/<type> shows `type:[inode]` */
  ns: Partial<Record<Namespace, number>>;
  containerId: string | null;
  /** init = the container's PID 1; monitor = its monitor (host side); member = any other process of the container */
  role: 'init' | 'monitor' | 'member' | 'host';
  /** the state letter of /proc/PID/status: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, I idle */
  state: string;
}

export interface NamespaceNode {
  type: Namespace;
  inode: number;
  /** container ids and/or 'host' whose processes are in it; two or more = shared */
  owners: NsOwner[];
  /** host pids of the processes in it (sorted) */
  pids: number[];
  /** a learner's view: how many processes of others (the host's, other learners') are in it, not listed */
  otherPids?: number;
  /** the namespace of host PID 1 */
  isHost: boolean;
  /** user namespaces: the maps read from /proc/PID/uid_map and gid_map of a member */
  uidMap?: IdMapLine[];
  gidMap?: IdMapLine[];
  /** pid namespaces: nesting level (host = 0) and the parent namespace's inode */
  level?: number;
  parent?: number | null;
}

export interface PidNsLevel {
  inode: number;
  level: number;
  owners: NsOwner[];
  /** each process of this namespace with the pid it has here (the pid it sees for itself) */
  processes: { pid: number; localPid: number; comm: string; containerId: string | null }[];
  children: PidNsLevel[];
}

export interface NamespaceContainer {
  id: string;
  name: string;
  status: string;
  initPid: number;
  monitorPid: number;
  /** pids.current, pids.max (null = max) and the forks pids.max refused so far, from the cgroup sampler */
  pids?: { current: number; limit: number | null; refused: number };
}

export interface NamespaceSnapshot {
  kind: 'namespaces';
  /** ms since epoch */
  time: number;
  /** inodes of host PID 1's namespaces */
  host: Partial<Record<Namespace, number>>;
  types: Record<Namespace, NamespaceNode[]>;
  /** root: the host's pid namespace */
  pidTree: PidNsLevel | null;
  processes: NsProcess[];
  containers: NamespaceContainer[];
  /** host processes left out to keep the picture small (kernel threads, and more when capped) */
  omitted: { kernelThreads: number; hostProcesses: number };
  /** how long the /proc scan took, in ms */
  scanMs: number;
}

// ---------------------------------------------------------------- layers

export interface LayerInfo {
  /** 0 = bottom */
  index: number;
  /** "sha256:…" of the uncompressed layer */
  diffId: string;
  dir: string;
  size: number;
  createdBy: string;
  created?: string;
}

export interface LayerChangeView extends LayerChange {
  /** bytes this change put in the upper dir: whole file for a copy-up (size), 0 for a whiteout */
  copiedBytes: number;
  /** modified = a copy-up of a lower file */
  copyUp: boolean;
}

export interface LayerSnapshot {
  kind: 'layers';
  time: number;
  state: 'ok' | 'not-found' | 'unavailable';
  message?: string;
  containerId: string | null;
  containerName?: string;
  image?: { ref: string; id: string };
  /** bottom first */
  layers: LayerInfo[];
  upper: { dir: string; changes: LayerChangeView[]; bytes: number } | null;
  merged: { dir: string; status: string } | null;
  totals: { added: number; modified: number; deleted: number; opaque: number; copiedUpBytes: number; addedBytes: number };
  /** the changes list was capped at this many entries (largest first) */
  truncated?: number;
  /**
   * Mounts on top of the union, outside it: what the container writes there is in no layer
   * (volumes by name, bind mounts by host path, tmpfs in memory). The diagram draws them above the stack.
   */
  volumes?: { type: 'volume' | 'bind' | 'tmpfs'; name?: string; source?: string; target: string; readOnly: boolean }[];
}

export interface WhichLayerHit {
  /** 'upper' or the layer index (0 = bottom) */
  layer: 'upper' | number;
  dir: string;
  type: 'file' | 'dir' | 'symlink' | 'whiteout' | 'opaque-dir' | 'other';
  size: number;
}

export interface WhichLayerResult {
  path: string;
  /** the layer the merged view shows the path from, or null when it is absent (deleted or never existed) */
  visible: WhichLayerHit | null;
  /** every layer holding an entry for the path, top first: the first one wins, the rest are hidden */
  hits: WhichLayerHit[];
  /** the entries the visible one (or a whiteout) hides */
  hides: WhichLayerHit[];
  explanation: string;
}

// ---------------------------------------------------------------- cgroups

export type CgroupEventKind = 'oom' | 'oom-kill' | 'limit-changed' | 'throttling' | 'fork-refused' | 'memory-max' | 'start' | 'die';

export interface CgroupEvent {
  time: number;
  kind: CgroupEventKind;
  containerId: string;
  detail: string;
}

/** One sample, small on purpose (300 of them per container go over the wire). */
export interface CgroupSample {
  time: number;
  memory: number;
  memoryLimit: number | null;
  /** memory.stat breakdown: anon, file, kernel, shmem, sock (bytes) */
  stat: Record<string, number>;
  /** CPUs used since the previous sample (1.0 = one full core) */
  cpu: number;
  cpuLimit: number | null;
  /** periods throttled since the previous sample */
  throttled: number;
  pids: number;
  pidsLimit: number | null;
  /** bytes per second since the previous sample */
  readBps: number;
  writeBps: number;
}

export interface CgroupSeries {
  containerId: string;
  name: string;
  status: string;
  samples: CgroupSample[];
  events: CgroupEvent[];
  /** the latest raw stats */
  latest: CgroupStats | null;
  /** the level between the parent and the container: 'learners/<lid>' for a learner's, '' for the teacher's */
  group?: string;
}

/**
 * A learner's group, learners/<lid>/: the cgroup whose limits (the learner's quota) hold all of
 * their containers together. The diagram draws it as the level it is, above its containers.
 */
export interface CgroupGroup {
  /** 'learners/<lid>' */
  group: string;
  learnerId: string;
  /** the group's counters: all its containers together (null until the first read) */
  memory: number;
  memoryLimit: number | null;
  /** CPUs used since the previous read (1.0 = one core) */
  cpu: number;
  cpuLimit: number | null;
  pids: number;
  pidsLimit: number | null;
  oomKills: number;
  forksRefused: number;
  /** ids of its containers in this snapshot */
  containers: string[];
}

export interface CgroupSnapshot {
  kind: 'cgroups';
  time: number;
  /** sampling interval and window, ms */
  intervalMs: number;
  windowMs: number;
  containers: CgroupSeries[];
  /** the engine's cgroup parent directory name (glassbox, or a test prefix's glassbox-t7) */
  parent?: string;
  /** the learners' groups that hold containers of this snapshot */
  groups?: CgroupGroup[];
}

// ---------------------------------------------------------------- network

export interface NetCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  /** bytes per second since the previous reading */
  rxBps: number;
  txBps: number;
}

export interface NetInterface {
  name: string;
  kind: string;
  state: string;
  mac?: string;
  addresses: string[];
  master?: string;
  counters?: NetCounters;
}

export interface NetBridge {
  name: string;
  addresses: string[];
  subnet?: string;
  gateway?: string;
  state: string;
  counters?: NetCounters;
}

export interface NetEndpoint {
  containerId: string;
  name: string;
  mode: string;
  /** host end of the veth pair, attached to the bridge */
  hostVeth?: string;
  /** container end, eth0 */
  containerIf?: string;
  bridge?: string;
  ip?: string;
  gateway?: string;
  mac?: string;
  routes: string[];
  ports: { hostIp?: string; hostPort: number; containerPort: number; protocol: string }[];
  /** counters as the container sees them (rx = received by the container) */
  counters?: NetCounters;
}

export interface NetworkSnapshot {
  kind: 'network';
  time: number;
  /** 'ok' when the network manager answered; 'kernel-only' when it is absent and the picture comes from the kernel alone */
  state: 'ok' | 'kernel-only' | 'unavailable';
  message?: string;
  hostInterfaces: NetInterface[];
  bridges: NetBridge[];
  /** bridge / network containers with a veth */
  endpoints: NetEndpoint[];
  /** --network none */
  isolated: { containerId: string; name: string }[];
  /** --network host: on the host's stack */
  hostStack: { containerId: string; name: string }[];
  /** containers that share another container's stack (--network container:x) */
  shared: { containerId: string; name: string; with: string }[];
  nat: string[];
  /** 'missing': the engine's firewall check found its jumps or rules gone and is re-adding them */
  isolation?: 'ok' | 'missing';
  isolationDetail?: string;
}

// ---------------------------------------------------------------- mounts

export interface MountNode {
  mountId: number;
  parentId: number;
  /** 0 = the container's / */
  depth: number;
  mountPoint: string;
  fsType: string;
  source: string;
  /** the directory of the source filesystem mounted here (a bind's source inside its filesystem) */
  root: string;
  readOnly: boolean;
  /** per-mount options (rw/ro, nosuid…) */
  options: string[];
  /** per-superblock options, overlay's directories taken out (they are in `overlay`) */
  superOptions: string[];
  propagation: { shared?: number; master?: number; propagateFrom?: number; unbindable?: boolean };
  propagationLabel: 'shared' | 'slave' | 'shared+slave' | 'private' | 'unbindable';
  /** host mount points in the same peer group (shared:N) or in the master group (master:N) */
  hostPeers: string[];
  /** overlay root: its directories, lowerdir top first */
  overlay?: { lowerdir: string[]; upperdir?: string; workdir?: string };
  /** a bind mount: the host path it shows (from the container's config, or by device and root) */
  bind?: { hostPath: string; from: 'config' | 'device' };
  /** a masked path and what masks it */
  masked?: { by: string };
  /** one of the read-only kernel paths (/proc/sys…) */
  readonlyPath?: boolean;
  children: number[];
}

export interface MountSnapshot {
  kind: 'mounts';
  time: number;
  state: 'ok' | 'not-found' | 'not-running' | 'unavailable';
  message?: string;
  containerId: string | null;
  containerName?: string;
  /** the host pid whose mountinfo was read (the container's init) */
  pid: number;
  mountNs?: number;
  hostMountNs?: number;
  /** depth first, parents before their children */
  mounts: MountNode[];
  totals: { mounts: number; masked: number; readOnly: number; shared: number; slave: number; binds: number };
}

export type AnySnapshot = NamespaceSnapshot | LayerSnapshot | CgroupSnapshot | NetworkSnapshot | MountSnapshot;
export type SnapshotOf<K extends DiagramKind> = K extends 'namespaces'
  ? NamespaceSnapshot
  : K extends 'layers'
    ? LayerSnapshot
    : K extends 'cgroups'
      ? CgroupSnapshot
      : K extends 'mounts'
        ? MountSnapshot
        : NetworkSnapshot;

/** What a diagram's limit drag asks for. */
export type LimitKind = 'memory' | 'cpus' | 'pids';
