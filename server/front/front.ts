// The classroom front: one address for a class spread over several Glassbox nodes. It places each
// learner on a node when they join and sends everything of theirs there afterwards, sticky:
//
//   POST /api/join                 -> the class's node with the fewest of its learners; the answer
//                                     gets a `glassbox_node` cookie naming that node
//   POST /api/classes              -> the first node; once made there, the same class (same id and
//                                     join code) is made on every other node
//   POST /api/classes/:id/end      -> every node of the class
//   GET  /api/classes, /:id        -> every node; learner counts summed, rosters joined
//   /api/classes/:id/learners/:lid -> the node that learner was placed on (revoke, reset, ...)
//   anything else, WebSockets too  -> the node the `glassbox_node` cookie names, else the first
//
// The cookie is no secret: a forged one only reaches another listed node, where the learner's
// token fails (and a key the front does not list routes to the first node, never elsewhere). The
// front holds no token and checks none: the nodes do. It never logs a query string (a ?token=).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseCookies } from '../api/rest/auth.js';
import { type GlassboxNode, NodeSet } from './nodes.js';
import { Placements } from './placements.js';
import { exchange, NodeUnreachable, nodeAgent, pipeRequest, pipeUpgrade, sendAnswer } from './proxy.js';

export const NODE_COOKIE = 'glassbox_node';
/** Request line plus headers: browsers send a few KiB; more is refused with 431 by Node itself. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** The bodies the front reads (a join, a class): small JSON. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface FrontOptions {
  nodes: NodeSet;
  /** where the placements are kept (front.json, 0600) */
  stateDir: string;
  host: string;
  port: number;
  log?: (line: string) => void;
}

