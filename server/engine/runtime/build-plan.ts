// From a container record (what the user asked for) and its image to a RuntimePlan (what the
// helper will do). Docker's defaults live here: which namespaces, which capabilities, which
// seccomp profile, which paths are masked.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecOptions } from '../api.js';
import type { ResolvedImage } from '../images/store.js';
import type { ResolvedUser } from '../containers/users.js';
import type { ContainerRecord, IdMapping, Namespace } from '../types.js';
import { resolveCapabilities } from './capabilities.js';
import { compileSeccomp } from './seccomp-bpf.js';
import { dockerDefaultProfile, profileForOci } from './seccomp-profile.js';
import { DEFAULT_RLIMITS, type PlanDevice, type PlanMount, type RuntimePlan } from './plan.js';
import { cgroupMounts, MASKED_PATHS, READONLY_PATHS, STANDARD_DEVICES, STANDARD_SYMLINKS, standardMounts } from './spec.js';
import type { ExecPlan } from './helper-spec.js';
import { DEVICE_ALLOWLIST } from '../containers/validate-extras.js';

/** Docker's default: every namespace but user and time (and cgroup, which Docker adds on v2). */
export const DEFAULT_NAMESPACES: Record<Namespace, boolean> = {
  pid: true, mnt: true, net: true, uts: true, ipc: true, cgroup: true, user: false, time: false,
};

