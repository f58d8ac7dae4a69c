// Housekeeping endpoints: POST /containers/prune, /images/prune (networks and volumes have theirs
// in networks.ts and volumes.ts) and GET /system/df. `docker system prune` calls the four prunes.
import type { EngineApi } from '../../engine/index.js';
import { containerSummary } from './container-json.js';
import { badRequest } from './errors.js';
import { checkFilterKeys, parseFilters } from './filters.js';
import { sendJson, type Ctx } from './http.js';
import { imageSummaryJson } from './image-json.js';
import { pruneFilters } from './prune-filters.js';
import { volumeJson } from './volumes.js';

export async function pruneContainers(ctx: Ctx, engine: EngineApi): Promise<void> {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['label', 'label!', 'until']);
  const r = await engine.pruneContainers(pruneFilters(filters));
  sendJson(ctx, 200, { ContainersDeleted: r.deleted, SpaceReclaimed: r.spaceReclaimed });
}

/** dangling=true (the default): untagged images only; dangling=false: every image no container uses. */
export function pruneImages(ctx: Ctx, engine: EngineApi): void {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['label', 'label!', 'until', 'dangling']);
  const dangling = filters.get('dangling') ?? ['true'];
  for (const d of dangling) if (!['true', 'false', '1', '0'].includes(d.toLowerCase())) throw badRequest(`invalid filter 'dangling=${d}'`);
  const all = dangling.every((d) => d === 'false' || d === '0');
  const r = engine.pruneImages({ ...pruneFilters(filters), all });
  sendJson(ctx, 200, {
    ImagesDeleted: [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))],
    SpaceReclaimed: r.spaceReclaimed,
  });
}

/** GET /system/df: Docker's shape; the classic builder here keeps no separate build cache. */
export function systemDf(ctx: Ctx, engine: EngineApi): void {
  const du = engine.diskUsage();
  const wanted = ctx.query.getAll('type');
  for (const t of wanted) if (!['container', 'image', 'volume', 'build-cache'].includes(t)) throw badRequest(`invalid type '${t}': container, image, volume or build-cache`);
  const want = (t: string) => wanted.length === 0 || wanted.includes(t);
  const records = new Map(engine.list({ all: true }).map((r) => [r.id, r]));
  const volumes = new Map(engine.listVolumes().map((v) => [v.name, v]));
  sendJson(ctx, 200, {
    LayersSize: du.layersSize,
    Images: want('image')
      ? du.images.map((i) => ({ ...imageSummaryJson({ id: i.id, repoTags: i.repoTags, created: i.created, size: i.size, layers: 0 }), SharedSize: i.sharedSize, Containers: i.containers, Labels: i.labels }))
      : [],
    Containers: want('container')
      ? du.containers.flatMap((c) => {
          const rec = records.get(c.id);
          return rec ? [{ ...containerSummary(rec), SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs }] : [];
        })
      : [],
    Volumes: want('volume')
      ? du.volumes.flatMap((v) => {
          const info = volumes.get(v.name);
          return info ? [volumeJson(info, { size: v.size, refCount: v.refCount })] : [];
        })
      : [],
    BuildCache: [],
  });
}

/** POST /build/prune (docker system prune calls it): the classic builder keeps no separate cache. */
export function pruneBuildCache(ctx: Ctx): void {
  sendJson(ctx, 200, { CachesDeleted: [], SpaceReclaimed: 0 });
}
