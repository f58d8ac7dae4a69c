// runc and crun: the OCI runtimes' own CLIs, driven in the foreground under Glassbox's monitor.
//
// Why `run` under the monitor's shim rather than `create` + `--console-socket` + a subreaper: in
// the foreground `runc run --bundle B ID` is the container's whole life in one process. Its exit
// status is the container's (128+n when the init is killed by signal n), its stdio is the
// container's (so the monitor's log, attach and exit.json work unchanged), with `terminal: true`
// runc makes the container's pty itself and copies it to its stdio (a pty the monitor holds), and
// it forwards the signals it gets. No new supervision code: the monitor supervises runc as it
// supervises an init of its own.
//
// The container is the engine's: config.json is ociConfig(plan) (same mounts, masked paths,
// seccomp profile, capabilities), its cgroup is the engine's glassbox/<id> (linux.cgroupsPath),
// and its network namespace is the shim's, into which the engine wired the veth before start
// (so config.json has no network entry of its own: runc would make a fresh, empty one). State
// goes under RUNROOT/runtimes/<name> (`--root`), which no container mounts; --preserve-fds is
// left at 0, and the shim marks every descriptor above 2 close-on-exec before it execs runc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanDevice } from '../plan.js';
import { STANDARD_DEVICES } from '../spec.js';
import { bundleCgroupsPath, findBinary, lastError, missing, removeCgroupPath, removeForeignCgroups, runCli, runtimeCliEnvList, statePid, versionOf, writeProbeBundle } from './cli.js';
import type { Availability, LaunchContext, ProbeEnv, RuntimeDriver } from './types.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is this pid a live (not zombie) process? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(procStat(pid));
  } catch {
    return false;
  }
}

const procStat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8');

const ociDevice = (d: PlanDevice) => ({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.mode, uid: d.uid ?? 0, gid: d.gid ?? 0 });

/** The engine's config.json, with what an OCI runtime must see differently (shared by runc, crun, runsc). */
export function ociAdjust(config: Record<string, unknown>, ctx: LaunchContext, shimNetns: boolean): Record<string, unknown> {
  const linux = { ...(config.linux as Record<string, unknown>) };
  const namespaces = (linux.namespaces as { type: string; path?: string }[]).filter((n) => !(shimNetns && n.type === 'network' && !n.path));
  linux.namespaces = namespaces;
  // runc and crun make the standard nodes themselves; the extra ones (--device) are listed
  const extra = (ctx.plan?.devices ?? []).filter(Boolean).filter((d) => !STANDARD_DEVICES.some((s) => s.path === d.path));
  if (extra.length) {
    linux.devices = extra.map(ociDevice);
    linux.resources = { ...(linux.resources as Record<string, unknown>), devices: [{ allow: false, access: 'rwm' }, ...extra.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' }))] };
  }
  return { ...config, linux };
}

/** The shim gets a network namespace when the container has a new one of its own. */
export const shimWantsNetns = (ctx: LaunchContext) => ctx.plan?.namespaces.includes('net') ?? false;

/** A driver for an OCI runtime with runc's CLI (runc, crun). */
export function ociCliDriver(name: 'runc' | 'crun', description: string, candidates: string[]): RuntimeDriver {
  const bin = () => findBinary(candidates);
  const global = (ctx: { stateRoot: string }) => ['--root', ctx.stateRoot];
  return {
    name,
    description,
    launch: 'shim',
    async probe(env: ProbeEnv): Promise<Availability> {
      const path = bin();
      if (!path) return missing(name, candidates);
      const version = await versionOf(path);
      const { bundle, id, cgroup } = writeProbeBundle(env, name);
      const r = await runCli(path, [...global(env), 'run', '--bundle', bundle, id]);
      await runCli(path, [...global(env), 'delete', '--force', id], 10_000);
      removeCgroupPath(cgroup);
      removeForeignCgroups(cgroup);
      if (r.code === 0) return { available: true, path, version, error: null };
      return { available: false, path, version, error: `${name} cannot run a container on this host: ${lastError(r.stderr) || `exit ${r.code}`}` };
    },
    adjustConfig: (config, ctx) => ociAdjust(config, ctx, shimWantsNetns(ctx)),
    shimCommand: (ctx) => ({
      // --log: runc's warnings (its cgroup removal meeting the monitor's busy monitor/ cgroup) go
      // to a file in the run dir, not into the container's stderr; its fatal errors still do
      argv: [bin(), ...global(ctx), '--log', join(ctx.runDir, `${name}.log`), 'run', '--bundle', ctx.bundle, ctx.id],
      env: runtimeCliEnvList(),
      cwd: ctx.bundle,
      netns: shimWantsNetns(ctx),
      joinCgroup: false, // runc puts the init into linux.cgroupsPath itself
    }),
    async initPid(ctx, shimPid) {
      // runc runs create then start: the init exists once state says so (or the container is done)
      for (let i = 0; i < 2000; i++) {
        const s = await statePid(bin(), global(ctx), ctx.id);
        if (s.pid > 0 && (s.status === 'running' || s.status === 'created')) return s.pid;
        if (!alive(shimPid)) break;
        await delay(i < 20 ? 2 : 10);
      }
      // gone already: runc itself stood for the container (it forwards signals while it runs)
      return shimPid;
    },
    exec: { mode: 'setns' },
    async signal(ctx, signal) {
      const r = await runCli(bin(), [...global(ctx), 'kill', ctx.id, String(signal)], 10_000);
      if (r.code !== 0 && !/not running|does not exist|container not running|no such/i.test(r.stderr)) {
        throw new Error(`${name} kill: ${lastError(r.stderr)}`);
      }
    },
    async cleanup(ctx) {
      const path = bin();
      if (path) await runCli(path, [...global(ctx), 'delete', '--force', ctx.id], 10_000);
      removeForeignCgroups(bundleCgroupsPath(ctx.bundle));
    },
  };
}

export const runcDriver = ociCliDriver('runc', 'runc (Debian), the OCI reference runtime, through its CLI under the Glassbox monitor', ['/usr/sbin/runc', '/usr/bin/runc']);
export const crunDriver = ociCliDriver('crun', 'crun (Debian), the OCI runtime in C, through its CLI under the Glassbox monitor', ['/usr/bin/crun', '/usr/sbin/crun']);
