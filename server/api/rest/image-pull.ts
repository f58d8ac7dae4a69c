// POST /api/images/pull {"image": "name[:tag]"}: pulls through the engine and streams its progress
// to the dashboard as NDJSON, one object a line:
//   {"type":"status","message":"Pulling from test/x"}
//   {"type":"layer","id":"c30e32817b01","status":"downloading","current":1234,"total":5678}
//   {"type":"done","ref":"test/x:v1","id":"sha256:…","upToDate":false}
//   {"type":"error","message":"manifest for … not found"}      (after the stream started)
// A request that fails before anything streamed gets a plain {error} with the error's status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { EngineApi } from '../../engine/index.js';
import { HttpError, httpStatusOf } from './errors.js';

const pullBody = z.object({ image: z.string().min(1, 'an image is required').max(512) }).strict();

export type PullStreamEvent =
  | { type: 'status'; message: string }
  | { type: 'layer'; id: string; status: string; current: number; total: number }
  | { type: 'done'; ref: string; id: string; upToDate: boolean }
  | { type: 'error'; message: string };

function plain(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

async function pull(engine: EngineApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // JSON only: a cross-site form cannot send it without a preflight
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    req.resume();
    return plain(res, 415, { error: 'send the image as JSON: {"image": "name:tag"}' });
  }
  let image: string;
  try {
    const r = pullBody.safeParse(await readJson(req));
    if (!r.success) return plain(res, 400, { error: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
    image = r.data.image.trim();
  } catch (e) {
    return plain(res, httpStatusOf(e), { error: (e as Error).message });
  }
  const write = (ev: PullStreamEvent) => {
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(JSON.stringify(ev) + '\n');
  };
  try {
    // status lines before the first layer are held back: a name the registry lacks is a plain 404
    const held: PullStreamEvent[] = [];
    let layers = false;
    const result = await engine.pullImage(image, (e) => {
      if (e.type === 'layer' && !layers) {
        layers = true;
        for (const h of held.splice(0)) write(h);
      }
      const ev: PullStreamEvent = e.type === 'status' ? { type: 'status', message: e.message } : { type: 'layer', id: e.id, status: e.status, current: e.current, total: e.total };
      if (layers) write(ev);
      else held.push(ev);
    });
    for (const h of held.splice(0)) write(h);
    write({ type: 'done', ref: result.ref, id: result.image.id, upToDate: result.upToDate });
    res.end();
  } catch (e) {
    const err = e as Error;
    if (!res.headersSent) return plain(res, httpStatusOf(e), { error: err.message || 'pull failed' });
    write({ type: 'error', message: err.message || 'pull failed' });
    res.end();
  }
}

/** Handles POST /api/images/pull (the caller has checked the token); false for any other request. */
export function handleImagePullRequest(engine: EngineApi, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  if (url.pathname.replace(/\/+$/, '') !== '/api/images/pull') return false;
  if (req.method !== 'POST') {
    req.resume();
    plain(res, 405, { error: `method ${req.method} not allowed` });
    return true;
  }
  void pull(engine, req, res).catch((e) => {
    console.error('[rest] POST /api/images/pull:', e);
    if (!res.headersSent) plain(res, 500, { error: 'internal error' });
    else res.end();
  });
  return true;
}
