// The v1 cgroup driver against the real kernel (this CI host is hybrid: v1 controllers plus an
// empty cgroup2 at /sys/fs/cgroup/unified). Needs root. Every cgroup is glassbox/gbtest-<random>
// and every process the test starts is killed and every directory removed, even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectLayout, findV1Hierarchies, parseMountinfo } from '../../server/engine/cgroups/detect.js';
import { openCgroupDriver } from '../../server/engine/cgroups/index.js';
import { CgroupV1Driver, DEVICE_ALLOW_RULES } from '../../server/engine/cgroups/v1.js';
import { sharesToWeight } from '../../server/engine/cgroups/util.js';
import { InvalidArgument, type ResourceLimits } from '../../server/engine/types.js';

const MiB = 1024 * 1024;
const layout = detectLayout();
const isRoot = process.getuid?.() === 0;
const runnable = isRoot && (layout === 'v1' || layout === 'hybrid');

const NO_LIMITS: ResourceLimits = { memory: null, memorySwap: null, cpus: null, cpuShares: null, pids: null, io: [] };

const made = new Set<string>();
const children = new Set<ChildProcess>();
const driver = runnable ? (openCgroupDriver() as CgroupV1Driver) : (null as unknown as CgroupV1Driver);

function newId(): string {
  const id = `gbtest-${randomBytes(6).toString('hex')}`;
  made.add(id);
  return id;
}

function read(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

function dirOf(id: string, controller: keyof typeof driver.hierarchies): string {
  return join(driver.hierarchies[controller]!, 'glassbox', id);
}

/** A block device that exists on this host (the first in /sys/dev/block). */
function someBlockDevice(): { major: number; minor: number } {
  const [major, minor] = readdirSync('/sys/dev/block').sort()[0].split(':').map(Number);
  return { major, minor };
}

/**
 * Start `sh -c script` that waits for one line on stdin before doing anything: the test moves it
 * into the cgroup first, then lets it go, so everything the script does is accounted there.
 */
async function startIn(id: string, script: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  for (const f of driver.procsFiles(id)) writeFileSync(f, String(child.pid));
  child.stdin!.write('go\n');
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function leftovers(id: string): string[] {
  return Object.values(driver.hierarchies)
    .map((root) => join(root!, 'glassbox', id))
    .filter((d) => existsSync(d));
}

async function cleanup(): Promise<void> {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  children.clear();
  for (const id of made) {
    await driver.thaw(id).catch(() => {});
    await driver.killAll(id).catch(() => {});
    await driver.remove(id).catch(() => {});
  }
  made.clear();
}

describe('cgroup layout detection', () => {
  it('parses mountinfo, including co-mounted cpu,cpuacct', () => {
    const text = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '50 31 0:40 / /mnt/with\\040space rw - cgroup cgroup rw,pids',
    ].join('\n');
    expect(parseMountinfo(text)[5].mountPoint).toBe('/mnt/with space');
    const h = findV1Hierarchies(text);
    expect(h).toEqual({ cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory', pids: '/mnt/with space' });
    const d = new CgroupV1Driver({ hierarchies: h, swapAccounting: true });
    expect(d.paths('x')).toEqual({
      'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/glassbox/x',
      memory: '/sys/fs/cgroup/memory/glassbox/x',
      pids: '/mnt/with space/glassbox/x',
    });
    expect(d.procsFiles('x')).toHaveLength(3);
  });

  it.runIf(runnable)('finds this host hybrid (or v1) and every v1 hierarchy from mountinfo', () => {
    expect(['hybrid', 'v1']).toContain(layout);
    expect(driver.version).toBe(1);
    expect(driver.layout).toBe(layout);
    expect(driver.name).toBe('cgroupfs');
    for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'freezer', 'cpuset', 'devices'] as const) {
      expect(driver.hierarchies[c], c).toBeTruthy();
      expect(existsSync(join(driver.hierarchies[c]!, 'cgroup.procs'))).toBe(true);
    }
  });

  it('converts shares to weight as runc does', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });
});

