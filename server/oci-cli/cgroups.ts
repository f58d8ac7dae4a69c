// linux.cgroupsPath and linux.resources → cgroup directories and files, as runc's cgroupfs driver
// writes them. v1 (and hybrid hosts): one directory per mounted hierarchy; v2: one directory.
// cgroupsPath is normalised under each hierarchy's root: a "../.." in config.json cannot climb out.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BundleError } from '../engine/runtime/bundle.js';

interface Hierarchy {
  /** mount point, e.g. /sys/fs/cgroup/cpu,cpuacct */
  mount: string;
  /** controllers of the hierarchy ('' for v2's unified one) */
  controllers: string[];
  /** the hierarchy's root as seen in /proc/self/cgroup (the mount's root field) */
  root: string;
}

export interface CgroupSet {
  version: 1 | 2;
  /** hierarchy name (its controllers joined by ",", or "unified") → the container's directory */
  dirs: Record<string, string>;
  /** directories this call made, deepest last */
  made: string[];
}

function hierarchies(): { version: 1 | 2; list: Hierarchy[] } {
  const v1: Hierarchy[] = [];
  let v2: Hierarchy | null = null;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const type = f[sep + 1];
    const opts = (f[sep + 3] ?? '').split(',');
    if (type === 'cgroup') {
      const controllers = opts.filter((o) => !['rw', 'ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime', 'xattr', 'clone_children'].includes(o) && !o.startsWith('release_agent'));
      v1.push({ mount: f[4], controllers, root: f[3] });
    } else if (type === 'cgroup2') v2 = { mount: f[4], controllers: [], root: f[3] };
  }
  if (v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')))) return { version: 1, list: v1 };
  if (!v2) throw new Error('no cgroup filesystem is mounted');
  return { version: 2, list: [v2] };
}

/** This process's cgroup in a hierarchy (relative cgroupsPath values are relative to it, as in runc). */
function ownCgroup(h: Hierarchy, version: 1 | 2): string {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(/:(.*?):/);
    if (path === undefined) continue;
    if (version === 2 ? ctrls === '' : ctrls.split(',').sort().join(',') === [...h.controllers].sort().join(',')) return path;
  }
  return '/';
}

const nameOf = (h: Hierarchy) => (h.controllers.length ? h.controllers.join(',') : 'unified');

/** Make the container's cgroups (mkdir -p in each hierarchy) for cgroupsPath. */
export function makeCgroups(cgroupsPath: string): CgroupSet {
  const { version, list } = hierarchies();
  const dirs: Record<string, string> = {};
  const made: string[] = [];
  for (const h of list) {
    // the systemd name hierarchy belongs to systemd, as runc leaves it in cgroupfs mode
    if (h.controllers.length === 1 && h.controllers[0].startsWith('name=')) continue;
    const rel = cgroupsPath.startsWith('/') ? resolve('/', cgroupsPath) : resolve(ownCgroup(h, version), cgroupsPath);
    // the mount's root is where the hierarchy starts in this mount namespace
    const inMount = h.root !== '/' && rel.startsWith(h.root) ? rel.slice(h.root.length) || '/' : rel;
    const dir = join(h.mount, inMount);
    let d = h.mount;
    for (const part of inMount.split('/').filter(Boolean)) {
      d = join(d, part);
      if (!existsSync(d)) {
        mkdirSync(d);
        made.push(d);
        // a v1 cpuset cgroup starts empty: a process cannot join until cpus and mems are set
        if (h.controllers.includes('cpuset')) for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), readFileSync(join(d, '..', f), 'utf8').trim() || '\n');
      }
    }
    dirs[nameOf(h)] = dir;
  }
  return { version, dirs, made };
}

/** The cgroup.procs files init joins (one per hierarchy). */
export function procsFiles(set: Pick<CgroupSet, 'dirs'>): string[] {
  return Object.values(set.dirs).map((d) => join(d, 'cgroup.procs'));
}

