// What the OCI CLI drivers (runc, crun, runsc) share: running the binary with a timeout, the
// probe bundle (busybox's `true` in a scratch rootfs), `state`, and removing a probe's cgroup.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Availability, ProbeEnv } from './types.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a runtime's CLI runs with: a fixed PATH, and the server's own settings that
 * steer how Go and glibc programs pick CPU features (GODEBUG=cpu.*, GLIBC_TUNABLES) when it has
 * them: a server in a User-mode Linux guest on an AMX host (scripts/uml/boot.ts) needs them for
 * runc and runsc, Go programs, to run at all. Nothing else of the server's environment.
 */
export function runtimeCliEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const k of ['GODEBUG', 'GLIBC_TUNABLES']) if (process.env[k]) env[k] = process.env[k]!;
  return env;
}

/** runtimeCliEnv() as NAME=value strings (a shim command's env) */
export const runtimeCliEnvList = (): string[] => Object.entries(runtimeCliEnv()).map(([k, v]) => `${k}=${v}`);

/** Run a runtime's CLI on the host; no descriptor of ours reaches it (execFile: stdio pipes only). */
export function runCli(bin: string, args: string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, env: runtimeCliEnv() as unknown as NodeJS.ProcessEnv, encoding: 'utf8', maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The first existing path of a binary, or '' */
export function findBinary(candidates: string[]): string {
  return candidates.find((p) => existsSync(p)) ?? '';
}

/** The runtime's last meaningful stderr line (its own words), without runc's logrus prefix. */
export function lastError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  return (m ? m[1].replace(/\\"/g, '"') : last).slice(0, 500);
}

/**
 * A bundle that runs `true` (a copy of the host's static busybox, in a scratch rootfs that only the
 * probe uses) in its own namespaces, with a cgroup under the engine's parent: enough for a runtime
 * to show whether it can run a container here (crun refuses hybrid cgroups only at create).
 */
export function writeProbeBundle(env: ProbeEnv, name: string): { bundle: string; id: string; cgroup: string } {
  const bundle = join(env.scratch, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin', 'true'));
  const id = `gbprobe-${name}-${process.pid}`;
  const cgroup = `/${env.cgroupParent}/${id}`;
  writeFileSync(
    join(bundle, 'config.json'),
    JSON.stringify({
      ociVersion: '1.0.2',
      process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true },
      root: { path: 'rootfs', readonly: true },
      hostname: 'probe',
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
      linux: {
        namespaces: ['pid', 'mount', 'ipc', 'uts', 'network'].map((type) => ({ type })),
        cgroupsPath: cgroup,
        maskedPaths: [],
        readonlyPaths: [],
      },
    }),
  );
  return { bundle, id, cgroup };
}

/** Remove a cgroup path (as in config.json) from every hierarchy, children first; best effort. */
export function removeCgroupPath(cgroupsPath: string): void {
  const root = '/sys/fs/cgroup';
  const dirs = [join(root, cgroupsPath)];
  try {
    for (const h of readdirSync(root)) dirs.push(join(root, h, cgroupsPath));
  } catch {
    /* no cgroup fs */
  }
  const rm = (d: string): void => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
      rmdirSync(d);
    } catch {
      /* gone or busy */
    }
  };
  for (const d of dirs) if (existsSync(d)) rm(d);
}

/**
 * The hierarchies a runtime writes to that the engine does not manage: on a hybrid host runc
 * also makes linux.cgroupsPath in name=systemd and in the unified (v2) tree. What it leaves
 * there (the parent directories) goes when the container does.
 */
const FOREIGN_HIERARCHIES = ['systemd', 'unified'];

export function removeForeignCgroups(cgroupsPath: string): void {
  const parts = cgroupsPath.split('/').filter(Boolean);
  for (const h of FOREIGN_HIERARCHIES) {
    const root = join('/sys/fs/cgroup', h);
    if (!existsSync(join(root, 'cgroup.procs'))) continue;
    for (let n = parts.length; n > 0; n--) {
      try {
        rmdirSync(join(root, ...parts.slice(0, n)));
      } catch (e) {
        // gone already (runc removed its own): on to the parent; in use (another container): stop
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') break;
      }
    }
  }
}

/** The cgroupsPath a bundle's config.json gives ('' when it cannot be read). */
export function bundleCgroupsPath(bundle: string): string {
  try {
    return (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } }).linux?.cgroupsPath ?? '';
  } catch {
    return '';
  }
}

/** The version line of `BIN --version` (first line), or an Availability for a missing binary. */
export async function versionOf(bin: string, flag = '--version'): Promise<string> {
  const r = await runCli(bin, [flag], 10_000);
  return r.stdout.split('\n')[0]?.trim() ?? '';
}

export function missing(name: string, candidates: string[]): Availability {
  return { available: false, path: '', version: '', error: `${name} is not installed (looked for ${candidates.join(', ')})` };
}

/** `BIN [global...] state ID` → its pid, or 0 when the runtime does not know the container (yet). */
export async function statePid(bin: string, global: string[], id: string): Promise<{ pid: number; status: string }> {
  const r = await runCli(bin, [...global, 'state', id], 10_000);
  if (r.code !== 0) return { pid: 0, status: '' };
  try {
    const s = JSON.parse(r.stdout) as { pid?: number; status?: string };
    return { pid: s.pid ?? 0, status: s.status ?? '' };
  } catch {
    return { pid: 0, status: '' };
  }
}
