// An OCI bundle (config.json + rootfs) read into a RuntimePlan: the narrow engine-level entry the
// OCI runtime CLI (server/oci-cli/) runs a bundle through. The engine's own containers go the other
// way (buildPlan: container record → plan → config.json); this is config.json → plan → helper spec,
// so both end in the same gb-helper and the same checks.
//
// config.json is input, not trusted: every path in it that names something in the container
// (mount destinations, device nodes, masked paths, cwd) is resolved by the helper inside the rootfs
// (openat2 RESOLVE_IN_ROOT, native/src/inroot.c), never joined onto the rootfs as a string here.
// Host-side paths (root.path, bind sources, namespace files, hooks) are the bundle author's, as in
// runc: the CLI is a root tool.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IdMapping, Namespace } from '../types.js';
import { capabilityMask } from './capabilities.js';
import { compileSeccomp } from './seccomp-bpf.js';
import type { ArgCondition, SeccompAction, SeccompProfile, SeccompRule } from './seccomp-profile.js';
import { MS, type PlanDevice, type PlanMount, type RuntimePlan } from './plan.js';
import { STANDARD_DEVICES, STANDARD_SYMLINKS, cgroupMounts } from './spec.js';

/** A bad config.json: the message names the field. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** The parts of the OCI runtime spec (config.json) this runtime reads. */
export interface OciConfig {
  ociVersion?: string;
  process?: {
    terminal?: boolean;
    user?: { uid?: number; gid?: number; additionalGids?: number[]; umask?: number };
    args?: string[];
    env?: string[];
    cwd?: string;
    capabilities?: Partial<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>>;
    rlimits?: { type: string; soft: number; hard: number }[];
    noNewPrivileges?: boolean;
    oomScoreAdj?: number;
    apparmorProfile?: string;
    selinuxLabel?: string;
  };
  root?: { path?: string; readonly?: boolean };
  hostname?: string;
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  hooks?: Partial<Record<HookName, OciHook[]>>;
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: { type: string; path?: string }[];
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    devices?: { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }[];
    cgroupsPath?: string;
    resources?: Record<string, unknown>;
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
    mountLabel?: string;
    timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  };
}

interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
}

const RLIMITS = new Set(
  ['AS', 'CORE', 'CPU', 'DATA', 'FSIZE', 'LOCKS', 'MEMLOCK', 'MSGQUEUE', 'NICE', 'NOFILE', 'NPROC', 'RSS', 'RTPRIO', 'RTTIME', 'SIGPENDING', 'STACK'].map((n) => `RLIMIT_${n}`),
);

const OCI_NS: Record<string, Namespace> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

/** The standard OCI mount option words, as MS_* flags (the rest go to the filesystem as data). */
const FLAG_WORDS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY }, rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID }, suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV }, dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC }, exec: { clear: MS.NOEXEC },
  sync: { set: 0x10 }, async: { clear: 0x10 }, dirsync: { set: 0x80 },
  noatime: { set: 0x400 }, atime: { clear: 0x400 }, nodiratime: { set: 0x800 }, diratime: { clear: 0x800 },
  relatime: { set: 0x200000 }, norelatime: { clear: 0x200000 }, strictatime: { set: MS.STRICTATIME }, nostrictatime: { clear: MS.STRICTATIME },
  mand: { set: 0x40 }, nomand: { clear: 0x40 },
  bind: { set: MS.BIND }, rbind: { set: MS.BIND | MS.REC }, remount: { set: MS.REMOUNT },
  defaults: {},
};
/** Propagation words are a separate mount(2) call in runc; the helper's mounts stay private to the container. */
const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

/** OCI mount options → the helper's mount line (flags as OCI words the plan keeps, data as the rest). */
export function ociMountOptions(options: string[]): { words: string[]; data: string[]; flags: number } {
  let flags = 0;
  const words: string[] = [];
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_WORDS[o];
    if (f) {
      flags = (flags | (f.set ?? 0)) & ~(f.clear ?? 0);
      words.push(o);
    } else if (PROPAGATION.has(o) || o === 'tmpcopyup' || o.startsWith('idmap') || o === 'ridmap') continue;
    else data.push(o);
  }
  return { words, data, flags };
}

function ints(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new BundleError(`${field}: must be a non-negative integer (got ${JSON.stringify(v)})`);
  return v;
}

