// The real docker CLI (28.x) against Glassbox: the engine and its Docker API socket are started in
// this process on throw-away directories; every command's output and exit code is checked, and
// nothing is left behind (containers removed, engine closed, directories deleted, no cgroups/mounts).
// Needs root and the engine (skipped when the engine cannot open).
import { execFile, spawn } from 'node:child_process';
import { dockerClient, dockerTty } from './docker-support.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../server/engine/api.js';
import { startDockerApi } from '../../server/api/docker/server.js';
import { requireHost } from '../helpers.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';

type EngineLike = EngineApi & { close(): Promise<void> };
let engineOpen: ((o: { root: string; runRoot: string; network?: boolean }) => Promise<EngineLike>) | null = null;
let why = '';
try {
  const mod = (await import('../../server/engine/engine.js')) as { Engine: { open(o: object): Promise<EngineLike> } };
  engineOpen = (o) => mod.Engine.open(o);
} catch (e) {
  why = (e as Error).message;
}
requireHost('docker-cli e2e', { root: true, binaries: [DOCKER] });
if (!engineOpen) throw new Error(`docker-cli e2e cannot run here, and a test that cannot run fails: the engine cannot be loaded (${why})`);

let base = '';
let sock = '';
let engine: EngineLike;
let api: Awaited<ReturnType<typeof startDockerApi>>;

const { docker, ok } = dockerClient(() => sock);


function httpUnix(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A file of the container's cgroup (v1: per hierarchy; v2: one dir). */
function cgroupFile(name: string, file: string): string {
  const dirs = Object.values(engine.get(name).paths.cgroups);
  for (const d of dirs) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim();
  throw new Error(`no ${file} in ${dirs.join(', ')}`);
}

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
};

