// Issue #13's must-show: two learners A and B in one class. Every REST route and every socket
// event, asked with A's token about B's objects (B's container by id, id prefix, B's name and the
// host's name for it; B's terminal session), gets nothing: 404 (never 403, so ids do not leak) or
// the channel's "no such" answer, and B's container and terminal are as they were. A's lists hold
// nothing of B. A's requests for what the learner policy refuses are 403 with one line each, and
// the (max+1)-th container is refused. The teacher's routes are 404 to a learner.
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restRoutes } from '../../server/api/rest/routes.js';
import { api, startServer, stopAll, type RunningServer } from '../e2e/dashboard-support';

const MiB = 1024 * 1024;

interface Learner {
  id: string;
  token: string;
}
interface Rec {
  id: string;
  name: string;
  state: { status: string; pid: number };
}

let srv: RunningServer;
let classId = '';
let A: Learner;
let B: Learner;
let bRec: Rec;
const sockets: ClientSocket[] = [];

function socket(ns: string, token: string): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const s = connectClient(`${srv.base}${ns}`, { transports: ['websocket'], auth: { token }, query: { token }, extraHeaders: { origin: srv.base }, reconnection: false, forceNew: true });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

async function join(code: string, name: string): Promise<Learner> {
  // as the join page does: same-origin JSON, no token yet
  const res = await fetch(`${srv.base}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json', origin: srv.base }, body: JSON.stringify({ code, name }) });
  const body = (await res.json()) as { token: string; learner: { id: string } };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { id: body.learner.id, token: body.token };
}

/** What B has, as the teacher sees it: must not change while A tries everything. */
async function bState() {
  const c = (await api<Rec & { limits: unknown; config: { name: string } }>(srv, `/api/containers/${bRec.id}`)).body;
  return { name: c.name, status: c.state.status, pid: c.state.pid, limits: c.limits };
}

beforeAll(async () => {
  srv = await startServer();
  const cls = await api<{ id: string; code: string }>(srv, '/api/classes', {
    body: { name: 'sweep', seats: 4, quota: { memory: 512 * MiB, cpus: 1, pids: 300, containers: 2, disk: 256 * MiB, idleMinutes: 30 }, endsAt: new Date(Date.now() + 3600_000).toISOString() },
  });
  expect(cls.status, JSON.stringify(cls.body)).toBe(201);
  classId = cls.body.id;
  A = await join(cls.body.code, 'Ada');
  B = await join(cls.body.code, 'Bob');
  const made = await api<Rec>(srv, '/api/containers', { token: B.token, body: { image: 'base:latest', name: 'bweb', cmd: ['sh', '-c', 'echo b-secret-log; exec sleep 1000'] } });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  bRec = made.body;
}, 240_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await stopAll(srv, undefined);
}, 120_000);

describe('learner A asks about learner B', () => {
  it('every REST route with one of B\'s ids is a 404, and B is untouched', async () => {
    const before = await bState();
    const ids = [bRec.id, bRec.id.slice(0, 12), 'bweb', bRec.name];
    const tried: string[] = [];
    for (const { method, path } of restRoutes()) {
      if (!path.includes(':')) continue;
      for (const id of ids) {
        const url = path.replace(':id', encodeURIComponent(id)).replace(':pid', String(bRec.state.pid)).replace(':ref', encodeURIComponent(id));
        if (url.includes(':')) throw new Error(`the sweep does not know a parameter of ${path}`);
        const body = method === 'GET' || method === 'DELETE' ? undefined : method === 'POST' && path.endsWith('/rename') ? { name: 'stolen' } : path.endsWith('/signal') ? { signal: 'KILL' } : path.endsWith('/update') ? { memory: 8 * MiB } : {};
        const r = await api<{ error?: string }>(srv, url + (method === 'DELETE' ? '?force=1' : ''), { method, body, token: A.token });
        tried.push(`${method} ${url}`);
        if (path.startsWith('/api/images/')) continue; // images are the class's, shared read-only: a container id is no image
        expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBe(404);
      }
    }
    // the diagrams, the compare page and the labs read across containers
    for (const url of [
      `/api/diagrams/namespaces?container=${bRec.id}`,
      `/api/diagrams/cgroups?container=${bRec.id}`,
      `/api/diagrams/network?container=${bRec.id}`,
      `/api/diagrams/layers/which?container=${bRec.id}&path=/etc/passwd`,
      `/api/host/view?container=${bRec.id}`,
    ]) {
      const r = await api(srv, url, { token: A.token });
      tried.push(`GET ${url}`);
      expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(404);
    }
    const limit = await api(srv, `/api/diagrams/cgroups/limit?container=${bRec.id}`, { body: { kind: 'memory', value: 8 * MiB }, token: A.token });
    expect(limit.status).toBe(404);
    expect(tried.length).toBeGreaterThan(60);
    expect(await bState()).toEqual(before);
  }, 240_000);

  it("A's lists hold nothing of B", async () => {
    for (const url of ['/api/containers?all=1', '/api/info']) {
      const r = await api(srv, url, { token: A.token });
      expect(r.status).toBe(200);
      const text = JSON.stringify(r.body);
      expect(text, url).not.toContain(bRec.id.slice(0, 12));
      expect(text, url).not.toContain(bRec.name);
    }
    expect((await api<unknown[]>(srv, '/api/containers?all=1', { token: A.token })).body).toEqual([]);
  });

  it('the teacher\'s routes do not exist for a learner', async () => {
    for (const [method, url] of [
      ['GET', '/api/classes'],
      ['POST', '/api/classes'],
      ['GET', `/api/classes/${classId}`],
      ['POST', `/api/classes/${classId}/end`],
      ['DELETE', `/api/classes/${classId}/learners/${B.id}`],
      ['POST', `/api/classes/${classId}/learners/${B.id}/reset`],
    ]) {
      const r = await api(srv, url, { method, body: method === 'POST' ? {} : undefined, token: A.token });
      expect(r.status, `${method} ${url}`).toBe(404);
    }
    expect((await api(srv, '/api/whoami', { token: B.token })).status).toBe(200);
    expect(await bState()).toMatchObject({ status: 'running' });
  });

  it('socket.io: A sees nothing of B and reaches none of B\'s objects', async () => {
    // B's terminal, typing, so A's tries on it can be seen to change nothing
    const bTerm = await socket('/terminal', B.token);
    let bOut = '';
    bTerm.on('data', (m: { data: string }) => (bOut += m.data));
    const opened = (await bTerm.timeout(30_000).emitWithAck('open', { sessionId: 'b-session-0001', containerId: bRec.id, cols: 80, rows: 24 })) as { ok: boolean };
    expect(opened.ok).toBe(true);

    const aTerm = await socket('/terminal', A.token);
    for (const id of [bRec.id, 'bweb', bRec.name]) {
      const r = (await aTerm.timeout(30_000).emitWithAck('open', { sessionId: 'b-session-0001', containerId: id, cols: 80, rows: 24 })) as { ok: boolean; error?: string };
      expect(r.ok, id).toBe(false);
      expect(r.error, id).toMatch(/no such container/i);
    }
    // A writes to, resizes, detaches and closes B's session id: none of it reaches B's session
    aTerm.emit('input', { sessionId: 'b-session-0001', data: 'exit\r' });
    aTerm.emit('resize', { sessionId: 'b-session-0001', cols: 10, rows: 5 });
    aTerm.emit('detach', { sessionId: 'b-session-0001' });
    aTerm.emit('close', { sessionId: 'b-session-0001' });
    await new Promise((r) => setTimeout(r, 500));
    bTerm.emit('input', { sessionId: 'b-session-0001', data: 'echo still-$((40+2))\r' });
    await expect.poll(() => bOut, { timeout: 15_000 }).toContain('still-42');

    const aList = await socket('/containers', A.token);
    const lists: unknown[] = [];
    const stats: unknown[] = [];
    aList.on('list', (l: unknown) => lists.push(l));
    aList.on('stats', (s: unknown) => stats.push(s));
    const logErr = new Promise<{ id: string; error: string }>((r) => aList.once('logs:error', r));
    const logData: unknown[] = [];
    aList.on('logs:data', (d: unknown) => logData.push(d));
    aList.emit('logs:follow', { id: bRec.id });
    expect((await logErr).error).toMatch(/no such container/i);
    // B does something: the event and the new list must not reach A
    await api(srv, `/api/containers/${bRec.id}/pause`, { method: 'POST', token: B.token });
    await api(srv, `/api/containers/${bRec.id}/unpause`, { method: 'POST', token: B.token });
    await new Promise((r) => setTimeout(r, 2500));
    const seen = JSON.stringify({ lists, stats, logData });
    expect(seen).not.toContain(bRec.id.slice(0, 12));
    expect(seen).not.toContain('b-secret-log');

    // the diagrams' channel on / : B's container is not there for A
    const aRoot = await socket('/', A.token);
    const diag = (await aRoot.timeout(10_000).emitWithAck('diagram:subscribe', { kind: 'namespaces', containerId: bRec.id }).catch(() => ({ ok: false, error: 'no answer' }))) as { ok: boolean; error?: string };
    expect(diag.ok).toBe(false);
    const lab = (await aRoot.timeout(10_000).emitWithAck('lab:subscribe', { sessionId: 'abcdefghij' }).catch(() => ({ ok: false, error: 'no answer' }))) as { ok: boolean };
    expect(lab.ok).toBe(false);
  }, 120_000);
});

describe("the learner policy, through the dashboard's REST", () => {
  it('refuses privileged, host namespaces, host binds and SYS_ADMIN with one line each', async () => {
    const cases: [unknown, RegExp][] = [
      [{ privileged: true }, /--privileged/],
      [{ namespaces: { pid: false } }, /host pid namespace/],
      [{ namespaces: { net: false } }, /host net namespace/],
      [{ userns: 'host' }, /--userns=host/],
      [{ mounts: [{ type: 'bind', source: '/etc', target: '/host-etc' }] }, /bind mount of the host path \/etc/],
      [{ capAdd: ['SYS_ADMIN'] }, /--cap-add SYS_ADMIN/],
      [{ capAdd: ['NET_RAW'] }, /--cap-add NET_RAW/],
      [{ ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] }, /host port 8080/],
      [{ labels: { 'glassbox.owner': B.id } }, /glassbox.owner/],
      [{ storageSize: 1024 * MiB }, /storage-opt size/],
    ];
    for (const [extra, line] of cases) {
      const r = await api<{ error: string }>(srv, '/api/containers', { token: A.token, body: { image: 'base:latest', cmd: ['true'], ...(extra as object) } });
      expect(r.status, JSON.stringify(extra)).toBe(403);
      expect(r.body.error).toMatch(line);
    }
    expect((await api<unknown[]>(srv, '/api/containers?all=1', { token: A.token })).body).toEqual([]);
  });

  it("refuses the learner's (max+1)-th container; the others are held by the policy", async () => {
    const made: Rec[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await api<Rec & { config: { namespaces: { user: boolean }; capDrop: string[]; storageSize: number } }>(srv, '/api/containers', { token: A.token, body: { image: 'base:latest', cmd: ['sleep', '100'] } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.config.namespaces.user).toBe(true);
      expect(r.body.config.capDrop).toContain('NET_RAW');
      expect(r.body.config.storageSize).toBe(128 * MiB); // the class's disk over its container count
      made.push(r.body);
    }
    const third = await api<{ error: string }>(srv, '/api/containers', { token: A.token, body: { image: 'base:latest', cmd: ['sleep', '100'] } });
    expect(third.status).toBe(403);
    expect(third.body.error).toMatch(/at most 2 containers/);
    for (const c of made) expect((await api(srv, `/api/containers/${c.id}?force=1`, { method: 'DELETE', token: A.token })).status).toBe(204);
  }, 120_000);
});
