// No limits unless asked (issue #11, part 4): the daemon's defaults hold a fork bomb and a log
// flood, the monitor's work is charged to the container, a tmpfs is not half of RAM, a full
// container layer is ENOSPC inside and nothing on the host, and bad configuration or options
// are refused by name with nothing made. Every attack runs for real on this kernel.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/engine.js';
import { parseDaemonConfig, SHIPPED_DEFAULTS, type DaemonConfig } from '../../server/engine/config/daemon-config.js';
import { createLayerFs, loopDevicesBackedBy } from '../../server/engine/rootfs/quota.js';
import type { ContainerConfig } from '../../server/engine/types.js';
import { runPrefix, testPrefix } from '../prefix.js';
import { detectLayout } from '../../server/engine/cgroups/detect.js';
import { MONITOR_TASKS } from '../../server/engine/cgroups/v2.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The file's main engine ('d') holds the run's prefix for the whole file; the engines a test opens
// beside it with a configuration of their own take a second prefix (one owner per prefix).
// (pid + 1 can name the run's own prefix: two digits of base 36 wrap at 1296, so take the next one)
const SECOND_PREFIX = runPrefix(process.pid + 1) === (process.env.GLASSBOX_PREFIX ?? testPrefix()) ? runPrefix(process.pid + 2) : runPrefix(process.pid + 1);

async function open(base: string, name: string, daemonConfig?: DaemonConfig): Promise<Engine> {
  return Engine.open({ root: join(base, `${name}-root`), runRoot: join(base, name), network: false, daemonConfig, ...(name === 'd' ? {} : { prefix: SECOND_PREFIX }) });
}

/** An engine with its own configuration; whatever the test leaves (a failed assertion) is removed. */
async function withEngine(name: string, cfg: DaemonConfig, fn: (e: Engine) => Promise<void>): Promise<void> {
  const e = await open(base, name, cfg);
  try {
    await fn(e);
  } finally {
    for (const c of e.list({ all: true })) await e.remove(c.id, { force: true }).catch(() => {});
    await e.close();
  }
}

async function output(engine: Engine, config: ContainerConfig): Promise<{ code: number; out: string }> {
  const rec = await engine.run(config);
  const { exitCode } = await engine.wait(rec.id);
  let out = '';
  for await (const e of engine.logs(rec.id)) out += e.log;
  await engine.remove(rec.id, { force: true });
  return { code: exitCode, out };
}

/** A cgroup file of the container (v1: whichever hierarchy has it; v2: the one directory). */
function cgroupFile(engine: Engine, id: string, file: string): string {
  for (const d of Object.values(engine.get(id).paths.cgroups)) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim();
  throw new Error(`no ${file} for ${id}`);
}

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15, in USER_HZ = 100). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

let base = '';
let engine: Engine;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the limits tests need root (cgroups, loop devices, mounts)');
  base = mkdtempSync('/tmp/gbl-');
  chmodSync(base, 0o711);
  engine = await open(base, 'd'); // no config given: the shipped defaults
}, 120_000);

afterAll(async () => {
  for (const c of engine?.list({ all: true }) ?? []) await engine.remove(c.id, { force: true }).catch(() => {});
  await engine?.close();
  const loops = base ? loopDevicesBackedBy(base) : [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => base && l.includes(base));
  // never rm -r through a mount that is still there: the leak check reports it instead
  if (base && mounts.length === 0) rmSync(base, { recursive: true, force: true });
  expect(loops).toEqual([]);
  expect(mounts).toEqual([]);
}, 120_000);

