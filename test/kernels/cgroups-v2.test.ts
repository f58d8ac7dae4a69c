// The v2 cgroup driver against a real pure-v2 kernel: what cgroups-v1.test.ts checks on this
// hybrid host, on the kernel most users run. This host has no such kernel, so the file runs in
// User-mode Linux through `npm run test:kernels` (scripts/uml/), and fails loudly anywhere else.
// Every process the test starts is killed and every cgroup removed, even on failure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectLayout } from '../../server/engine/cgroups/detect.js';
import { blkioToIoWeight } from '../../server/engine/cgroups/extra-limits.js';
import { openCgroupDriver } from '../../server/engine/cgroups/index.js';
import { sharesToWeight, weightToShares } from '../../server/engine/cgroups/util.js';
import { CgroupV2Driver, MONITOR_TASKS } from '../../server/engine/cgroups/v2.js';
import { hostNames, prefixFromEnv } from '../../server/engine/host/naming.js';
import { LearnerEngine } from '../../server/engine/tenancy/learner-engine.js';
import type { ResourceLimits } from '../../server/engine/types.js';
import { requireKernelFeature } from '../helpers.js';
import { openTestEngine, runToExit } from '../integration/support.js';

requireKernelFeature('cgroup-v2', 'the v2 driver on the real kernel', 'run it through `npm run test:kernels` (User-mode Linux 6.1, pure cgroup v2)');

const MiB = 1024 * 1024;
const ROOT = '/sys/fs/cgroup';
const PARENT = hostNames(prefixFromEnv()).cgroupParent;
const NO_LIMITS: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };

const driver = openCgroupDriver({ parent: PARENT }) as CgroupV2Driver;
const made: { d: CgroupV2Driver; id: string }[] = [];
const children = new Set<ChildProcess>();

function newId(d: CgroupV2Driver = driver): string {
  const id = `gbtest-${randomBytes(5).toString('hex')}`;
  made.push({ d, id });
  return id;
}

const read = (file: string) => readFileSync(file, 'utf8').trim();
const kv = (file: string) => Object.fromEntries(read(file).split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
const dirOf = (id: string, d: CgroupV2Driver = driver) => d.paths(id).unified;

/** The guest's block device (scripts/uml gives it ubd0 = /dev/ubda), as MAJ:MIN. */
function blockDevice(): { path: string; major: number; minor: number } {
  const path = process.env.GBT_BLOCK_DEVICE ?? '/dev/ubda';
  const rdev = statSync(path).rdev;
  return { path, major: Math.floor(rdev / 256), minor: rdev % 256 };
}

/** `sh -c script` that waits for a line on stdin, so it is in the cgroup before it does anything. */
async function startIn(procsFile: string, script: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  writeFileSync(procsFile, String(child.pid));
  child.stdin!.write('go\n');
  return child;
}

function output(child: ChildProcess): () => string {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return () => out;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const { d, id } of made.splice(0)) {
    await d.killAll(id).catch(() => {});
    await d.remove(id).catch(() => {});
  }
});

afterAll(() => {
  expect(existsSync(join(ROOT, PARENT)), `${PARENT}/ is removed with its last container`).toBe(false);
});