describe.runIf(runnable)('cgroup v1 driver on the real kernel', () => {
  afterEach(cleanup);
  afterAll(cleanup);

  it('creates glassbox/<id> in every hierarchy with the limits written, and removes it', async () => {
    const id = newId();
    const dev = someBlockDevice();
    const writes = await driver.create(id, {
      memory: 64 * MiB,
      memorySwap: 128 * MiB,
      cpus: 0.5,
      cpuShares: 512,
      pids: 50,
      io: [{ ...dev, readBps: MiB, writeIops: 100 }],
    });
    expect(await driver.list()).toContain(id);
    const paths = driver.paths(id);
    for (const dir of Object.values(paths)) expect(existsSync(dir)).toBe(true);

    expect(read(join(dirOf(id, 'memory'), 'memory.limit_in_bytes'))).toBe(String(64 * MiB));
    expect(read(join(dirOf(id, 'memory'), 'memory.memsw.limit_in_bytes'))).toBe(String(128 * MiB));
    expect(read(join(dirOf(id, 'cpu'), 'cpu.cfs_period_us'))).toBe('100000');
    expect(read(join(dirOf(id, 'cpu'), 'cpu.cfs_quota_us'))).toBe('50000');
    expect(read(join(dirOf(id, 'cpu'), 'cpu.shares'))).toBe('512');
    expect(read(join(dirOf(id, 'pids'), 'pids.max'))).toBe('50');
    expect(read(join(dirOf(id, 'blkio'), 'blkio.throttle.read_bps_device'))).toBe(`${dev.major}:${dev.minor} ${MiB}`);
    expect(read(join(dirOf(id, 'blkio'), 'blkio.throttle.write_iops_device'))).toBe(`${dev.major}:${dev.minor} 100`);
    // cpuset: copied from the parent so that a task may join
    const cpusetRoot = driver.hierarchies.cpuset!;
    expect(read(join(dirOf(id, 'cpuset'), 'cpuset.cpus'))).toBe(read(join(cpusetRoot, 'cpuset.cpus')));
    expect(read(join(dirOf(id, 'cpuset'), 'cpuset.mems'))).toBe(read(join(cpusetRoot, 'cpuset.mems')));
    // devices: Docker's whitelist
    const list = read(join(dirOf(id, 'devices'), 'devices.list')).split('\n');
    for (const rule of DEVICE_ALLOW_RULES) expect(list).toContain(rule);
    expect(list).not.toContain('a *:* rwm');

    // every write is reported, timed, in order
    const files = writes.map((w) => w.file);
    expect(files).toContain(join(dirOf(id, 'memory'), 'memory.limit_in_bytes'));
    expect(files.filter((f) => f.endsWith('devices.allow'))).toHaveLength(DEVICE_ALLOW_RULES.length);
    expect(files.indexOf(join(dirOf(id, 'devices'), 'devices.deny'))).toBeLessThan(files.indexOf(join(dirOf(id, 'devices'), 'devices.allow')));
    for (const w of writes) {
      expect(typeof w.wrote).toBe('string');
      expect(w.ms).toBeGreaterThanOrEqual(0);
    }

    const s = await driver.stats(id);
    expect(s.memory.limit).toBe(64 * MiB);
    expect(s.memory.swapLimit).toBe(128 * MiB);
    expect(s.cpu.cpus).toBe(0.5);
    expect(s.cpu.shares).toBe(512);
    expect(s.cpu.weight).toBe(sharesToWeight(512));
    expect(s.pids.limit).toBe(50);
    expect(s.frozen).toBe(false);

    await driver.killAll(id);
    await driver.remove(id);
    expect(leftovers(id)).toEqual([]);
    expect(await driver.list()).not.toContain(id);
    await driver.remove(id); // missing is fine
  });

  it('creates with no limits: default memsw 2x memory, nothing else written', async () => {
    const id = newId();
    const writes = await driver.create(id, { ...NO_LIMITS, memory: 32 * MiB });
    expect(read(join(dirOf(id, 'memory'), 'memory.memsw.limit_in_bytes'))).toBe(String(64 * MiB));
    expect(writes.some((w) => w.file.endsWith('cpu.cfs_quota_us') || w.file.endsWith('pids.max'))).toBe(false);
    const s = await driver.stats(id);
    expect(s.cpu.cpus).toBeNull();
    expect(s.pids.limit).toBeNull();
  });

  it('updates limits live, writing memory and memsw in the order the kernel accepts', async () => {
    const id = newId();
    const dev = someBlockDevice();
    await driver.create(id, { ...NO_LIMITS, memory: 64 * MiB, memorySwap: 128 * MiB, pids: 50, io: [{ ...dev, readBps: MiB }] });
    const mem = join(dirOf(id, 'memory'), 'memory.limit_in_bytes');
    const sw = join(dirOf(id, 'memory'), 'memory.memsw.limit_in_bytes');

    // lowering below the current limit: memory first
    let w = await driver.update(id, { memory: 16 * MiB, memorySwap: 24 * MiB });
    expect(w.map((x) => x.file)).toEqual([mem, sw]);
    expect(read(mem)).toBe(String(16 * MiB));
    expect(read(sw)).toBe(String(24 * MiB));

    // raising above the current memsw: memsw first
    w = await driver.update(id, { memory: 256 * MiB, memorySwap: 512 * MiB });
    expect(w.map((x) => x.file)).toEqual([sw, mem]);
    expect(read(mem)).toBe(String(256 * MiB));
    expect(read(sw)).toBe(String(512 * MiB));

    // memory alone above the memsw in force: refused as Docker does, nothing changed
    await expect(driver.update(id, { memory: 1024 * MiB })).rejects.toThrow(/update the memoryswap at the same time/);
    expect(read(mem)).toBe(String(256 * MiB));

    // only the given fields change
    w = await driver.update(id, { cpus: 1.5 });
    expect(w.map((x) => [x.file.split('/').pop(), x.wrote])).toEqual([['cpu.cfs_quota_us', '150000']]);
    expect(read(mem)).toBe(String(256 * MiB));
    await driver.update(id, { cpuPeriod: 50000 });
    expect(read(join(dirOf(id, 'cpu'), 'cpu.cfs_quota_us'))).toBe('75000'); // still 1.5 CPUs
    await driver.update(id, { cpus: null, cpuShares: 2048, pids: null, io: [] });
    expect(read(join(dirOf(id, 'cpu'), 'cpu.cfs_quota_us'))).toBe('-1');
    expect(read(join(dirOf(id, 'cpu'), 'cpu.shares'))).toBe('2048');
    expect(read(join(dirOf(id, 'pids'), 'pids.max'))).toBe('max');
    expect(read(join(dirOf(id, 'blkio'), 'blkio.throttle.read_bps_device'))).toBe('');

    // lifting the memory limit lifts memsw too
    await driver.update(id, { memory: null });
    expect((await driver.stats(id)).memory.limit).toBeNull();
    expect((await driver.stats(id)).memory.swapLimit).toBeNull();
  });

  it('accounts a real process: pids, memory, cpu', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, memory: 64 * MiB, pids: 20 });
    const child = await startIn(id, 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec sleep 1000');
    await until(async () => (await driver.stats(id)).cpu.usageNs > 20e6);
    expect(await driver.pids(id)).toContain(child.pid);
    for (const f of driver.procsFiles(id)) expect(read(f).split('\n')).toContain(String(child.pid));
    const s = await driver.stats(id);
    expect(s.pids.current).toBe(1);
    expect(s.memory.current).toBeGreaterThan(0);
    expect(s.memory.peak).toBeGreaterThan(0);
    expect(s.memory.stat.anon).toBeGreaterThanOrEqual(0);
    expect(s.memory.stat.file).toBeGreaterThanOrEqual(0);
    expect(s.memory.stat).not.toHaveProperty('rss');
    expect(s.memory.stat).not.toHaveProperty('total_rss');
    expect(s.cpu.userNs + s.cpu.systemNs).toBeGreaterThan(0);
    expect(typeof s.cpu.nrThrottled).toBe('number');
    expect(s.time).toBeLessThanOrEqual(Date.now());

    await driver.killAll(id);
    expect((await exited(child)).signal).toBe('SIGKILL');
    expect(await driver.pids(id)).toEqual([]);
  });

  it('a memory hog under a 20 MiB limit is OOM-killed, and the counters show it', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, memory: 20 * MiB, memorySwap: 20 * MiB });
    expect(await driver.oomKilled(id)).toBe(false);
    // tail keeps the current "line" in memory and /dev/zero has no newline: it grows until killed
    const child = await startIn(id, 'exec tail /dev/zero');
    const result = await exited(child);
    expect(result.signal).toBe('SIGKILL');
    expect(await driver.oomKilled(id)).toBe(true);
    const s = await driver.stats(id);
    expect(s.memory.events.oomKill).toBeGreaterThanOrEqual(1);
    expect(s.memory.events.max).toBeGreaterThanOrEqual(1);
    expect(s.memory.peak).toBeGreaterThan(15 * MiB);
    expect(s.memory.peak).toBeLessThanOrEqual(20 * MiB);
  });

  it('a fork bomb is bounded by pids.max and the refused forks are counted', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, pids: 5 });
    const child = await startIn(id, 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1000 & done; sleep 1000');
    await until(async () => (await driver.stats(id)).pids.refused > 0);
    const s = await driver.stats(id);
    expect(s.pids.limit).toBe(5);
    expect(s.pids.current).toBeLessThanOrEqual(5);
    expect(s.pids.refused).toBeGreaterThanOrEqual(1);
    expect((await driver.pids(id)).length).toBeLessThanOrEqual(5);
    await driver.killAll(id);
    expect(await driver.pids(id)).toEqual([]);
    await exited(child);
  });

  it('freeze stops the process, thaw lets it run again', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const child = await startIn(id, 'exec sleep 1000');
    await until(() => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep') && procState(child.pid!) === 'S');
    await driver.freeze(id);
    expect(read(join(dirOf(id, 'freezer'), 'freezer.state'))).toBe('FROZEN');
    expect((await driver.stats(id)).frozen).toBe(true);
    expect(procState(child.pid!)).toBe('D'); // a frozen task shows as uninterruptible
    await driver.thaw(id);
    expect((await driver.stats(id)).frozen).toBe(false);
    await until(() => procState(child.pid!) === 'S');
  });

  it('killAll empties a frozen cgroup with several processes, remove leaves nothing', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const child = await startIn(id, 'sleep 1000 & sleep 1000 & sh -c "sleep 1000 & sleep 1000" & wait');
    await until(async () => (await driver.pids(id)).length >= 5);
    await driver.freeze(id);
    await driver.killAll(id);
    expect(await driver.pids(id)).toEqual([]);
    expect((await driver.stats(id)).frozen).toBe(false);
    expect((await exited(child)).signal).toBe('SIGKILL');
    await driver.remove(id);
    expect(leftovers(id)).toEqual([]);
  });

  it('remove also takes child cgroups made inside the container cgroup', async () => {
    const id = newId();
    await driver.create(id, NO_LIMITS);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dirOf(id, 'memory'), 'inner', 'deeper'), { recursive: true });
    mkdirSync(join(dirOf(id, 'pids'), 'inner'));
    await driver.remove(id);
    expect(leftovers(id)).toEqual([]);
  });

  const bad: [string, Partial<ResourceLimits>, RegExp][] = [
    ['memory under 6 MiB', { memory: 4 * MiB }, /Minimum memory limit allowed is 6MB/],
    ['absurd memory', { memory: 2 ** 60 }, /too large/],
    ['memoryswap below memory', { memory: 64 * MiB, memorySwap: 32 * MiB }, /memoryswap limit should be larger than memory/],
    ['memoryswap without memory', { memorySwap: 64 * MiB }, /always set the Memory limit/],
    ['zero cpus', { cpus: 0 }, /Range of CPUs is from 0.01 to/],
    ['more cpus than the host', { cpus: 4096 }, /as there are only \d+ CPUs available/],
    ['shares of 1', { cpuShares: 1 }, /cpu shares must be between 2 and 262144/],
    ['shares too high', { cpuShares: 300000 }, /cpu shares must be between 2 and 262144/],
    ['pids 0', { pids: 0 }, /pids limit must be at least 1/],
    ['a block device that does not exist', { io: [{ major: 4095, minor: 4095, readBps: 1 }] }, /no such block device 4095:4095/],
  ];
  for (const [what, limits, message] of bad) {
    it(`refuses ${what} with InvalidArgument and makes no directory`, async () => {
      const id = newId();
      const p = driver.create(id, { ...NO_LIMITS, ...limits });
      await expect(p).rejects.toBeInstanceOf(InvalidArgument);
      await expect(p).rejects.toThrow(message);
      expect(leftovers(id)).toEqual([]);
    });
  }

  it('refuses a memoryswap limit when swap accounting is off, naming the missing file', async () => {
    const noSwap = new CgroupV1Driver({ hierarchies: driver.hierarchies, swapAccounting: false });
    const id = newId();
    const p = noSwap.create(id, { ...NO_LIMITS, memory: 64 * MiB, memorySwap: 128 * MiB });
    await expect(p).rejects.toBeInstanceOf(InvalidArgument);
    await expect(p).rejects.toThrow(/memory\.memsw\.limit_in_bytes/);
    expect(leftovers(id)).toEqual([]);
    // memory alone is fine, and no memsw write is attempted
    const writes = await noSwap.create(id, { ...NO_LIMITS, memory: 64 * MiB });
    expect(writes.some((w) => w.file.includes('memsw'))).toBe(false);
  });

  it('a bad update is refused before anything is written', async () => {
    const id = newId();
    await driver.create(id, { ...NO_LIMITS, memory: 64 * MiB, pids: 10 });
    await expect(driver.update(id, { pids: 20, cpus: 1e6 })).rejects.toBeInstanceOf(InvalidArgument);
    expect(read(join(dirOf(id, 'pids'), 'pids.max'))).toBe('10');
  });

  it('refuses an id that is not a plain name, and a second create of the same id', async () => {
    await expect(driver.create('../escape', NO_LIMITS)).rejects.toBeInstanceOf(InvalidArgument);
    const id = newId();
    await driver.create(id, NO_LIMITS);
    await expect(driver.create(id, NO_LIMITS)).rejects.toThrow(/already exists/);
    expect(await driver.list()).toContain(id);
  });
});

