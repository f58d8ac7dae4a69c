// Shared set-up for the engine's integration tests: a throw-away state root, an engine on it, and
// a check that nothing was left behind on the host.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../server/engine/engine.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import type { ContainerConfig } from '../../server/engine/types.js';

export interface TestEnv {
  engine: Engine;
  root: string;
  runRoot: string;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function openTestEngine(opts: { network?: boolean } = {}): Promise<TestEnv> {
  // Short paths: the monitor socket lives under runRoot and unix socket paths are limited.
  const base = mkdtempSync('/tmp/gbt-');
  // containers with a user namespace run as uid 100000 on the host: they must walk to their rootfs
  chmodSync(base, 0o711);
  const root = join(base, 'root');
  const runRoot = join(base, `r${counter++}`);
  const env: TestEnv = {
    engine: await Engine.open({ root, runRoot, network: opts.network ?? false }),
    root,
    runRoot,
    // env.engine, not the first one: a test may close it and open another on the same root
    cleanup: async () => {
      const engine = env.engine;
      for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
      // a pooled volume is a loop-mounted filesystem under root: removing it unmounts it
      for (const v of engine.listVolumes()) {
        try {
          engine.removeVolume(v.name, { force: true });
        } catch {
          /* reported by the test that made it */
        }
      }
      // learners' quota groups outlive their containers (the next start's sweep takes empty ones)
      for (const g of await engine.cgroups.groups()) await engine.cgroups.removeGroup(g).catch(() => {});
      await engine.close();
      // the bridge, chains and ip_forward are left up for running containers: none are left
      await engine.network?.teardown({ removeState: false });
      rmSync(base, { recursive: true, force: true });
    },
  };
  return env;
}

/** Run to completion; returns the exit code and everything the container printed. */
export async function runToExit(engine: Engine, config: ContainerConfig): Promise<{ id: string; exitCode: number; stdout: string; stderr: string; oomKilled: boolean }> {
  const rec = await engine.run(config);
  const result = await engine.wait(rec.id);
  let stdout = '';
  let stderr = '';
  for await (const e of engine.logs(rec.id)) {
    if (e.stream === 'stdout') stdout += e.log;
    else stderr += e.log;
  }
  return { id: rec.id, exitCode: result.exitCode, stdout, stderr, oomKilled: result.oomKilled };
}

/** One exec session to its end; its exit code and what it printed on each stream. */
export async function execToExit(engine: Engine, id: string, cmd: string[], tty = false): Promise<{ code: number; out: string; err: string }> {
  const proc = await engine.exec(id, { cmd, tty });
  let out = '';
  let err = '';
  proc.onData((d) => (out += d.toString()));
  proc.onStderr((d) => (err += d.toString()));
  const code = await new Promise<number>((r) => proc.onExit((c) => r(c)));
  return { code, out, err };
}

/** Every host object a container could leave behind, for "nothing is left" checks. */
export function hostLeftovers(root: string): { mounts: string[]; cgroups: string[]; processes: number } {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(root));
  const cgroups: string[] = [];
  const parent = hostNames(prefixFromEnv()).cgroupParent;
  for (const base of ['memory', 'pids', 'cpu', ''].map((h) => join('/sys/fs/cgroup', h, parent))) {
    if (existsSync(base)) for (const d of readdirSync(base, { withFileTypes: true })) if (d.isDirectory()) cgroups.push(join(base, d.name));
  }
  let processes = 0;
  try {
    processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('gb-helper') && l.includes(root.split('/')[2] ?? '#')).length;
  } catch {
    processes = 0;
  }
  return { mounts, cgroups, processes };
}

export function hostNsInode(ns: string): string {
  return execFileSync('readlink', [`/proc/self/ns/${ns}`], { encoding: 'utf8' }).trim();
}
