// REST for the dashboard: thin routes onto EngineApi. Bodies are checked with zod; engine errors
// carry a kind (invalid, not-found, conflict, …) and become { error } with its status (errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { containerConfigSchema, limitsSchema, MAX_NAME_LENGTH, restartPolicySchema, type EngineApi } from '../../engine/index.js';
import { summarize } from '../../realtime/containers.js';
import { terminalSessionId } from '../../realtime/terminal.js';

import { HttpError, httpStatusOf } from './errors.js';
import { compareListing, getComparison, runComparison } from './runtime-compare.js';

export { HttpError };

const MAX_BODY = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  if (!size) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, data: unknown): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  return r.data;
}

/**
 * What the "New container" form sends: the engine's own container schema (the one description of a
 * container request, bounds included) plus two REST-only switches.
 */
const createBody = containerConfigSchema.extend({
  /** as docker/podman --userns: private and auto give the container a host uid range of its own */
  userns: z.enum(['host', 'private', 'auto'], { error: 'userns: use host, private or auto' }).optional(),
  /** false: create only */
  start: z.boolean().optional(),
  /**
   * a shell for the dashboard, started with the container (one request instead of create, start
   * and a terminal's own start): the page's terminal opens this session id and finds its prompt
   */
  terminal: z
    .object({
      sessionId: terminalSessionId,
      cols: z.number().int().min(1).max(1000),
      rows: z.number().int().min(1).max(500),
    })
    .strict()
    .optional(),
});

/** The terminal channel as the REST routes see it, for the principal of the request (terminal.ts). */
export interface RestTerminals {
  /** why this session id cannot be prepared (bad, or in use), or null */
  refuse(sessionId: string): string | null;
  prepare(t: { sessionId: string; containerId: string; cols: number; rows: number }): void;
}

export interface RestOptions {
  terminals?: RestTerminals;
}

const updateBody = limitsSchema.extend({ restartPolicy: restartPolicySchema.optional() });

const stopBody = z.object({ timeoutSeconds: z.number().int().min(0).max(600).optional(), signal: z.string().max(16).optional() }).strict();
const renameBody = z.object({ name: z.string().min(1, 'the new name is required').max(MAX_NAME_LENGTH, `at most ${MAX_NAME_LENGTH} characters`) }).strict();
const killBody = z.object({ signal: z.string().max(16).optional() }).strict();
const signalBody = z.object({ signal: z.union([z.string().min(1).max(16), z.number().int()], { error: 'signal: a name (TERM, SIGKILL) or a number is required' }) }).strict();

type Handler = (ctx: { engine: EngineApi; params: string[]; url: URL; req: IncomingMessage; opts: RestOptions }) => Promise<unknown> | unknown;

const routes: { method: string; path: string; re: RegExp; fn: Handler }[] = [];
const route = (method: string, path: string, fn: Handler) =>
  routes.push({ method, path, re: new RegExp('^' + path.replace(/:[a-z]+/g, '([^/]+)') + '$'), fn });

/** Every route as "METHOD /api/path/:param" (the learner-isolation sweep walks them all). */
export function restRoutes(): { method: string; path: string }[] {
  return routes.map(({ method, path }) => ({ method, path }));
}

