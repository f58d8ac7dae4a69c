// Housekeeping: docker container/image/network/volume prune and docker system df. Each prune
// removes only what nothing uses, matching the filters, and says how many bytes came back.
import { ImageStore } from '../images/store.js';
import type { EngineContext } from '../lifecycle/context.js';
import { removeContainer } from '../lifecycle/remove.js';
import { isAlive } from '../lifecycle/state.js';
import { containersUsing, volumeNames } from '../volumes/container-volumes.js';
import { createdBefore, labelsMatch, type PruneFilters, type PruneResult } from './filters.js';

/** The built-in image is made by the engine at its first start: no prune removes it. */
const BUILTIN_IMAGES = new Set(['docker.io/library/base:latest', 'base:latest', 'base']);

function dirBytes(dir: string): number {
  try {
    return ImageStore.dirSize(dir);
  } catch {
    return 0;
  }
}

/** docker container prune: every container that is not running, paused or restarting. */
export async function pruneContainers(ctx: EngineContext, filters: PruneFilters = {}): Promise<PruneResult> {
  const out: PruneResult = { deleted: [], spaceReclaimed: 0 };
  for (const rec of ctx.records.all()) {
    if (isAlive(rec.state.status) || rec.state.status === 'removing') continue;
    if (!createdBefore(rec.created, filters.until) || !labelsMatch(rec.config.labels ?? {}, filters.labels)) continue;
    const size = dirBytes(rec.paths.upper);
    try {
      await removeContainer(ctx, rec.id);
    } catch {
      continue; // it started meanwhile, or is being removed: not ours to prune
    }
    out.deleted.push(rec.id);
    out.spaceReclaimed += size;
  }
  return out;
}

export interface ImagePruneResult {
  deleted: string[];
  untagged: string[];
  spaceReclaimed: number;
}

/**
 * docker image prune: dangling images (no tag) that no container uses; with `all`, every image
 * no container uses (the built-in base image excepted). Space: the layers no image keeps.
 */
export function pruneImages(ctx: EngineContext, opts: PruneFilters & { all?: boolean }, emit: (action: 'untag' | 'delete', id: string) => void): ImagePruneResult {
  const inUse = new Set(ctx.records.all().map((r) => r.image.id));
  const layerSizes = new Map<string, number>();
  const layersOf = (id: string) => ctx.images.resolve(id).layers.map((l) => l.diffId);
  for (const img of ctx.images.list()) for (const l of ctx.images.resolve(img.id).layers) layerSizes.set(l.diffId, l.size);
  const before = new Set([...layerSizes.keys()]);
  const out: ImagePruneResult = { deleted: [], untagged: [], spaceReclaimed: 0 };
  for (const img of ctx.images.list()) {
    if (inUse.has(img.id) || img.repoTags.some((t) => BUILTIN_IMAGES.has(t))) continue;
    if (!opts.all && img.repoTags.length > 0) continue;
    const labels = ((ctx.images.resolve(img.id).config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {}) as Record<string, string>;
    if (!createdBefore(img.created, opts.until) || !labelsMatch(labels, opts.labels)) continue;
    const r = ctx.images.remove(img.id, { force: true, isInUse: (id) => inUse.has(id) });
    for (const u of r.untagged) {
      out.untagged.push(u);
      emit('untag', u);
    }
    for (const d of r.deleted) {
      out.deleted.push(d);
      emit('delete', d);
    }
  }
  const after = new Set(ctx.images.list().flatMap((i) => layersOf(i.id)));
  for (const d of before) if (!after.has(d)) out.spaceReclaimed += layerSizes.get(d) ?? 0;
  return out;
}

/** docker network prune: user networks no container (running or not) is on. */
export async function pruneNetworks(ctx: EngineContext, filters: PruneFilters = {}): Promise<{ deleted: { id: string; name: string }[] }> {
  const out: { id: string; name: string }[] = [];
  if (!ctx.network) return { deleted: out };
  const modes = new Set(ctx.records.all().map((r) => r.network.mode));
  for (const n of ctx.network.listNetworks()) {
    if (n.builtin || Object.keys(n.containers).length || modes.has(n.name) || modes.has(n.id)) continue;
    if (!createdBefore(n.created, filters.until) || !labelsMatch(n.labels, filters.labels)) continue;
    try {
      await ctx.network.removeNetwork(n.id);
    } catch {
      continue; // a container joined it meanwhile
    }
    out.push({ id: n.id, name: n.name });
  }
  return { deleted: out };
}

/**
 * docker volume prune: volumes no container mounts; only anonymous ones unless `all` (Docker ≥ 23:
 * a named volume is kept unless asked, since it was made to be kept).
 */
export function pruneVolumes(ctx: EngineContext, opts: PruneFilters & { all?: boolean } = {}): PruneResult {
  const used = new Set(ctx.records.all().flatMap((r) => volumeNames(r)));
  const out: PruneResult = { deleted: [], spaceReclaimed: 0 };
  for (const v of ctx.volumes.list()) {
    if (used.has(v.name) || (!opts.all && !v.anonymous)) continue;
    if (!createdBefore(v.createdAt, opts.until) || !labelsMatch(v.labels, opts.labels)) continue;
    const size = ctx.volumes.size(v.name);
    ctx.volumes.remove(v.name);
    out.deleted.push(v.name);
    out.spaceReclaimed += size;
  }
  return out;
}

export interface DiskUsage {
  /** bytes of every unpacked layer, each counted once */
  layersSize: number;
  images: { id: string; repoTags: string[]; created: string; size: number; sharedSize: number; containers: number; labels: Record<string, string> }[];
  containers: { id: string; sizeRw: number; sizeRootFs: number }[];
  volumes: { name: string; size: number; refCount: number }[];
  /** the classic builder keeps no separate cache: always empty */
  buildCache: never[];
}

/** docker system df: what images, containers and volumes hold on disk. */
export function diskUsage(ctx: EngineContext): DiskUsage {
  const images = ctx.images.list();
  const users = new Map<string, number>();
  for (const l of images.flatMap((i) => ctx.images.resolve(i.id).layers)) users.set(l.diffId, (users.get(l.diffId) ?? 0) + 1);
  const sizes = new Map<string, number>();
  for (const i of images) for (const l of ctx.images.resolve(i.id).layers) sizes.set(l.diffId, l.size);
  const records = ctx.records.all();
  return {
    layersSize: [...sizes.values()].reduce((a, b) => a + b, 0),
    images: images.map((i) => {
      const img = ctx.images.resolve(i.id);
      return {
        id: i.id,
        repoTags: i.repoTags,
        created: i.created,
        size: i.size,
        sharedSize: img.layers.filter((l) => (users.get(l.diffId) ?? 0) > 1).reduce((a, l) => a + l.size, 0),
        containers: records.filter((r) => r.image.id === i.id).length,
        labels: ((img.config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {}) as Record<string, string>,
      };
    }),
    containers: records.map((r) => {
      const rw = dirBytes(r.paths.upper);
      const image = images.find((i) => i.id === r.image.id);
      return { id: r.id, sizeRw: rw, sizeRootFs: rw + (image?.size ?? 0) };
    }),
    volumes: ctx.volumes.list().map((v) => ({ name: v.name, size: ctx.volumes.size(v.name), refCount: containersUsing(ctx.records, v.name).length })),
    buildCache: [],
  };
}