// The hybrid host's cgroup2 mount has no controllers, but the core files (cgroup.freeze,
// cgroup.events, cgroup.kill, cgroup.procs) are real: the v2 driver's freeze and kill paths run
// against the kernel here too.
const unified = '/sys/fs/cgroup/unified';
describe.runIf(isRoot && layout === 'hybrid' && existsSync(join(unified, 'cgroup.procs')))('cgroup v2 core files on the hybrid host', () => {
  const ids = new Set<string>();
  let v2: import('../../server/engine/cgroups/v2.js').CgroupV2Driver;

  afterAll(async () => {
    await cleanup();
    for (const id of ids) {
      await v2?.killAll(id).catch(() => {});
      await v2?.remove(id).catch(() => {});
    }
    // the engine never uses the unified mount on a hybrid host: leave no glassbox/ behind there
    try {
      rmdirSync(join(unified, 'glassbox'));
    } catch {
      // not empty (someone else's) or already gone
    }
  });

  it('freezes, thaws, kills with cgroup.kill and removes', async () => {
    const { CgroupV2Driver } = await import('../../server/engine/cgroups/v2.js');
    v2 = new CgroupV2Driver({ root: unified });
    const id = `gbtest-${randomBytes(6).toString('hex')}`;
    ids.add(id);
    const writes = await v2.create(id, NO_LIMITS);
    expect(writes.every((w) => !w.file.endsWith('subtree_control') || !/memory|cpu|pids|io/.test(w.wrote))).toBe(true);
    const child = spawn('sh', ['-c', 'read go; sleep 1000 & exec sleep 1000'], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.add(child);
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(v2.procsFiles(id)[0], String(child.pid));
    child.stdin!.write('go\n');
    await until(async () => (await v2.pids(id)).length === 2);
    await v2.freeze(id);
    expect((await v2.stats(id)).frozen).toBe(true);
    expect(read(join(unified, 'glassbox', id, 'cgroup.freeze'))).toBe('1');
    await v2.thaw(id);
    expect((await v2.stats(id)).frozen).toBe(false);
    await v2.killAll(id);
    expect(await v2.pids(id)).toEqual([]);
    expect((await exited(child)).signal).toBe('SIGKILL');
    await v2.remove(id);
    expect(existsSync(join(unified, 'glassbox', id))).toBe(false);
    expect(await v2.list()).not.toContain(id);
  });

  // The v2 driver's device rules are an eBPF program (cgroups/device-filter.ts). The kernel runs
  // the programs of a process's cgroup in the unified hierarchy, so on this hybrid host they hold
  // too, beside the v1 devices cgroup of the container
  it('attaches the device program: mknod is allowed, opening a device not in the rules is EPERM', async () => {
    const { CgroupV2Driver } = await import('../../server/engine/cgroups/v2.js');
    v2 = new CgroupV2Driver({ root: unified });
    const id = `gbtest-${randomBytes(6).toString('hex')}`;
    ids.add(id);
    const writes = await v2.create(id, NO_LIMITS);
    expect(writes.map((w) => w.file)).toContain(`${join(unified, 'glassbox', id)} (bpf BPF_CGROUP_DEVICE)`);
    const { major, minor } = someBlockDevice();
    const scratch = mkdtempSync('/tmp/gbt-dev-');
    try {
      const script = `cd ${scratch}; echo x > /dev/null && echo null=ok; mknod disk b ${major} ${minor} && echo mknod=ok; head -c1 disk >/dev/null 2>err; echo "disk=$? $(cat err)"`;
      const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
      children.add(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await new Promise((r) => child.once('spawn', r));
      writeFileSync(v2.procsFiles(id)[0], String(child.pid));
      child.stdin!.write('go\n');
      await exited(child);
      expect(out).toContain('null=ok');
      expect(out).toContain('mknod=ok');
      expect(out).toMatch(/disk=1 .*Operation not permitted/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    await v2.remove(id);
  });
});
