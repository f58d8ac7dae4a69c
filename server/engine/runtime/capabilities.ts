// Linux capabilities: the table, Docker's default set, and --cap-add / --cap-drop / --privileged
// resolved into the five masks the helper applies (the `caps` directive of native/PROTOCOL.md).
//
// Semantics follow Docker (moby daemon/pkg/oci/caps: NormalizeLegacyCapabilities, TweakCapabilities,
// and oci.SetCapabilities):
// - names are case-insensitive, with or without the CAP_ prefix; "ALL" is allowed in both lists;
// - --privileged: every capability the kernel knows, adds and drops are not even looked at;
// - no adds and no drops: the default set as it is;
// - "ALL" in --cap-add: every capability except those in --cap-drop (ALL in drop is then ignored);
// - otherwise "ALL" in --cap-drop: exactly the --cap-add list;
// - otherwise: the default set minus the drops, plus the adds;
// - an unknown name fails with `unknown capability: "CAP_FOO"`, a name the running kernel does not
//   have (above /proc/sys/kernel/cap_last_cap) with `capability not supported by your kernel ...`.
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../types.js';
import type { CapabilitySet } from './plan.js';

// The table lives in common/ so the dashboard names capabilities the same way (the timeline's
// capability step decodes its masks with it).
import { CAPABILITIES } from '../../../common/capabilities.js';

export { CAPABILITIES };

export type CapabilityName = (typeof CAPABILITIES)[number];

/** The highest capability number in the table above. */
export const CAP_LAST_KNOWN = CAPABILITIES.length - 1;

const NUMBER_OF = new Map<string, number>(CAPABILITIES.map((name, i) => [name, i]));

/** Number of a capability ("CAP_SYS_ADMIN", "sys_admin", "SYS_ADMIN" all work), or undefined. */
export function capabilityNumber(name: string): number | undefined {
  return NUMBER_OF.get(normalizeName(name));
}

/** Name (CAP_ prefixed) of a capability number, or undefined. */
export function capabilityName(n: number): CapabilityName | undefined {
  return CAPABILITIES[n];
}

/** Docker's default set, in Docker's order (moby daemon/pkg/oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

function normalizeName(name: string): string {
  const up = name.trim().toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

let hostLastCapCache: number | null = null;

/**
 * The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap), capped at
 * the table's. Falls back to the table's when the file cannot be read.
 */
export function hostLastCap(): number {
  if (hostLastCapCache !== null) return hostLastCapCache;
  let n = CAP_LAST_KNOWN;
  try {
    const v = Number.parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isInteger(v) && v >= 0) n = Math.min(v, CAP_LAST_KNOWN);
  } catch {
    // not Linux, or /proc not mounted: assume the kernel knows the whole table
  }
  hostLastCapCache = n;
  return n;
}

/** A u64 mask from capability names (unknown names throw; bits above lastCap are left out). */
export function capabilityMask(names: Iterable<string>, lastCap = hostLastCap()): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new InvalidArgument(`unknown capability: ${JSON.stringify(normalizeName(name))}`);
    if (n <= lastCap) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** Names (CAP_ prefixed, by number) of the bits set in a mask; bits beyond the table are ignored. */
export function capabilityNames(mask: bigint): CapabilityName[] {
  const out: CapabilityName[] = [];
  for (let i = 0; i < CAPABILITIES.length; i++) if ((mask >> BigInt(i)) & 1n) out.push(CAPABILITIES[i]);
  return out;
}

/** Every capability the kernel knows, by number. */
export function allCapabilities(lastCap = hostLastCap()): CapabilityName[] {
  return CAPABILITIES.slice(0, lastCap + 1);
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface ResolveCapabilitiesInput {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /**
   * The uid the process runs as inside the container (default 0). Docker gives a non-root user only
   * the bounding set (see resolveCapabilities).
   */
  uid?: number;
  /** the kernel's last capability (default: /proc/sys/kernel/cap_last_cap); for tests */
  lastCap?: number;
}

export interface ResolvedCapabilities {
  /** the container's capability list (CAP_ prefixed, no duplicates): what seccomp rules are matched against */
  names: CapabilityName[];
  /** the five OCI sets (process.capabilities in config.json) */
  sets: CapabilitySet;
  /** the same as u64 masks: the helper's `caps` directive */
  masks: CapabilityMasks;
}

function normalizeList(list: string[], lastCap: number): string[] {
  const out: string[] = [];
  for (const raw of list) {
    const c = raw.trim().toUpperCase();
    if (c === 'ALL') {
      out.push('ALL');
      continue;
    }
    const name = normalizeName(c);
    const n = NUMBER_OF.get(name);
    if (n === undefined) throw new InvalidArgument(`unknown capability: ${JSON.stringify(name)}`);
    if (n > lastCap) {
      throw new InvalidArgument(`capability not supported by your kernel or not available in the current environment: ${JSON.stringify(name)}`);
    }
    out.push(name);
  }
  return out;
}

/**
 * --privileged / --cap-add / --cap-drop with Docker's semantics (see the top of the file).
 *
 * The five sets, as Docker writes them into config.json (oci.SetCapabilities) and runc applies them:
 * - root (uid 0): bounding = effective = permitted = the list. Inheritable stays empty (Docker stopped
 *   filling it after CVE-2022-24769: inheritable caps survive execve of a file with inheritable file
 *   caps, even for non-root), ambient stays empty (Docker never sets ambient caps).
 * - any other uid: bounding = the list, effective and permitted empty. A non-root process loses its
 *   permitted and effective sets on execve anyway (no ambient, no file caps), so Docker just says so
 *   up front ("to match what execve does"); the bounding set still limits what a setuid-root or
 *   file-capability binary inside can regain. Seccomp rules are matched against the list either way.
 */
export function resolveCapabilities(input: ResolveCapabilitiesInput): ResolvedCapabilities {
  const lastCap = input.lastCap ?? hostLastCap();
  const adds = input.capAdd ?? [];
  const drops = input.capDrop ?? [];
  let list: string[];
  if (input.privileged) {
    list = allCapabilities(lastCap);
  } else if (adds.length === 0 && drops.length === 0) {
    list = [...DOCKER_DEFAULT_CAPABILITIES];
  } else {
    const capDrop = normalizeList(drops, lastCap);
    const capAdd = normalizeList(adds, lastCap);
    if (capAdd.includes('ALL')) list = allCapabilities(lastCap).filter((c) => !capDrop.includes(c));
    else if (capDrop.includes('ALL')) list = capAdd;
    else list = [...DOCKER_DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  }
  // Docker may repeat a name (--cap-add of one already in the default set); the kernel does not care,
  // a learner reading config.json might.
  const names = [...new Set(list)].filter((c) => (NUMBER_OF.get(c) ?? Infinity) <= lastCap) as CapabilityName[];
  const mask = capabilityMask(names, lastCap);
  const root = (input.uid ?? 0) === 0;
  return {
    names,
    sets: {
      bounding: [...names],
      effective: root ? [...names] : [],
      permitted: root ? [...names] : [],
      inheritable: [],
      ambient: [],
    },
    masks: {
      bounding: mask,
      effective: root ? mask : 0n,
      permitted: root ? mask : 0n,
      inheritable: 0n,
      ambient: 0n,
    },
  };
}

/** A mask as the helper spec and /proc/PID/status spell it: 16 hex digits. */
export function formatCapMask(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}
