// The "New container" form's state and its translation to and from a ContainerConfig.
import { NAMESPACES, type Namespace } from '../../common/namespaces';
import type { ContainerConfig } from '../../server/engine/types';
import { shellSplit } from './docker-run';
import { nameProblem } from '../../common/container-name';

export const MiB = 1024 * 1024;

export interface FormState {
  image: string;
  command: string;
  name: string;
  hostname: string;
  namespaces: Record<Namespace, boolean>;
  /** time namespace offsets in seconds (CLOCK_MONOTONIC, CLOCK_BOOTTIME): `uptime` moves, the date never does */
  monotonicOffset: number;
  boottimeOffset: number;
  /** 0 = no limit */
  memoryMiB: number;
  cpus: number;
  pids: number;
  network: string;
  /** the runtime driver (docker run --runtime): builtin, runc, crun, runsc, uml */
  runtime: string;
  init: boolean;
  readOnlyRoot: boolean;
  privileged: boolean;
  /** what a pasted docker run line set that the form has no control for (env, ports, mounts…) */
  extra: Partial<ContainerConfig>;
}

/** Docker's defaults: every namespace but user and time. */
export const DEFAULT_NAMESPACES: Record<Namespace, boolean> = { pid: true, mnt: true, net: true, uts: true, ipc: true, cgroup: true, user: false, time: false };

/**
 * The image the form starts with: the built-in `base` image when it is here (the one every lesson
 * is written for), else the first tag listed.
 */
export function defaultImage(tags: string[]): string {
  return tags.find((t) => t === 'base:latest' || t === 'base') ?? tags.find((t) => t.startsWith('base:')) ?? tags[0] ?? '';
}

/** What the form refuses before sending (the engine would refuse it too, less readably). */
export function formProblem(f: FormState): string | null {
  const name = f.name.trim();
  return name ? nameProblem(name) : null;
}

export function defaultForm(image = ''): FormState {
  return {
    image,
    command: '',
    name: '',
    hostname: '',
    namespaces: { ...DEFAULT_NAMESPACES },
    monotonicOffset: 0,
    boottimeOffset: 0,
    memoryMiB: 0,
    cpus: 0,
    pids: 0,
    network: 'bridge',
    runtime: 'builtin',
    init: false,
    readOnlyRoot: false,
    privileged: false,
    extra: {},
  };
}

function quote(w: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

export function toConfig(f: FormState): ContainerConfig {
  const cfg: ContainerConfig = { ...f.extra, image: f.image.trim(), tty: true, openStdin: true };
  const cmd = f.command.trim();
  if (cmd) cfg.cmd = shellSplit(cmd);
  if (f.name.trim()) cfg.name = f.name.trim();
  if (f.hostname.trim()) cfg.hostname = f.hostname.trim();
  const ns: Partial<Record<Namespace, boolean>> = {};
  for (const n of NAMESPACES) if (f.namespaces[n] !== DEFAULT_NAMESPACES[n]) ns[n] = f.namespaces[n];
  if (Object.keys(ns).length) cfg.namespaces = ns;
  if (f.namespaces.time && (f.monotonicOffset || f.boottimeOffset)) cfg.timeOffsets = { monotonic: Math.trunc(f.monotonicOffset), boottime: Math.trunc(f.boottimeOffset) };
  else delete cfg.timeOffsets;
  const limits = { ...(f.extra.limits ?? {}) };
  if (f.memoryMiB > 0) limits.memory = f.memoryMiB * MiB;
  else delete limits.memory;
  if (f.cpus > 0) limits.cpus = f.cpus;
  else delete limits.cpus;
  if (f.pids > 0) limits.pids = f.pids;
  else delete limits.pids;
  if (Object.keys(limits).length) cfg.limits = limits;
  else delete cfg.limits;
  if (f.network && f.network !== 'bridge') cfg.network = f.network;
  if (f.runtime && f.runtime !== 'builtin') cfg.runtime = f.runtime;
  else delete cfg.runtime;
  if (f.init) cfg.init = true;
  if (f.readOnlyRoot) cfg.readOnlyRoot = true;
  if (f.privileged) cfg.privileged = true;
  return cfg;
}

export function fromConfig(c: ContainerConfig, base: FormState): FormState {
  const {
    image, cmd, name, hostname, namespaces, timeOffsets, limits, network, runtime, init, readOnlyRoot, privileged,
    tty: _tty, openStdin: _stdin, ...extra
  } = c;
  const ns = { ...DEFAULT_NAMESPACES, ...(namespaces ?? {}) } as Record<Namespace, boolean>;
  if (timeOffsets && namespaces?.time === undefined) ns.time = true;
  const { memory, cpus, pids, ...otherLimits } = limits ?? {};
  if (Object.keys(otherLimits).length) (extra as Partial<ContainerConfig>).limits = otherLimits;
  return {
    ...base,
    image: image || base.image,
    command: cmd ? cmd.map(quote).join(' ') : '',
    name: name ?? '',
    hostname: hostname ?? '',
    namespaces: ns,
    monotonicOffset: timeOffsets?.monotonic ?? 0,
    boottimeOffset: timeOffsets?.boottime ?? 0,
    memoryMiB: memory ? Math.round(memory / MiB) : 0,
    cpus: cpus ?? 0,
    pids: pids ?? 0,
    network: network ?? 'bridge',
    runtime: runtime ?? 'builtin',
    init: !!init,
    readOnlyRoot: !!readOnlyRoot,
    privileged: !!privileged,
    extra,
  };
}
