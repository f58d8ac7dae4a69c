// Which cgroup layout this host runs, and where the v1 hierarchies are mounted.
//   statfs(/sys/fs/cgroup) = CGROUP2_SUPER_MAGIC          -> v2 (unified)
//   tmpfs, with a cgroup2 filesystem at /sys/fs/cgroup/unified -> hybrid (v1 controllers + empty v2)
//   anything else                                          -> v1
// The v1 hierarchies come from /proc/self/mountinfo, never from guessed paths: a distribution may
// co-mount "cpu,cpuacct" (one directory, two controllers) or mount them elsewhere.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FS_MAGIC, statfsType } from '../../../native/libc.js';
import type { CgroupLayout } from './types.js';
import { parseMountinfo } from '../util/mountinfo.js';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** The v1 controllers Glassbox makes a directory in, for each container. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'freezer', 'cpuset', 'devices'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export function detectLayout(root = DEFAULT_CGROUP_ROOT): CgroupLayout {
  let type: number;
  try {
    type = statfsType(root);
  } catch {
    return 'v1';
  }
  if (type === FS_MAGIC.CGROUP2) return 'v2';
  if (type === FS_MAGIC.TMPFS) {
    try {
      if (statfsType(join(root, 'unified')) === FS_MAGIC.CGROUP2) return 'hybrid';
    } catch {
      // no unified mount: plain v1
    }
  }
  return 'v1';
}

export { parseMountinfo };

/**
 * controller -> directory of its v1 hierarchy. Co-mounted controllers map to the same directory.
 * When a hierarchy is mounted twice, the first mount wins (the one under /sys/fs/cgroup on a
 * normal host, since that is mounted at boot).
 */
export function findV1Hierarchies(mountinfo?: string): Partial<Record<V1Controller, string>> {
  const text = mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  const out: Partial<Record<V1Controller, string>> = {};
  for (const m of parseMountinfo(text)) {
    if (m.fsType !== 'cgroup') continue;
    for (const opt of m.superOptions) {
      if ((V1_CONTROLLERS as readonly string[]).includes(opt) && !out[opt as V1Controller]) out[opt as V1Controller] = m.mountPoint;
    }
  }
  return out;
}

/** Where the cgroup2 filesystem is mounted (the first one), or null. */
export function findCgroup2Mount(mountinfo?: string): string | null {
  const text = mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  return parseMountinfo(text).find((m) => m.fsType === 'cgroup2')?.mountPoint ?? null;
}