function dirFor(set: CgroupSet, controller: string): string | null {
  for (const [name, dir] of Object.entries(set.dirs)) if (set.version === 2 || name.split(',').includes(controller)) return dir;
  return null;
}

/** Every pid in the container's cgroups. */
export function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
    } catch {
      /* gone */
    }
  }
  return [...pids];
}

/** rmdir the cgroups made for the container, deepest first; processes left in them are killed first. */
export async function removeCgroups(dirs: string[]): Promise<void> {
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    for (let i = 0; i < 100; i++) {
      try {
        // child cgroups a process in the container made (with a cgroup namespace, it may)
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) await removeCgroups([join(d, e.name)]);
        rmdirSync(d);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || i === 99) throw new Error(`cannot remove cgroup ${d}: ${(e as Error).message}`, { cause: e });
        for (const pid of cgroupPids([d])) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** rmdir parents made for a container, deepest first, if no other container uses them (EBUSY: one does). */
export function removeEmptyParents(dirs: string[]): void {
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      /* in use by another container, or gone */
    }
  }
}

type Res = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEFAULT_DEVICE_RULES = [
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm',
  // mknod of any node (the node still needs an allow rule to be opened), as runc allows
  'c *:* m', 'b *:* m',
];

/** Write linux.resources into the container's cgroups. Throws BundleError naming the field. */
export function applyResources(set: CgroupSet, resources: Res | undefined, devices: { type: string; major?: number; minor?: number }[]): void {
  const r = resources ?? {};
  const write = (controller: string, file: string, value: string | number, field: string) => {
    const dir = dirFor(set, controller);
    if (!dir) throw new BundleError(`${field}: this host has no ${controller} cgroup controller`);
    try {
      writeFileSync(join(dir, file), String(value));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BundleError(`${field}: writing ${value} to ${join(dir, file)}: ${code === 'ENOENT' ? 'this host has no such cgroup file' : (e as Error).message}`);
    }
  };
  if (set.version === 2) return applyV2(set, r, write);
  const m = r.memory ?? {};
  if (m.limit !== undefined) write('memory', 'memory.limit_in_bytes', m.limit, 'linux.resources.memory.limit');
  if (m.reservation !== undefined) write('memory', 'memory.soft_limit_in_bytes', m.reservation, 'linux.resources.memory.reservation');
  if (m.swap !== undefined) write('memory', 'memory.memsw.limit_in_bytes', m.swap, 'linux.resources.memory.swap');
  if (m.kernel !== undefined) write('memory', 'memory.kmem.limit_in_bytes', m.kernel, 'linux.resources.memory.kernel');
  if (m.kernelTCP !== undefined) write('memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, 'linux.resources.memory.kernelTCP');
  if (m.swappiness !== undefined) write('memory', 'memory.swappiness', m.swappiness, 'linux.resources.memory.swappiness');
  if (m.disableOOMKiller !== undefined) write('memory', 'memory.oom_control', m.disableOOMKiller ? 1 : 0, 'linux.resources.memory.disableOOMKiller');
  const c = r.cpu ?? {};
  if (c.shares !== undefined) write('cpu', 'cpu.shares', c.shares, 'linux.resources.cpu.shares');
  if (c.period !== undefined) write('cpu', 'cpu.cfs_period_us', c.period, 'linux.resources.cpu.period');
  if (c.quota !== undefined) write('cpu', 'cpu.cfs_quota_us', c.quota, 'linux.resources.cpu.quota');
  if (c.realtimePeriod !== undefined) write('cpu', 'cpu.rt_period_us', c.realtimePeriod, 'linux.resources.cpu.realtimePeriod');
  if (c.realtimeRuntime !== undefined) write('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, 'linux.resources.cpu.realtimeRuntime');
  if (c.cpus) write('cpuset', 'cpuset.cpus', c.cpus, 'linux.resources.cpu.cpus');
  if (c.mems) write('cpuset', 'cpuset.mems', c.mems, 'linux.resources.cpu.mems');
  if (r.pids?.limit !== undefined) write('pids', 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', 'linux.resources.pids.limit');
  const b = r.blockIO ?? {};
  if (b.weight !== undefined) write('blkio', existsSync(join(dirFor(set, 'blkio') ?? '/', 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight', b.weight, 'linux.resources.blockIO.weight');
  if (b.leafWeight !== undefined) write('blkio', 'blkio.leaf_weight', b.leafWeight, 'linux.resources.blockIO.leafWeight');
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined) write('blkio', 'blkio.weight_device', `${d.major}:${d.minor} ${d.weight}`, 'linux.resources.blockIO.weightDevice');
    if (d.leafWeight !== undefined) write('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, 'linux.resources.blockIO.weightDevice');
  }
  const throttles: [string, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttles) for (const d of b[key] ?? []) write('blkio', file, `${d.major}:${d.minor} ${d.rate}`, `linux.resources.blockIO.${key}`);
  for (const h of r.hugepageLimits ?? []) write('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit, 'linux.resources.hugepageLimits');
  if (r.network?.classID !== undefined) write('net_cls', 'net_cls.classid', r.network.classID, 'linux.resources.network.classID');
  for (const p of r.network?.priorities ?? []) write('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, 'linux.resources.network.priorities');
  // devices: deny everything, then the config's rules, then (as runc does, after them, so that a
  // config's "deny all" cannot take them away) the standard nodes and the config's device nodes
  if (dirFor(set, 'devices')) {
    write('devices', 'devices.deny', 'a', 'linux.resources.devices');
    for (const [i, d] of (r.devices ?? []).entries()) {
      const num = (n: unknown) => (typeof n === 'number' && n >= 0 ? String(n) : '*');
      const rule = d.type === 'a' || d.type === undefined ? 'a' : `${d.type} ${num(d.major)}:${num(d.minor)} ${d.access || 'rwm'}`;
      if (!/^(a|[cb] (\d+|\*):(\d+|\*) [rwm]+)$/.test(rule)) throw new BundleError(`linux.resources.devices[${i}]: bad rule ${JSON.stringify(rule)}`);
      write('devices', d.allow ? 'devices.allow' : 'devices.deny', rule, `linux.resources.devices[${i}]`);
    }
    for (const rule of DEFAULT_DEVICE_RULES) write('devices', 'devices.allow', rule, 'linux.resources.devices');
    for (const d of devices) if (d.type !== 'p') write('devices', 'devices.allow', `${d.type === 'b' ? 'b' : 'c'} ${d.major}:${d.minor} rwm`, 'linux.devices');
  }
}

function applyV2(set: CgroupSet, r: Res, write: (c: string, f: string, v: string | number, field: string) => void): void {
  const m = r.memory ?? {};
  if (m.limit !== undefined) write('memory', 'memory.max', m.limit > 0 ? m.limit : 'max', 'linux.resources.memory.limit');
  if (m.reservation !== undefined) write('memory', 'memory.low', m.reservation, 'linux.resources.memory.reservation');
  if (m.swap !== undefined && m.limit !== undefined) write('memory', 'memory.swap.max', m.swap > 0 ? m.swap - m.limit : 'max', 'linux.resources.memory.swap');
  const c = r.cpu ?? {};
  if (c.quota !== undefined || c.period !== undefined) write('cpu', 'cpu.max', `${c.quota > 0 ? c.quota : 'max'} ${c.period ?? 100000}`, 'linux.resources.cpu.quota');
  if (c.shares !== undefined) write('cpu', 'cpu.weight', Math.max(1, Math.min(10000, 1 + Math.round(((c.shares - 2) * 9999) / 262142))), 'linux.resources.cpu.shares');
  if (c.cpus) write('cpuset', 'cpuset.cpus', c.cpus, 'linux.resources.cpu.cpus');
  if (c.mems) write('cpuset', 'cpuset.mems', c.mems, 'linux.resources.cpu.mems');
  if (r.pids?.limit !== undefined) write('pids', 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', 'linux.resources.pids.limit');
}