route('GET', '/api/info', ({ engine }) => engine.info());
route('GET', '/api/runtimes', ({ engine }) => engine.runtimes());
route('GET', '/api/images', ({ engine }) => engine.listImages());
route('GET', '/api/containers', ({ engine, url }) => engine.list({ all: url.searchParams.get('all') !== '0' }).map(summarize));
route('POST', '/api/containers', async ({ engine, req, opts }) => {
  const { start, userns, terminal, ...body } = parse(createBody, await readBody(req));
  const config = userns ? { ...body, namespaces: { ...(body.namespaces ?? {}), user: userns !== 'host' } } : body;
  if (terminal) {
    // refused before anything is made
    if (start === false) throw new HttpError(400, 'terminal: a shell needs the container started (start: false was asked)');
    if (!opts.terminals) throw new HttpError(400, 'terminal: this server has no terminals');
    const why = opts.terminals.refuse(terminal.sessionId);
    if (why) throw new HttpError(409, `terminal: ${why}`);
  }
  const rec = await engine.create(config);
  if (start === false) return { status: 201, body: rec };
  let started;
  try {
    started = await engine.start(rec.id);
  } catch (e) {
    // as docker run: made, then started; a start that fails leaves the container made (created
    // or exited) unless --rm, and the answer says which, so the page can point at it
    if (config.autoRemove) await engine.remove(rec.id, { force: true, volumes: true }).catch(() => {});
    const status = engine.list({ all: true }).find((c) => c.id === rec.id)?.state.status ?? 'removed';
    throw new HttpError(httpStatusOf(e), (e as Error).message, { container: { id: rec.id, name: rec.name, status } });
  }
  if (terminal) opts.terminals!.prepare({ ...terminal, containerId: started.id });
  return { status: 201, body: started };
});
route('GET', '/api/containers/:id', ({ engine, params }) => engine.get(params[0]));
route('GET', '/api/containers/:id/config.json', ({ engine, params }) => engine.ociConfig(params[0]));
route('GET', '/api/containers/:id/timeline', ({ engine, params }) => engine.timeline(params[0]));
route('GET', '/api/containers/:id/stats', ({ engine, params }) => engine.stats(params[0]));
route('GET', '/api/containers/:id/top', ({ engine, params }) => engine.top(params[0]));
route('GET', '/api/containers/:id/changes', ({ engine, params }) => engine.changes(params[0]));
route('GET', '/api/containers/:id/logs', async ({ engine, params, url }) => {
  const tail = Number(url.searchParams.get('tail') ?? 500);
  const out = [];
  for await (const e of engine.logs(params[0], { tail: Number.isFinite(tail) && tail >= 0 ? Math.min(tail, 10_000) : 500 })) out.push(e);
  return out;
});
route('POST', '/api/containers/:id/start', async ({ engine, params }) => engine.start(params[0]));
route('POST', '/api/containers/:id/stop', async ({ engine, params, req }) => {
  await engine.stop(params[0], parse(stopBody, await readBody(req)));
  return engine.get(params[0]);
});
route('POST', '/api/containers/:id/restart', async ({ engine, params, req }) => {
  await engine.restart(params[0], parse(stopBody, await readBody(req)));
  return engine.get(params[0]);
});
route('POST', '/api/containers/:id/kill', async ({ engine, params, req }) => {
  await engine.kill(params[0], parse(killBody, await readBody(req)).signal);
  return engine.get(params[0]);
});
// one process of the container, by host pid (the pid diagram's menu); the engine refuses any
// pid that is not the container's
route('POST', '/api/containers/:id/processes/:pid/signal', async ({ engine, params, req }) => {
  if (!/^[1-9]\d{0,9}$/.test(params[1])) throw new HttpError(400, `pid: expected a positive integer, got ${params[1].slice(0, 32)}`);
  return engine.signalProcess(params[0], Number(params[1]), parse(signalBody, await readBody(req)).signal);
});
route('GET', '/api/images/:ref/view', ({ engine, params }) => engine.imageView(params[0]));
route('POST', '/api/containers/:id/pause', async ({ engine, params }) => {
  await engine.pause(params[0]);
  return engine.get(params[0]);
});
route('POST', '/api/containers/:id/unpause', async ({ engine, params }) => {
  await engine.unpause(params[0]);
  return engine.get(params[0]);
});
route('POST', '/api/containers/:id/update', async ({ engine, params, req }) => {
  const writes = await engine.update(params[0], parse(updateBody, await readBody(req)));
  return { writes, container: engine.get(params[0]) };
});
route('POST', '/api/containers/:id/rename', async ({ engine, params, req }) => {
  const { id } = engine.get(params[0]); // the old name stops working once renamed
  await engine.rename(id, parse(renameBody, await readBody(req)).name);
  return engine.get(id);
});
route('DELETE', '/api/containers/:id', async ({ engine, params, url }) => {
  const force = ['1', 'true'].includes(url.searchParams.get('force') ?? '');
  await engine.remove(params[0], { force });
  return { status: 204, body: null };
});

// the runtimes side by side (runtime-compare.ts): a run is a write, behind the same checks
route('GET', '/api/runtimes/compare', ({ engine }) => compareListing(engine));
route('POST', '/api/runtimes/compare', async ({ engine, req }) => ({ status: 201, body: await runComparison(engine, await readBody(req)) }));
route('GET', '/api/runtimes/compare/:id', ({ engine, params }) => getComparison(engine, params[0]));

/** A path parameter, decoded; a broken %XX is a 400 (decodeURIComponent throws a URIError). */
function decodeParam(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path: ${p}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204) {
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export { sendJson };

/** Handles /api/*; the caller has checked the token. */
export async function handleRest(engine: EngineApi, req: IncomingMessage, res: ServerResponse, url: URL, opts: RestOptions = {}): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  let allowed = false;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    allowed = true;
    if (r.method !== req.method) continue;
    try {
      const params = m.slice(1).map(decodeParam);
      const out = await r.fn({ engine, params, url, req, opts });
      if (out && typeof out === 'object' && 'status' in out && 'body' in out && typeof (out as { status: unknown }).status === 'number' && Object.keys(out).length === 2) {
        const o = out as { status: number; body: unknown };
        return sendJson(res, o.status, o.body);
      }
      return sendJson(res, 200, out ?? null);
    } catch (e) {
      const err = e as Error;
      const status = httpStatusOf(e);
      if (status === 500) console.error(`[rest] ${req.method} ${path}:`, err);
      return sendJson(res, status, { error: err.message || 'internal error', ...(e instanceof HttpError ? e.detail : {}) });
    }
  }
  sendJson(res, allowed ? 405 : 404, { error: allowed ? `method ${req.method} not allowed` : `no such endpoint: ${path}` });
}
