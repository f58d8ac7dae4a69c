// Classes and learner sessions survive the server's death: a real server (server/main.ts) is
// killed with SIGKILL mid-class and a new one is started on the same state dirs (GLASSBOX_ROOT,
// GLASSBOX_RUN). The teacher's token is new (it is made at every start); a learner's is not: their
// token and page cookie still work, their running container is there (re-adopted, never
// restarted) and a new terminal opens into it. What the teacher did before the crash holds: a
// revoked learner stays revoked, and a class's end time still ends it (the new server's sweep
// removes what it made). classroom.json is 0600 and holds no token, only hashes.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_EVERY_MS } from '../../server/classroom/classroom.js';
import { api, cleanupDirs, removeAll, startServer, type RunningServer } from './dashboard-support';
import { connect, createClass, createContainer, joinClass, Terminal, type ClassInfo, type Learner } from './classroom-support';

let first: RunningServer;
let second: RunningServer | undefined;
let cls: ClassInfo;
/** a class that ends a little after the restart */
let ending: ClassInfo;
let ada: Learner;
let revoked: Learner;
let late: Learner;
let adaContainer = '';
let lateContainer = '';
let monitorBefore = 0;
let endingAt = 0;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  first = await startServer();
  cls = await createClass(first, { name: 'restart', seats: 4 });
  ada = await joinClass(first, cls.code, 'Ada');
  revoked = await joinClass(first, cls.code, 'Rev');
  adaContainer = await createContainer(first, ada.token, { name: 'web' });
  await createContainer(first, revoked.token, { name: 'gone' });
  const del = await api(first, `/api/classes/${cls.id}/learners/${revoked.id}`, { method: 'DELETE' });
  expect(del.status).toBe(200);
  expect((await api(first, '/api/whoami', { token: revoked.token })).status).toBe(401);

  // a terminal open in Ada's container when the server dies
  const term = new Terminal(await connect(first, '/terminal', ada));
  await term.open(adaContainer);
  expect(await term.run('echo before-$((1+1))')).toContain('before-2');

  // the second class ends ~25 s from now: after the restart, whatever the restart takes
  endingAt = Date.now() + 25_000;
  ending = await createClass(first, { name: 'ends soon', seats: 2, endsInMs: 25_000 });
  late = await joinClass(first, ending.code, 'Late');
  lateContainer = await createContainer(first, late.token, { name: 'w' });

  monitorBefore = (await api<{ state: { monitorPid: number } }>(first, `/api/containers/${adaContainer}`)).body.state.monitorPid;
  const died = new Promise((r) => first.proc.once('exit', r));
  process.kill(first.pid, 'SIGKILL');
  await died;
  term.socket.close();

  second = await startServer({ root: first.root, run: first.run });
}, 180_000);

afterAll(async () => {
  // whatever the test reached: a live server removes the containers (the helpers outlive a dead one)
  let srv = second;
  if (!srv || srv.proc.exitCode !== null || srv.proc.signalCode !== null) srv = await startServer({ root: first.root, run: first.run }).catch(() => undefined);
  if (srv) {
    await removeAll(srv).catch(() => {});
    await srv.stop();
  }
  if (first.proc.exitCode === null && first.proc.signalCode === null) await first.stop();
  await cleanupDirs(first);
}, 120_000);

