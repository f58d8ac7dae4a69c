// Pick the cgroup driver for this host: v2 on a unified host, v1 on a v1 or hybrid host (the
// hybrid host's cgroup2 mount has no controllers, so limits must go to the v1 hierarchies).
import { detectLayout, DEFAULT_CGROUP_ROOT, findV1Hierarchies, type V1Controller } from './detect.js';
import type { CgroupDriver, CgroupLayout } from './types.js';
import { CgroupV1Driver } from './v1.js';
import { CgroupV2Driver } from './v2.js';

export interface OpenCgroupDriverOptions {
  /** where the cgroup filesystems are mounted (default /sys/fs/cgroup) */
  root?: string;
  /** skip detection */
  layout?: CgroupLayout;
  /** v1: controller -> hierarchy directory (default: from /proc/self/mountinfo) */
  hierarchies?: Partial<Record<V1Controller, string>>;
  swapAccounting?: boolean;
  devBlockDir?: string;
  hostCpus?: number;
  timeoutMs?: number;
  /** the parent cgroup's name (default glassbox): HostNames.cgroupParent */
  parent?: string;
}

export function openCgroupDriver(opts: OpenCgroupDriverOptions = {}): CgroupDriver {
  const root = opts.root ?? DEFAULT_CGROUP_ROOT;
  const layout = opts.layout ?? detectLayout(root);
  const common = { swapAccounting: opts.swapAccounting, devBlockDir: opts.devBlockDir, hostCpus: opts.hostCpus, timeoutMs: opts.timeoutMs, parent: opts.parent };
  if (layout === 'v2') return new CgroupV2Driver({ root, ...common });
  return new CgroupV1Driver({ hierarchies: opts.hierarchies ?? findV1Hierarchies(), layout, ...common });
}

export { CgroupV1Driver, DEVICE_ALLOW_RULES } from './v1.js';
export { CgroupV2Driver } from './v2.js';
export { detectLayout, findV1Hierarchies, findCgroup2Mount, parseMountinfo } from './detect.js';
export { sharesToWeight, weightToShares } from './util.js';
export type { CgroupDriver, CgroupLayout, CgroupStats, CgroupWrite } from './types.js';