export function effectiveNamespaces(rec: ContainerRecord): Namespace[] {
  const wanted = { ...DEFAULT_NAMESPACES, ...(rec.config.namespaces ?? {}) };
  for (const [ns, v] of Object.entries(rec.config.shareNamespaces ?? {})) if (v) wanted[ns as Namespace] = false;
  if (rec.config.network === 'host' || rec.config.network?.startsWith('container:')) wanted.net = false;
  return (Object.keys(wanted) as Namespace[]).filter((ns) => wanted[ns]);
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Image Env, then the user's -e (a later KEY= replaces an earlier one), then HOSTNAME/TERM/HOME. */
export function buildEnv(imageEnv: string[], userEnv: string[], extra: { hostname: string; tty: boolean; home: string }): string[] {
  const map = new Map<string, string>();
  const put = (e: string) => {
    const i = e.indexOf('=');
    map.set(i < 0 ? e : e.slice(0, i), e);
  };
  put(DEFAULT_PATH);
  imageEnv.forEach(put);
  put(`HOSTNAME=${extra.hostname}`);
  userEnv.filter((e) => e.includes('=')).forEach(put);
  if (extra.tty && !map.has('TERM')) put('TERM=xterm');
  if (!map.has('HOME')) put(`HOME=${extra.home}`);
  return [...map.values()];
}

export interface BuildPlanInput {
  rec: ContainerRecord;
  image: ResolvedImage;
  user: ResolvedUser;
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  runDir: string;
  cgroupProcs: string[];
  /** where the monitor charges its own work (the driver's monitorProcsFiles) */
  monitorCgroupProcs?: string[];
  cgroupPaths: Record<string, string>;
  /** the parent cgroup's name (HostNames.cgroupParent; default glassbox) */
  cgroupParent?: string;
  /** the level between the parent and the container: learners/<lid> for a learner's (cgroups/groups.ts) */
  cgroupGroup?: string;
  cgroupVersion: 1 | 2;
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  joinNamespaces: Partial<Record<Namespace, string>>;
  /** volume name → the host directory to bind (volumes/container-volumes.ts prepareVolumes) */
  volumeSources?: Record<string, string>;
}

/** The profile depends only on the capability set: compile each set once. */
const compiledProfiles = new Map<string, { bpf: Buffer; oci: Record<string, unknown> }>();
function compiledFor(capNames: string[]): { bpf: Buffer; oci: Record<string, unknown> } {
  const key = [...capNames].sort().join(',');
  let c = compiledProfiles.get(key);
  if (!c) {
    c = { bpf: compileSeccomp(dockerDefaultProfile(), capNames), oci: profileForOci(dockerDefaultProfile(), capNames) };
    compiledProfiles.set(key, c);
  }
  return c;
}

function securityFor(rec: ContainerRecord, bpfPath: string, privileged: boolean, uid: number) {
  // A non-root user keeps only the bounding set, as execve would leave it (Docker does the same).
  const caps = resolveCapabilities({ privileged, capAdd: rec.config.capAdd ?? [], capDrop: rec.config.capDrop ?? [], uid });
  let seccompBpf: string | null = null;
  let seccompProfile: Record<string, unknown> | null = null;
  if (!privileged && (rec.config.seccomp ?? 'default') === 'default') {
    seccompBpf = bpfPath;
    const compiled = compiledFor(caps.names);
    writeFileSync(seccompBpf, compiled.bpf);
    seccompProfile = compiled.oci;
  }
  return { caps, seccompBpf, seccompProfile };
}

export function buildPlan(input: BuildPlanInput): RuntimePlan {
  const { rec, image, user } = input;
  const c = rec.config;
  const privileged = c.privileged === true;
  const namespaces = effectiveNamespaces(rec);
  const has = (ns: Namespace) => namespaces.includes(ns);
  const userns = has('user');
  const imageConfig = (image.config.config ?? {}) as { Env?: string[]; WorkingDir?: string };
  const hostname = has('uts') ? (c.hostname ?? rec.id.slice(0, 12)) : null;

  const mounts: PlanMount[] = standardMounts({ netns: has('net'), userns, ipcns: has('ipc') });
  if (privileged) {
    // --privileged: the host's device nodes instead of the six safe ones, and a writable /sys.
    mounts[1] = { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'nosuid'] };
    const sys = mounts.find((m) => m.destination === '/sys');
    if (sys) sys.options = sys.options.filter((o) => o !== 'ro');
  }
  mounts.push(...cgroupMounts(input.cgroupPaths, input.cgroupVersion));
  mounts.push(
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  );
  // --shm-size: the size of the /dev/shm tmpfs (Docker's 64m unless asked)
  const shm = mounts.find((m) => m.destination === '/dev/shm' && m.type === 'tmpfs');
  if (shm && c.shmSize !== undefined) shm.options = [...shm.options.filter((o) => !o.startsWith('size=')), `size=${Math.ceil(c.shmSize / 1024)}k`];
  // parents before children (Docker sorts the same way): /data is mounted before /data/logs
  const depth = (t: string) => t.split('/').filter((x) => x && x !== '.').length;
  for (const m of [...(c.mounts ?? [])].sort((a, b) => depth(a.target) - depth(b.target))) {
    // a tmpfs without size= would get half of the host's RAM: the engine filled in the daemon's default
    const sized = [...(m.size !== undefined ? [`size=${Math.ceil(m.size / 1024)}k`] : []), ...(m.mode !== undefined ? [`mode=${m.mode.toString(8)}`] : [])];
    if (m.type === 'tmpfs') mounts.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...sized, ...(m.readOnly ? ['ro'] : [])] });
    else if (m.type === 'volume') {
      // a volume is a bind mount of its directory (or its idmapped view): outside the union
      const source = input.volumeSources?.[m.source ?? ''];
      if (!source) throw new Error(`volume ${m.source ?? '(anonymous)'} for ${m.target} was not prepared`);
      mounts.push({ destination: m.target, type: 'bind', source, options: ['rbind', ...(m.readOnly ? ['ro'] : [])] });
    } else mounts.push({ destination: m.target, type: 'bind', source: m.source!, options: ['rbind', ...(m.readOnly ? ['ro'] : [])] });
  }

  const { caps, seccompBpf, seccompProfile } = securityFor(rec, join(input.runDir, 'seccomp.bpf'), privileged, user.uid);
  const env = buildEnv(imageConfig.Env ?? [], c.env ?? [], { hostname: hostname ?? '', tty: c.tty === true, home: user.home });
  const l = rec.limits;
  return {
    id: rec.id,
    rootfs: rec.paths.rootfs,
    readOnlyRoot: c.readOnlyRoot === true,
    rootMode: c.rootMode ?? 'pivot',
    namespaces,
    joinNamespaces: input.joinNamespaces,
    uidMap: userns ? input.uidMap : [],
    gidMap: userns ? input.gidMap : [],
    timeOffsets: has('time') ? (c.timeOffsets ?? { monotonic: 0, boottime: 0 }) : null,
    // where the driver made the container's cgroup, so runc or crun put the container there too
    cgroupsPath: `/${input.cgroupParent ?? 'glassbox'}/${input.cgroupGroup ? `${input.cgroupGroup}/` : ''}${rec.id}`,
    cgroupProcs: input.cgroupProcs,
    hostname,
    mounts,
    devices: privileged ? [] : [...STANDARD_DEVICES, ...extraDevices(rec)],
    symlinks: STANDARD_SYMLINKS,
    maskedPaths: privileged ? [] : MASKED_PATHS,
    readonlyPaths: privileged ? [] : READONLY_PATHS,
    rlimits: [
      ...DEFAULT_RLIMITS,
      ...(c.ulimits ?? []).map((u) => ({
        type: `RLIMIT_${u.name.toUpperCase()}`,
        soft: u.soft === -1 ? ('unlimited' as const) : u.soft,
        hard: u.hard === -1 ? ('unlimited' as const) : u.hard,
      })),
    ],
    capabilities: caps.sets,
    capabilityMasks: caps.masks,
    noNewPrivileges: c.noNewPrivileges === true,
    seccompBpf,
    seccompProfile,
    oomScoreAdj: 0,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    cwd: c.workingDir || imageConfig.WorkingDir || '/',
    env,
    args: [rec.path, ...rec.args],
    terminal: c.tty === true,
    stdin: c.openStdin === true,
    init: c.init === true,
    stateDir: input.runDir,
    logPath: rec.logging?.driver === 'none' ? null : rec.paths.log,
    logRotate: rec.logging?.maxSize ? { maxSize: rec.logging.maxSize, maxFiles: rec.logging.maxFiles } : null,
    monitorCgroupProcs: input.monitorCgroupProcs ?? [],
    resources: {
      memory: { limit: l.memory ?? undefined, swap: l.memorySwap ?? undefined },
      cpu: {
        quota: l.cpus ? Math.round(l.cpus * (l.cpuPeriod ?? 100000)) : undefined,
        period: l.cpus ? (l.cpuPeriod ?? 100000) : undefined,
        shares: l.cpuShares ?? undefined,
      },
      pids: l.pids ? { limit: l.pids } : undefined,
      blockIO: l.io.length
        ? {
            throttleReadBpsDevice: l.io.filter((d) => d.readBps).map((d) => ({ major: d.major, minor: d.minor, rate: d.readBps })),
            throttleWriteBpsDevice: l.io.filter((d) => d.writeBps).map((d) => ({ major: d.major, minor: d.minor, rate: d.writeBps })),
          }
        : undefined,
    },
  };
}

