// Small pure helpers of the builder's steps: env lists, HEALTHCHECK durations, JSON forms,
// --chown owners, stage copies, the .dockerignore pass over the context.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveUser } from '../containers/users.js';
import type { ImageConfig, StageState } from './build-types.js';
import { parseError } from './dockerfile.js';
import type { Owner } from './in-root.js';
import { isIgnored, type parseDockerignore } from './patterns.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Docker's predefined ARGs: usable by RUN without an ARG line, never in the history. */
export const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    m.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  return m;
}

export function setEnv(env: string[] | undefined, key: string, value: string): string[] {
  return [...(env ?? []).filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
}

/** "30s", "1m30s", "500ms" → nanoseconds (HEALTHCHECK's flags). */
export function durationNs(v: string, flag: string, line: number): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  if (!v || consumed !== v.length) throw parseError(line, `HEALTHCHECK --${flag}: invalid duration "${v}" (e.g. 30s, 1m30s)`);
  return Math.round(total);
}

export function jsonOf(t: string): string[] | null {
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/** --chown=user[:group], numbers or names from the image's own /etc/passwd and /etc/group. */
export function chownOf(spec: string, rootPath: string, line: number): Owner {
  try {
    const u = resolveUser(rootPath, spec);
    // "user" alone: its primary group; "uid" alone (no passwd entry): gid = uid, as Docker does
    const gid = spec.includes(':') ? u.gid : /^\d+$/.test(spec) ? u.uid : u.gid;
    return { uid: u.uid, gid };
  } catch (e) {
    throw parseError(line, `--chown=${spec}: ${(e as Error).message}`);
  }
}

export function clone(s: StageState): StageState {
  return { ...s, config: JSON.parse(JSON.stringify(s.config)) as ImageConfig, args: new Map(s.args) };
}

/** Remove the context's files .dockerignore names (walking our own scratch copy: no symlink is followed). */
export function removeIgnored(root: string, rel: string, rules: ReturnType<typeof parseDockerignore>, keep: Set<string>): void {
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const p = join(root, r);
    if (!keep.has(r) && isIgnored(rules, r)) {
      rmSync(p, { recursive: true, force: true });
      continue;
    }
    if (lstatSync(p).isDirectory()) removeIgnored(root, r, rules, keep);
  }
}
