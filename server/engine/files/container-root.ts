// Where a container's files are, for docker cp and export, running or not.
//
//   cp (view)      a running container: /proc/<init>/root, its own mount namespace's root, so a
//                  copy sees and reaches its volumes as the container does. Stopped: its union.
//   export (union) the overlay alone (no volumes, no /proc): the host's mount of the rootfs.
//
// A stopped container's overlay is not mounted (exit.ts unmounts it): it is mounted for the
// copy, under the container's lock so a start cannot begin meanwhile, and unmounted after.
import { existsSync } from 'node:fs';
import type { EngineContext } from '../lifecycle/context.js';
import { isActive } from '../lifecycle/state.js';
import { isMounted, mountOverlay, unmountOverlay } from '../rootfs/overlay.js';
import { Conflict, type ContainerRecord } from '../types.js';
import { readStartTime } from '../util/proc.js';
import type { OwnerShift } from './archive.js';

export function ownerShift(rec: ContainerRecord): OwnerShift {
  if (rec.config.namespaces?.user !== true) return { uid: 0, gid: 0 };
  const uidMap = rec.userns?.uidMap ?? rec.config.uidMap ?? [{ containerId: 0, hostId: 100000, size: 65536 }];
  const gidMap = rec.userns?.gidMap ?? rec.config.gidMap ?? uidMap;
  return { uid: uidMap[0].hostId, gid: gidMap[0].hostId };
}

export async function withContainerRoot<T>(ctx: EngineContext, rec: ContainerRecord, kind: 'view' | 'union', fn: (root: string) => Promise<T>): Promise<T> {
  if (kind === 'view' && isActive(rec.state.status) && rec.state.pid > 0 && readStartTime(rec.state.pid) === rec.state.pidStartTime) {
    return fn(`/proc/${rec.state.pid}/root`);
  }
  if (isMounted(rec.paths.rootfs)) return fn(rec.paths.rootfs);
  return ctx.withLock(rec.id, async () => {
    const now = ctx.records.find(rec.id);
    if (isMounted(now.paths.rootfs)) return fn(now.paths.rootfs);
    if (!existsSync(now.paths.upper)) throw new Conflict(`container ${now.name}: its layer is not available (${now.paths.upper})`);
    // idmapped views of the layers existed only for the mount: the layers themselves here
    const lowers = now.userns?.layers === 'shifted' && now.paths.lowers.every((l) => existsSync(l)) ? now.paths.lowers : ctx.images.resolve(now.image.id).layers.map((l) => l.dir);
    mountOverlay({ lowers, upper: now.paths.upper, work: now.paths.work, target: now.paths.rootfs });
    try {
      return await fn(now.paths.rootfs);
    } finally {
      unmountOverlay(now.paths.rootfs);
    }
  });
}
