// A client of a container monitor's socket (native/PROTOCOL.md, "monitor.sock: attach").
// Frames: 1 byte type, 4 bytes big-endian length, payload.
import { connect, type Socket } from 'node:net';
import type { AttachSession } from '../api.js';

export function frame(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; keeps partial frames between chunks. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (type: string, payload: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      const type = String.fromCharCode(this.buf[0]);
      const payload = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      this.onFrame(type, payload);
    }
  }
}

export function connectMonitor(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** Wraps a connected monitor socket as an AttachSession. */
export function attachSession(sock: Socket): AttachSession {
  const out: ((d: Buffer) => void)[] = [];
  const err: ((d: Buffer) => void)[] = [];
  const exit: ((c: number) => void)[] = [];
  const close: (() => void)[] = [];
  const reader = new FrameReader((type, payload) => {
    if (type === 'o') out.forEach((cb) => cb(payload));
    else if (type === 'e') err.forEach((cb) => cb(payload));
    else if (type === 'x') exit.forEach((cb) => cb(Number(payload.toString()) || 0));
  });
  sock.on('data', (d: Buffer) => reader.push(d));
  sock.on('error', () => {});
  sock.on('close', () => close.forEach((cb) => cb()));
  return {
    onStdout: (cb) => out.push(cb),
    onStderr: (cb) => err.push(cb),
    onExit: (cb) => exit.push(cb),
    onClose: (cb) => close.push(cb),
    write: (data) => {
      if (!sock.destroyed) sock.write(frame('i', typeof data === 'string' ? Buffer.from(data) : data));
    },
    closeStdin: () => {
      if (!sock.destroyed) sock.write(frame('c'));
    },
    resize: (rows, cols) => {
      if (!sock.destroyed) sock.write(frame('r', `${Math.max(1, Math.floor(rows))} ${Math.max(1, Math.floor(cols))}`));
    },
    detach: () => sock.destroy(),
  };
}
