// `list`: the containers under --root (runc's table, or --format json: their state objects).
import { bool, parseFlags, str, UsageError } from './args.js';
import type { Context } from './context.js';
import { stateJson } from './container-store.js';

export async function listCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [{ name: 'format', short: 'f', value: true }, { name: 'quiet', short: 'q' }], 'list');
  const format = str(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`list: --format ${JSON.stringify(format)}: must be table or json`);
  const states = ctx.store.ids().flatMap((id) => {
    try {
      return [stateJson(ctx.store, ctx.store.load(id))];
    } catch {
      return [];
    }
  });
  if (bool(p, 'quiet')) process.stdout.write(states.map((s) => `${s.id}\n`).join(''));
  else if (format === 'json') process.stdout.write(JSON.stringify(states) + '\n');
  else {
    process.stdout.write('ID'.padEnd(20) + 'PID'.padEnd(10) + 'STATUS'.padEnd(10) + 'BUNDLE'.padEnd(40) + 'CREATED'.padEnd(32) + 'OWNER\n');
    for (const s of states) process.stdout.write(String(s.id).padEnd(20) + String(s.pid).padEnd(10) + String(s.status).padEnd(10) + String(s.bundle).padEnd(40) + String(s.created).padEnd(32) + `${s.owner}\n`);
  }
  return 0;
}
