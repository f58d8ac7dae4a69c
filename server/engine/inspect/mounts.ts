// The mount view of one container: its mount tree as its init sees it (/proc/<init>/mountinfo,
// read from the host: the kernel shows the mounts of that process's mount namespace, relative to
// its root). For each mount it works out what a learner asks about:
//   - propagation: shared:N (a peer group: mounts and unmounts travel between its members),
//     master:N (a slave: receives from group N, sends nothing back), neither (private); and which
//     host mounts are in the same group, read from the server's own /proc/self/mountinfo
//   - overlay: lowerdir / upperdir / workdir of the root, one path per line
//   - bind sources: where on the host a bind mount's directory lives (the container's config, or
//     the host mount of the same device whose root holds the bind's root)
//   - masked paths: /dev/null bound over a file, or an empty read-only tmpfs over a directory
//     (Docker's list: /proc/kcore, /proc/keys…), and the read-only /proc/sys & co.
import { readFile } from 'node:fs/promises';
import { readlinkSync } from 'node:fs';
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/spec.js';
import type { ContainerRecord } from '../types.js';
import { parseMountinfo, type MountEntry } from '../util/mountinfo.js';
import type { InspectEngine } from './source.js';
import type { MountNode, MountSnapshot } from './types.js';

export function emptyMountSnapshot(state: MountSnapshot['state'], containerId: string | null, message?: string): MountSnapshot {
  return {
    kind: 'mounts',
    time: Date.now(),
    state,
    ...(message ? { message } : {}),
    containerId,
    pid: 0,
    mounts: [],
    totals: { mounts: 0, masked: 0, readOnly: 0, shared: 0, slave: 0, binds: 0 },
  };
}

function propagationLabel(p: MountEntry['propagation']): MountNode['propagationLabel'] {
  if (p.unbindable) return 'unbindable';
  if (p.shared !== undefined && p.master !== undefined) return 'shared+slave';
  if (p.shared !== undefined) return 'shared';
  if (p.master !== undefined) return 'slave';
  return 'private';
}

/** Overlay's per-superblock options, the directories one per line (lowerdir is top first, ':'-separated). */
export function overlayDirs(superOptions: string[]): MountNode['overlay'] {
  const out: NonNullable<MountNode['overlay']> = { lowerdir: [] };
  for (const o of superOptions) {
    if (o.startsWith('lowerdir=')) out.lowerdir = o.slice(9).split(':').filter(Boolean);
    else if (o.startsWith('lowerdir+=')) out.lowerdir.push(o.slice(10));
    else if (o.startsWith('upperdir=')) out.upperdir = o.slice(9);
    else if (o.startsWith('workdir=')) out.workdir = o.slice(8);
  }
  return out;
}

/** The path relative to a parent path, or null when it is not under it. */
function under(path: string, parent: string): string | null {
  if (parent === '/') return path;
  if (path === parent) return '';
  return path.startsWith(parent + '/') ? path.slice(parent.length) : null;
}

/**
 * The host path a bind mount shows: a host mount of the same filesystem (dev) whose root holds
 * the bind's root; its mount point plus the rest. The longest matching root wins.
 */
export function bindHostPath(m: MountEntry, host: MountEntry[]): string | null {
  let best: { path: string; len: number } | null = null;
  for (const h of host) {
    if (h.dev !== m.dev) continue;
    const rest = under(m.root, h.root);
    if (rest === null) continue;
    if (!best || h.root.length > best.len) best = { path: (h.mountPoint === '/' ? '' : h.mountPoint) + rest || '/', len: h.root.length };
  }
  return best?.path ?? null;
}

function maskOf(m: MountEntry): MountNode['masked'] {
  const isMaskPath = MASKED_PATHS.includes(m.mountPoint);
  // a file is masked by binding the host's /dev/null over it: mountinfo shows root "/null"
  if (m.root === '/null' && (m.fsType === 'devtmpfs' || m.fsType === 'tmpfs')) return { by: '/dev/null bound over it: reads give nothing, writes vanish' };
  if (isMaskPath && m.fsType === 'tmpfs' && m.options.includes('ro')) return { by: 'an empty read-only tmpfs mounted over it (size=0)' };
  return undefined;
}

function nsInode(pid: number | 'self'): number | undefined {
  try {
    const l = readlinkSync(`/proc/${pid}/ns/mnt`);
    return Number(l.slice(l.indexOf('[') + 1, -1));
  } catch {
    return undefined;
  }
}

