// The classroom front (server/front/) against two small HTTP + socket.io servers standing in for
// Glassbox nodes: placement, stickiness by cookie (requests and WebSockets), Host and Origin passed
// on untouched, classes replayed to every node, and what it refuses.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Server as IoServer } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFront, type Front } from '../../server/front/front.js';
import { NodeSet, parseNodeList, parseNodeUrl } from '../../server/front/nodes.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface FakeNode {
  name: string;
  url: string;
  seen: Seen[];
  /** what POST /api/classes answers (default: made) */
  refuseClasses?: boolean;
  close(): Promise<void>;
}

async function fakeNode(name: string): Promise<FakeNode> {
  const seen: Seen[] = [];
  const classes = new Map<string, string>();
  const joined: { classId: string; name: string }[] = [];
  const node = { name, seen } as FakeNode;
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, v: unknown, headers: Record<string, string | string[]> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(v));
      };
      if (req.method === 'POST' && req.url === '/api/classes') {
        if (node.refuseClasses) return send(409, { error: 'an open class has the code already' });
        const b = JSON.parse(body);
        const made = { ...b, id: b.id ?? randomBytes(6).toString('hex'), code: b.code ?? 'ABCDEF' };
        classes.set(made.code, made.id);
        return send(201, made);
      }
      if (req.method === 'POST' && req.url === '/api/join') {
        const b = JSON.parse(body);
        const classId = classes.get(String(b.code).toUpperCase());
        if (!classId) return send(404, { error: 'no open class has this code' });
        joined.push({ classId, name: b.name });
        return send(201, { token: 'secret-learner-token', learner: { id: randomBytes(5).toString('hex'), displayName: b.name }, class: { id: classId, endsAt: new Date(Date.now() + 3600_000).toISOString() } }, { 'set-cookie': 'glassbox_page=L.x.y; Path=/; HttpOnly' });
      }
      if (req.method === 'GET' && req.url === '/api/classes') return send(200, [...classes.values()].map((id) => ({ id, learners: joined.filter((j) => j.classId === id).length })));
      const roster = /^\/api\/classes\/([0-9a-f]{12})$/.exec(req.url!);
      if (req.method === 'GET' && roster) return send(200, { class: { id: roster[1] }, learners: joined.filter((j) => j.classId === roster[1]).map((j) => ({ displayName: j.name })) });
      send(200, { node: name, host: req.headers.host, origin: req.headers.origin ?? null });
    });
  });
  const io = new IoServer(http, { transports: ['websocket'] });
  io.on('connection', (s) => s.emit('hello', { node: name, host: s.request.headers.host, origin: s.request.headers.origin }));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const a = http.address() as { port: number };
  node.url = `http://127.0.0.1:${a.port}`;
  node.close = async () => {
    await new Promise<void>((r) => io.close(() => r()));
  };
  return node;
}

let nodes: FakeNode[] = [];
let front: Front;
let state: string;
let logged: string[];
let base: string;

beforeEach(async () => {
  nodes = [await fakeNode('n1'), await fakeNode('n2')];
  state = mkdtempSync('/tmp/gbt-front-');
  logged = [];
  front = await startFront({ nodes: NodeSet.fixed(parseNodeList(nodes.map((n) => n.url).join(','))), stateDir: state, host: '127.0.0.1', port: 0, log: (l) => logged.push(l) });
  base = `http://127.0.0.1:${front.port}`;
});
afterEach(async () => {
  await front.close();
  for (const n of nodes) await n.close();
  rmSync(state, { recursive: true, force: true });
});

async function call(path: string, init: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { authorization: 'Bearer teacher-token-for-the-test', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  const res = await fetch(base + path, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text || 'null'), setCookie: res.headers.getSetCookie() };
}

const klass = { name: 'Containers 101', seats: 3, labs: [], endsAt: new Date(Date.now() + 3600_000).toISOString() };
const nodeCookie = (setCookie: string[]) => setCookie.find((c) => c.startsWith('glassbox_node='))!.split(';')[0];

