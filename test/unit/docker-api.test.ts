// The Docker API server over a stand-in engine (host processes, no kernel work): routing, version
// prefixes, errors as JSON, hijacked streams, driven by the real docker CLI where it is installed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { socketRequest } from '../e2e/docker-support.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerApi } from '../../server/api/docker/server.js';
import { FakeEngine } from './docker-fake-engine.js';
import { requireHost } from '../helpers.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
let dir = '';
let sock = '';
let api: Awaited<ReturnType<typeof startDockerApi>>;
const engine = new FakeEngine();

function http(method: string, path: string, body?: string): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  return socketRequest(sock, method, path, body);
}

async function docker(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(DOCKER, ['-H', `unix://${sock}`, ...args], { timeout: 20_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/gbd-');
  sock = join(dir, 'docker.sock');
  api = await startDockerApi(engine, { socketPath: sock });
});

afterAll(async () => {
  for (const r of engine.list({ all: true })) await engine.remove(r.id, { force: true });
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

requireHost('docker API tests', { binaries: [DOCKER] });

describe('docker API server (stand-in engine)', () => {
  it('listens on a 0660 socket and removes a stale one', async () => {
    expect(statSync(sock).mode & 0o777).toBe(0o660);
    await api.close();
    // a leftover socket file with nobody behind it is replaced
    const { createServer } = await import('node:net');
    const s = createServer().listen(sock);
    await new Promise((r) => s.once('listening', r));
    await expect(startDockerApi(engine, { socketPath: sock })).rejects.toThrow(/another server/);
    await new Promise((r) => s.close(r));
    api = await startDockerApi(engine, { socketPath: sock });
    expect((await http('GET', '/_ping')).json).toBe('OK');
  });

  it('answers ping (GET, HEAD) with Api-Version, with or without a version prefix', async () => {
    const r = await http('HEAD', '/_ping');
    expect(r.status).toBe(200);
    expect(r.headers['api-version']).toBe('1.47');
    expect((await http('GET', '/v1.41/_ping')).status).toBe(200);
    expect((await http('GET', '/v1.51/version')).json).toMatchObject({ ApiVersion: '1.47', MinAPIVersion: '1.41' });
    expect((await http('GET', '/v1.40/version')).json).toMatchObject({ message: expect.stringMatching(/too old/) });
    expect((await http('GET', '/v1.52/version')).status).toBe(400);
  });

  it('unknown endpoints: 404 JSON; malformed bodies: 400 JSON; engine errors keep their status', async () => {
    expect(await http('GET', '/v1.47/no/such/thing')).toMatchObject({ status: 404, json: { message: 'page not found' } });
    const bad = await http('POST', '/v1.47/containers/create', '{"Image": ');
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/malformed JSON body/);
    expect((await http('POST', '/containers/create', '{"Image": 5}')).json).toMatchObject({ message: expect.stringMatching(/Image/) });
    expect(await http('GET', '/containers/nope/json')).toMatchObject({ status: 404, json: { message: 'No such container: nope' } });
    const c = await http('POST', '/containers/create?name=dup', '{"Image":"base","Cmd":["true"]}');
    expect(c.status).toBe(201);
    expect((await http('POST', '/containers/create?name=dup', '{"Image":"base","Cmd":["true"]}')).status).toBe(409);
    expect((await http('POST', '/containers/dup/kill')).status).toBe(409);
    expect((await http('DELETE', '/containers/dup')).status).toBe(204);
  });

  it('docker version / info / run / exit codes / refusals', async () => {
    const v = await docker('version');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/Server: Glassbox/);
    expect((await docker('info')).out).toMatch(/Storage Driver: overlay2/);
    expect(await docker('run', '--rm', 'base', 'echo', 'hi')).toMatchObject({ code: 0, out: 'hi\n' });
    const r3 = await docker('run', '--rm', 'base', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(r3).toMatchObject({ code: 3, out: 'out\n', err: 'err\n' });
    const gpu = await docker('run', '--gpus', 'all', 'base', 'true');
    expect(gpu.code).toBe(125);
    expect(gpu.err).toMatch(/glassbox: --gpus is not supported/);
    const pull = await docker('run', 'nosuch', 'true');
    expect(pull.err).toMatch(/pull access denied for nosuch/);
  });

  it('detached run, ps, inspect, exec, logs, stats, update, events', async () => {
    const d = await docker('run', '-d', '--name', 'bg', 'base', 'sleep', '30');
    expect(d.code).toBe(0);
    expect((await docker('ps', '--format', '{{.Names}} {{.Status}}')).out).toMatch(/^bg Up/m);
    expect((await docker('inspect', '-f', '{{.State.Running}} {{.GraphDriver.Name}}', 'bg')).out.trim()).toBe('true overlay2');
    expect(await docker('exec', 'bg', 'sh', '-c', 'echo in; exit 5')).toMatchObject({ code: 5, out: 'in\n' });
    const st = await docker('stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'bg');
    expect(st.out.trim()).toBe('bg 1');
    expect((await docker('update', '--memory', '100m', '--pids-limit', '30', 'bg')).code).toBe(0);
    expect(engine.lastUpdate).toEqual({ memory: 100 * 1024 * 1024, pids: 30 });
    expect((await docker('diff', 'bg')).out).toBe('C /tmp\nA /tmp/new\nD /etc/motd\n');
    // (not spawnSync: the server runs in this process)
    const ev = await docker('events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=bg', '--format', '{{.Action}}');
    expect(ev.out.split('\n')).toEqual(expect.arrayContaining(['create', 'start']));
    expect((await docker('rm', '-f', 'bg')).code).toBe(0);
  });
});
