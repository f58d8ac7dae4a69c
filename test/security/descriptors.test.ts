// Attack: descriptors leaking into containers (issue #11, part 1).
//
// The server holds the pty masters of every open terminal (dashboard tabs, `docker exec -it`).
// Whatever it starts after them must not inherit them: a container holding another learner's
// pty master can type into that learner's shell. With terminals open through both paths (the
// socket.io terminal channel and the Docker API driven by the real docker CLI), a new
// container and a new exec session must see only 0, 1, 2 (and the directory `ls` opens), and
// the monitor must hold no pty of another container.
import { readdirSync, readlinkSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pty from 'node-pty';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCloexec } from '../../native/libc.js';
import { startDockerApi } from '../../server/api/docker/server.js';
import type { ExecProcess } from '../../server/engine/api.js';
import { terminalChannel, type TerminalChannel } from '../../server/realtime/terminal.js';
import { until } from '../helpers.js';
import { execToExit, openTestEngine, runToExit, type TestEnv } from '../integration/support.js';

const DOCKER = '/usr/local/bin/docker';
const sh = (script: string, extra: Record<string, unknown> = {}) => ({ image: 'base', cmd: ['/bin/sh', '-c', script], ...extra });

let env: TestEnv;
let http: HttpServer;
let io: Server;
let terminals: TerminalChannel;
let client: ClientSocket;
let api: Awaited<ReturnType<typeof startDockerApi>>;
let victim: string;
const ptys: pty.IPty[] = [];
let cliMaster = -1;
const sessions: ExecProcess[] = [];

function execOut(id: string, cmd: string[], tty = false): Promise<{ code: number; out: string; err: string }> {
  return execToExit(env.engine, id, cmd, tty);
}

/** `ls -l /proc/self/fd` lines → descriptor number → target */
function parseLs(out: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of out.split(/\r?\n/)) {
    const g = / (\d+) -> (.*)$/.exec(line.trim());
    if (g) m.set(Number(g[1]), g[2]);
  }
  return m;
}

/** only stdio, plus the directory `ls` itself has open while it lists it */
function expectOnlyStdio(fds: Map<number, string>, what: string): void {
  const extra = [...fds].filter(([n, target]) => n > 2 && !/^\/proc\/\d+\/fd$/.test(target));
  expect(extra, `${what}: descriptors above 2: ${JSON.stringify([...fds])}`).toEqual([]);
  expect([0, 1, 2].every((n) => fds.has(n)), `${what}: stdio is there: ${JSON.stringify([...fds])}`).toBe(true);
}

function ptyLinks(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(join(`/proc/${pid}/fd`, fd));
      } catch {
        return '';
      }
    })
    .filter((t) => /ptmx|\/dev\/pts\//.test(t));
}

beforeAll(async () => {
  env = await openTestEngine();
  victim = (await env.engine.run(sh('sleep 1000', { name: 'victim' }))).id;

  // 1. two dashboard terminals: the socket.io channel the browser uses
  http = createServer();
  io = new Server(http);
  terminals = terminalChannel(io, env.engine, () => ({ role: 'teacher', engine: env.engine }));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  client = connectClient(`http://127.0.0.1:${port}/terminal`, { transports: ['websocket'] });
  for (const sessionId of ['fdleak-term-1', 'fdleak-term-2']) {
    const res = (await client.timeout(30_000).emitWithAck('open', { sessionId, containerId: victim, cols: 80, rows: 24 })) as { ok: boolean; error?: string };
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true });
  }
  // 2. `docker exec -it victim sh` from the real docker CLI (under a pty of its own: -t wants one)
  api = await startDockerApi(env.engine, { socketPath: join(env.runRoot, '..', 'docker.sock') });
  // This pty is the test's own and is left as node-pty makes it, without close-on-exec: every
  // helper started after it inherits it, and must close it itself.
  const cli = pty.spawn(DOCKER, ['-H', `unix://${api.socketPath}`, 'exec', '-it', 'victim', 'sh'], { cols: 80, rows: 24, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  ptys.push(cli);
  cliMaster = (cli as unknown as { fd: number }).fd;
  let cliOut = '';
  cli.onData((d) => (cliOut += d));
  cli.write('echo docker-exec-$((6*7))\r');
  await until(async () => {
    if (!cliOut.includes('docker-exec-42')) throw new Error(`docker exec -it has not answered: ${JSON.stringify(cliOut)}`);
  }, 30_000);
  // 3. and an engine exec with a tty held open, as the Docker API's own exec -t is
  sessions.push(await env.engine.exec(victim, { cmd: ['/bin/sh'], tty: true }));
  expect(terminals.count()).toBe(2);
}, 120_000);

