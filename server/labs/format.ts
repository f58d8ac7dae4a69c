// The lab format: what a teacher writes. A lab is a folder under labs/ (labs/<id>/):
//
//   labs/<id>/lab.ts         export default defineLab({...}): containers, steps, checks (this file's types)
//   labs/<id>/steps/<s>.md   one Markdown file per step (see docs/labs.md): the text, ```run blocks that
//                            become Run buttons, a "## Hints" section and a "## What just happened" section
//
// A check is a predicate over kernel state as the engine's inspectors read it (namespaces and the pid
// tree, cgroup stats and events, the container layer's changes, links, mounts), never a parse of what
// a terminal printed: the learner may do the step from the terminal, the form or the docker CLI.
import type { CgroupSeries, ContainerConfig, ContainerRecord, LayerSnapshot, NamespaceSnapshot, NetworkSnapshot, MountEntry, NsProcess } from '../engine/index.js';

/** A diagram tab a step can show. 'mounts' and 'image' are the container page's mount and image views. */
export type LabDiagram = 'namespaces' | 'layers' | 'network' | 'cgroups' | 'mounts' | 'image' | 'timeline';

/** One container a lab makes when it starts (named `lab-<session>-<role>`) and removes when left. */
export interface LabContainer {
  /** how steps and checks name it: [a-z][a-z0-9-]* */
  role: string;
  /** what the engine is asked to create (the name is the lab's); started at once unless start: false */
  config: Omit<ContainerConfig, 'name'>;
  start?: boolean;
  /** a terminal tab is opened into it (default true for tty containers) */
  terminal?: boolean;
}

/** One mount of a container, as /proc/PID/mountinfo tells it. */
export type LabMount = MountEntry;

/** One System V IPC object as /proc/sysvipc lists it (key 0 = IPC_PRIVATE). */
export interface LabIpcObject {
  key: number;
  id: number;
  /** permission bits, as the octal number ipcs shows (644) */
  perms: number;
  /** the creator's uid as the namespace's owner sees it */
  cuid: number;
}

export interface LabIpcObjects {
  shm: LabIpcObject[];
  msg: LabIpcObject[];
  sem: LabIpcObject[];
}

/** What a check gets: read-only views of the session's containers, through the engine's inspectors. */
export interface LabKernel {
  /** the session's container for a role, freshly read (status, pid, state.oomKilled, config…) */
  container(role: string): ContainerRecord;
  /** the namespace snapshot (every container and the host); processes carry their state letter */
  namespaces(): Promise<NamespaceSnapshot>;
  /** the processes of a role's container (its init, members; not its monitor), from namespaces() */
  processes(role: string): Promise<NsProcess[]>;
  /** the cgroup series of a role's container: samples, events (oom-kill, throttling, fork-refused…), latest stats */
  cgroups(role: string): Promise<CgroupSeries | null>;
  /** the container layer: image layers, upper-dir changes (copy-ups, whiteouts, opaque dirs) */
  layers(role: string): Promise<LayerSnapshot>;
  /** bridges, veths, endpoints, NAT and ports */
  network(): Promise<NetworkSnapshot>;
  /** the mount tree of the role's container init, from /proc/PID/mountinfo */
  mounts(role: string): Promise<LabMount[]>;
  /**
   * The System V IPC objects of the role's IPC namespace (/proc/sysvipc/{shm,msg,sem}, read by the
   * server from inside that namespace: the kernel shows each reader its own namespace's objects)
   */
  ipc(role: string): Promise<LabIpcObjects>;
  /** the hostname and NIS domain name the role's UTS namespace holds now (what `hostname` set) */
  uts(role: string): Promise<{ hostname: string; domainname: string }>;
  /** the OCI runtime config.json the engine wrote for the role's container (engine.ociConfig) */
  ociConfig?(role: string): Record<string, unknown>;
  /** the host, read by the server (never a shell): what a host-side question answers */
  host: {
    /** the host's own /proc/self/mountinfo rows */
    mounts(): Promise<LabMount[]>;
    /** stat of a host path (a file the container wrote through a bind mount): null when absent */
    stat(path: string): Promise<{ uid: number; gid: number; size: number; mode: number; /** modification time, ms since epoch (CLOCK_REALTIME) */ mtimeMs?: number } | null>;
    /**
     * The text of a host file, first 64 KiB, null when absent: the kernel's own answer for one
     * process (/proc/PID/status CapEff and Seccomp, /proc/PID/timens_offsets, /proc/PID/cgroup,
     * /proc/PID/mountinfo of a process other than init).
     */
    read?(path: string): Promise<string | null>;
  };
  /** the session's own scratch directory on the host (for bind mounts the lab makes) */
  readonly scratchDir: string;
  /**
   * Memory kept between evaluations of this session's checks (e.g. the pid seen in an earlier step).
   * Plain JSON values; it is lost when the session ends.
   */
  memo: Record<string, unknown>;
}

export type CheckOutcome = boolean | { passed: boolean; /** shown under the check: what was seen */ detail?: string };

/** A check is evaluated about twice a second while someone watches the session; once green it stays green. */
export type LabCheck = (k: LabKernel) => CheckOutcome | Promise<CheckOutcome>;

export interface LabStep {
  /** [a-z0-9-]+, unique in the lab; steps/<id>.md holds its text */
  id: string;
  title: string;
  /** the diagram tab to show while on this step, and the node to highlight (a container role, a pid, a path…) */
  diagram?: LabDiagram;
  highlight?: string;
  /** the role whose terminal the step's Run buttons type into (default: the lab's first terminal) */
  terminal?: string;
  /** what the check asserts, in one line ("the container's PID 1 has exited with 137") */
  checkLabel: string;
  check: LabCheck;
}

export interface LabDefinition {
  /** the folder name: [a-z0-9-]+ */
  id: string;
  title: string;
  /** one or two sentences for the list */
  summary: string;
  /** the seed's part it teaches, for the list's order (1 = "it's just a process") */
  order: number;
  /** the images it needs (the built-in `base` is always there; others are made or loaded locally) */
  images?: string[];
  containers: LabContainer[];
  steps: LabStep[];
  /** where the seed is wrong or loose and what the lab shows instead (one line each) */
  corrections?: string[];
  /**
   * A lab that a learner's sandbox cannot run for a reason the runner does not see in its
   * containers' configs (those it finds itself, learner-labs.ts): the one line learners are told.
   */
  learners?: { available: false; reason: string };
}

/** Identity function that gives a lab file its types. */
export function defineLab(lab: LabDefinition): LabDefinition {
  return lab;
}

// The labs' shared check helpers (probe processes, /proc/PID/status fields, CapEff names…).
export * from './check-kit.js';