describe('docker CLI against Glassbox', () => {
  beforeAll(async () => {
    base = mkdtempSync('/tmp/gbd-');
    engine = await engineOpen!({ root: join(base, 'root'), runRoot: join(base, 'r'), network: false });
    sock = join(base, 'docker.sock');
    api = await startDockerApi(engine, { socketPath: sock });
  }, 120_000);

  afterAll(async () => {
    if (engine) for (const c of engine.list({ all: true })) await engine.remove(c.id, { force: true }).catch(() => {});
    const left = engine ? engine.list({ all: true }).length : 0;
    await api?.close();
    await engine?.close();
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => base && l.includes(base));
    if (base) rmSync(base, { recursive: true, force: true });
    expect(left).toBe(0);
    expect(mounts).toEqual([]);
  }, 120_000);

  it('version and info', async () => {
    const v = await ok('version');
    expect(v).toMatch(/Server: Glassbox/);
    expect(v).toMatch(/API version:\s+1\.47/);
    const info = await ok('info');
    expect(info).toMatch(/Storage Driver: overlay2/);
    expect(info).toMatch(/Cgroup Driver: \w+/);
    expect(info).toMatch(/Cgroup Version: [12]/);
    expect(info).toMatch(/Kernel Version: \S+/);
  });

  it('run --rm, exit code propagation, stderr', async () => {
    expect(await docker('run', '--rm', 'base', 'echo', 'hi')).toMatchObject({ code: 0, out: 'hi\n' });
    expect(await docker('run', '--rm', 'base', 'sh', '-c', 'echo oops >&2; exit 3')).toMatchObject({ code: 3, err: 'oops\n' });
    expect((await docker('run', '--rm', 'base', 'no-such-binary')).code).toBe(127);
  });

  it('-e -w -u --hostname --entrypoint', async () => {
    const out = await ok('run', '--rm', '-e', 'GREETING=hello', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'boxy', 'base', 'sh', '-c', 'echo $GREETING $(pwd) $(id -u):$(id -g) $(hostname)');
    expect(out).toBe('hello /tmp 1000:1000 boxy\n');
    expect(await ok('run', '--rm', '--entrypoint', 'echo', 'base', 'from', 'entrypoint')).toBe('from entrypoint\n');
  });

  it('limits: -m/--memory-swap, --cpus, --cpu-shares, --pids-limit, --device-read-bps', async () => {
    const dev = ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/loop0'].find((d) => existsSync(d));
    const args = ['run', '-d', '--name', 'lim', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '20'];
    if (dev) args.push('--device-read-bps', `${dev}:1mb`, '--device-write-bps', `${dev}:2mb`);
    await ok(...args, 'base', 'sleep', '60');
    const hc = JSON.parse(await ok('inspect', '-f', '{{json .HostConfig}}', 'lim'));
    expect(hc).toMatchObject({ Memory: 64 << 20, MemorySwap: 128 << 20, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 20 });
    if (dev) expect(hc.BlkioDeviceReadBps[0].Rate).toBe(1 << 20);
    const v2 = engine.info().cgroupVersion === 2;
    expect(cgroupFile('lim', v2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(cgroupFile('lim', 'pids.max')).toBe('20');
    // live update, visible in the cgroup
    expect((await docker('update', '--memory', '96m', '--memory-swap', '192m', '--cpus', '1', '--pids-limit', '30', 'lim')).code).toBe(0);
    expect(cgroupFile('lim', v2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(96 << 20));
    expect(cgroupFile('lim', 'pids.max')).toBe('30');
    if (v2) expect(cgroupFile('lim', 'cpu.max')).toBe('100000 100000');
    else expect(cgroupFile('lim', 'cpu.cfs_quota_us')).toBe('100000');
    expect(JSON.parse(await ok('inspect', '-f', '{{json .HostConfig}}', 'lim'))).toMatchObject({ Memory: 96 << 20, PidsLimit: 30 });
    // stats from the cgroup
    const st = (await ok('stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.PIDs}}', 'lim')).trim().split('|');
    expect(st[0]).toBe('lim');
    expect(st[1]).toMatch(/96MiB$/);
    expect(Number(st[2])).toBeGreaterThanOrEqual(1);
    await ok('rm', '-f', 'lim');
  });

  it('--read-only, --cap-add/--cap-drop, --security-opt, --privileged, --init', async () => {
    expect((await docker('run', '--rm', '--read-only', 'base', 'touch', '/x')).code).not.toBe(0);
    expect((await docker('run', '--rm', '--cap-drop', 'CHOWN', 'base', 'chown', '1:1', '/tmp')).code).not.toBe(0);
    expect(await ok('run', '--rm', '--cap-add', 'NET_ADMIN', 'base', 'sh', '-c', 'grep CapEff /proc/self/status')).toMatch(/CapEff:\s+[0-9a-f]+/);
    expect(await ok('run', '--rm', '--security-opt', 'no-new-privileges', 'base', 'grep', 'NoNewPrivs', '/proc/self/status')).toMatch(/NoNewPrivs:\s+1/);
    expect(await ok('run', '--rm', '--security-opt', 'seccomp=unconfined', 'base', 'grep', 'Seccomp:', '/proc/self/status')).toMatch(/Seccomp:\s+0/);
    expect(await ok('run', '--rm', 'base', 'grep', 'Seccomp:', '/proc/self/status')).toMatch(/Seccomp:\s+2/);
    expect(await ok('run', '--rm', '--privileged', 'base', 'grep', 'CapEff', '/proc/self/status')).toMatch(/CapEff:\s+0*3?[0-9a-f]{9,}/);
    expect(await ok('run', '--rm', '--init', 'base', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "')).not.toMatch(/^sh /);
  });

  it('--pid host, --network none|host, --ipc host, --uts host, --userns host', async () => {
    const hostPidNs = readFileSync('/proc/self/status', 'utf8') && (await run('readlink', ['/proc/self/ns/pid'])).stdout.trim();
    expect((await ok('run', '--rm', '--pid', 'host', 'base', 'readlink', '/proc/self/ns/pid')).trim()).toBe(hostPidNs);
    expect((await ok('run', '--rm', 'base', 'readlink', '/proc/self/ns/pid')).trim()).not.toBe(hostPidNs);
    expect(await ok('run', '--rm', '--network', 'none', 'base', 'ls', '/sys/class/net')).toBe('lo\n');
    const hostNet = (await run('readlink', ['/proc/self/ns/net'])).stdout.trim();
    expect((await ok('run', '--rm', '--network', 'host', 'base', 'readlink', '/proc/self/ns/net')).trim()).toBe(hostNet);
    const hostIpc = (await run('readlink', ['/proc/self/ns/ipc'])).stdout.trim();
    expect((await ok('run', '--rm', '--ipc', 'host', 'base', 'readlink', '/proc/self/ns/ipc')).trim()).toBe(hostIpc);
    expect((await ok('run', '--rm', '--uts', 'host', 'base', 'hostname')).trim()).toBe(hostHostname());
    const hostUser = (await run('readlink', ['/proc/self/ns/user'])).stdout.trim();
    expect((await ok('run', '--rm', '--userns', 'host', 'base', 'readlink', '/proc/self/ns/user')).trim()).toBe(hostUser);
  });

  it('-d, ps/ps -a, logs, logs -f, inspect, top, diff, pause/unpause, restart, stop, kill -s, wait, rm -f', async () => {
    const id = (await ok('run', '-d', '--name', 'bg', 'base', 'sh', '-c', 'echo started; touch /tmp/new-file; rm /etc/hostname.bak 2>/dev/null; trap "echo got-term; exit 7" TERM; while true; do sleep 0.2; done')).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await waitFor(async () => (await ok('logs', 'bg')).includes('started'));
    expect(await ok('ps', '--format', '{{.Names}}|{{.Status}}')).toMatch(/^bg\|Up /m);
    const ins = JSON.parse(await ok('inspect', 'bg'))[0];
    expect(ins.State).toMatchObject({ Status: 'running', Running: true, OOMKilled: false, ExitCode: 0 });
    expect(ins.State.Pid).toBeGreaterThan(1);
    expect(ins.GraphDriver.Name).toBe('overlay2');
    expect(ins.GraphDriver.Data.UpperDir).toBeTruthy();
    expect(ins.GraphDriver.Data.LowerDir).toBeTruthy();
    expect(ins.GraphDriver.Data.MergedDir).toBeTruthy();
    const top = await ok('top', 'bg');
    expect(top).toMatch(/PID/);
    expect(top).toMatch(/sleep|sh -c/);
    expect(await ok('diff', 'bg')).toMatch(/^A \/tmp\/new-file$/m);
    await ok('pause', 'bg');
    expect(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'bg')).toBe('paused true\n');
    expect(await ok('ps', '--format', '{{.Status}}', '--filter', 'name=bg')).toMatch(/\(Paused\)/);
    await ok('unpause', 'bg');
    expect(await ok('inspect', '-f', '{{.State.Status}}', 'bg')).toBe('running\n');

    // logs -f follows until the container ends
    const follow = docker('logs', '-f', 'bg');
    await new Promise((r) => setTimeout(r, 500));
    await ok('kill', '-s', 'TERM', 'bg');
    const f = await follow;
    expect(f.code).toBe(0);
    expect(f.out).toBe('started\ngot-term\n');
    expect(await ok('wait', 'bg')).toBe('7\n');
    expect(await ok('ps', '-a', '--format', '{{.Names}}|{{.Status}}', '--filter', 'status=exited')).toMatch(/^bg\|Exited \(7\)/m);
    expect(await ok('ps', '--format', '{{.Names}}')).not.toMatch(/^bg$/m);

    await ok('restart', 'bg');
    expect(await ok('inspect', '-f', '{{.State.Running}}', 'bg')).toBe('true\n');
    const t0 = Date.now();
    await ok('stop', '-t', '5', 'bg');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await ok('inspect', '-f', '{{.State.ExitCode}}', 'bg')).toBe('7\n');
    await ok('start', 'bg');
    expect((await docker('rm', 'bg')).code).not.toBe(0); // running: refused without -f
    expect((await ok('rm', '-f', 'bg')).trim()).toBe('bg');
    expect((await docker('inspect', 'bg')).code).not.toBe(0);
  });

  it('--restart on-failure restarts a failing container', async () => {
    await ok('run', '-d', '--name', 'rs', '--restart', 'on-failure:2', 'base', 'sh', '-c', 'exit 1');
    await waitFor(async () => (await ok('inspect', '-f', '{{.RestartCount}}', 'rs')).trim() === '2', 15_000);
    expect(await ok('inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'rs')).toBe('on-failure\n');
    await ok('rm', '-f', 'rs');
  });

  it('run -it: a TTY over the hijacked connection', async () => {
    const r = await dockerTty(sock, ['run', '-it', '--rm', '--hostname', 'ttybox', 'base', 'sh'], ['hostname\r', 'tty\r', 'exit 4\r']);
    expect(r.out).toMatch(/ttybox/);
    expect(r.out).toMatch(/\/dev\/pts\/\d+/);
    expect(r.code).toBe(4);
  });

  it('exec and exec -it, with the exit code', async () => {
    await ok('run', '-d', '--name', 'ex', 'base', 'sleep', '60');
    expect(await docker('exec', 'ex', 'sh', '-c', 'echo in-exec; exit 5')).toMatchObject({ code: 5, out: 'in-exec\n' });
    expect(await ok('exec', '-e', 'V=1', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $V $(pwd)')).toBe('1 /tmp\n');
    const piped = await new Promise<string>((resolve) => {
      const p = spawn(DOCKER, ['-H', `unix://${sock}`, 'exec', '-i', 'ex', 'cat']);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => resolve(out));
      p.stdin.end('through stdin\n');
    });
    expect(piped).toBe('through stdin\n');
    const t = await dockerTty(sock, ['exec', '-it', 'ex', 'sh'], ['tty\r', 'exit 6\r']);
    expect(t.out).toMatch(/\/dev\/pts\/\d+/);
    expect(t.code).toBe(6);
    await ok('rm', '-f', 'ex');
  });

  it('events are streamed', async () => {
    const p = spawn(DOCKER, ['-H', `unix://${sock}`, 'events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 500));
    await ok('run', '--rm', '--name', 'evt', 'base', 'true');
    await waitFor(() => /container destroy evt/.test(out));
    p.kill('SIGTERM');
    expect(out).toMatch(/container create evt/);
    expect(out).toMatch(/container start evt/);
    expect(out).toMatch(/container die evt/);
  });

  it('images, image inspect, history, tag, rmi', async () => {
    expect(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).toMatch(/^base:latest$/m);
    const img = JSON.parse(await ok('image', 'inspect', 'base'))[0];
    expect(img.Id).toMatch(/^sha256:/);
    expect(img.RootFS.Layers.length).toBeGreaterThan(0);
    expect((await ok('history', 'base')).split('\n')[0]).toMatch(/IMAGE\s+CREATED\s+CREATED BY\s+SIZE/);
    await ok('tag', 'base', 'mybase:v1');
    expect(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).toMatch(/^mybase:v1$/m);
    expect(await ok('rmi', 'mybase:v1')).toMatch(/Untagged: mybase:v1/);
    expect(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).not.toMatch(/mybase/);
  });

  it('refuses unsupported options, answers unknown endpoints and bad bodies with JSON', async () => {
    const vd = await docker('run', '--rm', '--volume-driver', 'x', 'base', 'true');
    expect(vd.code).toBe(125);
    expect(vd.err).toMatch(/glassbox: --volume-driver is not supported/);
    const gpu = await docker('run', '--rm', '--gpus', 'all', 'base', 'true');
    expect(gpu.err).toMatch(/glassbox: --gpus is not supported/);
    // --pull never: a test never reaches for a registry off this machine
    expect((await docker('run', '--rm', '--pull', 'never', 'not-an-image', 'true')).err).toMatch(/No such image/);
    const nf = await httpUnix('GET', '/v1.47/no/such/endpoint');
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.text)).toEqual({ message: 'page not found' });
    const bad = await httpUnix('POST', '/v1.47/containers/create', '{"Image": "base", "HostConfig": {"Memory": "lots"}}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).message).toMatch(/HostConfig\.Memory/);
    expect(engine.list({ all: true }).filter((c) => !c.config.autoRemove)).toEqual([]);
  });
});
