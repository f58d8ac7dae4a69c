// Issue #13, "beyond one machine", for real on this host: Redis (Debian's redis-server), two
// Glassbox nodes (server/main.ts with prefixes gbtk1 and gbtk2, their own state, one teacher token
// from a file, GLASSBOX_REDIS_URL) and the classroom front (server/front/main.ts) before them.
// The teacher makes a class through the front and it exists on both nodes with one id and code;
// two learners join through the front and land on different nodes; each makes a container and
// opens sockets, routed by the front to their own node; the teacher's broadcast, started on node
// 1, reaches the learner on node 2 through Redis; ending the class through the front removes what
// it made on both nodes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNames } from '../../server/engine/host/naming.js';
import { NetworkManager } from '../../server/engine/network/index.js';
import { ensureBuilt, repo } from '../e2e/dashboard-support.js';
import { freePort } from '../helpers.js';
import { startRedis, type RunningRedis } from '../redis-support.js';
import { runScript, stopScript, type ScriptProc } from '../cluster-support.js';

const MiB = 1024 * 1024;
const PREFIXES = ['gbtk1', 'gbtk2'] as const;

let redis: RunningRedis;
const teacherToken = randomBytes(24).toString('base64url');
const dirs: string[] = [];
const dir = (prefix: string) => {
  const d = mkdtempSync(prefix);
  dirs.push(d);
  return d;
};
let tokenFile = '';
const roots: { root: string; run: string }[] = [];

beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis();
  const secrets = dir('/tmp/gbtk-secret-');
  tokenFile = join(secrets, 'token');
  writeFileSync(tokenFile, teacherToken + '\n', { mode: 0o600 });
  for (let i = 0; i < PREFIXES.length; i++) roots.push({ root: dir('/tmp/gbtk-root-'), run: dir('/tmp/gbw-') });
}, 600_000);

