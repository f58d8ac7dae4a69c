// `start`: release a created container from the barrier: the monitor lets init go on to its
// credentials, seccomp and execve. Then the poststart hooks.
import { checkId, parseFlags, UsageError } from './args.js';
import type { Context } from './context.js';
import { stateJson, type StoredContainer } from './container-store.js';
import { runHooks, runHooksWarning } from './hooks.js';
import { deleteContainer } from './delete.js';
import { readStatus, statusCount, tellMonitor } from './monitor-channel.js';
import { abortMonitor } from './create.js';

export async function startContainer(ctx: Context, c: StoredContainer): Promise<void> {
  const status = ctx.store.status(c);
  if (status !== 'created') throw new UsageError(`cannot start a container that is ${status}: ${c.id}`);
  const dir = ctx.store.dir(c.id);
  if (c.noProcess) {
    // nothing to run: the container ends here, as runc's does (its state becomes stopped)
    abortMonitor(dir, c.monitorPid);
    throw new UsageError(`cannot start container ${c.id}: config.json has no process`);
  }
  // prestart hooks run in start, before the command (runtime spec 1.0: "after the start operation
  // is called"); one that fails ends the container and removes it (the lifecycle's step 9)
  try {
    await runHooks(ctx.store.config(c.id).hooks?.prestart, { ...stateJson(ctx.store, c), status: 'created', pid: c.pid }, 'prestart');
  } catch (e) {
    await deleteContainer(ctx, c, true).catch(() => {});
    throw e;
  }
  c.started = true;
  ctx.store.save(c);
  const from = statusCount(dir);
  if (!tellMonitor(dir, 'start')) throw new Error(`container ${c.id}: its monitor is gone`);
  // "exited" without "ready": a command that ran and ended before we looked
  const line = await readStatus(dir, (m) => m.ready === true || m.exited === true, c.monitorPid, from);
  ctx.debug(`container ${c.id} started: ${JSON.stringify(line)}`);
  // the state as of the start (runc's too): a command that already ended is still "running" here
  await runHooksWarning(ctx.store.config(c.id).hooks?.poststart, { ...stateJson(ctx.store, c), status: 'running', pid: c.pid }, 'poststart', ctx.warn);
}

export async function startCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [], 'start');
  if (p.rest.length !== 1) throw new UsageError(`start: expected one container id, got ${p.rest.length}`);
  await startContainer(ctx, ctx.store.load(checkId(p.rest[0], 'start')));
  return 0;
}
