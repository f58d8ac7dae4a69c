// The runtime comparison's vocabulary: what is asked (an image, a command, 2–5 runtimes) and what
// comes back per runtime. Plain data: the REST adapter sends it as it is, the page draws it.
import type { TimelineStep } from '../types.js';

export interface RuntimeCompareRequest {
  /** a local image (reference or id): nothing is pulled */
  image: string;
  /** argv of the command run under each runtime (no shell is added) */
  cmd: string[];
  /** 2–5 distinct names the engine lists (an unavailable one is run and shows its own error) */
  runtimes: string[];
  /** rounds of one run per runtime, interleaved (1–5, default 1) */
  rounds?: number;
}

/** A runtime the engine lists, and whether this host can run it (its own error if not). */
export interface RuntimeAvailability {
  name: string;
  description: string;
  available: boolean;
  /** why it cannot run here, in the runtime's (or the engine's) own words */
  error?: string;
}

/** One run of the command: create → running → exit, as measured by the engine. */
export interface CommandRun {
  round: number;
  /** create called → the command exec'd (start resolved), ms; null when it did not start */
  startMs: number | null;
  /** create called → the command exited (wait resolved), ms */
  exitMs: number | null;
  exitCode: number | null;
  /** the engine's own error when the run failed (an unavailable runtime's reason) */
  error?: string;
  /** the first lines the command printed (stdout and stderr in order) */
  output: string;
  /** the container record's creation timeline, kept after the container is removed */
  timeline: TimelineStep[];
}

/** A host process counted for the memory figure. */
export interface HostProcess {
  pid: number;
  comm: string;
  /** its PSS (proportional: a shared page counted in part), kB */
  kb: number;
  /** what it is to the container: the monitor, a process of its cgroup, or one of the monitor's tree */
  via: 'monitor' | 'cgroup' | 'tree';
}

/** Memory, sampled while the probe's processes sit idle. */
export interface MemoryFigure {
  /** Σ PSS of every host process of the container (cgroup ∪ monitor and its descendants), kB */
  hostKb: number;
  /** Σ PSS (VmRSS where the kernel inside has no smaps_rollup) of the processes inside, as the kernel they run under counts them, kB */
  guestKb: number;
  /** what the inside sum was made of: 'Pss', 'VmRSS', or 'Pss+VmRSS' */
  guestMeasure: string;
  /** hostKb − guestKb: what the runtime itself costs (monitor, sandbox, guest kernel) */
  overheadKb: number;
  processes: HostProcess[];
}

/** What the processes see inside: the probe container's answers. */
export interface InsideView {
  /** uname -r */
  kernel: string;
  /** ps output, first lines */
  ps: string[];
  /** dmesg, first lines (or its error: reading the log needs CAP_SYSLOG on a shared kernel) */
  dmesg: string[];
  /** CapEff of the probe's shell, hex as /proc/self/status prints it */
  capEff: string;
  /** the mask decoded */
  capabilities: string[];
}

export interface ProbeRun {
  round: number;
  error?: string;
  inside: InsideView | null;
  memory: MemoryFigure | null;
  timeline: TimelineStep[];
}

export interface RuntimeResult {
  runtime: string;
  available: boolean;
  description: string;
  /** the runtime's error when it could not run at all (then runs hold the failed attempt) */
  error?: string;
  runs: CommandRun[];
  probes: ProbeRun[];
  /** medians over the rounds that ran (null when none did) */
  startMs: number | null;
  exitMs: number | null;
  overheadKb: number | null;
  /** the last probe's view (the same each round) */
  inside: InsideView | null;
}

export interface RuntimeComparison {
  id: string;
  /** ISO-8601 */
  created: string;
  image: string;
  imageId: string;
  cmd: string[];
  rounds: number;
  /** the host's own kernel, for beside each runtime's uname -r */
  hostKernel: string;
  /** in the order asked */
  results: RuntimeResult[];
  /** how long the whole comparison took, ms */
  totalMs: number;
}