afterAll(async () => {
  // the nodes leave their bridges and chains up for their containers: this test is done with them
  for (let i = 0; i < PREFIXES.length; i++) {
    await new NetworkManager({ root: roots[i].root, runRoot: roots[i].run, names: hostNames(PREFIXES[i]) }).teardown({ removeState: true }).catch(() => {});
  }
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

function nodeEnv(i: number, redisUrl: string): Record<string, string> {
  const { root, run: runRoot } = roots[i];
  return { GLASSBOX_PREFIX: PREFIXES[i], GLASSBOX_ROOT: root, GLASSBOX_RUN: runRoot, GLASSBOX_DOCKER_SOCK: join(runRoot, 'docker.sock'), GLASSBOX_TOKEN_FILE: tokenFile, GLASSBOX_REDIS_URL: redisUrl };
}

async function startNode(i: number, redisUrl: string): Promise<ScriptProc> {
  const port = await freePort();
  return runScript(`node ${i + 1}`, join(repo, 'server', 'main.ts'), ['--port', String(port), '--host', '127.0.0.1'], nodeEnv(i, redisUrl), /dashboard ready at/, port);
}

describe('a cluster node', () => {
  it('stops at start when Redis is not there, naming it, and keeps the password out of the log', async () => {
    const dead = await freePort();
    const err = await startNode(0, `redis://:pw-not-in-log@127.0.0.1:${dead}`).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toMatch(/exited \(1\) before it was ready/);
    expect(err).toContain(`glassbox: cannot run as a cluster node: Redis at redis://:***@127.0.0.1:${dead} is not reachable`);
    expect(err).not.toContain('pw-not-in-log');
    // and the shared teacher token never reached the log
    expect(err).not.toContain(teacherToken);
  }, 180_000);
});

describe('two nodes, the front and Redis', () => {
  const nodes: ScriptProc[] = [];
  let front: ScriptProc;
  let frontState = '';
  const sockets: ClientSocket[] = [];
  let cls: { id: string; code: string };
  const learners: { name: string; id: string; token: string; cookie: string; container?: string }[] = [];
  let teacherContainer = '';

  beforeAll(async () => {
    // one after the other: each node picks a free subnet for its bridge
    for (let i = 0; i < PREFIXES.length; i++) nodes.push(await startNode(i, redis.url));
    frontState = dir('/tmp/gbtk-front-');
    const port = await freePort();
    front = await runScript('front', join(repo, 'server', 'front', 'main.ts'), ['--nodes', nodes.map((n) => n.base).join(','), '--port', String(port), '--state', frontState], {}, /glassbox-front: listening on/, port);
  }, 600_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    // whatever the tests did not end: each node's containers, as its teacher
    for (const n of nodes) {
      const list = await call(n.base, '/api/containers?all=1').catch(() => null);
      for (const c of (list?.json as { id: string }[] | null) ?? []) await call(n.base, `/api/containers/${c.id}?force=1`, { method: 'DELETE' }).catch(() => {});
    }
    await stopScript(front);
    for (const n of nodes) await stopScript(n);
    // the shared teacher token is in no log: not the front's, not a node's
    for (const p of [front, ...nodes]) if (p) expect(p.output()).not.toContain(teacherToken);
  }, 120_000);

  /** One JSON request; the teacher's token unless `token` says otherwise. */
  async function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string | null; cookie?: string; origin?: string } = {}) {
    const headers: Record<string, string> = {};
    const token = init.token === undefined ? teacherToken : init.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.cookie) headers.cookie = init.cookie;
    if (init.origin) headers.origin = init.origin;
    const method = init.method ?? (init.body !== undefined ? 'POST' : 'GET');
    if (method !== 'GET' && method !== 'HEAD') headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: init.body !== undefined ? JSON.stringify(init.body) : method === 'GET' ? undefined : '{}' });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, json: json as any, setCookie: res.headers.getSetCookie() }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  /**
   * A socket through the front, as a learner's browser opens it: token, cookie, the front's Origin.
   * `listen` runs before the connection is made: what the server sends on connection comes in the
   * same read as the connect itself, before the caller's next line could listen for it.
   */
  function socket(ns: string, token: string, cookie?: string, listen?: (s: ClientSocket) => void): Promise<ClientSocket> {
    return new Promise((resolve, reject) => {
      // a browser passes the handshake's first filter with its page cookie; the teacher's script
      // here has none and shows its token in the query instead, as Node clients do
      const s = connectClient(`${front.base}${ns}`, { transports: ['websocket'], auth: { token }, query: cookie ? {} : { token }, extraHeaders: { origin: front.base, ...(cookie ? { cookie } : {}) }, reconnection: false, forceNew: true });
      sockets.push(s);
      listen?.(s);
      s.once('connect', () => resolve(s));
      s.once('connect_error', (e) => reject(e));
    });
  }

  it('makes the teacher\'s class on both nodes, with one id and one join code', async () => {
    const r = await call(front.base, '/api/classes', {
      body: { name: 'cluster', seats: 4, labs: [], quota: { memory: 512 * MiB, cpus: 1, pids: 300, containers: 2, disk: 256 * MiB, idleMinutes: 30 }, endsAt: new Date(Date.now() + 3600_000).toISOString() },
      origin: front.base,
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    cls = { id: r.json.id, code: r.json.code };
    for (const n of nodes) {
      const on = await call(n.base, `/api/classes/${cls.id}`);
      expect(on.status, `${n.name}: ${JSON.stringify(on.json)}`).toBe(200);
      expect(on.json.class).toMatchObject({ id: cls.id, code: cls.code, name: 'cluster' });
    }
  });

  it('places two learners who join through the front on different nodes', async () => {
    for (const name of ['Ada', 'Bob']) {
      // as the join page does: same-origin JSON to the front, no token yet; the node's write guard
      // sees the front's Origin and Host, passed on unchanged
      const r = await call(front.base, '/api/join', { body: { code: cls.code.toLowerCase(), name }, token: null, origin: front.base });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      // the browser keeps both cookies: the node's page cookie and the front's glassbox_node
      const cookies = r.setCookie.map((c) => c.split(';')[0]);
      expect(cookies.map((c) => c.split('=')[0]).sort()).toEqual(['glassbox_node', 'glassbox_page']);
      learners.push({ name, id: r.json.learner.id, token: r.json.token, cookie: cookies.join('; ') });
    }
    const nodeOf = (l: { cookie: string }) => /glassbox_node=([^;]+)/.exec(l.cookie)![1];
    expect(nodeOf(learners[0])).not.toBe(nodeOf(learners[1]));
    // each node's own roster holds its one learner
    for (const [i, n] of nodes.entries()) {
      const roster = await call(n.base, `/api/classes/${cls.id}`);
      expect(roster.json.learners.map((l: { displayName: string }) => l.displayName)).toEqual([learners[i].name]);
    }
    // the teacher, through the front, sees both
    const all = await call(front.base, `/api/classes/${cls.id}`);
    expect(all.json.learners.map((l: { displayName: string }) => l.displayName).sort()).toEqual(['Ada', 'Bob']);
    expect((await call(front.base, '/api/classes')).json.find((c: { id: string }) => c.id === cls.id).learners).toBe(2);
    // each learner is known on their node only: without the cookie Bob's token reaches node 1, which refuses it
    for (const l of learners) expect((await call(front.base, '/api/whoami', { token: l.token, cookie: l.cookie })).json).toMatchObject({ role: 'learner', learner: { id: l.id } });
    expect((await call(front.base, '/api/whoami', { token: learners[1].token })).status).toBe(401);
  });

  it('routes each learner\'s container and sockets to their own node', async () => {
    for (const l of learners) {
      const made = await call(front.base, '/api/containers', { token: l.token, cookie: l.cookie, origin: front.base, body: { image: 'base:latest', name: 'web', cmd: ['sh', '-c', 'exec sleep 1000'] } });
      expect(made.status, JSON.stringify(made.json)).toBe(201);
      l.container = made.json.id;
    }
    // the containers are on the learners' nodes, and only there
    for (const [i, n] of nodes.entries()) {
      const ids = ((await call(n.base, '/api/containers?all=1')).json as { id: string }[]).map((c) => c.id);
      expect(ids).toContain(learners[i].container);
      expect(ids).not.toContain(learners[1 - i].container);
    }
    // the live list over socket.io, through the front's WebSocket tunnel
    for (const l of learners) {
      let listed!: Promise<{ id: string }[]>;
      await socket('/containers', l.token, l.cookie, (s) => (listed = new Promise((r) => s.once('list', r))));
      expect((await listed).map((c) => c.id)).toEqual([l.container]);
    }
    // without the node cookie Bob's socket goes to node 1, where his token is nobody's
    await expect(socket('/containers', learners[1].token, learners[1].cookie.replace(/glassbox_node=[^;]+(; )?/, ''))).rejects.toThrow();
  });

  it('carries the teacher\'s broadcast from node 1 to the learner on node 2 (Redis)', async () => {
    const teacherContainerMade = await call(front.base, '/api/containers', { origin: front.base, body: { image: 'base:latest', name: 'demo', cmd: ['sh', '-c', 'exec sleep 1000'] } });
    expect(teacherContainerMade.status, JSON.stringify(teacherContainerMade.json)).toBe(201);
    teacherContainer = teacherContainerMade.json.id;
    // the /classroom channel (server/realtime/classroom.ts) is another part of issue 13: without it
    // there is no broadcast to carry, and this says so instead of a bare "Invalid namespace"
    const probe = await socket('/classroom', teacherToken).catch((e: Error) => e);
    if (probe instanceof Error) throw new Error(`the nodes have no /classroom socket.io namespace (server/realtime/classroom.ts): ${probe.message}`);
    probe.close();
    const got = await Promise.all(
      learners.map(async (l) => {
        let on!: Promise<{ active: boolean; classId: string; containerId: string }>;
        const s = await socket('/classroom', l.token, l.cookie, (c) => (on = new Promise((r) => c.on('broadcast', (m) => m.active && r(m)))));
        return { s, on };
      }),
    );
    // the teacher's socket has no node cookie: node 1
    const teacher = await socket('/classroom', teacherToken);
    const ack = (await teacher.timeout(10_000).emitWithAck('broadcast:start', { classId: cls.id, containerId: teacherContainer })) as { ok: boolean; error?: string };
    expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a learner got no broadcast in 10 s')), 10_000));
    for (const g of got) expect(await Promise.race([g.on, timeout])).toMatchObject({ active: true, classId: cls.id, containerId: teacherContainer });
    await teacher.timeout(10_000).emitWithAck('broadcast:stop', { classId: cls.id });
  });

  it('ends the class on both nodes through the front, removing what it made', async () => {
    const r = await call(front.base, `/api/classes/${cls.id}/end`, { method: 'POST', body: {}, origin: front.base });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    for (const [i, n] of nodes.entries()) {
      const c = await call(n.base, `/api/classes/${cls.id}`);
      expect(c.json.class.endedAt, n.name).toBeTruthy();
      const ids = ((await call(n.base, '/api/containers?all=1')).json as { id: string }[]).map((x) => x.id);
      expect(ids).not.toContain(learners[i].container);
    }
    if (teacherContainer) expect((await call(front.base, `/api/containers/${teacherContainer}?force=1`, { method: 'DELETE', origin: front.base })).status).toBeLessThan(300);
    // the front keeps no token in its placements
    const saved = readFileSync(join(frontState, 'front.json'), 'utf8');
    for (const l of learners) expect(saved).not.toContain(l.token);
    expect(saved).not.toContain(teacherToken);
  });
});
