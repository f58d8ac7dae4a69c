// `state`: the container's state JSON as runc prints it (the OCI runtime spec's State).
import { checkId, parseFlags, UsageError } from './args.js';
import type { Context } from './context.js';
import { stateJson } from './container-store.js';

export async function stateCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [], 'state');
  if (p.rest.length !== 1) throw new UsageError(`state: expected one container id, got ${p.rest.length}`);
  const c = ctx.store.load(checkId(p.rest[0], 'state'));
  process.stdout.write(JSON.stringify(stateJson(ctx.store, c), null, '  ') + '\n');
  return 0;
}
