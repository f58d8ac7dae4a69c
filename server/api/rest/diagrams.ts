// REST for the diagrams (first paint and tests), mounted by the server next to the other routes,
// after its token/Origin check:
//   GET  /api/diagrams/<kind>[?container=<id>]            the snapshot (kind: namespaces|layers|network|cgroups|mounts)
//   GET  /api/diagrams/layers/which?container=<id>&path=/etc/passwd   which layer a path comes from
//   POST /api/diagrams/cgroups/limit?container=<id>  body { kind: memory|cpus|pids, value: number|null }
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiagramHub } from '../../engine/index.js';
import { DIAGRAM_KINDS, type DiagramKind, type LimitKind } from '../../engine/index.js';
import { HttpError, httpStatusOf } from './errors.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Errors carry both `error` (as the dashboard's REST does) and `message`. */
function sendError(res: ServerResponse, status: number, message: string): void {
  send(res, status, { error: message, message });
}

const statusOf = httpStatusOf;

async function readBody(req: IncomingMessage, limit = 4096): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HttpError(413, 'body too large');
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

/** Handles /api/diagrams/… and returns true; returns false for any other URL. */
export function handleDiagramRequest(req: IncomingMessage, res: ServerResponse, hub: DiagramHub): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // the compare page: the host's view beside the containers', as the principal's hub may show it
  if (url.pathname === '/api/host/view' && req.method === 'GET') {
    const ids = url.searchParams.getAll('container');
    if (ids.some((id) => !ID_RE.test(id))) sendError(res, 400, 'invalid container id or name');
    else hub.compareView(ids.slice(0, 4)).then((v) => send(res, 200, v), (e: unknown) => sendError(res, statusOf(e), (e as Error).message));
    return true;
  }
  if (!url.pathname.startsWith('/api/diagrams/') && url.pathname !== '/api/diagrams') return false;
  const parts = url.pathname.split('/').filter(Boolean).slice(2); // after api/diagrams
  const container = url.searchParams.get('container') ?? undefined;
  if (container !== undefined && !ID_RE.test(container)) {
    sendError(res, 400, 'invalid container id or name');
    return true;
  }
  const fail = (e: unknown) => sendError(res, statusOf(e), (e as Error).message);

  if (parts.length === 0 && req.method === 'GET') {
    send(res, 200, { kinds: DIAGRAM_KINDS });
    return true;
  }
  const kind = parts[0] as DiagramKind;
  if (!DIAGRAM_KINDS.includes(kind)) {
    sendError(res, 404, `no diagram ${parts[0]}; kinds: ${DIAGRAM_KINDS.join(", ")}`);
    return true;
  }
  if (parts.length === 1 && req.method === 'GET') {
    hub.snapshot(kind, container).then((s) => send(res, 200, s), fail);
    return true;
  }
  if (kind === 'layers' && parts[1] === 'which' && req.method === 'GET') {
    const path = url.searchParams.get('path');
    if (!container || !path || path.length > 4096 || path.includes('\0')) sendError(res, 400, 'container and path are required');
    else hub.whichLayer(container, path).then((r) => send(res, 200, r), fail);
    return true;
  }
  if (kind === 'cgroups' && parts[1] === 'limit' && req.method === 'POST') {
    if (!container) {
      sendError(res, 400, 'container is required');
      return true;
    }
    readBody(req)
      .then((body) => {
        const b = body as { kind?: unknown; value?: unknown };
        if (b.kind !== 'memory' && b.kind !== 'cpus' && b.kind !== 'pids') throw new HttpError(400, 'kind must be memory, cpus or pids');
        if (b.value !== null && (typeof b.value !== 'number' || !Number.isFinite(b.value) || b.value <= 0)) throw new HttpError(400, 'value must be a positive number or null (no limit)');
        return hub.setLimit(container, b.kind as LimitKind, b.value as number | null);
      })
      .then((writes) => send(res, 200, { writes }), fail);
    return true;
  }
  sendError(res, 405, `${req.method} ${url.pathname} is not supported`);
  return true;
}
