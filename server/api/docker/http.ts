// Request/response plumbing: JSON bodies (validated by the caller's zod schema), JSON answers,
// errors as Docker's {"message"}, and the request context every handler gets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, toHttpError } from './errors.js';

export interface Ctx {
  req: IncomingMessage;
  /** a plain request */
  res?: ServerResponse;
  /** a request with "Connection: Upgrade" (attach, exec start): the raw connection */
  socket?: Duplex;
  head?: Buffer;
  params: string[];
  query: URLSearchParams;
  /** the negotiated API version from the /vX.Y prefix, or the server's own */
  apiVersion: string;
}

const MAX_BODY = 4 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The body of an upgraded request: Content-Length bytes from head and the socket; the rest is given back. */
export function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (!len) return Promise.resolve(Buffer.alloc(0));
  if (len > MAX_BODY) return Promise.reject(new ApiError(413, 'request body too large'));
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      const rest = buf.subarray(len);
      if (rest.length) socket.unshift(rest);
      resolve(buf.subarray(0, len));
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= len) done();
    };
    if (buf.length >= len) return done();
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Parses JSON; a malformed body is a 400 with the parser's message. An empty body is `empty`. */
export async function jsonBody(ctx: Ctx, empty: unknown = undefined): Promise<unknown> {
  const raw = ctx.socket ? await readUpgradeBody(ctx.req, ctx.socket, ctx.head ?? Buffer.alloc(0)) : await readBody(ctx.req);
  const text = raw.toString('utf8').trim();
  if (!text) {
    if (empty === undefined) throw new ApiError(400, 'request body is empty: a JSON object was expected');
    return empty;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `malformed JSON body: ${(e as Error).message}`);
  }
}

export function sendJson(ctx: Ctx, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  if (ctx.res) {
    if (ctx.res.headersSent) {
      ctx.res.end();
      return;
    }
    ctx.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    ctx.res.end(text);
  } else if (ctx.socket && !ctx.socket.destroyed) {
    const reason = { 200: 'OK', 201: 'Created', 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error' }[status] ?? 'Status';
    ctx.socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
}

export function sendEmpty(ctx: Ctx, status: number): void {
  if (ctx.res) {
    ctx.res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
    ctx.res.end();
  } else if (ctx.socket && !ctx.socket.destroyed) {
    ctx.socket.end(`HTTP/1.1 ${status} No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  }
}

export function sendError(ctx: Ctx, e: unknown): void {
  const { status, message } = toHttpError(e);
  if (status === 304) return sendEmpty(ctx, 304);
  if (status === 500 && process.env.GLASSBOX_DEBUG) console.error('[docker api]', e);
  sendJson(ctx, status, { message });
}

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return v === '1' || v.toLowerCase() === 'true';
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ApiError(400, `invalid value for ${name}: ${v}`);
  return n;
}
