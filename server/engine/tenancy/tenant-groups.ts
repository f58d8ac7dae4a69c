// A learner's quota, held by the kernel: the cgroup learners/<lid>/ above all of the learner's
// containers. Its memory.max (v1 memory.limit_in_bytes), cpu.max (cfs quota) and pids.max count
// every container of the learner together, whatever limits each container asked for itself:
// limits are hierarchical, a child cannot use more than its parent allows.
//
// The limits are also kept on disk (<root>/tenants.json): the group goes when it is empty (the
// sweep at start, or removeTenant) and is made again, with the same limits, when the learner's
// next container starts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { learnerGroup, subdirs } from '../cgroups/groups.js';
import type { CgroupDriver, CgroupWrite } from '../cgroups/types.js';
import { hostCpuCount, MIN_MEMORY } from '../cgroups/util.js';
import { InvalidArgument, type ContainerRecord, type ResourceLimits } from '../types.js';
import { readJson, writeJsonAtomic } from '../util/fsx.js';
import { OWNER_LABEL } from './learner-policy.js';

/** A learner's quota; null = unlimited, absent = unchanged. */
export interface TenantLimits {
  /** bytes for all the learner's containers together; swap is held to 0 beyond it where the host accounts swap */
  memory?: number | null;
  /** CPUs (quota per period) for all of them together: 0.5 = half a core */
  cpus?: number | null;
  /** tasks (processes and threads) for all of them together */
  pids?: number | null;
}

/** What the teacher's roster shows: the group's counters, all the learner's containers together. */
export interface TenantUsage {
  learnerId: string;
  /** learners/<lid>, relative to the engine's cgroup parent */
  group: string;
  /** false when the group does not exist now (no container yet, or swept): counters are 0 */
  exists: boolean;
  memory: { current: number; limit: number | null; peak: number | null; oomKills: number };
  /** the CPU quota, null = none */
  cpus: number | null;
  cpuUsageNs: number;
  pids: { current: number; limit: number | null; refused: number };
  /** hierarchy -> the group's directory */
  paths: Record<string, string>;
}

const FIELDS = ['memory', 'cpus', 'pids'] as const;

/** Check a quota before anything is written: InvalidArgument naming the field. */
export function checkTenantLimits(limits: unknown, hostCpus = hostCpuCount()): TenantLimits {
  if (!limits || typeof limits !== 'object' || Array.isArray(limits)) throw new InvalidArgument('learner quota: want an object {memory, cpus, pids}');
  const l = limits as Record<string, unknown>;
  for (const k of Object.keys(l)) if (!(FIELDS as readonly string[]).includes(k)) throw new InvalidArgument(`learner quota: unknown field ${JSON.stringify(k)} (memory, cpus and pids can be set)`);
  const { memory, cpus, pids } = l;
  if (memory !== undefined && memory !== null) {
    if (typeof memory !== 'number' || !Number.isSafeInteger(memory) || memory < MIN_MEMORY) {
      throw new InvalidArgument(`learner quota memory: want a whole number of bytes, at least ${MIN_MEMORY} (6 MiB), or null for none (got ${JSON.stringify(memory)})`);
    }
  }
  if (cpus !== undefined && cpus !== null) {
    if (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus < 0.01 || cpus > hostCpus) {
      throw new InvalidArgument(`learner quota cpus: want a number of CPUs from 0.01 to ${hostCpus}, or null for none (got ${JSON.stringify(cpus)})`);
    }
  }
  if (pids !== undefined && pids !== null) {
    if (typeof pids !== 'number' || !Number.isSafeInteger(pids) || pids < 1 || pids > 2 ** 31) {
      throw new InvalidArgument(`learner quota pids: want a whole number of tasks, at least 1, or null for none (got ${JSON.stringify(pids)})`);
    }
  }
  return Object.fromEntries(FIELDS.filter((k) => l[k] !== undefined).map((k) => [k, l[k]])) as TenantLimits;
}

