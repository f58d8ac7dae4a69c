// The options of issue #18 that need more than the schema's bounds: a stop signal that exists, a
// healthcheck command of a known form, devices from an allowlist, sysctls that a namespace holds,
// addresses that parse, and the cgroup-v1-only memory knobs. Each message names the docker flag.
import { isIPv4 } from 'node:net';
import { InvalidArgument, type ContainerConfig } from '../types.js';
import { parseSignal } from '../lifecycle/signals.js';

/**
 * Host devices a container may be given with --device: the character devices every container
 * already has (and whose cgroup rules allow them), under another name if asked. Anything else (a
 * disk, /dev/mem, /dev/kvm, /dev/fuse) would reach the host's hardware or kernel: refused by name.
 */
export const DEVICE_ALLOWLIST: Record<string, { major: number; minor: number }> = {
  '/dev/null': { major: 1, minor: 3 },
  '/dev/zero': { major: 1, minor: 5 },
  '/dev/full': { major: 1, minor: 7 },
  '/dev/random': { major: 1, minor: 8 },
  '/dev/urandom': { major: 1, minor: 9 },
  '/dev/tty': { major: 5, minor: 0 },
};

/** The namespace a sysctl lives in, or null for a host-wide one (Docker's list, validate.go). */
export function sysctlNamespace(key: string): 'net' | 'ipc' | null {
  if (/^net\.[a-z0-9_.-]+$/.test(key) && !key.includes('..')) return 'net';
  if (['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(key)) return 'ipc';
  if (/^fs\.mqueue\.[a-z_]+$/.test(key)) return 'ipc';
  return null;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,252})$/;

export function validateExtras(c: ContainerConfig, host: { cgroupVersion: 1 | 2 }): void {
  if (c.stopSignal !== undefined) {
    try {
      parseSignal(c.stopSignal);
    } catch {
      throw new InvalidArgument(`--stop-signal: invalid signal "${c.stopSignal}"`);
    }
  }
  const h = c.healthcheck;
  if (h) {
    const kind = h.test[0];
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(kind)) throw new InvalidArgument(`--health-cmd: the test must start with CMD, CMD-SHELL or NONE (got "${kind}")`);
    if (kind !== 'NONE' && h.test.length < 2) throw new InvalidArgument('--health-cmd: a command is needed after ' + kind);
  }
  for (const d of c.devices ?? []) {
    if (!(d.path in DEVICE_ALLOWLIST)) {
      throw new InvalidArgument(`--device ${d.path}: not allowed; the devices a container may be given are ${Object.keys(DEVICE_ALLOWLIST).join(', ')}`);
    }
    const target = d.containerPath ?? d.path;
    if (!target.startsWith('/dev/') || target.split('/').includes('..') || target.includes('\0')) {
      throw new InvalidArgument(`--device ${d.path}:${target}: the path in the container must be under /dev`);
    }
  }
  for (const [k, v] of Object.entries(c.sysctls ?? {})) {
    const ns = sysctlNamespace(k);
    if (!ns) throw new InvalidArgument(`--sysctl ${k}: not allowed; only namespaced sysctls are (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)`);
    if (ns === 'net' && (c.network === 'host' || c.namespaces?.net === false)) throw new InvalidArgument(`--sysctl ${k}: not allowed with the host's network namespace`);
    if (ns === 'ipc' && (c.namespaces?.ipc === false || c.shareNamespaces?.ipc)) throw new InvalidArgument(`--sysctl ${k}: not allowed with a shared IPC namespace`);
    if (/[\n\0]/.test(v)) throw new InvalidArgument(`--sysctl ${k}: the value must be one line`);
  }
  for (const e of c.extraHosts ?? []) {
    if (!HOST_RE.test(e.name)) throw new InvalidArgument(`--add-host ${e.name}:${e.ip}: invalid host name`);
    if (!isIPv4(e.ip) && e.ip !== 'host-gateway') throw new InvalidArgument(`--add-host ${e.name}:${e.ip}: invalid IP address (IPv4, or host-gateway)`);
  }
  for (const s of c.dns?.servers ?? []) if (!isIPv4(s)) throw new InvalidArgument(`--dns ${s}: not an IPv4 address`);
  for (const s of [...(c.dns?.search ?? []), ...(c.dns?.options ?? [])]) if (/\s/.test(s)) throw new InvalidArgument(`--dns-search/--dns-option "${s}": no spaces`);
  const ep = c.endpoint;
  if (ep?.ip !== undefined && !isIPv4(ep.ip)) throw new InvalidArgument(`--ip ${ep.ip}: not an IPv4 address`);
  if (ep?.macAddress !== undefined && !MAC_RE.test(ep.macAddress)) throw new InvalidArgument(`--mac-address ${ep.macAddress}: invalid MAC address`);
  if (ep?.macAddress && parseInt(ep.macAddress.slice(0, 2), 16) & 1) throw new InvalidArgument(`--mac-address ${ep.macAddress}: a multicast address cannot be a container's`);
  for (const a of ep?.aliases ?? []) if (!HOST_RE.test(a)) throw new InvalidArgument(`--network-alias ${a}: invalid name`);
  for (const l of ep?.links ?? []) if (!HOST_RE.test(l.alias)) throw new InvalidArgument(`--link ${l.container}:${l.alias}: invalid alias`);
  // Docker on cgroup v2 warns and discards these two; Glassbox says so instead of pretending
  const l = c.limits ?? {};
  if (host.cgroupVersion === 2) {
    if (l.memorySwappiness != null) throw new InvalidArgument('--memory-swappiness is not supported on cgroup v2 (the kernel has no per-cgroup swappiness there; Docker discards it with a warning)');
    if (l.oomKillDisable) throw new InvalidArgument('--oom-kill-disable is not supported on cgroup v2 (Docker discards it with a warning)');
  }
  if (l.oomKillDisable && l.memory == null) throw new InvalidArgument('--oom-kill-disable needs --memory: without a limit the host itself could run out');
  if (l.memoryReservation != null && l.memoryReservation < 6 * 1024 * 1024) throw new InvalidArgument('--memory-reservation: at least 6MB');
  if (l.memoryReservation != null && l.memory != null && l.memoryReservation > l.memory) throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
}
