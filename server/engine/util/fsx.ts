// Small file helpers the engine uses everywhere: atomic writes (state survives a SIGKILL of the
// server at any instant) and reads that treat "missing" as a value rather than an error.
import { closeSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Write a file so that a reader sees either the old or the new content, never half of it.
 * rename() gives that against a killed server (the page cache outlives the process); there is no
 * fsync, so a power cut may lose the last change — the sweep at start copes with either state.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * writeFileAtomic on libuv's threads (the event loop free meanwhile). Its temporary file has the
 * same name as the sync one's: the caller makes sure no other write of `path` runs at the time.
 */
export async function writeFileAtomicAsync(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw e;
  }
}
