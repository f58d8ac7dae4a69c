// The layer stack of one container: the image's layers bottom to top (from the image store), the
// container's upper dir on top (its changes from engine.changes: copy-ups with the bytes they
// copied, new files, whiteouts, opaque dirs), the merged view at the top. whichLayer() answers
// "where does this file come from and what does it hide" by lstat in each layer dir from the top,
// as overlayfs itself resolves a lookup.
import { lstatSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import type { ContainerRecord } from '../types.js';
import type { InspectEngine } from './source.js';
import type { LayerChangeView, LayerInfo, LayerSnapshot, WhichLayerHit, WhichLayerResult } from './types.js';

const MAX_CHANGES = 2000;

type GetXattr = (path: string, name: string) => Buffer | null;
let getxattr: GetXattr | null | undefined;

/** lgetxattr from the koffi bindings, loaded on first use (and tolerated when they cannot load). */
async function loadXattr(): Promise<GetXattr | null> {
  if (getxattr !== undefined) return getxattr;
  try {
    const libc = (await import('../../../native/libc.js')) as { lgetxattr: GetXattr };
    getxattr = libc.lgetxattr;
  } catch {
    getxattr = null;
  }
  return getxattr;
}

function isOpaque(dir: string): boolean {
  if (!getxattr) return false;
  try {
    const v = getxattr(dir, 'trusted.overlay.opaque') ?? getxattr(dir, 'user.overlay.opaque');
    return v !== null && v.toString() === 'y';
  } catch {
    return false;
  }
}

function emptyTotals(): LayerSnapshot['totals'] {
  return { added: 0, modified: 0, deleted: 0, opaque: 0, copiedUpBytes: 0, addedBytes: 0 };
}

export function emptyLayerSnapshot(state: LayerSnapshot['state'], containerId: string | null, message?: string): LayerSnapshot {
  return { kind: 'layers', time: Date.now(), state, ...(message ? { message } : {}), containerId, layers: [], upper: null, merged: null, totals: emptyTotals() };
}

/** The image's layers, bottom first, with the dirs the container's overlay really uses. */
export function imageLayers(engine: InspectEngine, rec: ContainerRecord): LayerInfo[] {
  let details: { diffId: string; dir: string; size: number; createdBy: string }[] = [];
  let history: { created: string; createdBy: string; emptyLayer: boolean }[] = [];
  try {
    const img = engine.inspectImage?.(rec.image.id);
    if (img) {
      details = img.layerDetails ?? [];
      history = (img.history ?? []).filter((h) => !h.emptyLayer);
    }
  } catch {
    /* the image was removed: fall back to the dirs in the record */
  }
  const lowers = rec.paths.lowers ?? [];
  if (!details.length) return lowers.map((dir, index) => ({ index, diffId: '', dir, size: 0, createdBy: '' }));
  return details.map((d, index) => ({
    index,
    diffId: d.diffId,
    // a container with a user namespace runs on shifted copies of the layers: show those
    dir: lowers.length === details.length ? lowers[index] : d.dir,
    size: d.size,
    createdBy: d.createdBy || history[index]?.createdBy || '',
    ...(history[index]?.created ? { created: history[index].created } : {}),
  }));
}

export async function layerSnapshot(engine: InspectEngine, idOrName: string): Promise<LayerSnapshot> {
  let rec: ContainerRecord;
  try {
    rec = engine.get(idOrName);
  } catch (e) {
    return emptyLayerSnapshot('not-found', idOrName, (e as Error).message);
  }
  const layers = imageLayers(engine, rec);
  let changes: LayerChangeView[] = [];
  let message: string | undefined;
  try {
    const raw = engine.changes ? await engine.changes(rec.id) : [];
    changes = raw.map((c) => {
      const copyUp = c.kind === 'modified' && !c.isDir;
      const copiedBytes = (c.kind === 'added' || c.kind === 'modified') && !c.isDir ? (c.size ?? 0) : 0;
      return { ...c, copyUp, copiedBytes };
    });
  } catch (e) {
    message = `changes unavailable: ${(e as Error).message}`;
  }
  const totals = emptyTotals();
  for (const c of changes) {
    if (c.kind === 'added') {
      totals.added++;
      totals.addedBytes += c.copiedBytes;
    } else if (c.kind === 'modified') {
      totals.modified++;
      if (c.copyUp) totals.copiedUpBytes += c.copiedBytes;
    } else if (c.kind === 'deleted') totals.deleted++;
    else if (c.kind === 'opaque') totals.opaque++;
  }
  let truncated: number | undefined;
  if (changes.length > MAX_CHANGES) {
    truncated = changes.length;
    changes = [...changes].sort((a, b) => b.copiedBytes - a.copiedBytes).slice(0, MAX_CHANGES);
  }
  changes.sort((a, b) => a.path.localeCompare(b.path));
  return {
    kind: 'layers',
    time: Date.now(),
    state: 'ok',
    ...(message ? { message } : {}),
    containerId: rec.id,
    containerName: rec.name,
    image: rec.image,
    layers,
    upper: { dir: rec.paths.upper, changes, bytes: totals.addedBytes + totals.copiedUpBytes },
    merged: { dir: rec.paths.rootfs, status: rec.state.status },
    totals,
    ...(truncated ? { truncated } : {}),
    volumes: (rec.config.mounts ?? []).map((m) => ({
      type: m.type,
      ...(m.type === 'volume' ? { name: m.source } : m.type === 'bind' ? { source: m.source } : {}),
      target: m.target,
      readOnly: m.readOnly === true,
    })),
  };
}

function hitType(st: Stats, full: string): WhichLayerHit['type'] {
  if (st.isCharacterDevice() && st.rdev === 0) return 'whiteout';
  if (st.isDirectory()) return isOpaque(full) ? 'opaque-dir' : 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  return 'other';
}

function tryLstat(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Resolve a path the way overlayfs does: from the top layer down, the first entry wins; a whiteout
 * (char device 0:0) ends the search and hides everything below; an opaque directory hides the
 * same directory in every layer below; a parent that is a whiteout or not a directory in some
 * layer hides the path in every layer below that one.
 */
export async function whichLayer(engine: InspectEngine, idOrName: string, path: string): Promise<WhichLayerResult> {
  await loadXattr();
  const rec = engine.get(idOrName);
  const layers = imageLayers(engine, rec);
  const rel = posix.normalize(`/${path}`).replace(/^\/+/, '');
  const stack: { layer: 'upper' | number; dir: string }[] = [{ layer: 'upper', dir: rec.paths.upper }, ...[...layers].reverse().map((l) => ({ layer: l.index, dir: l.dir }))];
  const hits: WhichLayerHit[] = [];
  let visible: WhichLayerHit | null = null;
  let blockedBy: string | null = null;
  let hidden = false; // everything from here down is hidden
  const parts = rel ? rel.split('/') : [];
  for (const { layer, dir } of stack) {
    // parents in this layer: a whiteout or non-dir parent hides the path here and below; an
    // opaque parent hides the path below this layer
    let parentBlocks: string | null = null;
    let parentOpaque = false;
    for (let i = 1; i < parts.length; i++) {
      const pp = join(dir, ...parts.slice(0, i));
      const st = tryLstat(pp);
      if (!st) break;
      const t = hitType(st, pp);
      if (t === 'whiteout' || (t !== 'dir' && t !== 'opaque-dir')) {
        parentBlocks = `/${parts.slice(0, i).join('/')} is ${t === 'whiteout' ? 'deleted (whiteout)' : `a ${t}`} in ${layer === 'upper' ? 'the upper dir' : `layer ${layer}`}`;
        break;
      }
      if (t === 'opaque-dir') parentOpaque = true;
    }
    const full = join(dir, rel);
    const st = parentBlocks ? null : tryLstat(full);
    if (st) {
      const hit: WhichLayerHit = { layer, dir, type: hitType(st, full), size: st.isFile() ? st.size : 0 };
      hits.push(hit);
      if (!hidden && !visible) {
        if (hit.type === 'whiteout') {
          blockedBy = `a whiteout in ${layer === 'upper' ? 'the upper dir' : `layer ${layer}`} deletes it`;
          hidden = true;
        } else {
          visible = hit;
          // a file hides everything below; a plain directory merges with the ones below
          if (hit.type !== 'dir') hidden = true;
        }
      }
    }
    if (parentBlocks && !hidden) {
      blockedBy ??= parentBlocks;
      hidden = true;
    }
    if (parentOpaque && !hidden) {
      blockedBy ??= `its directory is opaque in ${layer === 'upper' ? 'the upper dir' : `layer ${layer}`}`;
      hidden = true;
    }
  }
  const hides = visible ? hits.filter((h) => h !== visible && (visible!.type !== 'dir' || h.type !== 'dir')) : hits.filter((h) => h.type !== 'whiteout');
  const name = (h: WhichLayerHit) => (h.layer === 'upper' ? 'the upper dir' : `layer ${h.layer}`);
  let explanation: string;
  if (visible) {
    explanation = `/${rel} comes from ${name(visible)}`;
    if (visible.layer === 'upper' && hides.length) explanation += `: a copy-up (${visible.size} bytes copied) hiding the ${hides.map(name).join(', ')} version`;
    else if (hides.length) explanation += `, hiding ${hides.map((h) => `${name(h)} (${h.size} bytes)`).join(', ')}`;
  } else if (blockedBy) explanation = `/${rel} is not in the merged view: ${blockedBy}${hides.length ? `, hiding ${hides.map(name).join(', ')}` : ''}`;
  else explanation = `/${rel} is in no layer`;
  return { path: `/${rel}`, visible, hits, hides, explanation };
}
