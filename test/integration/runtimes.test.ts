// The runtime drivers against the real kernel: the same image and command under every runtime
// this host has (builtin, runc, runsc; crun where the host's cgroups let it), what each shows
// inside (gVisor's own kernel), and what the engine still does for them (logs, exec, kill, a
// terminal, the network) — and that a runtime it cannot use is refused with nothing made.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startDockerApi } from '../../server/api/docker/server.js';
import { PROJECT_ROOT } from '../../server/project-root.js';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import { requireHost } from '../helpers.js';
import { execToExit, hostLeftovers, openTestEngine, runToExit, type TestEnv } from './support.js';

requireHost('the runtime drivers test', { root: true, binaries: ['/usr/sbin/runc', '/usr/bin/crun', '/usr/bin/runsc', '/usr/bin/busybox', '/usr/local/bin/docker'] });

let env: TestEnv;
// a hybrid host (v1 hierarchies + the unified tree) is one crun 1.8 refuses
const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.procs');

beforeAll(async () => {
  env = await openTestEngine({ network: true });
}, 60_000);

afterAll(async () => {
  await env?.cleanup();
}, 60_000);

const sh = (runtime: string, script: string, extra: Record<string, unknown> = {}) => ({ image: 'base', runtime, cmd: ['/bin/sh', '-c', script], ...extra });

/** The runtimes that must run here: a missing one fails the file, it is not skipped. */
async function usable(): Promise<string[]> {
  const list = await env.engine.runtimes();
  for (const name of ['builtin', 'runc', 'runsc']) {
    const r = list.find((x) => x.name === name);
    expect(r?.available, `${name}: ${r?.error}`).toBe(true);
  }
  return list.filter((r) => r.available).map((r) => r.name);
}

describe('the registry', () => {
  it('lists every driver with its availability, crun with its own error on a hybrid host', async () => {
    const list = await env.engine.runtimes();
    expect(list.map((r) => r.name)).toEqual(expect.arrayContaining(['builtin', 'runc', 'crun', 'runsc']));
    for (const r of list) {
      expect(typeof r.available).toBe('boolean');
      if (!r.available) expect(r.error, r.name).toBeTruthy();
    }
    expect(list.find((r) => r.name === 'runc')).toMatchObject({ available: true, path: '/usr/sbin/runc', version: expect.stringMatching(/^runc version/) });
    const crun = list.find((r) => r.name === 'crun')!;
    if (hybrid) expect(crun).toMatchObject({ available: false, path: '/usr/bin/crun', error: expect.stringMatching(/cgroups in hybrid mode not supported/) });
    else expect(crun.available, crun.error ?? '').toBe(true);
    await usable();
  });
});

describe('one image, one command, every runtime', () => {
  it('gives the same output and exit code under each available runtime', async () => {
    const figures: string[] = [];
    for (const runtime of await usable()) {
      const t = performance.now();
      const r = await runToExit(env.engine, sh(runtime, 'echo hello from $(cat /etc/hostname | head -c 0)busybox; ls /bin/busybox; exit 7'));
      figures.push(`${runtime} ${(performance.now() - t).toFixed(0)} ms`);
      expect(r.exitCode, `${runtime}: ${r.stderr}`).toBe(7);
      expect(r.stdout, runtime).toBe('hello from busybox\n/bin/busybox\n');
      expect(env.engine.get(r.id).config.runtime ?? 'builtin').toBe(runtime);
    }
    console.log(`run to exit (create, start, wait, logs): ${figures.join(', ')}`);
  }, 120_000);

  it('shows the host kernel under runc and gVisor\'s own kernel under runsc', async () => {
    const runc = await runToExit(env.engine, sh('runc', 'uname -r'));
    expect(runc.stdout.trim()).toBe(release());
    const runsc = await runToExit(env.engine, sh('runsc', 'uname -r; dmesg'));
    expect(runsc.exitCode, runsc.stderr).toBe(0);
    const [kernel, ...dmesg] = runsc.stdout.split('\n');
    expect(kernel).toBe('4.4.0');
    expect(dmesg.join('\n')).toMatch(/Starting gVisor/);
    // and the host does not let the container read its kernel log: dmesg under runc is refused
    const hostLog = await runToExit(env.engine, sh('runc', 'dmesg >/dev/null 2>&1; echo $?'));
    expect(hostLog.stdout.trim()).not.toBe('0');
  }, 60_000);
});