describe('the classroom front', () => {
  it('makes a class on every node with the same id and code', async () => {
    const r = await call('/api/classes', { body: klass });
    expect(r.status).toBe(201);
    const [one, two] = nodes.map((n) => n.seen.filter((s) => s.url === '/api/classes'));
    expect(one).toHaveLength(1);
    expect(JSON.parse(one[0].body)).toEqual(klass); // the first node makes its own id and code
    expect(JSON.parse(two[0].body)).toEqual({ ...klass, id: r.json.id, code: r.json.code });
    // the teacher's token went on as it came, and the front kept none of it
    expect(two[0].headers.authorization).toBe('Bearer teacher-token-for-the-test');
    expect(statSync(join(state, 'front.json')).mode & 0o777).toBe(0o600);
  });

  it('places two learners on different nodes and keeps each there, sockets included', async () => {
    await call('/api/classes', { body: klass });
    const a = await call('/api/join', { body: { code: 'abcdef', name: 'A' }, headers: { authorization: '' } });
    const b = await call('/api/join', { body: { code: 'ABCDEF', name: 'B' }, headers: { authorization: '' } });
    expect([a.status, b.status]).toEqual([201, 201]);
    const [ca, cb] = [nodeCookie(a.setCookie), nodeCookie(b.setCookie)];
    expect(ca).not.toBe(cb);
    // the node's own cookie is passed on beside the front's
    expect(a.setCookie.some((c) => c.startsWith('glassbox_page='))).toBe(true);
    expect(a.setCookie.find((c) => c.startsWith('glassbox_node='))).toMatch(/HttpOnly; SameSite=Lax; Max-Age=\d+/);
    const whereA = (await call('/api/whoami', { cookie: ca })).json.node;
    const whereB = (await call('/api/whoami', { cookie: cb })).json.node;
    expect(new Set([whereA, whereB])).toEqual(new Set(['n1', 'n2']));
    // the WebSocket goes to the same node, with Host and Origin as the browser sent them
    const hello = await new Promise<{ node: string; host: string; origin: string }>((resolve, reject) => {
      const s = connectClient(base, { transports: ['websocket'], extraHeaders: { cookie: cb, origin: base } });
      s.once('hello', (m) => {
        s.close();
        resolve(m);
      });
      s.once('connect_error', reject);
    });
    expect(hello).toEqual({ node: whereB, host: `127.0.0.1:${front.port}`, origin: base });
    // the placements outlive the front
    const again = JSON.parse(readFileSync(join(state, 'front.json'), 'utf8'));
    expect(again.learners).toHaveLength(2);
  });

  it('gives the teacher the class list and roster of every node together', async () => {
    const made = await call('/api/classes', { body: klass });
    for (const name of ['A', 'B', 'C']) await call('/api/join', { body: { code: 'ABCDEF', name } });
    const list = await call('/api/classes');
    expect(list.json).toEqual([{ id: made.json.id, learners: 3 }]);
    const roster = await call(`/api/classes/${made.json.id}`);
    expect(roster.json.learners.map((l: { displayName: string }) => l.displayName).sort()).toEqual(['A', 'B', 'C']);
    // one node down: the others' learners still, and the missing node named
    await nodes[1].close();
    const partial = await fetch(`${base}/api/classes/${made.json.id}`, { headers: { authorization: 'Bearer t' } });
    expect(partial.headers.get('x-glassbox-missing-nodes')).toBe(new URL(nodes[1].url).host);
  });

  it('sends a teacher action on a learner to that learner\'s node, and frees the seat on revoke', async () => {
    await call('/api/classes', { body: klass });
    await call('/api/join', { body: { code: 'ABCDEF', name: 'A' } });
    const b = await call('/api/join', { body: { code: 'ABCDEF', name: 'B' } });
    const lid = b.json.learner.id as string;
    const onB = nodes.find((n) => n.seen.some((s) => s.url === '/api/join' && JSON.parse(s.body).name === 'B'))!;
    const r = await call(`/api/classes/c1/learners/${lid}`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect(r.json.node).toBe(onB.name);
    expect(front.placements.nodeOf(lid)).toBeNull();
  });

  it('refuses a join past the class\'s seats across all nodes, without asking a node', async () => {
    await call('/api/classes', { body: { ...klass, seats: 2 } });
    await call('/api/join', { body: { code: 'ABCDEF', name: 'A' } });
    await call('/api/join', { body: { code: 'ABCDEF', name: 'B' } });
    const joinsBefore = nodes.flatMap((n) => n.seen).filter((s) => s.url === '/api/join').length;
    const c = await call('/api/join', { body: { code: 'ABCDEF', name: 'C' } });
    expect(c).toMatchObject({ status: 409, json: { error: 'the class is full (2 seats)' } });
    expect(nodes.flatMap((n) => n.seen).filter((s) => s.url === '/api/join').length).toBe(joinsBefore);
  });

  it('ends the class on the first node again when another node refuses it, and says which', async () => {
    nodes[1].refuseClasses = true;
    const r = await call('/api/classes', { body: klass });
    expect(r.status).toBe(502);
    expect(r.json.error).toContain(`${new URL(nodes[1].url).host}: 409`);
    expect(nodes[0].seen.some((s) => /^\/api\/classes\/[0-9a-f]{12}\/end$/.test(s.url) && s.method === 'POST')).toBe(true);
    expect(front.placements.classByCode('ABCDEF')).toBeNull();
  });

  it('routes a forged or unknown node cookie to the first node, never to an unlisted address', async () => {
    for (const cookie of ['glassbox_node=169.254.169.254:80', 'glassbox_node=evil.example:3000', 'glassbox_node=']) {
      expect((await call('/api/containers', { cookie })).json.node).toBe('n1');
    }
  });

  it('passes Host and Origin on unchanged (the nodes\' write guard compares them)', async () => {
    const r = await call('/api/anything', { headers: { origin: base } });
    expect(r.json).toEqual({ node: 'n1', host: `127.0.0.1:${front.port}`, origin: base });
    const seen = nodes[0].seen.at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('refuses oversized headers (431) and bodies (413), and an absolute request target', async () => {
    const big = await call('/api/x', { headers: { 'x-pad': 'a'.repeat(20_000) } }).catch((e) => e);
    expect(big.status).toBe(431);
    const body = await call('/api/join', { body: { code: 'ABCDEF', name: 'x'.repeat(70_000) } });
    expect(body.status).toBe(413);
    const raw = await new Promise<string>((resolve) => {
      const s = connect(front.port, '127.0.0.1', () => s.write('GET http://169.254.169.254/ HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d) => {
        got += d;
        s.end();
      });
      s.on('close', () => resolve(got));
    });
    expect(raw).toMatch(/^HTTP\/1.1 400/);
    expect(nodes.flatMap((n) => n.seen).map((s) => s.url)).not.toContain('http://169.254.169.254/');
  });

  it('answers 502 naming a node that is down, and logs no query string', async () => {
    await nodes[0].close();
    const r = await call('/api/containers?token=should-not-be-logged');
    expect(r.status).toBe(502);
    expect(r.json.error).toMatch(/^node 127\.0\.0\.1:\d+ is not reachable: ECONNREFUSED/);
    expect(logged.join('\n')).toContain('GET /api/containers');
    expect(logged.join('\n')).not.toContain('should-not-be-logged');
  });
});

describe('the front\'s node list', () => {
  it('takes http://host:port and names what is wrong otherwise', () => {
    expect(parseNodeUrl('http://10.0.0.5:3000')).toEqual({ key: '10.0.0.5:3000', hostname: '10.0.0.5', port: 3000 });
    expect(parseNodeUrl('http://[::1]:3101')).toEqual({ key: '[::1]:3101', hostname: '::1', port: 3101 });
    expect(() => parseNodeUrl('https://x:1')).toThrow(/--nodes: https:\/\/x:1: a node is reached over http:\/\//);
    expect(() => parseNodeUrl('http://x:1/api')).toThrow(/without a path/);
    expect(() => parseNodeUrl('http://u:p@x:1')).toThrow(/no credentials/);
    expect(() => parseNodeUrl('nonsense')).toThrow(/is not a URL/);
    expect(() => parseNodeList('')).toThrow(/no node given/);
    expect(() => parseNodeList('http://a:1,http://a:1')).toThrow(/a:1 is listed twice/);
  });

  it('refuses a malformed --nodes-dns', async () => {
    await expect(NodeSet.fromDns('no-port')).rejects.toThrow(/--nodes-dns: "no-port": give name:port/);
  });
});
