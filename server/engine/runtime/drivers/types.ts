// The runtime driver interface: what the engine needs from a runtime (Glassbox's own helper,
// runc, crun, gVisor's runsc, User-mode Linux) to start, enter, signal and clean up a container.
//
// Every driver runs under Glassbox's monitor (gb-helper, native/src/monitor.c), so logs, the
// terminal, exit.json, attach and the timeline work the same for all of them:
//   - 'helper' (builtin): the monitor clones the container's init itself (today's path);
//   - 'shim' (runc, crun, runsc, uml): the monitor clones a "shim" child that makes no namespace
//     of its own (except, when `netns`, the network one the engine wires the veth into before
//     start), waits at the create barrier, then execs the driver's command in the foreground
//     (e.g. `runc run --bundle B ID`): the command's exit code is the container's, its stdio is
//     the container's output, with `terminal` a pty the command proxies itself.
// The engine calls, in order: probe() (at create: an unavailable runtime is refused with its own
// error) → [start] shimCommand() → (monitor: created; network wired; released) → initPid() →
// [exec] exec → [kill/stop] signal() → [monitor gone, rm] cleanup(). See
// /work/runtime-driver-interface.md (and docs/runtimes.md) for the walk-through.
import type { RuntimePlan } from '../plan.js';

export type DriverName = 'builtin' | 'runc' | 'crun' | 'runsc' | 'uml';

/** What probe() found: docker info and the form list every driver with this. */
export interface Availability {
  available: boolean;
  /** the binary run on the host ('' when none was found) */
  path: string;
  /** its version line ('' when unknown) */
  version: string;
  /** why it is unavailable, in the runtime's own words where it gave any (null when available) */
  error: string | null;
}

/** Where a probe may work: removed by the registry afterwards. */
export interface ProbeEnv {
  /** an empty scratch directory of its own (launch 'shim' drivers; '' for builtin) */
  scratch: string;
  /** this driver's state dir (as LaunchContext.stateRoot) */
  stateRoot: string;
  /** the engine's cgroup parent (glassbox, or a test's prefix): a probe's cgroup goes under it */
  cgroupParent: string;
}

/** One container, as the driver sees it. All paths are the engine's, on the host. */
export interface LaunchContext {
  /** the container's full id (also the runtime's container id) */
  id: string;
  /** the OCI bundle: config.json + rootfs (the mounted overlay) */
  bundle: string;
  /** the container's run dir (helper spec, exit.json, monitor.sock): removed when it exits */
  runDir: string;
  /** this driver's own state dir (runc --root): RUNROOT/runtimes/<name>, mode 0700, never mounted into a container */
  stateRoot: string;
  /**
   * everything the engine decided for this start; config.json was written from it (ociConfig +
   * driver.adjustConfig). Set in adjustConfig, shimCommand and initPid; null in exec, signal and
   * cleanup (which may run after an engine restart): read `${bundle}/config.json` there.
   */
  plan: RuntimePlan | null;
}

/** What the shim child execs once released from the create barrier (launch 'shim'). */
export interface ShimCommand {
  /** argv[0] an absolute host path; run as root with the host's capabilities, no seccomp */
  argv: string[];
  /** the whole environment of the command */
  env: string[];
  /** working directory (usually the bundle) */
  cwd: string;
  /**
   * true: the shim gets a new network namespace; the engine wires the container's veth into it
   * (by the shim's pid) before start, and the runtime must use it (runc: config.json without a
   * network namespace entry; runsc: its netstack takes the veth over). false: host's netns is
   * never given; the driver must then run with no network of its own (e.g. uml's own stack).
   */
  netns: boolean;
  /** true: the shim joins the container's cgroup before exec (a runtime that does not place itself: uml) */
  joinCgroup: boolean;
}

/** How `docker exec` works with this runtime. */
export type ExecSupport =
  /** the engine's `gb-helper exec` setns()es into initPid's namespaces (runc, crun, builtin) */
  | { mode: 'setns' }
  /** the runtime's own CLI does it (runsc exec): argv run on the host under gb-helper's exec shim */
  | { mode: 'cli'; argv(ctx: LaunchContext, p: ExecRequest): string[] }
  /** no exec: the message docker exec gets (uml: no second process into a guest kernel) */
  | { mode: 'none'; refusal: string };

export interface ExecRequest {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number };
  tty: boolean;
}

/** Operations the engine refuses for this runtime, each with the message the client gets. */
export type Refusable = 'pause' | 'top' | 'checkpoint' | 'sysctls' | 'userns' | 'joinNamespaces';

export interface RuntimeDriver {
  readonly name: DriverName;
  /** one line for docker info and the form */
  readonly description: string;
  readonly launch: 'helper' | 'shim';
  /**
   * Is it usable on this host? Called once per engine (the registry caches it). A runtime that
   * starts but refuses this host (crun on hybrid cgroups) must be found out here, by trying: the
   * OCI drivers run `true` from a scratch bundle. Must leave nothing behind.
   */
  probe(env: ProbeEnv): Promise<Availability>;
  /** the OCI config.json for this runtime, from the engine's own (same mounts, masks, seccomp, caps) */
  adjustConfig?(config: Record<string, unknown>, ctx: LaunchContext): Record<string, unknown>;
  /** launch 'shim': the command the shim execs (after the create barrier) */
  shimCommand?(ctx: LaunchContext): ShimCommand;
  /**
   * After start: the pid the kernel sees as the container's init (exec setns, top, kill use it).
   * builtin: the cloned init (shimPid itself). runc: `runc state`'s pid. runsc: the sandbox's.
   */
  initPid(ctx: LaunchContext, shimPid: number): Promise<number>;
  readonly exec: ExecSupport;
  /** deliver a signal to the container's process (default when absent: kill(2) on initPid) */
  signal?(ctx: LaunchContext, signal: number): Promise<void>;
  /** after the container ended (or a failed start): remove the runtime's state for it; never throws */
  cleanup(ctx: LaunchContext): Promise<void>;
  /** what this runtime cannot do here, with the refusal message */
  readonly refuses?: Partial<Record<Refusable, string>>;
}