export interface Front {
  http: Server;
  port: number;
  placements: Placements;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY_BYTES) {
        // the rest is read and dropped until the 413 is out, then the connection closes
        parts.length = 0;
        return reject(new BodyTooLarge());
      }
      if (size <= MAX_BODY_BYTES) parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export async function startFront(opts: FrontOptions): Promise<Front> {
  const { nodes } = opts;
  const log = opts.log ?? ((l: string) => console.log(`glassbox-front: ${l}`));
  const placements = new Placements(opts.stateDir);
  const agent = nodeAgent();
  /** WebSockets once upgraded belong to no http.Server connection list: closed by hand */
  const tunnels = new Set<import('node:stream').Duplex>();
  /** joins on their way to a node, per "class id|node key": two joins at once must not both take
   * the last seat, or both go to the same node */
  const joining = new Map<string, number>();
  const pending = (classId: string, key: string) => joining.get(`${classId}|${key}`) ?? 0;

  const cookieNode = (req: IncomingMessage): GlassboxNode | null => nodes.byKey(parseCookies(req.headers.cookie)[NODE_COOKIE]);
  const routeOf = (req: IncomingMessage): GlassboxNode => cookieNode(req) ?? nodes.first();
  /** method and path, never the query (it may hold ?token=) */
  const what = (req: IncomingMessage) => `${req.method} ${(req.url ?? '').split('?')[0].slice(0, 200)}`;
  const unreachable = (req: IncomingMessage, res: ServerResponse) => (e: NodeUnreachable) => {
    log(`${what(req)}: ${e.message}`);
    sendJson(res, 502, { error: e.message });
  };

  function nodeCookie(req: IncomingMessage, node: GlassboxNode, endsAt: string | undefined): string {
    const maxAge = Math.max(60, Math.ceil(((endsAt ? Date.parse(endsAt) : NaN) - Date.now()) / 1000) || 12 * 3600);
    const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    return `${NODE_COOKIE}=${encodeURIComponent(node.key)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
  }

  async function join(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const asked = parseJson(body);
    const cls = isObject(asked) && typeof asked.code === 'string' ? placements.classByCode(asked.code) : null;
    let node: GlassboxNode;
    if (cls) {
      const seated = placements.learnersOf(cls.id).length + cls.nodes.reduce((sum, k) => sum + pending(cls.id, k), 0);
      if (seated >= cls.seats) return sendJson(res, 409, { error: `the class is full (${cls.seats} seats)` });
      const key = placements.choose(cls, nodes.all().map((n) => n.key), (k) => pending(cls.id, k));
      const chosen = nodes.byKey(key);
      if (!chosen) return sendJson(res, 503, { error: 'no node this class was made on is listed by the front now' });
      node = chosen;
    } else {
      // a code the front did not see made (or a malformed body): the first node answers it
      node = nodes.first();
    }
    const slot = `${cls?.id ?? ''}|${node.key}`;
    joining.set(slot, (joining.get(slot) ?? 0) + 1);
    let answer;
    try {
      answer = await exchange(agent, req, node, body);
    } finally {
      const left = (joining.get(slot) ?? 1) - 1;
      if (left > 0) joining.set(slot, left);
      else joining.delete(slot);
    }
    const made = parseJson(answer.body);
    if (answer.status === 201 && isObject(made) && isObject(made.learner) && typeof made.learner.id === 'string') {
      const klass = isObject(made.class) ? made.class : {};
      const classId = typeof klass.id === 'string' ? klass.id : (cls?.id ?? '');
      placements.place({ learnerId: made.learner.id, classId, node: node.key });
      return sendAnswer(res, answer, [nodeCookie(req, node, typeof klass.endsAt === 'string' ? klass.endsAt : cls?.endsAt)]);
    }
    sendAnswer(res, answer);
  }

  async function createClass(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const [first, ...others] = nodes.all();
    const answer = await exchange(agent, req, first, body);
    const made = parseJson(answer.body);
    const asked = parseJson(body);
    // not made (bad request, not the teacher, ...): the first node's answer is the answer
    if (answer.status !== 201 || !isObject(made) || typeof made.id !== 'string' || typeof made.code !== 'string' || !isObject(asked)) return sendAnswer(res, answer);
    const again = Buffer.from(JSON.stringify({ ...asked, id: made.id, code: made.code }));
    const replays = await Promise.allSettled(others.map((n) => exchange(agent, req, n, again)));
    const failed = replays.flatMap((r, i) => {
      if (r.status === 'rejected') return [`${others[i].key}: ${(r.reason as Error).message}`];
      if (r.value.status !== 201) return [`${others[i].key}: ${r.value.status} ${r.value.body.toString('utf8').slice(0, 300)}`];
      return [];
    });
    if (failed.length) {
      // one class on some nodes only would strand learners: end it wherever it was made
      const madeOn = [first, ...others.filter((_, i) => replays[i].status === 'fulfilled' && (replays[i] as PromiseFulfilledResult<{ status: number }>).value.status === 201)];
      await Promise.allSettled(madeOn.map((n) => exchange(agent, req, n, Buffer.from('{}'), `/api/classes/${encodeURIComponent(made.id as string)}/end`, 'POST')));
      log(`POST /api/classes: class ${made.id} not made on every node, ended again: ${failed.join('; ')}`);
      return sendJson(res, 502, { error: `the class could not be made on every node (${failed.join('; ')}); it was ended on the nodes that had made it` });
    }
    placements.addClass({ id: made.id, code: made.code, seats: Number(made.seats), endsAt: String(made.endsAt), nodes: [first.key, ...others.map((n) => n.key)] });
    sendAnswer(res, answer);
  }

  async function endClass(req: IncomingMessage, res: ServerResponse, body: Buffer, classId: string): Promise<void> {
    const cls = placements.classById(classId);
    const targets = cls ? nodes.all().filter((n) => cls.nodes.includes(n.key)) : [nodes.first()];
    const answers = await Promise.allSettled(targets.map((n) => exchange(agent, req, n, body)));
    const first = answers[0];
    if (first?.status !== 'fulfilled') return sendJson(res, 502, { error: first ? (first.reason as Error).message : 'no node holds this class' });
    const failed = answers.flatMap((a, i) => (a.status === 'rejected' ? [`${targets[i].key}: ${(a.reason as Error).message}`] : a.value.status >= 300 ? [`${targets[i].key}: ${a.value.status}`] : []));
    if (first.value.status < 300 && failed.length) return sendJson(res, 502, { error: `the class ended on some nodes only: ${failed.join('; ')} (ask again)` });
    if (first.value.status < 300) placements.endClass(classId);
    sendAnswer(res, first.value);
  }

  async function learnerAction(req: IncomingMessage, res: ServerResponse, body: Buffer, learnerId: string): Promise<void> {
    const node = nodes.byKey(placements.nodeOf(learnerId)) ?? nodes.first();
    const answer = await exchange(agent, req, node, body);
    // a revoked learner's seat is free again
    if (req.method === 'DELETE' && answer.status < 300) placements.forget(learnerId);
    sendAnswer(res, answer);
  }

  /**
   * The teacher's class list and roster, from every node: the first node's answer, with each
   * class's learner count summed over the nodes and the rosters of all nodes joined. A node that
   * does not answer is named in `x-glassbox-missing-nodes` (the roster lacks its learners).
   */
  async function classesFromAll(req: IncomingMessage, res: ServerResponse, body: Buffer, classId: string | null): Promise<void> {
    // a learner's browser (it has a node): their node answers, as for any route of theirs
    const own = cookieNode(req);
    if (own) return sendAnswer(res, await exchange(agent, req, own, body));
    const cls = classId ? placements.classById(classId) : null;
    const targets = cls ? nodes.all().filter((n) => cls.nodes.includes(n.key)) : nodes.all();
    if (!targets.length) targets.push(nodes.first());
    const answers = await Promise.allSettled(targets.map((n) => exchange(agent, req, n, body)));
    const first = answers[0];
    if (first.status !== 'fulfilled') throw first.reason;
    const base = parseJson(first.value.body);
    if (first.value.status !== 200) return sendAnswer(res, first.value);
    const others: unknown[] = [];
    const missing: string[] = [];
    answers.slice(1).forEach((a, i) => {
      if (a.status === 'fulfilled' && a.value.status === 200) others.push(parseJson(a.value.body));
      else missing.push(targets[i + 1].key);
    });
    let merged: unknown = base;
    if (classId === null && Array.isArray(base)) {
      merged = base.map((c: unknown) => {
        if (!isObject(c) || typeof c.learners !== 'number') return c;
        let learners = c.learners;
        for (const list of others) if (Array.isArray(list)) for (const o of list) if (isObject(o) && o.id === c.id && typeof o.learners === 'number') learners += o.learners;
        return { ...c, learners };
      });
    } else if (isObject(base) && Array.isArray(base.learners)) {
      merged = { ...base, learners: [...base.learners, ...others.flatMap((o) => (isObject(o) && Array.isArray(o.learners) ? o.learners : []))] };
    }
    const text = Buffer.from(JSON.stringify(merged));
    const headers = { ...first.value.headers };
    if (missing.length) headers['x-glassbox-missing-nodes'] = missing.join(', ');
    sendAnswer(res, { status: 200, headers, body: text });
  }

  /** The requests the front looks into: their body is read first, then handled. */
  function inspected(req: IncomingMessage, path: string): ((res: ServerResponse, body: Buffer) => Promise<void>) | null {
    if (req.method === 'POST' && path === '/api/join') return (res, b) => join(req, res, b);
    if (req.method === 'POST' && path === '/api/classes') return (res, b) => createClass(req, res, b);
    if (req.method === 'GET' && path === '/api/classes') return (res, b) => classesFromAll(req, res, b, null);
    let m = /^\/api\/classes\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) return (res, b) => classesFromAll(req, res, b, decodeURIComponent(m![1]));
    m = /^\/api\/classes\/([^/]+)\/end$/.exec(path);
    if (req.method === 'POST' && m) return (res, b) => endClass(req, res, b, decodeURIComponent(m![1]));
    m = /^\/api\/classes\/[^/]+\/learners\/([^/]+)(?:\/.*)?$/.exec(path);
    if (m) return (res, b) => learnerAction(req, res, b, decodeURIComponent(m![1]));
    return null;
  }

  const http = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    // origin-form only ("/path"): an absolute URL or "*" is no request for a node
    if (!req.url?.startsWith('/')) {
      req.resume();
      return sendJson(res, 400, { error: 'the request target must be a path' });
    }
    const path = req.url.split('?')[0];
    try {
      decodeURI(path);
    } catch {
      req.resume();
      return sendJson(res, 400, { error: 'malformed percent-encoding in the path' });
    }
    if (path === '/.front/health') return sendJson(res, 200, { nodes: nodes.all().length });
    const handler = inspected(req, path);
    if (!handler) return pipeRequest(agent, req, res, routeOf(req), unreachable(req, res));
    readBody(req)
      .then((body) => handler(res, body))
      .catch((e: Error) => {
        if (e instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          res.once('finish', () => req.socket.destroy());
          return sendJson(res, 413, { error: `a body of at most ${MAX_BODY_BYTES} bytes` });
        }
        if (e instanceof NodeUnreachable) return unreachable(req, res)(e);
        log(`${what(req)}: ${e.message}`);
        sendJson(res, 500, { error: 'the front failed to handle this request' });
      });
  });
  http.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/')) return void socket.destroy();
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    pipeUpgrade(req, socket, head, routeOf(req));
  });
  http.on('clientError', (err, socket) => {
    // Node answers 431 itself for oversized headers when it can; otherwise a plain 400
    if (socket.writable && !(err as NodeJS.ErrnoException).code?.startsWith('HPE_HEADER_OVERFLOW')) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else if (socket.writable) socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    http,
    port,
    placements,
    async close() {
      nodes.close();
      for (const t of tunnels) t.destroy();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      agent.destroy();
    },
  };
}
