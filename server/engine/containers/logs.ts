// Reading a container's log: JSON lines written by its monitor, like Docker's json-file driver.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry, LogOptions } from '../api.js';

function parseLine(line: string): LogEntry | null {
  if (!line) return null;
  try {
    const e = JSON.parse(line) as LogEntry;
    return typeof e.log === 'string' ? e : null;
  } catch {
    return null; // a line being written while we read: the follower will read it whole later
  }
}

function keep(e: LogEntry, o: LogOptions): boolean {
  if (e.stream === 'stdout' && o.stdout === false) return false;
  if (e.stream === 'stderr' && o.stderr === false) return false;
  const t = Date.parse(e.time) / 1000;
  if (o.since !== undefined && o.since > 0 && t < o.since) return false;
  if (o.until !== undefined && o.until > 0 && t > o.until) return false;
  return true;
}

async function readFrom(path: string, start: number): Promise<{ entries: LogEntry[]; end: number }> {
  if (!existsSync(path)) return { entries: [], end: start };
  const size = statSync(path).size;
  if (size <= start) return { entries: [], end: start };
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { start, end: size - 1 })
      .on('data', (c) => chunks.push(c as Buffer))
      .on('end', () => resolve())
      .on('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  const lastNl = text.lastIndexOf('\n');
  if (lastNl < 0) return { entries: [], end: start };
  const complete = text.slice(0, lastNl);
  const entries = complete.split('\n').map(parseLine).filter((e): e is LogEntry => e !== null);
  return { entries, end: start + Buffer.byteLength(complete) + 1 };
}

/**
 * Yields log entries; with follow, keeps yielding until isRunning() turns false and the file has
 * been read to its end, or the signal aborts.
 */
export async function* readLogs(path: string, opts: LogOptions, isRunning: () => boolean): AsyncGenerator<LogEntry> {
  let { entries, end } = await readFrom(path, 0);
  entries = entries.filter((e) => keep(e, opts));
  if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
  for (const e of entries) yield e;
  if (!opts.follow) return;
  while (!opts.signal?.aborted) {
    const running = isRunning();
    const next = await readFrom(path, end);
    end = next.end;
    for (const e of next.entries) if (keep(e, opts)) yield e;
    if (!running && next.entries.length === 0) return;
    await sleep(100, undefined, { signal: opts.signal }).catch(() => {});
  }
}
