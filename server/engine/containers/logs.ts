// Reading a container's log: JSON lines written by its monitor, like Docker's json-file driver.
// The monitor rotates it (container.log -> container.log.1 -> ... at max-size): the reader reads
// the rotated files oldest first, then the current one, and a follower that sees the current file
// replaced finishes the old one (now container.log.1) before it starts on the new.
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

/** The log's files, oldest first: log.N ... log.1, log (only those that exist). */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; i <= 100 && existsSync(`${path}.${i}`); i++) rotated.push(`${path}.${i}`);
  return [...rotated.reverse(), path];
}

function inode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/**
 * Yields log entries; with follow, keeps yielding until isRunning() turns false and the file has
 * been read to its end, or the signal aborts.
 */
export async function* readLogs(path: string, opts: LogOptions, isRunning: () => boolean): AsyncGenerator<LogEntry> {
  let entries: LogEntry[] = [];
  for (const f of logFiles(path).slice(0, -1)) entries.push(...(await readFrom(f, 0)).entries);
  let ino = inode(path);
  const first = await readFrom(path, 0);
  let end = first.end;
  entries.push(...first.entries);
  entries = entries.filter((e) => keep(e, opts));
  if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
  for (const e of entries) yield e;
  if (!opts.follow) return;
  while (!opts.signal?.aborted) {
    const running = isRunning();
    const got: LogEntry[] = [];
    const nowIno = inode(path);
    if (nowIno !== ino) {
      // rotated: the rest of the file we were reading, then any newer rotated ones, then the new file
      const files = logFiles(path).slice(0, -1);
      const at = files.findIndex((f) => inode(f) === ino);
      if (at >= 0) {
        got.push(...(await readFrom(files[at], end)).entries);
        for (const f of files.slice(at + 1)) got.push(...(await readFrom(f, 0)).entries);
      }
      ino = nowIno;
      end = 0;
    } else if (existsSync(path) && statSync(path).size < end) {
      end = 0; // truncated (max-file 1)
    }
    const next = await readFrom(path, end);
    end = next.end;
    got.push(...next.entries);
    for (const e of got) if (keep(e, opts)) yield e;
    if (!running && got.length === 0) return;
    await sleep(100, undefined, { signal: opts.signal }).catch(() => {});
  }
}