describe('defaults when a request sets none', () => {
  it('pids.max is 2048, the log rotates at 10m x 3, /dev/shm and a bare --tmpfs are 64m', async () => {
    const rec = await engine.run({ image: 'base', cmd: ['sh', '-c', 'grep -E " /(dev/shm|scratch) " /proc/mounts; sleep 30'], mounts: [{ type: 'tmpfs', target: '/scratch' }] });
    try {
      // on v2 the monitor's task is inside the container's pids.max: the file holds one more
      expect(cgroupFile(engine, rec.id, 'pids.max')).toBe(String(2048 + (detectLayout() === 'v2' ? MONITOR_TASKS : 0)));
      expect((await engine.stats(rec.id)).pids.limit).toBe(2048);
      expect(rec.logging).toEqual({ driver: 'json-file', maxSize: 10 * 1024 * 1024, maxFiles: 3 });
      expect(readFileSync(join(engine.runRoot, rec.id, 'helper.spec'), 'utf8')).toMatch(/^log_rotate 10485760 3$/m);
      let out = '';
      for (let i = 0; i < 50 && !/scratch/.test(out); i++) {
        await sleep(100);
        out = '';
        for await (const e of engine.logs(rec.id)) out += e.log;
      }
      // the kernel's default for a tmpfs is half of RAM: both are 64m
      expect(out).toMatch(/ \/dev\/shm tmpfs \S*size=65536k/);
      expect(out).toMatch(/ \/scratch tmpfs \S*size=65536k/);
    } finally {
      await engine.remove(rec.id, { force: true });
    }
  });

  it('a fork bomb stops at the default pids limit; the host can still fork', async () => {
    await withEngine('p', parseDaemonConfig({ 'default-pids-limit': 64 }, 'test'), async (small) => {
      // the classic bomb, throttled to a fifth of a CPU so that it does not take the machine's cores
      const rec = await small.run({ image: 'base', cmd: ['sh', '-c', 'b() { b | b & }; b; sleep 60'], limits: { cpus: 0.2 } });
      let refused = 0;
      for (let i = 0; i < 100 && refused === 0; i++) {
        await sleep(100);
        refused = (await small.stats(rec.id)).pids.refused;
      }
      const st = await small.stats(rec.id);
      expect(st.pids.limit).toBe(64);
      expect(st.pids.current).toBeLessThanOrEqual(64);
      expect(refused).toBeGreaterThan(0); // the kernel said no: fork returned EAGAIN
      expect((await run('/bin/true')).stderr).toBe(''); // the host forks as before
      await small.remove(rec.id, { force: true });
    });
  });
});

