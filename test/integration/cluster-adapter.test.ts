// socket.io rooms across nodes through a real Redis (server/realtime/cluster-adapter.ts): a room
// emit on one io server reaches a client connected to another; Redis down at start is an error
// that names it, never a silent single-node run.
import { createServer, type Server as HttpServer } from 'node:http';
import { Server as IoServer } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachClusterAdapter, checkRedisUrl, redactRedisUrl } from '../../server/realtime/cluster-adapter.js';
import { freePort } from '../helpers.js';
import { startRedis, type RunningRedis } from '../redis-support.js';

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
});

async function node(): Promise<{ http: HttpServer; io: IoServer; port: number; close: () => Promise<void> }> {
  const http = createServer();
  const io = new IoServer(http, { transports: ['websocket'] });
  const closeAdapter = await attachClusterAdapter(io, redis.url);
  for (const name of ['/classroom', '/containers']) io.of(name).on('connection', (s) => void s.join(`class:${String(s.handshake.auth.classId)}`));
  const port = await freePort();
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r));
  return {
    http,
    io,
    port,
    async close() {
      await new Promise<void>((r) => io.close(() => r()));
      await closeAdapter();
    },
  };
}

describe('the cluster adapter', () => {
  it('delivers a /classroom room emit on node 1 to a socket on node 2, and to no other room or namespace', async () => {
    const [a, b] = [await node(), await node()];
    const clients: Socket[] = [];
    try {
      const join = (port: number, classId: string, nsp = '/classroom') => {
        const c = connectClient(`http://127.0.0.1:${port}${nsp}`, { transports: ['websocket'], auth: { classId } });
        clients.push(c);
        return new Promise<Socket>((resolve, reject) => {
          c.once('connect', () => resolve(c));
          c.once('connect_error', reject);
        });
      };
      const onB = await join(b.port, 'c1');
      const otherClass = await join(b.port, 'c2');
      // the same room name in a node-local namespace: what node 1 emits there stays on node 1
      const localOnB = await join(b.port, 'c1', '/containers');
      const gotLocal: unknown[] = [];
      localOnB.on('broadcast', (m) => gotLocal.push(m));
      const got: unknown[] = [];
      const gotOther: unknown[] = [];
      otherClass.on('broadcast', (m) => gotOther.push(m));
      const arrived = new Promise((r) => onB.once('broadcast', r));
      // the joins happen on node 2 in its connection handler: wait until node 1 sees the room
      for (let i = 0; i < 100 && (await a.io.of('/classroom').in('class:c1').fetchSockets()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      a.io.of('/classroom').to('class:c1').emit('broadcast', { from: 'node 1' });
      a.io.of('/containers').to('class:c1').emit('broadcast', { from: 'node 1, node-local' });
      got.push(await arrived);
      expect(got).toEqual([{ from: 'node 1' }]);
      // a socket of another class got nothing (a room emit is not a broadcast to all)
      await new Promise((r) => setTimeout(r, 100));
      expect(gotOther).toEqual([]);
      expect(gotLocal).toEqual([]);
      expect(b.io.of('/containers').adapter.constructor.name).toBe('Adapter');
      expect(b.io.of('/classroom').adapter.constructor.name).toBe('RedisAdapter');
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
    }
  }, 20_000);

  it('refuses to start when Redis is down, naming it, and keeps the password out of the message', async () => {
    const port = await freePort();
    const io = new IoServer();
    const err = await attachClusterAdapter(io, `redis://:s3cret@127.0.0.1:${port}`).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`cannot run as a cluster node: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} is not reachable`));
    expect(err?.message).not.toContain('s3cret');
    // the io server keeps its in-memory adapter: nothing was half attached
    expect(io.of('/').adapter.constructor.name).toBe('Adapter');
  }, 20_000);

  it('names a bad GLASSBOX_REDIS_URL', () => {
    expect(() => checkRedisUrl('http://x')).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => checkRedisUrl('not a url')).toThrow(/GLASSBOX_REDIS_URL is not a URL/);
    expect(redactRedisUrl('redis://u:pw@h:1/0')).toBe('redis://u:***@h:1/0');
  });
});
