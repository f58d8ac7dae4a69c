// The creation timeline grouped by phase. Every step name the engine (lifecycle/start.ts, the
// network wiring) and the helper (runtime/helper-steps.ts: monitor and child) report belongs to
// one phase, in the order a container is made: prepare → rootfs → cgroups → namespaces → network →
// security → process → exec. Plain data, shared by the dashboard and the tests.

export const PHASES = ['prepare', 'rootfs', 'cgroups', 'namespaces', 'network', 'security', 'process', 'exec'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_TITLES: Record<Phase, string> = {
  prepare: 'prepare: check the config, find the image, write the bundle',
  rootfs: 'root filesystem: overlay, mounts, devices, pivot_root',
  cgroups: 'cgroups: make the group, write the limits, join it',
  namespaces: 'namespaces: clone/setns, user id maps, hostname',
  network: 'network: veth pair, bridge, addresses, routes, NAT',
  security: 'security: masked paths, capabilities, user, seccomp',
  process: 'the process: monitor, stdio, terminal, barrier',
  exec: 'exec: the program starts',
};

export const PHASE_OF_STEP: Readonly<Record<string, Phase>> = {
  // engine
  validate: 'prepare', 'resolve-image': 'prepare', 'make-dirs': 'prepare', 'userns-range': 'prepare', 'write-config': 'prepare', 'write-record': 'prepare', 'network-plan': 'prepare',
  'mount-overlay': 'rootfs', 'idmap-layers': 'rootfs', 'shift-layers': 'rootfs', 'storage-quota': 'rootfs',
  'cgroup-create': 'cgroups', 'cgroup-limit': 'cgroups',
  start: 'exec', network: 'network',
  // another runtime (runc, runsc, uml) under the monitor: finding the init it made
  'runtime-init': 'exec',
  // helper: before anything
  spec: 'prepare', selfexe: 'prepare',
  // monitor
  monitor: 'process', 'monitor-cgroup': 'cgroups', 'monitor-socket': 'process', log: 'process', join: 'namespaces', timens: 'namespaces', timens_offsets: 'namespaces',
  pipes: 'process', signalfd: 'process', sync: 'process', setup: 'process', setns: 'namespaces', clone: 'namespaces', setgroups: 'namespaces', uid_map: 'namespaces', gid_map: 'namespaces',
  oom_score_adj: 'security', rlimit: 'security', stdio: 'process', setsid: 'process', barrier: 'process',
  // child
  'cgroup-join': 'cgroups', cgroupns: 'cgroups', 'lo-up': 'network', 'mount-propagation': 'rootfs', 'mount-rootfs': 'rootfs', mount: 'rootfs', devices: 'rootfs', device: 'rootfs', symlink: 'rootfs',
  pivot_root: 'rootfs', chroot: 'rootfs', 'masked-paths': 'security', 'readonly-paths': 'security', 'readonly-root': 'security', hostname: 'namespaces', terminal: 'process',
  'close-fds': 'security', cwd: 'rootfs', init: 'exec',
  capabilities: 'security', user: 'security', no_new_privs: 'security', seccomp: 'security', exec: 'exec',
  // exec mode
  target: 'namespaces', cgroup: 'cgroups', fork: 'process',
};

/** The phase of a step name; mount-<dest> is a rootfs step, the network's ip/iptables steps are network. */
export function phaseOf(step: string): Phase {
  const p = PHASE_OF_STEP[step];
  if (p) return p;
  if (step.startsWith('mount-')) return 'rootfs';
  if (/^(network|veth|bridge|address|link|lo-up|default-route|iptables|sysctl|port|nat)/.test(step)) return 'network';
  if (step.startsWith('cgroup')) return 'cgroups';
  return 'process';
}
