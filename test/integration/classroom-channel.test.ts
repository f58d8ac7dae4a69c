// The "classroom" socket.io channel over a real engine, real terminals and real socket.io clients:
// the teacher's roster, follow (read-only) and broadcast; the learners' notices; a learner's
// socket that emits the teacher's events is refused and changes nothing; bad payloads are named.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classroom } from '../../server/classroom/classroom.js';
import type { Principal } from '../../server/classroom/principal.js';
import type { RosterEntry } from '../../server/classroom/roster.js';
import { OWNER_LABEL } from '../../server/engine/index.js';
import { classroomChannel } from '../../server/realtime/classroom.js';
import { terminalChannel, type TerminalChannel } from '../../server/realtime/terminal.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

requireHost('classroom channel test', { root: true, commands: ['ip', 'iptables'] });

const TEACHER = 'teacher-token-for-the-channel-test';
let env: TestEnv;
let http: HttpServer;
let io: IoServer;
let classroom: Classroom;
let terminals: TerminalChannel;
let live: { close(): void };
let base = '';
let now = Date.now();
let classId = '';
const learner = { a: { id: '', token: '', containerId: '' }, b: { id: '', token: '', containerId: '' } };
let teacherContainer = '';
const sockets: Socket[] = [];

function connect(nsp: string, token: string): Promise<Socket> {
  const s = ioClient(`${base}/${nsp}`, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

const call = <T = Record<string, unknown>>(s: Socket, event: string, payload: unknown): Promise<T> => s.timeout(10_000).emitWithAck(event, payload) as Promise<T>;

/** resolves with the first `event` message that passes `test` */
function next<T = Record<string, unknown>>(s: Socket, event: string, test: (m: T) => boolean = () => true, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      s.off(event, on);
      reject(new Error(`no ${event} in ${ms} ms`));
    }, ms);
    const on = (m: T) => {
      if (!test(m)) return;
      clearTimeout(t);
      s.off(event, on);
      resolve(m);
    };
    s.on(event, on);
  });
}

/** everything `event` brings, from now on */
function collect<T>(s: Socket, event: string): T[] {
  const got: T[] = [];
  s.on(event, (m: T) => got.push(m));
  return got;
}

/** a terminal session on `containerId`; returns a function that types into it */
async function terminal(token: string, containerId: string, sessionId: string) {
  const s = await connect('terminal', token);
  let out = '';
  s.on('data', (m: { sessionId: string; data: string }) => {
    if (m.sessionId === sessionId) out += m.data;
  });
  const r = await call<{ ok: boolean; error?: string }>(s, 'open', { sessionId, containerId, cols: 80, rows: 24 });
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  return { socket: s, type: (text: string) => s.emit('input', { sessionId, data: text }), output: () => out };
}

beforeAll(async () => {
  env = await openTestEngine({ network: true });
  classroom = new Classroom({ engine: env.engine, isTeacherToken: (t) => t === TEACHER, clock: false, now: () => now });
  http = createServer();
  io = new IoServer(http, { transports: ['websocket'], serveClient: false });
  // the server's auth middleware, as server.ts has it: the token names the principal
  const check = (socket: ServerSocket, nextFn: (err?: Error) => void) => {
    const p = classroom.principalFor((socket.handshake.auth as { token?: string }).token);
    if (!p) return nextFn(new Error('token required'));
    socket.data.principal = p;
    nextFn();
  };
  const principalOf = (s: ServerSocket) => s.data.principal as Principal;
  for (const n of ['/terminal', '/classroom']) io.of(n).use(check);
  terminals = terminalChannel(io, env.engine, principalOf);
  live = classroomChannel({ io, classroom, terminals, principalOf, online: () => 0 });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const cls = classroom.createClass({ name: 'channel test', seats: 4, quota: { memory: 256 << 20, cpus: 1, pids: 200, containers: 3, disk: 512 << 20, idleMinutes: 1 }, endsAt: new Date(Date.now() + 3600e3).toISOString(), portBase: 21000 });
  classId = cls.id;
  for (const [k, name] of [['a', 'Ada'], ['b', 'Bob']] as const) {
    const j = await classroom.join(cls.code, name);
    learner[k].id = j.learner.id;
    learner[k].token = j.token;
    const rec = await classroom.engineOf(j.learner).run({ image: 'base', name: 'web', cmd: ['sleep', '300'], tty: false });
    learner[k].containerId = rec.id;
  }
  teacherContainer = (await env.engine.run({ image: 'base', name: `teach-${Date.now().toString(36)}`, cmd: ['sleep', '300'] })).id;
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  live?.close();
  await terminals?.close();
  if (io) await new Promise<void>((r) => io.close(() => r()));
  classroom?.close();
  if (env) {
    for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
    for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id).catch(() => {});
    await env.cleanup();
  }
}, 60_000);

