// `ps`: the processes in the container's cgroups, as a ps(1) table (rows of `ps ARGS`, default
// -ef, whose PID is the container's) or a JSON array of host pids (--format json).
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { checkId, parseFlags, str, UsageError } from './args.js';
import { cgroupPids } from './cgroups.js';
import type { Context } from './context.js';

export async function psCommand(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, [{ name: 'format', short: 'f', value: true }], 'ps');
  const format = str(p, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`ps: --format ${JSON.stringify(format)}: must be table or json`);
  const id = checkId(p.rest[0], 'ps');
  const c = ctx.store.load(id);
  const pids = cgroupPids(c.cgroupProcs.map((f) => dirname(f))).sort((a, b) => a - b);
  if (format === 'json') {
    if (p.rest.length > 1) throw new UsageError('ps: ps options cannot be used with --format json');
    process.stdout.write(JSON.stringify(pids) + '\n');
    return 0;
  }
  const args = p.rest.length > 1 ? p.rest.slice(1) : ['-ef'];
  const out = execFileSync('ps', args, { encoding: 'utf8' }).split('\n');
  const header = out[0];
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new UsageError(`ps: the output of "ps ${args.join(' ')}" has no PID column`);
  const wanted = new Set(pids);
  process.stdout.write(header + '\n');
  for (const line of out.slice(1)) if (line.trim() && wanted.has(Number(line.trim().split(/\s+/)[col]))) process.stdout.write(line + '\n');
  return 0;
}
