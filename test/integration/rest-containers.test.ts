// The REST adapter's container routes over a real engine: the body is the engine's own schema
// (one description of a container request), so its bounds and messages are the engine's, and a
// refused body makes nothing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleRest } from '../../server/api/rest/routes.js';
import { requireHost } from '../helpers.js';
import { openTestEngine, type TestEnv } from './support.js';

let env: TestEnv;
let server: Server;
let base: string;

requireHost('REST container routes', { root: true, commands: ['ip'] });

beforeAll(async () => {
  env = await openTestEngine();
  server = createServer((req, res) => void handleRest(env.engine, req, res, new URL(req.url ?? '/', 'http://127.0.0.1')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  if (server) await new Promise((r) => server.close(r));
  await env?.cleanup();
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('POST /api/containers', () => {
  it('takes timeOffsets in seconds: uptime moves, the date does not', async () => {
    const r = await post('/api/containers', { image: 'base', cmd: ['sh', '-c', 'cut -d. -f1 /proc/uptime; date +%s'], timeOffsets: { monotonic: 0, boottime: 86400 * 2 } });
    expect(r.status).toBe(201);
    const id = r.body.id as string;
    expect((r.body.config as { namespaces: Record<string, boolean> }).namespaces.time).toBe(true);
    await env.engine.wait(id);
    let out = '';
    for await (const e of env.engine.logs(id)) out += e.log;
    const [uptime, date] = out.trim().split('\n').map(Number);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split('.')[0]);
    expect(uptime).toBeGreaterThanOrEqual(hostUptime + 86400 * 2 - 5);
    // CLOCK_REALTIME has no offset in a time namespace
    expect(Math.abs(date - Date.now() / 1000)).toBeLessThan(60);
  });

  it.each([
    [{ image: 'base', timeOffsets: { monotonic: 0 } }, /timeOffsets\.boottime/],
    [{ image: 'base', timeOffsets: { monotonic: 1e12, boottime: 0 } }, /a time offset is at most ten years/],
    [{ image: 'base', timeOffsets: { monotonic: 5, boottime: 0 }, namespaces: { time: false } }, /time offsets need the time namespace/],
    [{ image: 'base', ports: [{ hostPort: 70000, containerPort: 80, protocol: 'tcp' }] }, /ports\.0\.hostPort/],
    [{ image: 'base', namespaces: { bogus: true } }, /unknown namespace "bogus"/],
    [{ image: 'base', restartPolicy: { name: 'sometimes' } }, /restartPolicy\.name/],
    [{ image: 'base', limits: { cpuPeriod: 10 } }, /cpu period must be between 1ms and 1s/],
  ])('refuses %j with a message naming the field, and makes nothing', async (body, message) => {
    const before = env.engine.list({ all: true }).length;
    const r = await post('/api/containers', body);
    expect(r.status).toBe(400);
    expect(String(r.body.error)).toMatch(message);
    expect(env.engine.list({ all: true }).length).toBe(before);
  });
});
