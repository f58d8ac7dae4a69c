// The runtime plan: every decision about one container start, in one typed value. From it come
// both the OCI config.json (spec.ts: for the learner, for export, for runc/crun) and the helper
// spec (helper-spec.ts: for gb-helper). One source, two spellings, so they can never disagree.
import type { IdMapping, Namespace } from '../types.js';

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  STRICTATIME: 0x1000000,
} as const;

export interface PlanMount {
  /** filesystem type; "bind" for bind mounts */
  type: string;
  source: string;
  /** inside the container */
  destination: string;
  /** OCI-style option words: nosuid, noexec, ro, rbind, mode=755 ... */
  options: string[];
}

export interface PlanDevice {
  path: string;
  /** p: a FIFO (OCI linux.devices allows them; the numbers are 0) */
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  /** the node's owner (OCI linux.devices uid/gid); unset: root, as mknod makes it */
  uid?: number;
  gid?: number;
}

export interface CapabilitySet {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface RuntimePlan {
  id: string;
  rootfs: string;
  readOnlyRoot: boolean;
  rootMode: 'pivot' | 'chroot';
  /** OCI linux.rootfsPropagation for / after pivot_root (unset: the helper's rslave mounts stay as they are) */
  rootPropagation?: 'shared' | 'slave' | 'private' | 'unbindable';
  /** namespaces to create */
  namespaces: Namespace[];
  /** namespaces to join: ns -> path of a /proc/PID/ns/* file (docker --network container:x) */
  joinNamespaces: Partial<Record<Namespace, string>>;
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  timeOffsets: { monotonic: number; boottime: number } | null;
  /** the cgroup path relative to each hierarchy (OCI linux.cgroupsPath) */
  cgroupsPath: string;
  /** cgroup.procs files the init joins */
  cgroupProcs: string[];
  hostname: string | null;
  mounts: PlanMount[];
  devices: PlanDevice[];
  symlinks: { target: string; link: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  rlimits: { type: string; soft: number | 'unlimited'; hard: number | 'unlimited' }[];
  capabilities: CapabilitySet;
  /** the same capabilities as the five masks the helper applies */
  capabilityMasks: { bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
  noNewPrivileges: boolean;
  /** path of the compiled seccomp BPF, null = unconfined */
  seccompBpf: string | null;
  /** OCI linux.seccomp (the profile, for config.json) */
  seccompProfile: Record<string, unknown> | null;
  oomScoreAdj: number;
  user: { uid: number; gid: number; additionalGids: number[] };
  cwd: string;
  env: string[];
  args: string[];
  terminal: boolean;
  stdin: boolean;
  init: boolean;
  stateDir: string;
  /** null: the none log driver, no log file */
  logPath: string | null;
  /** rotate the log at maxSize bytes, keeping maxFiles files (null: never rotate) */
  logRotate: { maxSize: number; maxFiles: number } | null;
  /** the cgroup.procs files the monitor itself joins, so that its work is charged to the container */
  monitorCgroupProcs: string[];
  /** resources for config.json (the engine writes the cgroup files itself) */
  resources: Record<string, unknown>;
}

/**
 * None by default: the container inherits the server's limits, as Docker's containers inherit
 * dockerd's. (Raising a hard limit needs CAP_SYS_RESOURCE, which root may lack, as on this host.)
 */
export const DEFAULT_RLIMITS: RuntimePlan['rlimits'] = [];