describe('runc: the engine still keeps the container', () => {
  it('logs, exec into its init, kill by signal, with its own address on the bridge', async () => {
    const rec = await env.engine.run(sh('runc', 'echo started; ip -4 -o addr show eth0; exec sleep 60'));
    expect(rec.state.pid).toBeGreaterThan(0);
    expect(rec.state.pid).not.toBe(rec.state.monitorPid);
    const ps = await execToExit(env.engine, rec.id, ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']);
    expect(ps.code).toBe(0);
    expect(ps.out.split('\n')[0]).toBe('sleep 60 ');
    // the exec's process is in the container's pid namespace, and its cgroup
    expect(Number(ps.out.split('\n')[1])).toBeLessThan(50);
    // init's descriptors: its stdio only (runc's --preserve-fds 0, the shim's close-on-exec)
    const fds = await execToExit(env.engine, rec.id, ['ls', '/proc/1/fd']);
    expect(fds.out.trim().split(/\s+/)).toEqual(['0', '1', '2']);
    let logs = '';
    for await (const e of env.engine.logs(rec.id)) logs += e.log;
    expect(logs).toContain('started');
    expect(logs).toContain(`inet ${env.engine.get(rec.id).network.ipAddress}/`);
    // top and stats read the engine's cgroup, where runc put the init (linux.cgroupsPath)
    const top = await env.engine.top(rec.id);
    expect(top.processes.map((p) => p.join(' ')).join('\n')).toContain('sleep 60');
    const stats = await env.engine.stats(rec.id);
    expect(stats.pids.current).toBeGreaterThanOrEqual(1);
    // pause freezes it, restart runs it again under runc
    await env.engine.pause(rec.id);
    expect(env.engine.get(rec.id).state.status).toBe('paused');
    await env.engine.unpause(rec.id);
    const oldPid = env.engine.get(rec.id).state.pid;
    await env.engine.restart(rec.id, { timeoutSeconds: 1 });
    const again = env.engine.get(rec.id);
    expect(again.state.status).toBe('running');
    expect(again.state.pid).not.toBe(oldPid);
    const after = await execToExit(env.engine, rec.id, ['cat', '/proc/1/cmdline']);
    expect(after.out, JSON.stringify(after) + JSON.stringify(env.engine.get(rec.id).state)).toContain('sleep');
    await env.engine.kill(rec.id, 'SIGKILL');
    expect((await env.engine.wait(rec.id)).exitCode).toBe(137);
    await env.engine.remove(rec.id);
  }, 60_000);

  it('stops on SIGTERM and gives the terminal to a tty container', async () => {
    const rec = await env.engine.run(sh('runc', 'trap "echo bye; exit 3" TERM; tty; [ -t 0 ] && echo isatty; while :; do sleep 0.1; done', { tty: true, openStdin: true }));
    await new Promise((r) => setTimeout(r, 600));
    await env.engine.stop(rec.id, { timeoutSeconds: 10 });
    const after = env.engine.get(rec.id);
    expect(after.state.exitCode).toBe(3);
    let out = '';
    for await (const e of env.engine.logs(rec.id)) out += e.log;
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toContain('isatty');
    expect(out).toContain('bye');
    await env.engine.remove(rec.id);
  }, 60_000);

  it('gets the engine\'s confinement: masked paths, seccomp, no descriptor or path of the host', async () => {
    const r = await runToExit(
      env.engine,
      sh('runc', `grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; wc -c < /proc/timer_list; grep -c '${env.runRoot}' /proc/self/mountinfo; true`),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^Seccomp:\s+2$/); // the engine's profile, compiled by runc
    expect(lines[2].trim()).toBe('0'); // /proc/timer_list masked with /dev/null
    expect(lines[3].trim()).toBe('0'); // no mount of the engine's run root (runc's state is there)
  }, 60_000);
});

describe('runsc: exec through its CLI', () => {
  it('execs into the sandbox with runsc exec, and kill ends it', async () => {
    const rec = await env.engine.run(sh('runsc', 'exec sleep 60'));
    const e = await execToExit(env.engine, rec.id, ['sh', '-c', 'uname -r; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toBe('4.4.0\nsleep 60 ');
    await env.engine.kill(rec.id, 'SIGKILL');
    expect((await env.engine.wait(rec.id)).exitCode).toBe(137);
    await env.engine.remove(rec.id);
  }, 60_000);
});

describe('the shim directive', () => {
  it('gb-helper refuses a shim spec that also asks for a root, mounts or other namespaces', () => {
    const dir = mkdtempSync('/tmp/gbrt-s-');
    try {
      for (const extra of ['rootfs /tmp', 'namespaces net pid', 'init 1', 'uidmap 0 100000 1']) {
        const spec = join(dir, 'spec');
        writeFileSync(spec, `shim 1\n${extra}\narg /bin/true\nstate_dir ${dir}\n`);
        const r = spawnSync(join(PROJECT_ROOT, 'native/build/gb-helper'), ['run', spec], { encoding: 'utf8', timeout: 10_000 });
        expect(r.status, extra).not.toBe(0);
        expect(r.stdout, extra).toMatch(/a shim makes only a network namespace/);
      }
      expect(existsSync(join(dir, 'exit.json'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the docker CLI', () => {
  it('lists every runtime in docker info, runs with --runtime, shows it in inspect, refuses one unavailable', async () => {
    const dir = mkdtempSync('/tmp/gbrt-d-');
    const sock = join(dir, 'docker.sock');
    const api = await startDockerApi(env.engine, { socketPath: sock });
    const docker = async (...args: string[]) => {
      try {
        const r = await promisify(execFile)('/usr/local/bin/docker', ['-H', `unix://${sock}`, ...args], { timeout: 30_000 });
        return { code: 0, out: r.stdout, err: r.stderr };
      } catch (e) {
        const x = e as { code: number; stdout: string; stderr: string };
        return { code: x.code, out: x.stdout, err: x.stderr };
      }
    };
    try {
      const info = await docker('info', '--format', '{{json .Runtimes}}');
      expect(info.code, info.err).toBe(0);
      const runtimes = JSON.parse(info.out) as Record<string, { path: string; status?: Record<string, string> }>;
      expect(Object.keys(runtimes)).toEqual(expect.arrayContaining(['builtin', 'runc', 'crun', 'runsc']));
      expect(runtimes.runc).toMatchObject({ path: '/usr/sbin/runc', status: { available: 'true' } });
      if (hybrid) expect(runtimes.crun.status?.error).toMatch(/cgroups in hybrid mode not supported/);
      const run = await docker('run', '--name', 'gbrt-cli', '--runtime', 'runc', 'base', 'sh', '-c', 'echo via-runc; exit 5');
      expect(run.code).toBe(5);
      expect(run.out).toBe('via-runc\n');
      expect((await docker('inspect', '--format', '{{.HostConfig.Runtime}}', 'gbrt-cli')).out.trim()).toBe('runc');
      await docker('rm', 'gbrt-cli');
      if (hybrid) {
        const refused = await docker('run', '--rm', '--runtime', 'crun', 'base', 'true');
        expect(refused.code).not.toBe(0);
        expect(refused.err).toMatch(/runtime crun is not available on this host: .*hybrid mode not supported/);
      }
      const unknown = await docker('create', '--runtime', 'nosuch', 'base', 'true');
      expect(unknown.err).toMatch(/unknown or invalid runtime name: "nosuch"/);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('a runtime the engine cannot use', () => {
  const parent = hostNames(prefixFromEnv()).cgroupParent;

  it('refuses an unknown runtime and one unavailable here, leaving nothing', async () => {
    const before = { records: env.engine.list({ all: true }).length, left: hostLeftovers(env.root) };
    await expect(env.engine.create({ image: 'base', runtime: 'nosuch', cmd: ['true'] })).rejects.toThrow(/unknown or invalid runtime name: "nosuch"/);
    if (hybrid) {
      await expect(env.engine.run({ image: 'base', runtime: 'crun', cmd: ['true'] })).rejects.toThrow(/runtime crun is not available on this host: .*cgroups in hybrid mode not supported/);
    }
    // gVisor takes no sysctls from the engine: refused at create rather than ignored
    await expect(env.engine.create({ image: 'base', runtime: 'runsc', cmd: ['true'], sysctls: { 'net.ipv4.ip_forward': '1' } })).rejects.toThrow(/runsc: --sysctl is not supported/);
    expect(env.engine.list({ all: true }).length).toBe(before.records);
    expect(hostLeftovers(env.root)).toEqual(before.left);
    expect(existsSync(join('/sys/fs/cgroup/memory', parent, 'gbprobe-crun-' + process.pid))).toBe(false);
  });

  it('leaves no runtime state, cgroup or monitor once the containers are gone', async () => {
    for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true });
    for (const name of ['runc', 'runsc']) {
      const dir = join(env.runRoot, 'runtimes', name);
      expect(existsSync(dir) ? readdirSync(dir) : [], name).toEqual([]);
    }
    const left = hostLeftovers(env.root);
    expect(left.cgroups).toEqual([]);
    expect(left.processes).toBe(0);
    // runc also makes the container's cgroup in the hierarchies the engine does not manage
    for (const h of ['systemd', 'unified']) {
      const dir = join('/sys/fs/cgroup', h, parent);
      expect(existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [], h).toEqual([]);
    }
  }, 60_000);
});
