// One interface over cgroup v1 and v2. The engine talks to a CgroupDriver and never to the files;
// the files are the point of the lesson, so every write is reported back as a CgroupWrite.
import type { ResourceLimits } from '../types.js';

export type CgroupLayout = 'v1' | 'hybrid' | 'v2';

/** One file write the driver made: the creation timeline and the "limit changed" events show these. */
export interface CgroupWrite {
  file: string;
  wrote: string;
  ms: number;
}

/** What the container list shows of each running container, every second (see CgroupDriver.usage). */
export interface CgroupUsage {
  /** ms since epoch when read */
  time: number;
  memory: number;
  cpuUsageNs: number;
  pids: number;
}

/** The counters behind the timeline's events (see CgroupDriver.eventCounts). */
export interface CgroupEventCounts {
  /** processes the OOM killer killed in the cgroup */
  oomKill: number;
  /** forks refused at pids.max */
  forksRefused: number;
}

export interface CgroupStats {
  /** ms since epoch when read */
  time: number;
  memory: {
    current: number;
    /** null = unlimited */
    limit: number | null;
    swapLimit: number | null;
    peak: number | null;
    /** the memory.stat breakdown in bytes: anon, file, kernel, sock, shmem ... (v1 names mapped: rss -> anon, cache -> file) */
    stat: Record<string, number>;
    /** OOM events: how many times the limit was hit, how many processes the OOM killer killed */
    events: { max: number; oom: number; oomKill: number };
  };
  cpu: {
    /** total CPU time in nanoseconds */
    usageNs: number;
    userNs: number;
    systemNs: number;
    nrPeriods: number;
    nrThrottled: number;
    throttledNs: number;
    /** quota as a fraction of CPUs, null = none */
    cpus: number | null;
    /** the weight in v2 units (1..10000) and shares in v1 units */
    weight: number;
    shares: number;
  };
  pids: { current: number; limit: number | null; /** forks refused by pids.max (v2 pids.events max; v1 pids.events max) */ refused: number };
  io: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
  frozen: boolean;
}

export interface CreateCgroupOptions {
  /** the level between the parent and the container: 'learners/<lid>' (groups.ts); none by default */
  group?: string;
}

export interface CgroupDriver {
  readonly layout: CgroupLayout;
  /** "cgroupfs", as docker info reports the cgroup driver */
  readonly name: string;
  /** 1 or 2, as docker info reports CgroupVersion */
  readonly version: 1 | 2;

  /**
   * Make the container's cgroup (glassbox/<id>, or glassbox/<group>/<id> with a group, say
   * learners/<lid>) and write its limits. Throws InvalidArgument for a limit out of range, after
   * removing what it made. Every other verb finds the container's group by itself (groups.ts).
   */
  create(id: string, limits: ResourceLimits, opts?: CreateCgroupOptions): Promise<CgroupWrite[]>;
  /** The cgroup.procs files a process must be written into to join the container's cgroup (one per v1 hierarchy). */
  procsFiles(id: string): string[];
  /**
   * The cgroup.procs files the container's monitor joins: glassbox/<id>/monitor, made by create().
   * The monitor's CPU and memory count against the container's limits, so a log flood cannot
   * take more than the container has; it stays out of the container's pids and freezer cgroups (v1).
   */
  monitorProcsFiles(id: string): string[];
  /** Hierarchy name -> directory, for inspect and the diagrams. */
  paths(id: string): Record<string, string>;
  /** Change limits of an existing cgroup (live). Only the given fields change. */
  update(id: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]>;
  stats(id: string): Promise<CgroupStats>;
  /**
   * Memory, CPU time and pids only, from files kept open (three preads): what the list needs every
   * second for every running container, where stats() opens about twenty files. Null when gone.
   */
  usage(id: string): CgroupUsage | null;
  /** OOM kills and refused forks, read the same cheap way (the event check of idle containers). Null when gone. */
  eventCounts(id: string): CgroupEventCounts | null;
  /** pids currently in the cgroup (all hierarchies merged) */
  pids(id: string): Promise<number[]>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  /** SIGKILL every process in the cgroup (freeze first so none can fork away), wait until empty. */
  killAll(id: string): Promise<void>;
  /** Remove the cgroup directories (after killAll). Missing directories are not an error. */
  remove(id: string): Promise<void>;
  /** ids of every container cgroup that exists (glassbox/<id> and glassbox/learners/<lid>/<id>), for the sweep at start */
  list(): Promise<string[]>;
  /** The container's group ('' when directly under the parent): where create() put it. */
  groupOf(id: string): string;

  // ---- groups: learners/<lid>, the level whose limits hold all of a learner's containers together
  /** Make the group's directories (every hierarchy; v2: controllers handed down). [] when it exists already. */
  createGroup(group: string): Promise<CgroupWrite[]>;
  /** Write limits on the group (memory, memorySwap, cpus, pids). Validated first: nothing is written on a bad value. */
  updateGroup(group: string, limits: Partial<ResourceLimits>): Promise<CgroupWrite[]>;
  /** The group's counters (hierarchical: all its containers together), or null when it does not exist. */
  groupStats(group: string): Promise<CgroupStats | null>;
  /** Hierarchy name -> the group's directory. */
  groupPaths(group: string): Record<string, string>;
  /** rmdir the group; Conflict while a container cgroup is still in it. Missing is fine. */
  removeGroup(group: string): Promise<void>;
  /** The groups that exist. */
  groups(): Promise<string[]>;
  /** Make sure the counters for OOM can be read: returns true when the kernel killed a process of this cgroup for OOM. */
  oomKilled(id: string): Promise<boolean>;
  /** Whether the kernel accounts swap, so that a memory+swap limit can be set (docker info's SwapLimit). */
  swapSupported(): boolean;
}