export interface BuildExecPlanInput {
  rec: ContainerRecord;
  image: ResolvedImage;
  user: ResolvedUser;
  opts: ExecOptions;
  runDir: string;
  cgroupProcs: string[];
  targetPid: number;
  targetStart: string;
}

/** docker exec: the container's own security settings, its env plus -e, its cwd unless -w. */
export function buildExecPlan(input: BuildExecPlanInput): ExecPlan {
  const { rec, image, user, opts } = input;
  const privileged = rec.config.privileged === true || opts.privileged === true;
  // Each exec gets its own copy of the filter: the container's file may be read by another exec.
  const { caps, seccompBpf } = securityFor(rec, join(input.runDir, `exec-${process.hrtime.bigint()}.bpf`), privileged, user.uid);
  const imageConfig = (image.config.config ?? {}) as { Env?: string[]; WorkingDir?: string };
  const hostname = rec.config.hostname ?? rec.id.slice(0, 12);
  const env = buildEnv(imageConfig.Env ?? [], [...(rec.config.env ?? []), ...(opts.env ?? [])], { hostname, tty: opts.tty === true, home: user.home });
  return {
    targetPid: input.targetPid,
    targetStart: input.targetStart,
    cgroupProcs: input.cgroupProcs,
    capabilityMasks: caps.masks,
    noNewPrivileges: rec.config.noNewPrivileges === true,
    seccompBpf,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    cwd: opts.workingDir || rec.config.workingDir || imageConfig.WorkingDir || '/',
    env,
    args: opts.cmd,
  };
}

/**
 * --device from the allowlist (containers/validate-extras.ts), under the name asked for; the
 * cgroup rules already allow these numbers, so no other device becomes reachable. A name that is
 * one of the standard ones replaces it.
 */
function extraDevices(rec: ContainerRecord): PlanDevice[] {
  return (rec.config.devices ?? []).flatMap((d) => {
    const n = DEVICE_ALLOWLIST[d.path];
    const path = d.containerPath ?? d.path;
    if (!n || STANDARD_DEVICES.some((s) => s.path === path && s.major === n.major && s.minor === n.minor)) return [];
    return [{ path, type: 'c' as const, major: n.major, minor: n.minor, mode: 0o666 }];
  });
}
