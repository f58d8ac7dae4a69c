// restore: a server that starts again (after SIGKILL too) re-adopts the containers whose monitor
// still runs (pid + start time), finalizes the ones that ended meanwhile from exit.json, and sweeps
// what a crash left behind — only what this state root's records own.
import { startHealthchecks } from './health.js';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectMonitor } from '../containers/attach.js';
import { isMounted, unmountOverlay } from '../rootfs/overlay.js';
import { mountLayerFs } from '../rootfs/quota.js';
import type { ContainerRecord } from '../types.js';
import { isSameProcess } from '../util/proc.js';
import type { EngineContext, Live } from './context.js';
import { finalize, onMonitorGone } from './exit.js';
import { removeLocked } from './remove.js';
import { isAlive } from './state.js';

export async function restore(ctx: EngineContext): Promise<void> {
  const records = ctx.records.load();
  const keep = new Set<string>();
  for (const rec of records) {
    // after a reboot a size-limited layer is a bare image file: mount it again
    if (rec.storage) {
      try {
        mountLayerFs(rec.storage);
      } catch (e) {
        rec.state.error = `mounting the container layer: ${(e as Error).message}`;
      }
    }
    // the host-wide lease of its user namespace range (/run was emptied by a reboot, say)
    if (rec.userns?.range && !ctx.usernsRanges.reclaim(rec.id, rec.userns.range)) {
      rec.state.error = `its user namespace range (host uid ${rec.userns.range.uid}) is leased to another container now`;
      ctx.records.save(rec);
    }
  }
  for (const rec of records) {
    const { status, monitorPid, monitorStartTime } = rec.state;
    if (isAlive(status)) {
      if (monitorPid && isSameProcess(monitorPid, monitorStartTime)) {
        keep.add(rec.id);
        adopt(ctx, rec);
        continue;
      }
      // The monitor is gone while we were away: finalize from exit.json (or as dead).
      await finalize(ctx, rec.id, monitorPid);
    } else if (rec.config.autoRemove && status === 'exited') {
      await removeLocked(ctx, rec.id, true, true).catch(() => {});
    }
  }
  await sweep(ctx, keep);
}

/** Watch a running container whose monitor a previous server started. */
function adopt(ctx: EngineContext, rec: ContainerRecord): void {
  const id = rec.id;
  const monitorPid = rec.state.monitorPid;
  let resolveGone!: () => void;
  const gone = new Promise<void>((r) => (resolveGone = r));
  const live: Live = { gone, stopRequested: false };
  ctx.live.set(id, live);
  // its healthcheck goes on under this server (status back to "starting", as after a daemon restart)
  if (rec.state.status === 'running') startHealthchecks(ctx, rec);
  const poll = () => {
    // The socket closes when the monitor exits; the pid check covers a monitor killed hard.
    if (!isSameProcess(monitorPid, rec.state.monitorStartTime)) return resolveGone();
    setTimeout(poll, 250).unref();
  };
  connectMonitor(join(ctx.runRoot, id, 'monitor.sock'))
    .then((sock) => {
      live.watcher = sock;
      sock.on('data', () => {});
      sock.on('error', () => {});
      sock.on('close', () => poll());
      sock.unref();
    })
    .catch(() => poll());
  void gone.then(() => onMonitorGone(ctx, id, monitorPid));
}

/** Remove what a crash left: cgroups, overlay mounts and run dirs of containers not running. */
async function sweep(ctx: EngineContext, running: Set<string>): Promise<void> {
  await ctx.network?.sweep(new Set(ctx.records.all().map((r) => r.id)), running);
  // Only cgroups of containers this state root knows: another engine on the same host (a test
  // run beside a server) owns the rest. A cgroup is made after its record, so none is orphaned.
  const ours = new Set(ctx.records.all().map((r) => r.id));
  for (const id of await ctx.cgroups.list()) {
    if (running.has(id) || !ours.has(id)) continue;
    await ctx.cgroups.thaw(id).catch(() => {});
    await ctx.cgroups.killAll(id).catch(() => {});
    await ctx.cgroups.remove(id).catch(() => {});
  }
  // a learner's group no container is in any more (its quota is kept for the next start)
  await ctx.tenants.sweepEmpty().catch(() => {});
  for (const rec of ctx.records.all()) {
    if (running.has(rec.id)) continue;
    if (isMounted(rec.paths.rootfs)) unmountOverlay(rec.paths.rootfs);
  }
  if (existsSync(ctx.runRoot)) {
    for (const name of readdirSync(ctx.runRoot)) {
      if (/^[0-9a-f]{64}$/.test(name) && !running.has(name)) rmSync(join(ctx.runRoot, name), { recursive: true, force: true });
    }
  }
}