afterAll(async () => {
  for (const p of ptys) p.kill('SIGKILL');
  for (const s of sessions) s.kill('SIGKILL');
  client?.close();
  await terminals?.close();
  io?.close();
  await api?.close();
  await env?.cleanup();
}, 60_000);

describe('descriptors: nothing of the server reaches a container', () => {
  it('the server marks every pty master it holds close-on-exec', () => {
    const masters = readdirSync('/proc/self/fd')
      .map(Number)
      .filter((fd) => {
        try {
          return /ptmx$/.test(readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false;
        }
      });
    // two dashboard terminals, the docker exec -it session, the engine session (+ the CLI's pty)
    expect(masters.length).toBeGreaterThanOrEqual(5);
    expect(isCloexec(cliMaster), 'node-pty leaves its masters inheritable').toBe(false);
    for (const fd of masters) if (fd !== cliMaster) expect(isCloexec(fd), `pty master fd ${fd}`).toBe(true);
  });

  it('nothing the server process holds is inheritable, but for the test\'s own pty', () => {
    // the engine marked what the test runner left us close-on-exec when it opened; the sessions
    // opened since are close-on-exec as they were made
    const open = readdirSync('/proc/self/fd').map(Number).filter((fd) => fd > 2 && fd !== cliMaster);
    const inheritable = open.filter((fd) => {
      try {
        return !isCloexec(fd);
      } catch {
        return false; // the directory listing's own descriptor, closed by now
      }
    });
    expect(inheritable.map((fd) => `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`)).toEqual([]);
  });

  it('a new container sees only 0, 1, 2', async () => {
    const r = await runToExit(env.engine, sh('ls -l /proc/self/fd'));
    expect(r.exitCode).toBe(0);
    expectOnlyStdio(parseLs(r.stdout), 'new container');
  });

  it('a new container with a terminal sees only 0, 1, 2', async () => {
    const r = await runToExit(env.engine, sh('ls -l /proc/self/fd', { tty: true }));
    expect(r.exitCode).toBe(0);
    expectOnlyStdio(parseLs(r.stdout), 'new tty container');
  });

  it('with --init, neither the command nor gb-init (PID 1) holds anything above 2', async () => {
    const r = await runToExit(env.engine, sh('ls -l /proc/self/fd; echo --; ls -l /proc/1/fd', { init: true }));
    expect(r.exitCode).toBe(0);
    const [self, init] = r.stdout.split('--\n');
    expectOnlyStdio(parseLs(self), 'command under gb-init');
    expectOnlyStdio(parseLs(init), 'gb-init');
  });

  it('a new exec session, with and without a tty, sees only 0, 1, 2', async () => {
    const plain = await execOut(victim, ['ls', '-l', '/proc/self/fd']);
    expect(plain.code, plain.err).toBe(0);
    expectOnlyStdio(parseLs(plain.out), 'exec');
    const tty = await execOut(victim, ['ls', '-l', '/proc/self/fd'], true);
    expect(tty.code).toBe(0);
    expectOnlyStdio(parseLs(tty.out), 'exec -t');
    // and the shell the victim's own init runs: nothing was handed to it either
    const init = await execOut(victim, ['ls', '-l', '/proc/1/fd']);
    expectOnlyStdio(parseLs(init.out), 'victim init');
  });

  it('the monitor of a new container holds no pty of another container', async () => {
    const rec = await env.engine.run(sh('sleep 1000'));
    const monitor = env.engine.get(rec.id).state.monitorPid;
    expect(monitor).toBeGreaterThan(0);
    expect(ptyLinks(monitor)).toEqual([]);
    // a terminal container's monitor holds its own pty master, and only that one
    const t = await env.engine.run(sh('sleep 1000', { tty: true }));
    const tm = env.engine.get(t.id).state.monitorPid;
    expect(ptyLinks(tm)).toEqual(['/dev/pts/ptmx']);
    await env.engine.remove(rec.id, { force: true });
    await env.engine.remove(t.id, { force: true });
  });
});
