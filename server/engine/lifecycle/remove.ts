// remove (docker rm [-f]) and rename.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateName } from '../containers/validate.js';
import { isMounted, unmountOverlay } from '../rootfs/overlay.js';
import { removeLayerFs } from '../rootfs/quota.js';
import { Conflict } from '../types.js';
import { containerEvent, type EngineContext } from './context.js';
import { stopContainer } from './kill.js';
import { isActive, transition } from './state.js';
import { containersUsing, volumeNames } from '../volumes/container-volumes.js';

/** `volumes` (docker rm -v, and --rm): its anonymous volumes go too, unless another container uses them. */
export function removeContainer(ctx: EngineContext, idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const rec = ctx.records.find(idOrName);
  if (isActive(rec.state.status) && !opts.force) {
    return Promise.reject(
      new Conflict(`You cannot remove a ${rec.state.status} container ${rec.id}. Stop the container before attempting removal or force remove`),
    );
  }
  // waiting for its restart policy's next start: still alive to Docker, so no rm without -f
  if (rec.state.status === 'restarting' && !opts.force) {
    return Promise.reject(new Conflict(`cannot remove container "/${rec.name}": container is restarting: stop the container before removing or force remove`));
  }
  return removeLocked(ctx, rec.id, opts.force ?? false, opts.volumes ?? false);
}

export async function removeLocked(ctx: EngineContext, id: string, force: boolean, volumes = false): Promise<void> {
  const rec = ctx.records.find(id);
  if (force) {
    const t = ctx.restartTimers.get(id);
    if (t) clearTimeout(t);
    ctx.restartTimers.delete(id);
    if (rec.state.status === 'restarting') {
      transition(rec, 'exited');
      ctx.records.save(rec);
    }
    await stopContainer(ctx, rec, 0, 'SIGKILL');
  }
  await ctx.withLock(id, async () => {
    for (const [execId, e] of ctx.execs) if (e.containerId === id) ctx.execs.delete(execId);
    if (isMounted(rec.paths.rootfs)) unmountOverlay(rec.paths.rootfs);
    // its own directories, not a listing of every container's cgroup (O(containers) per removal)
    if (Object.values(ctx.cgroups.paths(id)).some((p) => existsSync(p))) {
      await ctx.cgroups.killAll(id);
      await ctx.cgroups.remove(id);
    }
    if (rec.storage) removeLayerFs(rec.storage); // after the last process that could hold it open
    rmSync(join(ctx.runRoot, id), { recursive: true, force: true });
    await ctx.network?.release(id);
    ctx.records.delete(id);
    if (rec.userns?.range) ctx.usernsRanges.release(id, rec.userns.range);
    if (volumes) removeAnonymousVolumes(ctx, rec);
    ctx.emit(containerEvent('destroy', rec));
  });
}

export async function renameContainer(ctx: EngineContext, idOrName: string, newName: string): Promise<void> {
  const rec = ctx.records.find(idOrName);
  const name = validateName(newName);
  if (ctx.records.nameTaken(name) && rec.name !== name) throw new Conflict(`Error when allocating new name: The container name "/${name}" is already in use`);
  const old = rec.name;
  rec.name = name;
  ctx.records.save(rec);
  ctx.emit(containerEvent('rename', rec, { oldName: old }));
}

/** Docker's rm -v: the container's anonymous volumes (never a named one) that nothing else mounts. */
function removeAnonymousVolumes(ctx: EngineContext, rec: Parameters<typeof volumeNames>[0]): void {
  for (const name of volumeNames(rec)) {
    const v = ctx.volumes.find(name);
    if (!v?.anonymous || containersUsing(ctx.records, name).length) continue;
    ctx.volumes.remove(name);
    ctx.emit({ type: 'volume', action: 'destroy', id: name, name, time: Date.now() });
  }
}
