// Volume endpoints: docker volume create/ls/inspect/rm/prune over the engine's volume verbs.
import { z } from 'zod';
import type { EngineApi, VolumeInfo } from '../../engine/index.js';
import { badRequest } from './errors.js';
import { checkFilterKeys, labelMatches, parseFilters } from './filters.js';
import { boolParam, jsonBody, sendEmpty, sendJson, type Ctx } from './http.js';
import { pruneFilters } from './prune-filters.js';

/** VolumeInfo → Docker's volume JSON; UsageData only where Docker gives it (system df). */
export function volumeJson(v: VolumeInfo, usage?: { size: number; refCount: number }) {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: v.scope,
    Options: Object.keys(v.options).length ? v.options : null,
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  };
}

/** GET /volumes: filters dangling, name (a substring), label, driver. */
export function listVolumes(ctx: Ctx, engine: EngineApi): void {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['dangling', 'name', 'label', 'driver']);
  const dangling = filters.get('dangling')?.map((d) => {
    if (!['true', 'false', '1', '0'].includes(d.toLowerCase())) throw badRequest(`invalid filter 'dangling=${d}'`);
    return d === 'true' || d === '1';
  });
  const out = engine.listVolumes().filter((v) => {
    if (dangling && !dangling.includes(v.usedBy.length === 0)) return false;
    const names = filters.get('name');
    if (names && !names.some((n) => v.name.includes(n))) return false;
    const drivers = filters.get('driver');
    if (drivers && !drivers.includes(v.driver)) return false;
    return labelMatches(v.labels, filters.get('label') ?? []);
  });
  sendJson(ctx, 200, { Volumes: out.map((v) => volumeJson(v)), Warnings: [] });
}

export function inspectVolume(ctx: Ctx, engine: EngineApi): void {
  sendJson(ctx, 200, volumeJson(engine.inspectVolume(ctx.params[0])));
}

const createSchema = z.looseObject({
  Name: z.string().optional(),
  Driver: z.string().optional(),
  DriverOpts: z.record(z.string(), z.string()).nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
  ClusterVolumeSpec: z.unknown().optional(),
});

/** POST /volumes/create: the local driver; its options (type, device, o) are refused by name. */
export async function createVolume(ctx: Ctx, engine: EngineApi): Promise<void> {
  const parsed = createSchema.safeParse(await jsonBody(ctx, {}));
  if (!parsed.success) throw badRequest(`invalid volume create request: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
  const b = parsed.data;
  if (b.ClusterVolumeSpec) throw badRequest('glassbox: cluster volumes are not supported (this node is not a swarm manager)');
  const v = engine.createVolume({ name: b.Name || undefined, driver: b.Driver || undefined, labels: b.Labels ?? undefined, options: b.DriverOpts ?? undefined });
  sendJson(ctx, 201, volumeJson(v));
}

export function removeVolume(ctx: Ctx, engine: EngineApi): void {
  engine.removeVolume(ctx.params[0], { force: boolParam(ctx.query, 'force') });
  sendEmpty(ctx, 204);
}

/** POST /volumes/prune: unused anonymous volumes; filter all=true for named ones too (API ≥ 1.42). */
export function pruneVolumes(ctx: Ctx, engine: EngineApi): void {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['label', 'label!', 'all', 'until']);
  const all = filters.get('all')?.some((a) => ['true', '1'].includes(a.toLowerCase())) ?? false;
  const r = engine.pruneVolumes({ ...pruneFilters(filters), all });
  sendJson(ctx, 200, { VolumesDeleted: r.deleted, SpaceReclaimed: r.spaceReclaimed });
}
