// The byte formats of Docker's streams: the multiplexed stdcopy frames and the hijacked connection.
import type { Duplex } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

/** One stdcopy frame: [stream, 0, 0, 0, size (uint32 BE)] + payload. */
export function muxFrame(stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Splits a multiplexed stream (for tests and tools). */
export function demux(buf: Buffer): { stream: number; data: Buffer }[] {
  const out: { stream: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    out.push({ stream: buf[off], data: buf.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return out;
}

/** A writer for stdout/stderr: raw for a tty, framed otherwise. */
export function streamWriter(out: Duplex | NodeJS.WritableStream, tty: boolean) {
  return (stream: number, data: Buffer) => {
    if (!data.length) return;
    (out as NodeJS.WritableStream).write(tty ? data : muxFrame(stream, data));
  };
}

/** The 101 answer to "Connection: Upgrade, Upgrade: tcp" (docker attach, exec start). */
export function upgradeResponse(tty: boolean): string {
  const type = tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  return `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
}
