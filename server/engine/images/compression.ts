// Layer blobs come plain, gzip'd or zstd'd; the kind is told by the first bytes (not the media
// type, which registries and tools get wrong often enough):
//   gzip 1F 8B 08      zstd 28 B5 2F FD      anything else: a plain tar
// gzip is node:zlib. Node 20 has no zstd, so zstd goes through the `zstd` program (Debian's zstd
// package), streamed: nothing is held in memory and a broken frame fails the layer.
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export function fileCompression(path: string): Compression {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return detectCompression(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * The uncompressed content of a stream (a `docker load` body, plain or compressed), told by its
 * first bytes, decompressed on the way: nothing lands in a file first.
 */
export async function decompressedStream(input: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const head: Buffer[] = [];
  let have = 0;
  // the first 4 bytes (a chunk is usually 64 KiB: one read)
  // (destroyOnReturn false: leaving the loop must not end the request the rest comes on)
  for await (const c of input.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    head.push(c);
    have += c.length;
    if (have >= 4) break;
  }
  const first = Buffer.concat(head);
  const compression = detectCompression(first);
  // what was read goes first, then the rest of the input
  const whole = new PassThrough();
  whole.write(first);
  input.on('error', (e) => whole.destroy(e));
  if (input.readableEnded) whole.end(); // all of it was in the head (an empty or tiny body)
  else input.pipe(whole);
  if (compression === 'none') return { stream: whole, compression };
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    whole.on('error', (e) => gunzip.destroy(e));
    return { stream: whole.pipe(gunzip), compression };
  }
  return { stream: zstdDecompressStream(whole), compression };
}

/** `zstd -d -c` reading the stream on its stdin. */
function zstdDecompressStream(input: Readable): Readable {
  const out = new PassThrough();
  const child = spawn('zstd', ['-d', '-c', '-q', '--no-progress'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 2000) stderr += c.toString();
  });
  input.on('error', (e) => out.destroy(e));
  child.stdin.on('error', () => {}); // zstd exited early: its exit status says why
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (e: NodeJS.ErrnoException) => out.destroy(e.code === 'ENOENT' ? new Error('the archive is zstd-compressed and the zstd program is missing (apt-get install zstd)') : e));
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`zstd could not decompress the archive (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
  });
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return out;
}

/** The uncompressed content of a blob file, as a stream. Errors (a bad frame, no zstd) come on it. */
export function openDecompressed(path: string): { stream: Readable; compression: Compression } {
  const compression = fileCompression(path);
  if (compression === 'none') return { stream: createReadStream(path), compression };
  if (compression === 'gzip') {
    const src = createReadStream(path);
    const gunzip = createGunzip();
    src.on('error', (e) => gunzip.destroy(e));
    return { stream: src.pipe(gunzip), compression };
  }
  return { stream: zstdDecompress(path), compression };
}

/** `zstd -d -c FILE`; the stream ends only once zstd exited 0, so a truncated frame is an error. */
function zstdDecompress(path: string): Readable {
  const out = new PassThrough();
  const child = spawn('zstd', ['-d', '-c', '-q', '--no-progress', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 2000) stderr += c.toString();
  });
  child.stdout.pipe(out, { end: false });
  child.on('error', (e: NodeJS.ErrnoException) => {
    out.destroy(e.code === 'ENOENT' ? new Error('this layer is zstd-compressed and the zstd program is missing (apt-get install zstd)') : e);
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`zstd could not decompress the layer (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
  });
  // the consumer gave up (a rejected layer): stop zstd
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return out;
}

/** Counts and hashes what passes through (the diff_id of a layer is the sha256 of its tar). */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  /** sha256:<hex>; call once, after the end */
  digest(): string {
    return 'sha256:' + this.hash.digest('hex');
  }
}
