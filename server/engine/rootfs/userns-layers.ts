// The rootfs of a user-namespaced container. Its root is host uid <base> (say 165536), but the
// image's layers are owned by host uid 0. Two ways to make root inside own its files:
//
//   idmapped  each layer is mounted idmapped through a user namespace with the container's maps
//             (userns/idmap.ts), so uid 0 on disk reads as <base>; overlayfs stacks those views.
//             Nothing is copied; the layers stay shared with every other container.
//   shifted   a copy of each layer with every owner moved up by <base> (rootfs/shift.ts), made
//             once per range. The fallback for kernels or filesystems without idmapped mounts.
//
// The idmapped views are attached under <container>/idmap/<n> only long enough for mount(2) to
// resolve lowerdir: overlayfs holds its own references, so they are detached right after.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MNT_DETACH, umount2 } from '../../../native/libc.js';
import type { IdMapping } from '../types.js';
import { mountIdmapped, sharedUserNamespaceFd } from '../userns/idmap.js';
import { mountOverlay, type OverlayMount } from './overlay.js';

export interface UsernsRootfs {
  mode: 'idmapped' | 'shifted';
  /** the lowerdirs overlayfs was given (the idmapped views are gone again after the mount) */
  lowers: string[];
  /** why idmapped layers were not used, when mode is shifted */
  fallbackReason?: string;
  calls: string[];
}

/** Mounts the overlay with idmapped lower layers; throws (leaving nothing mounted) when the kernel refuses. */
export async function mountIdmappedOverlay(o: OverlayMount & { containerDir: string; uidMap: IdMapping[]; gidMap: IdMapping[] }): Promise<string[]> {
  const base = join(o.containerDir, 'idmap');
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { mode: 0o700 });
  const userns = await sharedUserNamespaceFd(o.uidMap, o.gidMap); // kept for the next start: not closed here
  const views: string[] = [];
  const calls: string[] = [];
  try {
    for (const [i, layer] of o.lowers.entries()) {
      const view = join(base, String(i));
      mkdirSync(view);
      mountIdmapped(layer, view, userns);
      views.push(view);
    }
    calls.push(`open_tree(${o.lowers.length} layers, OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP, userns ${o.uidMap.map((m) => `${m.containerId}:${m.hostId}:${m.size}`).join(',')}) + move_mount`);
    mountOverlay({ lowers: views, upper: o.upper, work: o.work, target: o.target });
    return calls;
  } finally {
    for (const v of views.reverse()) {
      try {
        umount2(v, MNT_DETACH);
      } catch {
        /* already gone */
      }
    }
    rmSync(base, { recursive: true, force: true });
  }
}

/** Idmapped layers when the kernel allows, else shifted copies (made by `shifted`). */
export async function mountUsernsRootfs(
  o: OverlayMount & { containerDir: string; uidMap: IdMapping[]; gidMap: IdMapping[]; prefer?: 'idmapped' | 'shifted' },
  shifted: () => Promise<string[]>,
): Promise<UsernsRootfs> {
  let reason: string | undefined;
  if (o.prefer !== 'shifted') {
    try {
      const calls = await mountIdmappedOverlay(o);
      return { mode: 'idmapped', lowers: o.lowers, calls };
    } catch (e) {
      reason = (e as Error).message;
    }
  } else reason = 'shifted copies asked for';
  const lowers = await shifted();
  mountOverlay({ lowers, upper: o.upper, work: o.work, target: o.target });
  return { mode: 'shifted', lowers, fallbackReason: reason, calls: [] };
}
