// docker top: run ps on the host and keep the rows of the container's processes, which is what
// Docker does (the container may have no ps of its own).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgument } from '../types.js';
import type { TopResult } from '../api.js';

const run = promisify(execFile);

export async function topProcesses(pids: number[], psArgs = '-ef'): Promise<TopResult> {
  const args = psArgs.trim().split(/\s+/).filter(Boolean);
  if (args.some((a) => !/^[-\w,=:%]+$/.test(a))) throw new InvalidArgument(`invalid ps arguments: ${psArgs}`);
  const { stdout } = await run('ps', args, { maxBuffer: 16 * 1024 * 1024 });
  const lines = stdout.split('\n').filter(Boolean);
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidArgument(`Couldn't find PID field in ps output (ps ${psArgs})`);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    // The last column (command) may hold spaces: keep them together.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (wanted.has(Number(row[pidCol]))) processes.push(row);
  }
  return { titles, processes };
}