describe('classroom channel', () => {
  it('sends the teacher the roster at once, and again when it changes', async () => {
    const t = await connect('classroom', TEACHER);
    const r = await call<{ ok: boolean; learners: RosterEntry[] }>(t, 'roster:subscribe', { classId });
    expect(r.ok).toBe(true);
    expect(r.learners.map((l) => l.displayName).sort()).toEqual(['Ada', 'Bob']);
    expect(r.learners.find((l) => l.displayName === 'Ada')!.containers.map((c) => c.id)).toEqual([learner.a.containerId]);
    // a change (a third learner joins) comes as a roster message
    const code = classroom.store.getClass(classId).code;
    const update = next<{ classId: string; learners: RosterEntry[] }>(t, 'roster', (m) => m.learners.length === 3);
    const c = await classroom.join(code, 'Cy');
    expect((await update).learners.map((l) => l.displayName).sort()).toEqual(['Ada', 'Bob', 'Cy']);
    await classroom.revoke(classId, c.learner.id);
    await call(t, 'roster:unsubscribe', { classId });
  });

  it("refuses a learner's socket every teacher event, and nothing happens", async () => {
    const a = await connect('classroom', learner.a.token);
    const b = await connect('classroom', learner.b.token);
    const bFollowed = collect<{ active: boolean }>(b, 'followed');
    const bBroadcast = collect<{ active: boolean }>(b, 'broadcast');
    const aRoster = collect(a, 'roster');
    for (const [event, payload] of [
      ['roster:subscribe', { classId }],
      ['follow:start', { learnerId: learner.b.id }],
      ['follow:stop', { learnerId: learner.b.id }],
      ['broadcast:start', { classId, containerId: learner.a.containerId }],
      ['broadcast:state', { classId, tab: 'cgroups', selection: null }],
      ['broadcast:stop', { classId }],
      ['roster:unsubscribe', { classId }],
    ] as const) {
      expect(await call(a, event, payload), event).toEqual({ ok: false, error: 'not allowed' });
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(bFollowed.filter((m) => m.active)).toEqual([]);
    expect(bBroadcast.filter((m) => m.active)).toEqual([]);
    expect(aRoster).toEqual([]);
    a.close();
    b.close();
  });

  it('names what is wrong in a bad payload', async () => {
    const t = await connect('classroom', TEACHER);
    expect(await call(t, 'follow:start', { learnerId: 'x' })).toEqual({ ok: false, error: 'learnerId: 10 characters [a-z0-9]' });
    expect(await call(t, 'follow:start', { learnerId: 'abcdefghij' })).toEqual({ ok: false, error: 'no active learner abcdefghij' });
    expect(await call(t, 'roster:subscribe', { classId: 'zz' })).toEqual({ ok: false, error: 'classId: 12 hex characters' });
    expect(await call(t, 'roster:subscribe', { classId: '0123456789ab' })).toEqual({ ok: false, error: 'no such class: 0123456789ab' });
    expect(await call(t, 'roster:subscribe', 'nope')).toMatchObject({ ok: false });
    expect(await call(t, 'broadcast:start', { classId, containerId: learner.a.containerId, extra: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/extra/) });
    expect(await call(t, 'broadcast:state', { classId, tab: 'cgroups', selection: null })).toEqual({ ok: false, error: 'no broadcast to this class' });
    expect(await call(t, 'broadcast:start', { classId, containerId: 'no-such-container' })).toMatchObject({ ok: false, error: expect.stringMatching(/no-such-container/) });
    t.close();
  });

  it("follows a learner's terminal read-only, with the indicator on the learner's side", async () => {
    const a = await connect('classroom', learner.a.token);
    const followed = next<{ active: boolean }>(a, 'followed', (m) => m.active);
    const term = await terminal(learner.a.token, learner.a.containerId, 'follow-session-a1');
    term.type('echo before-$((40+2))\r');
    await expect.poll(() => term.output(), { timeout: 10_000 }).toContain('before-42');

    const t = await connect('classroom', TEACHER);
    const data = collect<{ learnerId: string; sessionId: string; containerId: string; data: string; replay: boolean }>(t, 'follow:data');
    const r = await call<{ ok: boolean; sessions: { sessionId: string; containerId: string }[] }>(t, 'follow:start', { learnerId: learner.a.id });
    expect(r).toEqual({ ok: true, learnerId: learner.a.id, sessions: [{ sessionId: 'follow-session-a1', containerId: learner.a.containerId }] });
    await followed;
    // the replay first (what was on the screen), then what comes
    await expect.poll(() => data.filter((d) => d.replay).map((d) => d.data).join(''), { timeout: 10_000 }).toContain('before-42');
    term.type('echo after-$((50+5))\r');
    await expect.poll(() => data.filter((d) => !d.replay).map((d) => d.data).join(''), { timeout: 10_000 }).toContain('after-55');
    expect(data.every((d) => d.learnerId === learner.a.id && d.containerId === learner.a.containerId && d.sessionId === 'follow-session-a1')).toBe(true);

    // the teacher's own terminal socket cannot write into A's session: its id is not theirs
    const tt = await connect('terminal', TEACHER);
    tt.emit('input', { sessionId: 'follow-session-a1', data: 'echo teacher-wrote-$((1+1))\r' });
    term.type('echo still-mine\r');
    await expect.poll(() => term.output(), { timeout: 10_000 }).toContain('still-mine');
    expect(term.output()).not.toContain('teacher-wrote-2');

    const unfollowed = next<{ active: boolean }>(a, 'followed', (m) => !m.active);
    expect(await call(t, 'follow:stop', { learnerId: learner.a.id })).toEqual({ ok: true });
    await unfollowed;
    t.close();
    a.close();
    term.socket.emit('close', { sessionId: 'follow-session-a1' });
  }, 60_000);

  it("mirrors the teacher's container page to every learner of the class", async () => {
    const a = await connect('classroom', learner.a.token);
    const b = await connect('classroom', learner.b.token);
    const t = await connect('classroom', TEACHER);
    const term = await terminal(TEACHER, teacherContainer, 'teacher-broadcast-1');
    const aData = collect<{ data: string; reset: boolean }>(a, 'broadcast:data');
    const bData = collect<{ data: string; reset: boolean }>(b, 'broadcast:data');
    const aOn = next<{ active: boolean; containerName: string }>(a, 'broadcast', (m) => m.active);
    const bOn = next<{ active: boolean; containerName: string }>(b, 'broadcast', (m) => m.active);
    const r = await call<{ ok: boolean; broadcast: { containerName: string } }>(t, 'broadcast:start', { classId, containerId: teacherContainer });
    expect(r.ok).toBe(true);
    const name = env.engine.get(teacherContainer).name;
    expect((await aOn).containerName).toBe(name);
    expect((await bOn).containerName).toBe(name);

    term.type('echo shown-to-$((2*3))-learners\r');
    for (const got of [aData, bData]) await expect.poll(() => got.map((d) => d.data).join(''), { timeout: 10_000 }).toContain('shown-to-6-learners');

    const aTab = next<{ tab: string; selection: string | null }>(a, 'broadcast', (m) => m.tab === 'cgroups');
    const bTab = next<{ tab: string; selection: string | null }>(b, 'broadcast', (m) => m.tab === 'cgroups');
    expect(await call(t, 'broadcast:state', { classId, tab: 'cgroups', selection: 'memory', sessionId: 'teacher-broadcast-1' })).toEqual({ ok: true });
    expect((await aTab).selection).toBe('memory');
    expect((await bTab).selection).toBe('memory');

    // a learner who comes in late gets the state and the screen at once
    const late = ioClient(`${base}/classroom`, { transports: ['websocket'], auth: { token: learner.b.token }, reconnection: false, forceNew: true });
    sockets.push(late);
    const lateState = next<{ active: boolean; tab: string }>(late, 'broadcast', (m) => m.active);
    const lateScreen = next<{ data: string; reset: boolean }>(late, 'broadcast:data', (m) => m.reset);
    expect((await lateState).tab).toBe('cgroups');
    expect((await lateScreen).data).toContain('shown-to-6-learners');

    const aOff = next<{ active: boolean }>(a, 'broadcast', (m) => !m.active);
    expect(await call(t, 'broadcast:stop', { classId })).toEqual({ ok: true });
    await aOff;
    for (const s of [a, b, t, late]) s.close();
    term.socket.emit('close', { sessionId: 'teacher-broadcast-1' });
  }, 60_000);

  it('warns an idle learner, and takes the warning back when they come back', async () => {
    const a = await connect('classroom', learner.a.token);
    const warned = next<{ secondsLeft: number }>(a, 'idle-warning', (m) => m.secondsLeft > 0);
    classroom.touch(learner.a.id);
    now += 40_000; // idle for 40 s of a 60 s limit: the warning's 30 s window has begun
    await classroom.sweep();
    expect((await warned).secondsLeft).toBe(20);
    const over = next<{ secondsLeft: number }>(a, 'idle-warning', (m) => m.secondsLeft === -1);
    classroom.touch(learner.a.id);
    await over;
    a.close();
  });

  it("tells a learner their sandbox was reset, and a revoked learner's follower that it ended", async () => {
    const b = await connect('classroom', learner.b.token);
    const removed = next<{ reason: string }>(b, 'sandbox-removed');
    await classroom.reset(classId, learner.b.id);
    expect(await removed).toEqual({ reason: 'reset' });
    expect(classroom.containersOf(learner.b.id)).toEqual([]);

    const a = await connect('classroom', learner.a.token);
    const t = await connect('classroom', TEACHER);
    expect(await call(t, 'follow:start', { learnerId: learner.a.id })).toMatchObject({ ok: true });
    const ended = next(t, 'follow:end');
    const aRemoved = next<{ reason: string }>(a, 'sandbox-removed');
    await classroom.revoke(classId, learner.a.id);
    expect(await ended).toEqual({ learnerId: learner.a.id, reason: 'revoked' });
    expect(await aRemoved).toEqual({ reason: 'revoked' });
    // the revoked token opens no socket any more
    await expect(connect('classroom', learner.a.token)).rejects.toThrow(/token required/);
    for (const s of [a, b, t]) s.close();
  }, 60_000);
});
