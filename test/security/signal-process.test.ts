// Signalling one process from the pid diagram: the pid comes from a browser. Attacks: a host
// process (a canary sleep), another container's init, the container's own monitor, host PID 1,
// pids that are not numbers; a zombie is explained, not "killed". The canaries must live on.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleRest } from '../../server/api/rest/routes.js';
import { requireHost, until } from '../helpers.js';
import { openTestEngine, type TestEnv } from '../integration/support.js';

requireHost('signal-process security tests', { root: true });

const alive = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const stateOf = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return st.slice(st.lastIndexOf(')') + 2)[0];
};

describe('signalProcess: only the container\'s own processes', () => {
  let env: TestEnv;
  let canary: ChildProcess;
  let server: Server;
  let base = '';
  beforeAll(async () => {
    env = await openTestEngine();
    canary = spawn('sleep', ['600'], { stdio: 'ignore' });
    server = createServer((req, res) => void handleRest(env.engine, req, res, new URL(req.url ?? '/', 'http://x')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }, 120_000);
  afterAll(async () => {
    canary?.kill('SIGKILL');
    await new Promise((r) => server?.close(r));
    await env?.cleanup();
  }, 60_000);

  const post = (path: string, body: unknown) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('delivers TERM to a child of the container, and refuses host, foreign and monitor pids', async () => {
    const a = await env.engine.run({ image: 'base', cmd: ['sh', '-c', 'sleep 301 & sleep 302 & wait'] });
    const b = await env.engine.run({ image: 'base', cmd: ['sleep', '303'] });
    const kids = await until(async () => {
      const k = childrenOf(a.state.pid);
      if (k.length < 2) throw new Error('children not there yet');
      return k;
    });
    const r = env.engine.signalProcess(a.id, kids[0], 'TERM');
    expect(r).toMatchObject({ pid: kids[0], signal: 15, signalName: 'SIGTERM', comm: 'sleep' });
    await until(async () => {
      if (childrenOf(a.state.pid).includes(kids[0])) throw new Error('still there');
    });
    expect(alive(kids[1])).toBe(true);

    // attacks: every one is refused as "no such process in this container", and nothing dies
    const foreign = [canary.pid!, b.state.pid, a.state.monitorPid, 1, process.pid];
    for (const pid of foreign) {
      expect(() => env.engine.signalProcess(a.id, pid, 'KILL'), `pid ${pid}`).toThrow(/no process/);
      const res = await post(`/api/containers/${a.id}/processes/${pid}/signal`, { signal: 'KILL' });
      expect(res.status, `REST pid ${pid}`).toBe(404);
    }
    expect(alive(canary.pid!)).toBe(true);
    expect(alive(b.state.pid)).toBe(true);
    expect(alive(a.state.monitorPid)).toBe(true);
    expect(env.engine.get(b.id).state.status).toBe('running');

    // bad input: named in the error, nothing changes
    for (const [pid, body, re] of [
      ['0', { signal: 'TERM' }, /pid/],
      ['-5', { signal: 'TERM' }, /pid/],
      ['abc', { signal: 'TERM' }, /pid/],
      ['1e3', { signal: 'TERM' }, /pid/],
      [String(kids[1]), { signal: 'BOGUS' }, /signal/i],
      [String(kids[1]), {}, /signal/],
      [String(kids[1]), { signal: 'TERM', extra: 1 }, /extra|unrecognized/i],
    ] as const) {
      const res = await post(`/api/containers/${a.id}/processes/${pid}/signal`, body);
      expect(res.status, `${pid} ${JSON.stringify(body)}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(re);
    }
    expect(alive(kids[1])).toBe(true);
    const missing = await post(`/api/containers/no-such-container/processes/${kids[1]}/signal`, { signal: 'TERM' });
    expect(missing.status).toBe(404);
    // the REST route delivers too
    const ok = await post(`/api/containers/${a.id}/processes/${kids[1]}/signal`, { signal: 'SIGKILL' });
    expect(ok.status).toBe(200);
    await until(async () => {
      if (alive(kids[1])) throw new Error('still alive');
    });
  }, 60_000);

  it('explains a zombie instead of pretending to kill it', async () => {
    // sh forks a short sleep, then execs a sleep that never wait()s: the child ends as a zombie
    const c = await env.engine.run({ image: 'base', cmd: ['sh', '-c', 'sleep 0.2 & exec sleep 304'] });
    const z = await until(async () => {
      const k = childrenOf(c.state.pid).find((p) => stateOf(p) === 'Z');
      if (!k) throw new Error('no zombie yet');
      return k;
    });
    expect(() => env.engine.signalProcess(c.id, z, 'KILL')).toThrow(/zombie.*wait\(\)/);
    const res = await post(`/api/containers/${c.id}/processes/${z}/signal`, { signal: 'KILL' });
    expect(res.status).toBe(409);
    expect(stateOf(z)).toBe('Z');
  }, 60_000);

  it('refuses a container that is not running', async () => {
    const d = await env.engine.create({ image: 'base', cmd: ['sleep', '1'] });
    expect(() => env.engine.signalProcess(d.id, canary.pid!, 'KILL')).toThrow(/not running/);
    expect(alive(canary.pid!)).toBe(true);
  });
});