/** The group a container's cgroup goes in: its owner's, or '' for the teacher's own containers. */
export function groupForRecord(rec: Pick<ContainerRecord, 'config'>): string {
  const owner = rec.config.labels?.[OWNER_LABEL];
  return owner === undefined ? '' : learnerGroup(owner);
}

export class TenantGroups {
  private readonly file: string;

  constructor(
    private readonly cgroups: CgroupDriver,
    root: string,
  ) {
    this.file = join(root, 'tenants.json');
  }

  private load(): Record<string, TenantLimits> {
    return existsSync(this.file) ? (readJson<Record<string, TenantLimits>>(this.file) ?? {}) : {};
  }

  /** The quota kept for a learner (what the group gets when it is made again). */
  limitsOf(learnerId: string): TenantLimits {
    learnerGroup(learnerId);
    return this.load()[learnerId] ?? {};
  }

  /** The driver's limits for a quota: memory+swap held to memory where the host accounts swap. */
  private toResourceLimits(l: TenantLimits): Partial<ResourceLimits> {
    const out: Partial<ResourceLimits> = {};
    if (l.memory !== undefined) {
      out.memory = l.memory;
      if (l.memory !== null && this.cgroups.swapSupported()) out.memorySwap = l.memory;
    }
    if (l.cpus !== undefined) out.cpus = l.cpus;
    if (l.pids !== undefined) out.pids = l.pids;
    return out;
  }

  /** Set a learner's quota: checked first (nothing written on a bad value), kept, written on the group. */
  async setLimits(learnerId: string, limits: TenantLimits): Promise<CgroupWrite[]> {
    const group = learnerGroup(learnerId);
    const checked = checkTenantLimits(limits);
    const writes = await this.cgroups.createGroup(group);
    writes.push(...(await this.cgroups.updateGroup(group, this.toResourceLimits(checked))));
    const all = this.load();
    all[learnerId] = { ...(all[learnerId] ?? {}), ...checked };
    writeJsonAtomic(this.file, all);
    return writes;
  }

  /**
   * Before a learner's container gets its cgroup: the group exists, with the learner's kept quota
   * (made again after a sweep). Returns the writes, for the creation timeline.
   */
  async prepare(group: string): Promise<CgroupWrite[]> {
    const existed = Object.values(this.cgroups.groupPaths(group)).every((d) => existsSync(d));
    const writes = await this.cgroups.createGroup(group);
    const kept = this.load()[group.split('/')[1]];
    if (!existed && kept) writes.push(...(await this.cgroups.updateGroup(group, this.toResourceLimits(kept))));
    return writes;
  }

  async usage(learnerId: string): Promise<TenantUsage> {
    const group = learnerGroup(learnerId);
    const st = await this.cgroups.groupStats(group);
    const kept = this.load()[learnerId] ?? {};
    return {
      learnerId,
      group,
      exists: st !== null,
      memory: { current: st?.memory.current ?? 0, limit: st ? st.memory.limit : (kept.memory ?? null), peak: st?.memory.peak ?? null, oomKills: st?.memory.events.oomKill ?? 0 },
      cpus: st ? st.cpu.cpus : (kept.cpus ?? null),
      cpuUsageNs: st?.cpu.usageNs ?? 0,
      pids: { current: st?.pids.current ?? 0, limit: st ? st.pids.limit : (kept.pids ?? null), refused: st?.pids.refused ?? 0 },
      paths: this.cgroups.groupPaths(group),
    };
  }

  /** Remove the learner's group (Conflict while a container cgroup is in it) and forget the quota. */
  async remove(learnerId: string): Promise<void> {
    const group = learnerGroup(learnerId);
    await this.cgroups.removeGroup(group);
    const all = this.load();
    if (learnerId in all) {
      delete all[learnerId];
      writeJsonAtomic(this.file, all);
    }
  }

  /** The sweep at start: a group no container is in goes (its quota stays kept, for the next start). */
  async sweepEmpty(): Promise<void> {
    for (const group of await this.cgroups.groups()) {
      const empty = Object.values(this.cgroups.groupPaths(group)).every((d) => subdirs(d).length === 0);
      if (empty) await this.cgroups.removeGroup(group).catch(() => {});
    }
  }
}