describe('classroom across SIGKILL + restart', () => {
  it('the teacher has a new token; the old one opens nothing', async () => {
    expect(first.proc.signalCode).toBe('SIGKILL');
    expect(second!.token).not.toBe(first.token);
    expect((await api(second!, '/api/classes', { token: first.token })).status).toBe(401);
    const classes = await api<{ id: string; learners: number }[]>(second!, '/api/classes');
    expect(classes.status).toBe(200);
    expect(classes.body.find((c) => c.id === cls.id)?.learners).toBe(1); // Ada; the revoked one is not counted
  });

  it("the learner's token still works: same learner, same class", async () => {
    const who = await api<{ role: string; learner: { id: string; displayName: string }; class: { id: string } }>(second!, '/api/whoami', { token: ada.token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ role: 'learner', learner: { id: ada.id, displayName: 'Ada' }, class: { id: cls.id } });
  });

  it("the learner's container is there and still running: re-adopted, not restarted", async () => {
    const list = await api<{ id: string; status: string }[]>(second!, '/api/containers', { token: ada.token });
    expect(list.status).toBe(200);
    expect(list.body.map((c) => [c.id, c.status])).toEqual([[adaContainer, 'running']]);
    const rec = await api<{ state: { monitorPid: number; status: string } }>(second!, `/api/containers/${adaContainer}`, { token: ada.token });
    expect(rec.body.state.monitorPid).toBe(monitorBefore);
    expect(() => process.kill(monitorBefore, 0)).not.toThrow();
    // the learner's /containers socket lists it too
    let listed: Promise<{ id: string }[]> = Promise.resolve([]);
    const sock = await connect(second!, '/containers', ada, (s) => (listed = new Promise((resolve) => s.once('list', resolve))));
    try {
      expect((await listed).map((c) => c.id)).toEqual([adaContainer]);
    } finally {
      sock.close();
    }
  });

  it('a new terminal opens into it', async () => {
    const term = new Terminal(await connect(second!, '/terminal', ada));
    try {
      await term.open(adaContainer);
      expect(await term.run('echo after-$((2+3)); cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/after-5[\s\S]*sleep 86400/);
    } finally {
      await term.close();
      term.socket.close();
    }
  });

  it("the learner's page cookie still loads the dashboard", async () => {
    const page = await fetch(`${second!.base}/`, { headers: { cookie: ada.cookie, accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(200);
    // and the revoked learner's does not
    const refused = await fetch(`${second!.base}/`, { headers: { cookie: revoked.cookie, accept: 'text/html' }, redirect: 'manual' });
    expect(refused.status).toBe(401);
  });

  it('a revoked learner stays revoked: token, sockets and sandbox', async () => {
    expect((await api(second!, '/api/whoami', { token: revoked.token })).status).toBe(401);
    expect((await api(second!, '/api/containers', { token: revoked.token })).status).toBe(401);
    await expect(connect(second!, '/terminal', revoked)).rejects.toThrow();
    const roster = await api<{ learners: { id: string; revoked: boolean; containers: unknown[] }[] }>(second!, `/api/classes/${cls.id}`);
    expect(roster.body.learners.find((l) => l.id === revoked.id)).toMatchObject({ revoked: true, containers: [] });
    const all = await api<{ name: string }[]>(second!, '/api/containers?all=1');
    expect(all.body.some((c) => c.name.startsWith(`${revoked.id}-`))).toBe(false);
  });

  it('classroom.json is 0600 and holds hashes, never a token', () => {
    const file = join(first.root, 'classroom.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const l of [ada, revoked, late]) {
      expect(text).not.toContain(l.token);
      expect(text).toContain(sha256(l.token));
    }
    expect(text).not.toContain(first.token);
    expect(text).not.toContain(second!.token);
    expect(statSync(join(first.root, 'page-secret')).mode & 0o777).toBe(0o600);
  });

  it("a class's end time still ends it after the restart: its containers are removed", async () => {
    // still open now (the restart took less than its 25 s), with the container the learner made
    const before = await api<{ id: string; status: string }[]>(second!, '/api/containers', { token: late.token });
    if (Date.now() < endingAt - 1000) expect(before.body.map((c) => c.id)).toEqual([lateContainer]);
    // the end time passes, then the new server's sweep (every SWEEP_EVERY_MS) ends the class
    const deadline = endingAt + SWEEP_EVERY_MS + 20_000;
    let gone = false;
    // looked at once at least, however long the tests before took
    for (let first = true; first || Date.now() < deadline; first = false) {
      const all = await api<{ id: string }[]>(second!, '/api/containers?all=1');
      const cl = await api<{ class: { endedAt: string | null } }>(second!, `/api/classes/${ending.id}`);
      if (!all.body.some((c) => c.id === lateContainer) && cl.body.class.endedAt) {
        gone = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(gone).toBe(true);
    expect((await api(second!, '/api/whoami', { token: late.token })).status).toBe(401);
    // the other class goes on
    expect((await api(second!, '/api/whoami', { token: ada.token })).status).toBe(200);
  }, 90_000);
});
