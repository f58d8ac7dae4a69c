// exit: the monitor has gone. Read exit.json, collect the OOM verdict, take the cgroup, the mount
// and the network down, then apply the restart policy (Docker's back-off).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unmountOverlayAsync } from '../rootfs/overlay.js';
import type { ContainerRecord } from '../types.js';
import { readJson } from '../util/fsx.js';
import { containerEvent, type EngineContext } from './context.js';
import { removeContainer } from './remove.js';
import { startLocked } from './start.js';
import { isAlive, transition } from './state.js';
import { driverCleanup } from './runtime-driver.js';

/** What the monitor writes when init ends (native/PROTOCOL.md). */
interface ExitFile {
  code: number;
  signal: string | null;
  finishedAt: string;
}

export async function onMonitorGone(ctx: EngineContext, id: string, monitorPid: number): Promise<void> {
  if (ctx.isClosed()) return;
  await ctx.withLock(id, () => finalize(ctx, id, monitorPid));
}

/** Record the exit of the init that `monitorPid` watched; a no-op if the record moved on. */
export async function finalize(ctx: EngineContext, id: string, monitorPid: number): Promise<void> {
  let rec: ContainerRecord;
  try {
    rec = ctx.records.find(id);
  } catch {
    return;
  }
  if (rec.state.monitorPid !== monitorPid || !isAlive(rec.state.status)) return;
  const live = ctx.live.get(id);
  ctx.live.delete(id);
  live?.watcher?.destroy();
  const runDir = join(ctx.runRoot, id);
  const exit = readJson<ExitFile>(join(runDir, 'exit.json'));
  let oomKilled = false;
  await driverCleanup(ctx, rec); // the runtime's state for it (runc delete --force)
  try {
    if (Object.values(ctx.cgroups.paths(id)).some((p) => existsSync(p))) {
      oomKilled = await ctx.cgroups.oomKilled(id);
      if (rec.state.status === 'paused') await ctx.cgroups.thaw(id).catch(() => {});
      await ctx.cgroups.killAll(id);
      await ctx.cgroups.remove(id);
    }
  } catch (e) {
    rec.state.error = `cleaning the cgroup: ${(e as Error).message}`;
  }
  try {
    await unmountOverlayAsync(rec.paths.rootfs);
  } catch (e) {
    rec.state.error = `unmounting the root filesystem: ${(e as Error).message}`;
  }
  await ctx.network?.detach(id).catch((e: Error) => (rec.state.error = `removing the network: ${e.message}`));
  // on libuv's threads (remove.ts says why); the lock is held, so no start reuses it meanwhile
  await rm(runDir, { recursive: true, force: true });
  transition(rec, 'exited');
  rec.state.exitCode = exit?.code ?? 255;
  rec.state.signal = exit?.signal ?? null;
  rec.state.oomKilled = oomKilled;
  rec.state.finishedAt = exit?.finishedAt ?? new Date().toISOString();
  if (!exit && !rec.state.error) rec.state.error = 'the container monitor died without writing an exit status';
  rec.state.pid = 0;
  rec.state.pidStartTime = null;
  rec.state.monitorPid = 0;
  rec.state.monitorStartTime = null;
  ctx.records.save(rec);
  if (oomKilled) ctx.emit(containerEvent('oom', rec));
  ctx.emit(containerEvent('die', rec, { exitCode: String(rec.state.exitCode), ...(rec.state.signal ? { signal: rec.state.signal } : {}) }));
  maybeRestart(ctx, rec, live?.stopRequested ?? false);
}

function maybeRestart(ctx: EngineContext, rec: ContainerRecord, stoppedByUser: boolean): void {
  if (ctx.isClosed()) return;
  const policy = rec.config.restartPolicy ?? { name: 'no' };
  const failed = rec.state.exitCode !== 0;
  const wanted =
    !stoppedByUser &&
    (policy.name === 'always' ||
      policy.name === 'unless-stopped' ||
      (policy.name === 'on-failure' && failed && (!policy.maximumRetryCount || rec.state.restartCount < policy.maximumRetryCount)));
  if (!wanted) {
    if (rec.config.autoRemove) void removeContainer(ctx, rec.id, { force: true, volumes: true }).catch(() => {});
    return;
  }
  // Docker's back-off: 100 ms, doubling, at most a minute; reset after 10 s of running.
  const ranFor = rec.state.startedAt ? Date.now() - Date.parse(rec.state.startedAt) : 0;
  const attempt = ranFor > 10_000 ? 0 : rec.state.restartCount;
  const wait = Math.min(60_000, 100 * 2 ** Math.min(attempt, 10));
  transition(rec, 'restarting');
  ctx.records.save(rec);
  const timer = setTimeout(() => {
    ctx.restartTimers.delete(rec.id);
    void ctx.withLock(rec.id, async () => {
      const cur = ctx.records.all().find((r) => r.id === rec.id);
      if (!cur || cur.state.status !== 'restarting') return;
      transition(cur, 'exited');
      await startLocked(ctx, rec.id, true).catch((e: Error) => {
        cur.state.error = e.message;
        ctx.records.save(cur);
      });
    });
  }, wait);
  timer.unref();
  ctx.restartTimers.set(rec.id, timer);
}
