// `run`: create + start, then (without --detach) wait for the container's end, delete it, and
// exit with its command's status, as runc does. Signals to this process go to init meanwhile.
import { bool } from './args.js';
import type { Context } from './context.js';
import { processStart } from './container-store.js';
import { createContainer, createOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { startContainer } from './start.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export async function runCommand(ctx: Context, argv: string[]): Promise<number> {
  const { id, opts, flags } = createOptions(argv, 'run', [{ name: 'detach', short: 'd' }, { name: 'keep' }]);
  const c = await createContainer(ctx, id, opts);
  try {
    await startContainer(ctx, c);
  } catch (e) {
    await deleteContainer(ctx, ctx.store.load(id), true).catch(() => {});
    throw e;
  }
  if (bool(flags, 'detach')) return 0;
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(c.pid, sig);
    } catch {
      /* already gone */
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  // the monitor writes exit.json when init ends, then exits
  while (!ctx.store.exitInfo(id) && processStart(c.monitorPid) !== null) await new Promise((r) => setTimeout(r, 10));
  for (const s of FORWARDED) process.off(s, forward);
  const code = ctx.store.exitInfo(id)?.code ?? 255;
  if (!bool(flags, 'keep')) await deleteContainer(ctx, ctx.store.load(id), true);
  return code;
}
