// The v2 driver's file formats, against a fake cgroup2 tree in a temp dir. On a fixture mkdir makes
// no interface files: the test writes what the kernel would show (memory.stat, cpu.stat, io.stat,
// cgroup.events ...) and reads back what the driver wrote.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCgroupDriver } from '../../server/engine/cgroups/index.js';
import { sharesToWeight, weightToShares } from '../../server/engine/cgroups/util.js';
import { CgroupV2Driver } from '../../server/engine/cgroups/v2.js';
import { InvalidArgument, type ResourceLimits } from '../../server/engine/types.js';

const MiB = 1024 * 1024;
const NO_LIMITS: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };

let base: string;
let root: string;
let devBlock: string;
let driver: CgroupV2Driver;

function put(path: string, text: string): void {
  writeFileSync(join(root, path), text);
}
function get(path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'gb-cg2-'));
  root = join(base, 'cgroup');
  devBlock = join(base, 'dev-block');
  mkdirSync(root);
  mkdirSync(devBlock);
  mkdirSync(join(devBlock, '8:0'));
  mkdirSync(join(devBlock, '8:16'));
  put('cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma misc\n');
  put('cgroup.subtree_control', '\n');
  put('cgroup.procs', '1\n');
  driver = new CgroupV2Driver({ root, devBlockDir: devBlock, hostCpus: 4, timeoutMs: 200 });
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('cgroup v2 driver on a fixture tree', () => {
  it('reports itself as v2 and is what openCgroupDriver gives for layout v2', () => {
    expect(driver.version).toBe(2);
    expect(driver.layout).toBe('v2');
    expect(driver.name).toBe('cgroupfs');
    const d = openCgroupDriver({ root, layout: 'v2' });
    expect(d).toBeInstanceOf(CgroupV2Driver);
    expect(d.paths('abc')).toEqual({ unified: join(root, 'glassbox', 'abc') });
    expect(d.procsFiles('abc')).toEqual([join(root, 'glassbox', 'abc', 'cgroup.procs')]);
  });

  it('enables the controllers top-down before making the container cgroup, then writes the limits', async () => {
    const writes = await driver.create('c1', {
      memory: 64 * MiB,
      memorySwap: 96 * MiB,
      cpus: 1.5,
      cpuShares: 512,
      pids: 100,
      io: [{ major: 8, minor: 0, readBps: 1048576, writeIops: 50 }],
    });
    const rel = writes.map((w) => [w.file.slice(root.length + 1), w.wrote]);
    expect(rel).toEqual([
      ['cgroup.subtree_control', '+memory +cpu +pids +io +cpuset'],
      ['glassbox/cgroup.subtree_control', '+memory +cpu +pids +io +cpuset'],
      ['glassbox/c1/memory.max', String(64 * MiB)],
      ['glassbox/c1/memory.swap.max', String(32 * MiB)],
      ['glassbox/c1/cpu.max', '150000 100000'],
      ['glassbox/c1/cpu.weight', '20'],
      ['glassbox/c1/pids.max', '101'], // + the monitor's task
      ['glassbox/c1/io.max', '8:0 rbps=1048576 wbps=max riops=max wiops=50'],
    ]);
    for (const w of writes) expect(w.ms).toBeGreaterThanOrEqual(0);
    expect(get('glassbox/c1/memory.max')).toBe(String(64 * MiB));
    expect(get('glassbox/c1/cpu.weight')).toBe('20');
    expect(await driver.list()).toEqual(['c1']);
  });

  it("makes a monitor child that enables nothing: init stays in glassbox/<id>, the monitor's use counts against its limits", async () => {
    await driver.create('m1', { ...NO_LIMITS, cpus: 0.2 });
    expect(existsSync(join(root, 'glassbox', 'm1', 'monitor'))).toBe(true);
    expect(driver.monitorProcsFiles('m1')).toEqual([join(root, 'glassbox', 'm1', 'monitor', 'cgroup.procs')]);
    // the container's directory hands no controller down, so processes may live in it and in the child
    expect(existsSync(join(root, 'glassbox', 'm1', 'cgroup.subtree_control')) ? readFileSync(join(root, 'glassbox', 'm1', 'cgroup.subtree_control'), 'utf8').trim() : '').toBe('');
    await driver.remove('m1');
    expect(existsSync(join(root, 'glassbox', 'm1'))).toBe(false);
  });

  it('only enables controllers that are missing, and only those the root offers', async () => {
    put('cgroup.controllers', 'cpu memory pids\n');
    put('cgroup.subtree_control', 'memory pids\n');
    mkdirSync(join(root, 'glassbox'));
    put('glassbox/cgroup.controllers', 'cpu memory pids\n');
    put('glassbox/cgroup.subtree_control', 'cpu memory pids\n');
    const writes = await driver.create('c2', NO_LIMITS);
    expect(writes.map((w) => [w.file.slice(root.length + 1), w.wrote])).toEqual([['cgroup.subtree_control', '+cpu']]);
  });

  it('writes nothing for an unlimited container, and Docker default swap (= memory) for memory alone', async () => {
    expect(await driver.create('c0', NO_LIMITS)).toHaveLength(2); // the two subtree_control writes
    expect(existsSync(join(root, 'glassbox/c0/memory.max'))).toBe(false);
    await driver.create('c3', { ...NO_LIMITS, memory: 32 * MiB });
    expect(get('glassbox/c3/memory.max')).toBe(String(32 * MiB));
    expect(get('glassbox/c3/memory.swap.max')).toBe(String(32 * MiB));
    await driver.create('c4', { ...NO_LIMITS, memory: 32 * MiB, memorySwap: -1 });
    expect(get('glassbox/c4/memory.swap.max')).toBe('max');
  });

  it('updates only the given fields, keeping cpus when only the period changes', async () => {
    await driver.create('u1', { ...NO_LIMITS, memory: 64 * MiB, memorySwap: 128 * MiB, cpus: 0.5, pids: 10 });
    let w = await driver.update('u1', { memory: 32 * MiB, memorySwap: 48 * MiB });
    expect(w.map((x) => [x.file.split('/').pop(), x.wrote])).toEqual([
      ['memory.max', String(32 * MiB)],
      ['memory.swap.max', String(16 * MiB)],
    ]);
    w = await driver.update('u1', { cpuPeriod: 50000 });
    expect(w.map((x) => x.wrote)).toEqual(['25000 50000']);
    w = await driver.update('u1', { cpus: null });
    expect(w.map((x) => x.wrote)).toEqual(['max 50000']);
    w = await driver.update('u1', { pids: null, cpuShares: 1024 });
    expect(w.map((x) => [x.file.split('/').pop(), x.wrote])).toEqual([
      ['cpu.weight', '39'],
      ['pids.max', 'max'],
    ]);
    w = await driver.update('u1', { memory: null });
    expect(w.map((x) => [x.file.split('/').pop(), x.wrote])).toEqual([
      ['memory.max', 'max'],
      ['memory.swap.max', 'max'],
    ]);
    // memorySwap alone is checked against the memory limit in force
    put('glassbox/u1/memory.max', String(64 * MiB));
    await expect(driver.update('u1', { memorySwap: 32 * MiB })).rejects.toThrow(/memoryswap limit should be larger than memory/);
    w = await driver.update('u1', { memorySwap: 100 * MiB });
    expect(w.map((x) => x.wrote)).toEqual([String(36 * MiB)]);
  });

  it('io update resets devices that are no longer throttled', async () => {
    await driver.create('io1', { ...NO_LIMITS, io: [{ major: 8, minor: 0, readBps: 1000 }] });
    put('glassbox/io1/io.max', '8:0 rbps=1000 wbps=max riops=max wiops=max\n8:16 rbps=max wbps=2000 riops=max wiops=max\n');
    const w = await driver.update('io1', { io: [{ major: 8, minor: 0, writeBps: 5000 }] });
    expect(w.map((x) => x.wrote)).toEqual(['8:16 rbps=max wbps=max riops=max wiops=max', '8:0 rbps=max wbps=5000 riops=max wiops=max']);
  });

  it('refuses bad limits with InvalidArgument before touching the tree', async () => {
    const bad: Partial<ResourceLimits>[] = [
      { memory: MiB },
      { memory: 2 ** 60 },
      { cpus: 0.001 },
      { cpus: 5 },
      { cpuShares: 1 },
      { cpuShares: 262145 },
      { pids: 0 },
      { io: [{ major: 9, minor: 9, readBps: 1 }] },
      { memory: 64 * MiB, memorySwap: 10 * MiB },
      { cpus: 0.5, cpuPeriod: 1000 },
      { cpuPeriod: 100 },
    ];
    for (const l of bad) {
      await expect(driver.create('bad', { ...NO_LIMITS, ...l }), JSON.stringify(l)).rejects.toBeInstanceOf(InvalidArgument);
    }
    await expect(driver.create('bad', { ...NO_LIMITS, cpus: 5 })).rejects.toThrow('Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available');
    expect(existsSync(join(root, 'glassbox'))).toBe(false);
    expect(get('cgroup.subtree_control')).toBe('\n');
  });

  it('refuses a swap limit when memory.swap.max does not exist, naming it', async () => {
    mkdirSync(join(root, 'init.scope'));
    writeFileSync(join(root, 'init.scope', 'memory.max'), 'max\n');
    const p = driver.create('s1', { ...NO_LIMITS, memory: 64 * MiB, memorySwap: 128 * MiB });
    await expect(p).rejects.toBeInstanceOf(InvalidArgument);
    await expect(p).rejects.toThrow(/memory\.swap\.max/);
    expect(existsSync(join(root, 'glassbox', 's1'))).toBe(false);
    // memory alone works, without a swap write
    const w = await driver.create('s1', { ...NO_LIMITS, memory: 64 * MiB });
    expect(w.some((x) => x.file.endsWith('memory.swap.max'))).toBe(false);
  });

  it('refuses a limit whose controller the host does not offer', async () => {
    put('cgroup.controllers', 'cpu memory\n');
    await expect(driver.create('p1', { ...NO_LIMITS, pids: 10 })).rejects.toThrow(/pids cgroup controller is not available/);
  });

  it('parses memory, cpu, pids, io and freezer stats', async () => {
    await driver.create('st', { ...NO_LIMITS, memory: 256 * MiB, cpus: 0.5, cpuShares: 512, pids: 64 });
    const p = (f: string, t: string) => put(`glassbox/st/${f}`, t);
    p('memory.current', '52428800\n');
    p('memory.peak', '73400320\n');
    p('memory.swap.max', String(256 * MiB) + '\n');
    p(
      'memory.stat',
      [
        'anon 31457280',
        'file 15728640',
        'kernel 4194304',
        'kernel_stack 98304',
        'pagetables 327680',
        'sec_pagetables 0',
        'percpu 4320',
        'sock 8192',
        'vmalloc 0',
        'shmem 1048576',
        'zswap 0',
        'file_mapped 2097152',
        'file_dirty 4096',
        'file_writeback 0',
        'anon_thp 0',
        'inactive_anon 31449088',
        'active_anon 8192',
        'inactive_file 10485760',
        'active_file 5242880',
        'unevictable 0',
        'slab_reclaimable 2097152',
        'slab_unreclaimable 1048576',
        'slab 3145728',
        'pgfault 12345',
        'pgmajfault 3',
        '',
      ].join('\n'),
    );
    p('memory.events', 'low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n');
    p('cpu.stat', 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\ncore_sched.force_idle_usec 0\nnr_periods 40\nnr_throttled 12\nthrottled_usec 250000\nnr_bursts 0\nburst_usec 0\n');
    p('pids.current', '7\n');
    p('pids.events', 'max 3\n');
    p('io.stat', '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1000 wbytes=0 rios=5 wios=0 dbytes=0 dios=0\n');
    p('cgroup.events', 'populated 1\nfrozen 0\n');

    const s = await driver.stats('st');
    expect(s.memory).toEqual({
      current: 52428800,
      limit: 256 * MiB,
      swapLimit: 512 * MiB,
      peak: 73400320,
      stat: expect.objectContaining({ anon: 31457280, file: 15728640, kernel: 4194304, sock: 8192, shmem: 1048576, file_mapped: 2097152 }),
      events: { max: 17, oom: 2, oomKill: 1 },
    });
    expect(s.cpu).toEqual({
      usageNs: 1.5e9,
      userNs: 1e9,
      systemNs: 0.5e9,
      nrPeriods: 40,
      nrThrottled: 12,
      throttledNs: 250e6,
      cpus: 0.5,
      weight: 20,
      shares: weightToShares(20),
    });
    expect(s.pids).toEqual({ current: 7, limit: 64, refused: 3 });
    expect(s.io).toEqual({ readBytes: 5096, writeBytes: 8192, readOps: 6, writeOps: 2 });
    expect(s.frozen).toBe(false);
    expect(await driver.oomKilled('st')).toBe(true);

    // an older kernel without the "kernel" line: its parts are added up
    p('memory.stat', 'anon 1\nkernel_stack 10\npagetables 20\npercpu 30\nslab 40\n');
    p('memory.max', 'max\n');
    expect((await driver.stats('st')).memory.stat.kernel).toBe(100);
    expect((await driver.stats('st')).memory.limit).toBeNull();
    expect((await driver.stats('st')).memory.swapLimit).toBeNull();
  });

  it('stats of a cgroup with no files yet are zeros, not a crash', async () => {
    await driver.create('empty', NO_LIMITS);
    const s = await driver.stats('empty');
    expect(s.memory.current).toBe(0);
    expect(s.memory.limit).toBeNull();
    expect(s.cpu.cpus).toBeNull();
    expect(s.cpu.weight).toBe(100);
    expect(s.pids.limit).toBeNull();
    expect(await driver.oomKilled('empty')).toBe(false);
  });

  it('freezes with cgroup.freeze and waits for cgroup.events frozen 1; thaws with 0', async () => {
    await driver.create('fz', NO_LIMITS);
    put('glassbox/fz/cgroup.events', 'populated 1\nfrozen 1\n');
    await driver.freeze('fz');
    expect(get('glassbox/fz/cgroup.freeze')).toBe('1');
    expect((await driver.stats('fz')).frozen).toBe(true);
    await driver.thaw('fz');
    expect(get('glassbox/fz/cgroup.freeze')).toBe('0');

    // never frozen: a clear error, and the freeze is undone
    put('glassbox/fz/cgroup.events', 'populated 1\nfrozen 0\n');
    await expect(driver.freeze('fz')).rejects.toThrow(/frozen 1/);
    expect(get('glassbox/fz/cgroup.freeze')).toBe('0');
  });

  it('killAll uses cgroup.kill when the kernel has it; pids merges child cgroups', async () => {
    await driver.create('k1', NO_LIMITS);
    put('glassbox/k1/cgroup.kill', '');
    put('glassbox/k1/cgroup.procs', '');
    await driver.killAll('k1');
    expect(get('glassbox/k1/cgroup.kill')).toBe('1');

    mkdirSync(join(root, 'glassbox/k1/sub'));
    put('glassbox/k1/cgroup.procs', '4001\n4002\n');
    put('glassbox/k1/sub/cgroup.procs', '4003\n');
    expect(await driver.pids('k1')).toEqual([4001, 4002, 4003]);
  });

  it('remove takes the cgroup and its child cgroups, a missing one is fine, list follows', async () => {
    await driver.create('r1', NO_LIMITS);
    await driver.create('r2', NO_LIMITS);
    mkdirSync(join(root, 'glassbox/r1/inner/deeper'), { recursive: true });
    expect(await driver.list()).toEqual(['r1', 'r2']);
    await driver.remove('r1');
    await driver.remove('r1');
    expect(existsSync(join(root, 'glassbox/r1'))).toBe(false);
    expect(await driver.list()).toEqual(['r2']);
    await expect(driver.create('r2', NO_LIMITS)).rejects.toThrow(/already exists/);
  });

  it('shares <-> weight conversion', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(weightToShares(1)).toBe(2);
    expect(weightToShares(10000)).toBe(262144);
  });
});