/** Build the view from the container's and the host's mountinfo (pure: the unit tests call it). */
export function buildMountNodes(mine: MountEntry[], host: MountEntry[], rec: Pick<ContainerRecord, 'config'> | null): MountNode[] {
  const byId = new Map(mine.map((m) => [m.mountId, m]));
  const configBinds = new Map((rec?.config.mounts ?? []).filter((x) => x.type === 'bind' && x.source).map((x) => [x.target, x.source!]));
  const hostGroups = new Map<number, string[]>();
  for (const h of host) {
    if (h.propagation.shared !== undefined) hostGroups.set(h.propagation.shared, [...(hostGroups.get(h.propagation.shared) ?? []), h.mountPoint]);
  }
  // the root of the tree: the mount whose parent is not in the list (the container's /)
  const children = new Map<number, MountEntry[]>();
  const roots: MountEntry[] = [];
  for (const m of mine) {
    if (byId.has(m.parentId) && m.parentId !== m.mountId) children.set(m.parentId, [...(children.get(m.parentId) ?? []), m]);
    else roots.push(m);
  }
  const out: MountNode[] = [];
  const walk = (m: MountEntry, depth: number) => {
    const kids = children.get(m.mountId) ?? [];
    const masked = maskOf(m);
    const isOverlay = m.fsType === 'overlay';
    const readOnly = m.options.includes('ro');
    let bind: MountNode['bind'];
    const fromConfig = configBinds.get(m.mountPoint);
    if (fromConfig) bind = { hostPath: fromConfig, from: 'config' };
    else if (!masked && !isOverlay && m.root !== '/' && !['proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue', 'devpts'].includes(m.fsType)) {
      const hp = bindHostPath(m, host);
      if (hp) bind = { hostPath: hp, from: 'device' };
    }
    const p = m.propagation;
    const hostPeers = [...new Set([...(p.shared !== undefined ? (hostGroups.get(p.shared) ?? []) : []), ...(p.master !== undefined ? (hostGroups.get(p.master) ?? []) : [])])];
    out.push({
      mountId: m.mountId,
      parentId: m.parentId,
      depth,
      mountPoint: m.mountPoint,
      fsType: m.fsType,
      source: m.source,
      root: m.root,
      readOnly,
      options: m.options,
      superOptions: isOverlay ? m.superOptions.filter((o) => !/^(lowerdir\+?|upperdir|workdir)=/.test(o)) : m.superOptions,
      propagation: p,
      propagationLabel: propagationLabel(p),
      hostPeers: hostPeers.slice(0, 8),
      ...(isOverlay ? { overlay: overlayDirs(m.superOptions) } : {}),
      ...(bind ? { bind } : {}),
      ...(masked ? { masked } : {}),
      ...(READONLY_PATHS.includes(m.mountPoint) && readOnly ? { readonlyPath: true } : {}),
      children: kids.map((k) => k.mountId),
    });
    for (const k of kids) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

export async function mountSnapshot(engine: InspectEngine, idOrName: string): Promise<MountSnapshot> {
  let rec: ContainerRecord;
  try {
    rec = engine.get(idOrName);
  } catch (e) {
    return emptyMountSnapshot('not-found', idOrName, (e as Error).message);
  }
  const pid = rec.state.pid;
  if (!(pid > 0) || (rec.state.status !== 'running' && rec.state.status !== 'paused')) {
    return { ...emptyMountSnapshot('not-running', rec.id, `${rec.name} is ${rec.state.status}: its mount namespace exists only while it runs`), containerName: rec.name };
  }
  let mine: MountEntry[];
  let host: MountEntry[];
  try {
    [mine, host] = await Promise.all([readFile(`/proc/${pid}/mountinfo`, 'utf8'), readFile('/proc/self/mountinfo', 'utf8')]).then(([a, b]) => [parseMountinfo(a), parseMountinfo(b)]);
  } catch (e) {
    return { ...emptyMountSnapshot('unavailable', rec.id, `cannot read /proc/${pid}/mountinfo: ${(e as Error).message}`), containerName: rec.name };
  }
  const mounts = buildMountNodes(mine, host, rec);
  return {
    kind: 'mounts',
    time: Date.now(),
    state: 'ok',
    containerId: rec.id,
    containerName: rec.name,
    pid,
    mountNs: nsInode(pid),
    hostMountNs: nsInode('self'),
    mounts,
    totals: {
      mounts: mounts.length,
      masked: mounts.filter((m) => m.masked).length,
      readOnly: mounts.filter((m) => m.readOnly).length,
      shared: mounts.filter((m) => m.propagation.shared !== undefined).length,
      slave: mounts.filter((m) => m.propagation.master !== undefined).length,
      binds: mounts.filter((m) => m.bind).length,
    },
  };
}
