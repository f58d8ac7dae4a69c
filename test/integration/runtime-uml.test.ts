// The uml runtime against the real kernel: the image under User-mode Linux 6.1 (its own kernel),
// its exit code, logs, -m as the guest's memory, exec refused — and the escapes a learner inside
// would try: hostfs of /etc shows the container's, no host path or process is reachable.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { umlDriver } from '../../server/engine/runtime/drivers/uml.js';
import { requireHost } from '../helpers.js';
import { hostLeftovers, openTestEngine, runToExit, type TestEnv } from './support.js';

requireHost('the uml runtime test', { root: true, binaries: ['/usr/bin/linux.uml', '/usr/bin/busybox'] });

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEngine();
}, 60_000);
afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ image: 'base', runtime: 'uml', cmd: ['/bin/sh', '-c', script], ...extra });

describe('uml', () => {
  it('is listed as available, with its kernel version', async () => {
    // the driver's own probe (engine.runtimes() would probe runc and runsc too)
    const uml = await umlDriver.probe({ scratch: '/nonexistent', stateRoot: '/nonexistent', cgroupParent: 'glassbox' });
    expect(uml.error ?? '').toBe('');
    expect(uml).toMatchObject({ available: true, path: '/usr/bin/linux.uml', version: expect.stringMatching(/^Linux 6\.1\.\d+/) });
  });

  it('runs the command under its own kernel: uname, exit code, stdout and stderr apart', async () => {
    const t = performance.now();
    const r = await runToExit(env.engine, sh('uname -r; echo to-stderr >&2; exit 7'));
    const ms = performance.now() - t;
    expect(r.exitCode).toBe(7);
    expect(r.stdout.trim()).toMatch(/^6\.1\.\d+$/);
    expect(release()).not.toMatch(/^6\.1\./);
    expect(r.stderr).toBe('to-stderr\n');
    console.log(`uml: run to exit ${ms.toFixed(0)} ms`);
  }, 60_000);

  it('keeps data intact across guest processes (UML saves only x87/SSE registers here)', async () => {
    const r = await runToExit(
      env.engine,
      sh('dd if=/dev/urandom of=/tmp/a bs=1M count=8 2>/dev/null; (cp /tmp/a /tmp/b & cp /tmp/a /tmp/c & wait); sha256sum /tmp/a /tmp/b /tmp/c | cut -d" " -f1 | uniq | wc -l; rm -f /tmp/a /tmp/b /tmp/c'),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('1');
  }, 60_000);

  it('--read-only holds even when the guest remounts its root read-write', async () => {
    const r = await runToExit(env.engine, sh('mount -o remount,rw / 2>/dev/null; echo x > /written 2>/dev/null && echo WROTE; mount -t hostfs none /mnt -o / && (echo x > /mnt/written2) 2>/dev/null && echo WROTE2; echo end', { readOnlyRoot: true }));
    expect(r.stdout).toBe('end\n');
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it('gives -m as the guest memory', async () => {
    const r = await runToExit(env.engine, sh('grep MemTotal /proc/meminfo', { limits: { memory: 128 * 1024 * 1024 } }));
    expect(r.exitCode).toBe(0);
    const kb = Number(/MemTotal:\s+(\d+) kB/.exec(r.stdout)?.[1]);
    // the guest kernel keeps some for itself: less than 128 MiB, more than 64
    expect(kb).toBeGreaterThan(64 * 1024);
    expect(kb).toBeLessThanOrEqual(128 * 1024);
  }, 60_000);

  it('hostfs reaches only the container: its /etc, no host path, no host process, no device', async () => {
    const hostMarker = execFileSync('hostname', { encoding: 'utf8' }).trim();
    const r = await runToExit(
      env.engine,
      sh(
        'mkdir -p /mnt/e /mnt/r; mount -t hostfs none /mnt/e -o /etc && cat /mnt/e/os-release | head -1; ' +
          'mount -t hostfs none /mnt/r -o / && ls /mnt/r /mnt/r/dev; ' +
          'ls /mnt/r/proc | wc -l; ls /mnt/r/sys | wc -l; ' +
          'cat /mnt/r/usr/bin/linux.uml >/dev/null 2>&1 && echo HOST-BINARY; ' +
          'echo x > /mnt/r/dev/.gb-uml/init 2>/dev/null && echo WROTE-KERNEL-DIR; ' +
          'mknod /mnt/r/sda b 8 0 2>/dev/null && echo MKNOD; ' +
          'mount -t hostfs none /mnt/e -o /proc/1/root/etc 2>/dev/null && echo PROC-ROOT; ' +
          'ls /mnt/r/dev/.gb-uml',
      ),
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('NAME="Glassbox base"');
    expect(r.stdout).not.toContain(hostMarker + '\n');
    for (const bad of ['HOST-BINARY', 'WROTE-KERNEL-DIR', 'MKNOD', 'PROC-ROOT']) expect(r.stdout).not.toContain(bad);
    const lines = r.stdout.split('\n');
    // the host side's /proc and /sys in the UML process's root are empty directories of the image
    expect(lines).toContain('0');
    expect(r.stdout).toMatch(/init\s+ld\.so\s+libc\.so\.6\s+linux\.uml/);
  }, 60_000);

  it('-m 64m: the guest gets mem=64M and its memory counts in the container cgroup', async () => {
    const rec = await env.engine.run(sh('grep MemTotal /proc/meminfo; dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; echo filled; sleep 3', { limits: { memory: 64 * 1024 * 1024 } }));
    await new Promise((r) => setTimeout(r, 2500));
    const procs = readFileSync(join(rec.paths.cgroups.memory ?? rec.paths.cgroups.unified ?? '', 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
    const names = procs.map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    // only the launcher and the UML kernel's own host processes: no guest program is a host process
    expect(new Set(names.map((n) => (n === 'gb-uml-launch' ? n : 'linux.uml')))).toEqual(new Set(['gb-uml-launch', 'linux.uml']));
    for (const p of procs) if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'gb-uml-launch') expect(readlinkSync(`/proc/${p}/ns/pid`)).not.toBe(readlinkSync('/proc/self/ns/pid'));
    const rssKb = procs.map((p) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)).reduce((a, b) => a + b, 0);
    const res = await env.engine.wait(rec.id);
    let out = '';
    for await (const e of env.engine.logs(rec.id)) out += e.log;
    expect(res.exitCode, out).toBe(0);
    expect(out).toContain('filled');
    expect(Number(/MemTotal:\s+(\d+)/.exec(out)?.[1])).toBeLessThanOrEqual(64 * 1024);
    console.log(`uml -m 64m: ${procs.length} host processes (${names.join(' ')}), RSS sum ${rssKb} kB`);
  }, 60_000);

  it('-m 64m: a guest that fills its memory ends as its own kernel decides (no host OOM kill)', async () => {
    const r = await runToExit(env.engine, sh('dd if=/dev/zero of=/dev/shm/fill bs=1M count=28 2>/dev/null; dd if=/dev/zero of=/dev/null bs=40M count=1 2>&1 | tail -1; echo done', { limits: { memory: 64 * 1024 * 1024 } }));
    expect(r.oomKilled).toBe(false);
    expect(r.stdout + r.stderr).toContain('done');
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it('stop ends the guest, and a terminal (-t) is the guest console', async () => {
    const rec = await env.engine.run(sh('sleep 60'));
    const t = performance.now();
    await env.engine.stop(rec.id, { timeoutSeconds: 5 });
    expect(performance.now() - t).toBeLessThan(4000);
    expect(env.engine.get(rec.id).state.status).toBe('exited');
    const tty = await runToExit(env.engine, sh('test -t 0 && test -t 1 && echo is-a-tty; tty', { tty: true }));
    expect(tty.exitCode).toBe(0);
    expect(tty.stdout).toMatch(/is-a-tty\r?\n\/dev\/console|is-a-tty\r?\n\/dev\/tty/);
  }, 60_000);

  it('refuses exec with a clear message, and a removed container leaves nothing', async () => {
    const rec = await env.engine.run(sh('sleep 30'));
    await expect(env.engine.exec(rec.id, { cmd: ['true'] } as never)).rejects.toThrow(/a uml container runs its own kernel/);
    await env.engine.remove(rec.id, { force: true });
    const left = hostLeftovers(env.root);
    expect(left.mounts).toEqual([]);
    expect(left.processes).toBe(0);
  }, 60_000);
});

describe('uml through the docker CLI', () => {
  const run = promisify(execFile);
  const docker = (sock: string, ...args: string[]) =>
    run('/usr/local/bin/docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, encoding: 'utf8' }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' }),
    );

  it('docker run --runtime uml: uname, exit code, -m, logs, exec refused, docker info', async () => {
    const sock = join(env.runRoot, 'docker.sock');
    const api = await startDockerApi(env.engine, { socketPath: sock });
    try {
      const u = await docker(sock, 'run', '--rm', '--runtime', 'uml', 'base', 'uname', '-r');
      expect(u.code, u.err).toBe(0);
      expect(u.out.trim()).toMatch(/^6\.1\.\d+$/);
      expect((await docker(sock, 'run', '--rm', '--runtime', 'uml', 'base', 'sh', '-c', 'exit 3')).code).toBe(3);
      const m = await docker(sock, 'run', '--rm', '--runtime', 'uml', '-m', '64m', 'base', 'grep', 'MemTotal', '/proc/meminfo');
      expect(Number(/(\d+) kB/.exec(m.out)?.[1])).toBeLessThanOrEqual(64 * 1024);
      const d = await docker(sock, 'run', '-d', '--runtime', 'uml', 'base', 'sh', '-c', 'echo logged; sleep 30');
      const id = d.out.trim();
      await new Promise((r) => setTimeout(r, 2500));
      expect((await docker(sock, 'logs', id)).out).toBe('logged\n');
      const e = await docker(sock, 'exec', id, 'true');
      expect(e.code).not.toBe(0);
      // the adapter refuses at exec start, after the CLI asked to upgrade the connection: the CLI
      // shows the status (the engine test above checks the message itself)
      expect(e.err).toMatch(/a uml container runs its own kernel|409/);
      expect((await docker(sock, 'rm', '-f', id)).code).toBe(0);
      expect((await docker(sock, 'info', '--format', '{{json .Runtimes}}')).out).toContain('"uml"');
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        expect((await docker(sock, 'run', '--rm', '--runtime', 'uml', 'base', 'true')).code).toBe(0);
        times.push(performance.now() - t);
      }
      console.log(`docker run --rm --runtime uml base true: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    } finally {
      await api.close();
    }
    expect(hostLeftovers(env.root).processes).toBe(0);
  }, 120_000);
});
