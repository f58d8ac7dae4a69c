// POST /containers/{id}/update: Docker's UpdateConfig → the engine's update (limits + restart policy).
import { z } from 'zod';
import type { ContainerConfig, ResourceLimits } from '../../engine/index.js';
import { mapRestartPolicy, restartPolicySchema, HOST_CONFIG_FLAGS, isUnset } from './create-config.js';
import { ApiError, badRequest, unsupported } from './errors.js';

export const updateBodySchema = z.looseObject({
  Memory: z.number().int().min(0).nullish(),
  MemorySwap: z.number().int().min(-1).nullish(),
  NanoCpus: z.number().int().min(0).nullish(),
  CpuShares: z.number().int().min(0).nullish(),
  CpuPeriod: z.number().int().min(0).nullish(),
  CpuQuota: z.number().int().min(-1).nullish(),
  PidsLimit: z.number().int().nullish(),
  RestartPolicy: restartPolicySchema,
});

const SUPPORTED = new Set(['Memory', 'MemorySwap', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit', 'RestartPolicy']);
const SPECIAL_UNSET: Record<string, (v: unknown) => boolean> = {
  MemorySwappiness: (v) => v === -1 || v === null || v === undefined,
};

export type EngineUpdate = Partial<ResourceLimits> & { restartPolicy?: ContainerConfig['restartPolicy'] };

export function toEngineUpdate(input: unknown): EngineUpdate {
  const parsed = updateBodySchema.safeParse(input);
  if (!parsed.success) {
    throw new ApiError(400, `invalid update config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const b = parsed.data;
  for (const [field, value] of Object.entries(b)) {
    if (SUPPORTED.has(field)) continue;
    if (SPECIAL_UNSET[field] ? SPECIAL_UNSET[field](value) : isUnset(value)) continue;
    throw unsupported(`docker update ${HOST_CONFIG_FLAGS[field] ?? field}`);
  }
  const out: EngineUpdate = {};
  if (b.Memory) out.memory = b.Memory;
  if (b.MemorySwap) out.memorySwap = b.MemorySwap;
  if (b.NanoCpus && (b.CpuQuota || b.CpuPeriod)) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (b.NanoCpus) out.cpus = b.NanoCpus / 1e9;
  if (b.CpuQuota === -1) out.cpus = null;
  else if (b.CpuQuota) {
    const period = b.CpuPeriod || 100_000;
    out.cpus = b.CpuQuota / period;
    out.cpuPeriod = period;
  } else if (b.CpuPeriod) out.cpuPeriod = b.CpuPeriod;
  if (b.CpuShares) out.cpuShares = b.CpuShares;
  if (b.PidsLimit) out.pids = b.PidsLimit < 0 ? null : b.PidsLimit;
  const rp = mapRestartPolicy(b.RestartPolicy);
  if (rp) out.restartPolicy = rp;
  return out;
}