describe('cgroup v2 driver on a pure v2 kernel', () => {
  it('is the driver openCgroupDriver picks here', () => {
    expect(detectLayout()).toBe('v2');
    expect(driver).toBeInstanceOf(CgroupV2Driver);
  });

  it('creates glassbox/<id> with the controllers handed down and every limit written and read back', async () => {
    const dev = blockDevice();
    const id = newId();
    const limits: ResourceLimits = {
      memory: 64 * MiB,
      memorySwap: 96 * MiB,
      cpus: 0.5,
      cpuShares: 512,
      pids: 50,
      io: [{ major: dev.major, minor: dev.minor, writeBps: MiB, readIops: 100 }],
    };
    const writes = await driver.create(id, limits);
    const dir = dirOf(id);
    expect(read(join(ROOT, 'cgroup.subtree_control')).split(' ')).toEqual(expect.arrayContaining(['memory', 'cpu', 'pids', 'io']));
    expect(read(join(dir, 'cgroup.controllers')).split(' ')).toEqual(expect.arrayContaining(['memory', 'cpu', 'pids', 'io']));
    expect(read(join(dir, 'memory.max'))).toBe(String(64 * MiB));
    expect(read(join(dir, 'memory.swap.max'))).toBe(String(32 * MiB));
    expect(read(join(dir, 'cpu.max'))).toBe('50000 100000');
    expect(read(join(dir, 'cpu.weight'))).toBe(String(sharesToWeight(512)));
    expect(read(join(dir, 'pids.max'))).toBe('51'); // + the monitor's task (MONITOR_TASKS)
    expect(read(join(dir, 'io.max'))).toBe(`${dev.major}:${dev.minor} rbps=max wbps=${MiB} riops=100 wiops=max`);
    expect(existsSync(join(dir, 'monitor', 'cgroup.procs'))).toBe(true);
    expect(writes.some((w) => w.file.endsWith('(bpf BPF_CGROUP_DEVICE)'))).toBe(true);

    const s = await driver.stats(id);
    expect(s.memory.limit).toBe(64 * MiB);
    expect(s.memory.swapLimit).toBe(96 * MiB);
    expect(s.cpu.cpus).toBe(0.5);
    // shares -> weight -> shares loses precision (512 -> 20 -> 500): the weight is what the kernel has
    expect(s.cpu.weight).toBe(sharesToWeight(512));
    expect(s.cpu.shares).toBe(weightToShares(sharesToWeight(512)));
    expect(s.pids.limit).toBe(50);

    // live update; the io device taken out of the list goes back to unlimited
    await driver.update(id, { memory: 32 * MiB, cpus: null, pids: -1, io: [] });
    expect(read(join(dir, 'memory.max'))).toBe(String(32 * MiB));
    expect(read(join(dir, 'cpu.max'))).toBe('max 100000');
    expect(read(join(dir, 'pids.max'))).toBe('max');
    expect(read(join(dir, 'io.max'))).toBe('');

    await driver.remove(id);
    expect(existsSync(dir)).toBe(false);
  });

  it("docker's create-time limits: --cpuset-cpus/-mems to cpuset.*, --memory-reservation to memory.low, --blkio-weight to io weight", async () => {
    const id = newId();
    const limits: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [], cpusetCpus: '0', cpusetMems: '0', memoryReservation: 16 * MiB, blkioWeight: 300 };
    // what this kernel refuses is refused naming the option, and nothing is made; the test goes
    // on without it (and says so)
    let asked = limits;
    let writes;
    for (;;) {
      try {
        writes = await driver.create(id, asked);
        break;
      } catch (e) {
        const m = /^(--[a-z-]+)[ :]/.exec((e as Error).message);
        expect(m, (e as Error).message).not.toBeNull();
        expect(existsSync(dirOf(id))).toBe(false);
        console.log(`this kernel refuses ${m![1]}: ${(e as Error).message}`);
        const field = ({ '--cpuset-cpus': 'cpusetCpus', '--cpuset-mems': 'cpusetMems', '--blkio-weight': 'blkioWeight', '--memory-reservation': 'memoryReservation' } as const)[m![1] as '--cpuset-cpus'];
        expect(field, m![1]).toBeDefined();
        expect(asked[field], `${m![1]} refused twice`).toBeDefined();
        asked = { ...asked, [field]: undefined };
      }
    }
    made.push({ d: driver, id });
    const dir = dirOf(id);
    if (asked.cpusetCpus) expect(read(join(dir, 'cpuset.cpus'))).toBe('0');
    if (asked.cpusetMems) expect(read(join(dir, 'cpuset.mems'))).toBe('0');
    // memory.low is in every v2 kernel with the memory controller
    expect(read(join(dir, 'memory.low'))).toBe(String(16 * MiB));
    if (writes.some((w) => /io(\.bfq)?\.weight$/.test(w.file))) {
      const bfq = existsSync(join(dir, 'io.bfq.weight'));
      expect(read(join(dir, bfq ? 'io.bfq.weight' : 'io.weight'))).toMatch(bfq ? /300/ : new RegExp(`default ${blkioToIoWeight(300)}`));
    }
    if (!asked.cpusetCpus) return;
    // a process in it runs on CPU 0 only
    const child = spawn('/bin/sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')}; exec grep Cpus_allowed_list /proc/self/status`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = output(child);
    await exited(child);
    expect(out()).toMatch(/Cpus_allowed_list:\s+0\s*$/);
  });

  it('a memory hog is OOM-killed, and memory.events counts oom and oom_kill', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, memory: 20 * MiB, memorySwap: 20 * MiB });
    expect(await driver.oomKilled(id)).toBe(false);
    const child = await startIn(driver.procsFiles(id)[0], 'exec tail /dev/zero');
    expect((await exited(child)).signal).toBe('SIGKILL');
    const events = kv(join(dirOf(id), 'memory.events'));
    expect(events.oom).toBeGreaterThanOrEqual(1);
    expect(events.oom_kill).toBeGreaterThanOrEqual(1);
    expect(await driver.oomKilled(id)).toBe(true);
    const s = await driver.stats(id);
    expect(s.memory.events.oomKill).toBe(events.oom_kill);
    expect(s.memory.events.max).toBeGreaterThanOrEqual(1);
    expect(s.memory.peak).toBeLessThanOrEqual(20 * MiB);
  });

  it('memory.oom.group: the driver leaves it 0 (one victim, as Docker); set to 1 the whole cgroup goes', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, memory: 20 * MiB, memorySwap: 20 * MiB });
    const dir = dirOf(id);
    // 0: the monitor lives below glassbox/<id>; a group kill would take it with the container
    expect(read(join(dir, 'memory.oom.group'))).toBe('0');
    const bystander = await startIn(driver.procsFiles(id)[0], 'exec sleep 1000');
    const hog = await startIn(driver.procsFiles(id)[0], 'exec tail /dev/zero');
    expect((await exited(hog)).signal).toBe('SIGKILL');
    expect(bystander.exitCode === null && bystander.signalCode === null).toBe(true);

    writeFileSync(join(dir, 'memory.oom.group'), '1');
    const before = kv(join(dir, 'memory.events')).oom_kill;
    const hog2 = await startIn(driver.procsFiles(id)[0], 'exec tail /dev/zero');
    expect((await exited(hog2)).signal).toBe('SIGKILL');
    expect((await exited(bystander)).signal).toBe('SIGKILL');
    expect(kv(join(dir, 'memory.events')).oom_kill).toBeGreaterThanOrEqual(before + 2);
    expect(kv(join(dir, 'memory.events')).oom_group_kill ?? 1).toBeGreaterThanOrEqual(1);
  });

  it('cpus 0.1 throttles a busy loop, and cpu.stat shows the throttled periods', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, cpus: 0.1 });
    const child = await startIn(driver.procsFiles(id)[0], 'while :; do :; done');
    await until(() => kv(join(dirOf(id), 'cpu.stat')).nr_throttled >= 3);
    child.kill('SIGKILL');
    await exited(child);
    const stat = kv(join(dirOf(id), 'cpu.stat'));
    expect(stat.throttled_usec).toBeGreaterThan(0);
    const s = await driver.stats(id);
    expect(s.cpu.nrThrottled).toBeGreaterThanOrEqual(3);
    expect(s.cpu.nrPeriods).toBeGreaterThanOrEqual(s.cpu.nrThrottled);
    expect(s.cpu.cpus).toBe(0.1);
  });

  it('pids.max stops a fork loop and pids.events max counts the refused forks', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, pids: 5 });
    const child = await startIn(driver.procsFiles(id)[0], 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1000 & done; sleep 1000');
    await until(() => kv(join(dirOf(id), 'pids.events')).max > 0);
    const s = await driver.stats(id);
    expect(s.pids.limit).toBe(5);
    expect(read(join(dirOf(id), 'pids.max'))).toBe(String(5 + MONITOR_TASKS));
    // no monitor runs in this driver-only test: its slot is free for the shell
    expect(s.pids.current).toBeLessThanOrEqual(5 + MONITOR_TASKS);
    expect(s.pids.refused).toBe(kv(join(dirOf(id), 'pids.events')).max);
    await driver.killAll(id);
    await exited(child);
  });

  describe('io.max and io.stat on a real block device', () => {
    let mnt: string;
    beforeAll(() => {
      // a filesystem on the guest's disk: the device node itself is refused inside the cgroup
      mnt = mkdtempSync('/tmp/gbt-io-');
      execFileSync('mkfs.ext4', ['-q', '-F', blockDevice().path], { stdio: 'ignore' });
      execFileSync('mount', [blockDevice().path, mnt]);
    });
    afterAll(() => {
      if (mnt) {
        execFileSync('umount', [mnt]);
        rmSync(mnt, { recursive: true, force: true });
      }
    });

    it('direct writes under a wbps limit are accounted in io.stat for that device', async () => {
      const dev = blockDevice();
      const id = newId();
      await driver.create(id, { ...NO_LIMITS, io: [{ major: dev.major, minor: dev.minor, writeBps: 4 * MiB }] });
      expect(read(join(dirOf(id), 'io.max'))).toBe(`${dev.major}:${dev.minor} rbps=max wbps=${4 * MiB} riops=max wiops=max`);
      const child = await startIn(driver.procsFiles(id)[0], `dd if=/dev/zero of=${mnt}/f bs=64k count=32 oflag=direct 2>/dev/null`);
      expect(await exited(child)).toEqual({ code: 0, signal: null });
      const line = read(join(dirOf(id), 'io.stat'))
        .split('\n')
        .find((l) => l.startsWith(`${dev.major}:${dev.minor} `));
      expect(line, 'io.stat has a line for the device').toBeDefined();
      const wbytes = Number(/wbytes=(\d+)/.exec(line!)![1]);
      expect(wbytes).toBeGreaterThanOrEqual(2 * MiB);
      expect((await driver.stats(id)).io.writeBytes).toBeGreaterThanOrEqual(2 * MiB);
    });
  });

  it('cgroup.freeze stops every process and cgroup.events says frozen; thaw lets them run', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const counter = mkdtempSync('/tmp/gbt-freeze-');
    const file = join(counter, 'n');
    const child = await startIn(driver.procsFiles(id)[0], `i=0; while :; do i=$((i+1)); echo $i > ${file}; done`);
    try {
      await until(() => existsSync(file) && read(file) !== '');
      await driver.freeze(id);
      expect(kv(join(dirOf(id), 'cgroup.events')).frozen).toBe(1);
      expect((await driver.stats(id)).frozen).toBe(true);
      const at = read(file);
      await sleep(300);
      expect(read(file)).toBe(at);
      await driver.thaw(id);
      expect(kv(join(dirOf(id), 'cgroup.events')).frozen).toBe(0);
      await until(() => read(file) !== at);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      rmSync(counter, { recursive: true, force: true });
    }
  });

  it('cgroup.kill empties the cgroup and its child cgroups at once; cgroup.events reads populated 0', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const dir = dirOf(id);
    const child = await startIn(driver.procsFiles(id)[0], 'sleep 1000 & sleep 1000 & sh -c "sleep 1000 & sleep 1000" & wait');
    // a process in a child cgroup the container made (nested: inside its cgroup namespace)
    mkdirSync(join(dir, 'inner'));
    const inner = await startIn(join(dir, 'inner', 'cgroup.procs'), 'exec sleep 1000');
    await until(async () => (await driver.pids(id)).length >= 6);
    expect(kv(join(dir, 'cgroup.events')).populated).toBe(1);
    await driver.killAll(id);
    expect(await driver.pids(id)).toEqual([]);
    expect(kv(join(dir, 'cgroup.events')).populated).toBe(0);
    expect((await exited(child)).signal).toBe('SIGKILL');
    expect((await exited(inner)).signal).toBe('SIGKILL');
    await driver.remove(id);
    expect(existsSync(dir)).toBe(false);
  });

  it('nested delegation: a learner parent glassbox/learners/<id>/ whose limits hold its containers', async () => {
    const learner = `l${randomBytes(3).toString('hex')}`;
    const nested = openCgroupDriver({ parent: `${PARENT}/learners/${learner}` }) as CgroupV2Driver;
    const a = newId(nested);
    const b = newId(nested);
    // the containers' own limits are generous: the learner's quota is what holds them
    await nested.create(a, { ...NO_LIMITS, memory: 256 * MiB, memorySwap: 256 * MiB, pids: 100 });
    await nested.create(b, { ...NO_LIMITS, pids: 100 });
    const learnerDir = join(ROOT, PARENT, 'learners', learner);
    for (const d of [join(ROOT, PARENT), join(ROOT, PARENT, 'learners'), learnerDir]) {
      expect(read(join(d, 'cgroup.subtree_control')).split(' '), d).toEqual(expect.arrayContaining(['memory', 'cpu', 'pids', 'io']));
    }
    writeFileSync(join(learnerDir, 'memory.max'), String(24 * MiB));
    writeFileSync(join(learnerDir, 'memory.swap.max'), '0');
    writeFileSync(join(learnerDir, 'pids.max'), '6');

    // memory: a hog in a is killed at the learner's 24 MiB, not at its own 256
    const hog = await startIn(nested.procsFiles(a)[0], 'exec tail /dev/zero');
    expect((await exited(hog)).signal).toBe('SIGKILL');
    expect(kv(join(learnerDir, 'memory.events')).oom_kill).toBeGreaterThanOrEqual(1);
    expect(await nested.oomKilled(a)).toBe(true);
    expect(await nested.oomKilled(b)).toBe(false);

    // pids: a and b together get 6, whatever their own 100 says
    const pa = await startIn(nested.procsFiles(a)[0], 'sleep 1000 & sleep 1000 & sleep 1000 & wait');
    const pb = await startIn(nested.procsFiles(b)[0], 'for i in 1 2 3 4 5 6 7 8; do sleep 1000 & done; wait');
    // Linux 6.1 counts a fork refused by an ancestor's pids.max in the forking cgroup's
    // pids.events (b's), not in the learner's whose limit it hit; 6.13 made the counters
    // hierarchical (pids.events.local): either way the container's stats show refused forks
    await until(async () => (await nested.stats(b)).pids.refused > 0 || kv(join(learnerDir, 'pids.events')).max > 0);
    expect(Number(read(join(learnerDir, 'pids.current')))).toBeLessThanOrEqual(6);
    expect((await nested.pids(a)).length + (await nested.pids(b)).length).toBeLessThanOrEqual(6);
    expect(existsSync(join(dirOf(a, nested), 'monitor')), 'the monitor cgroup of a container in a nested parent').toBe(true);

    await nested.killAll(a);
    await nested.killAll(b);
    await exited(pa);
    await exited(pb);
    await nested.remove(a);
    expect(existsSync(learnerDir), 'the learner parent stays while it holds a container').toBe(true);
    await nested.remove(b);
    made.splice(0);
    // every level made for the learner goes with its last container
    expect(existsSync(join(ROOT, PARENT, 'learners'))).toBe(false);
  });

  it('a learner group through the driver: learners/<lid>/ made with its controllers, the quota on it, containers under it', async () => {
    const group = `learners/l${randomBytes(3).toString('hex')}`;
    const groupDir = join(ROOT, PARENT, group);
    try {
      await driver.createGroup(group);
      // every level hands memory, cpu, pids, io down, the group itself to its containers
      for (const d of [join(ROOT, PARENT), join(ROOT, PARENT, 'learners'), groupDir]) {
        expect(read(join(d, 'cgroup.subtree_control')).split(' '), d).toEqual(expect.arrayContaining(['memory', 'cpu', 'pids', 'io']));
      }
      const writes = await driver.updateGroup(group, { memory: 32 * MiB, memorySwap: 32 * MiB, cpus: 0.5, pids: 8 });
      expect(writes.map((w) => w.file.slice(groupDir.length + 1))).toEqual(expect.arrayContaining(['memory.max', 'cpu.max', 'pids.max']));
      expect(read(join(groupDir, 'memory.max'))).toBe(String(32 * MiB));
      expect(read(join(groupDir, 'memory.swap.max'))).toBe('0');
      expect(read(join(groupDir, 'cpu.max'))).toBe('50000 100000');
      expect(read(join(groupDir, 'pids.max'))).toBe('8'); // the group's own: no monitor task added
      const a = newId();
      await driver.create(a, { ...NO_LIMITS, memory: 256 * MiB, pids: 100 }, { group });
      expect(dirOf(a)).toBe(join(groupDir, a));
      expect(driver.groupOf(a)).toBe(group);
      expect(await driver.list()).toContain(a);
      // a driver opened afresh (a restarted server) finds the container in its group
      const fresh = openCgroupDriver({ parent: PARENT }) as CgroupV2Driver;
      expect(fresh.groupOf(a)).toBe(group);
      expect(fresh.procsFiles(a)).toEqual([join(groupDir, a, 'cgroup.procs')]);
      // memory: killed at the group's 32 MiB, not the container's own 256
      const hog = await startIn(driver.procsFiles(a)[0], 'exec tail /dev/zero');
      expect((await exited(hog)).signal).toBe('SIGKILL');
      const st = (await driver.groupStats(group))!;
      expect(st.memory.limit).toBe(32 * MiB);
      expect(st.memory.events.oomKill).toBeGreaterThanOrEqual(1);
      expect(st.cpu.cpus).toBe(0.5);
      expect(st.pids.limit).toBe(8);
      // pids: the group's 8, whatever the container's 100 says
      const forks = await startIn(driver.procsFiles(a)[0], 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done; wait');
      await until(async () => ((await driver.groupStats(group))!.pids.refused > 0));
      expect(Number(read(join(groupDir, 'pids.current')))).toBeLessThanOrEqual(8);
      // the group is not removed while a container is in it, and nothing in it is touched
      await expect(driver.removeGroup(group)).rejects.toThrow(/still holds 1 container cgroup/);
      expect(existsSync(join(groupDir, a))).toBe(true);
      await driver.killAll(a);
      await exited(forks);
      await driver.remove(a);
      made.splice(0);
      expect(existsSync(groupDir), 'the group outlives its last container: it holds the quota').toBe(true);
      await driver.removeGroup(group);
      expect(existsSync(join(ROOT, PARENT)), 'learners/ and the parent go with the last group').toBe(false);
    } finally {
      for (const { d, id } of made.splice(0)) {
        await d.killAll(id).catch(() => {});
        await d.remove(id).catch(() => {});
      }
      await driver.removeGroup(group).catch(() => {});
    }
  });

  it("a learner's container through the engine: its cgroup, its OCI cgroupsPath and the quota on learners/<lid>/", async () => {
    const env = await openTestEngine();
    const lid = 'lrnv2';
    try {
      const learner = new LearnerEngine(env.engine, { learnerId: lid, ports: { from: 21400, to: 21409 }, maxContainers: 2 });
      await env.engine.setTenantLimits(lid, { memory: 48 * MiB, cpus: 0.5, pids: 40 });
      const rec = await learner.run({ image: 'base', network: 'none', cmd: ['sleep', '100'] });
      const want = `/${PARENT}/learners/${lid}/${rec.id}`;
      expect(read(`/proc/${env.engine.get(rec.id).state.pid}/cgroup`)).toBe(`0::${want}`);
      expect((env.engine.ociConfig(rec.id) as { linux: { cgroupsPath: string } }).linux.cgroupsPath).toBe(want);
      const u = await env.engine.tenantUsage(lid);
      expect(u.memory.limit).toBe(48 * MiB);
      expect(u.cpus).toBe(0.5);
      expect(u.pids.limit).toBe(40);
      expect(u.pids.current).toBeGreaterThanOrEqual(2); // init and its monitor
      expect(read(join(ROOT, PARENT, 'learners', lid, 'memory.swap.max'))).toBe('0');
      await env.engine.remove(rec.id, { force: true });
      await env.engine.removeTenant(lid);
      expect(existsSync(join(ROOT, PARENT, 'learners'))).toBe(false);
    } finally {
      for (const c of env.engine.list({ all: true })) await env.engine.remove(c.id, { force: true }).catch(() => {});
      await env.engine.removeTenant(lid).catch(() => {});
      await env.cleanup();
    }
  });

  it('the device program: allowed devices open, others are refused (EPERM) though mknod is allowed', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const dev = blockDevice();
    const scratch = mkdtempSync('/tmp/gbt-dev-');
    try {
      // outside the cgroup the guest's disk opens (the test is allowed, the kernel has the device)
      const fd = openSync(dev.path, 'r');
      expect(readSync(fd, Buffer.alloc(1), 0, 1, 0)).toBe(1);
      closeSync(fd);
      const script = [
        `cd ${scratch}`,
        'mknod null c 1 3 && echo mknod-null=ok',
        'echo x > null && echo write-null=ok',
        'head -c1 /dev/zero >/dev/null && echo read-zero=ok',
        `mknod disk b ${dev.major} ${dev.minor} && echo mknod-disk=ok`,
        'head -c1 disk >/dev/null 2>err; echo "read-disk=$? $(cat err)"',
        `head -c1 ${dev.path} >/dev/null 2>err; echo "read-devnode=$? $(cat err)"`,
        'mknod mem c 1 1 && echo mknod-mem=ok',
        'head -c1 mem >/dev/null 2>err; echo "read-mem=$? $(cat err)"',
      ].join('; ');
      const child = await startIn(driver.procsFiles(id)[0], script);
      const out = output(child);
      await exited(child);
      const lines = out();
      expect(lines).toContain('mknod-null=ok');
      expect(lines).toContain('write-null=ok');
      expect(lines).toContain('read-zero=ok');
      expect(lines).toContain('mknod-disk=ok');
      expect(lines).toMatch(/read-disk=1 .*Operation not permitted/);
      expect(lines).toMatch(/read-devnode=1 .*Operation not permitted/);
      expect(lines).toMatch(/read-mem=1 .*Operation not permitted/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  // Found here: the monitor's task sits in glassbox/<id>/monitor, inside the container's pids.max
  // (v1 keeps it out of the pids hierarchy), so "pids 1" could not even clone the container's init
  it('a container with pids 1 runs its one process; stats show its own count and limit', async () => {
    const env = await openTestEngine();
    try {
      const r = await runToExit(env.engine, { image: 'base', cmd: ['/bin/sh', '-c', 'echo one; sleep 1 & wait'], limits: { pids: 1 } });
      expect(r.stdout).toContain('one');
      expect(r.stderr).toMatch(/can't fork/); // its first fork is the one refused
      const rec = await env.engine.run({ image: 'base', cmd: ['sleep', '100'], limits: { pids: 3 } });
      const s = await driver.stats(rec.id);
      expect(s.pids.limit).toBe(3);
      expect(s.pids.current).toBe(1);
      await env.engine.remove(rec.id, { force: true });
    } finally {
      await env.cleanup();
    }
  });
});
