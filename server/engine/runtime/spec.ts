// The OCI runtime config.json, and the defaults every runtime agrees on (the mount table, device
// nodes, masked and read-only paths). Read this file beside the creation timeline: each entry
// here is one mount(2), mknod(2) or bind the helper makes in the child.
import type { IdMapping, Namespace } from '../types.js';
import { MS, type PlanDevice, type PlanMount, type RuntimePlan } from './plan.js';

/** /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys as Docker and runc mount them. */
export function standardMounts(opts: { netns: boolean; userns: boolean; ipcns: boolean }): PlanMount[] {
  const mounts: PlanMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(opts.userns ? [] : ['gid=5'])],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
  // A new mqueue filesystem shows the container's own IPC namespace; with the host's IPC it would
  // show the host's queues, so it is left out, as runc does.
  if (opts.ipcns) mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
  // sysfs may only be mounted by the owner of the network namespace: without a new one, bind the
  // host's /sys read-only instead (what runc does for --network host).
  mounts.push(
    opts.netns
      ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
  );
  return mounts;
}

/**
 * /sys/fs/cgroup inside the container: only the container's own cgroup, read-only.
 * v1: a tmpfs with one bind per hierarchy; v2: one bind of the container's directory.
 */
export function cgroupMounts(hierarchies: Record<string, string>, version: 1 | 2): PlanMount[] {
  if (version === 2) {
    const dir = Object.values(hierarchies)[0];
    return [{ destination: '/sys/fs/cgroup', type: 'bind', source: dir, options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }];
  }
  const mounts: PlanMount[] = [
    { destination: '/sys/fs/cgroup', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=755'] },
  ];
  for (const [name, dir] of Object.entries(hierarchies).sort()) {
    mounts.push({ destination: `/sys/fs/cgroup/${name}`, type: 'bind', source: dir, options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  }
  // Made read-only last: the bind targets had to be created inside it first.
  mounts.push({ destination: '/sys/fs/cgroup', type: 'remount', source: 'tmpfs', options: ['remount', 'ro', 'nosuid', 'noexec', 'nodev'] });
  return mounts;
}

export const STANDARD_DEVICES: PlanDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666 },
];

export const STANDARD_SYMLINKS = [
  { target: '/proc/self/fd', link: '/dev/fd' },
  { target: '/proc/self/fd/0', link: '/dev/stdin' },
  { target: '/proc/self/fd/1', link: '/dev/stdout' },
  { target: '/proc/self/fd/2', link: '/dev/stderr' },
  { target: 'pts/ptmx', link: '/dev/ptmx' },
];

/** Files a container must not read: kernel memory, keys, timing side channels. */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Files a container may read but not write: writing them would change the host. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Mount option words → (MS_* flags, data string), as mount(2) takes them. */
export function mountFlags(options: string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    switch (o) {
      case 'ro': flags |= MS.RDONLY; break;
      case 'rw': break;
      case 'nosuid': flags |= MS.NOSUID; break;
      case 'nodev': flags |= MS.NODEV; break;
      case 'noexec': flags |= MS.NOEXEC; break;
      case 'strictatime': flags |= MS.STRICTATIME; break;
      case 'bind': flags |= MS.BIND; break;
      case 'rbind': flags |= MS.BIND | MS.REC; break;
      case 'remount': flags |= MS.REMOUNT; break;
      case 'rprivate': flags |= MS.PRIVATE | MS.REC; break;
      case 'relatime': break;
      // the rest of the OCI option words (config.json of the OCI CLI): flags, or the default
      case 'sync': flags |= 0x10; break;
      case 'dirsync': flags |= 0x80; break;
      case 'mand': flags |= 0x40; break;
      case 'noatime': flags |= 0x400; break;
      case 'nodiratime': flags |= 0x800; break;
      case 'suid': case 'dev': case 'exec': case 'async': case 'atime': case 'diratime':
      case 'norelatime': case 'nostrictatime': case 'nomand': case 'defaults': break;
      default: data.push(o);
    }
  }
  return { flags, data: data.join(',') };
}

const NS_OCI: Record<Namespace, string> = {
  pid: 'pid', mnt: 'mount', net: 'network', uts: 'uts', ipc: 'ipc', user: 'user', cgroup: 'cgroup', time: 'time',
};

/** The OCI runtime spec (config.json) for a plan. */
export function ociConfig(plan: RuntimePlan): Record<string, unknown> {
  const namespaces: { type: string; path?: string }[] = plan.namespaces.map((ns) => ({ type: NS_OCI[ns] }));
  for (const [ns, path] of Object.entries(plan.joinNamespaces)) namespaces.push({ type: NS_OCI[ns as Namespace], path });
  const linux: Record<string, unknown> = {
    namespaces,
    cgroupsPath: plan.cgroupsPath,
    resources: plan.resources,
    maskedPaths: plan.maskedPaths,
    readonlyPaths: plan.readonlyPaths,
  };
  if (plan.uidMap.length) {
    // the OCI spec's LinuxIDMapping: containerID / hostID / size (runc and crun read these names)
    const oci = (m: IdMapping[]) => m.map((x) => ({ containerID: x.containerId, hostID: x.hostId, size: x.size }));
    linux.uidMappings = oci(plan.uidMap);
    linux.gidMappings = oci(plan.gidMap);
  }
  if (plan.timeOffsets) {
    linux.timeOffsets = {
      monotonic: { secs: plan.timeOffsets.monotonic, nanosecs: 0 },
      boottime: { secs: plan.timeOffsets.boottime, nanosecs: 0 },
    };
  }
  if (plan.seccompProfile) linux.seccomp = plan.seccompProfile;
  return {
    ociVersion: '1.1.0',
    process: {
      terminal: plan.terminal,
      user: { uid: plan.user.uid, gid: plan.user.gid, additionalGids: plan.user.additionalGids },
      args: plan.args,
      env: plan.env,
      cwd: plan.cwd,
      capabilities: plan.capabilities,
      rlimits: plan.rlimits.map((r) => ({ type: r.type, soft: r.soft === 'unlimited' ? 2 ** 64 - 1 : r.soft, hard: r.hard === 'unlimited' ? 2 ** 64 - 1 : r.hard })),
      noNewPrivileges: plan.noNewPrivileges,
      oomScoreAdj: plan.oomScoreAdj,
    },
    root: { path: 'rootfs', readonly: plan.readOnlyRoot },
    hostname: plan.hostname ?? undefined,
    // runc and crun build /sys/fs/cgroup themselves from one "cgroup" entry; the helper is told
    // each bind separately (see cgroupMounts).
    mounts: [
      ...plan.mounts.filter((m) => !m.destination.startsWith('/sys/fs/cgroup')),
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux,
    annotations: { 'org.glassbox.id': plan.id, 'org.glassbox.init': String(plan.init) },
  };
}
