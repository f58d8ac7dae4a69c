// Reading a container's log: JSON lines written by its monitor, like Docker's json-file driver.
// The monitor rotates it (container.log -> container.log.1 -> ... at max-size): the reader reads
// the rotated files oldest first, then the current one, and a follower that sees the current file
// replaced finishes the old one (now container.log.1) before it starts on the new.
import { existsSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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

/** The file opened, or null when it is gone (rotated away between listing and opening). */
async function openLog(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The complete lines of an open file from byte `start`. Read through the descriptor: the monitor
 * may rename or remove the file meanwhile (a `yes` rotates it many times a second), the
 * descriptor still reads what it held. With maxLag, only the last maxLag bytes (from a line's
 * start) are read; `skipped` says how many were passed over.
 */
async function readHandle(fh: FileHandle, start: number, maxLag?: number): Promise<{ entries: LogEntry[]; end: number; skipped: number }> {
  const size = (await fh.stat()).size;
  if (size <= start) return { entries: [], end: start, skipped: 0 };
  const from = maxLag !== undefined && size - start > maxLag ? size - maxLag : start;
  const buf = Buffer.alloc(size - from);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
    if (!bytesRead) break;
    got += bytesRead;
  }
  // skipping ahead lands mid-line: begin after the first newline
  const begin = from > start ? buf.indexOf(10) + 1 : 0;
  const lastNl = got ? buf.lastIndexOf(10, got - 1) : -1;
  if (lastNl < begin) return { entries: [], end: from > start ? from + begin : start, skipped: from > start ? from + begin - start : 0 };
  const entries = buf.subarray(begin, lastNl).toString('utf8').split('\n').map(parseLine).filter((e): e is LogEntry => e !== null);
  return { entries, end: from + lastNl + 1, skipped: from + begin - start };
}

/** What a follower that skipped ahead is shown in place of what it missed. */
function skippedEntry(bytes: number): LogEntry {
  return { stream: 'stderr', time: new Date().toISOString(), log: `[glassbox: ${bytes} bytes of log skipped: it is written faster than a page can follow]\n` };
}

async function readFrom(path: string, start: number): Promise<{ entries: LogEntry[]; end: number }> {
  const fh = await openLog(path);
  if (!fh) return { entries: [], end: start };
  try {
    return await readHandle(fh, start);
  } finally {
    await fh.close();
  }
}

/** The log's files, oldest first: log.N ... log.1, log (only those that exist). */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; i <= 100 && existsSync(`${path}.${i}`); i++) rotated.push(`${path}.${i}`);
  return [...rotated.reverse(), path];
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
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
  // the current file stays open while we follow it: its inode tells when the monitor rotated it
  let fh = await openLog(path);
  let ino = fh ? (await fh.stat()).ino : null;
  let end = 0;
  try {
    if (fh) {
      const first = await readHandle(fh, 0);
      end = first.end;
      entries.push(...first.entries);
    }
    entries = entries.filter((e) => keep(e, opts));
    if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
    for (const e of entries) yield e;
    if (!opts.follow) return;
    const lag = opts.maxLagBytes;
    while (!opts.signal?.aborted) {
      const running = isRunning();
      const got: LogEntry[] = [];
      let skipped = 0;
      if (fh) {
        if ((await fh.stat()).size < end) end = 0; // truncated (max-file 1)
        const r = await readHandle(fh, end, lag);
        end = r.end;
        skipped += r.skipped;
        got.push(...r.entries);
      }
      const nowIno = inode(path);
      if (nowIno !== null && nowIno !== ino) {
        // rotated: the rest of the file we were reading (the monitor writes only to the new one
        // now), then any newer rotated ones still there, then the new file. A file rotated away
        // before we got to it is missed, never read out of order.
        if (fh) {
          const r = await readHandle(fh, end, lag);
          skipped += r.skipped;
          got.push(...r.entries);
          await fh.close();
        }
        const files = logFiles(path).slice(0, -1);
        const at = files.findIndex((f) => inode(f) === ino);
        if (at >= 0) {
          for (const f of files.slice(at + 1)) {
            if (lag !== undefined) skipped += fileSize(f);
            else got.push(...(await readFrom(f, 0)).entries);
          }
        }
        fh = await openLog(path);
        ino = fh ? (await fh.stat()).ino : null;
        end = 0;
        if (fh) {
          const r = await readHandle(fh, 0, lag);
          end = r.end;
          skipped += r.skipped;
          got.push(...r.entries);
        }
      }
      if (skipped > 0) yield skippedEntry(skipped);
      for (const e of got) if (keep(e, opts)) yield e;
      if (!running && got.length === 0) return;
      await sleep(100, undefined, { signal: opts.signal }).catch(() => {});
    }
  } finally {
    await fh?.close();
  }
}
