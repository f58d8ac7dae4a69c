// What a comparison may be asked: checked here, before anything runs, so a bad request changes
// nothing. The REST adapter parses its body with the same schema.
import { z } from 'zod';
import { InvalidArgument } from '../types.js';
import type { RuntimeAvailability, RuntimeCompareRequest } from './types.js';

export const MIN_RUNTIMES = 2;
export const MAX_RUNTIMES = 5;
export const MAX_ROUNDS = 5;

const noNul = (what: string) => z.string().refine((s) => !s.includes('\0'), `${what} must not contain a NUL byte`);

export const runtimeCompareSchema = z
  .object({
    image: z.string().min(1, 'image: an image is required').max(512),
    cmd: z.array(noNul('command').pipe(z.string().max(4096))).min(1, 'cmd: a command is required').max(64),
    runtimes: z.array(z.string().min(1).max(64)).min(MIN_RUNTIMES, `runtimes: tick at least ${MIN_RUNTIMES}`).max(MAX_RUNTIMES, `runtimes: at most ${MAX_RUNTIMES}`),
    rounds: z.number().int().min(1).max(MAX_ROUNDS).optional(),
  })
  .strict();

/** The request, checked against the schema and the engine's runtimes; InvalidArgument otherwise. */
export function checkCompareRequest(input: unknown, listed: RuntimeAvailability[]): Required<RuntimeCompareRequest> {
  const r = runtimeCompareSchema.safeParse(input);
  if (!r.success) throw new InvalidArgument(r.error.issues.map((i) => (i.path.length && !i.message.startsWith(`${String(i.path[0])}:`) ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  const req = r.data;
  if (!req.cmd[0].trim()) throw new InvalidArgument('cmd: the command name is empty');
  const dup = req.runtimes.find((n, i) => req.runtimes.indexOf(n) !== i);
  if (dup) throw new InvalidArgument(`runtimes: ${JSON.stringify(dup)} is ticked twice`);
  const names = listed.map((l) => l.name);
  const unknown = req.runtimes.filter((n) => !names.includes(n));
  if (unknown.length) throw new InvalidArgument(`unknown runtime${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}: this engine lists ${names.join(', ')}`);
  return { image: req.image, cmd: req.cmd, runtimes: req.runtimes, rounds: req.rounds ?? 1 };
}