describe('a log flood', () => {
  it('stays within max-size x max-file, is read across the rotated files, and the monitor stays within the container CPU quota', async () => {
    const cfg = parseDaemonConfig({ 'log-opts': { 'max-size': '256k', 'max-file': '3' } }, 'test');
    await withEngine('l', cfg, async (flood) => {
      const rec = await flood.run({ image: 'base', cmd: ['yes', 'flood flood flood flood'], limits: { cpus: 0.2 } });
      const monitor = rec.state.monitorPid;
      // the monitor runs in the container's cgroup (its monitor child), not the server's
      const cg = readFileSync(`/proc/${monitor}/cgroup`, 'utf8');
      expect(cg).toContain(`/${flood.names.cgroupParent}/${rec.id}/monitor`);
      await sleep(500);
      const cpu0 = cpuSeconds(monitor);
      const t0 = performance.now();
      await sleep(3000);
      const used = cpuSeconds(monitor) - cpu0;
      const wall = (performance.now() - t0) / 1000;
      if (process.env.GB_DEBUG) console.log(`monitor used ${used.toFixed(2)} s of CPU in ${wall.toFixed(2)} s`);
      // the container (yes + its monitor) gets 0.2 CPU: the monitor alone cannot have more
      expect(used).toBeLessThanOrEqual(0.2 * wall + 0.1);
      await flood.stop(rec.id, { timeoutSeconds: 0 }); // no rotation under way while the files are counted
      const log = flood.get(rec.id).paths.log;
      const files = readdirSync(join(log, '..')).filter((f) => f.startsWith('container.log'));
      expect(files.sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
      const total = files.reduce((n, f) => n + statSync(join(log, '..', f)).size, 0);
      expect(total).toBeLessThanOrEqual(3 * 256 * 1024);
      // docker logs reads log.2, log.1, log in order: more lines than one file holds, times never go back
      let n = 0;
      let last = '';
      let whole = 0;
      for await (const e of flood.logs(rec.id)) {
        if (e.log === 'flood flood flood flood\n') whole++; // the last may be cut where yes was killed
        expect(e.time >= last).toBe(true);
        last = e.time;
        n++;
      }
      expect(whole).toBeGreaterThanOrEqual(n - 1);
      const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;
      expect(n).toBe(lines(`${log}.2`) + lines(`${log}.1`) + lines(log));
      expect(lines(`${log}.1`)).toBeGreaterThan(1000);
      await flood.remove(rec.id, { force: true });
    });
  });

  it("the monitor's OOM protection (-999) is its own: the container cannot take it", async () => {
    const rec = await engine.run({ image: 'base', cmd: ['sh', '-c', 'cat /proc/self/oom_score_adj; echo -999 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj; sleep 30'], limits: { memory: 64 * 1024 * 1024 } });
    try {
      // lowering it needs CAP_SYS_RESOURCE, which the root of some hosts (this CI VM) lacks: then it stays 0
      const capEff = BigInt('0x' + /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
      const canLower = (capEff >> 24n) & 1n;
      expect(readFileSync(`/proc/${rec.state.monitorPid}/oom_score_adj`, 'utf8').trim()).toBe(canLower ? '-999' : '0');
      // three lines: the first cat, the refusal (stderr), the second cat. The two streams are
      // separate pipes, so their order in the log is not the order they were written in
      let out = '';
      let err = '';
      for (let i = 0; i < 50 && (out.split('\n').length < 3 || !err); i++) {
        await sleep(100);
        out = '';
        err = '';
        for await (const e of engine.logs(rec.id)) {
          if (e.stream === 'stderr') err += e.log;
          else out += e.log;
        }
      }
      // root inside (without CAP_SYS_RESOURCE) may not go below what the monitor set for it
      expect(out).toBe('0\n0\n');
      expect(err).toMatch(/Permission denied|Operation not permitted/);
    } finally {
      await engine.remove(rec.id, { force: true });
    }
  });

  it('the none driver writes no file and logs are "not supported for reading"', async () => {
    const rec = await engine.run({ image: 'base', cmd: ['echo', 'secret'], logConfig: { driver: 'none' } });
    await engine.wait(rec.id);
    expect(existsSync(engine.get(rec.id).paths.log)).toBe(false);
    expect(() => engine.logs(rec.id)).toThrow('configured logging driver does not support reading');
    await engine.remove(rec.id, { force: true });
  });
});

describe('options that size what a container may fill', () => {
  it('--shm-size, --tmpfs size=, --ulimit reach the kernel', async () => {
    const { code, out } = await output(engine, {
      image: 'base',
      cmd: ['sh', '-c', 'grep -E " /(dev/shm|t) " /proc/mounts; grep -E "open files|processes" /proc/self/limits'],
      shmSize: 8 * 1024 * 1024,
      mounts: [{ type: 'tmpfs', target: '/t', size: 1024 * 1024, mode: 0o700 }],
      ulimits: [{ name: 'nofile', soft: 100, hard: 200 }, { name: 'nproc', soft: 50, hard: 50 }],
    });
    expect(code).toBe(0);
    expect(out).toMatch(/ \/dev\/shm tmpfs \S*size=8192k/);
    expect(out).toMatch(/ \/t tmpfs \S*size=1024k,mode=700/);
    expect(out).toMatch(/Max open files\s+100\s+200\s+files/);
    expect(out).toMatch(/Max processes\s+50\s+50\s+processes/);
  });

  it('--storage-opt size: a full layer is ENOSPC inside, the host file system is untouched', async () => {
    const size = 32 * 1024 * 1024;
    const rec = await engine.create({ image: 'base', cmd: ['sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=100 2>&1; echo dd=$?; df -k / | tail -1'], storageSize: size });
    const storage = engine.get(rec.id).storage!;
    expect(loopDevicesBackedBy(storage.image)).toHaveLength(1);
    await engine.start(rec.id);
    await engine.wait(rec.id);
    let out = '';
    for await (const e of engine.logs(rec.id)) out += e.log;
    expect(out).toMatch(/No space left on device/);
    expect(out).toMatch(/dd=1/);
    // the image file on the host holds at most its size (it is sparse: only what was written)
    expect(statSync(storage.image).blocks * 512).toBeLessThanOrEqual(size);
    expect(statSync(storage.image).size).toBe(size);
    await engine.remove(rec.id);
    expect(existsSync(storage.image)).toBe(false);
    expect(loopDevicesBackedBy(storage.image)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(storage.mountPoint);
  });

  it('a size-limited layer outlives a server restart and a reboot; a half-made one is released', async () => {
    let e = await open(base, 's');
    try {
      const rec = await e.run({ image: 'base', cmd: ['sh', '-c', 'cat /kept 2>/dev/null; echo kept > /kept'], storageSize: 16 * 1024 * 1024 });
      await e.wait(rec.id);
      const storage = e.get(rec.id).storage!;
      await e.close(); // the server goes away, the container is kept
      // a reboot: the layer's mount (and with it the loop device) is gone, the image file stays
      await run('umount', [storage.mountPoint]);
      for (let i = 0; i < 50 && loopDevicesBackedBy(storage.image).length; i++) await sleep(20);
      expect(loopDevicesBackedBy(storage.image)).toEqual([]);

      e = await open(base, 's');
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(storage.mountPoint); // mounted again at open
      await e.start(rec.id);
      await e.wait(rec.id);
      let out = '';
      for await (const x of e.logs(rec.id)) out += x.log;
      expect(out).toBe('kept\n'); // what the first run wrote to its layer

      // a create that died after making its layer (no record.json): the next open releases it
      const half = join(e.root, 'containers', 'f'.repeat(64));
      const fs = createLayerFs(half, 16 * 1024 * 1024);
      expect(loopDevicesBackedBy(fs.image)).toHaveLength(1);
      await e.close();
      e = await open(base, 's');
      expect(existsSync(half)).toBe(false);
      expect(loopDevicesBackedBy(fs.image)).toEqual([]);
      await e.remove(rec.id);
      expect(loopDevicesBackedBy(storage.image)).toEqual([]);
    } finally {
      for (const c of e.list({ all: true })) await e.remove(c.id, { force: true }).catch(() => {});
      await e.close();
    }
  });

  it('bad values are refused naming the option, and nothing is made', async () => {
    const containers = join(engine.root, 'containers');
    const before = readdirSync(containers).length;
    const bad: [Partial<ContainerConfig>, RegExp][] = [
      [{ shmSize: 10 }, /--shm-size/],
      [{ ulimits: [{ name: 'nofiles', soft: 1, hard: 1 }] }, /--ulimit: invalid ulimit type: nofiles/],
      [{ ulimits: [{ name: 'nofile', soft: 20, hard: 10 }] }, /--ulimit: ulimit soft limit must be less than or equal to hard limit/],
      [{ logConfig: { driver: 'json-file', options: { 'max-size': 'lots' } } }, /--log-opt: max-size/],
      [{ logConfig: { options: { 'max-file': '0' } } }, /--log-opt: max-file/],
      [{ logConfig: { driver: 'json-file', options: { colour: 'blue' } } }, /--log-opt: unknown log opt 'colour' for json-file log driver/],
      [{ logConfig: { driver: 'none', options: { 'max-size': '1m' } } }, /unknown log opt 'max-size' for none log driver/],
      [{ storageSize: 1000 }, /--storage-opt size: at least 16m/],
      [{ mounts: [{ type: 'tmpfs', target: '/x', size: 12 }] }, /--tmpfs \/x: size/],
    ];
    for (const [opts, message] of bad) await expect(engine.create({ image: 'base', cmd: ['true'], ...opts })).rejects.toThrow(message);
    // a sparse image larger than the host's free space could fill the host's disk
    await expect(engine.create({ image: 'base', cmd: ['true'], storageSize: 2 ** 50 })).rejects.toThrow(/--storage-opt size: .* more than the state root's filesystem has free/);
    expect(readdirSync(containers).length).toBe(before);
    expect(engine.list({ all: true })).toEqual([]);
  });
});

describe('the daemon configuration file', () => {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

  async function start(main: string, config: string): Promise<{ code: number; err: string }> {
    const file = join(base, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, config);
    try {
      await run(tsx, [main], { env: { ...process.env, GLASSBOX_CONFIG: file, GLASSBOX_ROOT: join(base, 'never'), GLASSBOX_RUN: join(base, 'nr') }, timeout: 60_000 });
      return { code: 0, err: '' };
    } catch (e) {
      const x = e as { code: number; stderr: string };
      return { code: x.code, err: x.stderr };
    }
  }

  it('a bad file stops both servers before anything is made, naming the key', async () => {
    const r = await start('server/api/docker/main.ts', JSON.stringify({ 'default-ulimits': { nofile: { soft: 'many', hard: 10 } } }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('config ');
    expect(r.err).toContain('default-ulimits.nofile.soft: expected a number');
    const r2 = await start('server/main.ts', JSON.stringify({ 'log-opts': { 'max-size': '10m', 'max-file': '3' }, 'default-pid-limit': 5 }));
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('default-pid-limit: unknown key');
    expect(existsSync(join(base, 'never'))).toBe(false);
  }, 120_000);

  it('the shipped defaults are what the issue asks for', () => {
    expect(SHIPPED_DEFAULTS).toMatchObject({ defaultPidsLimit: 2048, logDriver: 'json-file', logOpts: { 'max-size': '10m', 'max-file': '3' } });
  });
});
