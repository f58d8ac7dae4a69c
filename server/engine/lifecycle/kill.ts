// kill and stop: signals to init. Stop is SIGTERM (or the container's stop signal), a grace period,
// then SIGKILL — and it returns once the engine has recorded the exit.
import { signalProcess } from '../../../native/libc.js';
import { Conflict, type ContainerRecord } from '../types.js';
import { readStartTime } from '../util/proc.js';
import { containerEvent, delay, type EngineContext } from './context.js';
import { parseSignal, SIGKILL, SIGTERM } from './signals.js';
import { isActive, transition } from './state.js';
import { waitStatus } from './wait.js';
import { driverOf, launchContext } from './runtime-driver.js';

/** Signal init, checking its start time first: a pid reused by another process is left alone. */
function signalPid(rec: ContainerRecord, signal: number): boolean {
  return signalProcess(rec.state.pid, signal, rec.state.pidStartTime ?? '', readStartTime);
}

/**
 * Signal the container's process: through the runtime's CLI where it has one (runc kill, runsc
 * kill: gVisor's processes are not host processes), else kill(2) on init; the CLI failing, the
 * init pid still gets it.
 */
async function signalInit(ctx: EngineContext, rec: ContainerRecord, signal: number): Promise<void> {
  const d = driverOf(rec);
  if (d.signal) {
    try {
      await d.signal(launchContext(ctx, rec, null), signal);
      return;
    } catch {
      /* fall back to the init pid */
    }
  }
  signalPid(rec, signal);
}

export async function killContainer(ctx: EngineContext, idOrName: string, signal = 'SIGKILL'): Promise<void> {
  const rec = ctx.records.find(idOrName);
  const num = parseSignal(signal);
  if (!isActive(rec.state.status)) {
    throw new Conflict(`Cannot kill container: ${rec.name}: container ${rec.id} is not running`);
  }
  const live = ctx.live.get(rec.id);
  if (live && (num === SIGKILL || num === SIGTERM)) live.stopRequested = true;
  await signalInit(ctx, rec, num);
  // a frozen init dies only when thawed (v1), and on v2 the monitor is frozen with it: as Docker
  // does, SIGKILL on a paused container thaws it so that it can end
  if (rec.state.status === 'paused' && num === SIGKILL) await ctx.cgroups.thaw(rec.id).catch(() => {});
  ctx.emit(containerEvent('kill', rec, { signal: String(num) }));
  // kill(2) returns once the signal is queued; SIGKILL cannot be caught, so, as Docker does, the
  // answer waits until init is gone and the exit recorded: an inspect or rm right after sees it
  // stopped (any other signal may be handled, and the caller gets its answer at delivery)
  if (num === SIGKILL && live) {
    await live.gone;
    await waitStatus(ctx, rec.id, (r) => !isActive(r.state.status));
  }
}

export async function stopContainer(ctx: EngineContext, rec: ContainerRecord, timeoutSeconds: number, signal: string): Promise<void> {
  // a container waiting for its restart policy's next start is stopped by cancelling that start
  const timer = ctx.restartTimers.get(rec.id);
  if (timer) {
    clearTimeout(timer);
    ctx.restartTimers.delete(rec.id);
    transition(rec, 'exited');
    ctx.records.save(rec);
  }
  const live = ctx.live.get(rec.id);
  if (!live || !isActive(rec.state.status)) return;
  live.stopRequested = true;
  if (rec.state.status === 'paused') await ctx.cgroups.thaw(rec.id);
  const num = parseSignal(signal);
  await signalInit(ctx, rec, num);
  // a negative timeout (--stop-timeout -1) waits for as long as the container takes
  const timedOut = timeoutSeconds < 0 ? await live.gone.then(() => false) : await Promise.race([live.gone.then(() => false), delay(timeoutSeconds * 1000).then(() => true)]);
  if (timedOut) {
    await signalInit(ctx, rec, SIGKILL);
    await live.gone;
  }
  await waitStatus(ctx, rec.id, (r) => !isActive(r.state.status));
  ctx.emit(containerEvent('stop', rec));
}
