// The classroom channel across two socket.io servers joined by the Redis adapter (Debian's
// redis-server, on loopback): the teacher's broadcast started on node 1 reaches a learner whose
// socket is on node 2 (rooms, not per-socket emits), and a learner who connects to node 2 late
// gets the broadcast's state and screen from node 1 (serverSideEmit, answered to the socket's id).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classroom } from '../../server/classroom/classroom.js';
import type { Principal } from '../../server/classroom/principal.js';
import { OWNER_LABEL } from '../../server/engine/index.js';
import { classroomChannel } from '../../server/realtime/classroom.js';
import { terminalChannel, type TerminalChannel } from '../../server/realtime/terminal.js';
import { freePort, requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

requireHost('classroom across nodes', { root: true, commands: ['ip', 'iptables', 'redis-server'] });

const TEACHER = 'teacher-token-for-the-nodes-test';
interface Node {
  http: HttpServer;
  io: IoServer;
  terminals: TerminalChannel;
  live: { close(): void };
  base: string;
  redis: ReturnType<typeof createClient>[];
}
let env: TestEnv;
let classroom: Classroom;
let redis: ChildProcess;
let redisDir = '';
let redisPort = 0;
const nodes: Node[] = [];
const sockets: Socket[] = [];
let classId = '';
let learnerToken = '';
let teacherContainer = '';

async function startNode(): Promise<Node> {
  const http = createServer();
  const io = new IoServer(http, { transports: ['websocket'], serveClient: false });
  const pub = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  const check = (socket: ServerSocket, nextFn: (err?: Error) => void) => {
    const p = classroom.principalFor((socket.handshake.auth as { token?: string }).token);
    if (!p) return nextFn(new Error('token required'));
    socket.data.principal = p;
    nextFn();
  };
  const principalOf = (s: ServerSocket) => s.data.principal as Principal;
  for (const n of ['/terminal', '/classroom']) io.of(n).use(check);
  const terminals = terminalChannel(io, env.engine, principalOf);
  const live = classroomChannel({ io, classroom, terminals, principalOf, online: () => 0 });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return { http, io, terminals, live, base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, redis: [pub, sub] };
}

function connect(node: Node, nsp: string, token: string): Promise<Socket> {
  const s = ioClient(`${node.base}/${nsp}`, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

function next<T>(s: Socket, event: string, test: (m: T) => boolean = () => true, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} in ${ms} ms`)), ms);
    const on = (m: T) => {
      if (!test(m)) return;
      clearTimeout(t);
      s.off(event, on);
      resolve(m);
    };
    s.on(event, on);
  });
}

beforeAll(async () => {
  redisDir = mkdtempSync('/tmp/gbtu-redis-');
  redisPort = await freePort();
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const c = createClient({ url: `redis://127.0.0.1:${redisPort}` });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.quit();
      break;
    } catch {
      if (i > 50) throw new Error(`redis-server did not listen on ${redisPort}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  env = await openTestEngine({ network: true });
  classroom = new Classroom({ engine: env.engine, isTeacherToken: (t) => t === TEACHER, clock: false });
  nodes.push(await startNode(), await startNode());
  const cls = classroom.createClass({ name: 'two nodes', seats: 3, quota: { memory: 256 << 20, cpus: 1, pids: 200, containers: 2, disk: 512 << 20, idleMinutes: 30 }, endsAt: new Date(Date.now() + 3600e3).toISOString(), portBase: 22000 });
  classId = cls.id;
  learnerToken = (await classroom.join(cls.code, 'Remote')).token;
  teacherContainer = (await env.engine.run({ image: 'base', name: `teach-nodes-${Date.now().toString(36)}`, cmd: ['sleep', '300'] })).id;
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes) {
    n.live.close();
    await n.terminals.close();
    await new Promise<void>((r) => n.io.close(() => r()));
    for (const c of n.redis) await c.quit().catch(() => {});
  }
  classroom?.close();
  if (env) {
    for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
    for (const n of env.engine.listNetworks()) if (n.labels[OWNER_LABEL]) await env.engine.removeNetwork(n.id).catch(() => {});
    await env.cleanup();
  }
  if (redis?.pid && redis.exitCode === null) {
    const gone = new Promise((r) => redis.once('exit', r));
    process.kill(redis.pid, 'SIGTERM');
    await gone;
  }
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
}, 60_000);

describe('classroom channel across two nodes (Redis adapter)', () => {
  it("carries the teacher's broadcast from node 1 to a learner on node 2, and syncs a late one", async () => {
    const [n1, n2] = nodes;
    const learner = await connect(n2, 'classroom', learnerToken);
    const teacher = await connect(n1, 'classroom', TEACHER);
    const term = await connect(n1, 'terminal', TEACHER);
    expect(await term.timeout(10_000).emitWithAck('open', { sessionId: 'nodes-teacher-1', containerId: teacherContainer, cols: 80, rows: 24 })).toMatchObject({ ok: true });

    const on = next<{ active: boolean; containerName: string }>(learner, 'broadcast', (m) => m.active);
    expect(await teacher.timeout(10_000).emitWithAck('broadcast:start', { classId, containerId: teacherContainer })).toMatchObject({ ok: true });
    expect((await on).containerName).toBe(env.engine.get(teacherContainer).name);
    let seen = '';
    learner.on('broadcast:data', (m: { data: string }) => (seen += m.data));
    term.emit('input', { sessionId: 'nodes-teacher-1', data: 'echo across-$((3*4))-nodes\r' });
    await expect.poll(() => seen, { timeout: 10_000 }).toContain('across-12-nodes');

    // node 2 holds no broadcast: it asks the other nodes, node 1 answers to the socket's own room
    const late = ioClient(`${n2.base}/classroom`, { transports: ['websocket'], auth: { token: learnerToken }, reconnection: false, forceNew: true });
    sockets.push(late);
    const lateState = next<{ active: boolean }>(late, 'broadcast', (m) => m.active);
    const lateScreen = next<{ data: string; reset: boolean }>(late, 'broadcast:data', (m) => m.reset);
    await lateState;
    expect((await lateScreen).data).toContain('across-12-nodes');

    const off = next<{ active: boolean }>(learner, 'broadcast', (m) => !m.active);
    expect(await teacher.timeout(10_000).emitWithAck('broadcast:stop', { classId })).toEqual({ ok: true });
    await off;
  }, 60_000);

  it("gathers the roster from every node: each node's part reaches the teacher on node 1", async () => {
    const teacher = await connect(nodes[0], 'classroom', TEACHER);
    const parts = new Set<string>();
    teacher.on('roster', (m: { classId: string; node: string }) => m.classId === classId && parts.add(m.node));
    const ack = (await teacher.timeout(10_000).emitWithAck('roster:subscribe', { classId })) as { ok: boolean; node: string; learners: { displayName: string }[] };
    expect(ack.ok).toBe(true);
    parts.add(ack.node);
    expect(ack.learners.map((l) => l.displayName)).toContain('Remote');
    // node 2 sends its part when node 1's teacher subscribes, and on every round after
    await expect.poll(() => parts.size, { timeout: 10_000 }).toBe(2);
  }, 30_000);
});