function noNul(v: string, field: string): string {
  if (typeof v !== 'string') throw new BundleError(`${field}: must be a string`);
  if (v.includes('\0')) throw new BundleError(`${field}: holds a NUL byte`);
  return v;
}

/** A path inside the container: absolute, normalised; the helper resolves it inside the rootfs. */
function containerPath(p: string, field: string): string {
  noNul(p, field);
  const abs = resolve('/', p);
  return abs;
}

const SECCOMP_ACTIONS: Record<string, (errno: number) => SeccompAction> = {
  SCMP_ACT_ALLOW: () => ({ kind: 'allow' }),
  SCMP_ACT_ERRNO: (e) => ({ kind: 'errno', errno: e }),
  SCMP_ACT_KILL: () => ({ kind: 'kill_thread' }),
  SCMP_ACT_KILL_THREAD: () => ({ kind: 'kill_thread' }),
  SCMP_ACT_KILL_PROCESS: () => ({ kind: 'kill_process' }),
  SCMP_ACT_TRAP: () => ({ kind: 'trap' }),
  SCMP_ACT_LOG: () => ({ kind: 'log' }),
};
const SECCOMP_OPS: Record<string, ArgCondition['op']> = {
  SCMP_CMP_EQ: 'eq', SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_GT: 'gt', SCMP_CMP_GE: 'ge', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** linux.seccomp (OCI/libseccomp names) → the engine's profile, compiled by the engine's compiler. */
export function ociSeccompProfile(sc: OciSeccomp): SeccompProfile {
  const action = (name: string, errnoRet: number | undefined, field: string): SeccompAction => {
    const a = SECCOMP_ACTIONS[name];
    if (!a) throw new BundleError(`${field}: unsupported seccomp action ${JSON.stringify(name)} (have ${Object.keys(SECCOMP_ACTIONS).join(', ')})`);
    return a(errnoRet ?? 1);
  };
  const rules: SeccompRule[] = (sc.syscalls ?? []).map((r, i) => ({
    names: r.names,
    action: action(r.action, r.errnoRet, `linux.seccomp.syscalls[${i}].action`),
    args: r.args?.map((a, j) => {
      const op = SECCOMP_OPS[a.op];
      if (!op) throw new BundleError(`linux.seccomp.syscalls[${i}].args[${j}].op: unsupported ${JSON.stringify(a.op)}`);
      return op === 'masked_eq' ? { index: a.index, op, mask: a.value, value: a.valueTwo ?? 0 } : { index: a.index, op, value: a.value };
    }),
  }));
  return { name: 'config.json', defaultAction: action(sc.defaultAction, sc.defaultErrnoRet, 'linux.seccomp.defaultAction'), rules };
}

export interface BundlePlanInput {
  bundle: string;
  config: OciConfig;
  id: string;
  /** the CLI's state directory of this container: the monitor's exit.json, the seccomp file */
  stateDir: string;
  /** cgroup.procs files the init joins (made by the CLI from linux.cgroupsPath) */
  cgroupProcs: string[];
  /** hierarchy → the container's cgroup directory, for a "cgroup" mount */
  cgroupDirs: Record<string, string>;
  cgroupVersion: 1 | 2;
  cgroupsPath: string;
}

/** config.json → RuntimePlan. Throws BundleError naming the field for anything it cannot honour. */
export function planFromBundle(input: BundlePlanInput): RuntimePlan {
  const { config: c, bundle } = input;
  const p = c.process;
  if (!p) throw new BundleError('process: missing (config.json must say what to run)');
  if (!Array.isArray(p.args) || p.args.length === 0) throw new BundleError('process.args: must name the command to run');
  p.args.forEach((a, i) => noNul(a, `process.args[${i}]`));
  if (!p.cwd || !isAbsolute(p.cwd)) throw new BundleError(`process.cwd: must be an absolute path (got ${JSON.stringify(p.cwd)})`);
  const rootRel = c.root?.path;
  if (!rootRel) throw new BundleError('root.path: missing');
  const rootfs = resolve(bundle, noNul(rootRel, 'root.path'));
  if (!existsSync(rootfs) || !statSync(rootfs).isDirectory()) throw new BundleError(`root.path: ${rootfs} is not a directory`);

  const l = c.linux ?? {};
  const namespaces: Namespace[] = [];
  const joinNamespaces: Partial<Record<Namespace, string>> = {};
  for (const [i, ns] of (l.namespaces ?? []).entries()) {
    const name = OCI_NS[ns.type];
    if (!name) throw new BundleError(`linux.namespaces[${i}].type: unknown namespace ${JSON.stringify(ns.type)}`);
    if (namespaces.includes(name) || joinNamespaces[name]) throw new BundleError(`linux.namespaces[${i}]: ${ns.type} is listed twice`);
    if (ns.path) {
      if (name === 'user' || name === 'mnt') throw new BundleError(`linux.namespaces[${i}].path: joining an existing ${ns.type} namespace is not supported by Glassbox's runtime`);
      if (!existsSync(ns.path)) throw new BundleError(`linux.namespaces[${i}].path: ${ns.path} does not exist`);
      joinNamespaces[name] = ns.path;
    } else namespaces.push(name);
  }
  if (!namespaces.includes('mnt')) throw new BundleError('linux.namespaces: Glassbox\'s runtime needs a new mount namespace ("mount")');
  const has = (ns: Namespace) => namespaces.includes(ns);
  // a joined uts namespace keeps its own name (the helper sets one only in a new namespace)
  if (c.hostname && !has('uts') && !joinNamespaces.uts) throw new BundleError('hostname: needs a uts namespace of its own');
  const userns = has('user');
  const maps = (m: OciIdMapping[] | undefined, field: string): IdMapping[] =>
    (m ?? []).map((x, i) => ({ containerId: ints(x.containerID, `${field}[${i}].containerID`), hostId: ints(x.hostID, `${field}[${i}].hostID`), size: ints(x.size, `${field}[${i}].size`) }));
  const uidMap = maps(l.uidMappings, 'linux.uidMappings');
  const gidMap = maps(l.gidMappings, 'linux.gidMappings');
  if (userns && (!uidMap.length || !gidMap.length)) throw new BundleError('linux.uidMappings/gidMappings: a user namespace needs both');

  const mounts: PlanMount[] = [];
  for (const [i, m] of (c.mounts ?? []).entries()) {
    const field = `mounts[${i}]`;
    if (!m.destination) throw new BundleError(`${field}.destination: missing`);
    const destination = containerPath(m.destination, `${field}.destination`);
    const { words, data } = ociMountOptions((m.options ?? []).map((o, j) => noNul(o, `${field}.options[${j}]`)));
    const isBind = m.type === 'bind' || words.includes('bind') || words.includes('rbind');
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      // the container's own cgroups, read-only, as the engine gives them (spec.ts cgroupMounts)
      if (destination !== '/sys/fs/cgroup') throw new BundleError(`${field}: a cgroup mount must be at /sys/fs/cgroup`);
      mounts.push(...cgroupMounts(input.cgroupDirs, input.cgroupVersion));
      continue;
    }
    let source = noNul(m.source ?? m.type ?? 'none', `${field}.source`);
    // a bind source is a host path: relative ones are relative to the bundle, as in runc
    if (isBind && !isAbsolute(source)) source = resolve(bundle, source);
    if (isBind && !existsSync(source)) throw new BundleError(`${field}.source: ${source} does not exist`);
    mounts.push({ destination, type: isBind ? 'bind' : (m.type ?? 'none'), source, options: [...words, ...data] });
  }

  const devices = new Map<string, PlanDevice>();
  for (const d of STANDARD_DEVICES) devices.set(d.path, d);
  for (const [i, d] of (l.devices ?? []).entries()) {
    const field = `linux.devices[${i}]`;
    const path = containerPath(d.path, `${field}.path`);
    if (!['c', 'b', 'u', 'p'].includes(d.type)) throw new BundleError(`${field}.type: must be c, b, u or p (got ${JSON.stringify(d.type)})`);
    const fifo = d.type === 'p';
    devices.set(path, { path, type: d.type === 'b' ? 'b' : fifo ? 'p' : 'c', major: fifo ? 0 : ints(d.major, `${field}.major`), minor: fifo ? 0 : ints(d.minor, `${field}.minor`), mode: (d.fileMode ?? 0o666) & 0o7777, uid: d.uid === undefined ? undefined : ints(d.uid, `${field}.uid`), gid: d.gid === undefined ? undefined : ints(d.gid, `${field}.gid`) });
  }

  const capField = (k: 'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient') => {
    const names = p.capabilities?.[k] ?? [];
    try {
      return capabilityMask(names);
    } catch (e) {
      throw new BundleError(`process.capabilities.${k}: ${(e as Error).message}`);
    }
  };
  const capabilityMasks = {
    bounding: capField('bounding'),
    effective: capField('effective'),
    permitted: capField('permitted'),
    inheritable: capField('inheritable'),
    // the kernel raises an ambient capability only if it is permitted and inheritable; runc skips
    // the others without a word (its own `runc spec` lists ambient caps with no inheritable set)
    ambient: capField('ambient') & capField('inheritable') & capField('permitted'),
  };
  let seccompBpf: string | null = null;
  if (l.seccomp) {
    seccompBpf = resolve(input.stateDir, 'seccomp.bpf');
    const profile = ociSeccompProfile(l.seccomp);
    try {
      // every rule applies: a config.json's profile has no capability conditions
      compileAndWrite(seccompBpf, profile);
    } catch (e) {
      throw e instanceof BundleError ? e : new BundleError(`linux.seccomp: ${(e as Error).message}`);
    }
  }
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    if (!RLIMITS.has(r.type)) throw new BundleError(`process.rlimits[${i}].type: ${JSON.stringify(r.type)} is not a Linux RLIMIT_ name`);
    const v = (n: number) => (n >= 2 ** 63 ? ('unlimited' as const) : ints(n, `process.rlimits[${i}]`));
    return { type: r.type, soft: v(r.soft), hard: v(r.hard) };
  });
  const off = l.timeOffsets;
  return {
    id: input.id,
    rootfs,
    readOnlyRoot: c.root?.readonly === true,
    rootMode: 'pivot',
    rootPropagation: rootPropagation(l.rootfsPropagation),
    namespaces,
    joinNamespaces,
    uidMap: userns ? uidMap : [],
    gidMap: userns ? gidMap : [],
    timeOffsets: has('time') ? { monotonic: off?.monotonic?.secs ?? 0, boottime: off?.boottime?.secs ?? 0 } : null,
    cgroupsPath: input.cgroupsPath,
    cgroupProcs: input.cgroupProcs,
    hostname: c.hostname ?? null,
    mounts,
    devices: [...devices.values()],
    // runc makes these whether or not the config lists /dev as a tmpfs; the helper does it the same way
    symlinks: STANDARD_SYMLINKS,
    maskedPaths: (l.maskedPaths ?? []).map((m, i) => containerPath(m, `linux.maskedPaths[${i}]`)),
    readonlyPaths: (l.readonlyPaths ?? []).map((m, i) => containerPath(m, `linux.readonlyPaths[${i}]`)),
    rlimits,
    capabilities: {
      bounding: p.capabilities?.bounding ?? [],
      effective: p.capabilities?.effective ?? [],
      permitted: p.capabilities?.permitted ?? [],
      inheritable: p.capabilities?.inheritable ?? [],
      ambient: p.capabilities?.ambient ?? [],
    },
    capabilityMasks,
    noNewPrivileges: p.noNewPrivileges === true,
    seccompBpf,
    seccompProfile: (l.seccomp as Record<string, unknown> | undefined) ?? null,
    oomScoreAdj: p.oomScoreAdj ?? 0,
    user: {
      uid: ints(p.user?.uid ?? 0, 'process.user.uid'),
      gid: ints(p.user?.gid ?? 0, 'process.user.gid'),
      additionalGids: (p.user?.additionalGids ?? []).map((g, i) => ints(g, `process.user.additionalGids[${i}]`)),
    },
    cwd: p.cwd,
    env: (p.env ?? []).map((e, i) => noNul(e, `process.env[${i}]`)),
    args: p.args,
    terminal: p.terminal === true,
    stdin: false,
    init: false,
    stateDir: input.stateDir,
    logPath: null,
    logRotate: null,
    monitorCgroupProcs: [],
    resources: l.resources ?? {},
  };
}

function compileAndWrite(path: string, profile: SeccompProfile): void {
  writeFileSync(path, compileSeccomp(profile, []), { mode: 0o600 });
}

function rootPropagation(p: string | undefined): RuntimePlan['rootPropagation'] {
  if (p === undefined || p === '') return undefined;
  const word = p.replace(/^r/, '');
  if (word === 'shared' || word === 'slave' || word === 'private' || word === 'unbindable') return word;
  throw new BundleError(`linux.rootfsPropagation: ${JSON.stringify(p)} is not shared, slave, private or unbindable`);
}
