// `kill`: a signal to the container's init (or, with --all, to every process in its cgroups).
import { constants } from 'node:os';
import { bool, checkId, parseFlags, UsageError } from './args.js';
import { cgroupPids } from './cgroups.js';
import type { Context } from './context.js';
import { dirname } from 'node:path';

/** SIGTERM, TERM, 15 → the signal number; anything else is a usage error naming it. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new UsageError(`kill: invalid signal ${JSON.stringify(s)}`);
}

export async function killCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [{ name: 'all', short: 'a' }, { name: 'signal', short: 's', value: true }], 'kill');
  if (p.rest.length < 1 || p.rest.length > 2) throw new UsageError('kill: usage: glassbox-runtime kill [--all] <container-id> [signal]');
  const c = ctx.store.load(checkId(p.rest[0], 'kill'));
  const sig = parseSignal(p.rest[1] ?? 'SIGTERM');
  const status = ctx.store.status(c);
  if (status === 'stopped') throw new UsageError(`container ${c.id} is not running`);
  const pids = bool(p, 'all') ? cgroupPids(c.cgroupProcs.map((f) => dirname(f))) : [c.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  return 0;
}
